"""Test kit for controllers: a small raw-window ONNX model, signed packages, runtimes."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnxruntime as ort
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from onnx import TensorProto, helper, numpy_helper

from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.packages import package_filename
from app.packages.trust import COMMAND_ROLE, key_id_for
from tests.packages.kit import HW, NOW, Kit

CHANNELS, WINDOW, CLASSES = 1, 64, 3
#: How long a test waits for something that takes milliseconds on an idle machine: long, so
#: that a loaded machine never fails it; reached only if the awaited thing never happens.
PATIENCE_S = 60.0
T = TypeVar("T")


class KeySigner:
    """A command signer over a private key, as the workstation's (protocol 2)."""

    def __init__(self, private: Ed25519PrivateKey | None = None) -> None:
        self.private = private or Ed25519PrivateKey.generate()

    @property
    def key_id(self) -> str:
        return key_id_for(self.private.public_key())

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


#: The workstation's command key of the device tests; every kit's trust file holds it with
#: the operator role (tests.devices.conftest).
OPERATOR = KeySigner()


def trust_operator(kit: Kit, signer: KeySigner = OPERATOR, user: str = "ops-console") -> Kit:
    """Put ``signer``'s key into ``kit``'s trust store with the operator role."""
    if kit.trust.key(signer.key_id) is None:
        kit.trust.add_key(signer.private.public_key(), user, [COMMAND_ROLE], NOW)
    return kit


def wait_for(read: Callable[[], T], done: Callable[[T], bool], what: str,
                timeout_s: float = PATIENCE_S) -> T:
    """Poll ``read()`` until ``done`` says yes and return that value: a wait on an event
    (a state change, a counter moving), never on time passing; fails naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:g} s; last: "
                                 f"{value!r}")
        time.sleep(0.005)


def window_model(seed: int = 0, channels: int = CHANNELS, window: int = WINDOW,
                 classes: int = CLASSES, pad: int = 0) -> bytes:
    """``window`` [batch, C, L] -> label, scores, features (mean and RMS per channel), like
    an exported PlantML model; ``seed`` changes the weights, ``pad`` adds a dead initializer
    of that many float32 to make the model bigger."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(2 * channels, classes)).astype(np.float32)
    b = rng.normal(size=(classes,)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")]
    nodes = [
        helper.make_node("ReduceMean", ["window"], ["mean"], axes=[2], keepdims=0),
        helper.make_node("Mul", ["window", "window"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["msq"], axes=[2], keepdims=0),
        helper.make_node("Sqrt", ["msq"], ["rms"]),
        helper.make_node("Concat", ["mean", "rms"], ["features"], axis=1),
        helper.make_node("MatMul", ["features", "W"], ["logits0"]),
        helper.make_node("Add", ["logits0", "B"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["scores"], axis=1),
        helper.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0),
    ]
    if pad:
        inits.append(numpy_helper.from_array(
            rng.normal(size=pad).astype(np.float32), "PAD"))
        nodes.append(helper.make_node("Identity", ["PAD"], ["pad_out"]))
    graph = helper.make_graph(
        nodes, "window_model",
        [helper.make_tensor_value_info("window", TensorProto.FLOAT, ["batch", channels, window])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", classes]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 2 * channels])]
        + ([helper.make_tensor_value_info("pad_out", TensorProto.FLOAT, [pad])] if pad else []),
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def validity_model(seed: int = 0, window: int = WINDOW, classes: int = CLASSES) -> bytes:
    """Like :func:`window_model`, with the input check of an exported PlantML model: the
    validity nodes of app.features.validity_graph (structural limits: non-finite, flat,
    clipped) before the features, outputs ``input_ok`` and ``input_reason``, and label -1 /
    scores 0 for an invalid window (app.ml.export's rule)."""
    from app.features.graph_ops import Graph
    from app.features.validity import ValidityConfig, ValidityLimits
    from app.features.validity_graph import validity_nodes

    g = Graph("iv_")
    # A short window has its maximum in 1/64 of the samples: clipped means 10 % of them.
    limits = ValidityLimits.structural(("DE",), config=ValidityConfig(clip_share=0.1))
    clean, ok, reason, _level = validity_nodes(g, "window", limits)
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(2, classes)).astype(np.float32)
    b = rng.normal(size=(classes,)).astype(np.float32)
    inits = [*g.inits, numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B"),
             numpy_helper.from_array(np.array([-1], dtype=np.int64), "MINUS1"),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "AX1"),
             numpy_helper.from_array(np.zeros(1, dtype=np.float32), "ZERO"),
             numpy_helper.from_array(np.array([2], dtype=np.int64), "AX2")]
    nodes = [*g.nodes,
             helper.make_node("ReduceMean", [clean, "AX2"], ["mean"], keepdims=0),
             helper.make_node("Mul", [clean, clean], ["sq"]),
             helper.make_node("ReduceMean", ["sq", "AX2"], ["msq"], keepdims=0),
             helper.make_node("Sqrt", ["msq"], ["rms"]),
             helper.make_node("Concat", ["mean", "rms"], ["features"], axis=1),
             helper.make_node("MatMul", ["features", "W"], ["logits0"]),
             helper.make_node("Add", ["logits0", "B"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["raw_scores"], axis=1),
             helper.make_node("ArgMax", ["raw_scores"], ["raw_label"], axis=1, keepdims=0),
             helper.make_node("Where", [ok, "raw_label", "MINUS1"], ["label"]),
             helper.make_node("Unsqueeze", [ok, "AX1"], ["ok2d"]),
             helper.make_node("Where", ["ok2d", "raw_scores", "ZERO"], ["scores"]),
             helper.make_node("Identity", [ok], ["input_ok"]),
             helper.make_node("Identity", [reason], ["input_reason"])]
    graph = helper.make_graph(
        nodes, "validity_model",
        [helper.make_tensor_value_info("window", TensorProto.FLOAT, ["batch", 1, window])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", classes]),
         helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 2]),
         helper.make_tensor_value_info("input_ok", TensorProto.BOOL, ["batch"]),
         helper.make_tensor_value_info("input_reason", TensorProto.INT64, ["batch"])], inits)
    # Opset 18: the validity nodes give ReduceMean its axes as an input.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    return model.SerializeToString()


class ScriptedSensor(ReplaySensor):
    """A replay sensor whose windows the test can replace (``override``: a dead sensor, a
    NaN sample), as a real sensor delivers them; None goes back to the replay."""

    override: np.ndarray | None = None

    def window(self, length: int, channels: int) -> np.ndarray | None:
        fixed = self.override
        if fixed is not None:
            return np.asarray(fixed, dtype=np.float32)[:channels, :length]
        return super().window(length, channels)


def golden(model: bytes, n: int = 4, seed: int = 1) -> tuple[bytes, bytes]:
    """golden_inputs.npy and golden_outputs.json for ``model``."""
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    shape = sess.get_inputs()[0].shape
    x = np.random.default_rng(seed).normal(size=(n, shape[1], shape[2])).astype(np.float32)
    outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"window": x}),
                    strict=True))
    buf = io.BytesIO()
    np.save(buf, x)
    doc = {"outputs": {k: outs[k].tolist() for k in ("label", "scores")}}
    return buf.getvalue(), json.dumps(doc).encode()


