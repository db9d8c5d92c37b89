"""T23 for the release actions: propose, approve, package export and import, keys."""

from __future__ import annotations

import itertools

from app.core.errors import PermissionDenied
from app.core.roles import Action, Role
from tests.conftest import password_of
from tests.services.release_kit import register
from tests.test_policy_matrix import EXPECTED, RELEASE

_n = itertools.count(1)


def _allowed(call) -> bool:
    try:
        call()
    except PermissionDenied:
        return False
    return True


def test_t23_release_actions_match_the_policy(services, people, tmp_path):
    eng = people["engineer"]
    observed: dict[tuple[Role, Action], bool] = {}
    for role in Role:
        who = people[role.value]
        pw = password_of(who.username)
        v = register(services, eng, line=f"l{next(_n)}")
        observed[role, Action.MODEL_PROPOSE] = _allowed(lambda: services.approvals.propose(
            who, ref=v.ref, password=pw, hardware_ids=["HW"], reason="r"))  # noqa: B023
        w = register(services, eng, line=f"l{next(_n)}")
        services.approvals.propose(eng, ref=w.ref, password=password_of(eng.username),
                                   hardware_ids=["HW"], reason="r")
        observed[role, Action.PACKAGE_BUILD_DRAFT] = _allowed(lambda: services.packages.build(
            who, ref=w.ref, out_dir=tmp_path / f"draft{next(_n)}"))  # noqa: B023
        observed[role, Action.MODEL_APPROVE] = _allowed(lambda: services.approvals.decide(
            who, ref=w.ref, password=pw, meaning="approved", reason="r"))  # noqa: B023
        if not observed[role, Action.MODEL_APPROVE]:
            services.approvals.decide(people["approver"], ref=w.ref,
                                      password=password_of("approver1"), meaning="approved",
                                      reason="r")
        stick = tmp_path / f"usb{next(_n)}"
        stick.mkdir()
        observed[role, Action.PACKAGE_EXPORT] = _allowed(
            lambda: services.packages.export_to_drive(who, ref=w.ref,  # noqa: B023
                                                      drive_folder=stick))  # noqa: B023
        # `plantml package build` of an approved version is the same action.
        built = _allowed(lambda: services.packages.build(
            who, ref=w.ref, out_dir=tmp_path / f"built{next(_n)}"))  # noqa: B023
        assert built == observed[role, Action.PACKAGE_EXPORT]
        observed[role, Action.KEYS_MANAGE] = _allowed(lambda: services.keys.export(
            who, path=tmp_path / f"keys{next(_n)}.json"))  # noqa: B023
        observed[role, Action.PACKAGE_IMPORT] = _allowed(
            lambda: _try_import(services, who, tmp_path))  # noqa: B023
    assert {a for _, a in observed} == RELEASE
    expected = {(r, a): EXPECTED[r, a] for (r, a) in observed}
    assert observed == expected


def _try_import(services, who, tmp_path):
    try:
        services.packages.import_from_drive(who, path=tmp_path / "missing.plantml")
    except PermissionDenied:
        raise
    except Exception:  # noqa: BLE001 - past the role check any refusal means "allowed"
        return
