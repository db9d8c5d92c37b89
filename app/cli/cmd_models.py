"""``plantml models list|show|compare|alias|retire``."""

from __future__ import annotations

import json

from app.cli.session import open_workspace, sign_in
from app.services.registry import evidence_lines


def cmd_list(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        if args.line:
            for v in sv.registry.versions(me, line=args.line):
                aliases = f" [{', '.join(v.aliases)}]" if v.aliases else ""
                acc = v.metrics.get("accuracy")
                metric = f" accuracy {acc:.4f}" if isinstance(acc, float) else ""
                print(f"{v.ref:<24} {v.state:<10} {v.created_at[:19]} {v.created_by:<12}"
                      f"{metric}{aliases}")
        else:
            lines = sv.registry.lines(me)
            for line in lines:
                aliases = ", ".join(f"{a}=v{n}" for a, n in sorted(line.aliases.items()))
                print(f"{line.name:<24} {line.kind:<10} {line.versions:>3} versions, latest "
                      f"v{line.latest_version}  {aliases}")
            if not lines:
                print("no models yet: train one with 'plantml train'")
    return 0


def cmd_show(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        v = sv.registry.show(me, ref=args.ref)
        evidence = sv.registry.validation(me, ref=args.ref)
        history = sv.registry.history(me, ref=args.ref) if args.history else []
    flag = "  NOT ROBUST" if evidence is not None and evidence.not_robust else ""
    print(f"{v.ref}  ({v.kind}, {v.state}){flag}")
    print(f"created     {v.created_at} by {v.created_by}")
    print(f"record hash {v.record_hash}")
    if v.aliases:
        print(f"aliases     {', '.join(v.aliases)}")
    print(f"dataset     {v.dataset_id}")
    print(f"metrics     {_pairs(v.metrics)}")
    print(f"recipe      {_recipe(v.recipe)}")
    print(f"features    {_features(v.feature_spec)}")
    gate = "passed" if v.parity.passed else f"NOT passed ({v.parity.blocked_reason})"
    print(f"parity gate {gate}")
    for key, value in sorted(v.lineage.items()):
        if isinstance(value, str) and key.endswith(("hash", "_id")):
            print(f"lineage     {key.replace('_', ' ')} {value[:16]}")
    libraries = ", ".join(f"{k} {x}" for k, x in sorted(v.library_versions.items()))
    print(f"libraries   {libraries or '-'}")
    if evidence is None:
        print("validation report: none stored with this version")
    else:
        for line in evidence_lines(evidence):
            print(line)
    print("artifacts:")
    for name, digest in sorted(v.artifacts.items()):
        print(f"  {name:<24} {digest}")
    print("signatures:")
    for sig in v.signatures:
        print(f"  {sig.meaning:<9} by {sig.username:<12} {sig.signed_at[:19]} key {sig.key_id} "
              f"({sig.reason})")
    for ev in history:
        print(f"  #{ev.seq} {ev.ts[:19]} {ev.user:<12} {ev.action:<16} {ev.result}")
    return 0


def _pairs(mapping) -> str:
    """Plain values of a mapping as 'key value; key value' on one line (numbers to four
    significant figures; nested values are left to the lines that explain them)."""
    parts = []
    for key, value in sorted(mapping.items()):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{key.replace('_', ' ')} {text}")
    return "; ".join(parts) or "-"


def _recipe(recipe) -> str:
    split = recipe.get("split") if isinstance(recipe.get("split"), dict) else {}
    parts = [f"{recipe.get('model', '?')} ({recipe.get('task', '?')})"]
    if split:
        parts.append(f"split {split.get('kind')}, {split.get('test_fraction', 0):.0%} held out")
    if "seed" in recipe:
        parts.append(f"seed {recipe['seed']}")
    if isinstance(recipe.get("robust_max_drop"), float):
        parts.append(f"not robust beyond a {recipe['robust_max_drop']:.0%} drop")
    kin = recipe.get("kinematics")
    if isinstance(kin, dict):
        parts.append("kinematics " + _pairs(kin))
    if recipe.get("absolute_features"):
        parts.append("with gain-sensitive absolute features")
    return "; ".join(parts)


def _features(spec) -> str:
    channels = ", ".join(map(str, spec.get("channels") or [])) or "?"
    families = ", ".join(map(str, spec.get("features") or []))
    rate = spec.get("sample_rate")
    at = f" at {rate:g} Hz" if isinstance(rate, int | float) else ""
    text = (f"version {spec.get('version', 1)}; window {spec.get('window')} samples, hop "
            f"{spec.get('hop')}{at}; channels {channels}")
    return text + (f"; {families}" if families else "")


def cmd_compare(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        diff = sv.registry.compare(me, a=args.a, b=args.b)
    if not diff:
        print("no differences beyond the version number")
    width = max((len(k) for k in diff), default=10)
    print(f"{'field':<{width}}  {args.a:<30} {args.b}")
    for key, (x, y) in diff.items():
        print(f"{key:<{width}}  {json.dumps(x)[:30]:<30} {json.dumps(y)[:60]}")
    return 0


def cmd_alias(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        old = sv.registry.set_alias(me, ref=args.ref, alias=args.alias, reason=args.reason)
    was = f" (was v{old})" if old else ""
    print(f"{args.alias} now points to {args.ref}{was}")
    return 0


def cmd_retire(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        v = sv.registry.retire(me, ref=args.ref, reason=args.reason)
    print(f"{v.ref} retired")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    models = sub.add_parser("models", help="the model registry")
    cmds = models.add_subparsers(dest="models_cmd", required=True)
    p = cmds.add_parser("list", help="model lines, or the versions of one line")
    p.add_argument("line", nargs="?")
    p.set_defaults(func=cmd_list)
    p = cmds.add_parser("show", help="one version: lineage, artifacts, signatures")
    p.add_argument("ref", help="LINE:vN")
    p.add_argument("--history", action="store_true", help="also its audit trail")
    p.set_defaults(func=cmd_show)
    p = cmds.add_parser("compare", help="two versions side by side")
    p.add_argument("a")
    p.add_argument("b")
    p.set_defaults(func=cmd_compare)
    p = cmds.add_parser("alias", help="point an alias (e.g. production) at a version")
    p.add_argument("ref")
    p.add_argument("alias")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_alias)
    p = cmds.add_parser("retire", help="withdraw a version")
    p.add_argument("ref")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_retire)
