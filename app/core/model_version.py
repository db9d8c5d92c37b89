"""The model version as one typed object, and its signed record (the JSON signatures bind)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.records import Signature

#: Lineage entries that identify inputs rather than name a library (older records keep the
#: library versions as plain lineage entries beside these).
LINEAGE_IDS = ("dataset_hash", "feature_spec_hash", "recipe_hash", "model_hash", "onnx_hash",
               "record_hash", "kind")


def _sorted(data: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order the stored JSON has them (sorted), so a record reads as it did."""
    return dict(sorted(data.items()))


@dataclass(frozen=True)
class ParityResult:
    """The parity gate's verdict as the record keeps it."""

    passed: bool
    blocked_reason: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The ``parity`` entry of the stored record."""
        return _sorted({**copy.deepcopy(dict(self.extra)), "passed": self.passed,
                        "blocked_reason": self.blocked_reason})

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ParityResult:
        """Inverse of :meth:`to_record`."""
        rest = {k: v for k, v in data.items() if k not in ("passed", "blocked_reason")}
        return cls(passed=data["passed"], blocked_reason=data["blocked_reason"],
                   extra=copy.deepcopy(rest))


@dataclass(frozen=True)
class ImportOrigin:
    """Where an imported version came from: the verified package and the file it was in."""

    package_id: str
    source: str
    package_sha256: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The ``imported`` entry of the stored record."""
        return _sorted({**copy.deepcopy(dict(self.extra)), "package_id": self.package_id,
                        "source": self.source, "package_sha256": self.package_sha256})

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> ImportOrigin:
        """Inverse of :meth:`to_record`."""
        known = ("package_id", "source", "package_sha256")
        return cls(package_id=data["package_id"], source=data["source"],
                   package_sha256=data["package_sha256"],
                   extra=copy.deepcopy({k: v for k, v in data.items() if k not in known}))


@dataclass(frozen=True)
class Release:
    """A proposed version's release (package manifest) body and the signatures over it."""

    body: Mapping[str, Any]
    signatures: tuple[Mapping[str, Any], ...] = ()

    @property
    def files(self) -> Mapping[str, Any]:
        """File name -> {sha256, length} the package declares."""
        return self.body["files"]


@dataclass(frozen=True, kw_only=True)
class ModelVersion:
    """One model version as the registry keeps it.

    The fields from ``line`` to ``imported`` (and ``extra``, keys this code does not know)
    are the signed record: :meth:`to_record` gives exactly the JSON that was stored and
    hashed, :meth:`from_record` reads it back. The rest is registry state around it.
    """

    line: str
    version: int
    kind: str
    dataset_id: str
    feature_spec: Mapping[str, Any]
    recipe: Mapping[str, Any]
    metrics: Mapping[str, Any]
    lineage: Mapping[str, Any]
    artifacts: Mapping[str, str]
    parity: ParityResult
    imported: ImportOrigin | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    state: str = "draft"
    created_at: str = ""
    created_by: str = ""
    record_hash: str = ""
    proposed_by: str | None = None
    release_counter: int | None = None
    release: Release | None = None
    aliases: tuple[str, ...] = ()
    signatures: tuple[Signature, ...] = ()

    @property
    def ref(self) -> str:
        """``line:vN``, how the CLI and the audit trail name a version."""
        return f"{self.line}:v{self.version}"

    @property
    def library_versions(self) -> Mapping[str, Any]:
        """The library versions recorded with the version (trained here or imported)."""
        for key in ("libraries", "library_versions"):
            if isinstance(self.lineage.get(key), dict):
                return self.lineage[key]
        if isinstance(self.extra.get("library_versions"), dict):
            return self.extra["library_versions"]
        # Older records keep library versions as plain lineage entries.
        return {k: v for k, v in self.lineage.items()
                if isinstance(v, str) and k not in LINEAGE_IDS}

    def to_record(self) -> dict[str, Any]:
        """The signed record as plain JSON-ready data (a copy)."""
        out = copy.deepcopy(dict(self.extra))
        out.update(copy.deepcopy({
            "line": self.line, "version": self.version, "kind": self.kind,
            "dataset_id": self.dataset_id, "feature_spec": dict(self.feature_spec),
            "recipe": dict(self.recipe), "metrics": dict(self.metrics),
            "lineage": dict(self.lineage), "artifacts": dict(self.artifacts)}))
        out["parity"] = self.parity.to_record()
        if self.imported is not None:
            out["imported"] = self.imported.to_record()
        return _sorted(out)

    @classmethod
    def from_record(cls, record: Mapping[str, Any], **registry: Any) -> ModelVersion:
        """The version whose signed record is ``record``; ``registry`` gives the other
        fields (state, created_at, record_hash, ...). Raises KeyError for a record that
        lacks a required entry."""
        data = copy.deepcopy(dict(record))
        # Only a mapping is an import origin; anything else stays as stored, in ``extra``.
        imported = data.pop("imported") if isinstance(data.get("imported"), dict) else None
        return cls(line=data.pop("line"), version=data.pop("version"), kind=data.pop("kind"),
                   dataset_id=data.pop("dataset_id"), feature_spec=data.pop("feature_spec"),
                   recipe=data.pop("recipe"), metrics=data.pop("metrics"),
                   lineage=data.pop("lineage"), artifacts=data.pop("artifacts"),
                   parity=ParityResult.from_record(data.pop("parity")),
                   imported=None if imported is None else ImportOrigin.from_record(imported),
                   extra=data, **registry)
