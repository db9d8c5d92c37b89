"""Tag-map files for an editor: open one as a document, check it with the real parser, save
it as TOML that parses (atomically, UTF-8). Nothing here touches the workspace or a device."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import UsageError
from app.data.errors import TagMapError
from app.data.tagmap.document import ORDER, dump_document, leading_comments, read_document
from app.data.tagmap.load import parse_tagmap
from app.data.tagmap.model import PARITIES, TagMap
from app.data.tagmap.problems import Problem
from app.fieldbus.codec import ORDERS, TYPES
from app.fieldbus.limits import BIT_TABLES, TABLES
from app.store.durable import durable_write

#: The values an editor offers per setting (what the parser accepts).
CHOICES: dict[str, tuple[str, ...]] = {
    "table": TABLES, "bit_tables": BIT_TABLES, "type": tuple(TYPES),
    "word_order": ORDERS, "byte_order": ORDERS, "parity": PARITIES,
    "waveform_table": ("holding", "input"), "sequence_table": ("holding", "input"),
}

#: The settings of each section of a tag map, in the order they are written.
SETTINGS: dict[str, tuple[str, ...]] = dict(ORDER)


@dataclass(frozen=True)
class TagMapDraft:
    """A tag map opened for editing: its tables as dicts (unchecked) and the comment it
    starts with (kept when it is saved again)."""

    document: dict[str, Any]
    header: str = ""


def open_tagmap(path: Path) -> TagMapDraft:
    """Read ``path`` for editing; TagMapError if it cannot be read or is no TOML (naming
    the line). A tag map with mistakes in it opens: the editor shows them."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TagMapError(f"{path}: cannot be read ({exc})") from exc
    return TagMapDraft(read_document(text, str(path)), leading_comments(text))


def tagmap_text(document: dict[str, Any], header: str = "") -> str:
    """The TOML text the document is saved as."""
    return dump_document(document, header)


def check_tagmap(document: dict[str, Any], source: str = "tag map"
                 ) -> tuple[TagMap | None, tuple[Problem, ...]]:
    """The tag map the document makes and no problems, or None and every problem (each
    placed on its section, row and setting)."""
    try:
        return parse_tagmap(dump_document(document), source), ()
    except TagMapError as exc:
        return None, tuple(exc.problems) or (Problem(str(exc)),)


def save_tagmap(path: Path, document: dict[str, Any], header: str = "") -> TagMap:
    """Write the document to ``path`` as TOML, only if the parser accepts it (TagMapError
    otherwise, the file untouched); atomic, so a crash leaves the old file or the new one."""
    path = Path(path)
    text = dump_document(document, header)
    tagmap = parse_tagmap(text, str(path))
    try:
        durable_write(path, text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be written ({exc})") from exc
    return tagmap
