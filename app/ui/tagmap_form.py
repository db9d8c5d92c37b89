"""What the tag-map editor shows and how its cells become a tag-map document (no Qt): the
columns of the tag and waveform tables, the device fields, text to values and back."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.services.tagmap_files import CHOICES, SETTINGS


@dataclass(frozen=True)
class Column:
    """One setting as a table column or a device field: its key in the tag map, its
    header, and its kind: ``text``, ``int``, ``number`` or ``choice`` (from ``choices``)."""

    key: str
    header: str
    kind: str = "text"
    choices: tuple[str, ...] = ()
    tip: str = ""


def _choice(key: str, header: str, options: str, tip: str = "") -> Column:
    return Column(key, header, "choice", CHOICES[options], tip)


TAG_COLUMNS = (
    Column("name", "Name", tip="letters, digits, _ . - (t is reserved)"),
    _choice("table", "Register type", "table", "holding, input, coil or discrete"),
    Column("address", "Address", "int", tip="protocol address, 0-based (40001 is 0)"),
    _choice("type", "Data type", "type", "empty: uint16 (bool for coils and discretes)"),
    Column("scale", "Scale", "number", tip="value = raw x scale + offset (empty: 1)"),
    Column("offset", "Offset", "number", tip="empty: 0"),
    Column("unit", "Unit"),
    _choice("word_order", "Word order", "word_order", "empty: the default word order"),
    _choice("byte_order", "Byte order", "byte_order", "empty: the default byte order"),
)
WAVEFORM_COLUMNS = (
    Column("name", "Name"),
    _choice("table", "Register type", "waveform_table"),
    Column("address", "Address", "int", tip="first register of the buffer"),
    Column("length", "Samples", "int", tip="samples in the buffer"),
    _choice("type", "Data type", "type"),
    Column("sample_rate_hz", "Sample rate (Hz)", "number"),
    Column("sequence_register", "Sequence register", "int",
           tip="uint16 counter the device bumps for each new buffer"),
    _choice("sequence_table", "Sequence table", "sequence_table",
            "empty: the buffer's register type"),
    Column("scale", "Scale", "number"),
    Column("offset", "Offset", "number"),
    Column("unit", "Unit"),
    _choice("word_order", "Word order", "word_order"),
    _choice("byte_order", "Byte order", "byte_order"),
    Column("check_rate_hz", "Counter checks (Hz)", "number",
           tip="empty: four times per buffer"),
)
#: The device fields by section; ``host``/``port`` are shown for TCP, the serial ones for RTU.
DEVICE_FIELDS = {
    "top": (Column("name", "Name", tip="shown in provenance and the GUI"),
            Column("poll_rate_hz", "Poll rate (Hz)", "number", tip="0.001 to 1000"),
            Column("max_gap", "Max gap (registers)", "int",
                   tip="unused registers a merged read may span (0 to 124)")),
    "connection": (Column("host", "Host"), Column("port", "Port", "int"),
                   Column("serial_port", "Serial port", tip="COM3, /dev/ttyUSB0"),
                   Column("baudrate", "Baud rate", "int"),
                   _choice("parity", "Parity", "parity"),
                   Column("stopbits", "Stop bits", "choice", ("1", "2")),
                   Column("bytesize", "Byte size", "choice", ("7", "8")),
                   Column("unit_id", "Unit id", "int", tip="1-247 on RTU, 0-255 on TCP"),
                   Column("timeout_s", "Timeout (s)", "number",
                          tip="every request waits at most this long"),
                   Column("reconnect_timeout_s", "Reconnect for (s)", "number",
                          tip="after a link loss, keep retrying this long")),
    "defaults": (_choice("word_order", "Default word order", "word_order"),
                 _choice("byte_order", "Default byte order", "byte_order")),
}
TCP_ONLY = frozenset({"host", "port"})
RTU_ONLY = frozenset({"serial_port", "baudrate", "parity", "stopbits", "bytesize"})
#: Settings stored as whole numbers although a choice shows them.
WHOLE_CHOICES = frozenset({"stopbits", "bytesize"})

#: What a new tag map starts with.
NEW_DOCUMENT: dict[str, Any] = {
    "name": "new device", "poll_rate_hz": 1.0,
    "connection": {"host": "127.0.0.1", "port": 502, "unit_id": 1, "timeout_s": 1.0},
}

_INT = re.compile(r"^[+-]?\d+$")


def shown(value: Any) -> str:
    """A setting's value as a cell shows it ('' for none)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parsed(text: str, column: Column) -> Any:
    """The value a cell's text stands for: None when empty (the default applies), a number
    for a number column when it reads as one, else the text itself (the parser then says
    what is wrong with it, naming the row and setting)."""
    text = text.strip()
    if not text:
        return None
    numeric = column.kind in ("int", "number") or column.key in WHOLE_CHOICES
    if numeric and _INT.match(text):
        return int(text)
    if numeric:
        try:
            return float(text)
        except ValueError:
            return text
    return text


def row_values(texts: dict[str, str], columns: tuple[Column, ...]) -> dict[str, Any]:
    """A [[tag]] or [[waveform]] table from a row's cell texts, empty cells left out."""
    out = {}
    for column in columns:
        value = parsed(texts.get(column.key, ""), column)
        if value is not None:
            out[column.key] = value
    return out


def left_out(document: dict[str, Any]) -> list[str]:
    """Settings of a loaded document the editor has no field for (typos, most likely),
    as sentences: they are not kept when it is saved."""
    notes = []
    for key in sorted(set(document) - set(SETTINGS["top"]) -
                      {"connection", "defaults", "tag", "waveform"}):
        notes.append(f"top level: the setting '{key}' is no tag-map setting")
    for section in ("connection", "defaults"):
        values = document.get(section)
        if isinstance(values, dict):
            for key in sorted(set(values) - set(SETTINGS[section])):
                notes.append(f"[{section}]: the setting '{key}' is no tag-map setting")
    for section in ("tag", "waveform"):
        rows = document.get(section)
        for i, values in enumerate(rows if isinstance(rows, list) else []):
            if not isinstance(values, dict):
                notes.append(f"{section} #{i + 1}: is no table")
                continue
            for key in sorted(set(values) - set(SETTINGS[section])):
                notes.append(f"{section} #{i + 1}: the setting '{key}' is no tag-map setting")
    return notes


def rows_of(document: dict[str, Any], section: str) -> list[dict[str, str]]:
    """The cell texts of every [[tag]] or [[waveform]] of a loaded document."""
    rows = document.get(section)
    return [{k: shown(v) for k, v in values.items()}
            for values in (rows if isinstance(rows, list) else []) if isinstance(values, dict)]


def problem_sentence(problems: tuple[Any, ...]) -> str:
    """The first problem as a sentence, and how many more there are."""
    if not problems:
        return ""
    first = str(problems[0])
    more = len(problems) - 1
    if more:
        first += (f" (and {more} more problem{'s' if more != 1 else ''}: point at a red cell "
                  "or field to read it)")
    return first
