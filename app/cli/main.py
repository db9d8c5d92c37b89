"""``plantml`` command line: parses arguments, runs one command, maps errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from app import __version__
from app.cli import (
    cmd_audit,
    cmd_controllers,
    cmd_data,
    cmd_datasets,
    cmd_doctor,
    cmd_misc,
    cmd_models,
    cmd_release,
    cmd_train,
    cmd_users,
)
from app.core.errors import PlantMLError

EXIT_INTERNAL = 70


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    parser = argparse.ArgumentParser(
        prog="plantml", description="Offline, plant-side model management.",
        epilog="Sign-in: set PLANTML_USER and PLANTML_PASSWORD, or answer the prompts. "
        "New passwords: PLANTML_NEW_PASSWORD, or the prompt.")
    parser.add_argument("--home", help="workspace folder (default: $PLANTML_HOME or the "
                        "user data folder)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    parser.add_argument("--version", action="version", version=f"plantml {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    cmd_users.register(sub)
    cmd_audit.register(sub)
    cmd_datasets.register(sub)
    cmd_data.register(sub)
    cmd_train.register(sub)
    cmd_models.register(sub)
    cmd_release.register(sub)
    cmd_controllers.register(sub)
    cmd_misc.register(sub)
    cmd_doctor.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code. User errors never show a traceback."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except PlantMLError as exc:
        print(f"plantml: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("plantml: interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - last line of defence: log it, never dump it on users
        log_file = _crash_log()
        print(f"plantml: internal error; details were written to {log_file}", file=sys.stderr)
        return EXIT_INTERNAL


def _crash_log() -> Path:
    import tempfile

    path = Path(tempfile.gettempdir()) / "plantml-crash.log"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return path
