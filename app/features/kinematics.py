"""Machine kinematics in a feature spec: shaft speed, defect orders per channel, line bands."""

# Everything speed-dependent is read through fractional bin weights, so a feature moves
# continuously with the speed (no jump when a band edge crosses a bin), and the native
# kernel, the NumPy reference and the float32 ONNX graph agree even for a speed that
# comes from a channel.  Bin k stands for the frequencies [k - 1/2, k + 1/2) * df; a
# band [a, b) (in bins) gives it the weight clip(min(b, k + 1/2) - max(a, k - 1/2), 0, 1).
# DC (bin 0) is never read: the mean is removed before every spectrum.

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.errors import UsageError
from app.features import bearings

SHAFT = "shaft"  # the 1x line, added to every channel's orders (shaft modulation)
MIN_HALF_WIDTH_BINS = 2.0  # a line is at least +-2 bins: the main lobe of the squared Hann
BACKGROUND_FACTOR = 4.0  # background of a line: from 1 to 4 half-widths either side

Orders = tuple[tuple[str, float], ...]


def _name_ok(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier() and name.islower()


@dataclass(frozen=True)
class Kinematics:
    """Shaft speed and the defect orders read on each analysed channel.

    ``rpm`` is the nominal shaft speed; with a ``speed_channel`` (a channel whose window
    mean is the shaft speed in rpm, e.g. a speed transmitter sampled with the vibration)
    it is the highest speed the envelope band has to cover.  ``orders`` maps every
    analysed channel to named defect orders (multiples of the shaft speed); all channels
    carry the same names.  ``bearings`` names each channel's catalogue entry, if any.
    """

    rpm: float
    speed_channel: str = ""
    orders: tuple[tuple[str, Orders], ...] = ()
    bearings: tuple[tuple[str, str], ...] = ()
    harmonics: int = 3
    tolerance: float = 0.03  # relative half-width of a line: slip and speed uncertainty
    order_bands: int = 4  # order_share reads orders 1..order_bands

    def __post_init__(self) -> None:
        object.__setattr__(self, "rpm", float(self.rpm))
        object.__setattr__(self, "orders", tuple(
            (str(ch), tuple((str(n), float(v)) for n, v in (
                o.items() if isinstance(o, dict) else o))) for ch, o in (
                self.orders.items() if isinstance(self.orders, dict) else self.orders)))
        object.__setattr__(self, "bearings", tuple(
            (str(ch), str(n)) for ch, n in (
                self.bearings.items() if isinstance(self.bearings, dict) else self.bearings)))
        self._validate()

    def _validate(self) -> None:
        if not (math.isfinite(self.rpm) and self.rpm > 0):
            raise UsageError(f"shaft speed must be a positive number of rpm, got {self.rpm}")
        for name, value, lo in (("harmonics", self.harmonics, 1),
                                ("order_bands", self.order_bands, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= 16:
                raise UsageError(f"{name} must be a whole number from {lo} to 16, got {value!r}")
        if not (math.isfinite(self.tolerance) and 0.0 < self.tolerance <= 0.2):
            raise UsageError(f"order tolerance must lie in (0, 0.2] (a fraction of the "
                             f"frequency), got {self.tolerance}")
        names = None
        for ch, orders in self.orders:
            these = tuple(n for n, _ in orders)
            if not orders or len(set(these)) != len(these) or not all(map(_name_ok, these)):
                raise UsageError(f"channel {ch!r}: defect orders need distinct lower-case "
                                 f"names, got {list(these)}")
            bad = [n for n, v in orders if not (math.isfinite(v) and 0 < v < 100)]
            if bad:
                raise UsageError(f"channel {ch!r}: defect order {bad[0]!r} must be a positive "
                                 "multiple of the shaft speed below 100")
            if names is not None and these != names:
                raise UsageError(f"every channel must read the same defect orders; {ch!r} has "
                                 f"{list(these)}, another {list(names)}")
            names = these

    # -- derived -----------------------------------------------------------------------
    @property
    def shaft_hz(self) -> float:
        """Nominal (or, with a speed channel, highest) shaft frequency in Hz."""
        return self.rpm / 60.0

    def channels(self) -> tuple[str, ...]:
        """Channels with defect orders."""
        return tuple(ch for ch, _ in self.orders)

    def defect_names(self) -> tuple[str, ...]:
        """Names of the orders every channel reads (empty without orders)."""
        return tuple(n for n, _ in self.orders[0][1]) if self.orders else ()

    def line_names(self) -> tuple[str, ...]:
        """Envelope line features of one channel: env_<defect>_h<k>."""
        return tuple(f"env_{n}_h{h}" for n in self.defect_names()
                     for h in range(1, self.harmonics + 1))

    def line_multipliers(self, channel: str) -> np.ndarray:
        """Order of every line of ``channel`` (harmonic x defect order), float64."""
        orders = dict(self.orders).get(channel)
        if orders is None:
            raise UsageError(f"no defect orders for channel {channel!r}")
        return np.array([h * v for _, v in orders for h in range(1, self.harmonics + 1)])

    def order_names(self) -> tuple[str, ...]:
        """Order-band features of one channel: order_<k>x_share."""
        return tuple(f"order_{k}x_share" for k in range(1, self.order_bands + 1))

    # -- serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (orders and bearings as objects keyed by channel)."""
        return {"rpm": self.rpm, "speed_channel": self.speed_channel,
                "orders": {ch: dict(o) for ch, o in self.orders},
                "bearings": dict(self.bearings), "harmonics": self.harmonics,
                "tolerance": self.tolerance, "order_bands": self.order_bands}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Kinematics:
        """Inverse of to_dict; unknown keys are refused."""
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(data) - known)
        if extra:
            raise UsageError(f"kinematics have unknown fields {extra}")
        try:
            return cls(**data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"kinematics are malformed: {exc}") from None

    @classmethod
    def resolve(cls, *, rpm: float, channels: tuple[str, ...], bearing: object = None,
                speed_channel: str = "", harmonics: int = 3, tolerance: float = 0.03,
                order_bands: int = 4) -> Kinematics:
        """Kinematics from a recipe's description of the machine.

        ``bearing`` is one description for every analysed channel or a dict channel ->
        description; a description is a catalogue name, a geometry dict (n_elements,
        ball_diameter, pitch_diameter, contact_angle_deg) or a dict of defect orders.
        None reads the shaft line only.  The shaft line (order 1) is always read.
        """
        analysed = tuple(c for c in channels if c != speed_channel)
        if isinstance(bearing, dict) and set(bearing) <= set(channels) and bearing:
            per = dict(bearing)
        else:
            per = {ch: bearing for ch in analysed}
        missing = [ch for ch in analysed if ch not in per]
        if missing:
            raise UsageError(f"no bearing given for channel(s) {missing}")
        orders: dict[str, dict[str, float]] = {}
        names: dict[str, str] = {}
        for ch in analysed:
            found, label = _orders_of(per[ch], ch)
            orders[ch] = {SHAFT: 1.0, **found}
            if label:
                names[ch] = label
        return cls(rpm=rpm, speed_channel=speed_channel,
                   orders=tuple((ch, tuple(o.items())) for ch, o in orders.items()),
                   bearings=tuple(names.items()),
                   harmonics=harmonics, tolerance=tolerance, order_bands=order_bands)


def _orders_of(desc: object, channel: str) -> tuple[dict[str, float], str]:
    """(defect orders, catalogue name or '') of one channel's bearing description."""
    if desc is None:
        return {}, ""
    if isinstance(desc, str):
        entry = bearings.lookup(desc)
        return entry.orders(), entry.name
    if isinstance(desc, dict):
        geometry = {"n_elements", "ball_diameter", "pitch_diameter"}
        if geometry <= set(desc):
            extra = sorted(set(desc) - geometry - {"contact_angle_deg"})
            if extra:
                raise UsageError(f"channel {channel!r}: unknown bearing geometry {extra}")
            return bearings.defect_orders(desc["n_elements"], float(desc["ball_diameter"]),
                                          float(desc["pitch_diameter"]),
                                          float(desc.get("contact_angle_deg", 0.0))), ""
        try:
            return {str(k).lower(): float(v) for k, v in desc.items()}, ""
        except (TypeError, ValueError):
            pass
    raise UsageError(f"channel {channel!r}: a bearing is a catalogue name, a geometry or "
                     f"defect orders, got {desc!r}")


# -- line and order bands, in bins ----------------------------------------------------
def line_intervals(centre: np.ndarray, tolerance: float) -> np.ndarray:
    """Bin intervals [..., 3, 2] of lines at ``centre`` bins: the line, below, above."""
    c = np.asarray(centre, dtype=np.float64)
    h = np.maximum(tolerance * c, MIN_HALF_WIDTH_BINS)
    g = BACKGROUND_FACTOR * h
    return np.stack([np.stack([c - h, c + h], -1), np.stack([c - g, c - h], -1),
                     np.stack([c + h, c + g], -1)], -2)


def order_intervals(shaft_bins: np.ndarray, n_orders: int) -> np.ndarray:
    """Bin intervals [..., n_orders, 2] of orders 1..n: [(k - 1/2) s, (k + 1/2) s)."""
    s = np.asarray(shaft_bins, dtype=np.float64)[..., None]
    k = np.arange(1, n_orders + 1, dtype=np.float64)
    return np.stack([(k - 0.5) * s, (k + 0.5) * s], -1)


def bin_weights(intervals: np.ndarray, n_bins: int) -> np.ndarray:
    """Weights [..., n_bins] of bins 0..n_bins-1 inside each interval [a, b) (DC gets 0)."""
    iv = np.asarray(intervals, dtype=np.float64)
    k = np.arange(n_bins, dtype=np.float64)
    a, b = iv[..., 0:1], iv[..., 1:2]
    w = np.clip(np.minimum(b, k + 0.5) - np.maximum(a, k - 0.5), 0.0, 1.0)
    w[..., 0] = 0.0
    return w


def top_bin(kin: Kinematics, df: float) -> float:
    """Highest envelope-spectrum bin any line reads (background included) at ``kin.rpm``."""
    tops = [line_intervals(kin.line_multipliers(ch) * kin.shaft_hz / df, kin.tolerance)
            [..., 2, 1].max() for ch in kin.channels()]
    return float(max(tops, default=0.0))
