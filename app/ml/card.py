"""Model card: a plain-text summary of intended use, input, data, metrics, robustness, limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.features.definitions import VALIDITY, definitions_for
from app.ml.report import ClassificationMetrics, RegressionMetrics, ValidationReport

if TYPE_CHECKING:  # the trainer pulls in scikit-learn, which reading a card does not need
    from app.ml.trainer import TrainedModel


def _metrics_lines(report: ValidationReport) -> list[str]:
    m = report.metrics
    if isinstance(m, ClassificationMetrics):
        worst = min(m.f1, key=m.f1.__getitem__)
        return [f"- accuracy {m.accuracy:.4f}, balanced accuracy {m.balanced_accuracy:.4f}",
                f"- lowest F1: {worst} ({m.f1[worst]:.4f})"]
    if isinstance(m, RegressionMetrics):
        return [f"- MAE {m.mae:.4g}, RMSE {m.rmse:.4g}, R squared {m.r2:.4f}"]
    prec = "n/a" if m.precision is None else f"{m.precision:.4f}"
    rec = "n/a" if m.recall is None else f"{m.recall:.4f}"
    return [f"- threshold {m.threshold:g}: precision {prec}, recall {rec}, "
            f"{m.n_flagged} flagged of {report.n_test} test windows"]


def _input_lines(model: TrainedModel, report: ValidationReport) -> list[str]:
    spec = model.spec
    lines = [f"One window of {spec.window} samples at {spec.sample_rate:g} Hz, channels in "
             f"this order: {', '.join(spec.channels)}."]
    for ch in spec.channels:
        info = report.inputs.get(ch, {})
        unit = info.get("unit") or "(unit not recorded)"
        scale = info.get("scale") or "(scale not recorded)"
        role = "shaft speed in rpm" if spec.kinematics and ch == spec.kinematics.speed_channel \
            else "vibration"
        lines.append(f"- {ch}: {role}, unit {unit}, scale {scale}")
    return lines


def _envelope_lines(model: TrainedModel, report: ValidationReport) -> list[str]:
    env = report.envelope
    lines = []
    for ch, rng in env.get("channels", {}).items():
        kind = "mean" if model.spec.kinematics and ch == model.spec.kinematics.speed_channel \
            else "RMS"
        lines.append(f"- {ch}: {kind} {rng['level_min']:.4g} .. {rng['level_max']:.4g}")
    if "speed_rpm" in env:
        lo, hi = env["speed_rpm"]
        lines.append(f"- shaft speed {lo:.6g} .. {hi:.6g} rpm ({env['speed_source']})")
    else:
        lines.append("- shaft speed: not given (no kinematics in the recipe)")
    conds = env.get("conditions") or []
    lines.append(f"- conditions: {', '.join(conds)}" if conds else
                 "- conditions: not recorded (one operating condition assumed)")
    return lines


def _validity_lines(report: ValidationReport) -> list[str]:
    v = report.validity
    if not v:
        return ["- none (this model does not check its input)"]
    cfg = v["config"]
    lines = [f"- level factor {cfg['level_factor']:g}, flat ratio {cfg['flat_ratio']:g}, clip "
             f"share {cfg['clip_share']:g} within {cfg['clip_tolerance']:g} of the range"]
    for ch, lo, hi, floor, kind in zip(v["channels"], v["level_min"], v["level_max"],
                                       v["flat_floor"], v["kinds"], strict=True):
        k = cfg["level_factor"]
        what = "mean" if kind == "speed" else "RMS"
        extra = "" if kind == "speed" else f", flat at std <= {floor:.4g}"
        lines.append(f"- {ch}: valid {what} {lo / k:.4g} .. {hi * k:.4g}{extra}")
    lines.append(f"- {report.n_excluded} windows of the split were invalid input and left out")
    lines.append(VALIDITY)
    return lines


def _robustness_lines(report: ValidationReport) -> list[str]:
    r = report.robustness
    if not r:
        return ["- not measured"]
    verdict = "robust" if r["robust"] else "NOT ROBUST: " + "; ".join(r["reasons"])
    lines = [f"Verdict: {verdict} (threshold: at most {r['max_drop']:.1%} below the held-out "
             f"{r['metric']} of {r['baseline']:.4f}, through onnxruntime on the exported "
             "model).", "", f"| perturbation | windows | {r['metric']} | invalid | expected |",
             "| --- | --- | --- | --- | --- |"]
    for row in r["rows"]:
        score = "-" if row["expect"] == "invalid" else f"{row['score']:.4f}"
        mark = "" if row["passed"] else " (FAILED)"
        lines.append(f"| {row['name']} | {row['n']} | {score} | {row['invalid_share']:.1%} | "
                     f"{row['expect']}{mark} |")
    if r["conditions"]:
        lines += ["", f"Leave one condition out (own held-out score "
                      f"{r['condition_baseline']:.4f}):"]
        lines += [f"- {c['condition']}: {c['score']:.4f} on {c['n_test']} windows, trained on "
                  f"{c['n_train']}{'' if c['passed'] else ' (FAILED)'}"
                  for c in r["conditions"]]
    else:
        lines.append("- no held-out condition: the recordings carry none (or only one)")
    return lines


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
    gain = spec.gain_sensitive()
    family = (f"GAIN-SENSITIVE: uses absolute levels ({', '.join(gain)}); a sensor of another "
              "sensitivity, a re-ranged transmitter or another unit changes its input"
              if gain else "scale-free: no feature changes with the sensor's gain or unit")
    kin = spec.kinematics
    bearings = ", ".join(f"{ch}: {name}" for ch, name in kin.bearings) if kin and \
        kin.bearings else "none given"
    lines = [
        f"# Model card: {recipe.model} ({recipe.task})",
        "## Intended use",
        f"The model {what}. For decision support beside the line, not as a safety function.",
        "## Input",
        *_input_lines(model, report),
        "## Data",
        f"- dataset {dataset_hash or '(not recorded)'}; feature spec {spec.spec_hash()[:16]} "
        f"(version {spec.version})",
        f"- {report.n_train} training and {report.n_test} test windows; split {how}",
        "## Operating envelope seen in training",
        *_envelope_lines(model, report),
        "## Metrics (held-out windows)",
        *_metrics_lines(report),
        "- most important features: " + ", ".join(f"{n} ({v:.3f})" for n, v in top),
        "## Robustness",
        *_robustness_lines(report),
        "## Input validity",
        *_validity_lines(report),
        "## Features",
        f"- {spec.n_features} features, {family}",
        f"- bearings: {bearings}" + (f"; defect lines read within +-{kin.tolerance:.1%}, "
                                    f"{kin.harmonics} harmonics" if kin else ""),
        *[f"- {text}" for text in definitions_for(spec)],
        "## Limitations",
        "- valid for the machines, speeds, loads and sensor mounting seen in training (the "
        "envelope above); windows outside it are reported as invalid input, not classified;",
        "- the controller computes features in float32: results near decision thresholds "
        "may differ from this workstation (see the parity report);",
        "- a time-ordered split tests later data of the same recordings, not new machines; "
        "only the held-out conditions above test other operating conditions.",
    ]
    return "\n".join(lines) + "\n"


def with_labels(card: str, rule: str, facts: list[str]) -> str:
    """The card with a Labels section (the label rule training applied, and what it made of
    the dataset) after its Data section; the card unchanged if it has no Data section."""
    section = ["## Labels", f"- {rule}", *[f"- {fact}" for fact in facts if fact]]
    lines = card.splitlines()
    if "## Data" not in lines:
        return card
    at = next((i for i in range(lines.index("## Data") + 1, len(lines))
               if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[:at] + section + lines[at:]) + "\n"
