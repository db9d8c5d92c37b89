"""``plantml import``, ``plantml acquire`` and ``plantml serial-ports``."""

from __future__ import annotations

from pathlib import Path

from app.cli.progress import TextProgress
from app.cli.session import open_workspace, sign_in
from app.services.options import binary_options, csv_options


def cmd_import(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        out = sv.data_in.import_files(
            me, paths=[Path(p) for p in args.files], name=args.name or "",
            csv=csv_options(delimiter=args.delimiter, decimal=args.decimal,
                            encoding=args.encoding, time_column=args.time_column,
                            sample_rate=args.sample_rate, nan_policy=args.nan_policy,
                            label=args.label, no_header=args.no_header),
            binary=binary_options(keys=args.key, sample_rate=args.sample_rate,
                                  label=args.label, nan_policy=args.nan_policy),
            cwru=args.cwru, channels=args.channel, progress=TextProgress())
    d = out.dataset
    print(f"dataset {d.dataset_id} '{d.name}': {len(d.recordings)} recordings, "
          f"{len(d.channels)} channels, {d.duration_s:.1f} s at {d.sample_rate:g} Hz")
    print(out.summary())
    for name, rep in out.reports.items():
        for issue in rep["issues"][: args.show_issues]:
            where = f"line {issue['line']}" if issue.get("line") else f"row {issue.get('row')}"
            print(f"  {name} {where}: {issue['reason']} ({issue['action']})")
    return 0


def cmd_acquire(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        out = sv.data_in.acquire(me, tagmap=Path(args.tagmap), duration_s=args.duration,
                                 name=args.name or "", progress=TextProgress())
    state = "INTERRUPTED" if out.interrupted else "complete"
    print(f"recording {state} ({out.end_reason}); {out.stats}")
    if out.error:
        print(f"error: {out.error}")
    for d in out.datasets:
        print(f"dataset {d.dataset_id[:12]} '{d.name}': {d.n_samples} samples at "
              f"{d.sample_rate:g} Hz")
    return 0


def cmd_ports(args) -> int:
    with open_workspace(args) as sv:
        ports = sv.data_in.serial_ports()
    for p in ports:
        print(f"{p['device']:<16} {p['description']}")
    if not ports:
        print("no serial ports found")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    p = sub.add_parser("import", help="import CSV, Parquet, NPZ or MAT files as one dataset")
    p.add_argument("files", nargs="+")
    p.add_argument("--name")
    p.add_argument("--label", help="label of every recording imported")
    p.add_argument("--cwru", action="store_true", help="CWRU bearing files (label from name)")
    p.add_argument("--channel", action="append", help="keep only these channels")
    p.add_argument("--sample-rate", type=float, help="Hz, when the file has no time column")
    p.add_argument("--time-column")
    p.add_argument("--delimiter")
    p.add_argument("--decimal")
    p.add_argument("--encoding")
    p.add_argument("--no-header", action="store_true")
    p.add_argument("--key", action="append", help="NPZ/MAT variable or Parquet column")
    p.add_argument("--nan-policy", choices=("reject", "keep", "flag"), default="reject")
    p.add_argument("--show-issues", type=int, default=20, help="rejected rows to list")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("acquire", help="record a Modbus device described by a tag map")
    p.add_argument("--tagmap", required=True)
    p.add_argument("--duration", type=float, required=True, help="seconds")
    p.add_argument("--name")
    p.set_defaults(func=cmd_acquire)
    sub.add_parser("serial-ports", help="list serial ports").set_defaults(func=cmd_ports)
