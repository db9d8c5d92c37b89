"""``plantml init`` and ``plantml user ...``."""

from __future__ import annotations

from app.cli.credentials import ask_new_password, ask_password, ask_secret, ask_username
from app.cli.session import open_workspace, sign_in
from app.core.errors import Conflict, PasswordChangeRequired
from app.services import open_services

ENV_NEW_PASSWORD = "PLANTML_NEW_PASSWORD"
ENV_RECOVERY_CODE = "PLANTML_RECOVERY_CODE"


def _print_recovery_code(code: str, first: bool) -> None:
    label = "recovery code" if first else "new recovery code"
    print(f"{label}: {code}")
    print("  Write it down and keep it in the plant's safe: it is shown only this once and "
          "opens a locked administrator account with 'plantml recover-admin'.")


def cmd_init(args) -> int:
    """Create the workspace and, on the first run, its administrator; with ``--db`` on a
    shared registry (a second workstation joins it with the same URL)."""
    with open_services(args.home, create=True, db_url=args.db, blob_folder=args.blobs,
                       workstation=args.workstation or "") as sv:
        if sv.joined:
            print(f"workstation joined the shared registry at {sv.registry_where}; audit key: "
                  f"{sv.audit.key_id} (registered in the trail); sign in with an existing "
                  "account")
            return 0
        if not sv.auth.needs_admin():
            raise Conflict(f"{sv.home} is already set up; sign in with an existing account")
        password = ask_new_password(f"Password for the administrator {args.admin!r}: ",
                                    ENV_NEW_PASSWORD)
        _admin, code = sv.auth.initialize(username=args.admin, password=password)
        print(f"workspace ready at {sv.home}")
        print(f"administrator: {args.admin}; audit key: {sv.audit.key_id} (keep a copy of "
              f"{sv.home / 'keys' / 'audit_ed25519.pub.pem'} away from this workstation to "
              "pin it: 'plantml audit verify --key')")
        _print_recovery_code(code, first=True)
    return 0


def cmd_recover_admin(args) -> int:
    """Open a locked or forgotten administrator account with the recovery code."""
    with open_workspace(args) as sv:
        code = ask_secret("Recovery code: ", ENV_RECOVERY_CODE, "the recovery code")
        password = ask_new_password(f"New password for {args.admin}: ", ENV_NEW_PASSWORD)
        _me, new_code = sv.auth.recover_admin(username=args.admin, code=code,
                                              new_password=password)
        print(f"administrator {args.admin} recovered: unlocked, with the new password")
        _print_recovery_code(new_code, first=False)
    return 0


def cmd_recovery_code(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        code = sv.auth.new_recovery_code(me, password=ask_password("Re-enter your password: "))
        _print_recovery_code(code, first=False)
        print("  The earlier recovery code no longer works.")
    return 0


def cmd_user_add(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        password = ask_new_password(f"Password for {args.name}: ", ENV_NEW_PASSWORD)
        info = sv.users.add(me, username=args.name, password=password, roles=args.role)
        print(f"user {info.username} added with roles {', '.join(info.roles)}")
    return 0


def cmd_user_list(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        print(f"{'user':<20} {'roles':<32} {'state':<8} created")
        for u in sv.users.list(me):
            state = "locked" if u.locked else "active"
            print(f"{u.username:<20} {','.join(u.roles):<32} {state:<8} "
                  f"{u.created_at:%Y-%m-%d %H:%M}")
    return 0


def cmd_user_passwd(args) -> int:
    with open_workspace(args) as sv:
        try:
            me = sign_in(sv)
        except PasswordChangeRequired:
            return _complete_reset(sv)
        if args.name and args.name.lower() != me.username:
            password = ask_new_password(f"New password for {args.name}: ", ENV_NEW_PASSWORD)
            sv.users.set_password(me, username=args.name, password=password)
            print(f"password of {args.name} reset; their signing key was replaced")
        else:
            old = ask_password("Current password: ")
            new = ask_new_password("New password: ", ENV_NEW_PASSWORD)
            sv.users.change_own_password(me, old_password=old, new_password=new)
            print("your password was changed")
    return 0


def _complete_reset(sv) -> int:
    """The user signs in with the password an administrator set and chooses their own."""
    name, temporary = ask_username(), ask_password("Password the administrator gave you: ")
    new = ask_new_password("Your own new password: ", ENV_NEW_PASSWORD)
    sv.auth.complete_reset(username=name, temporary_password=temporary, new_password=new)
    print("your password was set; your new signing key is made with it")
    return 0


def cmd_user_unlock(args) -> int:
    with open_workspace(args) as sv:
        me = sign_in(sv)
        sv.users.unlock(me, username=args.name, reason=args.reason)
        print(f"user {args.name} unlocked")
    return 0


def register(sub) -> None:
    """Add the commands to the argparse sub-parsers."""
    p = sub.add_parser("init", help="create the workspace and its administrator")
    p.add_argument("--admin", default="admin", help="administrator's user name")
    p.add_argument("--db", metavar="URL", help="use a shared registry: "
                   "postgresql+psycopg://USER@HOST:PORT/DB (docs/shared-registry.md); a "
                   "second workstation joins with the same URL")
    p.add_argument("--blobs", metavar="FOLDER", help="shared blob folder every workstation "
                   "reaches (needed when a shared registry is created)")
    p.add_argument("--workstation", metavar="NAME", help="this workstation's name in the "
                   "shared trail (default: the host name)")
    p.set_defaults(func=cmd_init)

    user = sub.add_parser("user", help="manage accounts").add_subparsers(dest="user_cmd",
                                                                         required=True)
    p = user.add_parser("add", help="add an account")
    p.add_argument("name")
    p.add_argument("--role", action="append", required=True,
                   help="engineer, approver, operator, auditor or admin (repeatable)")
    p.set_defaults(func=cmd_user_add)
    user.add_parser("list", help="list accounts").set_defaults(func=cmd_user_list)
    p = user.add_parser("passwd", help="reset a user's password (admin) or change your own")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_user_passwd)
    p = sub.add_parser("recover-admin", help="open a locked administrator account with the "
                       "recovery code printed at init (at the workstation)")
    p.add_argument("--admin", default="admin", help="administrator's user name")
    p.set_defaults(func=cmd_recover_admin)
    user.add_parser("recovery-code", help="print a new recovery code (admin); the old one "
                    "stops working").set_defaults(func=cmd_recovery_code)
    p = user.add_parser("unlock", help="unlock a locked account")
    p.add_argument("name")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_user_unlock)
