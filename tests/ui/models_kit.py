"""Helpers for the Models page tests: open the view, click, release through the services."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.ui.pages.models_view import ModelsView
from tests.ui.conftest import PASSWORDS


def open_view(qtbot, services, runner, principal) -> ModelsView:
    """A shown Models page with its tree and the first version's details loaded."""
    view = ModelsView(services, runner, principal)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()  # the first showing loads the tree, then the selected version
    assert runner.wait_idle(5000)
    return view


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def select(view: ModelsView, runner, ref: str) -> None:
    """Select ``ref`` and wait for its details."""
    assert view.select(ref), f"{ref} is not listed: {view.version_refs()}"
    assert runner.wait_idle(5000)
    assert view.details is not None and view.details.info.ref == ref


def propose(services, who, ref: str = "pump-7:v1"):
    return services.approvals.propose(who, ref=ref, password=PASSWORDS[who.username],
                                      hardware_ids=["EDGE-01"], reason="ready for line 3")


def approve(services, who, ref: str = "pump-7:v1"):
    return services.approvals.decide(who, ref=ref, password=PASSWORDS[who.username],
                                     meaning="approved", reason="evidence reviewed")
