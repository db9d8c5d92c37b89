"""Offline export of the audit trail: JSON Lines, CSV, checkpoints, the public keys that
signed them, HTML and PDF reports, the standalone verifier, and a manifest signed by the
audit key (docs/audit-export.md)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.audit.chain import FIELDS
from app.audit.checkpoints import checkpoint_to_json
from app.audit.keylist import KEYS, ListedKey, key_list_bytes
from app.audit.keys import AuditKey
from app.audit.pdf_report import render_pdf
from app.audit.report import render_report
from app.core.canonical import canonical_bytes
from app.core.errors import Conflict
from app.core.progress import CancelToken, ProgressFn
from app.core.records import Checkpoint, VerifyReport
from app.store.durable import durable_write

EVENTS_JSONL = "events.jsonl"
EVENTS_CSV = "events.csv"
CHECKPOINT = "checkpoint.json"
CHECKPOINTS = "checkpoints.jsonl"
PUBLIC_KEY = "audit_public_key.pem"
REPORT = "report.html"
REPORT_PDF = "report.pdf"
MANIFEST = "manifest.json"
VERIFIER = "plantml_audit_verify.py"
FORMAT = "plantml-audit-export-v3"
#: Exports written before the key list (one key, audit_public_key.pem); still verifiable.
FORMAT_V2 = "plantml-audit-export-v2"
#: Exports written before checkpoints.jsonl and the stated interval; still verifiable.
FORMAT_V1 = "plantml-audit-export-v1"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    folder: Path
    events: int
    checkpoint: Checkpoint
    files: tuple[str, ...]


def _jsonl(rows: Iterable[tuple[int, str, str, str]], total: int, progress: ProgressFn,
           cancel: CancelToken) -> Iterator[bytes]:
    buf: list[str] = []
    for i, (seq, body, prev, digest) in enumerate(rows, 1):
        buf.append(json.dumps({"seq": seq, "prev_hash": prev, "hash": digest, "body": body},
                              ensure_ascii=False))
        if len(buf) >= 5000:
            cancel.raise_if_cancelled()
            progress(0.05 + 0.6 * i / max(total, 1), f"writing events ({i} of {total})")
            yield ("\n".join(buf) + "\n").encode("utf-8")
            buf.clear()
    if buf:
        yield ("\n".join(buf) + "\n").encode("utf-8")


def _csv(rows: Iterable[tuple[int, str, str, str]], cancel: CancelToken) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("seq", *FIELDS, "prev_hash", "hash"))
    # A BOM so that Excel, which auditors open CSV files with, reads UTF-8 correctly.
    yield b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
    for i, (seq, body, prev, digest) in enumerate(rows, 1):
        out.seek(0)
        out.truncate()
        data = json.loads(body)
        writer.writerow((seq, *(_cell(data[f]) for f in FIELDS), prev, digest))
        if i % 5000 == 0:
            cancel.raise_if_cancelled()
        yield out.getvalue().encode("utf-8")


#: A cell starting with one of these is a formula (or a DDE call) to Excel and LibreOffice.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True,
                                                           ensure_ascii=False)
    # OWASP's CSV-injection advice: a leading quote makes the cell plain text; the exact
    # value stays in events.jsonl, which is what verification reads.
    return "'" + text if text.startswith(FORMULA_START) else text


def write_export(folder: Path, rows_factory, total: int, checkpoint: Checkpoint, key: AuditKey,
                 report_check: VerifyReport, *, progress: ProgressFn, cancel: CancelToken,
                 checkpoints: Iterable[Checkpoint] = (), interval: int = 100,
                 every: int = 0, verifier: bytes | None = None,
                 keys: Sequence[ListedKey] = ()) -> ExportResult:
    """Write an export into ``folder``; the manifest, signed by the audit key, comes last so
    an interrupted export never looks complete. ``rows_factory()`` yields rows in order.

    ``checkpoints`` are every signed checkpoint up to ``checkpoint`` (the closing one),
    ``interval`` the largest checkpoint interval the trail was written with, ``every`` the
    step whose every multiple has a checkpoint (0: none stated),
    ``verifier`` the standalone verifier's source, copied in for the auditor, and ``keys``
    the public keys of the workstations that signed checkpoints (the exporting key is always
    listed, first); docs/audit-export.md describes every file.
    """
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Conflict(f"{folder} is not empty; choose a new or empty folder for the export")
    folder.mkdir(parents=True, exist_ok=True)
    progress(0.02, "writing events")
    sizes: dict[str, tuple[str, int]] = {}

    def put(name: str, chunks: Iterable[bytes]) -> None:
        hasher = hashlib.sha256()
        counted = _hashing(chunks, hasher)
        length = durable_write(folder / name, counted)
        sizes[name] = (hasher.hexdigest(), length)

    try:
        put(EVENTS_JSONL, _jsonl(rows_factory(), total, progress, cancel))
        progress(0.7, "writing CSV")
        put(EVENTS_CSV, _csv(rows_factory(), cancel))
        put(CHECKPOINT, [json.dumps(checkpoint_to_json(checkpoint), indent=2).encode("utf-8")])
        earlier = sorted({c.seq: c for c in checkpoints if c.seq <= checkpoint.seq}.values(),
                         key=lambda c: c.seq)
        put(CHECKPOINTS, [(json.dumps(checkpoint_to_json(c), sort_keys=True) + "\n").encode()
                          for c in earlier])
        put(PUBLIC_KEY, [key.public_pem()])
        own = ListedKey(key.key_id, checkpoint.workstation, key.public)
        listed = [own, *(k for k in keys if k.key_id != key.key_id)]
        put(KEYS, [key_list_bytes(listed)])
        if verifier is not None:
            put(VERIFIER, [verifier])
        progress(0.8, "writing report")
        put(REPORT, [render_report(rows_factory(), total, checkpoint, listed,
                                   report_check).encode("utf-8")])
        # Printed on every page of the PDF: it names the evidence the pages came from.
        digest = export_hash(sizes)
        put(REPORT_PDF, [render_pdf(
            rows_factory(), total, checkpoint, earlier, listed, report_check, digest,
            cancel=cancel,
            progress=lambda f, m: progress(0.8 + 0.15 * f, m))])
        files = {name: {"sha256": h, "length": n} for name, (h, n) in sorted(sizes.items())}
        signed = {"format": FORMAT, "events": total, "checkpoint_seq": checkpoint.seq,
                  "checkpoint_interval": int(interval), "checkpoint_every": int(every),
                  "key_id": key.key_id, "files": files}
        manifest = dict(signed, signature=key.sign(canonical_bytes(signed)))
        durable_write(folder / MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
    except BaseException:
        # A half-written export must not lie around looking like evidence.
        for name in sizes:
            with contextlib.suppress(OSError):
                (folder / name).unlink()
        raise
    progress(1.0, "export complete")
    return ExportResult(folder=folder, events=total, checkpoint=checkpoint,
                        files=(*sorted(sizes), MANIFEST))


def export_hash(files: dict[str, tuple[str, int]]) -> str:
    """SHA-256 of the canonical JSON ``{name: {"sha256", "length"}}`` of the evidence files
    (every file written before the PDF report); docs/audit-export.md."""
    listed = {name: {"sha256": h, "length": n} for name, (h, n) in sorted(files.items())}
    return hashlib.sha256(canonical_bytes(listed)).hexdigest()


def _hashing(chunks: Iterable[bytes], hasher) -> Iterator[bytes]:
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk
