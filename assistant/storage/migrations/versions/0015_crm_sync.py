"""CRM sync (issue 15): the outbox of writes to the CRM (``crm_outbox``: one row per write,
its idempotency key unique, retried with backoff until done), the CRM records each lead
thread became (``crm_links``) and the sync's own state (``crm_state``: the pull cursor, the
last sync, the last error).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(1200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("quote_message_id", sa.String(1000), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_crm_outbox_pending", "crm_outbox", ["done_at", "next_attempt_at"])
    op.create_table(
        "crm_links",
        sa.Column("quote_message_id", sa.String(1000), primary_key=True),
        sa.Column("deal_id", sa.String(100), nullable=False),
        sa.Column("organisation_id", sa.String(100)),
        sa.Column("person_id", sa.String(100)),
        sa.Column("stage", sa.String(10)),
        sa.Column("owner", sa.String(320)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_crm_links_deal", "crm_links", ["deal_id"])
    op.create_table(
        "crm_state",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("crm_state")
    op.drop_index("ix_crm_links_deal", table_name="crm_links")
    op.drop_table("crm_links")
    op.drop_index("ix_crm_outbox_pending", table_name="crm_outbox")
    op.drop_table("crm_outbox")
