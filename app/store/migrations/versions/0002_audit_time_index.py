"""Index audit events by time and result, for the Audit view's filters.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_ts", "audit_events", ["ts"])
    op.create_index("ix_audit_result", "audit_events", ["result"])


def downgrade() -> None:
    op.drop_index("ix_audit_result", "audit_events")
    op.drop_index("ix_audit_ts", "audit_events")
