"""The demo without the CWRU files: synthetic vibration, the same loop, every step ok."""

from __future__ import annotations

from app.services.demo import run_demo


def test_demo_runs_on_synthetic_data_when_cwru_is_absent(tmp_path):
    empty = tmp_path / "no-data"
    empty.mkdir()
    lines: list[str] = []
    result = run_demo(tmp_path / "demo", say=lines.append, data_dir=empty)
    assert result.ok, "\n".join(lines)
    text = "\n".join(lines)
    for expected in ("acquired over Modbus TCP", "synthetic vibration", "parity gate passed",
                     "refused (four eyes)", "read back and verified", "audit trail intact"):
        assert expected in text
