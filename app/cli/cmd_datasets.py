"""``plantml datasets list|show|label``."""

from __future__ import annotations

from app.cli.session import open_workspace, sign_in
from app.services.datasets import conditions_line


def cmd_list(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        rows = sv.datasets.list(me)
        print(f"{'id':<14} {'name':<28} {'rec':>4} {'channels':>8} {'duration':>10} created")
        for d in rows:
            print(f"{d.dataset_id[:12]:<14} {d.name[:28]:<28} {len(d.recordings):>4} "
                  f"{len(d.channels):>8} {d.duration_s:>9.1f}s {d.created_at[:19]} "
                  f"{d.created_by}")
        if not rows:
            print("no datasets yet: use 'plantml import' or 'plantml acquire'")
    return 0


def cmd_show(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        d = sv.datasets.show(me, dataset=args.dataset)
    print(f"dataset   {d.dataset_id}")
    print(f"name      {d.name}")
    print(f"rate      {d.sample_rate:g} Hz, {d.n_samples} samples per channel, "
          f"{d.duration_s:.1f} s, {d.size_bytes / 1e6:.1f} MB")
    print("channels  " + ", ".join(_channel(c) for c in d.channels))
    print(f"created   {d.created_at} by {d.created_by}")
    print(f"source    {d.provenance}")
    print(conditions_line(d))
    print("recordings:")
    for r in d.recordings:
        flag = "  INTERRUPTED" if r.interrupted else ""
        cond = f"  {r.condition}" if r.condition else "  (no condition)"
        print(f"  {r.index:>3} {r.name:<30} {r.n_samples:>10} samples{cond}{flag}")
    print("labels:")
    for lb in d.labels:
        span = "" if lb.t_start is None else f" [{lb.t_start:g} s, {lb.t_end:g} s)"
        print(f"  #{lb.id:<4} recording {lb.recording}{span}: {lb.label}  ({lb.created_by})")
    return 0


def _channel(c) -> str:
    unit = f" [{c.unit}]" if c.unit else ""
    scale = f" (scale {c.scale})" if c.scale else ""
    return f"{c.name}{unit}{scale}"


def cmd_label(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        lb = sv.datasets.label(me, dataset=args.dataset, recording=args.recording,
                               label=args.label, t_start=args.start, t_end=args.end)
    span = "" if lb.t_start is None else f" from {lb.t_start:g} s to {lb.t_end:g} s"
    print(f"recording {lb.recording} labelled {lb.label!r}{span} (label #{lb.id})")
    return 0


def cmd_unlabel(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        lb = sv.datasets.withdraw_label(me, dataset=args.dataset, label_id=args.label_id,
                                        reason=args.reason)
    span = "" if lb.t_start is None else f" from {lb.t_start:g} s to {lb.t_end:g} s"
    print(f"label #{lb.id} ({lb.label!r} on recording {lb.recording}{span}) withdrawn")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    ds = sub.add_parser("datasets", help="list, show, label and unlabel dataset snapshots")
    cmds = ds.add_subparsers(dest="datasets_cmd", required=True)
    cmds.add_parser("list", help="all datasets").set_defaults(func=cmd_list)
    p = cmds.add_parser("show", help="one dataset: channels, recordings, labels, provenance")
    p.add_argument("dataset", help="dataset id or a prefix of at least 6 characters")
    p.set_defaults(func=cmd_show)
    p = cmds.add_parser("label", help="label a recording or a time range of it")
    p.add_argument("dataset")
    p.add_argument("recording", type=int)
    p.add_argument("label")
    p.add_argument("--start", type=float, help="start of the range in seconds")
    p.add_argument("--end", type=float, help="end of the range in seconds")
    p.set_defaults(func=cmd_label)
    p = cmds.add_parser("unlabel", help="withdraw a wrong label (then label again to edit it)")
    p.add_argument("dataset")
    p.add_argument("label_id", type=int, help="the label's number (datasets show lists them)")
    p.add_argument("--reason", required=True, help="why it is withdrawn (audited)")
    p.set_defaults(func=cmd_unlabel)
