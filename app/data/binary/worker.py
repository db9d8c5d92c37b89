"""Child process entry: parse one untrusted Parquet/NPZ/MAT file into a float64 Arrow stream.

Run as ``python -m app.data.binary.worker REQUEST.json``. Exit 0 with the answer in the
request's ``meta`` file; exit 2 with {"error": ...} there when the file is refused. A crash
(a signal, or any other exit) is reported by the parent; nothing here can take it down.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

REFUSED = 2

log = logging.getLogger(__name__)


def _address_space() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_memory(max_bytes: int) -> None:
    """Allow ``max_bytes`` of address space beyond what the loaded libraries already use."""
    try:
        import resource
    except ImportError:  # Windows: the parent's timeout still bounds the child
        return
    import numpy  # noqa: F401 - load the libraries first: their own reservations are not
    import pyarrow  # noqa: F401 - the file's doing, and OpenBLAS fails under a tight limit
    import scipy.io  # noqa: F401

    limit = _address_space() + max_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _parse(req: dict) -> dict:
    from pyarrow import ipc

    from app.data.binary.readers import read_mat, read_npz, read_parquet

    src, fmt, keys = Path(req["src"]), req["format"], req.get("keys")
    if fmt == "npz":
        cols, batches = read_npz(src, keys, req["max_bytes"])
    elif fmt == "mat":
        cols, batches = read_mat(src, keys)
    else:
        cols, batches = read_parquet(src, keys, req.get("time_column"))
    rows = 0
    schema = None
    with open(req["out"], "wb") as fh:
        writer = None
        for batch in batches:
            if writer is None:
                schema = batch.schema
                writer = ipc.new_stream(fh, schema)
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is not None:
            writer.close()
    return {"channels": list(cols.channels), "time_column": cols.time_name,
            "sample_rate": cols.sample_rate(), "scalars": cols.scalars, "notes": cols.notes,
            "rows": rows, "empty": schema is None}


def main(argv: list[str]) -> int:
    """Parse the file the request names; the return value is the exit status."""
    req = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    meta = Path(req["meta"])
    _limit_memory(req["max_bytes"])
    from app.data.binary.arrays import Refusal

    try:
        answer = _parse(req)
    except Refusal as exc:
        meta.write_text(json.dumps({"error": str(exc)}), encoding="utf-8")
        return REFUSED
    except MemoryError:
        meta.write_text(json.dumps({"error": "parsing needs more memory than the "
                                             f"{req['max_bytes'] >> 20} MiB limit"}),
                        encoding="utf-8")
        return REFUSED
    meta.write_text(json.dumps(answer), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
