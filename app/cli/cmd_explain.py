"""``plantml explain REF DATASET --recording R [--start S]``: what drove one window's prediction."""

from __future__ import annotations

import json

from app.cli.argtypes import positive_int
from app.cli.session import open_workspace, sign_in


def cmd_explain(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        r = sv.explanations.explain_recording(me, ref=args.ref, dataset=args.dataset,
                                              recording=args.recording, start=args.start)
    if args.json:
        print(json.dumps(r.to_dict(), indent=2))
        return 0
    where = f"recording {args.recording}, window at sample {args.start}"
    if r.explanation is None:
        print(f"{r.ref}, {where}: invalid input: {r.invalid}; there is no prediction to explain")
        return 0
    e = r.explanation
    said = f"predicts {r.label}" if r.label else "output"
    print(f"{r.ref}, {where}: {said}; {e.output_kind} {e.output:.4g} = base {e.base:.4g} "
          f"+ the contributions of {len(e.feature_names)} features")
    top = e.top(args.top)
    width = max(len(name) for name, _ in top)
    for name, value in top:
        print(f"  {name:<{width}} {value:+.4g}")
    rest = float(e.contributions.sum()) - sum(v for _, v in top)
    if len(e.feature_names) > len(top):
        print(f"  {'(the other ' + str(len(e.feature_names) - len(top)) + ')':<{width}} "
              f"{rest:+.4g}")
    return 0


def register(sub) -> None:
    """Add the command to the argparse sub-parsers."""
    p = sub.add_parser("explain", help="what drove a version's prediction for one window")
    p.add_argument("ref")
    p.add_argument("dataset")
    p.add_argument("--recording", required=True, help="recording index or name")
    p.add_argument("--start", type=int, default=0, help="first sample of the window")
    p.add_argument("--top", type=positive_int, default=10, help="features listed")
    p.add_argument("--json", action="store_true", help="every contribution, as JSON")
    p.set_defaults(func=cmd_explain)
