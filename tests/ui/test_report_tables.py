"""Readable tables in place of raw JSON: lineage, validation and parity tabs, Compare; the
CWRU import's documented default channel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.data.synthetic import STATES, vibration
from app.services.options import binary_options
from app.services.recipes import make_recipe
from app.ui.dialogs.compare_dialog import CompareDialog
from app.ui.model_details import load_details
from app.ui.pages.data_view import DataView
from app.ui.report_rows import flat_diff, flat_rows
from app.ui.widgets.version_panel import VersionPanel


def test_flat_rows_open_nested_values_into_fields():
    report = {"metrics": {"accuracy": 0.987654321, "confusion": [[3, 1], [0, 4]],
                          "classes": ["healthy", "bearing_fault"]},
              "robustness": {"rows": [{"name": "gain x2", "score": 1.0, "passed": True}]},
              "deployable": False, "note": None}
    assert flat_rows(report) == [
        ("deployable", "false"),
        ("metrics.accuracy", "0.987654"),
        ("metrics.classes", "healthy, bearing_fault"),
        ("metrics.confusion[0]", "3, 1"),
        ("metrics.confusion[1]", "0, 4"),
        ("note", "-"),
        ("robustness.rows[gain x2].name", "gain x2"),
        ("robustness.rows[gain x2].passed", "true"),
        ("robustness.rows[gain x2].score", "1"),
    ]
    diff = {"state": ("draft", "validated"),
            "recipe": ({"model": "rf", "params": {"n_estimators": 20}, "seed": 0},
                       {"model": "rf", "params": {"n_estimators": 50}, "seed": 1})}
    assert flat_diff(diff) == [("state", "draft", "validated"),
                               ("recipe.params.n_estimators", "20", "50"),
                               ("recipe.seed", "0", "1")]


@pytest.fixture
def two_versions(workspace, tmp_path):
    """Two versions of one line, trained with different seeds and forests."""
    sv, erin = workspace.services, workspace.engineer
    paths = []
    for seed, state in enumerate(STATES):
        path = tmp_path / f"{state}.npz"
        np.savez(path, acc=vibration(state, 8192, seed=seed))
        paths.append(path)
    ds = sv.data_in.import_files(erin, paths=paths, name="fan",
                                 binary=binary_options(keys=["acc"], sample_rate=12000.0))
    for rec in ds.dataset.recordings:
        sv.datasets.label(erin, dataset=ds.dataset.dataset_id, recording=rec.index,
                          label=rec.name)
    return [sv.training.train(erin, dataset=ds.dataset.dataset_id, line="fan",
                              recipe=make_recipe(seed=seed, params={"n_estimators": n}),
                              window=1024, hop=1024).version.ref
            for seed, n in ((0, 10), (1, 12))]


def _no_json(rows) -> None:
    for row in rows:
        for cell in row[1:]:
            assert not cell.lstrip().startswith(("{", "[")), row


def test_lineage_validation_and_parity_tabs_are_tables(qtbot, workspace, runner,
                                                       two_versions):
    sv, erin = workspace.services, workspace.engineer
    ref = two_versions[0]
    panel = VersionPanel(runner)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    with qtbot.waitSignal(panel.sig_loaded, timeout=8000):
        panel.load(ref, lambda: load_details(sv, erin, ref))
    info = sv.registry.show(erin, ref=ref)

    lineage = dict(panel.lineage_page.rows())
    assert lineage["recipe.model"] == info.recipe["model"] == "random_forest"
    assert lineage["recipe.params.n_estimators"] == "10"
    assert lineage["feature spec.window"] == "1024"
    assert lineage["dataset id"] == info.dataset_id
    _no_json(panel.lineage_page.rows())
    assert panel.lineage_page.stack.currentWidget() is panel.lineage_page.table

    validation = sv.approvals.evidence(erin, ref=ref).validation
    rows = dict(panel.report_pages["validation_report.json"].rows())
    assert float(rows["metrics.accuracy"]) == pytest.approx(validation.metrics["accuracy"],
                                                            rel=1e-5)
    assert rows["metrics.classes"] == ", ".join(validation.metrics["classes"])
    for check in validation.robustness.checks:
        assert rows[f"robustness.rows[{check.name}].n"] == str(check.n)
    _no_json(panel.report_pages["validation_report.json"].rows())

    parity = dict(panel.report_pages["parity_report.json"].rows())
    assert parity["deployable"] in ("true", "false")
    _no_json(panel.report_pages["parity_report.json"].rows())

    # The stored text is one tick away, exactly as before.
    page = panel.report_pages["parity_report.json"]
    page.as_text.setChecked(True)
    assert page.stack.currentWidget() is panel.report_views["parity_report.json"]
    assert '"deployable"' in panel.report_views["parity_report.json"].toPlainText()

    # Sized to content: the field column is as wide as its longest name.
    table = panel.lineage_page.table
    widest = max(table.fontMetrics().horizontalAdvance(f) for f, _ in lineage.items())
    assert table.columnWidth(0) >= widest


def test_compare_opens_nested_fields(qtbot, workspace, runner, two_versions):
    sv, erin = workspace.services, workspace.engineer
    a, b = two_versions[1], two_versions[0]
    dialog = CompareDialog(sv, runner, erin, a, [b])
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sig_compared, timeout=5000):
        dialog.show()
    assert runner.wait_idle(5000)
    rows = {field: (x, y) for field, x, y in dialog.rows()}
    assert rows["recipe.seed"] == ("1", "0")
    assert rows["recipe.params.n_estimators"] == ("12", "10")
    assert "recipe" not in rows, "not two blobs of JSON"
    _no_json(dialog.rows())
    assert dialog.note_label.text() == f"{len(rows)} fields differ"
    dialog.reject()


def test_cwru_import_takes_the_drive_end_channel_by_default(qtbot, workspace, runner,
                                                           tmp_path):
    path = tmp_path / "1797_Normal.npz"
    n = 4096
    np.savez(path, DE=vibration("healthy", n)[:, None], FE=np.zeros((n, 1)),
             BA=np.ones((n, 1)))
    view = DataView(workspace.services, runner, workspace.engineer)
    qtbot.addWidget(view)
    view.show()
    assert runner.wait_idle(4000)
    view.choose_files = lambda: [path]
    qtbot.mouseClick(view.cwru_check, Qt.MouseButton.LeftButton)
    assert view.cwru_check.isChecked() and view.channels_edit.text() == ""
    assert view.channels_edit.placeholderText().startswith("DE")
    with qtbot.waitSignal(view.sig_imported, timeout=6000) as imported:
        view.import_files()
    assert runner.wait_idle(4000)
    dataset = imported.args[0].dataset
    assert [c.name for c in dataset.channels] == ["DE"]
    assert view.dataset_rows()[0][3] == "DE"
    # Named channels still win.
    view.channels_edit.setText("DE, FE")
    with qtbot.waitSignal(view.sig_imported, timeout=6000) as imported:
        view.import_files()
    assert runner.wait_idle(4000)
    assert [c.name for c in imported.args[0].dataset.channels] == ["DE", "FE"]
    qtbot.mouseClick(view.cwru_check, Qt.MouseButton.LeftButton)
    assert view.channels_edit.placeholderText().startswith("all")
