"""CSV import throughput as a ratio to ``pyarrow.csv.read_csv`` alone on the same file
(target >= 0.5), timed alternately in one process; also the peak memory of the import.

Run: python bench/bench_import.py [--mb 200] [--rounds 6] [--careful]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # works from a checkout even without `pip install -e .`

from app.data.csv.importer import import_csv  # noqa: E402
from app.data.csv.options import CsvOptions  # noqa: E402

ROW_BYTES = 86  # about one row of the generated file


def generate(path: Path, megabytes: int) -> int:
    """A time column and 8 channels, written by pyarrow (fast); returns the row count."""
    rows = megabytes * 1_000_000 // ROW_BYTES
    rng = np.random.default_rng(0)
    with pacsv.CSVWriter(str(path), pa.schema(
            [("time", pa.float64())] + [(f"ch{i}", pa.float64()) for i in range(8)])) as w:
        for start in range(0, rows, 500_000):
            n = min(500_000, rows - start)
            cols = {"time": np.arange(start, start + n) / 12_000.0}
            cols.update({f"ch{i}": np.round(rng.standard_normal(n), 6) for i in range(8)})
            w.write_table(pa.table(cols))
    return rows


def time_read_csv(path: Path) -> float:
    t0 = time.perf_counter()
    table = pacsv.read_csv(str(path))
    elapsed = time.perf_counter() - t0
    del table
    return elapsed


def time_import(path: Path, work: Path, careful: bool = False) -> tuple[float, int]:
    t0 = time.perf_counter()
    rec = import_csv(path, CsvOptions(), work_dir=work, careful=careful)
    elapsed = time.perf_counter() - t0
    rows = rec.num_rows
    rec.discard()
    return elapsed, rows


_PEAK = """
import json, sys
from pathlib import Path
from app.data.csv.importer import import_csv
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
base = hwm()
rec = import_csv(Path(sys.argv[1]), work_dir=Path(sys.argv[2]))
print(json.dumps({"base": base, "peak": hwm()}))
rec.discard()
"""


def peak_memory(path: Path, work: Path) -> str:
    if not Path("/proc/self/status").exists():
        return "n/a (needs /proc)"
    out = subprocess.run([sys.executable, "-c", _PEAK, str(path), str(work)], cwd=REPO,
                         capture_output=True, text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    return f"{got['peak'] - got['base']:.0f} MB above the {got['base']:.0f} MB start"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200, help="size of the generated file")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--careful", action="store_true",
                        help="also time the line-by-line path once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plantml-bench-") as tmp:
        folder = Path(tmp)
        path = folder / "big.csv"
        rows = generate(path, args.mb)
        size = path.stat().st_size / 1e6
        print(f"file: {size:.0f} MB, {rows} rows x 9 columns")
        time_import(path, folder / "w")  # warm-up: lazy imports, page cache
        base, ours = [], []
        for i in range(args.rounds):
            # Pairs back to back, the order alternating, so that load from other processes
            # on the machine hits both sides of a pair alike.
            if i % 2 == 0:
                base.append(time_read_csv(path))
            ours.append(time_import(path, folder / "w")[0])
            if i % 2:
                base.append(time_read_csv(path))
        b, o = statistics.median(base), statistics.median(ours)
        pairs = [x / y for x, y in zip(base, ours, strict=True)]
        print("pairs (read_csv/import s): " + ", ".join(
            f"{x:.2f}/{y:.2f}" for x, y in zip(base, ours, strict=True)))
        print(f"pyarrow.csv.read_csv:      {b:6.2f} s  {size / b:6.0f} MB/s (median)")
        print(f"plantml import_csv:        {o:6.2f} s  {size / o:6.0f} MB/s (median; "
              "streamed, validated, spooled, SHA-256)")
        print(f"throughput ratio {statistics.median(pairs):.2f} (median of pairs; "
              f"{sum(base) / sum(ours):.2f} over all rounds; target >= 0.5)")
        print(f"import peak memory: {peak_memory(path, folder / 'w')}")
        if args.careful:
            c = time_import(path, folder / "w", careful=True)[0]
            print(f"line-by-line path:         {c:6.2f} s  {size / c:6.0f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
