"""Read a tag map from TOML and validate it; every message names the tag or setting at fault."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

from app.data.errors import TagMapError
from app.data.tagmap.document import read_document
from app.data.tagmap.model import MAX_ADDRESS, PARITIES, Connection, Tag, TagMap, Waveform
from app.data.tagmap.overlap import check_overlaps
from app.data.tagmap.problems import Problem
from app.fieldbus.codec import ORDERS, TYPES
from app.fieldbus.limits import BIT_TABLES, TABLES

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_MISSING = object()


class _Section:
    """Typed access to one TOML table; problems are collected, unknown keys reported."""

    def __init__(self, where: str, data: Any, problems: list[Problem], section: str = "top",
                 index: int | None = None) -> None:
        self.where, self.problems = where, problems
        self.section, self.index = section, index
        self.data = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.add("", "must be a table")
        self.used: set[str] = set()

    def add(self, key: str, text: str) -> None:
        """Note a problem of setting ``key`` ('' for the whole table) of this table."""
        self.problems.append(Problem(f"{self.where}: {text}", self.section, self.index, key))

    def get(self, key: str, kind: type | tuple, default: Any = _MISSING) -> Any:
        self.used.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                self.add(key, f"'{key}' is missing")
            return None if default is _MISSING else default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            self.add(key, f"'{key}' must be {names}, not {value!r}")
            return None if default is _MISSING else default
        return float(value) if float in kinds and int in kinds else value

    def choice(self, key: str, options: tuple[str, ...], default: Any = _MISSING) -> Any:
        value = self.get(key, str, default)
        if value is not None and value not in options:
            self.add(key, f"unknown {key} {value!r} (use {', '.join(options)})")
        return value

    def number(self, key: str, default: Any, low: float, high: float,
               integer: bool = False) -> Any:
        value = self.get(key, int if integer else (int, float), default)
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            self.add(key, f"{key} {value:g} is out of range ({low:g} to {high:g})")
            return None
        return value

    def finish(self) -> None:
        for key in sorted(set(self.data) - self.used):
            self.add(key, f"unknown setting '{key}'")


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _connection(data: Any, problems: list[Problem]) -> Connection:
    sec = _Section("[connection]", data, problems, "connection")
    host, serial = sec.get("host", str, None), sec.get("serial_port", str, None)
    if bool(host) == bool(serial):
        sec.add("host", "give either host (Modbus TCP) or serial_port (RTU)")
    rtu = bool(serial)
    conn = Connection(
        host=host, serial_port=serial, port=sec.number("port", 502, 1, 65535, True) or 502,
        baudrate=sec.number("baudrate", 19200, 300, 4_000_000, True) or 19200,
        parity=sec.choice("parity", PARITIES, "E") or "E",
        stopbits=sec.number("stopbits", 1, 1, 2, True) or 1,
        bytesize=sec.number("bytesize", 8, 7, 8, True) or 8,
        unit_id=_or(sec.number("unit_id", 1, 1 if rtu else 0, 247 if rtu else 255, True), 1),
        timeout_s=sec.number("timeout_s", 1.0, 0.01, 60.0) or 1.0,
        reconnect_timeout_s=_or(sec.number("reconnect_timeout_s", 30.0, 0.0, 86400.0), 30.0))
    sec.finish()
    return conn


def _common(sec: _Section, defaults: dict, bits_ok: bool) -> dict:
    table = sec.choice("table", TABLES)
    bits = table in BIT_TABLES
    kind = sec.choice("type", tuple(TYPES), "bool" if bits else "uint16")
    if bits and kind != "bool":
        sec.add("type", f"a {table} is one bit; its type must be bool")
    if not bits and kind == "bool" and table is not None:
        sec.add("type", "type bool is only for coil or discrete tables")
    if bits and not bits_ok:
        sec.add("table", "waveform buffers live in holding or input registers")
    scale = sec.number("scale", 1.0, -1e12, 1e12)
    if scale == 0:
        sec.add("scale", "scale must not be 0")
    return {"table": table, "type": kind, "scale": scale, "unit": sec.get("unit", str, ""),
            "offset": sec.number("offset", 0.0, -1e12, 1e12),
            "word_order": sec.choice("word_order", ORDERS, defaults.get("word_order", "big")),
            "byte_order": sec.choice("byte_order", ORDERS, defaults.get("byte_order", "big"))}


def _name(sec: _Section, seen: set[str]) -> str:
    name = sec.get("name", str)
    if name is None:
        return ""
    if not _NAME.match(name):
        sec.add("name", f"name {name!r} must start with a letter and hold only letters, "
                "digits, '_', '.', '-' (64 at most)")
    elif name in seen or name == "t":
        sec.add("name", f"the name {name!r} is used twice or reserved")
    seen.add(name)
    sec.where = f"tag {name!r}" if sec.where.startswith("tag") else f"waveform {name!r}"
    return name


def _address(sec: _Section, key: str, words: int) -> int | None:
    addr = sec.get(key, int)
    if addr is not None and not (addr >= 0 and addr + max(words, 1) - 1 <= MAX_ADDRESS):
        sec.add(key, f"{key} {addr} (+{words} registers) is outside 0 to {MAX_ADDRESS}")
        return None
    return addr


def _tag(data: Any, index: int, defaults: dict, seen: set[str], problems: list[Problem]
         ) -> Tag:
    sec = _Section(f"tag #{index + 1}", data, problems, "tag", index)
    name = _name(sec, seen)
    common = _common(sec, defaults, bits_ok=True)
    words = TYPES.get(common["type"] or "uint16", (1, None))[0]
    addr = _address(sec, "address", words)
    sec.finish()
    return Tag(name=name, address=addr if addr is not None else -1, **common)


def _waveform(data: Any, index: int, defaults: dict, seen: set[str],
              problems: list[Problem]) -> Waveform:
    sec = _Section(f"waveform #{index + 1}", data, problems, "waveform", index)
    name = _name(sec, seen)
    common = _common(sec, defaults, bits_ok=False)
    length = sec.number("length", None, 1, MAX_ADDRESS + 1, True) or 1
    words = TYPES.get(common["type"] or "uint16", (1, None))[0] * length
    addr = _address(sec, "address", words)
    seq = _address(sec, "sequence_register", 1)
    seq_table = sec.choice("sequence_table", ("holding", "input"), common["table"])
    wave = Waveform(name=name, address=addr if addr is not None else -1, length=length,
                    sample_rate_hz=sec.number("sample_rate_hz", None, 1e-3, 1e7) or 1.0,
                    sequence_address=seq if seq is not None else -1,
                    sequence_table=seq_table or "holding",
                    check_rate_hz=sec.number("check_rate_hz", None, 0.1, 500.0), **common)
    sec.finish()
    return wave


def parse_tagmap(text: str, source: str = "tag map") -> TagMap:
    """Build a :class:`TagMap` from TOML text; TagMapError lists every problem found."""
    doc = read_document(text, source)
    problems: list[Problem] = []
    top = _Section("top level", doc, problems)
    name = top.get("name", str, Path(source).stem)
    rate = top.number("poll_rate_hz", 1.0, 1e-3, 1000.0) or 1.0
    max_gap = top.number("max_gap", 0, 0, 124, True) or 0
    conn = _connection(top.get("connection", dict), problems)
    defaults = top.get("defaults", dict, {}) or {}
    dsec = _Section("[defaults]", defaults, problems, "defaults")
    dsec.choice("word_order", ORDERS, "big")
    dsec.choice("byte_order", ORDERS, "big")
    dsec.finish()
    seen: set[str] = set()
    tags = [_tag(t, i, defaults, seen, problems) for i, t in enumerate(top.get("tag", list, []))]
    waves = [_waveform(w, i, defaults, seen, problems)
             for i, w in enumerate(top.get("waveform", list, []))]
    top.finish()
    if not tags and not waves and not problems:
        top.add("tag", "no [[tag]] and no [[waveform]]: nothing to read")
    if not problems:
        problems.extend(check_overlaps(tags, waves))
    if problems:
        raise TagMapError(f"{source}: {len(problems)} problem(s):\n  - " +
                          "\n  - ".join(map(str, problems)), tuple(problems))
    return TagMap(name=name, connection=conn, poll_rate_hz=rate, tags=tuple(tags),
                  waveforms=tuple(waves), max_gap=max_gap, text=text,
                  sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def load_tagmap(path: Path) -> TagMap:
    """Read and validate a tag map file; TagMapError names the file and each problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TagMapError(f"{path}: cannot be read ({exc})") from exc
    return parse_tagmap(text, str(path))
