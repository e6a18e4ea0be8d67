"""The read model (issue 12): threads indexed once, queried many times.

- ``messages.conversation_id`` / ``thread_key``: each message's header-linked
  conversation and lead thread;
- ``message_refs``: the ids each message cites and its provider conversation ids, so a new
  message finds the conversations it links, whichever arrived first;
- ``index_queue``: messages stored (or seen again with a new provider conversation id)
  and not indexed yet — written in the transaction that stores them;
- ``join_keys``: what each conversation could join or be joined by (DESIGN.md rules 4, 5);
- ``threads``: every lead thread's stored report;
- ``read_model_state``: the fingerprint of the rules the reports were computed with.

Every message already stored is queued: the first command that reads threads indexes
them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("conversation_id", sa.Integer))
        batch.add_column(sa.Column("thread_key", sa.String(1000)))
        batch.create_index("ix_messages_conversation_id", ["conversation_id"])
        batch.create_index("ix_messages_thread_key", ["thread_key"])
    op.create_index("ix_message_locations_thread", "message_locations", ["account_id", "thread_id"])
    op.create_table(
        "message_refs",
        sa.Column("ref_id", sa.String(1000), primary_key=True),
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_message_refs_message_pk", "message_refs", ["message_pk"])
    op.create_table(
        "index_queue",
        sa.Column("message_pk", sa.Integer, sa.ForeignKey("messages.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "join_keys",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("conversation_id", sa.Integer, primary_key=True),
    )
    op.create_index("ix_join_keys_conversation_id", "join_keys", ["conversation_id"])
    op.create_table(
        "threads",
        sa.Column("quote_message_id", sa.String(1000), primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("contact", sa.String(320)),
        sa.Column("owner", sa.String(320)),
        sa.Column("owner_candidates", sa.JSON, nullable=False),
        sa.Column("scenario_base", sa.String(10), nullable=False),
        sa.Column("touches", sa.Integer, nullable=False),
        sa.Column("base_status", sa.String(20), nullable=False),
        sa.Column("closed_reason", sa.Text),
        sa.Column("next_number", sa.Integer),
        sa.Column("next_channel", sa.String(20)),
        sa.Column("next_template", sa.String(200)),
        sa.Column("due_at", sa.DateTime(timezone=True)),
        sa.Column("last_outbound_at", sa.DateTime(timezone=True)),
        sa.Column("last_reply_at", sa.DateTime(timezone=True)),
        sa.Column("quote_sent_at", sa.DateTime(timezone=True)),
        sa.Column("promised_date", sa.Date),
        sa.Column("promised_reason", sa.String(10)),
        sa.Column("bounced_recipients", sa.JSON, nullable=False),
    )
    for column in ("contact", "owner", "base_status", "due_at", "quote_sent_at"):
        op.create_index(f"ix_threads_{column}", "threads", [column])
    op.create_table(
        "read_model_state",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO index_queue (message_pk) SELECT id FROM messages")


def downgrade() -> None:
    op.drop_table("read_model_state")
    op.drop_table("threads")
    op.drop_table("join_keys")
    op.drop_table("index_queue")
    op.drop_table("message_refs")
    op.drop_index("ix_message_locations_thread", "message_locations")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_thread_key")
        batch.drop_index("ix_messages_conversation_id")
        batch.drop_column("thread_key")
        batch.drop_column("conversation_id")
