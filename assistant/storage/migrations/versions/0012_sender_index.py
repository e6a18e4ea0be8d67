"""Indexes for the pages (issue 12): ``messages (from_addr, date)`` (the template preview
reads a contact's and a rep's own messages, newest first — name, signature, phone —
without scanning the mailbox); ``threads (owner, base_status, due_at)`` and ``threads (base_status,
last_reply_at)`` (the team page's lists, most overdue and longest waiting first, read a
page of rows whatever the number of threads).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_sender_date", "messages",
                    ["from_addr", sa.text("coalesce(sent_at, first_seen_at)")])
    op.create_index("ix_threads_owner_status_due", "threads", ["owner", "base_status", "due_at"])
    op.create_index("ix_threads_status_reply", "threads", ["base_status", "last_reply_at"])


def downgrade() -> None:
    op.drop_index("ix_threads_status_reply", table_name="threads")
    op.drop_index("ix_threads_owner_status_due", table_name="threads")
    op.drop_index("ix_messages_sender_date", table_name="messages")
