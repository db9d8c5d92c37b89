"""SQLAlchemy table definitions; Alembic migrations create and evolve them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Computed,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Setting(Base):
    """Workspace settings as JSON values (checkpoint interval, hash parameters, ...)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    """A local account; the password is only ever stored as an Argon2id hash."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[str] = mapped_column(String(40))
    #: Set by an administrator's reset: the temporary password only opens the way to the
    #: user's own new password (and their new signing key).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The last administrator is never locked: after repeated failures it waits until then.
    next_attempt_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    user: Mapped[User] = relationship(back_populates="roles")


class UserKey(Base):
    """A user's Ed25519 signing key; the private half is encrypted with their password."""

    __tablename__ = "user_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    private_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True)


class SignatureRow(Base):
    """An electronic signature: who, meaning, reason, and the hash of the signed record."""

    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key_id: Mapped[str] = mapped_column(ForeignKey("user_keys.key_id"))
    meaning: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    record_type: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(128))
    record_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(128))


class AuditEventRow(Base):
    """One audit event. ``body`` (canonical JSON) is the single source of truth: the other
    readable columns are generated from it, so they cannot be altered on their own."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(Text, Computed("json_extract(body, '$.ts')", persisted=False))
    user: Mapped[str] = mapped_column(
        Text, Computed("json_extract(body, '$.user')", persisted=False)
    )
    action: Mapped[str] = mapped_column(
        Text, Computed("json_extract(body, '$.action')", persisted=False)
    )
    object: Mapped[str] = mapped_column(
        Text, Computed("json_extract(body, '$.object')", persisted=False)
    )
    result: Mapped[str] = mapped_column(
        Text, Computed("json_extract(body, '$.result')", persisted=False)
    )


class AuditCheckpointRow(Base):
    """A signed statement of the chain head at ``seq``."""

    __tablename__ = "audit_checkpoints"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(40))
    workstation: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[str] = mapped_column(String(128))


class AuditKeyRow(Base):
    """The public audit key of a workstation writing to this registry (append-only); a
    checkpoint counts only when signed by a key listed here whose registration is in the
    trail (app/audit/keyring.py)."""

    __tablename__ = "audit_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workstation: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    registered_at: Mapped[str] = mapped_column(String(40))


class DatasetRow(Base):
    """An immutable dataset snapshot: the Parquet blob ``id`` plus its metadata (JSON)."""

    __tablename__ = "datasets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sample_rate: Mapped[float] = mapped_column(Float)
    meta: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))


class DatasetLabelRow(Base):
    """A label on a whole recording (no time range) or on a time range of it."""

    __tablename__ = "dataset_labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), index=True)
    recording: Mapped[int] = mapped_column(Integer)
    t_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    t_end: Mapped[float | None] = mapped_column(Float, nullable=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))
    # Set once when the label is withdrawn; a withdrawn label no longer counts.
    withdrawn_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    withdraw_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)


class ModelLineRow(Base):
    """A named line of model versions (one use case, e.g. "pump-7 bearing")."""

    __tablename__ = "model_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    release_counter: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))


class ModelVersionRow(Base):
    """One trained model with its lineage; ``record`` (JSON) is what signatures bind."""

    __tablename__ = "model_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("model_lines.id"))
    version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    record: Mapped[str] = mapped_column(Text)
    record_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))
    proposed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    release_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    release_counter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    release_signatures: Mapped[str | None] = mapped_column(Text, nullable=True)
    proposal_signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"),
                                                              nullable=True)
    decision_signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"),
                                                              nullable=True)


class ModelAliasRow(Base):
    """Where an alias (e.g. ``production``) of a line points now."""

    __tablename__ = "model_aliases"
    line_id: Mapped[int] = mapped_column(ForeignKey("model_lines.id"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(40), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    moved_at: Mapped[str] = mapped_column(String(40))
    moved_by: Mapped[str] = mapped_column(String(64))


class AliasHistoryRow(Base):
    """Every alias move, so "which version was in production on which day" has an answer."""

    __tablename__ = "alias_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("model_lines.id"))
    alias: Mapped[str] = mapped_column(String(40))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"),
                                                   nullable=True)
    moved_at: Mapped[str] = mapped_column(String(40))
    moved_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class FleetControllerRow(Base):
    """A controller of the plant's inventory: where it is reached and where it stands."""

    __tablename__ = "fleet_controllers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    endpoint: Mapped[str] = mapped_column(String(300), unique=True)
    hardware_id: Mapped[str] = mapped_column(String(100))
    line: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(200))
    group_name: Mapped[str] = mapped_column(String(100), index=True)
    added_at: Mapped[str] = mapped_column(String(40))
    added_by: Mapped[str] = mapped_column(String(64))


class RolloutRow(Base):
    """A roll-out of one approved version to a group; its state survives a restart."""

    __tablename__ = "fleet_rollouts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(140))
    group_name: Mapped[str] = mapped_column(String(100))
    canary: Mapped[str] = mapped_column(String(100))
    batch_size: Mapped[int] = mapped_column(Integer)
    parallel: Mapped[int] = mapped_column(Integer)
    observe_s: Mapped[float] = mapped_column(Float)
    invalid_share: Mapped[float] = mapped_column(Float)
    # running, halted, stopped (cancelled; resumable) or done
    state: Mapped[str] = mapped_column(String(16))
    # The highest batch whose observation passed (-1: none yet).
    observed_batch: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    workstation: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[str] = mapped_column(String(40))
    # Who runs it now (app/services/fleet_lease.py): the workstation, its run's claim token
    # and when the claim lapses unless renewed (UTC ISO 8601); all NULL when nobody does.
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[str | None] = mapped_column(String(40), nullable=True)


class RolloutStepRow(Base):
    """One controller of a roll-out, written before and after it is flashed."""

    __tablename__ = "fleet_rollout_steps"
    __table_args__ = (UniqueConstraint("rollout_id", "position", name="uq_rollout_position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rollout_id: Mapped[int] = mapped_column(ForeignKey("fleet_rollouts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    batch: Mapped[int] = mapped_column(Integer)  # 0 is the canary
    controller: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(300))
    # pending, flashing, done, skipped (already ran the version) or failed
    state: Mapped[str] = mapped_column(String(16))
    before_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    before_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    after_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    after_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str] = mapped_column(Text)
    started_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
    finished_at: Mapped[str | None] = mapped_column(String(40), nullable=True)
