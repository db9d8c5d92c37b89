"""Audit use cases: show, verify (workspace or export), export for auditors."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.audit import reading
from app.audit.checkpoints import read_latest_file, stored_checkpoints
from app.audit.export import ExportResult, is_export, verify_export, write_export
from app.audit.keys import AuditKey, load_public_pem
from app.audit.reading import AuditFilter
from app.audit.verify import verify_database
from app.core.errors import PlantMLError, StorageError, UsageError
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.records import AuditEvent, VerifyReport
from app.core.roles import Action
from app.services.base import ServiceContext


class AuditService:
    """Reading, verifying and exporting the audit trail."""

    def __init__(self, ctx: ServiceContext, key: AuditKey) -> None:
        self.ctx = ctx
        self.key = key

    @property
    def key_id(self) -> str:
        """Identifier of this workstation's audit key (auditors compare it with exports)."""
        return self.key.key_id

    def show(self, principal: Principal, flt: AuditFilter | None = None) -> list[AuditEvent]:
        """Events matching the filter, newest first by default."""
        self.ctx.authorize(principal, Action.AUDIT_READ)
        with self.ctx.db.reader() as s:
            return reading.query_events(s, flt or AuditFilter())

    def verify(self, principal: Principal, *, progress: ProgressFn = no_progress,
               cancel: CancelToken = NEVER_CANCELLED, processes: int = 1) -> VerifyReport:
        """Verify the whole chain and every checkpoint; the result itself is audited.

        ``processes`` > 1 splits a large trail across forked helpers: for single-threaded
        callers only (the CLI), never from the GUI.
        """
        role = self.ctx.authorize(principal, Action.AUDIT_VERIFY)
        report = self._verify_workspace(progress, cancel, processes)
        self.ctx.audit_outcome(principal, role.value, Action.AUDIT_VERIFY.value, "audit-trail",
                               result="ok" if report.ok else "failed",
                               new={"last_seq": report.last_seq,
                                    "first_bad_seq": report.first_bad_seq},
                               reason=report.problem)
        return report

    def _verify_workspace(self, progress: ProgressFn, cancel: CancelToken,
                          processes: int = 1) -> VerifyReport:
        with self.ctx.db.reader() as s:
            checkpoints = stored_checkpoints(s)
        latest = read_latest_file(self.ctx.trail.latest_file)
        if latest is not None:
            checkpoints.append(latest)
        cancel.raise_if_cancelled()
        progress(0.05, "verifying the hash chain and signed checkpoints")
        report = verify_database(self.ctx.db.path, checkpoints, self.key.public,
                                 workers=processes)
        progress(1.0, "verification finished")
        return report

    def export(self, principal: Principal, *, folder: Path, progress: ProgressFn = no_progress,
               cancel: CancelToken = NEVER_CANCELLED) -> ExportResult:
        """Write an offline export: the export is audited and a checkpoint signed first, so
        the export itself is the last event it contains."""
        folder = Path(folder)
        role = self.ctx.authorize(principal, Action.AUDIT_EXPORT, str(folder))
        progress(0.0, "checking the trail")
        check = self._verify_workspace(no_progress, cancel)

        def begin(s: Session):
            self.ctx.trail.append(s, user=principal.username, role=role.value,
                                  action=Action.AUDIT_EXPORT.value, obj=str(folder),
                                  new={"verified": check.ok, "last_seq": check.last_seq})
            return self.ctx.trail.checkpoint(s)

        cp = self.ctx.write(begin)
        conn = self.ctx.db.raw_connection()

        def flat():
            return reading.stream_rows(conn, upto=cp.seq)

        try:
            return write_export(folder, flat, cp.seq, cp, self.key, check,
                                progress=progress, cancel=cancel)
        except OSError as exc:
            self.ctx.health.failed(str(exc))
            self.ctx.audit_outcome(principal, role.value, "audit.export.failed", str(folder),
                                   result="failed", reason=str(exc))
            raise StorageError(f"the audit export to {folder} could not be written ({exc}); "
                               "its partial files were removed") from exc
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "audit.export.failed", str(folder),
                                   result="failed", reason=str(exc))
            raise
        finally:
            conn.close()


def read_key_file(key_file: Path, what: str = "--key") -> bytes:
    """The PEM bytes of a pinned public audit key; UsageError or IntegrityError naming it."""
    path = Path(key_file)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from exc
    load_public_pem(pem, f"{what} {path}")
    return pem


def verify_export_folder(folder: Path, key_file: Path | None = None) -> VerifyReport:
    """Verify an export anywhere, without a workspace or a sign-in (auditors' machines)."""
    pinned = read_key_file(key_file) if key_file is not None else None
    if not is_export(folder):
        raise UsageError(f"{folder} is not an audit export (no manifest.json)")
    return verify_export(Path(folder), pinned)
