"""Parity gate: the exported model in onnxruntime against the Python pipeline, and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import onnx

from app.core.errors import IntegrityError, UsageError
from app.core.progress import NEVER_CANCELLED, CancelToken
from app.features.compare import compare_features
from app.features.onnx_graph import OUTPUT_NAME
from app.features.validity import near_threshold
from app.features.validity_graph import OK_NAME, REASON_NAME
from app.ml.checks import check_model, session
from app.ml.export import ExportedModel
from app.ml.models import family
from app.ml.thresholds import tree_probes
from app.ml.trainer import INVALID_LABEL, TrainedModel

# Score tolerances per family: trees and linear models only differ by float32
# rounding of the same arithmetic; an MLP chains more of it.  A tree score may
# legitimately jump (one tree takes the other branch when a float32 feature
# lands across a threshold), so the gate limits how many windows exceed it.
SCORE_ATOL = {"tree": 1e-5, "linear": 1e-4, "mlp": 1e-3}
# Regression values: relative to the largest predicted magnitude, per family
# (a tree path flip moves a forest's mean by a leaf difference / n_trees).
VALUE_RTOL = {"tree": 1e-3, "linear": 1e-4, "mlp": 1e-3}
MIN_AGREEMENT = 0.999
N_GOLDEN = 8


@dataclass(frozen=True)
class ParityReport:
    """What the gate measured and decided; stored with the model."""

    deployable: bool
    reasons: list[str]
    onnx_sha256: str
    family: str
    n_windows: int
    label_agreement: float | None  # None for regression
    label_disagreements: int
    tie_disagreements: int  # Python's top two scores within the tolerance
    score_tol: float  # absolute; regression: relative to the largest |value|
    score_max_abs_err: float
    score_max_rel_err: float
    score_within_tol: float  # fraction of windows
    feature_max_abs_err: float
    feature_max_rel_err: float
    feature_violations: int  # entries beyond 1e-4 relative
    worst_feature: str
    n_probes: int
    probe_label_disagreements: int
    probe_score_max_abs_err: float
    n_golden: int
    # Input checks: input_ok and input_reason against the Python checks on the held-out
    # and golden windows (a disagreement is excused only within 1e-5 of a threshold), and
    # the golden dead, NaN and clipped windows must be reported invalid.
    n_invalid: int = 0  # held-out windows the checks call invalid
    validity_disagreements: int = 0
    validity_near_threshold: int = 0
    golden_bad_flagged: int = 0
    golden_bad: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def golden_indices(n: int, k: int = N_GOLDEN) -> np.ndarray:
    """k evenly spread row indices of n (all if n <= k)."""
    return np.unique(np.linspace(0, n - 1, num=min(n, k)).round().astype(np.intp))


def bad_windows(window: np.ndarray, kinds: list[str] | None) -> np.ndarray:
    """A dead (all zeros), a NaN and a clipped copy of one window (C, L), float64 (3, C, L).

    The clipped copy cuts every vibration channel at its 95th percentile of |x|, so about
    5 % of its samples sit on the rails whatever the signal's crest factor.
    """
    w = np.asarray(window, dtype=np.float64)
    vib = [c for c in range(len(w)) if not kinds or kinds[c] != "speed"]
    dead, nan, clipped = np.zeros_like(w), w.copy(), w.copy()
    nan[vib[0], w.shape[1] // 3] = np.nan
    for c in vib:
        rail = float(np.quantile(np.abs(w[c]), 0.95))
        clipped[c] = np.clip(w[c], -rail, rail)
    return np.stack([dead, nan, clipped])


def golden_set(exported: ExportedModel, windows: np.ndarray, k: int = N_GOLDEN
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Golden inputs (float32) and the model's outputs on them, for the package's
    self-test on the controller: the gate's choice of held-out windows, then a dead, a
    NaN and a clipped window (the last three), which the model must report invalid."""
    held = np.asarray(windows)[golden_indices(len(windows), k)]
    kinds = (exported.schema.validity or {}).get("kinds")
    golden = np.concatenate([held, bad_windows(held[0], kinds)]).astype(np.float32)
    return golden, _outputs(session(exported.onnx_bytes), golden)


def _outputs(sess, windows: np.ndarray) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"window": windows.astype(np.float32)}), strict=True))


def _ties(model: TrainedModel, py_scores: np.ndarray, atol: float) -> np.ndarray:
    """Rows where the Python decision is within atol of flipping."""
    if model.task == "classification":
        top2 = np.sort(py_scores, axis=1)[:, -2:]
        return (top2[:, 1] - top2[:, 0]) <= atol
    return np.abs(py_scores[:, 0]) <= atol  # anomaly: score 0 is the threshold


