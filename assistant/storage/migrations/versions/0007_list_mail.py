"""Mark mailing-list and bulk messages (DESIGN.md rule 5: they never join a thread
without thread headers).

Messages stored before this revision read as not list mail (the raw mail is not kept, so
they cannot be re-read here); only mail synced from now on is marked.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("list_mail", sa.Boolean, nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("list_mail")
