"""Package use cases: build signed packages, verify them, carry them by USB stick."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from app.core.errors import Conflict, PlantMLError, UsageError
from app.core.lifecycle import State
from app.core.model_version import ImportOrigin, ModelVersion, ParityResult, Release
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.roles import Action
from app.packages import (
    ExportResult,
    RemovableDrive,
    VerifiedPackage,
    accept_package,
    build_package,
    export_package,
    import_package,
    list_removable_drives,
    package_filename,
    unpack_to_staging,
    verify_package,
)
from app.registry.sql_store import SqlRegistryStore
from app.services.base import ServiceContext
from app.services.trust import load_trust, save_trust


@dataclass(frozen=True)
class PackageSummary:
    """What verification established about a package file."""

    path: Path
    model: str
    version: int
    release_counter: int
    signers: tuple[str, ...]
    expires_at: str
    package_sha256: str


class PackageService:
    """Every package operation checks the role and is audited, refusals included."""

    def __init__(self, ctx: ServiceContext, home: Path) -> None:
        self.ctx = ctx
        self.staging_root = home / "staging"

    def build(self, principal: Principal, *, ref: str, out_dir: Path) -> Path:
        """Write the package of ``ref`` into ``out_dir``: approved versions carry both
        signatures; an engineer may build a draft package of a proposed version."""
        with self.ctx.db.reader() as s:
            version = SqlRegistryStore(s).version(ref)
        name = package_filename(version.line, version.version, version.release_counter or 0)
        draft = version.state != State.APPROVED.value
        action = Action.PACKAGE_BUILD_DRAFT if draft else Action.PACKAGE_EXPORT
        role = self.ctx.authorize(principal, action, f"model:{ref}")
        if version.release is None:
            raise UsageError(f"{ref} has not been proposed for release, so it has no package")
        release = dict(version.release.body)
        files = {n: self.ctx.blobs.read_bytes(d) for n, d in version.artifacts.items()
                 if n in version.release.files}
        # The checkpoint captured at the proposal, stored then as a blob.
        files["audit_checkpoint.json"] = self.ctx.blobs.read_bytes(
            version.release.files["audit_checkpoint.json"]["sha256"])
        out = Path(out_dir) / (name.replace(".plantml", "-DRAFT.plantml") if draft else name)
        try:
            path = build_package(out, release, [dict(x) for x in version.release.signatures],
                                 files)
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "package.build", f"model:{ref}",
                                   result="refused", reason=str(exc))
            raise
        self.ctx.audit_outcome(principal, role.value, "package.build", f"model:{ref}",
                               result="ok", new={"file": str(path), "draft": draft,
                                                 "release_counter": release["release_counter"]})
        return path

    def verify(self, principal: Principal, *, path: Path,
               hardware_id: str | None = None) -> PackageSummary:
        """Verify a package file against this workstation's trust store (read-only)."""
        role = self.ctx.authorize(principal, Action.MODEL_READ, str(path))
        trust = self.ctx.checked_read(load_trust, ("trust",))
        try:
            pkg = verify_package(Path(path), trust, clock=self.ctx.clock,
                                 hardware_id=hardware_id, enforce_counter=False)
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "package.verify", str(path),
                                   result="refused", reason=str(exc))
            raise
        return _summary(pkg)

    def drives(self) -> list[RemovableDrive]:
        """Removable drives connected now."""
        return list_removable_drives()

    def export_to_drive(self, principal: Principal, *, ref: str, drive_folder: Path,
                        progress: ProgressFn = no_progress,
                        cancel: CancelToken = NEVER_CANCELLED) -> ExportResult:
        """Build the approved package and write it to a stick, read back and verified."""
        role = self.ctx.authorize(principal, Action.PACKAGE_EXPORT, f"model:{ref}")
        info = self._approved(ref)
        with tempfile.TemporaryDirectory(dir=self.ctx.blobs.root) as tmp:
            progress(0.05, "building the package")
            built = self.build(principal, ref=info.ref, out_dir=Path(tmp))
            trust = self.ctx.checked_read(load_trust, ("trust",))
            try:
                result = export_package(built, Path(drive_folder), trust, clock=self.ctx.clock,
                                        progress=progress, cancel=cancel)
            except PlantMLError as exc:
                self.ctx.audit_outcome(principal, role.value, "package.export", f"model:{ref}",
                                       result="failed", reason=str(exc))
                raise
        self.ctx.audit_outcome(principal, role.value, "package.export", f"model:{ref}",
                               result="ok", new={"file": str(result.path),
                                                 "sha256": result.sha256,
                                                 "safe_to_remove": True})
        return result

    def import_from_drive(self, principal: Principal, *, path: Path,
                          progress: ProgressFn = no_progress,
                          cancel: CancelToken = NEVER_CANCELLED) -> ModelVersion:
        """Verify a package from a stick, then register the version with its lineage; the
        trusted release counter moves in the same transaction."""
        role = self.ctx.authorize(principal, Action.PACKAGE_IMPORT, str(path))
        trust = self.ctx.checked_read(load_trust, ("trust",))
        self.staging_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="import-", dir=self.staging_root))
        try:
            try:
                pkg = import_package(Path(path), trust, local_dir=work, clock=self.ctx.clock,
                                     progress=progress, cancel=cancel)
                files = unpack_to_staging(pkg, work / "staging")
            except PlantMLError as exc:
                self.ctx.audit_outcome(principal, role.value, "package.import", str(path),
                                       result="refused", reason=str(exc))
                raise
            artifacts = {n: self.ctx.blobs.put_bytes(p.read_bytes()) for n, p in files.items()}
            return self.ctx.write(lambda s: self._register(s, principal, role.value, pkg,
                                                           artifacts, str(path)))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _register(self, s: Session, principal: Principal, role: str, pkg: VerifiedPackage,
                  artifacts: dict[str, str], source: str) -> ModelVersion:
        body = pkg.body
        lineage = body["lineage"]
        now = self.ctx.clock.now().isoformat()
        store = SqlRegistryStore(s)
        line = store.ensure_line(body["model_name"], lineage.get("kind", "classifier"),
                                 now=now, user=principal.username)
        existing = store.find_version(line.name, body["model_version"])
        if existing is not None:
            raise Conflict(f"{line.name}:v{body['model_version']} already exists here "
                           f"({existing.state}); nothing was imported")
        version = store.add_version(ModelVersion(
            line=line.name, version=body["model_version"], kind=line.kind,
            dataset_id=body["dataset_hash"], feature_spec=body["feature_spec"],
            recipe=lineage.get("recipe", {}), metrics=lineage.get("metrics", {}),
            lineage=lineage, artifacts=artifacts, parity=ParityResult(passed=True),
            imported=ImportOrigin(package_id=body["package_id"], source=source,
                                  package_sha256=pkg.package_sha256),
            state=State.APPROVED.value, created_at=now, created_by=principal.username,
            proposed_by=next(x["user"] for x in pkg.signatures if x["role"] == "engineer"),
            release=Release(body=body, signatures=tuple(pkg.signatures)),
            release_counter=body["release_counter"]))
        store.raise_release_counter(line.name, body["release_counter"])
        trust = load_trust(s)
        accept_package(trust, pkg)
        save_trust(s, trust)
        s.flush()
        self.ctx.trail.append(
            s, user=principal.username, role=role, action="package.import",
            obj=f"model:{version.ref}",
            new={"package_id": body["package_id"], "package_sha256": pkg.package_sha256,
                 "release_counter": body["release_counter"],
                 "signers": [f"{x['role']}:{x['user']}:{x['key_id']}" for x in pkg.signatures],
                 "source": source})
        return version

    def _approved(self, ref: str) -> ModelVersion:
        with self.ctx.db.reader() as s:
            version = SqlRegistryStore(s).version(ref)
        if version.state != State.APPROVED.value:
            raise UsageError(f"{ref} is {version.state}: only approved versions go on a stick")
        return version


def _summary(pkg: VerifiedPackage) -> PackageSummary:
    return PackageSummary(path=pkg.path, model=pkg.model_name, version=pkg.model_version,
                          release_counter=pkg.release_counter,
                          signers=tuple(f"{x['role']}:{x['user']}" for x in pkg.signatures),
                          expires_at=pkg.body["expires_at"],
                          package_sha256=pkg.package_sha256)
