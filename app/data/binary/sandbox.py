"""Run the binary-format parser in a child process with a time and memory limit.

A native crash, a hang or an out-of-memory in a parser fed a hostile file ends the child,
never the application; every such end becomes an ImportRefused naming the file.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

from app.core.child import module_command
from app.core.progress import CancelToken
from app.data.errors import ImportRefused

log = logging.getLogger(__name__)

REFUSED = 2  # the worker's exit status for a file it refuses with a reason
POLL_S = 0.05


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"crashed ({name})"
    return f"failed (exit status {code})"


def _stderr_tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def run_parser(src: Path, fmt: str, folder: Path, *, keys: list[str] | None,
               time_column: str | None, timeout_s: float, max_bytes: int,
               cancel: CancelToken, module: str = "app.data.binary.worker"
               ) -> tuple[dict, Path]:
    """Parse ``src`` in a child; returns (its answer, the Arrow stream it wrote).

    ``module`` is the child's entry point (tests swap in one that crashes or hangs).

    Raises ImportRefused (refusal, crash, timeout, memory) or Cancelled; the child is
    always ended and waited for before this returns.
    """
    out, meta, req_path, err = (folder / "parsed.arrows", folder / "parsed.json",
                                folder / "request.json", folder / "stderr.txt")
    req_path.write_text(json.dumps({
        "src": str(src), "format": fmt, "out": str(out), "meta": str(meta), "keys": keys,
        "time_column": time_column, "max_bytes": max_bytes}), encoding="utf-8")
    root = str(Path(__file__).resolve().parents[3])  # the folder holding the app package
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
        OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")  # a parser needs no BLAS threads
    label = fmt.upper()
    with open(err, "wb") as err_fh:
        proc = subprocess.Popen(module_command(module, str(req_path)),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err_fh, cwd=folder, env=env)
        deadline = time.monotonic() + timeout_s
        try:
            while proc.poll() is None:
                cancel.raise_if_cancelled()
                if time.monotonic() > deadline:
                    raise ImportRefused(f"{src}: the {label} reader took longer than "
                                        f"{timeout_s:g} s and was stopped; the file may be "
                                        "corrupt or too large")
                time.sleep(POLL_S)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    code = proc.returncode
    answer = None
    if code in (0, REFUSED):
        try:
            answer = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            answer = None
    if code == REFUSED and answer and "error" in answer:
        raise ImportRefused(f"{src}: {answer['error']}")
    if code != 0 or answer is None:
        tail = _stderr_tail(err)
        log.warning("%s reader on %s %s: %s", label, src, _describe_exit(code), tail)
        raise ImportRefused(f"{src}: the {label} reader {_describe_exit(code)}; the file is "
                            f"corrupt or not a {label} file" + (f" ({tail})" if tail else ""))
    return answer, out
