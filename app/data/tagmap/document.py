"""A tag map as a plain document (the TOML tables as dicts) for an editor: read one from text,
write one back as TOML that :func:`app.data.tagmap.load.parse_tagmap` reads."""

from __future__ import annotations

import math
import re
import tomllib
from typing import Any

from app.data.errors import TagMapError
from app.data.tagmap.problems import Problem

#: The order settings are written in, per section (others follow, sorted).
ORDER = {
    "top": ("name", "poll_rate_hz", "max_gap"),
    "connection": ("host", "port", "serial_port", "baudrate", "parity", "stopbits",
                   "bytesize", "unit_id", "timeout_s", "reconnect_timeout_s"),
    "defaults": ("word_order", "byte_order"),
    "tag": ("name", "table", "address", "type", "word_order", "byte_order", "scale",
            "offset", "unit"),
    "waveform": ("name", "table", "address", "length", "type", "sample_rate_hz",
                 "sequence_register", "sequence_table", "word_order", "byte_order", "scale",
                 "offset", "unit", "check_rate_hz"),
}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f",
            "\r": "\\r"}


def read_document(text: str, source: str = "tag map") -> dict[str, Any]:
    """The TOML tables of ``text`` as dicts, unchecked (an editor shows what is wrong);
    TagMapError naming the line if it is no TOML at all."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = f"{source}: not valid TOML ({exc})"
        line = re.search(r"at line (\d+)", str(exc))
        raise TagMapError(message, (Problem(message, "toml", line=int(line.group(1))
                                            if line else None),)) from exc
    except RecursionError as exc:
        message = f"{source}: arrays or tables nested too deeply to be a tag map"
        raise TagMapError(message, (Problem(message, "toml"),)) from exc


def leading_comments(text: str) -> str:
    """The comment lines a file starts with (without their '#'), kept when it is rewritten."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].removeprefix(" "))
    return "\n".join(lines)


def _string(value: str) -> str:
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # shortest text that reads back as the same float
    if isinstance(value, str):
        return _string(value)
    raise TagMapError(f"{where}: a {type(value).__name__} cannot be written in a tag map")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _table(values: dict[str, Any], section: str, where: str) -> list[str]:
    first = [k for k in ORDER[section] if k in values]
    rest = sorted(k for k in values if k not in ORDER[section])
    return [f"{_key(k)} = {_value(values[k], f'{where} {k}')}" for k in first + rest
            if values[k] is not None]


def dump_document(doc: dict[str, Any], header: str = "") -> str:
    """TOML text of a tag-map document: top-level settings, [connection], [defaults], then
    every [[tag]] and [[waveform]] in order; ``header`` becomes its leading comment. None
    values are left out (the parser's default applies)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    tables = ("connection", "defaults", "tag", "waveform")
    top = {k: v for k, v in doc.items() if k not in tables}
    lines += _table(top, "top", "top level")
    for name in ("connection", "defaults"):
        values = doc.get(name)
        if values:
            lines += ["", f"[{name}]", *_table(values, name, f"[{name}]")]
    for name in ("tag", "waveform"):
        for i, values in enumerate(doc.get(name) or []):
            lines += ["", f"[[{name}]]", *_table(values, name, f"{name} #{i + 1}")]
    return "\n".join(lines).lstrip("\n") + "\n"
