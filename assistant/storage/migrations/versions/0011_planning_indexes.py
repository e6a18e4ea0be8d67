"""Planning reads only what it needs (issue 12): indexes for its targeted queries.

- ``messages.from_addr``: a person's own messages (signature, phone) and names;
- ``messages.sent_at``: the recent window the duplicate-contact guard reads;
- ``touches.at``: the logged touches in that window.

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
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_index("ix_touches_at", "touches", ["at"])


def downgrade() -> None:
    op.drop_index("ix_touches_at", table_name="touches")
    op.drop_index("ix_messages_sent_at", table_name="messages")
    op.drop_index("ix_messages_from_addr", table_name="messages")
