"""Model card: a plain-text summary of intended use, data, metrics and limitations."""

from __future__ import annotations

from app.ml.report import ClassificationMetrics, RegressionMetrics, ValidationReport
from app.ml.trainer import TrainedModel


def _metrics_lines(report: ValidationReport) -> list[str]:
    m = report.metrics
    if isinstance(m, ClassificationMetrics):
        worst = min(m.f1, key=m.f1.get)
        return [f"- accuracy {m.accuracy:.4f}, balanced accuracy {m.balanced_accuracy:.4f}",
                f"- lowest F1: {worst} ({m.f1[worst]:.4f})"]
    if isinstance(m, RegressionMetrics):
        return [f"- MAE {m.mae:.4g}, RMSE {m.rmse:.4g}, R squared {m.r2:.4f}"]
    prec = "n/a" if m.precision is None else f"{m.precision:.4f}"
    rec = "n/a" if m.recall is None else f"{m.recall:.4f}"
    return [f"- threshold {m.threshold:g}: precision {prec}, recall {rec}, "
            f"{m.n_flagged} flagged of {report.n_test} test windows"]


def model_card(model: TrainedModel, report: ValidationReport, dataset_hash: str) -> str:
    """Markdown-flavoured text for reviewers and approvers."""
    spec, recipe = model.spec, model.recipe
    what = {"classification": f"classifies into {', '.join(model.classes)}",
            "regression": "estimates a numeric target",
            "anomaly": "flags windows unlike the normal training data"}[recipe.task]
    top = sorted(report.importance.mean.items(), key=lambda kv: -kv[1])[:5]
    split = recipe.split
    how = (f"time-ordered per recording, last {split.test_fraction:.0%} tested after a gap "
           f"of {split.gap or spec.window} samples" if split.kind == "time" else
           f"by recording, about {split.test_fraction:.0%} of recordings held out")
    lines = [
        f"# Model card: {recipe.model} ({recipe.task})",
        "## Intended use",
        f"One window of {spec.window} samples at {spec.sample_rate:g} Hz from channel(s) "
        f"{', '.join(spec.channels)}; the model {what}. For decision support beside the "
        "line, not as a safety function.",
        "## Data",
        f"- dataset {dataset_hash or '(not recorded)'}; feature spec {spec.spec_hash()[:16]}",
        f"- {report.n_train} training and {report.n_test} test windows; split {how}",
        "## Metrics (held-out windows)",
        *_metrics_lines(report),
        "- most important features: " + ", ".join(f"{n} ({v:.3f})" for n, v in top),
        "## Limitations",
        "- valid only for the machines, speeds, loads and sensor mounting seen in training;",
        "- the controller computes features in float32: results near decision thresholds "
        "may differ from this workstation (see the parity report);",
        "- windows that are constant, clipped or hold gaps are outside the training data;",
        "- a time-ordered split tests later data of the same recordings, not new machines.",
    ]
    return "\n".join(lines) + "\n"
