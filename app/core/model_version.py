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

    def artifact_digest(self, name: str) -> str | None:
        """The SHA-256 of the stored artifact ``name`` (e.g. VALIDATION_REPORT), None if the
        version has none."""
        digest = self.artifacts.get(name)
        return digest if isinstance(digest, str) else None

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


# Typed views of a version's stored reports. The registry keeps the reports as artifacts
# (JSON blobs named in ``ModelVersion.artifacts``); front ends read them through these, so
# no page or command digs through report dicts, and a report written by an older PlantML
# (without robustness, inputs or labels) reads as "not recorded" rather than failing.

VALIDATION_REPORT = "validation_report.json"
PARITY_REPORT = "parity_report.json"
MODEL_CARD = "model_card.md"


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _map(value: Any) -> Mapping[str, Any]:
    return copy.deepcopy(value) if isinstance(value, dict) else {}


def _rows(value: Any) -> list[Mapping[str, Any]]:
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


@dataclass(frozen=True)
class RobustnessCheck:
    """One row of the robustness table: the exported model on perturbed held-out windows.

    ``expect``: "valid" (must still be right), "invalid" (every window must be reported as
    invalid input) or "either" (informative only).
    """

    name: str
    n: int
    score: float | None
    invalid_share: float | None
    expect: str
    passed: bool
    reasons: str = ""


@dataclass(frozen=True)
class HeldOutCondition:
    """Leave one condition out: trained on the other conditions, tested on this one."""

    condition: str
    n_train: int
    n_test: int
    score: float | None
    invalid_share: float | None
    passed: bool


@dataclass(frozen=True)
class Robustness:
    """The robustness evidence of a version and its verdict ("not robust" when any check or
    held-out condition costs more than ``max_drop`` of the held-out score)."""

    metric: str
    baseline: float | None
    max_drop: float | None
    checks: tuple[RobustnessCheck, ...]
    conditions: tuple[HeldOutCondition, ...]
    condition_baseline: float | None
    robust: bool
    reasons: tuple[str, ...]

    @classmethod
    def from_report(cls, data: Any) -> Robustness | None:
        """The ``robustness`` entry of a validation report; None when it was not measured."""
        if not isinstance(data, dict):
            return None
        checks = tuple(RobustnessCheck(
            name=str(r.get("name", "")), n=_int(r.get("n")), score=_float(r.get("score")),
            invalid_share=_float(r.get("invalid_share")), expect=str(r.get("expect", "")),
            passed=bool(r.get("passed")), reasons=str(r.get("reasons") or ""))
            for r in _rows(data.get("rows")))
        conditions = tuple(HeldOutCondition(
            condition=str(c.get("condition", "")), n_train=_int(c.get("n_train")),
            n_test=_int(c.get("n_test")), score=_float(c.get("score")),
            invalid_share=_float(c.get("invalid_share")), passed=bool(c.get("passed")))
            for c in _rows(data.get("conditions")))
        return cls(metric=str(data.get("metric", "accuracy")),
                   baseline=_float(data.get("baseline")),
                   max_drop=_float(data.get("max_drop")), checks=checks,
                   conditions=conditions,
                   condition_baseline=_float(data.get("condition_baseline")),
                   robust=bool(data.get("robust")),
                   reasons=tuple(str(r) for r in data.get("reasons") or ()))


@dataclass(frozen=True)
class ChannelInput:
    """A model input channel: its physical unit and scale as the data recorded them."""

    channel: str
    unit: str = ""
    scale: str = ""


@dataclass(frozen=True)
class LabelUse:
    """How training turned the dataset's labels into windows (the label rule and counts)."""

    rule: str
    split: str
    classes: tuple[tuple[str, int, int], ...]  # label, training windows, held-out windows
    from_ranges: int
    left_out: int

    @classmethod
    def from_report(cls, data: Any) -> LabelUse | None:
        """The ``labels`` entry of a validation report; None for older reports."""
        if not isinstance(data, dict) or not data.get("rule"):
            return None
        classes = tuple((str(c.get("label", "")), _int(c.get("train")), _int(c.get("test")))
                        for c in _rows(data.get("classes")))
        return cls(rule=str(data["rule"]), split=str(data.get("split", "")), classes=classes,
                   from_ranges=_int(data.get("from_ranges")),
                   left_out=_int(data.get("left_out")))


@dataclass(frozen=True)
class ValidationEvidence:
    """A version's validation report as the approver and the Models page read it."""

    report_version: int
    task: str
    model: str
    n_train: int
    n_test: int
    n_excluded: int
    metrics: Mapping[str, Any]
    robustness: Robustness | None
    inputs: tuple[ChannelInput, ...]
    envelope: Mapping[str, Any]
    validity: Mapping[str, Any]
    labels: LabelUse | None

    @property
    def not_robust(self) -> bool:
        """True when robustness was measured and the version failed it."""
        return self.robustness is not None and not self.robustness.robust

    @classmethod
    def from_report(cls, data: Any) -> ValidationEvidence:
        """Read a stored validation report (any version; missing parts read as empty)."""
        data = data if isinstance(data, dict) else {}
        inputs = tuple(ChannelInput(str(ch), str((v or {}).get("unit") or ""),
                                    str((v or {}).get("scale") or ""))
                       for ch, v in _map(data.get("inputs")).items())
        return cls(report_version=_int(data.get("version")) or 1,
                   task=str(data.get("task", "")), model=str(data.get("model", "")),
                   n_train=_int(data.get("n_train")), n_test=_int(data.get("n_test")),
                   n_excluded=_int(data.get("n_excluded")), metrics=_map(data.get("metrics")),
                   robustness=Robustness.from_report(data.get("robustness")), inputs=inputs,
                   envelope=_map(data.get("envelope")), validity=_map(data.get("validity")),
                   labels=LabelUse.from_report(data.get("labels")))


@dataclass(frozen=True)
class ParityEvidence:
    """What the parity gate measured, from a version's parity report."""

    deployable: bool
    reasons: tuple[str, ...]
    n_windows: int
    label_agreement: float | None
    score_max_abs_err: float | None
    feature_max_rel_err: float | None
    golden_bad: int
    golden_bad_flagged: int

    @classmethod
    def from_report(cls, data: Any) -> ParityEvidence:
        """Read a stored parity report (missing parts read as empty)."""
        data = data if isinstance(data, dict) else {}
        return cls(deployable=bool(data.get("deployable", data.get("passed"))),
                   reasons=tuple(str(r) for r in data.get("reasons") or ()),
                   n_windows=_int(data.get("n_windows")),
                   label_agreement=_float(data.get("label_agreement")),
                   score_max_abs_err=_float(data.get("score_max_abs_err")),
                   feature_max_rel_err=_float(data.get("feature_max_rel_err")),
                   golden_bad=_int(data.get("golden_bad")),
                   golden_bad_flagged=_int(data.get("golden_bad_flagged")))
