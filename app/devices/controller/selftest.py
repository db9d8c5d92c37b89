"""The golden self-test: the package's golden inputs must reproduce its golden outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from app.devices.controller.engine import Engine
from app.packages.errors import PackageRefused
from app.packages.golden import expected_outputs

GOLDEN_INPUTS = "golden_inputs.npy"
GOLDEN_OUTPUTS = "golden_outputs.json"
RTOL, ATOL = 1e-4, 1e-5


class SelfTestFailed(Exception):
    """The model did not reproduce its golden outputs; the message says where."""


def _expected(doc: Any, n_inputs: int, outputs: list[str]) -> dict[str, np.ndarray]:
    # The workstation's own rule (app.packages.golden): every golden input has an expected
    # value for the model's first output (the prediction), for every output named, and an
    # empty document never passes.
    try:
        found = expected_outputs(doc, n_inputs, outputs[:1], known=outputs)
    except PackageRefused as exc:
        raise SelfTestFailed(str(exc)) from None
    return {k: np.asarray(v) for k, v in found.items()}


def run_self_test(engine: Engine, files: dict[str, Path]) -> int:
    """Run every golden input; raises SelfTestFailed on any difference. Returns the count."""
    if GOLDEN_INPUTS not in files or GOLDEN_OUTPUTS not in files:
        raise SelfTestFailed("the package has no golden inputs and outputs")
    try:
        inputs = np.load(files[GOLDEN_INPUTS], allow_pickle=False)
        doc = json.loads(files[GOLDEN_OUTPUTS].read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise SelfTestFailed(f"golden files unreadable: {exc}") from exc
    if inputs.ndim < 1 or len(inputs) == 0:
        raise SelfTestFailed("the package holds no golden input")
    expected = _expected(doc, len(inputs), engine.outputs)
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
