"""Roles and the one policy table that says which role may do which action (DESIGN.md 1)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's job in the plant; one person may hold several."""

    ENGINEER = "engineer"
    APPROVER = "approver"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(StrEnum):
    """Every action a service checks before it changes or reveals anything."""

    USER_ADD = "user.add"
    USER_LIST = "user.list"
    USER_SET_PASSWORD = "user.passwd"
    USER_UNLOCK = "user.unlock"
    USER_SET_ROLES = "user.roles"
    SETTINGS_CHANGE = "settings.change"
    KEYS_MANAGE = "keys.manage"
    SECURITY_RESEAL = "security.reseal"
    AUDIT_READ = "audit.show"
    AUDIT_VERIFY = "audit.verify"
    AUDIT_EXPORT = "audit.export"
    DATA_IMPORT = "data.import"
    DATA_ACQUIRE = "data.acquire"
    DATA_LABEL = "data.label"
    DATA_READ = "data.read"
    MODEL_TRAIN = "model.train"
    MODEL_PROPOSE = "model.propose"
    MODEL_READ = "model.read"
    MODEL_APPROVE = "model.approve"
    MODEL_RETIRE = "model.retire"
    MODEL_ALIAS = "model.alias"
    PACKAGE_BUILD_DRAFT = "package.build_draft"
    PACKAGE_EXPORT = "package.export"
    PACKAGE_IMPORT = "package.import"
    CONTROLLER_DEPLOY = "controller.deploy"
    CONTROLLER_ROLLBACK = "controller.rollback"
    CONTROLLER_WATCH = "controller.watch"
    FLEET_EDIT = "fleet.edit"
    CONTROLLER_CAPTURE = "controller.capture"
    DATA_FEEDBACK = "data.feedback"


ENG, APR, OPR, AUD, ADM = Role.ENGINEER, Role.APPROVER, Role.OPERATOR, Role.AUDITOR, Role.ADMIN

#: The policy table: action -> roles allowed, decided against the role table of DESIGN.md
#: section 1 (tests/test_policy_matrix.py writes the matrix out and says why for each row).
#: Approving one's own version is refused separately (four eyes), since it depends on the
#: record, not only the role.
POLICY: dict[Action, frozenset[Role]] = {
    Action.USER_ADD: frozenset({ADM}),
    Action.USER_LIST: frozenset({ADM, AUD}),
    Action.USER_SET_PASSWORD: frozenset({ADM}),
    Action.USER_UNLOCK: frozenset({ADM}),
    Action.USER_SET_ROLES: frozenset({ADM}),
    Action.SETTINGS_CHANGE: frozenset({ADM}),
    Action.KEYS_MANAGE: frozenset({ADM}),
    # After an alarm: an administrator accepts a reviewed security state (audited).
    Action.SECURITY_RESEAL: frozenset({ADM}),
    Action.AUDIT_READ: frozenset({ENG, APR, OPR, AUD, ADM}),
    Action.AUDIT_VERIFY: frozenset({AUD, ADM}),
    Action.AUDIT_EXPORT: frozenset({AUD}),
    Action.DATA_IMPORT: frozenset({ENG}),
    Action.DATA_ACQUIRE: frozenset({ENG}),
    Action.DATA_LABEL: frozenset({ENG}),
    Action.DATA_READ: frozenset({ENG, APR, OPR, AUD}),
    Action.MODEL_TRAIN: frozenset({ENG}),
    Action.MODEL_PROPOSE: frozenset({ENG}),
    Action.MODEL_READ: frozenset({ENG, APR, OPR, AUD}),
    Action.MODEL_APPROVE: frozenset({APR}),
    Action.MODEL_RETIRE: frozenset({ENG, APR}),
    # An alias names what runs in the plant: part of deploying; an approver's only act is a
    # signature, so an alias moved by an approver would be an approval without one.
    Action.MODEL_ALIAS: frozenset({OPR}),
    # Engineers export a draft package; approved packages (to a file or a stick) and their
    # import on another workstation are how operators deploy (DESIGN.md section 1).
    Action.PACKAGE_BUILD_DRAFT: frozenset({ENG}),
    Action.PACKAGE_EXPORT: frozenset({OPR}),
    Action.PACKAGE_IMPORT: frozenset({OPR}),
    Action.CONTROLLER_DEPLOY: frozenset({OPR}),
    Action.CONTROLLER_ROLLBACK: frozenset({OPR}),
    Action.CONTROLLER_WATCH: frozenset({OPR, ENG, AUD}),
    # The inventory says which controllers a roll-out reaches: part of deploying.
    Action.FLEET_EDIT: frozenset({OPR}),
    # The windows behind an alarm or a doubtful prediction become a dataset: the operator
    # who watches, or the engineer for whom drift leads back to step 1 (issue 12.1).
    Action.CONTROLLER_CAPTURE: frozenset({OPR, ENG}),
    # The operator says whether a captured prediction was right; the engineer labels anyway.
    Action.DATA_FEEDBACK: frozenset({OPR, ENG}),
}

assert set(POLICY) == set(Action), "every action needs a row in the policy table"

#: Actions that put a person's electronic signature on a release.
SIGNING_ACTIONS = frozenset({Action.MODEL_PROPOSE, Action.MODEL_APPROVE})

#: Roles no account may hold together. An administrator manages accounts, passwords and
#: keys, so an administrator who could also sign could sign as anyone (DESIGN.md: "admin
#: ... cannot sign approvals").
EXCLUSIVE: dict[Role, frozenset[Role]] = {ADM: frozenset({ENG, APR})}


def role_conflict(roles: frozenset[Role] | set[Role]) -> str | None:
    """Why ``roles`` may not be held by one account, or None if they may."""
    for role, others in EXCLUSIVE.items():
        clash = sorted(r.value for r in others & set(roles))
        if role in roles and clash:
            return (f"the {role.value} role cannot be held together with {' or '.join(clash)}: "
                    "an administrator manages passwords and keys and must never sign")
    return None


def allowed_roles(action: Action) -> frozenset[Role]:
    """Roles that may perform ``action``."""
    return POLICY[action]


def acting_role(roles: frozenset[Role] | set[Role], action: Action) -> Role | None:
    """The role under which a holder of ``roles`` performs ``action``, or None if none may.

    The order of :class:`Role` decides when several roles qualify, so the audit row names
    the same role every time.
    """
    permitted = POLICY[action]
    if action in SIGNING_ACTIONS and role_conflict(roles) is not None:
        # An account from before the rule (admin and a signing role) never signs.
        return None
    for role in Role:
        if role in roles and role in permitted:
            return role
    return None
