"""Human-readable HTML report of an audit export (print it to PDF from any browser)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from app.audit.keylist import ListedKey
from app.core.records import Checkpoint, VerifyReport

#: The report lists this many events; the CSV and JSON Lines files hold all of them.
MAX_ROWS = 5000


def render_report(rows: Iterable[tuple[int, str, str, str]], total: int, cp: Checkpoint,
                  keys: Sequence[ListedKey], check: VerifyReport) -> str:
    """The report as a standalone HTML page; ``keys`` are the audit keys that signed
    checkpoints, the exporting workstation's first."""
    esc = html.escape
    key_rows = "".join(f"<tr><td><code>{esc(k.key_id)}</code></td><td>{esc(k.workstation)}"
                       f"</td><td><code>{esc(k.fingerprint)}</code></td></tr>" for k in keys)
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>PlantML audit report</title>",
        "<style>body{font-family:sans-serif;font-size:10pt}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 4px;vertical-align:top}"
        ".bad{color:#b00;font-weight:bold}</style></head><body>",
        "<h1>PlantML audit report</h1>",
        f"<p>Generated {esc(datetime.now(UTC).isoformat(timespec='seconds'))} on workstation "
        f"<b>{esc(cp.workstation)}</b>.</p>",
        f"<p>Events: {total}. Signed checkpoint at sequence {cp.seq}, head hash "
        f"<code>{esc(cp.head_hash)}</code>, audit key <code>{esc(keys[0].key_id)}</code>.</p>",
        f"<h2>Audit keys ({len(keys)})</h2><p>Every key that signed a checkpoint of this "
        "export; the fingerprint is the SHA-256 of the raw public key.</p>",
        f"<table><tr><th>key id</th><th>workstation</th><th>fingerprint</th></tr>{key_rows}"
        "</table><h2>Events</h2>",
        f"<p class='{'' if check.ok else 'bad'}'>Verification at export: "
        f"{esc(check.summary())}</p>",
        "<p>Verify this export on any machine: <code>plantml audit verify FOLDER</code>.</p>",
        "<table><tr><th>seq</th><th>time</th><th>user</th><th>role</th><th>action</th>"
        "<th>object</th><th>result</th><th>reason</th><th>change</th></tr>",
    ]
    for i, (seq, body, _prev, _hash) in enumerate(rows):
        if i >= MAX_ROWS:
            parts.append(f"<tr><td colspan='9'>... {total - MAX_ROWS} more events in "
                         "events.csv</td></tr>")
            break
        ev = json.loads(body)
        change = "" if ev["old"] is None and ev["new"] is None else (
            f"{esc(json.dumps(ev['old'], ensure_ascii=False))} &rarr; "
            f"{esc(json.dumps(ev['new'], ensure_ascii=False))}")
        parts.append(
            f"<tr><td>{seq}</td><td>{esc(ev['ts'])}</td><td>{esc(ev['user'])}</td>"
            f"<td>{esc(ev['role'])}</td><td>{esc(ev['action'])}</td><td>{esc(ev['object'])}</td>"
            f"<td>{esc(ev['result'])}</td><td>{esc(ev['reason'])}</td><td>{change}</td></tr>")
    parts.append("</table></body></html>")
    return "".join(parts)
