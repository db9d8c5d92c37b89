"""``plantml controller serve`` and ``plantml controllers scan|status|flash|rollback|watch|
capture``."""

from __future__ import annotations

import time

from app.cli.progress import TextProgress
from app.cli.session import open_workspace, sign_in
from app.core.errors import UsageError
from app.services.controller_drift import worst_names
from app.services.controller_runtime import add_serve_arguments, run_serve
from app.services.controller_shadow import ShadowRequirement


def cmd_serve(args) -> int:
    # The same checked path as `plantml-edge serve`: every bad option is one sentence, exit 2.
    return run_serve(args, "plantml controller serve")


def cmd_scan(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        results = sv.controllers.scan(me, endpoints=args.endpoints)
    for r in results:
        if r.identity is None or r.status is None:
            print(f"{r.endpoint}: nothing usable ({r.error})")
        else:
            print(f"{r.endpoint}: {r.identity.hardware_id}, protocol "
                  f"{r.identity.protocol_version}; {r.status.summary()}")
    return 0


def cmd_status(args) -> int:
    with open_workspace(args) as sv:
        ident, st = sv.controllers.status(sign_in(sv), target=args.target)
    print(f"hardware id {ident.hardware_id}, capabilities {ident.capabilities!s}, max package "
          f"{ident.max_package} bytes")
    print(f"state: {st.summary()}")
    if st.reason:
        print(f"last error: {st.reason}")
    return 0


def cmd_flash(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        out = sv.controllers.flash(me, ref=args.ref, target=args.target,
                                   progress=TextProgress())
    print(f"{'committed' if out.ok else 'NOT active'}: {out.status.summary()}; "
          f"{out.package_bytes} bytes ({out.wire_bytes} on the wire, "
          f"{'compressed' if out.compressed else 'plain'}) in {out.duration_s:.1f} s, "
          f"{out.resumes} resumes")
    return 0 if out.ok else 1


def cmd_rollback(args) -> int:
    with open_workspace(args) as sv:
        st = sv.controllers.rollback(sign_in(sv), target=args.target, reason=args.reason)
    print(f"rolled back: {st.summary()}")
    return 0


def cmd_watch(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        for i in range(args.count):
            w = sv.controllers.watch(me, target=args.target)
            if w.drift is None:
                drift = "n/a (not enough windows of the class yet)"
            elif w.drift.level == "ok":
                drift = "ok"
            else:
                names = worst_names(w.drift)
                drift = w.drift.level.upper() + (f" in {names}" if names else "")
            said = f"invalid input: {w.invalid_reason}" if w.invalid_reason else \
                f"predicted {w.label}"
            print(f"{w.model}: #{w.live.inference_count} {said}, latency "
                  f"{w.live.latency_us} us, drift {drift}", flush=True)
            if w.captured is not None:
                print(f"drift alarm: {len(w.captured.provenance['window_ids'])} windows "
                      f"captured as dataset {w.captured.dataset_id[:12]}", flush=True)
            if i + 1 < args.count:
                time.sleep(args.interval)
    return 0


def cmd_shadow(args) -> int:
    # One process from start to commit: the transfer session that owns the staged package
    # lives in this workstation process (docs/controller-protocol.md 6d).
    requirement = ShadowRequirement(min_agreement=args.min_agreement,
                                    min_windows=args.min_windows, min_seconds=args.seconds)
    with open_workspace(args) as sv:
        me = sign_in(sv)
        st = sv.controllers.start_shadow(me, ref=args.ref, target=args.target,
                                         progress=TextProgress())
        print(f"{args.ref} runs in shadow on {args.target}: {st.summary()}", flush=True)
        while True:
            time.sleep(min(5.0, max(0.5, args.seconds / 20)))
            st = sv.controllers.shadow_status(me, target=args.target)
            if not st.running:
                print(f"the shadow ended on the controller: {st.summary()}")
                sv.controllers.stop_shadow(me, target=args.target, drop=True,
                                           reason="the shadow ended before its period")
                return 1
            if st.running_s >= args.seconds and st.compared >= args.min_windows:
                break
        print(f"after {st.running_s} s: {st.summary()}")
        if not args.commit:
            sv.controllers.stop_shadow(me, target=args.target, drop=True,
                                       reason="shadow period only (no --commit)")
            print("shadow stopped, the staged package dropped; the running model is unchanged")
            return 0
        try:
            status = sv.controllers.commit_shadow(me, target=args.target,
                                                  requirement=requirement)
        except UsageError:
            sv.controllers.stop_shadow(me, target=args.target, drop=True,
                                       reason="the shadow period did not meet the requirement")
            raise
    print(f"committed: {status.summary()}")
    return 0


def cmd_capture(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        info = sv.controllers.capture(me, target=args.target, windows=args.windows,
                                      progress=TextProgress())
    prov = info.provenance
    missed = f", {len(prov['missed'])} left the ring before they were read" \
        if prov["missed"] else ""
    print(f"dataset {info.dataset_id[:12]} ({info.name}): {len(prov['window_ids'])} windows "
          f"{prov['window_ids'][0]}-{prov['window_ids'][-1]} in {len(info.recordings)} "
          f"recording(s){missed}; model {prov['model'] or 'unknown'}; "
          f"{prov['time_range'][0]} to {prov['time_range'][1]}")
    print("predictions are proposed labels only: confirm, reject or relabel them with "
          "'plantml feedback'")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    ctl = sub.add_parser("controller", help="the reference controller runtime")
    p = ctl.add_subparsers(dest="controller_cmd", required=True).add_parser(
        "serve", help="run a controller on TCP or a serial port")
    add_serve_arguments(p)
    p.set_defaults(func=cmd_serve)

    cmds = sub.add_parser("controllers", help="find, flash, roll back and watch controllers"
                          ).add_subparsers(dest="controllers_cmd", required=True)
    target_help = ("tcp:HOST:PORT or rtu:SERIAL_PORT:BAUD, with #unit=N after it for a unit id "
                   "other than 1")
    p = cmds.add_parser("scan")
    p.add_argument("endpoints", nargs="+", help=target_help)
    p.set_defaults(func=cmd_scan)
    p = cmds.add_parser("status")
    p.add_argument("target", help=target_help)
    p.set_defaults(func=cmd_status)
    p = cmds.add_parser("flash", help="deploy an approved version (operator)")
    p.add_argument("ref")
    p.add_argument("target", help=target_help)
    p.set_defaults(func=cmd_flash)
    p = cmds.add_parser("rollback")
    p.add_argument("target", help=target_help)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_rollback)
    p = cmds.add_parser("shadow", help="run an approved version in shadow beside the active "
                        "model for a period, then commit it if it agreed enough (operator)")
    p.add_argument("ref")
    p.add_argument("target", help=target_help)
    p.add_argument("--seconds", type=int, default=600, help="shadow period on the device")
    p.add_argument("--min-windows", type=int, default=100)
    p.add_argument("--min-agreement", type=float, default=0.99, help="0..1")
    p.add_argument("--commit", action="store_true",
                   help="commit when the requirement is met (else only report and drop)")
    p.set_defaults(func=cmd_shadow)
    p = cmds.add_parser("watch", help="live predictions and drift")
    p.add_argument("target", help=target_help)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--interval", type=float, default=1.0)
    p.set_defaults(func=cmd_watch)
    p = cmds.add_parser("capture", help="the newest raw windows as a dataset snapshot")
    p.add_argument("target", help=target_help)
    p.add_argument("--windows", type=int, default=64, help="how many (1 to 4096)")
    p.set_defaults(func=cmd_capture)
