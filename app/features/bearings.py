"""Rolling-element bearing defect orders: a small catalogue and the kinematic formulas."""

# A defect order is a defect frequency as a multiple of the shaft speed, so it holds at
# any speed.  For a bearing with n rolling elements of diameter d on a pitch diameter D
# and contact angle phi, the inner race turning with the shaft and the outer race fixed
# (rolling without slip; the real value is 1-2 % lower, hence the tolerance on reading):
#   FTF  (cage)              = 1/2 (1 - d/D cos phi)
#   BPFO (outer race defect) = n/2 (1 - d/D cos phi)
#   BPFI (inner race defect) = n/2 (1 + d/D cos phi)
#   BSF  (ball spin)         = D/(2d) (1 - (d/D cos phi)^2)
# A defect on a ball strikes both races once per spin, so it shows at 2 x BSF: that
# is the "rolling element" figure bearing makers and the CWRU data page list.  The
# catalogue stores BSF itself; its second harmonic is the ball-defect line.

from __future__ import annotations

import math
from dataclasses import dataclass

from app.core.errors import UsageError

DEFECTS: tuple[str, ...] = ("ftf", "bsf", "bpfo", "bpfi")


@dataclass(frozen=True)
class Bearing:
    """Geometry of one bearing type and where it comes from."""

    name: str
    n_elements: int
    ball_diameter: float  # any length unit, the same as pitch_diameter
    pitch_diameter: float
    contact_angle_deg: float
    source: str
    published: tuple[tuple[str, float], ...] = ()  # the maker's or data page's orders

    def orders(self) -> dict[str, float]:
        """FTF, BSF, BPFO, BPFI as multiples of the shaft speed: the published figures where
        there are some (the geometry above rounds them in the 4th or 5th digit)."""
        return dict(self.published) or self.geometric_orders()

    def geometric_orders(self) -> dict[str, float]:
        """The orders the formulas give for the geometry."""
        return defect_orders(self.n_elements, self.ball_diameter, self.pitch_diameter,
                             self.contact_angle_deg)


def defect_orders(n_elements: int, ball_diameter: float, pitch_diameter: float,
                  contact_angle_deg: float = 0.0) -> dict[str, float]:
    """Defect orders from the geometry (formulas above); refuses impossible geometry."""
    if isinstance(n_elements, bool) or not isinstance(n_elements, int) or n_elements < 3:
        raise UsageError(f"a bearing needs a whole number of at least 3 rolling elements, "
                         f"got {n_elements!r}")
    if not (0 < ball_diameter < pitch_diameter and math.isfinite(pitch_diameter)):
        raise UsageError(f"ball diameter {ball_diameter} must be positive and smaller than "
                         f"the pitch diameter {pitch_diameter}")
    if not 0 <= contact_angle_deg < 90:
        raise UsageError(f"contact angle must lie in [0, 90) degrees, got {contact_angle_deg}")
    r = ball_diameter / pitch_diameter * math.cos(math.radians(contact_angle_deg))
    return {"ftf": 0.5 * (1 - r), "bsf": pitch_diameter / (2 * ball_diameter) * (1 - r * r),
            "bpfo": n_elements / 2 * (1 - r), "bpfi": n_elements / 2 * (1 + r)}


_CWRU = ("Case Western Reserve University Bearing Data Center, bearing information page "
         "(geometry in inches; published orders: inner 5.4152, outer 3.5848, cage 0.39828, "
         "rolling element 4.7135 = 2 x BSF)")

CATALOGUE: dict[str, Bearing] = {b.name: b for b in (
    # CWRU drive end bearing: 9 balls of 0.3126 in on a 1.537 in pitch circle.
    Bearing("SKF 6205-2RS JEM", 9, 0.3126, 1.537, 0.0, _CWRU, (
        ("ftf", 0.39828), ("bsf", 4.7135 / 2), ("bpfo", 3.5848), ("bpfi", 5.4152))),
    # CWRU fan end bearing: 8 balls of 0.2656 in on a 1.122 in pitch circle.
    Bearing("SKF 6203-2RS JEM", 8, 0.2656, 1.122, 0.0,
            _CWRU.replace("inner 5.4152, outer 3.5848, cage 0.39828, rolling element 4.7135",
                          "inner 4.9469, outer 3.0530, cage 0.3817, rolling element 3.9874"),
            (("ftf", 0.3817), ("bsf", 3.9874 / 2), ("bpfo", 3.0530), ("bpfi", 4.9469))),
)}


def lookup(name: str) -> Bearing:
    """The catalogue entry, matched without regard to case and spaces."""
    key = "".join(name.split()).lower()
    for entry in CATALOGUE.values():
        if "".join(entry.name.split()).lower() == key:
            return entry
    raise UsageError(f"bearing {name!r} is not in the catalogue ({', '.join(CATALOGUE)}); "
                     "give its geometry (n_elements, ball_diameter, pitch_diameter, "
                     "contact_angle_deg) or its defect orders instead")
