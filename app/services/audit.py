"""Audit use cases: show, verify (workspace or export), export for auditors."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.audit import reading
from app.audit.bundled import verifier_source
from app.audit.checkpoints import checkpoint_from_json, read_latest_file, stored_checkpoints
from app.audit.expected import INTERVAL_SETTING, expected_checkpoints
from app.audit.export import CHECKPOINT, CHECKPOINTS, ExportResult, write_export
from app.audit.export_verify import is_export, verify_export
from app.audit.keylist import ListedKey, signer_keys
from app.audit.keyring import KeyRing, trusted_ring
from app.audit.keys import AuditKey, key_id_of, load_public_pem
from app.audit.reading import AuditFilter
from app.audit.verify import Anchor, verify_database
from app.core.errors import (
    Conflict,
    PermissionDenied,
    PlantMLError,
    SecurityStateTampered,
    StorageError,
    UsageError,
)
from app.core.principal import SYSTEM, Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.records import AuditEvent, VerifyReport
from app.core.roles import Action
from app.packages import Limits, PackageRefused, zipsafe
from app.security.state import PARTS, security_state
from app.services.base import ServiceContext
from app.store.protections import check as check_protections
from app.store.settings import get_setting

#: A package member holding the checkpoint its workstation signed at the proposal.
PACKAGE_CHECKPOINT = "audit_checkpoint.json"


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
               cancel: CancelToken = NEVER_CANCELLED, processes: int = 1,
               pinned_key: bytes | None = None, anchors: Sequence[Anchor] = (),
               pinned_keys: Sequence[bytes] = ()) -> VerifyReport:
        """Verify the whole chain, every checkpoint (and that none is missing) and the
        anchors kept outside; the result itself is audited.

        ``pinned_key`` and ``pinned_keys`` (PEM) are then the only keys accepted: a
        checkpoint signed by any other workstation's key fails, naming it. ``processes`` > 1
        splits a large trail across forked helpers: for single-threaded callers only (the
        CLI), never from the GUI.
        """
        role = self.ctx.authorize(principal, Action.AUDIT_VERIFY)
        pins = [*([pinned_key] if pinned_key is not None else []), *pinned_keys]
        report = self._verify_workspace(progress, cancel, processes, pins, anchors)
        self.ctx.audit_outcome(principal, role.value, Action.AUDIT_VERIFY.value, "audit-trail",
                               result="ok" if report.ok else "failed",
                               new={"last_seq": report.last_seq,
                                    "first_bad_seq": report.first_bad_seq},
                               reason=report.problem)
        return report

    def _verify_workspace(self, progress: ProgressFn, cancel: CancelToken,
                          processes: int = 1, pins: Sequence[bytes] = (),
                          anchors: Sequence[Anchor] = ()) -> VerifyReport:
        checkpoints, expected = self._checkpoints()
        pinned = {key_id_of(k): k for k in (load_public_pem(p, "the pinned key") for p in pins)}
        public = pinned.get(self.key.key_id) or next(iter(pinned.values()), self.key.public)
        # Every workstation of a shared registry signs with its own key: the others count
        # when the registry lists them and the trail registers them, unless keys are pinned,
        # which are then the only ones accepted.
        with self.ctx.db.reader() as s:
            ring, unregistered = trusted_ring(s, public)
        if pinned:
            ring = KeyRing(pinned, key_id_of(public), ring.workstations, label="pinned")
        cancel.raise_if_cancelled()
        progress(0.05, "verifying the hash chain and signed checkpoints")
        report = verify_database(self.ctx.db, checkpoints, ring, workers=processes,
                                 expected=expected, anchors=anchors)
        if report.ok and unregistered:
            report.ok = False
            report.problem = unregistered
        if len(ring.keys) > 1:
            report.notes.append(f"checkpoints may be signed by {len(ring.keys)} workstation "
                                f"audit keys: " + ", ".join(
                                    f"{k} ({ring.workstations.get(k, 'this workstation')})"
                                    for k in sorted(ring.keys)))
        if report.ok:
            self._check_protections(report)
        if report.ok:
            self._check_sealed(report)
        report.notes += self._alarm_notes()
        if pinned and self.key.key_id not in pinned:
            report.ok = False
            report.problem = (f"this workspace signs with audit key {self.key.key_id}, not the "
                              f"pinned key {', '.join(sorted(pinned))}: the audit key was "
                              "replaced"
                              + (f"; {report.problem}" if report.problem else ""))
            if report.first_bad_seq is None:
                report.first_bad_seq = (report.checkpoint_seq or 0) + 1
        progress(1.0, "verification finished")
        return report

    def reseal(self, principal: Principal, *, reason: str) -> list[str]:
        """Accept the stored security state after an alarm was reviewed: an administrator
        of the *sealed* roles (not of roles added behind PlantML's back) seals it again with
        a reason; returns the parts that had differed. Audited with the roles before and
        after."""
        if not reason.strip():
            raise UsageError("say what was reviewed before the security state is resealed")
        role = self.ctx.authorize(principal, Action.SECURITY_RESEAL, "security-state")

        def body(s: Session) -> list[str]:
            seal = self.ctx.seal.latest(s)
            state = security_state(s)
            if seal is not None and [principal.username, "admin"] not in \
                    [list(r) for r in seal.roles]:
                raise PermissionDenied(f"{principal.username} was not an administrator when "
                                       "the security state was last sealed")
            wrong = list(PARTS) if seal is None else state.differs(seal.digests)
            if not wrong:
                raise Conflict("the security state matches its seal; there is nothing to "
                               "reseal")
            self.ctx.trail.append(s, user=principal.username, role=role.value,
                                  action=Action.SECURITY_RESEAL.value, obj="security-state",
                                  old={"roles": [list(r) for r in seal.roles] if seal else None},
                                  new={"roles": [list(r) for r in state.roles],
                                       "parts": wrong}, reason=reason)
            self.ctx.seal.record(s, state, changed=wrong, user=principal.username,
                                 role=role.value, reason=f"resealed after review: {reason}")
            return wrong

        try:
            return self.ctx.write(body)
        except (PermissionDenied, Conflict) as exc:
            self.ctx.audit_outcome(principal, role.value, Action.SECURITY_RESEAL.value,
                                   "security-state", result="refused", reason=str(exc))
            raise

    def _check_protections(self, report: VerifyReport) -> None:
        """Fail ``report`` (and audit an alarm) if the schema's protections are missing."""
        missing = check_protections(self.ctx.db)
        if missing:
            report.ok = False
            report.problem = (f"the database's protections {', '.join(missing)} are missing or "
                              "altered (dropped triggers): the file was edited outside PlantML")
            self.ctx.audit_outcome(SYSTEM, "", "schema.protection", self.ctx.db.where,
                                   result="alarm", reason=report.problem,
                                   new={"missing": missing})

    def _alarm_notes(self) -> list[str]:
        """Integrity alarms the trail holds, for the auditor to follow up."""
        with self.ctx.db.reader() as s:
            alarms = reading.query_events(s, AuditFilter(result="alarm", limit=5))
            total = len(reading.query_events(s, AuditFilter(result="alarm", limit=100_000)))
        if not alarms:
            return []
        latest = alarms[0]
        return [f"{total} integrity alarm(s) are recorded in the trail; the latest, at "
                f"sequence {latest.seq} ({latest.action}): {latest.reason}"]

    def _check_sealed(self, report: VerifyReport) -> None:
        """Fail ``report`` if who may sign differs from what the trail sealed (audited)."""
        try:
            self.ctx.checked_read(lambda _s: None)
        except SecurityStateTampered as exc:
            report.ok = False
            report.problem = str(exc)

    def _checkpoints(self):
        """Every stored checkpoint (and the copy outside the database), and where the trail
        must have them."""
        with self.ctx.db.reader() as s:
            checkpoints = stored_checkpoints(s)
            expected = expected_checkpoints(s, int(get_setting(s, INTERVAL_SETTING)))
        latest = read_latest_file(self.ctx.trail.latest_file)
        if latest is not None:
            checkpoints.append(latest)
        return checkpoints, expected

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
        checkpoints, expected = self._checkpoints()
        keys = self._signers([c for c in [*checkpoints, cp] if c.seq <= cp.seq])
        conn: sqlite3.Connection | Connection = (
            self.ctx.db.raw_connection() if self.ctx.db.path is not None
            else self.ctx.db.engine.connect())

        def flat():
            return reading.stream_rows(conn, upto=cp.seq)

        try:
            return write_export(folder, flat, cp.seq, cp, self.key, check,
                                progress=progress, cancel=cancel, checkpoints=checkpoints,
                                interval=expected.interval, every=expected.every,
                                verifier=verifier_source(), keys=keys)
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


    def _signers(self, checkpoints) -> list[ListedKey]:
        """The public keys of every workstation whose checkpoints the export holds, from
        the registry's trusted list (this workstation's first)."""
        with self.ctx.db.reader() as s:
            ring, _unregistered = trusted_ring(s, self.key.public)
        own = ListedKey(self.key.key_id, self.ctx.trail.workstation, self.key.public)
        return signer_keys(checkpoints, ring.keys, ring.workstations, own)


def read_key_file(key_file: Path, what: str = "--key") -> bytes:
    """The PEM bytes of a pinned public audit key; UsageError or IntegrityError naming it."""
    path = Path(key_file)
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from exc
    load_public_pem(pem, f"{what} {path}")
    return pem


def load_anchors(paths: Sequence[Path]) -> list[Anchor]:
    """Checkpoints kept outside the workspace: an earlier export folder, a package file
    (its embedded checkpoint), or a checkpoint file (one JSON object, or JSON lines)."""
    anchors: list[Anchor] = []
    for path in map(Path, paths):
        if path.is_dir():
            if not is_export(path):
                raise UsageError(f"--anchor {path} is a folder but not an audit export")
            names = [n for n in (CHECKPOINTS, CHECKPOINT) if (path / n).is_file()]
            texts = [(f"{path / n}", (path / n).read_text(encoding="utf-8")) for n in names]
        else:
            try:
                zipsafe.require_regular_file(path, "--anchor")
                texts = [(f"{path}", _package_checkpoint(path) if zipfile.is_zipfile(path)
                          else path.read_text(encoding="utf-8"))]
            except (PackageRefused, OSError, UnicodeDecodeError) as exc:
                raise UsageError(f"--anchor {path}: cannot be read ({exc})") from exc
        for source, text in texts:
            anchors += [Anchor(source, cp) for cp in _parse_checkpoints(text, source)]
    return anchors


def _parse_checkpoints(text: str, source: str) -> list:
    try:
        doc = json.loads(text)
        docs = doc if isinstance(doc, list) else [doc]
    except ValueError:
        try:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError as exc:
            raise UsageError(f"--anchor {source}: not a checkpoint file ({exc})") from exc
    try:
        return [checkpoint_from_json(d) for d in docs]
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"--anchor {source}: not a checkpoint file (no {exc})") from exc


