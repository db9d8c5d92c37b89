"""``plantml`` command line: parses arguments, runs one command, maps errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback

from app import __version__
from app.cli import (
    cmd_audit,
    cmd_controllers,
    cmd_data,
    cmd_datasets,
    cmd_doctor,
    cmd_explain,
    cmd_feedback,
    cmd_fleet,
    cmd_misc,
    cmd_models,
    cmd_release,
    cmd_train,
    cmd_users,
)
from app.cli.progress import end_progress_line
from app.core.errors import PlantMLError, UsageError
from app.services.diagnostics import file_log_handler, write_crash_log

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
    cmd_explain.register(sub)
    cmd_models.register(sub)
    cmd_release.register(sub)
    cmd_controllers.register(sub)
    cmd_fleet.register(sub)
    cmd_feedback.register(sub)
    cmd_misc.register(sub)
    cmd_doctor.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code. User errors never show a traceback."""
    args = build_parser().parse_args(argv)
    handlers = _configure_logging(args)
    try:
        return int(args.func(args) or 0)
    except PlantMLError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except OSError as exc:
        # A path the user named that cannot be used (a folder, /proc, a full disk).
        return _fail(_os_problem(exc), _os_exit_code(exc))
    except Exception:  # noqa: BLE001 - last line of defence: log it, never dump it on users
        log_file = write_crash_log(args.home, traceback.format_exc())
        return _fail(f"internal error; details were written to {log_file}", EXIT_INTERNAL)
    finally:
        end_progress_line()
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()


def _fail(message: str, code: int) -> int:
    end_progress_line()
    print(f"plantml: {message}", file=sys.stderr)
    return code


def _configure_logging(args) -> list[logging.Handler]:
    """The user reads one message per refusal: the library's own warnings go to the
    workspace log file, and to the terminal only with --verbose (alarms always)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO if args.verbose else logging.WARNING)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if args.verbose else logging.CRITICAL)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [console]
    handler = file_log_handler(args.home)
    if handler is not None:
        handlers.append(handler)
    for h in handlers:
        root.addHandler(h)
    return handlers


def _os_problem(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _os_exit_code(exc: OSError) -> int:
    usage = (IsADirectoryError, NotADirectoryError, FileNotFoundError, FileExistsError,
             PermissionError)
    return UsageError.exit_code if isinstance(exc, usage) else 8
