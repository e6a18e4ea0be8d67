"""Reps' morning list (issue 14): ``morning_lists``, one row per rep and local date (the
claim that sends it at most once a day, whatever the number of workers or a lost server
response), and ``web_users.morning_email`` (a person's own opt-out; NULL = the default,
on).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "morning_lists",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rep", sa.String(320), nullable=False),
        sa.Column("period", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("items", sa.Integer, nullable=False),
        sa.Column("holder", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("rep", "period", name="uq_morning_period"),
    )
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("morning_email", sa.Boolean))


def downgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("morning_email")
    op.drop_table("morning_lists")
