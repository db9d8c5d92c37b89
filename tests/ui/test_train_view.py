"""Train page: a small synthetic dataset through training, its evidence, and Cancel."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.core.records import DatasetInfo, LabelInfo, RecordingInfo
from app.data.synthetic import STATES, vibration
from app.services.options import binary_options
from app.ui.pages.train_view import TrainView
from app.ui.train_format import labels_summary, line_name_for, metrics_text


@pytest.fixture
def synthetic(workspace, tmp_path) -> DatasetInfo:
    """Three recordings (healthy, imbalance, bearing fault), each labelled as a whole."""
    sv, erin = workspace.services, workspace.engineer
    paths = []
    for seed, state in enumerate(STATES):
        path = tmp_path / f"{state}.npz"
        np.savez(path, acc=vibration(state, 16_384, seed=seed))
        paths.append(path)
    out = sv.data_in.import_files(erin, paths=paths, name="Fan 2 (synthetic)",
                                  binary=binary_options(keys=["acc"], sample_rate=12000.0))
    for rec in out.dataset.recordings:
        sv.datasets.label(erin, dataset=out.dataset.dataset_id, recording=rec.index,
                          label=rec.name)
    return sv.datasets.show(erin, dataset=out.dataset.dataset_id)


# A bound on an event wait, not a pace: training shares two cores with other jobs.
TRAINING_MS = 120_000


def _open(qtbot, sv, runner, who) -> TrainView:
    view = TrainView(sv, runner, who)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()  # every showing reloads the datasets
    assert runner.wait_idle(4000)
    return view


def _settings(view: TrainView) -> None:
    view.window_spin.setValue(1024)
    view.hop_spin.setValue(1024)
    view.params_edit.setText('{"n_estimators": 20}')


def test_training_shows_the_version_and_its_evidence(qtbot, workspace, runner, synthetic):
    sv, erin = workspace.services, workspace.engineer
    view = _open(qtbot, sv, runner, erin)
    assert view.current_dataset_id() == synthetic.dataset_id
    assert view.labels_label.text() == ("3 recordings; bearing_fault x1, healthy x1, "
                                        "imbalance x1")
    assert view.checked_channels() == ["acc"]
    assert view.line_edit.placeholderText() == "fan-2-synthetic"
    assert [view.model_combo.itemText(i) for i in range(view.model_combo.count())][0] == \
        "random_forest"
    _settings(view)
    with qtbot.waitSignal(view.sig_trained, timeout=TRAINING_MS) as trained:
        qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
        assert view.job_running and view.cancel_button.isVisible()
    assert runner.wait_idle(4000)
    outcome = trained.args[0]
    assert outcome.version.ref == "fan-2-synthetic:v1"
    assert view.version_label.text() == f"fan-2-synthetic:v1  (classifier, {outcome.version.state})"
    assert "accuracy:" in view.metrics_label.text()
    classes = outcome.validation["metrics"]["classes"]
    assert classes == sorted(STATES)
    assert view.confusion() == outcome.validation["metrics"]["confusion"]
    headers = [view.confusion_table.horizontalHeaderItem(i).text() for i in range(3)]
    assert headers == classes
    assert sum(map(sum, view.confusion())) == outcome.validation["n_test"] > 0
    shown = view.importance_shown()
    assert 0 < len(shown) <= 15 and view.results.importance_bars is not None
    assert all(name in outcome.validation["importance"]["mean"] for name, _ in shown)
    assert view.parity_label.text().startswith("Parity gate: ")
    assert ("deployable" in view.parity_label.text()) == outcome.parity["deployable"]
    assert sv.registry.show(erin, ref="fan-2-synthetic:v1").state == outcome.version.state
    assert view.train_button.isEnabled() and not view.job_running


def test_cancel_during_training_registers_nothing(qtbot, workspace, runner, synthetic,
                                                  monkeypatch):
    sv, erin = workspace.services, workspace.engineer
    view = _open(qtbot, sv, runner, erin)
    _settings(view)
    # Hold the training inside the service (after it started reading the dataset) until
    # Cancel was pressed, so the cancellation lands mid-training every time.
    inside, pressed = threading.Event(), threading.Event()
    real_load = sv.datasets.load

    def held_load(*args, **kwargs):
        inside.set()
        assert pressed.wait(4), "the test never pressed Cancel"
        return real_load(*args, **kwargs)

    monkeypatch.setattr(sv.datasets, "load", held_load)
    qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(inside.is_set, timeout=4000)
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    pressed.set()
    assert runner.wait_idle(4000)
    assert view.message_label.text() == "training cancelled: no version was registered"
    assert not view.job_running and view.train_button.isEnabled()
    assert view.version_label.text() == "No training run yet"
    assert sv.registry.lines(erin) == [], "no model line, no version"


def test_unlabelled_data_and_roles(qtbot, workspace, runner, tmp_path):
    sv, erin = workspace.services, workspace.engineer
    path = tmp_path / "one.npz"
    np.savez(path, acc=vibration("healthy", 4096))
    sv.data_in.import_files(erin, paths=[path], name="raw",
                            binary=binary_options(keys=["acc"], sample_rate=12000.0))
    view = _open(qtbot, sv, runner, erin)
    assert "1 unlabelled" in view.labels_label.text()
    qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(4000)
    assert view.message_label.text().startswith("training failed: ")
    assert "has no label" in view.message_label.text()

    auditor = _open(qtbot, sv, runner, workspace.auditor)
    assert auditor.current_dataset_id() is not None
    assert not auditor.train_button.isEnabled()
    assert "engineer role" in auditor.train_button.toolTip()


def test_summaries():
    info = DatasetInfo(dataset_id="a" * 64, name="x", sample_rate=1.0, channels=(),
                       recordings=tuple(RecordingInfo(i, f"r{i}", 10) for i in range(3)),
                       provenance={}, size_bytes=0, created_at="", created_by="",
                       labels=(LabelInfo(0, "old"), LabelInfo(0, "ok"), LabelInfo(1, "ok"),
                               LabelInfo(2, "spike", 0.5, 1.0)))
    assert labels_summary(info) == ("3 recordings; ok x2; 1 unlabelled (label them on the "
                                    "Data page before training); 1 time-range label (used for "
                                    "training: a window wholly inside a range takes its "
                                    "label)")
    assert line_name_for("  Pump 3 (east)!") == "pump-3-east"
    assert line_name_for("***") == "model"
    text = metrics_text({"task": "regression", "model": "ridge", "n_train": 5, "n_test": 2,
                         "metrics": {"mae": 0.123456, "rmse": 1.0, "r2": None}})
    assert text.splitlines() == ["regression with ridge: 5 training and 2 held-out windows",
                                 "mae: 0.1235", "rmse: 1", "r2: n/a"]


@pytest.fixture
def two_loads(workspace, tmp_path) -> DatasetInfo:
    """Three states at two motor loads: each recording carries its condition, so
    validation holds each load out in turn."""
    sv, erin = workspace.services, workspace.engineer
    paths, conditions = [], {}
    for seed, state in enumerate(STATES):
        for k, load in enumerate(("0hp", "1hp")):
            path = tmp_path / f"{state}-{load}.npz"
            np.savez(path, acc=vibration(state, 16_384, seed=10 * seed + k))
            paths.append(path)
            conditions[path.name] = f"load={load}"
    out = sv.data_in.import_files(erin, paths=paths, name="Fan 3 (two loads)",
                                  binary=binary_options(keys=["acc"], sample_rate=12000.0),
                                  file_conditions=conditions)
    for rec in out.dataset.recordings:
        sv.datasets.label(erin, dataset=out.dataset.dataset_id, recording=rec.index,
                          label=rec.name.split("-")[0])
    return sv.datasets.show(erin, dataset=out.dataset.dataset_id)


def test_robustness_tab_shows_the_evidence_of_the_trained_version(qtbot, workspace, runner,
                                                                  two_loads):
    sv, erin = workspace.services, workspace.engineer
    view = _open(qtbot, sv, runner, erin)
    assert view.select_dataset(two_loads.dataset_id)
    _settings(view)
    with qtbot.waitSignal(view.sig_trained, timeout=TRAINING_MS) as trained:
        qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(4000)
    ref = trained.args[0].version.ref
    # What the approver will be shown, read back from the registry.
    rob = sv.approvals.evidence(erin, ref=ref).validation.robustness
    assert rob is not None and rob.checks and len(rob.conditions) == 2

    panel = view.results.robustness
    tabs = view.results.result_tabs
    assert tabs.tabText(view.results.robustness_tab) == "Robustness"
    rows = panel.check_rows()
    assert [r[0] for r in rows] == [c.name for c in rob.checks]
    assert [int(r[1]) for r in rows] == [c.n for c in rob.checks]
    for row, check in zip(rows, rob.checks, strict=True):
        if check.expect == "invalid":
            assert row[2] == "-"
        else:
            assert float(row[2]) == pytest.approx(check.score, abs=5e-5)
        assert float(row[3].rstrip("%")) == pytest.approx(100 * check.invalid_share, abs=0.05)
        assert row[4] == {"valid": "still right", "invalid": "flagged invalid",
                          "either": "informative only"}[check.expect]
        assert row[5] == ("ok" if check.passed else "FAILED")
    names = [r[0] for r in rows]
    for case in ("gain x0.5", "gain x2", "dead sensor", "NaN", "m/s^2", "offsets"):
        assert any(case in n for n in names), case
    assert [r[0] for r in panel.condition_rows()] == ["load=0hp", "load=1hp"]
    assert [r[2] for r in panel.condition_rows()] == [f"{c.n_test} windows"
                                                      for c in rob.conditions]
    assert panel.conditions_table.isVisibleTo(panel)
    assert rob.robust and not panel.not_robust
    assert panel.verdict_label.text().startswith("Robust: ")
    assert "held-out condition passed" in view.results.robust_label.text()
    # Sized to content: no header or case name is cut.
    table = panel.checks_table
    metrics = table.fontMetrics()
    for c in range(table.columnCount() - 1):
        widest = max(metrics.horizontalAdvance(r[c]) for r in rows)
        assert table.columnWidth(c) >= widest, table.horizontalHeaderItem(c).text()


def test_not_robust_is_flagged_on_the_train_page(qtbot, workspace, runner, synthetic):
    sv, erin = workspace.services, workspace.engineer
    view = _open(qtbot, sv, runner, erin)
    _settings(view)
    with qtbot.waitSignal(view.sig_trained, timeout=TRAINING_MS) as trained:
        qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(4000)
    outcome = trained.args[0]
    panel = view.results.robustness
    # One load only: the conditions table says why it is empty.
    assert panel.condition_rows() == [] and not panel.conditions_table.isVisibleTo(panel)
    assert "not run" in panel.conditions_label.text()

    # The same report with the gain check failed, as a gain-sensitive model would give.
    validation = dict(outcome.validation)
    robustness = dict(validation["robustness"])
    rows = [dict(r) for r in robustness["rows"]]
    rows[1].update(score=0.39, passed=False)
    robustness.update(rows=rows, robust=False,
                      reasons=[f"{rows[1]['name']}: accuracy 0.39, more than 5.0% below 1"])
    validation["robustness"] = robustness
    view.show_result(outcome.version, validation, outcome.parity)
    assert panel.not_robust
    assert view.results.result_tabs.tabText(view.results.robustness_tab) == \
        "Robustness (NOT ROBUST)"
    assert panel.verdict_label.text() == f"NOT ROBUST: {robustness['reasons'][0]}"
    assert view.results.robust_label.text().startswith("NOT ROBUST")
    assert panel.check_rows()[1][2] == "0.3900" and panel.check_rows()[1][5] == "FAILED"

    # A report from before the robustness table: said so, nothing invented.
    validation.pop("robustness")
    view.show_result(outcome.version, validation, outcome.parity)
    assert panel.check_rows() == [] and not panel.not_robust
    assert "not measured" in panel.verdict_label.text()
    assert view.results.robust_label.text() == ""


def test_a_window_of_the_trained_version_is_explained(qtbot, workspace, runner, synthetic):
    sv, erin = workspace.services, workspace.engineer
    view = _open(qtbot, sv, runner, erin)
    _settings(view)
    with qtbot.waitSignal(view.sig_trained, timeout=TRAINING_MS) as trained:
        qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(TRAINING_MS)
    ref = trained.args[0].version.ref
    panel = view.explain_panel
    assert panel.ref == ref and panel.explain_button.isEnabled()
    assert panel.recording_combo.count() == 3
    panel.recording_combo.setCurrentIndex(2)
    assert panel.start_spin.maximum() == 16_384 - 1024
    panel.start_spin.setValue(4096)
    with qtbot.waitSignal(panel.sig_explained, timeout=TRAINING_MS) as explained:
        qtbot.mouseClick(panel.explain_button, Qt.MouseButton.LeftButton)
    result = explained.args[0]
    expected = sv.explanations.explain_recording(
        erin, ref=ref, dataset=synthetic.dataset_id,
        recording=str(synthetic.recordings[2].index), start=4096)
    assert result.label == expected.label != ""
    assert panel.view.shown == expected.explanation.top(12)
    assert f"predicts {expected.label}" in panel.view.summary_label.text()
