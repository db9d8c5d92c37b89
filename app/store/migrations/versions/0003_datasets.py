"""Dataset snapshots and their labels.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sample_rate", sa.Float, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "dataset_labels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dataset_id", sa.String(64), sa.ForeignKey("datasets.id"), nullable=False,
                  index=True),
        sa.Column("recording", sa.Integer, nullable=False),
        sa.Column("t_start", sa.Float, nullable=True),
        sa.Column("t_end", sa.Float, nullable=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dataset_labels")
    op.drop_table("datasets")
