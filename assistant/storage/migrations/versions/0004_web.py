"""Web app sign-in: one row per team member who has a password (or signed in through the
proxy), with the login throttle (failed attempts in a row, locked until) and the UI
language they chose.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_users",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("password_hash", sa.Text),
        sa.Column("password_set_at", sa.DateTime(timezone=True)),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("language", sa.String(5)),
    )


def downgrade() -> None:
    op.drop_table("web_users")
