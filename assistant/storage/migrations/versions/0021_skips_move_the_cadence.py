"""A skipped step moves the cadence on (``drafts skip``): the read model reads the
skipped follow-ups of each thread (``ThreadMark.skipped``). Threads indexed before did
not: the read model's rules fingerprint is forgotten, so the next read rebuilds it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM read_model_state WHERE key = 'rules'")


def downgrade() -> None:
    op.execute("DELETE FROM read_model_state WHERE key = 'rules'")
