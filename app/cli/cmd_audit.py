"""``plantml audit show|verify|export``."""

from __future__ import annotations

import json
from pathlib import Path

from app.cli.progress import TextProgress
from app.cli.session import open_workspace, sign_in
from app.services.audit import AuditFilter, load_anchors, read_key_file, verify_export_folder

EXIT_BROKEN = 5


def cmd_show(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        flt = AuditFilter(user=args.user or "", action=args.action or "", text=args.text or "",
                          limit=args.limit)
        for ev in sv.audit.show(me, flt):
            change = "" if ev.old is None and ev.new is None else (
                f" {json.dumps(ev.old)} -> {json.dumps(ev.new)}")
            reason = f" ({ev.reason})" if ev.reason else ""
            print(f"{ev.seq:>7} {ev.ts[:19]} {ev.user:<12} {ev.action:<20} {ev.result:<8} "
                  f"{ev.object}{change}{reason}")
    return 0


def cmd_verify(args) -> int:
    anchors = [Path(a) for a in args.anchor or []]
    keys = [Path(k) for k in args.key or []]
    if args.path:
        report = verify_export_folder(Path(args.path), keys or None, anchors)
    else:
        pinned = [read_key_file(k) for k in keys]
        found = load_anchors(anchors)
        with open_workspace(args) as sv:
            me = sign_in(sv)
            report = sv.audit.verify(me, progress=TextProgress(), processes=2,
                                     pinned_keys=pinned, anchors=found)
    print(report.summary())
    for note in report.notes:
        print(f"note: {note}")
    return 0 if report.ok else EXIT_BROKEN


def cmd_export(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        result = sv.audit.export(me, folder=Path(args.dir), progress=TextProgress())
    print(f"exported {result.events} events to {result.folder}: {', '.join(result.files)}")
    print(f"signed checkpoint at {result.checkpoint.seq}, key {result.checkpoint.key_id}")
    return 0


def cmd_reseal(args) -> int:
    with open_workspace(args) as sv:
        parts = sv.audit.reseal(sign_in(sv), reason=args.reason)
    print(f"security state resealed ({', '.join(parts)} had changed); the alarm is closed")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    audit = sub.add_parser("audit", help="read, verify and export the audit trail")
    cmds = audit.add_subparsers(dest="audit_cmd", required=True)
    p = cmds.add_parser("show", help="list events, newest first")
    p.add_argument("--user")
    p.add_argument("--action", help="action prefix, e.g. user. or login")
    p.add_argument("--text", help="text anywhere in the event")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_show)
    p = cmds.add_parser("verify", help="verify the workspace's trail or an export folder")
    p.add_argument("path", nargs="?", help="an export folder (no workspace or sign-in needed)")
    p.add_argument("--key", action="append", metavar="FILE",
                   help="pin a workstation's public audit key (PEM file); repeat it for each "
                   "workstation of a shared registry: the pinned keys are then the only keys "
                   "accepted")
    p.add_argument("--anchor", action="append", metavar="FILE",
                   help="an earlier export folder, a package file or a checkpoint file kept "
                   "outside the workspace; its checkpoint must agree with the trail "
                   "(repeatable)")
    p.set_defaults(func=cmd_verify)
    p = cmds.add_parser("reseal", help="accept a reviewed security state after an alarm "
                        "(admin)")
    p.add_argument("--reason", required=True, help="what was reviewed")
    p.set_defaults(func=cmd_reseal)
    p = cmds.add_parser("export", help="write JSON Lines, CSV, checkpoint, key and report")
    p.add_argument("dir")
    p.set_defaults(func=cmd_export)
