"""Validation report dataclasses: metrics, importance, reference statistics; all JSON-ready."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from app.core.canonical import canonical_bytes, sha256_hex
from app.core.model_version import Robustness, ValidationEvidence

REPORT_VERSION = 2


@dataclass(frozen=True)
class ClassificationMetrics:
    """Accuracy, balanced accuracy, per-class F1 and the confusion matrix (rows: truth)."""

    classes: list[str]
    accuracy: float
    balanced_accuracy: float
    f1: dict[str, float]
    confusion: list[list[int]]


@dataclass(frozen=True)
class RegressionMetrics:
    """Mean absolute error, root mean squared error, coefficient of determination."""

    mae: float
    rmse: float
    r2: float


@dataclass(frozen=True)
class AnomalyMetrics:
    """Precision and recall of 'anomaly' at the decision threshold (score < threshold)."""

    threshold: float
    precision: float | None  # None when nothing was flagged
    recall: float | None  # None when the test set holds no labelled anomaly
    n_flagged: int
    n_anomalies: int


@dataclass(frozen=True)
class Importance:
    """Permutation importance on the test set: mean and std drop of the score per feature."""

    scoring: str
    n_repeats: int
    mean: dict[str, float]
    std: dict[str, float]


@dataclass(frozen=True)
class FeatureReference:
    """Training distribution of one feature, for drift (PSI, KS) on the controller later."""

    name: str
    mean: float
    std: float
    min: float
    max: float
    quantiles: list[float]  # bin edges at 0, 10, ..., 100 %
    fractions: list[float]  # training fraction in each bin (sums to 1)


@dataclass(frozen=True)
class ValidationReport:
    """Everything 'evaluate' measured; to_dict() is what gets stored with the model."""

    task: str
    model: str
    recipe: dict[str, Any]
    feature_spec_hash: str
    n_train: int
    n_test: int
    metrics: ClassificationMetrics | RegressionMetrics | AnomalyMetrics
    importance: Importance
    reference: list[FeatureReference]
    model_card: str = ""
    version: int = field(default=REPORT_VERSION)
    # Per class (classification: class names; anomaly: "normal", "anomaly"; regression:
    # "all"): references of every feature and then of the monitored statistics.
    class_reference: dict[str, list[FeatureReference]] = field(default_factory=dict)
    monitored: list[str] = field(default_factory=list)  # <channel>.level, after the features
    validity: dict[str, Any] | None = None  # ValidityLimits.to_dict(): the input checks
    envelope: dict[str, Any] = field(default_factory=dict)  # operating envelope of training
    robustness: dict[str, Any] | None = None  # RobustnessReport.to_dict()
    n_excluded: int = 0  # windows of the split left out as invalid input
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # unit, scale per channel

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    def report_hash(self) -> str:
        """SHA-256 of the canonical JSON (equal for a reproduced training)."""
        return sha256_hex(canonical_bytes(self.to_dict()))


# Plain-text views of a stored report (the CLI prints them, the GUI may show them as they
# are): tables with aligned columns, never raw JSON.

def _fmt(value: float | None, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)


def _numeric(cell: str) -> bool:
    try:
        float(cell.rstrip("%"))
    except ValueError:
        return cell == "-"
    return True


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Columns of numbers right-aligned, of words left-aligned, two spaces apart."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    right = [bool(rows) and all(_numeric(str(r[i])) for r in rows) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(str(c).rjust(w) if r else str(c).ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()
    return [line(header), *[line(r) for r in rows]]


def verdict_line(rob: Robustness | None) -> str:
    """ROBUST or NOT ROBUST with the reasons, or that robustness was not measured."""
    if rob is None:
        return "Robustness: not measured (a version trained before the robustness table)"
    if rob.robust:
        return (f"Robustness: robust (no check or held-out condition more than "
                f"{_fmt(rob.max_drop, '.1%')} below the held-out {rob.metric} of "
                f"{_fmt(rob.baseline)})")
    return "Robustness: NOT ROBUST: " + "; ".join(rob.reasons)


def robustness_lines(rob: Robustness | None) -> list[str]:
    """The verdict, the robustness table and the leave-one-condition-out results."""
    lines = [verdict_line(rob)]
    if rob is None:
        return lines
    rows = [(c.name, str(c.n), "-" if c.expect == "invalid" else _fmt(c.score),
             _fmt(c.invalid_share, ".1%"), c.expect, "ok" if c.passed else "FAILED")
            for c in rob.checks]
    lines += _table(("check (exported model, onnxruntime)", "windows", rob.metric, "invalid",
                     "expected", "result"), rows)
    if rob.conditions:
        lines.append(f"Leave one condition out (own held-out score "
                     f"{_fmt(rob.condition_baseline)}):")
        lines += _table(("held-out condition", "trained on", "tested on", "score",
                         "invalid", "result"),
                        [(c.condition, str(c.n_train), str(c.n_test), _fmt(c.score),
                          _fmt(c.invalid_share, ".1%"), "ok" if c.passed else "FAILED")
                         for c in rob.conditions])
    else:
        lines.append("Leave one condition out: not run (the recordings carry one condition "
                     "or none)")
    return lines


def input_lines(v: ValidationEvidence) -> list[str]:
    """Each input channel's unit and scale, and the operating envelope seen in training."""
    lines = [f"Input {c.channel}: unit {c.unit or '(not recorded)'}, scale "
             f"{c.scale or '(not recorded)'}" for c in v.inputs] or [
        "Input: unit and scale not recorded"]
    env = v.envelope
    for ch, rng in (env.get("channels") or {}).items():
        if isinstance(rng, dict):
            lines.append(f"Envelope {ch}: level {_fmt(rng.get('level_min'), '.4g')} .. "
                         f"{_fmt(rng.get('level_max'), '.4g')}")
    speed = env.get("speed_rpm")
    if isinstance(speed, list) and len(speed) == 2:
        lines.append(f"Envelope shaft speed: {_fmt(speed[0], '.6g')} .. "
                     f"{_fmt(speed[1], '.6g')} rpm ({env.get('speed_source', '')})")
    conds = env.get("conditions") or []
    lines.append("Envelope conditions: " + (", ".join(map(str, conds)) if conds else
                                            "not recorded (one operating condition assumed)"))
    return lines


