"""``plantml init`` and ``plantml user ...``."""

from __future__ import annotations

from app.cli.credentials import ask_new_password, ask_password
from app.cli.session import open_workspace, sign_in
from app.core.errors import Conflict
from app.services import open_services

ENV_NEW_PASSWORD = "PLANTML_NEW_PASSWORD"


def cmd_init(args) -> int:
    """Create the workspace and, on the first run, its administrator."""
    with open_services(args.home, create=True) as sv:
        if not sv.auth.needs_admin():
            raise Conflict(f"{sv.home} is already set up; sign in with an existing account")
        password = ask_new_password(f"Password for the administrator {args.admin!r}: ",
                                    ENV_NEW_PASSWORD)
        sv.auth.bootstrap_admin(username=args.admin, password=password)
        print(f"workspace ready at {sv.home}")
        print(f"administrator: {args.admin}; audit key: {sv.audit.key_id}")
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
        me = sign_in(sv)
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
    p = user.add_parser("unlock", help="unlock a locked account")
    p.add_argument("name")
    p.add_argument("--reason", default="")
    p.set_defaults(func=cmd_user_unlock)
