"""An index on ``messages.from_addr``: the template preview reads a contact's and a
rep's own messages (their name, signature and phone) without scanning the mailbox.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_from_addr", "messages", ["from_addr"])


def downgrade() -> None:
    op.drop_index("ix_messages_from_addr", table_name="messages")
