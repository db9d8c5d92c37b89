"""Composition root: opens a workspace and wires the services the CLI and the GUI share."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from sqlalchemy.orm import Session

from app.audit.keyring import REGISTER_ACTION, register_key, registration
from app.audit.keys import AuditKey
from app.audit.reading import event_count
from app.audit.trail import AuditTrail, default_workstation
from app.core.clock import Clock
from app.core.errors import PlantMLError, SecurityStateTampered, StorageError, UsageError
from app.core.principal import SYSTEM
from app.security.passwords import HashParams, Passwords
from app.security.state import PARTS, security_state
from app.services.approvals import ApprovalService
from app.services.audit import AuditService
from app.services.auth import AuthService
from app.services.base import ServiceContext
from app.services.challenger import ChallengerService
from app.services.controllers import ControllerService
from app.services.data_in import DataInService
from app.services.datasets import DatasetService
from app.services.explanations import ExplanationService
from app.services.feedback import FeedbackService
from app.services.fleet import FleetService
from app.services.health import Health
from app.services.keys import KeyService
from app.services.packages import PackageService
from app.services.registry import RegistryService
from app.services.settings import SettingsService
from app.services.training import TrainingService
from app.services.users import UserService
from app.store.blobs import BlobStore
from app.store.durable import remove_stale_temps
from app.store.engine import Database
from app.store.migrate import ensure_schema
from app.store.protections import repair as repair_protections
from app.store.registry_config import (
    BLOB_SETTING,
    RegistryChoice,
    choose,
    read_choice,
    save_choice,
)
from app.store.schema import AuditKeyRow
from app.store.settings import get_setting, set_setting
from app.store.workspace import WorkspacePaths, resolve_home

log = logging.getLogger(__name__)


class Services:
    """Every service of one open workspace. Close it when done."""

    def __init__(self, paths: WorkspacePaths, db: Database, ctx: ServiceContext,
                 audit_key: AuditKey, passwords: Passwords) -> None:
        self.paths = paths
        self.db = db
        self.ctx = ctx
        self.auth = AuthService(ctx, passwords)
        self.users = UserService(ctx, passwords)
        self.audit = AuditService(ctx, audit_key)
        self.settings = SettingsService(ctx)
        self.datasets = DatasetService(ctx)
        self.data_in = DataInService(ctx, self.datasets, paths.home / "work")
        self.registry = RegistryService(ctx)
        self.training = TrainingService(ctx, self.datasets, self.registry)
        self.explanations = ExplanationService(ctx, self.datasets, self.registry)
        self.challenger = ChallengerService(ctx, self.datasets, self.training, self.registry)
        self.approvals = ApprovalService(ctx, passwords)
        self.packages = PackageService(ctx, paths.home)
        self.keys = KeyService(ctx)
        self.controllers = ControllerService(ctx, self.registry, self.packages, self.datasets)
        self.fleet = FleetService(ctx, self.controllers)
        self.feedback = FeedbackService(ctx, self.datasets)
        #: True when this workstation joined an existing shared registry at this opening.
        self.joined = False

    @property
    def home(self) -> Path:
        """The workspace folder."""
        return self.paths.home

    @property
    def registry_where(self) -> str:
        """The registry: its file, or HOST:PORT/DB of the shared server."""
        return self.db.where

    @property
    def health(self) -> Health:
        """Storage health and the read-only alarm."""
        return self.ctx.health

    def close(self) -> None:
        """Release the database."""
        self.db.dispose()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_services(home: str | Path | None = None, *, create: bool = False,
                  clock: Clock | None = None, hash_params: HashParams | None = None,
                  checkpoint_interval: int | None = None, db_url: str | None = None,
                  blob_folder: str | Path | None = None, workstation: str = "") -> Services:
    """Open (or with ``create`` make) the workspace at ``home`` and wire its services.

    ``db_url`` (with ``create``) puts the registry on a shared database (PostgreSQL) instead
    of the workspace's own SQLite file, and is kept as the workspace setting; a new shared
    registry keeps its blobs in ``blob_folder`` (a folder every workstation reaches), and a
    workstation joining it registers its own audit key; ``workstation`` names it in the
    trail (default: the host name). ``hash_params`` and
    ``checkpoint_interval`` are stored when the registry is created.
    Raises StorageError for a damaged database, WorkspaceVersionError for a newer one,
    RegistryUnreachable when the shared registry's server cannot be reached.
    """
    paths = WorkspacePaths(resolve_home(home))
    choice = choose(paths, db_url, workstation) if create else read_choice(paths)
    if not choice.configured and not create:
        raise UsageError(f"there is no PlantML workspace at {paths.home}; run 'plantml init' "
                         "first or pass --home")
    paths.create()
    if choice.url is None and choice.configured:
        _refuse_corrupt(paths.db)
    remove_stale_temps(paths.home)
    db = Database(choice.target(paths))
    try:
        with db.guard():
            backup = ensure_schema(db.engine, db.path, paths.backups)
        restored = repair_protections(db)
        key = AuditKey.load_or_create(paths.keys)
        clock = clock or Clock()
        with db.transaction() as s:
            fresh = event_count(s) == 0
            if fresh:
                if hash_params is not None:
                    set_setting(s, "security.argon2", hash_params.__dict__)
                if checkpoint_interval is not None:
                    set_setting(s, "audit.checkpoint_interval", checkpoint_interval)
                if blob_folder is not None:
                    set_setting(s, BLOB_SETTING, str(Path(blob_folder).resolve()))
            params = HashParams.from_setting(get_setting(s, "security.argon2"))
            interval = int(get_setting(s, "audit.checkpoint_interval"))
            workstation = (choice.workstation or get_setting(s, "workstation.name")
                           or default_workstation())
            blobs_at = get_setting(s, BLOB_SETTING)
        blobs = _blob_folder(paths, choice, blobs_at, blob_folder)
        save_choice(paths, choice)
        trail = AuditTrail(key, clock=clock, workstation=workstation,
                           checkpoint_interval=interval,
                           latest_file=paths.audit_dir / "latest-checkpoint.json")
        ctx = ServiceContext(db, trail, clock, Health(), BlobStore(blobs))
        services = Services(paths, db, ctx, key, Passwords(params))
        services.joined = not fresh and not choice.configured
        now = clock.now().isoformat()
        if fresh:
            def create_event(s: Session) -> None:
                register_key(s, key, workstation, now)
                trail.append(s, user=SYSTEM.username, role="", action="workspace.create",
                             obj=str(paths.home) if choice.url is None else db.where,
                             new={"audit_key": key.key_id, "key_protection": key.protector,
                                  "checkpoint_interval": interval})

            ctx.write(create_event)
        else:
            _register_key(ctx, key, workstation, now)
        if backup:
            ctx.write(lambda s: trail.append(s, user=SYSTEM.username, role="",
                                             action="workspace.upgrade", obj=str(paths.home),
                                             new={"backup": backup}))
        if choice.configured and key.changes:
            ctx.write(lambda s: trail.append(s, user=SYSTEM.username, role="",
                                             action="audit.key.protect", obj=str(paths.keys),
                                             new={"audit_key": key.key_id,
                                                  "key_protection": key.protector,
                                                  "changes": list(key.changes)}))
        if restored:
            msg = (f"the database's protections {', '.join(restored)} were missing or altered "
                   "(dropped or replaced triggers: the database was edited outside PlantML); "
                   "they were restored")
            log.error("%s", msg)
            ctx.audit_outcome(SYSTEM, "", "schema.protection", db.where, result="alarm",
                              reason=msg, new={"restored": restored})
        _seal_at_open(ctx, first=fresh or backup is not None)
        return services
    except PlantMLError:
        db.dispose()
        raise
    except OSError as exc:
        db.dispose()
        raise StorageError(f"the workspace at {paths.home} could not be opened: {exc}") from exc


def _blob_folder(paths: WorkspacePaths, choice: RegistryChoice, stored: object,
                 given: str | Path | None) -> Path:
    """Where blobs live: the registry's shared folder setting, else the workspace's own."""
    if isinstance(stored, str) and stored:
        folder = Path(stored)
        if given is not None and Path(given).resolve() != folder:
            raise UsageError(f"the registry keeps its blobs in {folder}, not {given}; every "
                             "workstation uses the same shared folder")
        return folder
    if choice.url is not None:
        raise UsageError("a shared registry needs a shared blob folder: pass --blobs FOLDER "
                         "(a folder every workstation reaches) when the registry is created")
    return paths.blobs


def _register_key(ctx: ServiceContext, key: AuditKey, workstation: str, now: str) -> None:
    """List this workstation's audit key in the registry with its registration event (a
    workstation joining a shared registry, or a workspace from before the key list)."""
    with ctx.db.reader() as s:
        if s.get(AuditKeyRow, key.key_id) is not None:
            register_key(s, key, workstation, now)  # checks the listed key is the same
            return

    def body(s: Session) -> None:
        if register_key(s, key, workstation, now):
            ctx.trail.append(s, user=SYSTEM.username, role="", action=REGISTER_ACTION,
                             obj=f"workstation:{workstation}", new=registration(key, workstation))

    ctx.write(body)


def _seal_at_open(ctx: ServiceContext, *, first: bool) -> None:
    """Seal the security state of a new or just upgraded workspace; otherwise check it
    against its seal and audit an alarm if it was changed behind PlantML's back."""
    try:
        with ctx.db.reader() as s:
            seal = ctx.seal.latest(s)
            if seal is not None:
                ctx.seal.check(s)
                return
        if not first:
            raise SecurityStateTampered("the security state has no seal in the audit trail "
                                        "(its seal events were removed)", PARTS)
        ctx.write(lambda s: ctx.seal.record(
            s, security_state(s), changed=list(PARTS),
            reason="first seal of the security state (new or upgraded workspace)"))
    except SecurityStateTampered as exc:
        log.error("%s", exc)
        ctx.alarm(exc)


def _refuse_corrupt(db_path: Path) -> None:
    """Refuse a damaged database before anything writes to it."""
    try:
        conn = sqlite3.connect(f"file:{db_path.as_posix()}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{db_path} is damaged and was not opened ({exc}); restore it from a "
                           "backup") from exc
    if not result or result[0] != "ok":
        raise StorageError(f"{db_path} is damaged and was not opened ({result and result[0]}); "
                           "restore it from a backup")
