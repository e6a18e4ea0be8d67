"""Follow-up keys name their round (a real reply starts the cadence over, and that step 1
is a follow-up of its own): ``read_model_state`` gets ``followups_before_rounds``, the
highest follow-up id planned before. Such a follow-up, planned under a first-round key
after its thread's last reply and not cancelled, was that round's step under the old keys
and still counts as it (never planned twice); every follow-up planned since is read
strictly (``assistant.domain.followups.of_this_round``). Ids, not times: a demo plans at
a ``--now`` of its own.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

KEY = "followups_before_rounds"


def upgrade() -> None:
    conn = op.get_bind()
    last = conn.scalar(sa.text("SELECT MAX(id) FROM followups")) or 0
    conn.execute(sa.text("DELETE FROM read_model_state WHERE key = :key"), {"key": KEY})
    conn.execute(sa.text("INSERT INTO read_model_state (key, value) VALUES (:key, :value)"),
                 {"key": KEY, "value": str(last)})


def downgrade() -> None:
    op.get_bind().execute(sa.text("DELETE FROM read_model_state WHERE key = :key"), {"key": KEY})
