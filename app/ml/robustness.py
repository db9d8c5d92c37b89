"""Robustness evidence: the exported model on perturbed held-out windows; held-out conditions."""

# What a plant does to a model's input that a held-out accuracy does not try: a sensor of
# half or twice the sensitivity, more noise, windows that do not start on the training
# grid, a dead or disconnected sensor, a NaN from a broken link, a saturated amplifier.
# The table runs the exported ONNX model in onnxruntime, as the controller would.  Where
# the recordings carry a condition (load, speed, machine, day), every condition is held
# out in turn: trained on the others, tested on it.

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.features.validity import describe
from app.ml.checks import session
from app.ml.dataset import WindowSet
from app.ml.export import ExportedModel
from app.ml.trainer import INVALID_LABEL, TrainedModel, encode_targets, refit_on

_BATCH = 256
_N_BAD = 64  # held-out windows turned into each kind of bad input


@dataclass(frozen=True)
class RobustnessRow:
    """One perturbation: how the exported model did on the held-out windows so changed.

    ``score`` is the accuracy against the labels (classification), or for other tasks the
    share of windows whose output stays with the unperturbed one (an invalid verdict
    counts as wrong).  ``expect`` is "valid" (the model must still be right), "invalid"
    (every window must be reported as invalid input) or "either" (informative only).
    """

    name: str
    n: int
    score: float
    invalid_share: float
    expect: str
    passed: bool
    reasons: str = ""  # the reason bits seen, in words


@dataclass(frozen=True)
class ConditionResult:
    """A held-out condition: trained on the other conditions, tested on this one."""

    condition: str
    n_train: int
    n_test: int
    score: float
    invalid_share: float
    passed: bool


@dataclass(frozen=True)
class RobustnessReport:
    """The table, the held-out conditions and the verdict (a version is "not robust" when
    any perturbation or condition costs more than max_drop of the baseline score)."""

    metric: str
    baseline: float
    max_drop: float
    rows: list[RobustnessRow]
    conditions: list[ConditionResult] = field(default_factory=list)
    condition_baseline: float | None = None  # held-out score by the conditions' measure
    robust: bool = True
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _run(sess, windows: np.ndarray) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for a in range(0, len(windows), _BATCH):
        out = sess.run(None, {"window": windows[a:a + _BATCH].astype(np.float32)})
        for n, v in zip(names, out, strict=True):
            parts[n].append(v)
    return {n: np.concatenate(v) for n, v in parts.items()}


def _vibration(model: TrainedModel) -> np.ndarray:
    kinds = model.validity.kinds
    return np.array([k != "speed" for k in kinds])


def _offset_windows(model: TrainedModel, data: WindowSet, rng: np.random.Generator
                    ) -> np.ndarray:
    """Each held-out window moved later by a random 1..hop-1 samples (never back towards
    the training part), so no window starts on the grid the model was trained on."""
    spec = model.spec
    out = np.empty((len(model.test_idx), len(spec.channels), spec.window))
    shift = rng.integers(1, max(2, spec.hop), size=len(model.test_idx))
    for k, i in enumerate(model.test_idx):
        sig = data.signals[str(data.recording_ids[i])]
        s = min(int(data.starts[i]) + int(shift[k]), sig.shape[1] - spec.window)
        out[k] = sig[:, s:s + spec.window]
    return np.where(np.isfinite(out), out, 0.0)


def _noisy(raw: np.ndarray, vib: np.ndarray, snr_db: float, rng: np.random.Generator
           ) -> np.ndarray:
    """White noise on the vibration channels at snr_db below each window's AC power."""
    power = raw.var(axis=2, keepdims=True) / 10.0 ** (snr_db / 10.0)
    noise = rng.standard_normal(raw.shape) * np.sqrt(power)
    return raw + noise * vib[None, :, None]


