"""A label can be withdrawn (a wrong label, or an edit: withdraw, then label again): who, when
and why are kept on the row, and the label stops counting; the audit trail holds both events.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_labels") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.String(40), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("withdraw_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_labels") as batch:
        batch.drop_column("withdraw_reason")
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
