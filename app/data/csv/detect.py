"""Detect a CSV file's encoding, delimiter, decimal mark and header from its first bytes."""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from app.data.errors import ImportRefused

HEAD_BYTES = 256 * 1024
HEAD_LINES = 50
DELIMITERS = (",", ";", "\t", "|")
_QUOTED = re.compile(r'"[^"]*"')
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+([eE][+-]?\d+)?$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Dialect:
    """The detected (or chosen) way to read a file."""

    encoding: str
    delimiter: str
    decimal: str
    header: bool


def read_head(path: Path) -> bytes:
    """The first bytes of ``path``; ImportRefused if it cannot be read or is empty."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not head.strip():
        raise ImportRefused(f"{path}: the file is empty")
    return head


def detect_encoding(head: bytes) -> str:
    """A codec name: from a byte-order mark, UTF-16 without one, else UTF-8 or cp1252.

    A few data lines of invalid UTF-8 do not switch away from UTF-8: those lines are rejected
    later with their line numbers instead of being read as something they are not.
    """
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if len(head) >= 4 and head.count(b"\x00") * 3 > len(head):
        # ASCII text in UTF-16 has a NUL in every other byte; which half tells the order.
        even_nuls = head[0::2].count(0)
        return "utf-16-be" if even_nuls > head[1::2].count(0) else "utf-16-le"
    lines = head.split(b"\n")[:-1] or [head]
    bad = []
    for no, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(no)
    if not bad or (bad[0] > 0 and len(bad) * 10 <= len(lines)):
        return "utf-8"
    try:  # Windows workstations write cp1252; it leaves five byte values undefined
        head.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def sample_lines(head: bytes, encoding: str) -> list[str]:
    """The first non-empty lines of ``head``, decoded leniently (only for guessing)."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(head) == HEAD_BYTES:
        lines = lines[:-1]  # the last one may be cut
    return [ln for ln in lines if ln.strip()][:HEAD_LINES]


def _numeric_share(lines: list[str], delimiter: str) -> float:
    fields = [f for ln in lines for f in ln.split(delimiter)]
    ok = sum(1 for f in fields if looks_numeric(f, ",", ()) or looks_numeric(f, ".", ()))
    return ok / max(len(fields), 1)


def detect_delimiter(lines: list[str]) -> str:
    """The candidate found the same (non-zero) number of times on most sample lines; ties
    go to the one whose fields read as numbers (so '1;2,5' splits at ';', not ',')."""
    best, best_score = ",", (0, 0.0, 0)
    for cand in DELIMITERS:
        counts = Counter(_QUOTED.sub("", ln).count(cand) for ln in lines)
        count, lines_with = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if not count:
            continue
        score = (lines_with, round(_numeric_share(lines[1:] or lines, cand), 2), count)
        if score > best_score:
            best, best_score = cand, score
    return best


def detect_decimal(lines: list[str], delimiter: str) -> str:
    """',' when numbers look like 1,5 (only possible if ',' is not the delimiter)."""
    if delimiter == ",":
        return "."
    fields = [f.strip().strip('"') for ln in lines[1:] for f in ln.split(delimiter)]
    comma = sum(1 for f in fields if _COMMA_DECIMAL.match(f))
    dot = sum(1 for f in fields if _DOT_DECIMAL.match(f))
    return "," if comma > dot else "."


def looks_numeric(text: str, decimal: str, missing: tuple[str, ...]) -> bool:
    """True for a number (or a missing-value marker) in this dialect."""
    text = text.strip().strip('"').strip()
    if text in missing:
        return True
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text


def detect(path: Path, *, encoding: str | None, delimiter: str | None, decimal: str | None,
           header: bool | None, missing: tuple[str, ...]) -> tuple[Dialect, list[str]]:
    """Fill in whatever was not chosen; returns the dialect and the sample lines."""
    head = read_head(path)
    enc = encoding or detect_encoding(head)
    try:
        codecs.lookup(enc)
    except LookupError as exc:
        raise ImportRefused(f"{path}: unknown text encoding {enc!r}") from exc
    if b"\r" in head and b"\n" not in head:
        raise ImportRefused(f"{path}: lines end in CR alone (old Mac format); convert the file "
                            "to LF or CRLF line ends")
    lines = sample_lines(head, enc)
    if not lines:
        raise ImportRefused(f"{path}: no text lines found (encoding {enc})")
    delim = delimiter or detect_delimiter(lines)
    dec = decimal or detect_decimal(lines, delim)
    if dec == delim:
        raise ImportRefused(f"{path}: the decimal mark and the delimiter are both {dec!r}")
    if header is None:
        first = lines[0].split(delim)
        header = not all(looks_numeric(f, dec, missing) for f in first)
    return Dialect(enc, delim, dec, header), lines
