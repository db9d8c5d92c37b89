"""The auditor's PDF report of an audit export: every event, the checkpoints, the verdict.

Every page carries the export hash (docs/audit-export.md: SHA-256 over the canonical JSON of
the evidence files' names, hashes and lengths) and its page number, so a printed page can be
matched to the export it came from. Fonts are bundled (resources/fonts), never the system's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.audit.keylist import ListedKey
from app.core.progress import CancelToken, ProgressFn
from app.core.records import Checkpoint, VerifyReport
from app.core.resources import resource

FONT = "DejaVu"
MONO = "DejaVuMono"
#: Event columns and their widths in characters of the monospaced table font: one text run
#: per event keeps a million-event report to minutes (fpdf2 cells cost ~60x more).
COLUMNS = (("seq", 8), ("time (UTC)", 19), ("user", 14), ("role", 9), ("action", 24),
           ("object", 36), ("result", 8), ("reason", 66))
TABLE_PT = 6.5
ROW_H = 3.6


def _fit(text: object, width: int) -> str:
    """``text`` on one line, cut with an ellipsis to ``width`` characters, padded."""
    flat = " ".join(str(text or "").split())
    return (flat if len(flat) <= width else flat[:width - 1] + "…").ljust(width)


def event_line(seq: int, ev: dict) -> str:
    """One event as a row of the table (the time to the second, in UTC as recorded)."""
    values = (seq, ev["ts"][:19].replace("T", " "), ev["user"], ev["role"], ev["action"],
              ev["object"], ev["result"], ev["reason"])
    return " ".join(_fit(v, w) for v, (_t, w) in zip(values, COLUMNS, strict=True)).rstrip()


class _Report(FPDF):
    def __init__(self, export_hash: str, workstation: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.export_hash, self.workstation = export_hash, workstation
        self.add_font(FONT, "", str(resource("fonts", "DejaVuSansCondensed.ttf")))
        self.add_font(FONT, "B", str(resource("fonts", "DejaVuSansCondensed-Bold.ttf")))
        self.add_font(MONO, "", str(resource("fonts", "DejaVuSansMono.ttf")))
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title("PlantML audit report")
        self.set_creator("PlantML")

    def header(self) -> None:
        self.set_font(FONT, "B", 9)
        self.cell(0, 5, f"PlantML audit report, workstation {self.workstation}",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(MONO, "", 7)
        self.cell(0, 4, f"export hash {self.export_hash}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(MONO, "", 7)
        self.cell(0, 4, f"export hash {self.export_hash}    page {self.page_no()} of {{nb}}",
                  align="C")

    def table_head(self) -> None:
        self.set_font(MONO, "", TABLE_PT)
        heads = " ".join(title.ljust(width) for title, width in COLUMNS)
        self.set_fill_color(230, 234, 238)
        self.rect(self.l_margin, self.get_y(), self.epw, ROW_H, style="F")
        self.text(self.l_margin, self.get_y() + ROW_H * 0.75, heads.rstrip())
        self.set_y(self.get_y() + ROW_H)


def render_pdf(rows: Iterable[tuple[int, str, str, str]], total: int, cp: Checkpoint,
               checkpoints: list[Checkpoint], keys: Sequence[ListedKey],
               check: VerifyReport, export_hash: str, *, progress: ProgressFn,
               cancel: CancelToken) -> bytes:
    """The report as PDF bytes: summary, verification, the audit keys, checkpoints, then
    every event; ``keys`` are the keys that signed checkpoints, the exporting one first."""
    pdf = _Report(export_hash, cp.workstation)
    pdf.add_page()
    pdf.set_font(FONT, "B", 14)
    pdf.cell(0, 8, "Audit trail export", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    lines = [
        f"Generated {datetime.now(UTC).isoformat(timespec='seconds')} on {cp.workstation}.",
        f"Events: {total}. Closing checkpoint at sequence {cp.seq}, head hash {cp.head_hash}.",
        f"Exported and signed with audit key {keys[0].key_id}.",
        f"Verification at export: {check.summary()}",
        "Verify the export folder on any machine: plantml audit verify FOLDER, or "
        "python plantml_audit_verify.py FOLDER (needs only the cryptography package).",
    ]
    for line in lines:
        pdf.multi_cell(0, 4.8, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, f"Audit keys ({len(keys)}), fingerprint = SHA-256 of the raw public key",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(MONO, "", 7)
    for k in keys:
        pdf.cell(0, 3.8, f"key {k.key_id}  fingerprint {k.fingerprint}  {k.workstation}",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, f"Signed checkpoints ({len(checkpoints)})", new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    pdf.set_font(MONO, "", 7)
    for c in checkpoints:
        pdf.cell(0, 3.8, f"seq {c.seq:>8}  {c.ts}  {c.workstation}  key {c.key_id}  "
                 f"head {c.head_hash}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, "Events", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.table_head()
    bottom = pdf.h - pdf.b_margin
    for i, (seq, body, _prev, _hash) in enumerate(rows, 1):
        if i % 2000 == 0:
            cancel.raise_if_cancelled()
            progress(i / max(total, 1), f"writing the PDF report ({i} of {total} events)")
        if pdf.get_y() + ROW_H > bottom:
            pdf.add_page()
            pdf.table_head()
        y = pdf.get_y()
        pdf.text(pdf.l_margin, y + ROW_H * 0.75, event_line(seq, json.loads(body)))
        pdf.set_y(y + ROW_H)
    return bytes(pdf.output())
