"""The phone numbers the CRM holds for the lead threads' contacts (issue 15, WhatsApp chats
matched by the CRM's phones): ``crm_phones`` keeps what the last phone pull of
``followup crm sync`` read, one row per (contact email, number as the CRM holds it); a pull
that fails leaves the rows of the one before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_phones",
        sa.Column("email", sa.String(320), primary_key=True),
        sa.Column("phone", sa.String(100), primary_key=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("crm_phones")
