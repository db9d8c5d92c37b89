"""The golden self-test: the package's golden inputs must reproduce its golden outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from app.devices.controller.engine import Engine

GOLDEN_INPUTS = "golden_inputs.npy"
GOLDEN_OUTPUTS = "golden_outputs.json"
RTOL, ATOL = 1e-4, 1e-5


class SelfTestFailed(Exception):
    """The model did not reproduce its golden outputs; the message says where."""


def _expected(doc: Any, outputs: list[str]) -> dict[str, np.ndarray]:
    # Accepted forms: {"outputs": {name: values}}, {name: values}, or a bare list (first output).
    if isinstance(doc, dict) and isinstance(doc.get("outputs"), dict):
        doc = doc["outputs"]
    if isinstance(doc, list):
        return {outputs[0]: np.asarray(doc)}
    if isinstance(doc, dict):
        unknown = sorted(set(doc) - set(outputs))
        if unknown:
            raise SelfTestFailed(f"golden outputs name {', '.join(unknown)}, which the model "
                                 "does not have")
        return {k: np.asarray(v) for k, v in doc.items()}
    raise SelfTestFailed("golden_outputs.json is neither a list nor an object")


def run_self_test(engine: Engine, files: dict[str, Path]) -> int:
    """Run every golden input; raises SelfTestFailed on any difference. Returns the count."""
    if GOLDEN_INPUTS not in files or GOLDEN_OUTPUTS not in files:
        raise SelfTestFailed("the package has no golden inputs and outputs")
    try:
        inputs = np.load(files[GOLDEN_INPUTS], allow_pickle=False)
        expected = _expected(json.loads(files[GOLDEN_OUTPUTS].read_text(encoding="utf-8")),
                             engine.outputs)
    except (OSError, ValueError) as exc:
        raise SelfTestFailed(f"golden files unreadable: {exc}") from exc
    if inputs.ndim != 3 or inputs.shape[1:] != (engine.channels, engine.window):
        raise SelfTestFailed(f"golden inputs have shape {inputs.shape}; the model takes "
                             f"[N, {engine.channels}, {engine.window}]")
    try:
        got = engine.run(inputs.astype(np.float32))
    except Exception as exc:  # onnxruntime raises several unrelated types
        raise SelfTestFailed(f"onnxruntime failed on the golden inputs: {exc}") from exc
    for name, want in expected.items():
        have = np.asarray(got[name])
        if have.shape != want.shape:
            raise SelfTestFailed(f"output {name}: shape {have.shape}, golden {want.shape}")
        if np.issubdtype(have.dtype, np.integer):
            bad = np.flatnonzero((have != want).reshape(len(have), -1).any(axis=1))
        else:
            close = np.isclose(have, want.astype(np.float64), rtol=RTOL, atol=ATOL)
            bad = np.flatnonzero(~close.reshape(len(have), -1).all(axis=1))
        if len(bad):
            raise SelfTestFailed(f"output {name} differs on golden input {int(bad[0])} "
                                 f"({len(bad)} of {len(have)})")
    return len(inputs)