def _compare(model: TrainedModel, py_feats: np.ndarray, out: dict[str, np.ndarray],
             atol: float, ok: np.ndarray | None = None) -> dict[str, Any]:
    """Label and score agreement of ONNX outputs with the Python pipeline on py_feats
    (``ok``: the Python checks' verdict; invalid windows read label -1, scores 0)."""
    if model.task == "regression":
        py, ox = model.scores(py_feats), out["value"].astype(np.float64)
        scale = max(float(np.abs(py).max()) if len(py) else 0.0, 1e-12)
        tol = VALUE_RTOL[family(model.recipe)] * scale
        err = np.abs(ox - py)
        return {"label_agreement": None, "label_disagreements": 0, "tie_disagreements": 0,
                "err": err, "within": float(np.mean((err <= tol).all(axis=1))), "py": py}
    py_lab, py_sc = model.predict(py_feats).astype(np.int64), model.scores(py_feats)
    if ok is not None:
        py_lab[~ok] = INVALID_LABEL
        py_sc[~ok] = 0.0
    differ = out["label"] != py_lab
    err = np.abs(out["scores"].astype(np.float64) - py_sc)
    return {"label_agreement": float(np.mean(~differ)), "label_disagreements": int(differ.sum()),
            "tie_disagreements": int((differ & _ties(model, py_sc, atol)).sum()),
            "err": err, "within": float(np.mean((err <= atol).all(axis=1))), "py": py_sc}


def _probes(model: TrainedModel, onx: onnx.ModelProto, feats: np.ndarray, atol: float,
            n_probes: int) -> tuple[int, int, float, float]:
    """Probes, unexplained label disagreements, max score error, fraction within tolerance.

    Runs the exported model's head (features in) on its own, so the float32
    feature values are exactly those chosen.
    """
    # The head's own outputs, before the input checks mask them.
    names = {"value": "value"} if model.task == "regression" else {
        "label": "tl_label", "scores": "tl_scores"}
    if model.task != "regression":
        onx = onnx.ModelProto.FromString(onx.SerializeToString())
        onx.graph.value_info.extend([
            onnx.helper.make_tensor_value_info("tl_label", onnx.TensorProto.INT64, ["batch"]),
            onnx.helper.make_tensor_value_info("tl_scores", onnx.TensorProto.FLOAT,
                                               ["batch", max(1, len(model.classes))])])
    head = onnx.utils.Extractor(onx).extract_model([OUTPUT_NAME], list(names.values()))
    est = model.pipeline.named_steps["model"]
    if family(model.recipe) == "tree":
        probes = tree_probes(est, feats, n_probes, model.recipe.seed)
    else:
        probes = feats[golden_indices(len(feats), n_probes)].astype(np.float32)
    if len(probes) == 0:
        return 0, 0, 0.0, 1.0
    sess = session(head.SerializeToString())
    got = dict(zip(names, sess.run(None, {OUTPUT_NAME: probes}), strict=True))
    cmp = _compare(model, probes.astype(np.float64), got, atol)
    unexplained = cmp["label_disagreements"] - cmp["tie_disagreements"]
    return len(probes), unexplained, float(cmp["err"].max()), cmp["within"]


