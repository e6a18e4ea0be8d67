"""Web sessions that can be ended: a per-user session version.

A signed session cookie carries the version it was issued with; signing out, setting a
new password and a lockout bump the version, which ends every session issued before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer, nullable=False,
                                   server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("session_version")
