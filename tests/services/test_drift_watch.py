"""The watch's drift alarm in the audit trail: audited once when it begins and once when it
clears, not at every look; a new model on the controller starts a new alarm."""

from __future__ import annotations

import numpy as np

from app.devices.flash.class_stats import ClassPage, ClassStats
from app.ml.refstats import class_reference
from app.services.audit import AuditFilter
from app.services.controller_drift import DriftWatch

RNG = np.random.default_rng(5)


def _report():
    feats = RNG.normal(2.0, 0.2, (300, 1))
    levels = RNG.normal(1.0, 0.05, (300, 1))
    refs = class_reference(feats, levels, np.array(["ok"] * 300, dtype=object), ("acc.f",),
                           ("acc",))
    return {"task": "classification", "monitored": ["acc.level"], "reference": [],
            "class_reference": {k: [r.__dict__ for r in v] for k, v in refs.items()}}


def _snap(level: float, n: int = 100) -> ClassStats:
    m2 = np.array([0.05 ** 2, 0.2 ** 2]) * (n - 1)
    return ClassStats(seq=1, ring=128, held=n, invalid=0, levels=1, pages=(
        ClassPage(0, n, np.array([level, 2.0]), m2), ClassPage(1, 0, np.zeros(2), np.zeros(2))))


def test_alarm_and_clearing_are_audited_once_each(services, people):
    opr = people["operator"]
    watch = DriftWatch(services.controllers.ctx)
    report, schema = _report(), {"classes": ["ok", "worn"]}
    levels = []
    for level in (1.0, 2.0, 2.0, 1.07, 1.0, 1.0):
        drift = watch.look(opr, "operator", target="tcp:10.0.0.9:502", ref="pump:v1",
                           report=report, schema=schema, live=None, snap=_snap(level))
        assert drift is not None
        levels.append(drift.level)
    assert levels == ["ok", "alarm", "alarm", "alarm", "ok", "ok"]
    rows = services.audit.show(people["auditor"], AuditFilter(action="drift."))
    assert [(e.action, e.result) for e in reversed(rows)] == [
        ("drift.alarm", "detected"), ("drift.cleared", "cleared")]
    assert "ok acc.level" in rows[-1].reason
    # Another model on the same controller: its own alarm, not the old one's state.
    again = watch.look(opr, "operator", target="tcp:10.0.0.9:502", ref="pump:v2",
                       report=report, schema=schema, live=None, snap=_snap(1.07))
    assert again is not None and again.level == "warn"