def label_lines(v: ValidationEvidence) -> list[str]:
    """The label rule training applied and the windows per class it gave."""
    use = v.labels
    if use is None:
        return ["Labels: rule not recorded (a version trained before it was stated; windows "
                "across a time-range edge then took the recording's label)"]
    lines = [f"Labels: {use.rule}", f"Split: {use.split}."]
    if use.classes:
        lines.append("Windows per class (training / held out): " + ", ".join(
            f"{name} {train} / {test}" for name, train, test in use.classes))
    lines.append(f"{use.from_ranges} windows took a time-range label; {use.left_out} across "
                 "a range edge were left out")
    return lines


def evidence_lines(v: ValidationEvidence) -> list[str]:
    """The validation report in words: sizes, headline metrics, robustness, inputs, labels."""
    lines = [f"Validation: {v.task} with {v.model}, {v.n_train} training and {v.n_test} "
             f"held-out windows ({v.n_excluded} invalid-input windows left out)"]
    for key in ("accuracy", "balanced_accuracy", "mae", "rmse", "r2", "precision", "recall"):
        value = v.metrics.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            lines.append(f"  {key.replace('_', ' ')}: {value:.4f}")
    f1 = v.metrics.get("f1")
    if isinstance(f1, dict) and f1:
        worst = min(f1, key=lambda k: f1[k])
        lines.append(f"  lowest F1: {worst} ({_fmt(_num(f1[worst]))})")
    return lines + robustness_lines(v.robustness) + input_lines(v) + label_lines(v)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None
