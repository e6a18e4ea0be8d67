"""Follow-up draft claims: which planner is saving a follow-up's email draft, since when.

``plan`` inserts the follow-up row first, claimed (``draft_claim`` token, ``draft_claimed_at``),
and only the planner whose insert won touches the mailbox. A row left with ``draft_ref``
NULL by a crashed planner is resumed by the next one once the claim is stale.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("followups") as batch:
        batch.add_column(sa.Column("draft_claim", sa.String(64)))
        batch.add_column(sa.Column("draft_claimed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("followups") as batch:
        batch.drop_column("draft_claimed_at")
        batch.drop_column("draft_claim")
