"""T23: every role tries every existing action through the services; the outcome matches the
policy table exactly and every refusal is audited."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from app.core.errors import PermissionDenied
from app.core.records import ChannelInfo
from app.core.roles import POLICY, Action, Role
from app.services.audit import AuditFilter
from app.services.datasets import RecordingInput
from tests.conftest import password_of

_counter = itertools.count()
_retirable = itertools.count(1)


def _calls(services, tmp_path, dataset_id):
    """Action -> a call performing it as the given principal."""
    return {
        Action.DATA_IMPORT: lambda p: services.datasets.create_from_arrays(
            p, action=Action.DATA_IMPORT, name="d", channels=[ChannelInfo("x")],
            sample_rate=100.0, provenance={}, recordings=[
                RecordingInput(name="r", data=np.full((1, 50), float(next(_counter))))]),
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
            p, ref=f"seed-line:v{next(_retirable)}", reason="done"),
        Action.USER_ADD: lambda p: services.users.add(
            p, username=f"new{next(_counter)}", password="new-user-password", roles=["operator"]),
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
        Action.AUDIT_EXPORT: lambda p: services.audit.export(
            p, folder=tmp_path / f"export-{next(_counter)}"),
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
    expected = {(r, a): r in POLICY[a] for r in Role for a in calls}
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
        if role in POLICY[Action.AUDIT_EXPORT]:
            assert call().meaning == "reviewed"
        else:
            with pytest.raises(PermissionDenied):
                call()


def test_admin_cannot_sign_approvals_by_policy():
    assert Role.ADMIN not in POLICY[Action.MODEL_APPROVE]
    assert POLICY[Action.MODEL_APPROVE] == frozenset({Role.APPROVER})
