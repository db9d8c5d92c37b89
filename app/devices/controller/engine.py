"""The model on the controller: onnxruntime on raw windows, plus running feature statistics."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

log = logging.getLogger(__name__)

#: Output names of an exported PlantML model (app.ml.export): label, scores or value, features,
#: and the input check (app.features.validity_graph): input_ok, input_reason.
LABEL, SCORES, VALUE, FEATURES = "label", "scores", "value", "features"
INPUT_OK, INPUT_REASON = "input_ok", "input_reason"
#: Reason bit the runtime sets itself for a model without the input check: non-finite
#: samples (the one check that needs no training envelope and no model).
NON_FINITE = 1


class ModelLoadError(Exception):
    """onnxruntime refused the model, or its input is not a raw window [batch, C, L]."""


@dataclass(frozen=True)
class Prediction:
    """One window's result."""

    prediction: float
    scores: np.ndarray
    features: np.ndarray
    latency_s: float
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # every output, as run
    #: The input check's reason bits (docs/controller-protocol.md section 4); 0 is valid.
    input_reason: int = 0

    @property
    def valid(self) -> bool:
        return self.input_reason == 0


def simple_features(window: np.ndarray) -> np.ndarray:
    """Fallback when the graph has no ``features`` output: mean, std, RMS, peak-to-peak per
    channel (float64, channel after channel)."""
    x = np.asarray(window, dtype=np.float64)
    return np.stack([x.mean(axis=1), x.std(axis=1), np.sqrt((x * x).mean(axis=1)),
                     np.ptp(x, axis=1)], axis=1).reshape(-1)


class Engine:
    """An onnxruntime session on one model; :meth:`predict` runs one window [C, L]."""

    def __init__(self, model_path: Path) -> None:
        opts = ort.SessionOptions()
        # One thread: the controller is a small box, and one window is tiny work.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(model_path), sess_options=opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises several unrelated types
            raise ModelLoadError(f"onnxruntime cannot load the model: {exc}") from exc
        inp = self.session.get_inputs()[0]
        shape = inp.shape
        if len(shape) != 3 or not all(isinstance(d, int) for d in shape[1:]):
            raise ModelLoadError(f"model input {inp.name!r} has shape {shape}; expected "
                                 "[batch, channels, samples]")
        self.input_name = inp.name
        self.channels, self.window = int(shape[1]), int(shape[2])
        # A graph exported with a fixed batch of 1 must be fed one window at a time.
        self.one_at_a_time = shape[0] == 1
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Every output for a batch [N, C, L]."""
        x = np.asarray(batch, dtype=np.float32)
        if self.one_at_a_time and len(x) > 1:
            rows = [self.run(x[i:i + 1]) for i in range(len(x))]
            return {k: np.concatenate([row[k] for row in rows]) for k in self.outputs}
        values = self.session.run(None, {self.input_name: x})
        return dict(zip(self.outputs, values, strict=True))

    def predict(self, window: np.ndarray) -> Prediction:
        """Prediction, scores and features of one window [C, L]."""
        t0 = time.perf_counter()
        out = self.run(window[np.newaxis])
        latency = time.perf_counter() - t0
        if LABEL in out:
            prediction = float(np.asarray(out[LABEL]).reshape(-1)[0])
        elif VALUE in out:
            prediction = float(np.asarray(out[VALUE]).reshape(-1)[0])
        else:
            prediction = float(np.asarray(next(iter(out.values()))).reshape(-1)[0])
        scores = np.asarray(out.get(SCORES, np.zeros((1, 0))), dtype=np.float64).reshape(-1)
        if FEATURES in out:
            features = np.asarray(out[FEATURES], dtype=np.float64).reshape(-1)
        else:
            features = simple_features(window)
        return Prediction(prediction, scores, features, latency,
                          input_reason=_reason(out, window),
                          outputs=out)


def _reason(out: dict[str, np.ndarray], window: np.ndarray) -> int:
    """The window's input reason bits: the model's own check when it has one (every
    exported PlantML model), else non-finite samples only."""
    if INPUT_REASON in out:
        reason = int(np.asarray(out[INPUT_REASON]).reshape(-1)[0])
        if INPUT_OK in out and not bool(np.asarray(out[INPUT_OK]).reshape(-1)[0]):
            return reason or NON_FINITE  # invalid without a named reason: never valid
        return reason
    if INPUT_OK in out and not bool(np.asarray(out[INPUT_OK]).reshape(-1)[0]):
        return NON_FINITE
    return 0 if np.all(np.isfinite(window)) else NON_FINITE


class RunningStats:
    """Welford's running mean and sum of squared deviations per feature (float64 inside)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.mean = np.zeros(0)
        self.m2 = np.zeros(0)

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        if self.count == 0 or x.shape != self.mean.shape:
            self.count, self.mean, self.m2 = 0, np.zeros_like(x), np.zeros_like(x)
        if not np.all(np.isfinite(x)):
            return  # one bad window must not poison the statistics for good
        self.count += 1
        delta = x - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (x - self.mean)

    def variance(self) -> np.ndarray:
        return self.m2 / (self.count - 1) if self.count > 1 else np.full_like(self.mean, math.nan)
