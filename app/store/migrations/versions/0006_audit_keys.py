"""Audit keys of every workstation writing to a shared registry: checkpoints are verified
against this append-only list (each row's registration is an event in the trail).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from app.store import protections_pg

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The exact statements app/store/protections.py expects (it compares the stored text).
TRIGGERS = {
    "audit_keys_no_update":
        "CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys "
        "BEGIN SELECT RAISE(ABORT, 'audit keys are append-only'); END",
    "audit_keys_no_delete":
        "CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys "
        "BEGIN SELECT RAISE(ABORT, 'audit keys are append-only'); END",
}


def upgrade() -> None:
    op.create_table(
        "audit_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("workstation", sa.String(128), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("registered_at", sa.String(40), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        protections_pg.install(op.get_bind(), protections_pg.AUDIT_KEYS)
        return
    for sql in TRIGGERS.values():
        op.execute(sql)


def downgrade() -> None:
    op.drop_table("audit_keys")
