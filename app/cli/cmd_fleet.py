"""``plantml fleet add|list|show|remove|update`` and ``plantml fleet rollout
start|status|resume|list``: the controller inventory and roll-outs to a group."""

from __future__ import annotations

from app.cli.progress import TextProgress, end_progress_line
from app.cli.session import open_workspace, sign_in
from app.core.fleet import Rollout
from app.services.fleet_lease import shown


def cmd_add(args) -> int:
    with open_workspace(args) as sv:
        c = sv.fleet.add(sign_in(sv), name=args.name, endpoint=args.endpoint,
                         hardware_id=args.hardware_id, line=args.line, location=args.location,
                         group=args.group)
    print(f"added {c.name}: {c.endpoint}, hardware id {c.hardware_id}, group {c.group or '-'}")
    return 0


def cmd_update(args) -> int:
    changes = {k: getattr(args, k) for k in ("endpoint", "hardware_id", "line", "location",
                                             "group") if getattr(args, k) is not None}
    with open_workspace(args) as sv:
        c = sv.fleet.update(sign_in(sv), name=args.name, reason=args.reason, **changes)
    print(f"updated {c.name}: {c.endpoint}, hardware id {c.hardware_id}, line {c.line or '-'}, "
          f"location {c.location or '-'}, group {c.group or '-'}")
    return 0


def cmd_remove(args) -> int:
    with open_workspace(args) as sv:
        sv.fleet.remove(sign_in(sv), name=args.name, reason=args.reason)
    print(f"removed {args.name} from the inventory (its history stays in the audit trail)")
    return 0


