"""Roll-out ownership on a shared registry: the workstation running a roll-out holds a lease
in its row (owner, claim token, expiry), claimed by a conditional UPDATE, so two
workstations never both resume one; all NULL for roll-outs nobody runs (docs/fleet.md).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fleet_rollouts") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(128), nullable=True))
        batch.add_column(sa.Column("lease_token", sa.String(32), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fleet_rollouts") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_token")
        batch.drop_column("lease_owner")
