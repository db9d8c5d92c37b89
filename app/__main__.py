"""Entry point for ``python -m app`` and for the frozen (PyInstaller) executable."""

import multiprocessing

from app.cli.main import main

if __name__ == "__main__":
    # Frozen Windows builds start worker processes (large audit verifications) by re-running
    # this executable; freeze_support routes them to their task.
    multiprocessing.freeze_support()
    raise SystemExit(main())
