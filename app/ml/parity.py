"""Parity gate: the exported model in onnxruntime against the Python pipeline, and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import onnx

from app.core.errors import IntegrityError, UsageError
from app.core.progress import NEVER_CANCELLED, CancelToken
from app.features.compare import compare_features
from app.features.extraction import extract_windows
from app.features.onnx_graph import OUTPUT_NAME
from app.ml.checks import check_model, session
from app.ml.export import ExportedModel
from app.ml.models import family
from app.ml.thresholds import tree_probes
from app.ml.trainer import TrainedModel

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def golden_indices(n: int, k: int = N_GOLDEN) -> np.ndarray:
    """k evenly spread row indices of n (all if n <= k)."""
    return np.unique(np.linspace(0, n - 1, num=min(n, k)).round().astype(np.intp))


def golden_set(exported: ExportedModel, windows: np.ndarray, k: int = N_GOLDEN
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Golden inputs (float32, the gate's choice of held-out windows) and the model's
    outputs on them, for the package's self-test on the controller."""
    golden = np.asarray(windows)[golden_indices(len(windows), k)].astype(np.float32)
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
             atol: float) -> dict[str, Any]:
    """Label and score agreement of ONNX outputs with the Python pipeline on py_feats."""
    if model.task == "regression":
        py, ox = model.scores(py_feats), out["value"].astype(np.float64)
        scale = max(float(np.abs(py).max()) if len(py) else 0.0, 1e-12)
        tol = VALUE_RTOL[family(model.recipe)] * scale
        err = np.abs(ox - py)
        return {"label_agreement": None, "label_disagreements": 0, "tie_disagreements": 0,
                "err": err, "within": float(np.mean((err <= tol).all(axis=1))), "py": py}
    py_lab, py_sc = model.predict(py_feats), model.scores(py_feats)
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
    outs = [o.name for o in onx.graph.output if o.name != OUTPUT_NAME]
    head = onnx.utils.Extractor(onx).extract_model([OUTPUT_NAME], outs)
    est = model.pipeline.named_steps["model"]
    if family(model.recipe) == "tree":
        probes = tree_probes(est, feats, n_probes, model.recipe.seed)
    else:
        probes = feats[golden_indices(len(feats), n_probes)].astype(np.float32)
    if len(probes) == 0:
        return 0, 0, 0.0, 1.0
    sess = session(head.SerializeToString())
    got = dict(zip(outs, sess.run(None, {OUTPUT_NAME: probes}), strict=True))
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
    golden = windows[golden_indices(len(windows))] if golden_inputs is None else golden_inputs
    reasons = check_model(exported.onnx_bytes, exported.schema, golden)
    empty = dict(label_agreement=None, label_disagreements=0, tie_disagreements=0,
                 score_max_abs_err=float("nan"), score_max_rel_err=float("nan"),
                 score_within_tol=0.0, feature_max_abs_err=float("nan"),
                 feature_max_rel_err=float("nan"), feature_violations=0, worst_feature="",
                 n_probes=0, probe_label_disagreements=0, probe_score_max_abs_err=float("nan"))
    tol = VALUE_RTOL[fam] if model.task == "regression" else atol
    common = dict(onnx_sha256=exported.sha256, family=fam, n_windows=len(windows),
                  score_tol=tol, n_golden=len(golden))
    if reasons:
        return ParityReport(deployable=False, reasons=reasons, **common, **empty)
    cancel.raise_if_cancelled()
    py_feats = extract_windows(windows, model.spec)
    out = _outputs(session(exported.onnx_bytes), windows)
    cancel.raise_if_cancelled()
    feat = compare_features(py_feats, out[OUTPUT_NAME], model.spec)
    cmp = _compare(model, py_feats, out, atol)
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
    return ParityReport(
        deployable=not reasons, reasons=reasons, **common,
        label_agreement=cmp["label_agreement"], label_disagreements=cmp["label_disagreements"],
        tie_disagreements=cmp["tie_disagreements"],
        score_max_abs_err=float(cmp["err"].max()) if len(windows) else 0.0,
        score_max_rel_err=float(rel.max()) if len(windows) else 0.0,
        score_within_tol=cmp["within"], feature_max_abs_err=feat.max_abs_err,
        feature_max_rel_err=feat.max_rel_err, feature_violations=feat.violations,
        worst_feature=feat.worst_feature, n_probes=n_probes,
        probe_label_disagreements=probe_bad, probe_score_max_abs_err=probe_err)


def require_deployable(report: ParityReport) -> None:
    """Raise IntegrityError naming the reasons if the gate did not pass."""
    if not report.deployable:
        raise IntegrityError("model is not deployable: " + "; ".join(report.reasons))
