"""Helpers for the Controllers page tests: approved models, a controller, the view, clicks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from app.core.principal import Principal
from app.data.synthetic import STATES, vibration
from app.services import Services
from app.services.controller_runtime import RunningController, start_controller
from app.services.options import binary_options
from app.services.recipes import make_recipe
from app.ui.pages.controllers_view import ControllersView
from tests.ui.conftest import PASSWORDS

HARDWARE_ID = "EDGE-01"

#: Samples per synthetic recording: enough windows of 1024 to train and validate.
SAMPLES = 16_384


def trained(services: Services, people: dict[str, Principal], tmp_path: Path,
            versions: int = 1) -> list[str]:
    """Import and label a synthetic pump dataset, train ``versions`` versions of pump-7 and
    have each proposed (erin) and approved (avery) for EDGE-01; returns their refs."""
    erin, avery = people["erin"], people["avery"]
    paths = []
    for k, state in enumerate(STATES):
        path = tmp_path / f"{state}.npz"
        np.savez(path, acc=vibration(state, SAMPLES, seed=k))
        paths.append(path)
    ds = services.data_in.import_files(erin, paths=paths, name="pump",
                                       binary=binary_options(keys=["acc"],
                                                             sample_rate=12_000.0)).dataset
    for i, state in enumerate(STATES):
        services.datasets.label(erin, dataset=ds.dataset_id, recording=i, label=state)
    refs = []
    for seed in range(versions):
        v = services.training.train(erin, dataset=ds.dataset_id, line="pump-7",
                                    recipe=make_recipe(seed=seed), window=1024, hop=1024).version
        services.approvals.propose(erin, ref=v.ref, password=PASSWORDS["erin"],
                                   hardware_ids=[HARDWARE_ID], reason="ready")
        services.approvals.decide(avery, ref=v.ref, password=PASSWORDS["avery"],
                                  meaning="approved", reason="ok")
        refs.append(v.ref)
    return refs


def controller(services: Services, admin: Principal, tmp_path: Path) -> RunningController:
    """The reference controller on 127.0.0.1 (a free port), trusting this workspace's keys and
    replaying a healthy pump as its sensor. Stop it at the end of the test."""
    trust = tmp_path / "trust.json"
    services.keys.export(admin, path=trust)
    return start_controller(state_dir=tmp_path / "edge", hardware_id=HARDWARE_ID, trust=trust,
                            tcp="127.0.0.1:0", replay=vibration("healthy", 60_000)[None, :],
                            commit_deadline_s=30)


def open_view(qtbot, services: Services, runner, principal: Principal) -> ControllersView:
    """A shown Controllers page with its port list and approved versions loaded."""
    view = ControllersView(services, runner, principal)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    assert runner.wait_idle(5000)
    return view


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def add_and_scan(qtbot, view: ControllersView, runner, *targets: str) -> None:
    """Type each endpoint, click Add, then Scan, and wait for the table."""
    for target in targets:
        view.tcp_edit.clear()
        qtbot.keyClicks(view.tcp_edit, target)
        click(qtbot, view.add_button)
    with qtbot.waitSignal(view.sig_scanned, timeout=5000):
        click(qtbot, view.scan_button)
    assert runner.wait_idle(5000)