def _bad_inputs(raw: np.ndarray, vib: np.ndarray, rng: np.random.Generator
                ) -> dict[str, np.ndarray]:
    """Dead, stuck, NaN and clipped copies of a sample of held-out windows."""
    pick = raw[rng.choice(len(raw), size=min(_N_BAD, len(raw)), replace=False)]
    dead = pick.copy()
    dead[:, vib] = 0.0
    stuck = pick.copy()
    stuck[:, vib] = pick[:, vib, :1]
    nan = pick.copy()
    first = int(np.flatnonzero(vib)[0])
    nan[np.arange(len(pick)), first, rng.integers(0, pick.shape[2], len(pick))] = np.nan
    clipped = pick.copy()
    rail = np.quantile(np.abs(pick[:, vib]), 0.95, axis=2, keepdims=True)
    clipped[:, vib] = np.clip(pick[:, vib], -rail, rail)
    return {"dead sensor (zeros)": dead, "stuck sensor (constant)": stuck,
            "one NaN sample": nan, "clipped at the 95th percentile": clipped}


def _score(model: TrainedModel, out: dict[str, np.ndarray], truth: np.ndarray | None,
           reference: dict[str, np.ndarray] | None) -> float:
    ok = out["input_ok"]
    if model.task == "classification":
        return float(np.mean((out["label"] == truth) & ok))
    if reference is None:  # the unperturbed run itself
        return float(np.mean(ok))
    if model.task == "anomaly":
        return float(np.mean((out["label"] == reference["label"]) & ok))
    ref = reference["value"][:, 0]
    spread = float(np.subtract(*np.percentile(ref, [95, 5]))) or 1.0
    return float(np.mean((np.abs(out["value"][:, 0] - ref) <= 0.1 * spread) & ok))


def robustness_table(model: TrainedModel, exported: ExportedModel, data: WindowSet, *,
                     cancel: CancelToken = NEVER_CANCELLED) -> tuple[float, list[RobustnessRow]]:
    """Baseline score and the table rows, through onnxruntime on the exported model."""
    recipe = model.recipe
    rng = np.random.default_rng(recipe.seed)
    sess = session(exported.onnx_bytes)
    raw = data.raw(model.test_idx)  # valid windows: training left the others out
    truth = encode_targets(model.task, data.labels)[0][model.test_idx] if \
        model.task == "classification" else None
    vib = _vibration(model)
    base_out = _run(sess, raw)
    baseline = _score(model, base_out, truth, None)
    reference = base_out if model.task != "classification" else None
    gain = np.where(vib, 1.0, 0.0)[None, :, None]
    rows = []
    cases = [("as recorded", raw, "valid"),
             ("gain x0.5", raw * (1 - 0.5 * gain), "valid"),
             ("gain x2", raw * (1 + gain), "valid"),
             (f"white noise at {recipe.noise_snr_db:g} dB SNR",
              _noisy(raw, vib, recipe.noise_snr_db, rng), "valid"),
             ("random window offsets", _offset_windows(model, data, rng), "valid"),
             ("g read as m/s^2 (x9.81)", raw * (1 + 8.81 * gain), "either")]
    for name, windows, expect in cases:
        cancel.raise_if_cancelled()
        out = base_out if name == "as recorded" else _run(sess, windows)
        score = _score(model, out, truth, reference)
        rows.append(RobustnessRow(
            name=name, n=len(windows), score=score,
            invalid_share=float(np.mean(~out["input_ok"])), expect=expect,
            passed=expect == "either" or score >= baseline - recipe.robust_max_drop,
            reasons=_seen(out)))
    for name, windows in _bad_inputs(raw, vib, rng).items():
        out = _run(sess, windows)
        invalid = ~out["input_ok"]
        as_class = model.task != "regression" and bool(np.any(
            out["label"][invalid] != INVALID_LABEL))
        rows.append(RobustnessRow(name=name, n=len(windows), score=0.0,
                                  invalid_share=float(invalid.mean()), expect="invalid",
                                  passed=bool(invalid.all()) and not as_class,
                                  reasons=_seen(out)))
    return baseline, rows


