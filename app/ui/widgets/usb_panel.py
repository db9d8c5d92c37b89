"""USB transfer on the Models page: export the selected approved version to a drive, import a
package from one; both run on the page's job controls with progress and Cancel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QWidget

from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.services import Services
from app.ui.look import icon
from app.ui.styles import GOOD_STYLE
from app.ui.widgets.job_controls import JobControls

PACKAGE_FILTER = "PlantML packages (*.plantml);;All files (*)"


class UsbPanel(QWidget):
    """The Export and Import buttons and what they do.

    ``current_ref`` names the version to export; ``refresh(select)`` reloads the page after
    a transfer (selecting ``select`` when given). Which role may press which button is the
    page's rule set; the services check again.
    """

    sig_exported = Signal(object)
    """An export to a drive finished and verified; carries the service's ExportResult."""

    sig_imported = Signal(object)
    """A package was imported; carries the ModelVersion it registered."""

    def __init__(self, services: Services, principal: Principal, jobs: JobControls,
                 current_ref: Callable[[], str | None],
                 refresh: Callable[[str | None], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.principal, self.jobs = services, principal, jobs
        self._current_ref, self._refresh = current_ref, refresh
        self.export_button = QPushButton(icon("export"), "Export to drive...")
        self.export_button.clicked.connect(self.export_to_drive)
        self.import_button = QPushButton(icon("import"), "Import from drive...")
        self.import_button.clicked.connect(self.import_from_drive)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.export_button)
        layout.addWidget(self.import_button)

    def choose_folder(self) -> Path | None:
        """Ask for the drive folder to export to; None if cancelled. Tests replace this."""
        folder = QFileDialog.getExistingDirectory(self, "Export the package to a drive",
                                                  self._drive_start())
        return Path(folder) if folder else None

    def choose_package_file(self) -> Path | None:
        """Ask for the package file to import; None if cancelled. Tests replace this."""
        name, _filter = QFileDialog.getOpenFileName(self, "Import a package from a drive",
                                                    self._drive_start(), PACKAGE_FILTER)
        return Path(name) if name else None

    def _drive_start(self) -> str:
        drives = self.services.packages.drives()
        return str(drives[0].path) if drives else str(Path.home())

    def export_to_drive(self) -> None:
        """Export the selected approved version to a chosen folder, with progress."""
        ref = self._current_ref()
        if self.jobs.running or ref is None:
            return
        folder = self.choose_folder()
        if folder is None:
            return
        export = self.services.packages.export_to_drive
        principal = self.principal
        # Refusals and failed transfers are audit events: the trail tab shows them.
        self.jobs.run(
            lambda progress, cancel: export(principal, ref=ref, drive_folder=folder,
                                            progress=progress, cancel=cancel),
            what=f"exporting {ref}", label="export", on_done=self._exported,
            after_error=lambda: self._refresh(None), keep_bar=True)

    def import_from_drive(self) -> None:
        """Import a chosen package file: verified, then registered with its lineage."""
        if self.jobs.running:
            return
        path = self.choose_package_file()
        if path is None:
            return
        do_import = self.services.packages.import_from_drive
        principal = self.principal
        self.jobs.run(
            lambda progress, cancel: do_import(principal, path=path, progress=progress,
                                               cancel=cancel),
            what=f"importing {path.name}", label="import", on_done=self._imported,
            after_error=lambda: self._refresh(None), keep_bar=True)

    def _exported(self, result) -> None:
        # The bar stays at 100 % with "safe to remove" until the next transfer.
        self.jobs.complete("safe to remove")
        self.jobs.show_message(f"exported to {result.path} and verified on the drive "
                               f"(sha256 {result.sha256[:16]}); safe to remove", GOOD_STYLE)
        self.sig_exported.emit(result)
        self._refresh(None)

    def _imported(self, info: ModelVersion) -> None:
        self.jobs.complete("imported")
        self.jobs.show_message(f"imported {info.ref} ({info.state}) with its lineage and "
                               "reports", GOOD_STYLE)
        self.sig_imported.emit(info)
        self._refresh(info.ref)
