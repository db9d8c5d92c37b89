"""Stand-in parser children for the sandbox tests: crash, hang, or exit without an answer."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    req = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    if req["format"] == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if req["format"] == "hang":
        time.sleep(3600)
    if req["format"] == "raise":
        raise RuntimeError("parser bug on purpose")
    return 0  # 'silent': exits cleanly but writes no answer


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