def _seen(out: dict[str, np.ndarray]) -> str:
    bits = int(np.bitwise_or.reduce(out["input_reason"])) if len(out["input_reason"]) else 0
    return describe(bits)


def _fold_score(model: TrainedModel, result: dict[str, np.ndarray], y: np.ndarray) -> float:
    """Accuracy (classification, anomaly with labels) or R squared (regression)."""
    ok = result["input_ok"]
    if model.task == "regression":
        from sklearn.metrics import r2_score

        return float(r2_score(y[ok], result["value"][ok, 0])) if ok.sum() > 1 else 0.0
    return float(np.mean((result["label"] == y) & ok))


def leave_one_condition_out(model: TrainedModel, data: WindowSet, *,
                            progress: ProgressFn = no_progress,
                            cancel: CancelToken = NEVER_CANCELLED
                            ) -> tuple[float, list[ConditionResult]]:
    """Train on every condition but one and test on it, for each condition (>= 2 needed).

    Returns the model's own held-out score by the same measure (accuracy, or R squared
    for regression) and one result per condition.  The Python pipeline (native features,
    the same estimator and input checks, limits from the training conditions) stands in
    for the exported model here; the parity gate shows the two agree.
    """
    conds = sorted({str(c) for c in data.conditions if str(c)})
    if len(conds) < 2:
        return float("nan"), []
    y, _ = encode_targets(model.task, data.labels)
    own = _fold_score(model, model.run_windows(data.raw(model.test_idx)), y[model.test_idx])
    out = []
    for k, cond in enumerate(conds):
        cancel.raise_if_cancelled()
        progress(k / len(conds), f"holding out condition {cond}")
        train_idx = np.flatnonzero((data.conditions != cond) & data.valid)
        test_idx = np.flatnonzero((data.conditions == cond) & data.valid)
        fold = refit_on(model, data, train_idx, cancel=cancel)
        result = fold.run_windows(data.raw(test_idx))
        out.append(ConditionResult(condition=cond, n_train=len(train_idx),
                                   n_test=len(test_idx),
                                   score=_fold_score(model, result, y[test_idx]),
                                   invalid_share=float(np.mean(~result["input_ok"])),
                                   passed=True))
    return own, out


def robustness_report(model: TrainedModel, exported: ExportedModel, data: WindowSet, *,
                      progress: ProgressFn = no_progress,
                      cancel: CancelToken = NEVER_CANCELLED) -> RobustnessReport:
    """The whole evidence and the verdict, with readable reasons for "not robust"."""
    progress(0.0, "robustness table through onnxruntime")
    baseline, rows = robustness_table(model, exported, data, cancel=cancel)
    own, conditions = leave_one_condition_out(model, data, progress=lambda f, m: progress(
        0.3 + 0.7 * f, m), cancel=cancel)
    drop = model.recipe.robust_max_drop
    conditions = [ConditionResult(**{**asdict(c), "passed": c.score >= own - drop})
                  for c in conditions]
    reasons = []
    for r in rows:
        if r.passed:
            continue
        if r.expect == "invalid":
            reasons.append(f"{r.name}: only {r.invalid_share:.1%} reported as invalid input")
        else:
            reasons.append(f"{r.name}: {r.score:.2%} against {baseline:.2%} held out")
    reasons += [f"condition {c.condition} held out: {c.score:.4g} against {own:.4g} on the "
                "model's own held-out windows" for c in conditions if not c.passed]
    metric = "accuracy" if model.task == "classification" else "agreement"
    progress(1.0, "robustness done")
    return RobustnessReport(metric=metric, baseline=baseline, max_drop=drop, rows=rows,
                            conditions=conditions,
                            condition_baseline=own if conditions else None,
                            robust=not reasons, reasons=reasons)
