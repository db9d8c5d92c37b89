"""Offline export of the audit trail (JSON Lines, CSV, checkpoint, public key, report) and
its verification on any machine, without the workspace."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.audit.chain import FIELDS
from app.audit.checkpoints import checkpoint_from_json, checkpoint_to_json
from app.audit.keys import AuditKey, load_public_pem, verify_signature
from app.audit.report import render_report
from app.audit.verify import verify_rows
from app.core.canonical import canonical_bytes
from app.core.errors import Conflict, IntegrityError
from app.core.progress import CancelToken, ProgressFn
from app.core.records import Checkpoint, VerifyReport
from app.store.durable import durable_write

EVENTS_JSONL = "events.jsonl"
EVENTS_CSV = "events.csv"
CHECKPOINT = "checkpoint.json"
PUBLIC_KEY = "audit_public_key.pem"
REPORT = "report.html"
MANIFEST = "manifest.json"
FORMAT = "plantml-audit-export-v1"


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
                 report_check: VerifyReport, *, progress: ProgressFn,
                 cancel: CancelToken) -> ExportResult:
    """Write an export into ``folder``; the manifest, signed by the audit key, comes last so
    an interrupted export never looks complete. ``rows_factory()`` yields rows in order."""
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
        put(PUBLIC_KEY, [key.public_pem()])
        progress(0.9, "writing report")
        put(REPORT, [render_report(rows_factory(), total, checkpoint, key.key_id,
                                   report_check).encode("utf-8")])
        files = {name: {"sha256": h, "length": n} for name, (h, n) in sorted(sizes.items())}
        signed = {"format": FORMAT, "events": total, "checkpoint_seq": checkpoint.seq,
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


def _hashing(chunks: Iterable[bytes], hasher) -> Iterator[bytes]:
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk


def is_export(path: Path) -> bool:
    """True if ``path`` is a folder holding an audit export."""
    return Path(path).is_dir() and (Path(path) / MANIFEST).exists()


def verify_export(folder: Path, pinned_public_pem: bytes | None = None) -> VerifyReport:
    """Verify an export with nothing but its own files (and optionally a pinned key).

    Raises :class:`IntegrityError` when the export's files themselves are damaged; returns a
    report naming the first bad sequence number when the events are.
    """
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        key_pem = (folder / PUBLIC_KEY).read_bytes()
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{folder} is not a readable audit export: {exc}") from exc
    public = load_public_pem(pinned_public_pem or key_pem,
                             "the pinned key" if pinned_public_pem else str(folder / PUBLIC_KEY))
    signed = {k: v for k, v in manifest.items() if k != "signature"}
    if not verify_signature(public, str(manifest.get("signature", "")), canonical_bytes(signed)):
        raise IntegrityError(f"{folder / MANIFEST}: the manifest signature does not verify with "
                             "the audit key")
    for name, meta in manifest.get("files", {}).items():
        path = folder / name
        if "/" in name or "\\" in name or not path.is_file():
            raise IntegrityError(f"{path}: listed in the manifest but missing")
        digest, length = _file_digest(path)
        if digest != meta["sha256"] or length != meta["length"]:
            raise IntegrityError(f"{path}: content differs from the manifest (changed or cut)")
    cp = checkpoint_from_json(json.loads((folder / CHECKPOINT).read_text(encoding="utf-8")))
    report = verify_rows(_export_rows(folder / EVENTS_JSONL), [cp], public,
                         require_checkpoint_at_end=True)
    if pinned_public_pem is None:
        report.notes.append(f"verified with the key shipped in the export ({report.key_id}); "
                            "compare this id with the workstation's, or pass --key")
    return report


def _file_digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    length = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(chunk)
            length += len(chunk)
    return hasher.hexdigest(), length


def _export_rows(path: Path) -> Iterator[tuple[int, str, str, str]]:
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                rec = json.loads(line)
                yield int(rec["seq"]), str(rec["body"]), str(rec["prev_hash"]), str(rec["hash"])
            except (ValueError, KeyError, TypeError) as exc:
                raise IntegrityError(f"{path} line {line_no}: not a valid event record") from exc
