"""A cancelled follow-up's email draft leaves Drafts: ``followups`` gets
``draft_trashed_at`` (when the draft was moved to the mailbox's Trash, or found gone) and
``draft_trash`` (``trashed``: moved; ``gone``: no longer in Drafts -- sent or deleted by
the person). NULL: not handled yet (``assistant.services.reconcile.trash_cancelled_drafts``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("followups") as batch:
        batch.add_column(sa.Column("draft_trashed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("draft_trash", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("followups") as batch:
        batch.drop_column("draft_trash")
        batch.drop_column("draft_trashed_at")
