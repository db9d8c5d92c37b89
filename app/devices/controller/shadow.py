"""Shadow mode: the self-tested staged model runs beside the active one on the same windows;
the controller counts how often the two agree and times the staged one (IR 6400-6437)."""

from __future__ import annotations

import logging
import math
import threading

import numpy as np

from app.devices.controller.engine import LABEL, Engine, Prediction
from app.devices.controller.flashstate import FlashState, need
from app.devices.controller.slots import SlotInfo
from app.devices.protocol import registers as r
from app.devices.protocol.codes import SLOT_A, SLOT_B, SLOT_NONE, ShadowState, StagedFlag, State

log = logging.getLogger(__name__)

#: Two values of a model without a label output (a regressor) agree within this share of
#: the larger one: a value is never bit-equal across two trainings, a class label is.
VALUE_TOLERANCE = 0.01
AGREEMENT_SCALE = 10000
_SLOT = {None: SLOT_NONE, "A": SLOT_A, "B": SLOT_B}
_U32 = 0xFFFFFFFF


def agree(active: Prediction, staged: Prediction) -> bool:
    """True if both models say the same of one window: the same label, or both call it
    invalid input; one invalid and one not is a disagreement."""
    if not active.valid or not staged.valid:
        return not active.valid and not staged.valid
    a, b = active.prediction, staged.prediction
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if LABEL in active.outputs and LABEL in staged.outputs:
        return a == b
    return math.isclose(a, b, rel_tol=VALUE_TOLERANCE, abs_tol=1e-9)


class Shadow:
    """The comparison of one staged package with the running model, under its own lock.

    :meth:`start` (command SHADOW) and :meth:`stop` (SHADOW_STOP) run on the server thread
    under the machine's lock; :meth:`observe` runs on the runtime's loop thread after the
    active model's result was published, so the published prediction never waits for, nor
    depends on, the staged model. The comparison ends by itself when the package it was
    started on is no longer the staged one (a new BEGIN, ABORT, a failed step, ACTIVATE).
    """

    def __init__(self, machine: FlashState) -> None:
        self.m = machine
        self._lock = threading.Lock()
        self._warned = False
        self._clear()

    def _clear(self) -> None:
        self.engine: Engine | None = None
        self.slot: str | None = None
        self.info: SlotInfo | None = None
        self.started_at = 0.0
        self.compared = self.agreed = self.failures = 0
        self.latency_us = self.latency_sum_us = self.latency_max_us = 0

    # -- commands (under the machine's lock) ---------------------------------------------
    def start(self) -> None:
        """SHADOW: compare the self-tested staged model with the running one from the next
        window on; a repeated SHADOW starts the count again."""
        m = self.m
        need(m.engine is not None, "SHADOW needs a running model to compare with")
        need(m.state is State.STAGED and StagedFlag.SELF_TESTED in m.flags
             and m.staged_engine is not None, "SHADOW needs a self-tested staged package")
        with self._lock:
            self._clear()
            self.engine, self.slot, self.info = m.staged_engine, m.staged_slot, m.staged_info
            self.started_at = m.cfg.clock.monotonic()
            self._warned = False
        log.info("shadow mode: slot %s runs beside the active model", self.slot)

    def stop(self) -> None:
        """SHADOW_STOP: end the comparison; the staged package stays staged."""
        with self._lock:
            running = self.engine is not None
            self._clear()
        if running:
            log.info("shadow mode stopped")

    # -- the loop -----------------------------------------------------------------------
    def _engine(self) -> Engine | None:
        """The shadow engine while its package is still the staged one, else None (and the
        comparison is reset)."""
        with self._lock:
            engine = self.engine
            if engine is not None and self.m.staged_engine is not engine:
                log.info("shadow mode ended: slot %s is no longer staged", self.slot)
                self._clear()
                return None
            return engine

    def observe(self, window: np.ndarray, active: Prediction) -> None:
        """Run the staged model on the window the active one just ran on, and count."""
        engine = self._engine()
        if engine is None:
            return
        try:
            staged: Prediction | None = engine.predict(window)
        except Exception:  # the staged model must never stop the controller
            if not self._warned:
                log.exception("the shadow model failed on a window")
                self._warned = True
            staged = None
        with self._lock:
            if self.engine is not engine:
                return  # stopped or replaced while it ran
            self.compared += 1
            if staged is None:
                self.failures += 1
                return
            us = int(staged.latency_s * 1e6)
            self.latency_us = us
            self.latency_sum_us += us
            self.latency_max_us = max(self.latency_max_us, us)
            if agree(active, staged):
                self.agreed += 1

    # -- what the registers show --------------------------------------------------------
    def values(self) -> dict[str, object]:
        """The shadow block's fields."""
        self._engine()  # a package no longer staged reads as off
        with self._lock:
            running = self.engine is not None
            info, n = self.info, self.compared
            ran = n - self.failures
            now = self.m.cfg.clock.monotonic()
            return {
                "shadow_state": int(ShadowState.RUNNING if running else ShadowState.OFF),
                "shadow_slot": _SLOT[self.slot],
                "shadow_version": info.model_version if info else 0,
                "shadow_counter": info.release_counter if info else 0,
                "shadow_compared": n & _U32, "shadow_agreed": self.agreed & _U32,
                "shadow_agreement": (self.agreed * AGREEMENT_SCALE) // n if n else 0,
                "shadow_failures": min(self.failures, 0xFFFF),
                "shadow_latency_us": min(self.latency_us, _U32),
                "shadow_latency_mean_us": min(self.latency_sum_us // ran if ran else 0, _U32),
                "shadow_latency_max_us": min(self.latency_max_us, _U32),
                "shadow_running_s": min(int(now - self.started_at), _U32) if running else 0,
                "shadow_sha256": info.sha256 if info else None,
            }

    def region(self) -> list[int]:
        """The shadow block, sealed with its CRC-32."""
        page = r.place([0] * r.SHADOW_COUNT, r.SHADOW_BASE, self.values())
        return r.seal(page, r.FIELDS["shadow_crc"], r.SHADOW_BASE)
