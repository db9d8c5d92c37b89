"""The auditor's PDF report: every event's sequence number, page numbers and the export hash
on every page, read back with pdftotext (poppler-utils)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess

import pytest

from app.core.canonical import canonical_bytes
from app.services.audit import verify_export_folder

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="pdftotext (poppler-utils) is not installed")


def _pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def test_every_event_and_every_page_is_in_the_pdf(services, people, tmp_path):
    # Enough events for several pages: logins, refusals and label changes.
    for i in range(130):
        services.users.add(people["admin"], username=f"user{i:03d}",
                           password=f"Pw-for-user-{i:03d}-long", roles=["operator"])
    folder = tmp_path / "export"
    result = services.audit.export(people["auditor"], folder=folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "report.pdf" in manifest["files"]
    evidence = {n: m for n, m in manifest["files"].items() if n != "report.pdf"}
    export_hash = hashlib.sha256(canonical_bytes(evidence)).hexdigest()

    pages = _pages(folder / "report.pdf")
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert f"export hash {export_hash}" in page, f"page {number} lacks the export hash"
        assert f"page {number} of {len(pages)}" in page
    seqs = {int(m[1]) for page in pages
            for m in re.finditer(r"^\s*(\d+)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", page, re.M)}
    assert seqs == set(range(1, result.events + 1))
    assert "audit trail intact" in pages[0]


def test_the_export_with_its_pdf_still_verifies_and_a_changed_pdf_does_not(
        services, people, tmp_path):
    folder = tmp_path / "export"
    services.audit.export(people["auditor"], folder=folder)
    assert verify_export_folder(folder).ok
    pdf = folder / "report.pdf"
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    with pytest.raises(Exception, match="report.pdf"):
        verify_export_folder(folder)
