"""Texts of the Train page: labels, model line names, headline metrics, robustness evidence."""

from __future__ import annotations

import re
from collections import Counter

from app.core.model_version import HeldOutCondition, Robustness, RobustnessCheck
from app.core.records import DatasetInfo


def labels_summary(info: DatasetInfo) -> str:
    """How the dataset's recordings are labelled, as training sees it (the newest
    whole-recording label of each recording)."""
    whole: dict[int, str] = {}
    ranges = 0
    for lb in info.labels:
        if lb.t_start is None:
            whole[lb.recording] = lb.label
        else:
            ranges += 1
    counts = Counter(whole.values())
    n = len(info.recordings)
    parts = [f"{n} recording{'s' if n != 1 else ''}"]
    if counts:
        parts.append(", ".join(f"{label} x{k}" for label, k in sorted(counts.items())))
    unlabelled = n - len(whole)
    if unlabelled:
        parts.append(f"{unlabelled} unlabelled (label them on the Data page before "
                     "training)")
    if ranges:
        # The rule of app/services/training.py, in the words of the README.
        parts.append(f"{ranges} time-range label{'s' if ranges != 1 else ''} (used for "
                     "training: a window wholly inside a range takes its label)")
    return "; ".join(parts)


def line_name_for(name: str) -> str:
    """A valid model line name from a dataset name: ``Pump 3 (east)`` -> ``pump-3-east``."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", name.strip().lower()).strip("-._")
    return slug[:100] or "model"


def metrics_text(validation: dict) -> str:
    """Headline metrics of a validation report, one line each."""
    metrics = validation.get("metrics", {})
    lines = [f"{validation.get('task', '')} with {validation.get('model', '')}: "
             f"{validation.get('n_train', 0)} training and {validation.get('n_test', 0)} "
             "held-out windows"]
    for key, value in metrics.items():
        if isinstance(value, bool) or key in ("classes", "confusion"):
            continue
        if isinstance(value, float):
            lines.append(f"{key.replace('_', ' ')}: {value:.4g}")
        elif isinstance(value, int) or value is None:
            lines.append(f"{key.replace('_', ' ')}: {'n/a' if value is None else value}")
        elif isinstance(value, dict):
            lines.append(f"{key.replace('_', ' ')}: " + ", ".join(
                f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in value.items()))
    return "\n".join(lines)


# ---------------------------------------------------------------- robustness evidence

#: What each robustness check expects of the exported model, in words.
EXPECT_WORDS = {"valid": "still right", "invalid": "flagged invalid",
                "either": "informative only"}

#: Columns of the robustness table and of the held-out conditions table.
ROBUSTNESS_COLUMNS = ("case", "windows", "score", "invalid share", "expected", "verdict")
CONDITION_COLUMNS = ("held-out condition", "trained on", "tested on", "score",
                     "invalid share", "verdict")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _verdict(passed: bool) -> str:
    return "ok" if passed else "FAILED"


def robustness_row(check: RobustnessCheck) -> tuple[str, str, str, str, str, str]:
    """One robustness check as the table shows it (ROBUSTNESS_COLUMNS order). A check that
    expects invalid input has no meaningful score: its invalid share is the measure."""
    score = "-" if check.expect == "invalid" else _score(check.score)
    return (check.name, str(check.n), score, _share(check.invalid_share),
            EXPECT_WORDS.get(check.expect, check.expect), _verdict(check.passed))


def condition_row(cond: HeldOutCondition) -> tuple[str, str, str, str, str, str]:
    """One held-out condition as the table shows it (CONDITION_COLUMNS order)."""
    return (cond.condition, f"{cond.n_train} windows", f"{cond.n_test} windows",
            _score(cond.score), _share(cond.invalid_share), _verdict(cond.passed))


def robustness_verdict(rob: Robustness | None) -> str:
    """ROBUST or NOT ROBUST with the reasons, or that it was not measured (the words of
    ``plantml models show``)."""
    if rob is None:
        return "Robustness: not measured (a version trained before the robustness table)"
    if not rob.robust:
        return "NOT ROBUST: " + ("; ".join(rob.reasons) or "see the failed rows below")
    drop = "-" if rob.max_drop is None else f"{rob.max_drop:.1%}"
    return (f"Robust: no check or held-out condition more than {drop} below the held-out "
            f"{rob.metric} of {_score(rob.baseline)}")


def conditions_note(rob: Robustness | None) -> str:
    """The line above the held-out conditions table."""
    if rob is None:
        return ""
    if not rob.conditions:
        return ("Leave one condition out: not run (the recordings carry one operating "
                "condition or none; give each recording its condition on import)")
    return (f"Leave one condition out: trained on the other conditions, tested on the one "
            f"named (the {rob.metric} under the same split with every condition: "
            f"{_score(rob.condition_baseline)})")
