"""Messages set aside: the ones the database refused even after their values were made
storable. Each is recorded once per (account, provider id) with the database's reason,
so the rest of its mailbox syncs, the cursor moves past it and the user can see it.

Self-contained (one new table, nothing else touched): it can be renumbered at merge.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "set_aside_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("provider_id", sa.String(1000), nullable=False),
        sa.Column("folder", sa.String(500)),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_aside_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account_id", "provider_id", name="uq_set_aside_provider"),
    )


def downgrade() -> None:
    op.drop_table("set_aside_messages")
