"""Model registry: lines, versions, aliases and the history of every alias move.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("release_counter", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line_id", sa.Integer, sa.ForeignKey("model_lines.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=True),
        sa.Column("release_body", sa.Text, nullable=True),
        sa.Column("release_counter", sa.Integer, nullable=True),
        sa.Column("release_signatures", sa.Text, nullable=True),
        sa.Column("proposal_signature_id", sa.Integer, sa.ForeignKey("signatures.id"),
                  nullable=True),
        sa.Column("decision_signature_id", sa.Integer, sa.ForeignKey("signatures.id"),
                  nullable=True),
        sa.UniqueConstraint("line_id", "version", name="uq_line_version"),
    )
    op.create_table(
        "model_aliases",
        sa.Column("line_id", sa.Integer, sa.ForeignKey("model_lines.id"), primary_key=True),
        sa.Column("alias", sa.String(40), primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("moved_at", sa.String(40), nullable=False),
        sa.Column("moved_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "alias_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line_id", sa.Integer, sa.ForeignKey("model_lines.id"), nullable=False),
        sa.Column("alias", sa.String(40), nullable=False),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("model_versions.id"), nullable=True),
        sa.Column("moved_at", sa.String(40), nullable=False),
        sa.Column("moved_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("alias_history", "model_aliases", "model_versions", "model_lines"):
        op.drop_table(table)
