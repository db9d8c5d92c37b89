"""A virtual null-modem cable: two linked pseudo-terminals made by socat (POSIX only)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)


class NullModem:
    """``socat`` joining ``a`` and ``b``: bytes written to one are read from the other.

    Use as a context manager; :meth:`close` ends the socat process it started.
    """

    def __init__(self, folder: Path, timeout_s: float = 5.0) -> None:
        exe = shutil.which("socat")
        if exe is None:
            raise FileNotFoundError("socat is not installed (apt-get install socat)")
        self.a, self.b = Path(folder) / "ttyA", Path(folder) / "ttyB"
        self.proc = subprocess.Popen(
            [exe, "-d", "-d", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not (self.a.exists() and self.b.exists()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("socat did not create the pseudo-terminal pair")
            time.sleep(0.02)

    def close(self) -> None:
        """Stop socat (the ptys disappear with it); safe to call twice."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> NullModem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
