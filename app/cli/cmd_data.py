"""``plantml import``, ``plantml acquire`` and ``plantml serial-ports``."""

from __future__ import annotations

from pathlib import Path

from app.cli.progress import TextProgress
from app.cli.session import open_workspace, sign_in
from app.core.errors import UsageError
from app.services.datasets import conditions_line
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
            cwru=args.cwru, channels=args.channel, condition=args.condition or "",
            file_conditions=_pairs(args.file_condition, "--file-condition", "FILE=CONDITION"),
            condition_file=Path(args.conditions) if args.conditions else None,
            condition_channel=args.condition_channel or "",
            condition_step=args.condition_step,
            units=_pairs(args.unit, "--unit", "CHANNEL=UNIT", every=True),
            scales=_pairs(args.scale, "--scale", "CHANNEL=TEXT", every=True),
            progress=TextProgress())
    d = out.dataset
    print(f"dataset {d.dataset_id} '{d.name}': {len(d.recordings)} recordings, "
          f"{len(d.channels)} channels, {d.duration_s:.1f} s at {d.sample_rate:g} Hz")
    print(out.summary())
    print(conditions_line(d))
    for name, rep in out.reports.items():
        for issue in rep["issues"][: args.show_issues]:
            where = f"line {issue['line']}" if issue.get("line") else f"row {issue.get('row')}"
            print(f"  {name} {where}: {issue['reason']} ({issue['action']})")
    return 0


def cmd_acquire(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        out = sv.data_in.acquire(me, tagmap=Path(args.tagmap), duration_s=args.duration,
                                 name=args.name or "", condition=args.condition or "",
                                 condition_tag=args.condition_tag or "",
                                 condition_step=args.condition_step, progress=TextProgress())
    state = "INTERRUPTED" if out.interrupted else "complete"
    print(f"recording {state} ({out.end_reason}); {out.stats}")
    print(f"condition: {out.condition or 'none given'}")
    if out.condition_note:
        print(f"note: {out.condition_note}")
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


def _pairs(values: list[str] | None, option: str, form: str, every: bool = False
           ) -> dict[str, str]:
    """``KEY=VALUE`` arguments as a dict (split at the first '='); with ``every``, a value
    without a key applies to every channel ('*')."""
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep and every:
            key, rest = "*", value
        elif not sep or not key.strip():
            raise UsageError(f"{option} {value!r}: expected {form}")
        key = key.strip()
        if key in out:
            raise UsageError(f"{option}: {key} is given twice")
        out[key] = rest
    return out


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
    g = p.add_argument_group("operating conditions (validation holds each out in turn)")
    g.add_argument("--condition", help="condition of every file, e.g. load=0hp")
    g.add_argument("--file-condition", action="append", metavar="FILE=CONDITION",
                   help="condition of one file (by name or stem), e.g. run3.csv=load=50%%")
    g.add_argument("--conditions", metavar="CSV",
                   help="side file with the columns file and condition")
    g.add_argument("--condition-channel", metavar="CHANNEL",
                   help="condition from the mean of this channel over each file")
    g.add_argument("--condition-step", type=float,
                   help="round that mean to this step (default: 3 significant figures)")
    g = p.add_argument_group("physical units (shown on the model card)")
    g.add_argument("--unit", action="append", metavar="[CHANNEL=]UNIT",
                   help="unit of a channel (or of every channel), e.g. DE=g")
    g.add_argument("--scale", action="append", metavar="[CHANNEL=]TEXT",
                   help="sensor scale of a channel, e.g. 'DE=100 mV/g'")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("acquire", help="record a Modbus device described by a tag map")
    p.add_argument("--tagmap", required=True)
    p.add_argument("--duration", type=float, required=True, help="seconds")
    p.add_argument("--name")
    p.add_argument("--condition", help="operating condition of the run, e.g. load=50%%")
    p.add_argument("--condition-tag", metavar="TAG",
                   help="condition from the mean of this tag over the run (speed, load)")
    p.add_argument("--condition-step", type=float,
                   help="round that mean to this step (default: 3 significant figures)")
    p.set_defaults(func=cmd_acquire)
    sub.add_parser("serial-ports", help="list serial ports").set_defaults(func=cmd_ports)
