"""The main window's pages: their order, icons, the next step of the loop, and where each
role lands after signing in."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from app.core.principal import Principal
from app.core.roles import Role

#: ``translate("MainWindow", "text")``: the literal calls are what lupdate extracts into
#: resources/translations/*.ts (context "MainWindow", the one the catalogues have).
translate = QCoreApplication.translate


@dataclass(frozen=True)
class PageSpec:
    """One page: ``name`` is its key and English title; the class is imported on first show
    (``module``, ``cls``), so the pages' libraries stay off the start-up path."""

    name: str
    module: str
    cls: str
    attribute: str
    icon: str
    hint: str

    def title(self) -> str:
        """The page's title in the user's language."""
        return QCoreApplication.translate("MainWindow", self.name)

    def next_step(self) -> str:
        """The hint under the title: this page's step of the loop and what comes next."""
        return QCoreApplication.translate("MainWindow", self.hint)

    def load(self) -> type:
        """The page class (imported now if it was not yet)."""
        return getattr(importlib.import_module(self.module), self.cls)


# QT_TRANSLATE_NOOP marks the titles and hints for lupdate; PageSpec.title and next_step
# look them up when they are shown.
PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        str(QT_TRANSLATE_NOOP("MainWindow", "Data")), "app.ui.pages.data_view", "DataView",
        "data_view", "data",
        str(QT_TRANSLATE_NOOP("MainWindow", "Step 1: import files or record from the plant,"
                              " then label each recording. Next: train a model on the Train "
                              "page."))),
    PageSpec(
        str(QT_TRANSLATE_NOOP("MainWindow", "Train")), "app.ui.pages.train_view", "TrainView",
        "train_view", "train",
        str(QT_TRANSLATE_NOOP("MainWindow", "Step 2: train on a labelled dataset; the parity gate "
                              "checks the ONNX export. Next: propose the version on the Models "
                              "page."))),
    PageSpec(
        str(QT_TRANSLATE_NOOP("MainWindow", "Models")), "app.ui.pages.models_view", "ModelsView",
        "models_view", "models",
        str(QT_TRANSLATE_NOOP("MainWindow", "Step 3: an engineer proposes a validated version, "
                              "an approver signs it (four eyes); export the package by USB. Next: "
                              "deploy it on Controllers."))),
    PageSpec(
        str(QT_TRANSLATE_NOOP("MainWindow", "Controllers")), "app.ui.pages.controllers_view",
        "ControllersView", "controllers_view", "controllers",
        str(QT_TRANSLATE_NOOP("MainWindow", "Step 4: flash an approved version into a controller, "
                              "then watch its predictions and drift. A drift alarm leads back to "
                              "new data on the Data page."))),
    PageSpec(
        str(QT_TRANSLATE_NOOP("MainWindow", "Audit")), "app.ui.pages.audit_view", "AuditView",
        "audit_view", "audit",
        str(QT_TRANSLATE_NOOP("MainWindow", "Every step is recorded here: verify the trail, and "
                              "export it for the auditors."))),
)

PAGE_NAMES: tuple[str, ...] = tuple(spec.name for spec in PAGES)

#: Where each role starts. The administrators' own page (accounts, keys) is not built yet:
#: they land on Audit, the page closest to their work, until it is.
LANDING: dict[Role, str] = {
    Role.ENGINEER: "Data",
    Role.APPROVER: "Models",
    Role.OPERATOR: "Controllers",
    Role.AUDITOR: "Audit",
    Role.ADMIN: "Audit",
}


def spec_of(name: str) -> PageSpec:
    """The page called ``name``; KeyError for an unknown one."""
    for spec in PAGES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def landing_page(principal: Principal) -> str:
    """The page a user opens on: that of their first role in the order of :class:`Role`
    (an engineer who also approves starts on Data); Audit for a user without roles."""
    for role in Role:
        if role in principal.roles:
            return LANDING[role]
    return "Audit"

