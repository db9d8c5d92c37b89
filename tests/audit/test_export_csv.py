"""15.6: no cell of events.csv can become a live formula when an auditor opens it in Excel."""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.services.audit import verify_export_folder

#: OWASP's list of characters that make a spreadsheet cell a formula or a DDE call.
HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
           "\tTAB=1", "\rCR=1", "=1", "-"]


@pytest.mark.parametrize("reason", HOSTILE)
def test_15_6_formula_cells_are_neutralised(services, people, tmp_path, reason):
    services.settings.set(people["admin"], key="security.idle_lock_minutes", value=11,
                          reason=reason)
    out = tmp_path / "export"
    services.audit.export(people["auditor"], folder=out)
    text = (out / "events.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    cells = [cell for row in body for cell in row]
    live = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not live, live
    reasons = [row[header.index("reason")] for row in body]
    assert "'" + reason in reasons, "the text must stay readable, behind a quote"
    # The machine-readable copy keeps the exact text, and the export still verifies.
    events = [json.loads(json.loads(line)["body"]) for line in
              (out / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert reason in [e["reason"] for e in events]
    assert verify_export_folder(out).ok
