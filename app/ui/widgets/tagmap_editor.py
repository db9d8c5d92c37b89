"""The tag-map editor: the device fields and a table of tags (and waveform buffers), checked
by the real parser as they are typed, saved as TOML that parses, and a "Test read" that reads
each tag once from the device and shows its value in its unit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import PlantMLError
from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.permissions import may, refuse_unless_allowed
from app.ui.styles import BAD_STYLE, GOOD_STYLE, WARN_STYLE, show_styled
from app.ui.tagmap_form import (
    NEW_DOCUMENT,
    TAG_COLUMNS,
    WAVEFORM_COLUMNS,
    left_out,
    problem_sentence,
    rows_of,
)
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.device_form import DeviceForm
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.tagmap_table import TagMapTable

TAGMAP_FILTER = "Tag maps (*.toml);;All files (*)"


class TagMapDialog(QDialog):
    """Edit one tag map. Every change is checked with the parser the acquisition uses; the
    first problem is said in one sentence and every field or cell at fault is marked red.
    Save writes only a tag map that parses. Test read runs on the task runner (free lane)
    with the tag map's timeout and a Cancel, and fills the Test read column."""

    sig_saved = Signal(object)
    """The tag map was saved; carries its path."""

    sig_read = Signal(object)
    """A test read ended; carries the service's TestRead."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 path: Path | None = None, document: dict[str, Any] | None = None,
                 header: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.principal = services, runner, principal
        self.path = Path(path) if path is not None else None
        self.header = header
        self.problems: tuple[Any, ...] = ()
        self.result: Any = None
        self.modified = False

        self.device = DeviceForm()
        self.device.sig_edited.connect(self._edited)
        self.tags = TagMapTable("tag", TAG_COLUMNS)
        self.waveforms = TagMapTable("waveform", WAVEFORM_COLUMNS)
        self.tabs = QTabWidget()
        self.add_tag_button = QPushButton("Add tag")
        self.remove_tag_button = QPushButton("Remove tag")
        self.add_waveform_button = QPushButton("Add waveform")
        self.remove_waveform_button = QPushButton("Remove waveform")
        for table, add, remove in ((self.tags, self.add_tag_button, self.remove_tag_button),
                                   (self.waveforms, self.add_waveform_button,
                                    self.remove_waveform_button)):
            table.sig_edited.connect(self._edited)
            add.clicked.connect(lambda *_a, t=table: self._add_row(t))
            remove.clicked.connect(lambda *_a, t=table: t.remove_selected())
            page = QWidget()
            page_layout = QVBoxLayout(page)
            row = QHBoxLayout()
            row.addWidget(add)
            row.addWidget(remove)
            row.addStretch(1)
            page_layout.addLayout(row)
            page_layout.addWidget(table, 1)
            self.tabs.addTab(page, "Tags" if table is self.tags else "Waveforms")

        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(self._busy_changed)
        self.message_label = self.jobs.message_label
        self.message_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_button = QPushButton("Test read")
        self.test_button.setToolTip("Connect to the device and read every tag once")
        self.test_button.clicked.connect(self._test_clicked)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self._save_clicked)
        self.save_as_button = QPushButton("Save as...")
        self.save_as_button.clicked.connect(self._save_as_clicked)
        buttons = QDialogButtonBox()
        for button in (self.test_button, self.save_button, self.save_as_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        if close is not None:
            close.clicked.connect(self.reject)

        device_box = QGroupBox("Device")
        QVBoxLayout(device_box).addWidget(self.device)
        self.editor = QWidget()
        editor_layout = QHBoxLayout(self.editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(device_box)
        editor_layout.addWidget(self.tabs, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.jobs)
        layout.addWidget(self.message_label)
        layout.addWidget(buttons)
        self.resize(1200, 640)

        refuse_unless_allowed(self.test_button, principal, Action.DATA_ACQUIRE, "A test read")
        self.load_document(document if document is not None else dict(NEW_DOCUMENT), header)

    # ---------------------------------------------------------------- the document

    def load_document(self, document: dict[str, Any], header: str = "") -> None:
        """Show ``document`` (a tag map's tables as dicts) and check it."""
        self.header = header
        self.device.set_document(document)
        self.tags.set_rows(rows_of(document, "tag"))
        self.waveforms.set_rows(rows_of(document, "waveform"))
        self.tabs.setCurrentIndex(1 if self.waveforms.rowCount() and
                                  not self.tags.rowCount() else 0)
        notes = left_out(document)
        self.modified = False
        self.validate()
        if notes:
            self.jobs.show_message("not kept when saved: " + "; ".join(notes), WARN_STYLE)
        self._update_title()

    def document(self) -> dict[str, Any]:
        """The tag map the fields and tables hold, as its TOML tables."""
        parts = self.device.sections()
        doc: dict[str, Any] = dict(parts["top"])
        doc["connection"] = parts["connection"]
        if parts["defaults"]:
            doc["defaults"] = parts["defaults"]
        tags, waves = self.tags.values(), self.waveforms.values()
        if tags:
            doc["tag"] = tags
        if waves:
            doc["waveform"] = waves
        return doc

    def text(self) -> str:
        """The TOML the tag map is saved as."""
        return self.services.data_in.tagmap_text(self.document(), self.header)

    def validate(self) -> tuple[Any, ...]:
        """Check the tag map with the parser; mark what is wrong and say the first problem.
        Returns the problems (empty: it is valid)."""
        _, self.problems = self.services.data_in.check_tagmap(self.document(),
                                                              self._source())
        by_section: dict[str, list[Any]] = {}
        for problem in self.problems:
            by_section.setdefault(problem.section, []).append(problem)
        self.device.mark([p for p in self.problems
                          if p.section in ("top", "connection", "defaults")])
        self.tags.mark(by_section.get("tag", []))
        self.waveforms.mark(by_section.get("waveform", []))
        if self.problems:
            show_styled(self.problem_label, problem_sentence(self.problems), BAD_STYLE)
        else:
            n, w = self.tags.rowCount(), self.waveforms.rowCount()
            show_styled(self.problem_label, f"valid: {n} tag{'s' if n != 1 else ''}"
                        + (f", {w} waveform{'s' if w != 1 else ''}" if w else ""), GOOD_STYLE)
        return self.problems

    def _source(self) -> str:
        return str(self.path) if self.path is not None else "tag map"

    def _edited(self) -> None:
        self.modified = True
        self.tags.show_readings([])
        self.waveforms.show_readings([])
        if self.result is not None:  # what the last test read said is about another map
            self.result = None
            self.jobs.show_message("", GOOD_STYLE)
        self.validate()
        self._update_title()

    def _add_row(self, table: TagMapTable) -> None:
        texts = {"table": "holding"} if table is self.tags else \
            {"table": "input", "type": "float32"}
        table.add_row(texts)

    def _update_title(self) -> None:
        name = self.path.name if self.path is not None else "new tag map"
        self.setWindowTitle(f"Tag map: {name}{' *' if self.modified else ''}")

    # ---------------------------------------------------------------- saving

    def choose_save_path(self) -> Path | None:
        """Ask where to save; None if cancelled. Tests replace this."""
        start = str(self.path) if self.path is not None else str(Path.home() / "tagmap.toml")
        path, _ = QFileDialog.getSaveFileName(self, "Save the tag map", start, TAGMAP_FILTER)
        if not path:
            return None
        chosen = Path(path)
        return chosen if chosen.suffix else chosen.with_suffix(".toml")

    def save(self, path: Path | None = None) -> bool:
        """Write the tag map (to ``path``, else its own file, else one asked for) if the
        parser accepts it; False with the reason shown if not."""
        problems = self.validate()
        if problems:
            self.jobs.show_message(f"not saved: {problem_sentence(problems)}", BAD_STYLE)
            return False
        target = path or self.path or self.choose_save_path()
        if target is None:
            return False
        try:
            self.services.data_in.save_tagmap(target, self.document(), self.header)
        except PlantMLError as exc:
            self.jobs.show_message(f"not saved: {describe_error(exc)}", BAD_STYLE)
            return False
        self.path = Path(target)
        self.modified = False
        self._update_title()
        self.validate()
        self.jobs.show_message(f"saved {self.path}", GOOD_STYLE)
        self.sig_saved.emit(self.path)
        return True

    def save_as(self) -> bool:
        """Save under a file name asked for."""
        path = self.choose_save_path()
        return self.save(path) if path is not None else False

    def _save_clicked(self, *_args: object) -> None:
        self.save()

    def _save_as_clicked(self, *_args: object) -> None:
        self.save_as()

    # ---------------------------------------------------------------- test read

    @property
    def reading(self) -> bool:
        """True while a test read runs."""
        return self.jobs.running

    def test_read(self) -> None:
        """Read every tag once from the device (in the background, Cancel stops it)."""
        if self.jobs.running or not may(self.principal, Action.DATA_ACQUIRE):
            return
        problems = self.validate()
        if problems:
            self.jobs.show_message(f"fix the tag map first: {problem_sentence(problems)}",
                                   BAD_STYLE)
            return
        text, source, principal = self.text(), self._source(), self.principal
        read = self.services.data_in.read_tags_once
        self.tags.show_readings([])
        self.waveforms.show_readings([])
        self.jobs.run(lambda progress, cancel: read(principal, text=text, source=source,
                                                    progress=progress, cancel=cancel),
                      what="test read", label="test read", on_done=self._read_done,
                      cancelled="test read cancelled", writes=False)

    def _test_clicked(self, *_args: object) -> None:
        self.test_read()

    def _read_done(self, result: Any) -> None:
        self.result = result
        n_tags = self.tags.rowCount()
        self.tags.show_readings(list(result.readings[:n_tags]))
        self.waveforms.show_readings(list(result.readings[n_tags:]))
        failed = [r for r in result.readings if r.value is None]
        if result.error:
            self.jobs.show_message(f"test read of {result.device}: {result.error}", BAD_STYLE)
        elif failed:
            self.jobs.show_message(
                f"{len(failed)} of {len(result.readings)} could not be read from "
                f"{result.device}; the Test read column says why", WARN_STYLE)
        else:
            self.jobs.show_message(f"read {len(result.readings)} from {result.device} in "
                                   f"{result.seconds:.2f} s", GOOD_STYLE)
        self.sig_read.emit(result)

    def _busy_changed(self, busy: bool) -> None:
        self.editor.setEnabled(not busy)
        for button in (self.save_button, self.save_as_button):
            button.setEnabled(not busy)
        if may(self.principal, Action.DATA_ACQUIRE):
            self.test_button.setEnabled(not busy)

    def done(self, result: int) -> None:
        """Closing stops a test read still running (at its next request)."""
        if self.jobs.running:
            self.jobs.cancel()
        super().done(result)
