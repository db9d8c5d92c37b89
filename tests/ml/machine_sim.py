"""Synthetic bearing vibration at a given shaft speed: defect impacts ringing a resonance."""

# A rolling-element bearing with a local defect strikes once per defect period: the outer
# race at BPFO, the inner race at BPFI (the defect turns with the shaft, so its impacts
# are modulated at 1x as it passes through the load zone), a ball at 2 x BSF (modulated
# at the cage frequency).  Each impact rings a structural resonance (fixed in Hz); the
# impact energy grows with the square of the speed.  The rolling elements slip by about
# 1 %, so the impacts jitter.  A shaft line (1x) and broadband noise are always there.
# Orders are those of the SKF 6205-2RS JEM (the CWRU drive end bearing).

from __future__ import annotations

import numpy as np

from app.ml.dataset import Recording

FS = 12000.0
ORDERS = {"outer": 3.5848, "inner": 5.4152, "ball": 4.7135}
STATES = ("normal", "outer", "inner", "ball")
RESONANCE_HZ = 3100.0


def vibration(state: str, rpm: float, n: int, seed: int) -> np.ndarray:
    """One channel of acceleration (g) for a machine in ``state`` at ``rpm``."""
    rng = np.random.default_rng(seed)
    f_shaft = rpm / 60.0
    t = np.arange(n) / FS
    level = (rpm / 1500.0) ** 2
    x = 0.05 * level * np.sin(2 * np.pi * f_shaft * t + rng.uniform(0, 2 * np.pi))
    x += 0.08 * rng.standard_normal(n)
    if state != "normal":
        rate = ORDERS[state] * f_shaft
        period = FS / rate
        k = np.arange(int(n / period) + 1)
        at = k * period + np.cumsum(rng.normal(0.0, 0.01 * period, len(k)))
        at = at[(at >= 0) & (at < n)]
        amp = np.full(len(at), 1.0)
        if state == "inner":  # load zone: strongest once per shaft turn
            amp = 0.6 + 0.4 * np.cos(2 * np.pi * f_shaft * at / FS)
        elif state == "ball":  # the ball moves with the cage
            amp = 0.6 + 0.4 * np.cos(2 * np.pi * 0.39828 * f_shaft * at / FS)
        impacts = np.zeros(n)
        np.add.at(impacts, at.astype(int), 0.8 * level * amp * rng.uniform(0.8, 1.2, len(at)))
        tr = np.arange(int(0.01 * FS)) / FS
        ring = np.exp(-tr * 700.0) * np.sin(2 * np.pi * RESONANCE_HZ * tr)
        x += np.convolve(impacts, ring)[:n]
    return x


def recordings(speeds=(1200.0, 1800.0), per_state: int = 2, seconds: float = 5.0,
               speed_channel: bool = True) -> list[Recording]:
    """Recordings of every state at every speed, each with its speed as its condition."""
    n = int(seconds * FS)
    out = []
    for s, rpm in enumerate(speeds):
        for k, state in enumerate(STATES):
            for r in range(per_state):
                seed = 1000 * s + 10 * k + r
                acc = vibration(state, rpm, n, seed)
                rows = [acc]
                if speed_channel:  # a speed transmitter sampled with the vibration
                    rows.append(rpm + 2.0 * np.random.default_rng(seed + 7).standard_normal(n))
                out.append(Recording(id=f"{state}-{int(rpm)}rpm-{r}", label=state,
                                     signal=np.stack(rows), condition=f"{int(rpm)} rpm"))
    return out