def parity_gate(model: TrainedModel, exported: ExportedModel, windows: np.ndarray, *,
                golden_inputs: np.ndarray | None = None, n_probes: int = 400,
                min_agreement: float = MIN_AGREEMENT,
                cancel: CancelToken = NEVER_CANCELLED) -> ParityReport:
    """Run ``exported`` on held-out raw windows (n, C, L) and compare with the pipeline.

    Deployable only if T30 passes (checker, schema, finite golden outputs),
    labels agree on at least ``min_agreement`` of windows, scores are within
    the family's tolerance on as many, and no probe near a tree threshold
    disagrees except by an exact tie.
    """
    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 3 or len(windows) == 0:
        raise UsageError(f"the parity gate needs held-out windows (n, channels, samples), "
                         f"got shape {windows.shape}")
    fam = family(model.recipe)
    atol = SCORE_ATOL[fam]
    if golden_inputs is None:
        held = windows[golden_indices(len(windows))]
        golden = np.concatenate([held, bad_windows(held[0], list(model.validity.kinds))])
    else:
        golden = golden_inputs
    reasons = check_model(exported.onnx_bytes, exported.schema, golden)
    empty: dict[str, Any] = dict(label_agreement=None, label_disagreements=0, tie_disagreements=0,
                 score_max_abs_err=float("nan"), score_max_rel_err=float("nan"),
                 score_within_tol=0.0, feature_max_abs_err=float("nan"),
                 feature_max_rel_err=float("nan"), feature_violations=0, worst_feature="",
                 n_probes=0, probe_label_disagreements=0, probe_score_max_abs_err=float("nan"))
    tol = VALUE_RTOL[fam] if model.task == "regression" else atol
    common: dict[str, Any] = dict(onnx_sha256=exported.sha256, family=fam, n_windows=len(windows),
                  score_tol=tol, n_golden=len(golden))
    if reasons:
        return ParityReport(deployable=False, reasons=reasons, **common, **empty)
    cancel.raise_if_cancelled()
    sess = session(exported.onnx_bytes)
    py = model.run_windows(windows)
    py_feats = py[OUTPUT_NAME]
    out = _outputs(sess, windows)
    cancel.raise_if_cancelled()
    feat = compare_features(py_feats, out[OUTPUT_NAME], model.spec)
    cmp = _compare(model, py_feats, out, atol, py["input_ok"])
    checks: dict[str, Any] = _validity_agreement(model, sess, windows,
                                                 np.asarray(golden, dtype=np.float64))
    rel = cmp["err"] / np.maximum(np.abs(cmp["py"]), atol)
    n_probes, probe_bad, probe_err, probe_within = _probes(
        model, onnx.load_from_string(exported.onnx_bytes), py_feats, atol, n_probes)
    if cmp["label_agreement"] is not None and cmp["label_agreement"] < min_agreement:
        reasons.append(f"labels agree on {cmp['label_agreement']:.4%} of {len(windows)} "
                       f"held-out windows, below {min_agreement:.1%}")
    if cmp["within"] < min_agreement:
        reasons.append(f"scores within {tol:g} on {cmp['within']:.4%} of windows, below "
                       f"{min_agreement:.1%}")
    if probe_bad:
        reasons.append(f"{probe_bad} of {n_probes} probes near tree thresholds disagree")
    if probe_within < 1.0:
        reasons.append(f"probe scores differ by up to {probe_err:.3g} (tolerance {tol:g})")
    if checks["validity_disagreements"]:
        reasons.append(f"input checks differ from Python on {checks['validity_disagreements']}"
                       " window(s) away from any threshold")
    if checks["golden_bad_flagged"] < checks["golden_bad"]:
        reasons.append(f"only {checks['golden_bad_flagged']} of the {checks['golden_bad']} "
                       "dead, NaN and clipped golden windows are reported as invalid input")
    return ParityReport(
        deployable=not reasons, reasons=reasons, **common,
        label_agreement=cmp["label_agreement"], label_disagreements=cmp["label_disagreements"],
        tie_disagreements=cmp["tie_disagreements"],
        score_max_abs_err=float(cmp["err"].max()) if len(windows) else 0.0,
        score_max_rel_err=float(rel.max()) if len(windows) else 0.0,
        score_within_tol=cmp["within"], feature_max_abs_err=feat.max_abs_err,
        feature_max_rel_err=feat.max_rel_err, feature_violations=feat.violations,
        worst_feature=feat.worst_feature, n_probes=n_probes,
        probe_label_disagreements=probe_bad, probe_score_max_abs_err=probe_err,
        n_invalid=int((~py["input_ok"]).sum()), **checks)


def _validity_agreement(model: TrainedModel, sess, windows: np.ndarray, golden: np.ndarray
                        ) -> dict[str, int]:
    """input_ok / input_reason of ONNX against Python on held-out and golden windows."""
    both = np.concatenate([windows, golden])
    got = _outputs(sess, both)
    want = model.check(both)
    differ = (got[OK_NAME] != want.ok) | (got[REASON_NAME] != want.reason)
    near = near_threshold(both, model.validity)
    bad = bad_windows(windows[0], list(model.validity.kinds))
    flagged = ~_outputs(sess, bad)[OK_NAME]
    return {"validity_disagreements": int((differ & ~near).sum()),
            "validity_near_threshold": int((differ & near).sum()),
            "golden_bad_flagged": int(flagged.sum()), "golden_bad": len(bad)}


def require_deployable(report: ParityReport) -> None:
    """Raise IntegrityError naming the reasons if the gate did not pass."""
    if not report.deployable:
        raise IntegrityError("model is not deployable: " + "; ".join(report.reasons))
