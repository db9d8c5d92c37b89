"""The bearing catalogue and the defect-order formulas against the published CWRU figures."""

import pytest

from app.core.errors import UsageError
from app.features.bearings import CATALOGUE, defect_orders, lookup
from app.features.kinematics import Kinematics


def test_cwru_drive_end_bearing_gives_the_published_orders():
    orders = lookup("skf 6205-2rs jem").orders()
    # CWRU bearing data page: inner 5.4152, outer 3.5848, cage 0.39828, rolling element
    # 4.7135 (two ball spins: a ball defect strikes both races).
    assert (orders["bpfi"], orders["bpfo"], orders["ftf"], 2 * orders["bsf"]) == (
        5.4152, 3.5848, 0.39828, 4.7135)
    # ... and the kinematic formulas on the published geometry agree to their rounding.
    for entry in CATALOGUE.values():
        assert entry.geometric_orders() == pytest.approx(entry.orders(), rel=2e-4)
    fan = CATALOGUE["SKF 6203-2RS JEM"].orders()
    assert (fan["bpfi"], fan["bpfo"], 2 * fan["bsf"]) == pytest.approx((4.9469, 3.0530, 3.9874))


def test_geometry_and_order_descriptions():
    kin = Kinematics.resolve(rpm=1500.0, channels=("x", "y"), bearing={
        "x": {"n_elements": 9, "ball_diameter": 7.94, "pitch_diameter": 39.04},
        "y": {"ftf": 0.4, "bsf": 2.3, "bpfo": 3.6, "bpfi": 5.4}})
    assert dict(dict(kin.orders)["x"])["bpfo"] == pytest.approx(9 / 2 * (1 - 7.94 / 39.04))
    assert kin.line_names()[:3] == ("env_shaft_h1", "env_shaft_h2", "env_shaft_h3")
    assert kin.shaft_hz == 25.0
    plain = Kinematics.resolve(rpm=1500.0, channels=("x",))
    assert plain.defect_names() == ("shaft",)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: lookup("SKF 9999"), "not in the catalogue"),
    (lambda: defect_orders(2, 1.0, 5.0), "at least 3"),
    (lambda: defect_orders(9, 6.0, 5.0), "smaller than the pitch"),
    (lambda: Kinematics.resolve(rpm=0.0, channels=("x",)), "positive number of rpm"),
    (lambda: Kinematics.resolve(rpm=1500.0, channels=("x",), tolerance=0.5), "tolerance"),
    (lambda: Kinematics.resolve(rpm=1500.0, channels=("x", "y"), bearing={
        "x": {"bpfo": 3.0}, "y": {"bpfi": 5.0}}), "same defect orders"),
    (lambda: Kinematics.resolve(rpm=1500.0, channels=("x",), bearing=42), "catalogue name"),
    (lambda: Kinematics.from_dict({"rpm": 1500.0, "colour": 1}), "unknown fields"),
])
def test_bad_descriptions_are_refused(call, match):
    with pytest.raises(UsageError, match=match):
        call()
