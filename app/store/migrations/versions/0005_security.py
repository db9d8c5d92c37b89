"""Security hardening: accounts that must choose their own password after a reset, a wait
instead of a lock for the last administrator, and append-only signatures and signing keys.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from app.store import protections_pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The exact statements app/store/protections.py expects (it compares the stored text).
TRIGGERS = {
    "signatures_no_update":
        "CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures "
        "BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END",
    "signatures_no_delete":
        "CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures "
        "BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END",
    "user_keys_no_delete":
        "CREATE TRIGGER user_keys_no_delete BEFORE DELETE ON user_keys "
        "BEGIN SELECT RAISE(ABORT, 'signing keys are never deleted'); END",
    "user_keys_fixed":
        "CREATE TRIGGER user_keys_fixed BEFORE UPDATE OF key_id, user_id, public_key "
        "ON user_keys BEGIN SELECT RAISE(ABORT, 'a signing key cannot be changed'); END",
}


def upgrade() -> None:
    op.add_column("users", sa.Column("must_change_password", sa.Boolean, nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("next_attempt_at", sa.String(40), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        protections_pg.install(op.get_bind(), protections_pg.SECURITY)
        return
    for sql in TRIGGERS.values():
        op.execute(sql)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in protections_pg.SECURITY if postgres else TRIGGERS:
        table = "signatures" if name.startswith("signatures") else "user_keys"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
    # SQLite 3.35+ drops a column in place; a batch copy would trip the foreign keys.
    op.execute("ALTER TABLE users DROP COLUMN next_attempt_at")
    op.execute("ALTER TABLE users DROP COLUMN must_change_password")
