"""The display names a message gives its recipients (issue 14, people by name): the name
a rep wrote a client under (``To: "Raúl Quiroga" <rquiroga@…>``) is often the only name the
mail has for them. ``messages.recipient_names`` holds ``Name <addr>`` for each To and Cc
recipient that had one; NULL for messages stored before (they read as none).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("recipient_names", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("recipient_names")