def model_files(model: bytes, *, bad_golden: bool = False) -> dict[str, bytes]:
    inputs, outputs = golden(model)
    if bad_golden:
        doc = json.loads(outputs)
        doc["outputs"]["label"] = [(v + 1) % CLASSES for v in doc["outputs"]["label"]]
        outputs = json.dumps(doc).encode()
    return {"model.onnx": model, "golden_inputs.npy": inputs, "golden_outputs.json": outputs,
            "validation_report.json": b'{"accuracy": 0.99}', "model_card.md": b"# test\n"}


def package(kit: Kit, version: int, counter: int | None = None, *, seed: int | None = None,
            pad: int = 0, bad_golden: bool = False, hardware: str = HW,
            created_at: datetime | None = None, validity: bool = False) -> Path:
    """A signed package of model ``version`` (weights seeded by the version); built once;
    ``validity`` gives the model the input check of an exported PlantML model."""
    folder = f"v{version}-{counter}-{seed}-{pad}-{bad_golden}-{hardware}-{created_at}" + \
        ("-valid" if validity else "")
    existing = kit.root / folder / package_filename("bearing", version, counter or version)
    if existing.exists():
        return existing
    weights = seed if seed is not None else version
    model = validity_model(weights) if validity else window_model(weights, pad=pad)
    files = model_files(model, bad_golden=bad_golden)
    extra = {"created_at": created_at} if created_at is not None else {}
    return kit.build(files=files, folder=folder, **extra,
                     model_version=version, release_counter=counter or version,
                     hardware_ids=[hardware],
                     input_schema=[{"name": "window", "dtype": "float32",
                                    "shape": ["batch", CHANNELS, WINDOW]}],
                     output_schema=[{"name": "label", "dtype": "int64", "shape": ["batch"]}])


def replay(seconds: float = 4.0, rate: float = 2000.0) -> ReplaySensor:
    """A sine-plus-noise channel replayed fast enough for tests (a window every few ms)."""
    t = np.arange(int(seconds * rate)) / rate
    x = np.sin(2 * np.pi * 50 * t) + 0.1 * np.random.default_rng(0).normal(size=t.size)
    return ReplaySensor(x[np.newaxis].astype(np.float32), rate, block=WINDOW, speed=4.0)


def make_runtime(kit: Kit, state_dir: Path, **kw) -> ControllerRuntime:
    trust = kit.root / "trust.json"
    if not trust.exists():
        kit.trust.save(trust)
    kw.setdefault("sensor", replay())
    kw.setdefault("clock", kit.clock)
    return ControllerRuntime(state_dir, HW, trust, **kw)
