"""The sign-in throttle moves out of ``web_users`` (issue 11, point 3).

Two tables replace ``web_users.failed_logins`` and ``locked_until``:

- ``web_login_throttle``: one failure counter per key — a client address (every
  account), an account for unrecognised clients, an account from one known address, or
  one browser's device cookie. Keys are HMAC-SHA256 digests (made with the web app's
  secret), so neither addresses nor what strangers typed as an email are stored; ``email``
  is set only on a team member's rows, so a new password can clear them.
- ``web_known_addresses``: where each member signed in successfully (the HMAC of the
  address, 90 days), so a stranger's guesses do not lock them out from there.

Counts are moved by single conditional upserts, never read and written back in Python.
The old counters are dropped: a lock in force at upgrade time is forgotten.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_login_throttle",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), index=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_ends", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "web_known_addresses",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True)))
    op.drop_table("web_known_addresses")
    op.drop_table("web_login_throttle")
