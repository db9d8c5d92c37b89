"""Writing a version's ONNX model to a file: where to, whether to replace one, the job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.core.errors import StorageError
from app.core.principal import Principal
from app.services import Services
from app.ui.styles import GOOD_STYLE
from app.ui.widgets.job_controls import JobControls

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"


def choose_onnx_file(parent: QWidget, ref: str) -> Path | None:
    """Ask where to write the ONNX model of ``ref``; None if cancelled."""
    start = Path.home() / f"{ref.replace(':', '-')}.onnx"
    # The page asks before replacing (confirm_overwrite), so the dialog does not too.
    name, _filter = QFileDialog.getSaveFileName(
        parent, f"Export the ONNX model of {ref}", str(start), ONNX_FILTER,
        options=QFileDialog.Option.DontConfirmOverwrite)
    return Path(name) if name else None


def confirm_overwrite(parent: QWidget, path: Path) -> bool:
    """Ask before replacing ``path`` with the ONNX model."""
    answer = QMessageBox.question(
        parent, "Replace the file?", f"{path} exists. Replace it with the ONNX model?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class OnnxExport(QObject):
    """Writes a version's ONNX model on ``jobs`` (the service refuses a version that did not
    pass the parity gate) and says where to; then the page reloads (``refresh(select)``),
    as the export is in the version's trail."""

    sig_exported = Signal(object)
    """The ONNX file was written; carries its Path."""

    def __init__(self, services: Services, principal: Principal, jobs: JobControls,
                 refresh: Callable[[str | None], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services, self.principal, self.jobs = services, principal, jobs
        self._refresh = refresh

    def export(self, ref: str, path: Path) -> None:
        """Write the ONNX model of ``ref`` to ``path`` in the background."""
        export, principal = self.services.training.export, self.principal

        def job() -> Path:
            try:
                return export(principal, ref=ref, out=path)
            except OSError as exc:  # a folder, a read-only stick, a full disk
                raise StorageError(f"the ONNX file {path} could not be written: "
                                   f"{exc.strerror or exc}") from exc

        def done(written: Path) -> None:
            self.jobs.show_message(f"ONNX model of {ref} written to {written}", GOOD_STYLE)
            self.sig_exported.emit(written)
            self._refresh(ref)  # the export is in the version's trail

        self.jobs.run(job, what=f"writing the ONNX model of {ref}", label="ONNX export",
                      cancellable=False, on_done=done, after_error=lambda: self._refresh(None))
