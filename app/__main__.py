"""Entry point for ``python -m app`` and for the frozen (PyInstaller) executable."""

import multiprocessing
import sys

from app.cli.main import main
from app.core.child import run_module_from

if __name__ == "__main__":
    # Frozen Windows builds start worker processes (large audit verifications) by re-running
    # this executable; freeze_support routes them to their task.
    multiprocessing.freeze_support()
    # Parser children (app.core.child.module_command) re-run the frozen executable too.
    if not run_module_from(sys.argv):
        raise SystemExit(main())
