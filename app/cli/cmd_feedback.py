"""``plantml feedback DATASET WINDOW confirm|reject|relabel [LABEL] --note ...`` on captured
windows (WINDOW ``all``: every window of the capture, as an alarm's verdict)."""

from __future__ import annotations

from app.cli.session import open_workspace, sign_in
from app.core.errors import UsageError


def cmd_feedback(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        if args.window == "list":
            given = {f.window_id: f for f in sv.feedback.given(me, dataset=args.dataset)}
            for w in sv.feedback.windows(me, dataset=args.dataset):
                f = given.get(w.window_id)
                said = f"{f.verdict} {f.label} ({f.user}: {f.note})" if f else "no feedback"
                print(f"window {w.window_id}: recording {w.recording} {w.t_start:.3f}-"
                      f"{w.t_end:.3f} s, {w.time}, proposed {w.proposed}; {said}")
            return 0
        if args.verdict is None:
            raise UsageError("give the verdict: confirm, reject or relabel")
        if args.window == "all":
            out = sv.feedback.alarm(me, dataset=args.dataset, verdict=args.verdict,
                                    label=args.label or "", note=args.note)
        else:
            try:
                window = int(args.window)
            except ValueError:
                raise UsageError(f"WINDOW is a window id, 'all' or 'list', not "
                                 f"{args.window!r}") from None
            out = [sv.feedback.give(me, dataset=args.dataset, window=window,
                                    verdict=args.verdict, label=args.label or "",
                                    note=args.note)]
    for f in out:
        what = f"labelled {f.label!r} (label {f.label_id})" if f.label_id else "no label"
        print(f"window {f.window_id}: {f.verdict}, {what}")
    return 0


def register(sub) -> None:
    """Add the command to the argparse sub-parsers."""
    p = sub.add_parser("feedback", help="confirm, reject or relabel captured windows")
    p.add_argument("dataset", help="a captured dataset (id or prefix)")
    p.add_argument("window", help="window id, 'all' (every window of the capture) or 'list'")
    p.add_argument("verdict", nargs="?", choices=["confirm", "reject", "relabel"])
    p.add_argument("label", nargs="?", help="the label (relabel only)")
    p.add_argument("--note", default="", help="why (needed to reject or relabel; audited)")
    p.set_defaults(func=cmd_feedback)
