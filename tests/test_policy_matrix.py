"""T23: every role tries every existing action through the services; the outcome matches the
role table of DESIGN.md section 1, written out below, exactly, and every refusal is audited."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.core.errors import PermissionDenied, UsageError
from app.core.principal import Principal
from app.core.records import ChannelInfo
from app.core.roles import POLICY, Action, Role, acting_role
from app.services.audit import AuditFilter
from app.services.datasets import RecordingInput
from tests.conftest import password_of

#: DESIGN.md section 1, action by action (x = allowed). Columns: engineer, approver,
#: operator, auditor, admin. The reason column says which sentence of the role table decides.
MATRIX = """
user.add              . . . . x  admin: manage accounts
user.list             . . . x x  admin: manage accounts; auditor: read everything
user.passwd           . . . . x  admin: manage accounts
user.unlock           . . . . x  admin: manage accounts
user.roles            . . . . x  admin: manage roles
settings.change       . . . . x  admin: manage settings
keys.manage           . . . . x  admin: manage keys
security.reseal       . . . . x  admin: manage roles and keys (accepts a reviewed state)
audit.show            x x x x x  the trail is the record everyone's work is judged by
audit.verify          . . . x x  auditor: verify; admin: answers the integrity alarms
audit.export          . . . x .  auditor: export the audit log
data.import           x . . . .  engineer: import data
data.acquire          x . . . .  engineer: acquire data
data.label            x . . . .  engineer: label
data.read             x x x x .  the evidence approvers review, operators compare, auditors read
model.train           x . . . .  engineer: train and validate
model.propose         x . . . .  engineer: propose a model version (signs the release)
model.read            x x x x .  approver: review the evidence; auditor: read everything
model.approve         . x . . .  approver: sign an approval or a rejection; admin never
model.retire          x x . . .  engineer withdraws a proposal, approver an approval
model.alias           . . x . .  operator: deploy (an alias names what runs); approver only signs
package.build_draft   x . . . .  engineer: export a draft package
package.export        . . x . .  operator: deploy approved packages (file or USB stick)
package.import        . . x . .  operator: deploy approved packages from another workstation
controller.deploy     . . x . .  operator: deploy approved packages to controllers
controller.rollback   . . x . .  operator: roll back
controller.watch      x . x x .  operator: watch; engineer: drift leads back to step 1; auditor
fleet.edit            . . x . .  operator: deploy to controllers (the inventory a roll-out reaches)
controller.capture    x . x . .  operator: an alarm's windows; engineer: acquire data
data.feedback         x . x . .  operator: says whether a prediction was right; engineer: label
"""
COLUMNS = (Role.ENGINEER, Role.APPROVER, Role.OPERATOR, Role.AUDITOR, Role.ADMIN)


def expected_matrix() -> dict[tuple[Role, Action], bool]:
    """The written-out matrix as (role, action) -> allowed."""
    out = {}
    for line in MATRIX.strip().splitlines():
        action, *marks = line.split()[:6]
        for role, mark in zip(COLUMNS, marks, strict=True):
            assert mark in ".x", line
            out[role, Action(action)] = mark == "x"
    return out


EXPECTED = expected_matrix()
#: Actions tried through the services here, in tests/services/test_release_policy.py and in
#: tests/services/test_controllers.py; together they must be every action.
HERE = frozenset({
    Action.DATA_IMPORT, Action.DATA_ACQUIRE, Action.DATA_LABEL, Action.DATA_READ,
    Action.MODEL_TRAIN, Action.MODEL_READ, Action.MODEL_ALIAS, Action.MODEL_RETIRE,
    Action.USER_ADD, Action.USER_LIST, Action.USER_SET_PASSWORD, Action.USER_UNLOCK,
    Action.USER_SET_ROLES, Action.SETTINGS_CHANGE, Action.AUDIT_READ, Action.AUDIT_VERIFY,
    Action.AUDIT_EXPORT, Action.SECURITY_RESEAL})
RELEASE = frozenset({Action.MODEL_PROPOSE, Action.MODEL_APPROVE, Action.PACKAGE_BUILD_DRAFT,
                     Action.PACKAGE_EXPORT, Action.PACKAGE_IMPORT, Action.KEYS_MANAGE})
CONTROLLER = frozenset({Action.CONTROLLER_DEPLOY, Action.CONTROLLER_ROLLBACK,
                        Action.CONTROLLER_WATCH})
#: Tried in tests/services/test_fleet.py.
FLEET = frozenset({Action.FLEET_EDIT})

#: Tried in tests/services/test_capture.py.
CAPTURE = frozenset({Action.CONTROLLER_CAPTURE, Action.DATA_FEEDBACK})


def test_t23_policy_table_is_the_written_matrix():
    assert {a for _, a in EXPECTED} == set(Action), "the matrix must name every action"
    assert set(Action) == HERE | RELEASE | CONTROLLER | FLEET | CAPTURE, \
        "every action must be tried somewhere"
    table = {(r, a): r in POLICY[a] for r in Role for a in Action}
    wrong = sorted(f"{a.value} as {r.value}: policy {table[r, a]}, matrix {EXPECTED[r, a]}"
                   for (r, a) in EXPECTED if table[r, a] != EXPECTED[r, a])
    assert not wrong, wrong


def _calls(services, tmp_path, dataset_id):
    """Action -> a call performing it as the given principal."""
    # Counters of this call only: a second run of the test in one process (mutmut's) starts
    # again at the first seed version.
    counter, retirable = itertools.count(), itertools.count(1)
    return {
        Action.DATA_IMPORT: lambda p: services.datasets.create_from_arrays(
            p, action=Action.DATA_IMPORT, name="d", channels=[ChannelInfo("x")],
            sample_rate=100.0, provenance={}, recordings=[
                RecordingInput(name="r", data=np.full((1, 50), float(next(counter))))]),
        Action.DATA_ACQUIRE: lambda p: _past_the_role_check(lambda: services.data_in.acquire(
            p, tagmap=tmp_path / "no-such-tagmap.toml", duration_s=1.0)),
        Action.DATA_LABEL: lambda p: services.datasets.label(
            p, dataset=dataset_id, recording=0, label="normal"),
        Action.DATA_READ: services.datasets.list,
        Action.MODEL_TRAIN: lambda p: services.registry.register(
            p, line="line-a", kind="classifier", dataset_id=dataset_id, feature_spec={},
            recipe={}, metrics={}, lineage={}, artifacts={"model.onnx": b"m"},
            parity_passed=True),
        Action.MODEL_READ: services.registry.lines,
        Action.MODEL_ALIAS: lambda p: services.registry.set_alias(
            p, ref="seed-line:v1", alias="candidate", reason="trial"),
        Action.MODEL_RETIRE: lambda p: services.registry.retire(
            p, ref=f"seed-line:v{next(retirable)}", reason="done"),
        Action.USER_ADD: lambda p: services.users.add(
            p, username=f"new{next(counter)}", password="new-user-password", roles=["operator"]),
        Action.USER_LIST: services.users.list,
        Action.USER_SET_PASSWORD: lambda p: services.users.set_password(
            p, username="operator1", password=password_of("operator1")),
        Action.USER_UNLOCK: lambda p: services.users.unlock(p, username="operator1"),
        Action.USER_SET_ROLES: lambda p: services.users.set_roles(
            p, username="operator1", roles=["operator"]),
        Action.SETTINGS_CHANGE: lambda p: services.settings.set(
            p, key="security.idle_lock_minutes", value=20),
        Action.AUDIT_READ: services.audit.show,
        Action.AUDIT_VERIFY: services.audit.verify,
        Action.SECURITY_RESEAL: lambda p: _past_the_role_check(
            lambda: services.audit.reseal(p, reason="reviewed")),
        Action.AUDIT_EXPORT: lambda p: services.audit.export(
            p, folder=tmp_path / f"export-{next(counter)}"),
    }


def test_t23_role_action_matrix_matches_policy_table(services, people, tmp_path):
    seed = services.datasets.create_from_arrays(
        people["engineer"], action=Action.DATA_IMPORT, name="seed", channels=[ChannelInfo("x")],
        sample_rate=100.0, provenance={}, recordings=[RecordingInput(name="r",
                                                                     data=np.zeros((1, 50)))])
    for _ in range(len(Role) + 1):
        services.registry.register(
            people["engineer"], line="seed-line", kind="classifier", dataset_id=seed.dataset_id,
            feature_spec={}, recipe={}, metrics={}, lineage={}, artifacts={"model.onnx": b"s"},
            parity_passed=True)
    calls = _calls(services, tmp_path, seed.dataset_id)
    observed: dict[tuple[Role, Action], bool] = {}
    for role in Role:
        principal = people[role.value]
        for action, call in calls.items():
            try:
                call(principal)
                observed[role, action] = True
            except PermissionDenied as exc:
                assert action.value in str(exc)
                observed[role, action] = False
    assert set(calls) == HERE
    expected = {(r, a): EXPECTED[r, a] for r in Role for a in calls}
    assert observed == expected
    refused = services.audit.show(people["admin"], AuditFilter(result="refused", limit=10_000))
    refused_pairs = {(e.user, e.action) for e in refused}
    for (role, action), ok in expected.items():
        if not ok:
            assert (people[role.value].username, action.value) in refused_pairs


def test_t23_esign_requires_the_role_of_the_signed_action(services, people):
    for role in Role:
        p = people[role.value]
        call = lambda p=p: services.auth.esign(  # noqa: E731
            p, password=password_of(p.username), action=Action.AUDIT_EXPORT, meaning="reviewed",
            reason="review", record_type="audit-export", record_id="x", record_hash="0" * 64)
        if EXPECTED[role, Action.AUDIT_EXPORT]:
            assert call().meaning == "reviewed"
        else:
            with pytest.raises(PermissionDenied):
                call()


def test_admin_cannot_sign_approvals_by_policy():
    assert Role.ADMIN not in POLICY[Action.MODEL_APPROVE]
    assert POLICY[Action.MODEL_APPROVE] == frozenset({Role.APPROVER})


def _past_the_role_check(call):
    """Run ``call``; any refusal other than the role check means the role was allowed."""
    try:
        call()
    except PermissionDenied:
        raise
    except Exception:  # noqa: BLE001 - past the role check any other refusal means "allowed"
        return


@pytest.mark.parametrize("signing", ["engineer", "approver"])
def test_15_3_admin_and_a_signing_role_cannot_be_combined(services, people, signing):
    admin = people["admin"]
    with pytest.raises(UsageError, match="cannot be held together"):
        services.users.add(admin, username="boss2", password=password_of("boss2"),
                           roles=["admin", signing])
    with pytest.raises(UsageError, match="cannot be held together"):
        services.users.set_roles(admin, username="admin", roles=["admin", signing])
    with pytest.raises(UsageError, match="cannot be held together"):
        services.users.set_roles(admin, username=f"{signing}1", roles=[signing, "admin"])
    assert [u.roles for u in services.users.list(admin) if u.username == "admin"] == \
        [(Role.ADMIN,)]
    refused = services.audit.show(admin, AuditFilter(result="refused", action="user."))
    assert len([e for e in refused if "cannot be held together" in e.reason]) == 3


def test_15_3_an_account_from_before_the_rule_never_signs(services, people):
    """An account that already holds admin and approver (made before the rule) is refused
    every signing action, though it keeps its administrative ones."""
    both = frozenset({Role.ADMIN, Role.APPROVER})
    assert acting_role(both, Action.MODEL_APPROVE) is None
    assert acting_role(both, Action.USER_ADD) is Role.ADMIN
    legacy = Principal(user_id=people["approver"].user_id, username="approver1", roles=both)
    from tests.services.release_kit import register

    v = register(services, people["engineer"])
    services.approvals.propose(people["engineer"], ref=v.ref, password=password_of("engineer1"),
                               hardware_ids=["HW"], reason="ready")
    with pytest.raises(PermissionDenied, match="must never sign"):
        services.approvals.decide(legacy, ref=v.ref, password=password_of("approver1"),
                                  meaning="approved", reason="as admin")
    assert services.registry.show(people["approver"], ref=v.ref).state == "validated"
