"""``plantml train``, ``plantml evaluate`` and ``plantml export``."""

from __future__ import annotations

from pathlib import Path

from app.cli.argtypes import json_object, open_fraction, output_file, positive_int
from app.cli.progress import TextProgress
from app.cli.session import open_workspace, sign_in
from app.core.errors import StorageError
from app.services.recipes import make_recipe
from app.services.registry import verdict_line


def cmd_train(args) -> int:
    recipe = make_recipe(task=args.task, model=args.model,
                         params=args.params or {},
                         seed=args.seed, split=args.split, test_fraction=args.test_fraction)
    with open_workspace(args) as sv:
        me = sign_in(sv)
        out = sv.training.train(me, dataset=args.dataset, line=args.line, recipe=recipe,
                                window=args.window, hop=args.hop, channels=args.channel,
                                progress=TextProgress())
    v = out.version
    print(f"{v.ref} registered as {v.state}; metrics {v.metrics}")
    p = out.parity
    print(f"parity gate: {'PASSED' if p['deployable'] else 'FAILED'}; label agreement "
          f"{p['label_agreement']}, max score error {p['score_max_abs_err']:.2e}, "
          f"max feature error {p['feature_max_rel_err']:.2e} (relative)")
    for reason in p["reasons"]:
        print(f"  blocked: {reason}")
    print(verdict_line(out.evidence.robustness))
    if out.labels is not None:
        print(out.labels.summary())
    return 0 if p["deployable"] else 1


def cmd_evaluate(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        r = sv.training.evaluate(me, ref=args.ref, dataset=args.dataset,
                                 progress=TextProgress())
    if r["accuracy"] is not None:
        score = f"accuracy {r['accuracy']:.4f} on the {r['valid_windows']} valid windows"
    elif r.get("mae") is not None:
        score = f"MAE {r['mae']:.4g} on the {r['valid_windows']} valid windows"
    else:
        score = "no valid window to score"
    print(f"{r['ref']} on {r['dataset'][:12]}: {r['windows']} windows, {score}")
    if r["invalid_windows"]:
        print(f"{r['invalid_windows']} windows are invalid input (a sensor or data fault, "
              "not a machine state; kept out of the accuracy):")
        for reason, count in r["invalid_reasons"].items():
            print(f"  {reason}: {count} window{'s' if count != 1 else ''}")
    else:
        print("no window was invalid input")
    if r["left_out"]:
        print(f"{r['left_out']} windows across a labelled time range's edge were left out "
              "(as in training)")
    if r["labels"]:
        width = max(len(str(n)) for n in r["labels"])
        print(f"confusion matrix (rows: truth; columns: {', '.join(map(str, r['labels']))})")
        for name, row in zip(r["labels"], r["confusion"], strict=True):
            print(f"  {name!s:>{width}} " + " ".join(f"{n:5d}" for n in row))
    return 0


def cmd_export(args) -> int:
    out = output_file(Path(args.out), force=args.force, what="the ONNX file")
    with open_workspace(args) as sv:
        me = sign_in(sv)
        try:
            path = sv.training.export(me, ref=args.ref, out=out)
        except OSError as exc:
            raise StorageError(f"the ONNX file {out} could not be written: "
                               f"{exc.strerror or exc}") from exc
    print(f"ONNX model written to {path}")
    return 0


def cmd_challenge(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        out = sv.challenger.challenge(me, champion=args.champion, new_data=args.dataset,
                                      progress=TextProgress())
    v = out.trained.version
    print(f"challenger {v.ref} ({v.state}) trained on {out.dataset.dataset_id[:12]} "
          f"({out.dataset.name}) with the recipe of {out.comparison.champion}")
    print("\n".join(out.comparison.lines()))
    print(f"next: review and propose {v.ref} (plantml approve shows this comparison)")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    p = sub.add_parser("train", help="train, validate, export to ONNX and run the parity gate")
    p.add_argument("dataset", help="dataset id (prefix)")
    p.add_argument("--line", required=True, help="model line, e.g. pump-7-bearing")
    p.add_argument("--task", default="classification",
                   choices=("classification", "regression", "anomaly"))
    p.add_argument("--model", default="random_forest")
    p.add_argument("--params", type=json_object, help="hyper-parameters as a JSON object")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split", choices=("time", "recording"), default="time")
    p.add_argument("--test-fraction", type=open_fraction, default=0.3)
    p.add_argument("--window", type=positive_int, default=2048, help="samples per window")
    p.add_argument("--hop", type=positive_int, default=1024, help="samples between windows")
    p.add_argument("--channel", action="append")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("evaluate", help="run a version's ONNX model on a labelled dataset")
    p.add_argument("ref")
    p.add_argument("dataset")
    p.set_defaults(func=cmd_evaluate)
    p = sub.add_parser("challenge", help="train a challenger on the champion's data plus new "
                       "labelled data, compared with the champion on the same held-out windows")
    p.add_argument("champion", help="the version in use, e.g. pump-7:v3")
    p.add_argument("dataset", help="the new labelled data (dataset id prefix)")
    p.set_defaults(func=cmd_challenge)
    p = sub.add_parser("export", help="write a version's ONNX model (deployable ones only)")
    p.add_argument("ref")
    p.add_argument("out")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=cmd_export)
