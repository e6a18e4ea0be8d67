"""Planning reads only what it needs (issue 12): indexes for its targeted queries.

(a person's own messages and names are read through ``messages (from_addr, date)``, 0012);
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
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_index("ix_touches_at", "touches", ["at"])


def downgrade() -> None:
    op.drop_index("ix_touches_at", table_name="touches")
    op.drop_index("ix_messages_sent_at", table_name="messages")
