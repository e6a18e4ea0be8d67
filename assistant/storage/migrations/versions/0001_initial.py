"""Accounts, messages (one row per Message-ID), where each was seen, user marks, touches.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("cursor", sa.Text),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_sync_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(1000), nullable=False, unique=True),
        sa.Column("synthetic_id", sa.Boolean, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("from_addr", sa.String(320)),
        sa.Column("from_name", sa.String(500)),
        sa.Column("to_addrs", sa.JSON, nullable=False),
        sa.Column("cc_addrs", sa.JSON, nullable=False),
        sa.Column("bcc_addrs", sa.JSON, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_reply_to", sa.String(1000)),
        sa.Column("references", sa.JSON, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("bounced_recipients", sa.JSON, nullable=False),
        sa.Column("bounce_permanent", sa.Boolean),
        sa.Column("attachment_names", sa.JSON, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("original_message_id", sa.String(1000)),
        sa.Column("language", sa.String(5)),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
    )
    op.create_table(
        "message_locations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("provider_id", sa.String(1000), nullable=False),
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("thread_id", sa.String(500)),
        sa.Column("folder", sa.String(500)),
        sa.UniqueConstraint("account_id", "provider_id", name="uq_location_provider"),
    )
    op.create_table(
        "thread_marks",
        sa.Column("quote_message_id", sa.String(1000), primary_key=True),
        sa.Column("outcome", sa.String(10)),
        sa.Column("owner", sa.String(320)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(320)),
    )
    op.create_table(
        "touches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("quote_message_id", sa.String(1000), nullable=False, index=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(320)),
        sa.Column("note", sa.Text),
    )


def downgrade() -> None:
    for table in ("touches", "thread_marks", "message_locations", "messages", "accounts"):
        op.drop_table(table)
