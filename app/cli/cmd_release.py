"""``plantml propose|approve``, ``plantml package ...`` and ``plantml keys ...``."""

from __future__ import annotations

from pathlib import Path

from app.cli.argtypes import output_folder
from app.cli.credentials import ask_password
from app.cli.progress import TextProgress
from app.cli.session import open_workspace, sign_in


def cmd_propose(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        password = ask_password("Re-enter your password to sign the release: ")
        v = sv.approvals.propose(me, ref=args.ref, password=password,
                                 hardware_ids=args.hardware_id, reason=args.reason,
                                 valid_days=args.valid_days)
    print(f"{v.ref} proposed for release (counter {v.release_counter}); it now needs an "
          "approver's signature")
    return 0


def cmd_approve(args) -> int:
    meaning = "rejected" if args.reject else "approved"
    with open_workspace(args) as sv:
        me = sign_in(sv)
        evidence = sv.approvals.evidence(me, ref=args.ref)
        print("\n".join(evidence.lines()))
        password = ask_password(f"Re-enter your password to sign '{meaning}': ")
        v = sv.approvals.decide(me, ref=args.ref, password=password, meaning=meaning,
                                reason=args.reason, accept_not_robust=args.accept_not_robust)
    print(f"{v.ref} {v.state}")
    return 0


def cmd_build(args) -> int:
    output_folder(Path(args.out), what="--out")
    with open_workspace(args) as sv:
        me = sign_in(sv)
        path = sv.packages.build(me, ref=args.ref, out_dir=Path(args.out))
    print(f"package written: {path}")
    return 0


def cmd_verify(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        s = sv.packages.verify(me, path=Path(args.file), hardware_id=args.hardware_id)
    print(f"package OK: {s.model}:v{s.version} release {s.release_counter}, signed by "
          f"{', '.join(s.signers)}, expires {s.expires_at}, sha256 {s.package_sha256}")
    return 0


def cmd_export(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        r = sv.packages.export_to_drive(me, ref=args.ref, drive_folder=Path(args.drive),
                                        progress=TextProgress())
    print(f"written and read back: {r.path} (sha256 {r.sha256}); the drive may be removed")
    return 0


def cmd_import(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        v = sv.packages.import_from_drive(me, path=Path(args.file), progress=TextProgress())
    print(f"imported {v.ref} ({v.state}) with its lineage and reports")
    return 0


def cmd_drives(args) -> int:
    with open_workspace(args) as sv:
        drives = sv.packages.drives()
    for d in drives:
        print(f"{d.path}  {d.label}")
    if not drives:
        print("no removable drive found")
    return 0


def cmd_keys_list(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        for k in sv.keys.list(me):
            state = f"revoked {k.revoked_at[:19]}" if k.revoked_at else "active"
            print(f"{k.key_id}  {k.user:<12} {','.join(k.roles):<18} {state}")
    return 0


def cmd_keys_export(args) -> int:
    with open_workspace(args) as sv:
        n = sv.keys.export(sign_in(sv), path=Path(args.file))
    print(f"{n} keys written to {args.file}")
    return 0


def cmd_keys_import(args) -> int:
    with open_workspace(args) as sv:
        ids = sv.keys.import_keys(sign_in(sv), path=Path(args.file), reason=args.reason)
    print(f"{len(ids)} keys added or revoked: {', '.join(ids) or 'none'}")
    return 0


def cmd_keys_revoke(args) -> int:
    with open_workspace(args) as sv:
        k = sv.keys.revoke(sign_in(sv), key_id=args.key_id, reason=args.reason)
    print(f"key {k.key_id} of {k.user} revoked")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    p = sub.add_parser("propose", help="sign a validated version's release (engineer)")
    p.add_argument("ref")
    p.add_argument("--hardware-id", action="append", required=True,
                   help="controller hardware id the model may run on (repeatable)")
    p.add_argument("--reason", required=True)
    p.add_argument("--valid-days", type=int, default=365)
    p.set_defaults(func=cmd_propose)
    p = sub.add_parser("approve", help="approve (or --reject) a proposed version (approver)")
    p.add_argument("ref")
    p.add_argument("--reason", required=True)
    p.add_argument("--reject", action="store_true")
    p.add_argument("--accept-not-robust", action="store_true",
                   help="approve a version flagged NOT ROBUST (the reason must say why)")
    p.set_defaults(func=cmd_approve)

    pkg = sub.add_parser("package", help="signed model packages").add_subparsers(
        dest="package_cmd", required=True)
    p = pkg.add_parser("build", help="write the package file of a version")
    p.add_argument("ref")
    p.add_argument("--out", default=".")
    p.set_defaults(func=cmd_build)
    p = pkg.add_parser("verify", help="verify a package file")
    p.add_argument("file")
    p.add_argument("--hardware-id")
    p.set_defaults(func=cmd_verify)
    p = pkg.add_parser("export", help="write an approved package to a USB drive")
    p.add_argument("ref")
    p.add_argument("drive", help="folder on the removable drive")
    p.set_defaults(func=cmd_export)
    p = pkg.add_parser("import", help="verify and register a package from a drive")
    p.add_argument("file")
    p.set_defaults(func=cmd_import)
    pkg.add_parser("drives", help="list removable drives").set_defaults(func=cmd_drives)

    keys = sub.add_parser("keys", help="trusted signing keys (admin)").add_subparsers(
        dest="keys_cmd", required=True)
    keys.add_parser("list").set_defaults(func=cmd_keys_list)
    p = keys.add_parser("export", help="write the trusted keys for another workstation")
    p.add_argument("file")
    p.set_defaults(func=cmd_keys_export)
    p = keys.add_parser("import", help="trust the keys exported by another workstation")
    p.add_argument("file")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_keys_import)
    p = keys.add_parser("revoke")
    p.add_argument("key_id")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_keys_revoke)
