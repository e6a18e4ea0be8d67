"""Who an email follow-up copies (``followups.cc``): the client's people on the message
it answers, chosen when it is planned (:func:`assistant.drafting.compose.reply_cc`), shown
where the rep reviews it and written in the draft's ``Cc``. NULL for follow-ups planned
before: their drafts copy no one, as they did.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("followups") as batch:
        batch.add_column(sa.Column("cc", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("followups") as batch:
        batch.drop_column("cc")
