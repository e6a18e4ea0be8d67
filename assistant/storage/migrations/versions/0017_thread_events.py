"""Each thread's metric events in the read model (issue 12, pages that do not grow with
the mailbox): ``threads.events`` holds the thread's outbound touches and the client's real
replies as the metrics count them (``[[utc time, 1 | 0], ...]``), so the team page's
compliance numbers read one row per thread, not every message of the 90-day cohort.
Threads indexed before have none: the read model's rules fingerprint is forgotten, so the
next read rebuilds it (the same answer, every thread with its events).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("threads", sa.Column("events", sa.JSON(), nullable=True))
    op.execute("DELETE FROM read_model_state WHERE key = 'rules'")


def downgrade() -> None:
    # A plain DROP COLUMN, not a batch copy (see 0016).
    op.drop_column("threads", "events")
