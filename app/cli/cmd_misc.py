"""``plantml demo`` and ``plantml gui``."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def cmd_demo(args) -> int:
    from app.services.demo import run_demo

    print("PlantML demo: the loop, headless, on a throwaway workspace and simulated devices")
    if args.keep:
        home = Path(args.keep)
        home.mkdir(parents=True, exist_ok=True)
        result = run_demo(home, say=print, fast_hashing=not args.strong_hashing)
    else:
        with tempfile.TemporaryDirectory(prefix="plantml-demo-") as tmp:
            result = run_demo(Path(tmp), say=print, fast_hashing=not args.strong_hashing)
    print(f"demo {'passed' if result.ok else 'FAILED'}: {len(result.steps)} steps")
    return 0 if result.ok else 1


def cmd_gui(args) -> int:
    from app.ui.main import run_gui

    return run_gui(home=args.home, snapshot=Path(args.snapshot) if args.snapshot else None)


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    p = sub.add_parser("demo", help="run the end-to-end demo headless")
    p.add_argument("--keep", help="run in this folder and keep it (default: a temp folder)")
    p.add_argument("--strong-hashing", action="store_true",
                   help="use the production Argon2 parameters (slower)")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("gui", help="start the desktop application")
    # Also after the sub-command, as the frozen PlantML executable passes its arguments.
    p.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--snapshot", metavar="PNG",
                   help="save a picture of the first window to PNG and exit (installation check)")
    p.set_defaults(func=cmd_gui)
