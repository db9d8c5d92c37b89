"""T29 (CSV part): a large CSV is streamed with bounded memory, with progress and cancel."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import Cancelled
from app.core.progress import CancelToken
from app.data.csv.importer import import_csv
from app.data.csv.options import CsvOptions

ROOT = Path(__file__).resolve().parents[2]
BIG_MB = 200


def write_big(path: Path, megabytes: int, with_bad_rows: bool = True) -> int:
    """A CSV of about ``megabytes`` MB (8 channels, sample-rate time base); returns rows."""
    rng = np.random.default_rng(1)
    block = rng.standard_normal((40_000, 8))
    lines = "\n".join(",".join(f"{v:.6f}" for v in row) for row in block) + "\n"
    chunk = lines.encode()
    repeats = max(1, megabytes * 1_000_000 // len(chunk))
    with open(path, "wb") as fh:
        fh.write(b"a,b,c,d,e,f,g,h\n")
        for i in range(repeats):
            fh.write(chunk)
            if with_bad_rows and i % 7 == 1:
                fh.write(b"1,2,three,4,5,6,7,8\n")
    return repeats * 40_000 + (sum(1 for i in range(repeats) if i % 7 == 1) if with_bad_rows
                               else 0)


_CHILD = """
import json, sys, time
from pathlib import Path
from app.data.csv.importer import import_csv
from app.data.csv.options import CsvOptions
import pyarrow, numpy
def hwm():  # VmHWM restarts at exec; ru_maxrss would include the forked parent
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
t = time.perf_counter()
rec = import_csv(Path(sys.argv[1]), CsvOptions(sample_rate=1000.0), work_dir=Path(sys.argv[2]))
elapsed = time.perf_counter() - t
peak = hwm()
r = rec.report
print(json.dumps({"base_kb": base, "peak_kb": peak, "rows_in": r.rows_in,
                  "accepted": r.rows_accepted, "rejected": r.rows_rejected,
                  "lines": [i.line for i in r.issues], "seconds": elapsed}))
rec.discard()
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS via /proc")
def test_large_csv_streams_with_bounded_memory(tmp_path):
    path = tmp_path / "big.csv"
    rows = write_big(path, BIG_MB)
    size_mb = path.stat().st_size / 1e6
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(tmp_path / "work")],
                         cwd=ROOT, capture_output=True, text=True, timeout=240, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    growth_mb = (got["peak_kb"] - got["base_kb"]) / 1024
    assert got["rows_in"] == rows == got["accepted"] + got["rejected"]
    assert got["rejected"] == len(got["lines"]) > 0
    # The whole file is ~200 MB as text and ~130 MB as float64; the import holds neither.
    print(f"peak RSS growth {growth_mb:.0f} MB for {size_mb:.0f} MB in {got['seconds']:.1f} s")
    assert growth_mb < 150, f"peak memory grew {growth_mb:.0f} MB for a {size_mb:.0f} MB file"


def test_python_allocations_do_not_grow_with_the_file(tmp_path):
    warm = tmp_path / "warm.csv"
    warm.write_text("a\n1\n2\n")
    import_csv(warm, CsvOptions(sample_rate=1.0), work_dir=tmp_path / "w").discard()
    peaks = []
    for mb in (12, 36):
        path = tmp_path / f"f{mb}.csv"
        write_big(path, mb)
        tracemalloc.start()
        try:
            rec = import_csv(path, CsvOptions(sample_rate=1000.0), work_dir=tmp_path / "w")
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert rec.report.rows_accepted >= mb * 9_000
        rec.discard()
    # A few chunks of 2 MiB and their arrays are alive at once, whatever the file size.
    assert peaks[1] < 1.2 * peaks[0] + 2e6 and peaks[1] < 64e6, peaks


def test_progress_rises_to_one_and_cancel_stops_cleanly(tmp_path):
    path = tmp_path / "mid.csv"
    write_big(path, 20)
    seen: list[float] = []
    rec = import_csv(path, CsvOptions(sample_rate=1000.0), work_dir=tmp_path / "w",
                     progress=lambda f, _m: seen.append(f))
    rec.discard()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5
    token = CancelToken()

    def cancel_midway(fraction: float, _message: str) -> None:
        if fraction > 0.3:
            token.cancel()

    work = tmp_path / "cancelled"
    with pytest.raises(Cancelled):
        import_csv(path, CsvOptions(sample_rate=1000.0), work_dir=work,
                   progress=cancel_midway, cancel=token)
    assert list(work.iterdir()) == []
