"""Entry point of the frozen windowed executable (PlantML.exe): the desktop application."""

import multiprocessing
import sys

from app.cli.main import main
from app.core.child import run_module_from

if __name__ == "__main__":
    multiprocessing.freeze_support()
    if not run_module_from(sys.argv):
        raise SystemExit(main(["gui", *sys.argv[1:]]))
