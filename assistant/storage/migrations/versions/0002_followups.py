"""Follow-ups (one per thread and protocol step) and admin-edited template versions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("quote_message_id", sa.String(1000), nullable=False, index=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("assignee", sa.String(320)),
        sa.Column("assigned_via", sa.String(20)),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact", sa.String(320)),
        sa.Column("language", sa.String(5)),
        sa.Column("template", sa.String(200), nullable=False),
        sa.Column("template_version", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.Text),
        sa.Column("phone", sa.String(40)),
        sa.Column("hold_reason", sa.Text),
        sa.Column("account", sa.String(200)),
        sa.Column("draft_ref", sa.String(1000)),
        sa.Column("draft_message_id", sa.String(1000)),
        sa.Column("closed_reason", sa.Text),
        sa.Column("decided_by", sa.String(320)),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", "language", "version", name="uq_template_version"),
    )


def downgrade() -> None:
    for table in ("template_versions", "followups"):
        op.drop_table(table)
