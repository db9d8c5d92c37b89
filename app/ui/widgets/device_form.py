"""The tag-map editor's device fields: name and poll rate, where the device is (Modbus TCP or
RTU, with the fields of that transport only), unit id, timeouts, default word and byte order."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QWidget

from app.ui.tagmap_form import DEVICE_FIELDS, RTU_ONLY, TCP_ONLY, Column, parsed, shown

TCP, RTU = "Modbus TCP", "Modbus RTU (serial)"
#: How a field the parser finds fault with looks (its tooltip says why).
PROBLEM_FIELD_STYLE = "background-color: #fde0dc;"

FieldWidget = QLineEdit | QComboBox


class DeviceForm(QWidget):
    """One field per device setting; :meth:`sections` gives them back as the top-level,
    ``[connection]`` and ``[defaults]`` tables (empty fields left out)."""

    sig_edited = Signal()
    """The user changed a field or the transport."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        self.transport_combo = QComboBox()
        self.transport_combo.addItems([TCP, RTU])
        self.transport_combo.currentIndexChanged.connect(self._transport_changed)
        self.fields: dict[tuple[str, str], FieldWidget] = {}
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        for section, columns in DEVICE_FIELDS.items():
            for column in columns:
                widget = self._field(column)
                self.fields[section, column.key] = widget
                if section == "connection" and column.key == "host":
                    self.layout_.addRow("Transport", self.transport_combo)
                self.layout_.addRow(column.header, widget)
        self._transport_changed()

    def _field(self, column: Column) -> FieldWidget:
        widget: FieldWidget
        if column.kind == "choice":
            widget = QComboBox()
            widget.addItems(["", *column.choices])
            widget.currentTextChanged.connect(self._edited)
        else:
            widget = QLineEdit()
            widget.textEdited.connect(self._edited)
        widget.setObjectName(column.key)
        widget.setToolTip(column.tip)
        widget.setProperty("tip", column.tip)
        return widget

    def field(self, section: str, key: str) -> FieldWidget:
        """The widget of setting ``key`` in ``section`` (top, connection, defaults)."""
        return self.fields[section, key]

    @property
    def rtu(self) -> bool:
        """True when the device is on a serial line (Modbus RTU)."""
        return self.transport_combo.currentText() == RTU

    def _transport_changed(self, *_args: object) -> None:
        for (section, key), widget in self.fields.items():
            if section == "connection" and key in TCP_ONLY | RTU_ONLY:
                visible = (key in RTU_ONLY) == self.rtu
                widget.setVisible(visible)
                label = self.layout_.labelForField(widget)
                if isinstance(label, QLabel):
                    label.setVisible(visible)
        self._edited()

    def _edited(self, *_args: object) -> None:
        if not self._quiet:
            self.sig_edited.emit()

    # ---------------------------------------------------------------- values

    def set_document(self, document: dict[str, Any]) -> None:
        """Show the device settings of a loaded document."""
        self._quiet = True
        try:
            tables = {"top": document, "connection": document.get("connection"),
                      "defaults": document.get("defaults")}
            conn = tables["connection"] if isinstance(tables["connection"], dict) else {}
            self.transport_combo.setCurrentText(
                RTU if conn.get("serial_port") and not conn.get("host") else TCP)
            for (section, key), widget in self.fields.items():
                values = tables[section]
                text = shown(values.get(key)) if isinstance(values, dict) else ""
                if isinstance(widget, QComboBox):
                    if widget.findText(text) < 0:
                        widget.addItem(text)  # shown as loaded: the parser names it
                    widget.setCurrentText(text)
                else:
                    widget.setText(text)
            self._transport_changed()
        finally:
            self._quiet = False

    def set_text(self, section: str, key: str, text: str) -> None:
        """Put ``text`` in a field, as the user would."""
        widget = self.fields[section, key]
        if isinstance(widget, QComboBox):
            widget.setCurrentText(text)
        else:
            widget.setText(text)
            self._edited()

    def sections(self) -> dict[str, dict[str, Any]]:
        """The top-level, connection and defaults settings the fields hold; the fields of
        the other transport are left out."""
        out: dict[str, dict[str, Any]] = {"top": {}, "connection": {}, "defaults": {}}
        for section, columns in DEVICE_FIELDS.items():
            for column in columns:
                if section == "connection" and column.key in (TCP_ONLY if self.rtu
                                                              else RTU_ONLY):
                    continue
                widget = self.fields[section, column.key]
                text = (widget.currentText() if isinstance(widget, QComboBox)
                        else widget.text())
                value = parsed(text, column)
                if value is not None:
                    out[section][column.key] = value
        return out

    def mark(self, problems: list[Any]) -> None:
        """Mark the fields of ``problems`` (top, connection and defaults ones) red, each
        with its message as tooltip; clear every other mark."""
        at: dict[tuple[str, str], list[str]] = {}
        for problem in problems:
            key = (problem.section, problem.key)
            if key == ("connection", "host") and self.rtu:
                key = ("connection", "serial_port")  # "give either host or serial_port"
            if key in self.fields:
                at.setdefault(key, []).append(problem.message)
        for key, widget in self.fields.items():
            messages = at.get(key)
            widget.setStyleSheet(PROBLEM_FIELD_STYLE if messages else "")
            widget.setToolTip("\n".join(messages) if messages else
                              str(widget.property("tip") or ""))
            widget.setProperty("problem", bool(messages))

    def marked(self) -> list[tuple[str, str]]:
        """(section, setting) of every field marked red."""
        return [key for key, widget in self.fields.items() if widget.property("problem")]