def _package_checkpoint(path: Path) -> str:
    """The checkpoint member of a package, read with the package caps (no signature check:
    the checkpoint's own signature is what the anchor rests on)."""
    limits = Limits()
    try:
        with zipsafe.open_package_file(path, limits) as fh:
            zf = zipfile.ZipFile(fh)
            entries = zipsafe.check_central_directory(zf, limits)
            if PACKAGE_CHECKPOINT not in entries:
                raise UsageError(f"--anchor {path}: the package holds no {PACKAGE_CHECKPOINT}")
            with zf.open(entries[PACKAGE_CHECKPOINT]) as member:
                return member.read(1 << 20).decode("utf-8")
    except (PackageRefused, zipfile.BadZipFile, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--anchor {path}: not a readable package ({exc})") from exc


def verify_export_folder(folder: Path, key_file: Path | Sequence[Path] | None = None,
                         anchor_files: Sequence[Path] = ()) -> VerifyReport:
    """Verify an export anywhere, without a workspace or a sign-in (auditors' machines);
    ``key_file`` is one pinned key or several (each workstation's), then the only accepted."""
    files = [] if key_file is None else [key_file] if isinstance(key_file, str | Path) \
        else list(key_file)
    pinned = [read_key_file(Path(f)) for f in files] or None
    if not is_export(folder):
        raise UsageError(f"{folder} is not an audit export (no manifest.json)")
    return verify_export(Path(folder), pinned, load_anchors(anchor_files))


def dated_export_folder(parent: Path, when: datetime) -> Path:
    """A new folder for one export inside ``parent`` (a USB stick, say), named by the local
    time, so a second export to the same stick never lands on the first."""
    base = parent / f"plantml-audit-{when:%Y%m%d-%H%M%S}"
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate
