"""Fleet: the controller inventory, roll-outs to a group and their steps (issue 11.3); a
roll-out's state is in the registry so it can be resumed after the workstation restarts.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_controllers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("endpoint", sa.String(300), nullable=False, unique=True),
        sa.Column("hardware_id", sa.String(100), nullable=False),
        sa.Column("line", sa.String(100), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("group_name", sa.String(100), nullable=False, index=True),
        sa.Column("added_at", sa.String(40), nullable=False),
        sa.Column("added_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "fleet_rollouts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ref", sa.String(140), nullable=False),
        sa.Column("group_name", sa.String(100), nullable=False),
        sa.Column("canary", sa.String(100), nullable=False),
        sa.Column("batch_size", sa.Integer, nullable=False),
        sa.Column("parallel", sa.Integer, nullable=False),
        sa.Column("observe_s", sa.Float, nullable=False),
        sa.Column("invalid_share", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("observed_batch", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("workstation", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "fleet_rollout_steps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rollout_id", sa.Integer, sa.ForeignKey("fleet_rollouts.id"),
                  nullable=False, index=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("batch", sa.Integer, nullable=False),
        sa.Column("controller", sa.String(100), nullable=False),
        sa.Column("endpoint", sa.String(300), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("before_model", sa.String(200), nullable=True),
        sa.Column("before_sha256", sa.String(64), nullable=True),
        sa.Column("after_model", sa.String(200), nullable=True),
        sa.Column("after_sha256", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=False),
        sa.Column("started_at", sa.String(40), nullable=True),
        sa.Column("finished_at", sa.String(40), nullable=True),
        sa.UniqueConstraint("rollout_id", "position", name="uq_rollout_position"),
    )


def downgrade() -> None:
    for table in ("fleet_rollout_steps", "fleet_rollouts", "fleet_controllers"):
        op.drop_table(table)