def cmd_list(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        rows = sv.fleet.list(me, group=args.group)
        current = {c.name: sv.controllers.current_model(me, target=c.endpoint) for c in rows}
    if not rows:
        print("the inventory is empty" if args.group is None else
              f"group {args.group} has no controllers")
        return 0
    print(f"{'name':<16} {'group':<12} {'endpoint':<28} {'hardware id':<14} {'line':<12} "
          f"{'location':<14} model")
    for c in rows:
        model = current[c.name].active or "-"
        print(f"{c.name:<16} {c.group or '-':<12} {c.endpoint:<28} {c.hardware_id:<14} "
              f"{c.line or '-':<12} {c.location or '-':<14} {model}")
    return 0


def cmd_show(args) -> int:
    with open_workspace(args) as sv:
        entry = sv.fleet.show(sign_in(sv), name=args.name)
    c = entry.controller
    print(f"{c.name}: {c.endpoint}, hardware id {c.hardware_id}")
    print(f"line {c.line or '-'}, location {c.location or '-'}, group {c.group or '-'}; "
          f"added {c.added_at} by {c.added_by}")
    print(f"current model: {entry.current.active or 'none known'}"
          + (f" (audit event {entry.current.seq})" if entry.current.seq else ""))
    print("deployment history (newest first):" if entry.history else "no deployments yet")
    for d in entry.history:
        what = d.action.removeprefix("controller.")
        print(f"  #{d.seq} {d.time} {d.user or '-'}: {what} {d.result}: {d.model or '-'}"
              + (f" ({d.reason})" if d.reason else ""))
    return 0


def _print_rollout(ro: Rollout) -> None:
    print(ro.summary())
    print(f"canary {ro.canary}, batches of {ro.batch_size}, {ro.parallel} in parallel, "
          f"watched {ro.observe_s:g} s each; started on {ro.workstation}")
    if ro.owner and ro.lease_until:
        print(f"run by workstation {ro.owner}, lease until {shown(ro.lease_until)}")
    for s in ro.steps:
        where = "canary" if s.batch == 0 else f"batch {s.batch}"
        change = f"{s.before_model or '-'} -> {s.after_model or '-'}" \
            if s.after_model or s.before_model else ""
        print(f"  {where:<9} {s.controller:<16} {s.state:<8} {change}"
              + (f"  {s.error}" if s.error else ""))
    if ro.state != "done":
        print(f"changed: {', '.join(ro.changed) or 'none'}; on their old model: "
              f"{', '.join(ro.untouched) or 'none'}")


def _ended(ro: Rollout) -> int:
    end_progress_line()
    _print_rollout(ro)
    return 0 if ro.state == "done" else 1


def cmd_rollout_start(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        ro = sv.fleet.start(me, ref=args.ref, group=args.group, canary=args.canary,
                            batch_size=args.batch, parallel=args.parallel,
                            observe_s=args.observe, invalid_share=args.invalid_share,
                            progress=TextProgress(),
                            created=lambda r: print(f"roll-out {r.id} started: "
                                                    f"{r.ref} to {len(r.steps)} controllers "
                                                    f"in {r.batches} batches; if interrupted, "
                                                    f"'plantml fleet rollout resume {r.id}'",
                                                    flush=True))
    return _ended(ro)


def cmd_rollout_resume(args) -> int:
    with open_workspace(args) as sv:
        ro = sv.fleet.resume(sign_in(sv), rollout_id=args.id, reason=args.reason,
                             take_over=args.take_over, progress=TextProgress())
    return _ended(ro)


def cmd_rollout_status(args) -> int:
    with open_workspace(args) as sv:
        ro = sv.fleet.status(sign_in(sv), rollout_id=args.id)
    _print_rollout(ro)
    return 0


def cmd_rollout_list(args) -> int:
    with open_workspace(args) as sv:
        items = sv.fleet.rollouts(sign_in(sv), limit=args.limit)
    for ro in items:
        print(ro.summary())
    if not items:
        print("no roll-outs yet")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    cmds = sub.add_parser("fleet", help="the controller inventory and roll-outs to a group"
                          ).add_subparsers(dest="fleet_cmd", required=True)
    target_help = ("tcp:HOST:PORT or rtu:SERIAL_PORT:BAUD, with #unit=N after it for a unit id "
                   "other than 1")
    p = cmds.add_parser("add", help="put a controller into the inventory (operator)")
    p.add_argument("name")
    p.add_argument("endpoint", help=target_help)
    p.add_argument("--hardware-id", required=True)
    p.add_argument("--line", default="")
    p.add_argument("--location", default="")
    p.add_argument("--group", default="")
    p.set_defaults(func=cmd_add)
    p = cmds.add_parser("update", help="change a controller's entry (operator)")
    p.add_argument("name")
    p.add_argument("--endpoint", help=target_help)
    p.add_argument("--hardware-id")
    p.add_argument("--line")
    p.add_argument("--location")
    p.add_argument("--group")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_update)
    p = cmds.add_parser("remove", help="take a controller out of the inventory (operator)")
    p.add_argument("name")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_remove)
    p = cmds.add_parser("list", help="the inventory with each controller's current model")
    p.add_argument("--group")
    p.set_defaults(func=cmd_list)
    p = cmds.add_parser("show", help="one controller and its deployment history")
    p.add_argument("name")
    p.set_defaults(func=cmd_show)
    ro = cmds.add_parser("rollout", help="roll an approved version out to a group"
                         ).add_subparsers(dest="rollout_cmd", required=True)
    p = ro.add_parser("start", help="canary, watch, then batches (operator)")
    p.add_argument("ref")
    p.add_argument("--group", required=True)
    p.add_argument("--canary", help="the canary's name (default: the group's first)")
    p.add_argument("--batch", type=int, default=5, help="controllers per batch (default 5)")
    p.add_argument("--parallel", type=int, default=4,
                   help="TCP flashes at once (default 4); RTU: one per serial port")
    p.add_argument("--observe", type=float, default=60.0,
                   help="seconds each batch is watched before the next (default 60)")
    p.add_argument("--invalid-share", type=float, default=0.2,
                   help="halt when more than this share of windows is invalid input")
    p.set_defaults(func=cmd_rollout_start)
    p = ro.add_parser("status", help="a roll-out and its steps")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_rollout_status)
    p = ro.add_parser("resume", help="go on after a restart, a stop or a halt (operator)")
    p.add_argument("id", type=int)
    p.add_argument("--reason", default="")
    p.add_argument("--take-over", action="store_true",
                   help="resume although another workstation's lease on it is live (it "
                   "stops at its next step; audited, needs --reason)")
    p.set_defaults(func=cmd_rollout_resume)
    p = ro.add_parser("list", help="the newest roll-outs")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_rollout_list)
