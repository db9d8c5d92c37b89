"""The reference controller runtime: boots a known model, runs it on its sensor, serves state."""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from app.core.clock import Clock
from app.devices.controller import activation
from app.devices.controller.capture import DEFAULT_DEPTH, CaptureRing
from app.devices.controller.class_stats import ClassStats
from app.devices.controller.engine import Prediction, RunningStats
from app.devices.controller.flashstate import ControllerConfig, MiB
from app.devices.controller.machine import FlashMachine
from app.devices.controller.sensor import ReplaySensor
from app.devices.protocol import registers as r
from app.devices.protocol.codes import (
    INVALID_PREDICTION,
    SLOT_A,
    SLOT_B,
    SLOT_NONE,
    Capability,
)

log = logging.getLogger(__name__)

SLOT_NUMBER = {None: SLOT_NONE, "A": SLOT_A, "B": SLOT_B}
TICK_S = 0.05


class ControllerRuntime:
    """One controller: the state folder with slots A and B, the model, the sensor input.

    :meth:`start` boots (an unconfirmed activation reverts, a damaged slot falls back) and
    starts the loop thread that replays the sensor, runs inference and enforces deadlines;
    :meth:`stop` ends it. Serve it with :func:`app.devices.controller.server.serve_tcp`
    or ``serve_serial``.
    """

    def __init__(self, state_dir: Path, hardware_id: str, trust_store_path: Path, *,
                 sensor: ReplaySensor | None = None, max_package: int = 6 * MiB,
                 max_transfer_s: int = 3600, idle_timeout_s: int = 600,
                 commit_deadline_s: int = 60, session_takeover_s: int = 120,
                 link_baud: int = 0, clock: Clock | None = None,
                 crash_at: str | None = None, capture_ring: int = DEFAULT_DEPTH) -> None:
        if not hardware_id or len(hardware_id) > 28 or not hardware_id.isascii():
            raise ValueError("the hardware id must be 1 to 28 ASCII characters")
        self.config = ControllerConfig(
            state_dir=Path(state_dir), hardware_id=hardware_id,
            trust_store_path=Path(trust_store_path), max_package=max_package,
            max_transfer_s=max_transfer_s, idle_timeout_s=idle_timeout_s,
            commit_deadline_s=commit_deadline_s, session_takeover_s=session_takeover_s,
            link_baud=link_baud, clock=clock or Clock(), crash_at=crash_at)
        self.machine = FlashMachine(self.config, on_engine=self.reset_stats)
        self.sensor = sensor
        self.stats = RunningStats()
        self.class_stats = ClassStats()  # per predicted class, newest windows (IR 7000-)
        self.capture = CaptureRing(capture_ring)  # latest raw windows (HR 1000-, 6e)
        self._live_lock = threading.Lock()
        self.inference_count = 0
        self.prediction = math.nan
        self.scores = np.zeros(0)
        self.features = np.zeros(0)
        self.latency_us = 0
        self.input_reason = 0    # reason bits of the latest window (0: valid)
        self.invalid_count = 0   # windows flagged invalid since boot
        #: What the identity block announces (a test sets 1 to play an old controller).
        self.protocol_version = r.PROTOCOL_VERSION
        self._since_window = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Boot from the state folder and start the loop thread."""
        if self._thread is not None:
            raise RuntimeError("the controller runtime is already running")
        activation.boot(self.machine)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="controller-loop", daemon=True)
        self._thread.start()
        log.info("controller %s booted: state %s, slot %s", self.config.hardware_id,
                 self.machine.state.name, self.machine.disk.active)

    def stop(self) -> None:
        """Stop the loop and wait for a running job; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None
        self.machine.join()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._thread is not None

    def __enter__(self) -> ControllerRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        clock = self.config.clock
        next_block = clock.monotonic()
        while not self._stop.is_set():
            self.machine.tick()
            now = clock.monotonic()
            if self.sensor is not None and now >= next_block:
                self._sense()
                next_block = max(next_block + self.sensor.period_s, now - 1.0)
            wait = TICK_S if self.sensor is None else min(TICK_S, max(0.0, next_block - now))
            self._stop.wait(wait)

    def _sense(self) -> None:
        assert self.sensor is not None
        self.sensor.advance()
        self._since_window += self.sensor.block
        engine = self.machine.engine
        if engine is None or self._since_window < engine.window:
            return
        self._since_window = 0
        window = self.sensor.window(engine.window, engine.channels)
        if window is None:
            return
        try:
            result = engine.predict(window)
        except Exception:  # a bad window must not stop the controller
            log.exception("inference failed")
            return
        self.capture.add(self, window, result)  # before publishing: the id is the count to be
        self._publish(window, result)
        self.machine.shadow.observe(window, result)  # after publishing: shadow.py

    def _publish(self, window: np.ndarray, result: Prediction) -> None:
        with self._live_lock:
            self.inference_count += 1
            self.latency_us = int(result.latency_s * 1e6)
            self.input_reason = result.input_reason
            if not result.valid:
                # A dead, saturated or NaN sensor: no class, no scores, and nothing of it in
                # the features or the running statistics drift is judged by.
                self.invalid_count += 1
                self.prediction = INVALID_PREDICTION
                self.scores = np.zeros_like(result.scores)
                return
            self.prediction, self.scores = result.prediction, result.scores
            self.features = result.features
            self.stats.update(result.features)
            self.class_stats.add_window(result.outputs, window)

    def reset_stats(self) -> None:
        """Restart the running statistics and forget the last result (a model change)."""
        with self._live_lock:
            self.stats.reset()
            self.class_stats.reset()
            self.prediction, self.scores, self.features = math.nan, np.zeros(0), np.zeros(0)
            self.input_reason = 0

    # -- what the registers show ------------------------------------------------------
    def identity_values(self) -> dict[str, Any]:
        cfg = self.config
        caps = Capability.ZLIB | Capability.RESUME | Capability.FEATURE_STATS | \
            Capability.DIGESTS | Capability.SIGNED | Capability.INPUT_VALIDITY | \
            Capability.SHADOW | Capability.CAPTURE | \
            (Capability.WAVEFORM if self.sensor is not None else 0)
        return {"magic": r.MAGIC, "protocol_version": self.protocol_version,
                "session_takeover_s": min(cfg.session_takeover_s, 0xFFFF),
                "capabilities": int(caps), "max_chunk": r.MAX_CHUNK,
                "max_package": cfg.max_package, "link_baud": cfg.link_baud,
                "max_transfer_s": min(cfg.max_transfer_s, 0xFFFF),
                "idle_timeout_s": min(cfg.idle_timeout_s, 0xFFFF),
                "commit_deadline_s": cfg.commit_deadline_s, "max_features": r.MAX_FEATURES,
                "max_scores": r.MAX_SCORES, "wave_capacity": r.WAVE_CAPACITY,
                "hardware_id": cfg.hardware_id}

    def status_values(self) -> dict[str, Any]:
        m = self.machine
        with m.lock:
            t, disk = m.transfer, m.disk
            active = disk.slots.get(disk.active or "")
            staged = m.staged_info
            remaining = 0
            if m.deadline is not None:
                remaining = max(0, math.ceil(m.deadline - self.config.clock.monotonic()))
            return {
                "state": int(m.state), "active_slot": SLOT_NUMBER[disk.active],
                "previous_slot": SLOT_NUMBER[disk.previous],
                "staged_slot": SLOT_NUMBER[m.staged_slot], "staged_flags": int(m.flags),
                "last_error": int(m.error), "error_chunk": 0xFFFFFFFF if m.error_chunk is None
                else m.error_chunk, "last_cmd_seq": m.cmd_seq, "last_cmd_code": m.cmd_code,
                "last_cmd_result": m.cmd_result, "commit_remaining_s": min(remaining, 0xFFFF),
                "boot_count": disk.boot_count & 0xFFFF,
                "acked_offset": t.acked if t else 0, "transfer_total": t.total if t else 0,
                "chunk_size": t.chunk_size if t else 0,
                "active_version": active.model_version if active else 0,
                "active_counter": active.release_counter if active else 0,
                "active_name": active.model_name if active else "",
                "active_sha256": active.sha256 if active else None,
                "staged_version": staged.model_version if staged else 0,
                "staged_counter": staged.release_counter if staged else 0,
                "staged_name": staged.model_name if staged else "",
                "staged_sha256": staged.sha256 if staged else (t.sha256 if t else None),
                "error_text": m.error_text, "sensor_fault": self.input_reason}

    def live_values(self) -> tuple[dict[str, Any], np.ndarray]:
        with self._live_lock:
            return ({"inference_count": self.inference_count, "prediction": self.prediction,
                     "n_scores": min(len(self.scores), r.MAX_SCORES),
                     "n_features": min(len(self.features), r.MAX_FEATURES),
                     "stats_count": self.stats.count, "latency_us": self.latency_us,
                     "input_reason": self.input_reason, "invalid_count": self.invalid_count},
                    self.scores.copy())

    def security_values(self) -> dict[str, Any]:
        m = self.machine
        with m.lock:
            if m.guard.session is not None and not m.in_flash:
                m.guard.session = None  # its transfer ended
            return m.guard.values(self.config.clock.monotonic())

    def feature_table(self, name: str) -> np.ndarray:
        with self._live_lock:
            return {"features": self.features, "feature_mean": self.stats.mean,
                    "feature_m2": self.stats.m2}[name].copy()
