"""Outcomes (issue 14): why a thread was won or lost and until when it is snoozed
(``thread_marks.outcome_reason``, ``snoozed_until``); the history of marks, snoozes and
the client's answers outside email (``thread_actions``: who, when, undone by whom); the
short thread id's digest in the read model (``threads.thread_id``, indexed; and ``threads.snoozed_until``, the snooze behind a
stored due date), filled in
for the threads already stored. Outcomes marked before this revision get their history
row (``mark``, at the mark's time, by its author), so they can be undone too.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
import base64
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _digest(quote_message_id: str) -> str:
    """:func:`assistant.domain.ids.thread_digest`, as of this revision."""
    raw = hashlib.sha256(quote_message_id.strip().strip("<>").encode("utf-8", "surrogatepass"))
    return base64.b32encode(raw.digest()).decode("ascii").lower()[:16]


def upgrade() -> None:
    with op.batch_alter_table("thread_marks") as batch:
        batch.add_column(sa.Column("outcome_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
    op.create_table(
        "thread_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("quote_message_id", sa.String(1000), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("value", sa.String(40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(320), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(320), nullable=True),
        sa.Column("cancelled", sa.JSON(), nullable=False),
    )
    op.create_index("ix_thread_actions_quote_message_id", "thread_actions", ["quote_message_id"])
    with op.batch_alter_table("threads") as batch:
        batch.add_column(sa.Column("thread_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
        batch.create_index("ix_threads_thread_id", ["thread_id"])

    conn = op.get_bind()
    threads = sa.table("threads", sa.column("quote_message_id"), sa.column("thread_id"))
    rows = conn.execute(sa.select(threads.c.quote_message_id)).scalars().all()
    if rows:
        conn.execute(threads.update().where(threads.c.quote_message_id == sa.bindparam("key"))
                     .values(thread_id=sa.bindparam("digest")),
                     [{"key": key, "digest": _digest(key)} for key in rows])
    marks = sa.table("thread_marks", sa.column("quote_message_id"), sa.column("outcome"),
                     sa.column("updated_at"), sa.column("updated_by"))
    actions = sa.table("thread_actions", sa.column("quote_message_id"), sa.column("action"),
                       sa.column("value"), sa.column("at"), sa.column("by"),
                       sa.column("cancelled", sa.JSON()))
    marked = conn.execute(sa.select(marks).where(marks.c.outcome.is_not(None))).all()
    if marked:
        conn.execute(actions.insert(), [
            {"quote_message_id": row.quote_message_id, "action": "mark", "value": row.outcome,
             "at": row.updated_at, "by": row.updated_by, "cancelled": []} for row in marked])


def downgrade() -> None:
    with op.batch_alter_table("threads") as batch:
        batch.drop_index("ix_threads_thread_id")
        batch.drop_column("snoozed_until")
        batch.drop_column("thread_id")
    op.drop_index("ix_thread_actions_quote_message_id", table_name="thread_actions")
    op.drop_table("thread_actions")
    with op.batch_alter_table("thread_marks") as batch:
        batch.drop_column("snoozed_until")
        batch.drop_column("outcome_reason")
