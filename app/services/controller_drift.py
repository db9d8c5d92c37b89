"""Drift of a watched controller: per predicted class from its per-class statistics when the
model's report has class references and the controller publishes them, else (older packages
or controllers) the pooled statistics against the pooled reference; alarms audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.audit.reading import AuditFilter, query_events
from app.core.principal import Principal
from app.devices.flash import Live
from app.devices.flash.class_stats import ClassStats
from app.ml.drift_class import (
    ClassLive,
    ClassSummaryDrift,
    ClassThresholds,
    DriftAlarm,
    drift_by_class_summary,
)
from app.ml.drift_stats import DriftReport
from app.ml.report import FeatureReference
from app.services.base import ServiceContext

Drift = ClassSummaryDrift | DriftReport


def page_labels(task: str, classes: Sequence[str], pages: int) -> list[str]:
    """The reference group each controller page stands for (app.ml.evaluation groups)."""
    if task == "anomaly":
        return ["normal", "anomaly"][:pages]
    if task == "regression":
        return ["all"][:pages]
    return [str(c) for c in classes][:pages]


def class_live(task: str, classes: Sequence[str], snap: ClassStats) -> list[ClassLive]:
    """The controller's pages as named live summaries (pages no group names are dropped)."""
    names = page_labels(task, classes, len(snap.pages))
    return [ClassLive(names[p.index], p.count, p.mean, p.variance)
            for p in snap.pages if p.index < len(names)]


def assess(report: dict[str, Any] | None, schema: dict[str, Any], live: Live | None,
           snap: ClassStats | None, alarm: DriftAlarm,
           t: ClassThresholds | None = None) -> Drift | None:
    """The drift to show for one look at a controller (None: not enough windows yet, or no
    reference), its level passed through ``alarm`` (hysteresis)."""
    if not report:
        return None
    refs = report.get("class_reference") or {}
    if refs and snap is not None:
        class_refs = {k: [FeatureReference(**r) for r in v] for k, v in refs.items()}
        drift = drift_by_class_summary(
            class_refs, report.get("monitored") or [],
            class_live(str(report.get("task", "classification")),
                       schema.get("classes") or [], snap), t,
            invalid=snap.invalid, held=snap.held)
        if not drift.scored:
            return None
        return ClassSummaryDrift(**{**drift.__dict__, "level": alarm.update(drift.raw_level)})
    if live is None or live.stats.count < 2:
        return None
    # scipy.stats loads on the first watch, not at start-up.
    from app.ml.drift_stats import drift_from_stats

    pooled = [FeatureReference(**r) for r in report.get("reference", [])]
    out = drift_from_stats(pooled, live.stats.count, live.stats.mean, live.stats.variance)
    alarm.update(out.level)
    return out


def worst_names(drift: Drift, n: int = 5) -> str:
    """The drifting values, worst first, as the audit reason and the CLI name them."""
    if isinstance(drift, ClassSummaryDrift):
        return ", ".join(f"{f.label} {f.name}" for f in drift.at_least("alarm")[:n])
    return ", ".join(f.name for f in drift.at_least("alarm")[:n])


class DriftWatch:
    """The alarm state of each watched controller: an alarm is audited once when it begins
    (drift.alarm) and once when it clears (drift.cleared), not at every poll."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._alarms: dict[str, tuple[str, DriftAlarm]] = {}  # target -> (model, alarm)
        #: True after a look at which an alarm began; then alarm_seq is its drift.alarm event.
        self.began = False
        self.alarm_seq = 0

    def look(self, principal: Principal, role: str, *, target: str, ref: str,
             report: dict[str, Any] | None, schema: dict[str, Any], live: Live,
             snap: ClassStats | None) -> Drift | None:
        """Assess one look at ``target`` running ``ref`` and audit a change of alarm."""
        if self._alarms.get(target, ("", None))[0] != ref:  # another model: a new start
            self._alarms[target] = (ref, DriftAlarm())
        alarm = self._alarms[target][1]
        before = alarm.level
        self.began = False
        drift = assess(report, schema, live, snap, alarm)
        if drift is None:
            return None
        windows = snap.held if snap is not None else live.stats.count
        if drift.level == "alarm" and before != "alarm":
            self.ctx.audit_outcome(principal, role, "drift.alarm", f"model:{ref}",
                                   result="detected", reason=f"drift in {worst_names(drift)}",
                                   new={"target": target, "windows": windows})
            self.began, self.alarm_seq = True, self._newest_alarm()
        elif before == "alarm" and drift.level != "alarm":
            self.ctx.audit_outcome(principal, role, "drift.cleared", f"model:{ref}",
                                   result="cleared", reason="drift back within the reference",
                                   new={"target": target, "windows": windows})
        return drift

    def _newest_alarm(self) -> int:
        with self.ctx.db.reader() as s:
            events = query_events(s, AuditFilter(action="drift.alarm", limit=1))
        return events[0].seq if events else 0
