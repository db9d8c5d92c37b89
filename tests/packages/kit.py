"""Test kit: real Ed25519 keys, a real small ONNX model and signed packages built on disk."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from onnx import TensorProto, helper

from app.core.clock import FakeClock
from app.packages import TrustStore, build_package, make_body, package_filename, sign_body
from app.packages.build import _info
from app.packages.manifest import manifest_bytes

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HW = "ctrl-a1"
DATASET = "ab" * 32


def onnx_model(offset: float = 1.0, external: str | None = None) -> bytes:
    """Y = X + C for a 1x4 float input; ``external`` makes C point at external data."""
    const = helper.make_tensor("C", TensorProto.FLOAT, [1, 4], [offset] * 4)
    if external is not None:
        const = TensorProto(name="C", data_type=TensorProto.FLOAT, dims=[1, 4])
        const.data_location = TensorProto.EXTERNAL
        for key, value in (("location", external), ("offset", "0"), ("length", "16")):
            entry = const.external_data.add()
            entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Add", ["X", "C"], ["Y"])], "add",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4])], [const])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def payload(model: bytes | None = None) -> dict[str, bytes]:
    """The standard payload files with real content."""
    buf = io.BytesIO()
    golden = np.arange(8, dtype=np.float32).reshape(2, 4)
    np.save(buf, golden)
    return {
        "model.onnx": model if model is not None else onnx_model(),
        "validation_report.json": json.dumps({"accuracy": 0.995}).encode(),
        "parity_report.json": json.dumps({"agreement": 1.0}).encode(),
        "model_card.md": b"# Bearing fault classifier\n\nTrained on CWRU.\n",
        "golden_inputs.npy": buf.getvalue(),
        "golden_outputs.json": json.dumps((golden + 1).tolist()).encode(),
        "audit_checkpoint.json": json.dumps({"sequence": 42, "hash": "00" * 32}).encode(),
    }


@dataclass
class Kit:
    """Keys for an engineer and an approver, their trust store, a fake clock and a folder."""

    root: Path
    engineer: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    approver: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    trust: TrustStore = field(default_factory=TrustStore)
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))

    def __post_init__(self) -> None:
        self.trust.add_key(self.engineer.public_key(), "erin", ["engineer"], NOW)
        self.trust.add_key(self.approver.public_key(), "alex", ["approver"], NOW)

    def body(self, files: Mapping[str, bytes], **kw: Any) -> dict[str, Any]:
        args: dict[str, Any] = dict(
            model_name="bearing", model_version=1, release_counter=1, hardware_ids=[HW],
            input_schema=[{"name": "X", "dtype": "float32", "shape": [1, 4]}],
            output_schema=[{"name": "Y", "dtype": "float32", "shape": [1, 4]}],
            feature_spec={"window": 4, "features": ["mean"]}, dataset_hash=DATASET,
            lineage={"dataset": DATASET, "recipe": "rf-1"},
            library_versions={"onnx": onnx.__version__}, files=files, created_at=NOW)
        args.update(kw)
        return make_body(**args)

    def sign(self, body: dict[str, Any]) -> list[dict[str, str]]:
        return [sign_body(body, self.engineer, "engineer", "erin", "released", NOW),
                sign_body(body, self.approver, "approver", "alex", "approved", NOW)]

    def build(self, files: Mapping[str, bytes] | None = None,
              sigs: Callable[[dict[str, Any]], list[dict[str, str]]] | None = None,
              folder: str = "out", **kw: Any) -> Path:
        files = dict(files if files is not None else payload())
        body = self.body(files, **kw)
        signatures = sigs(body) if sigs is not None else self.sign(body)
        name = package_filename(body["model_name"], body["model_version"],
                                body["release_counter"])
        return build_package(self.root / folder / name, body, signatures, files)


def members(path: Path) -> dict[str, bytes]:
    """Every member of a zip, in order."""
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def rezip(out: Path, entries: Mapping[str, bytes]) -> Path:
    """Write ``entries`` (in order) as a package-shaped zip: same metadata as build_package."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(_info(name), data, compresslevel=6)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    return out


def resign_manifest(body: dict[str, Any], sigs: list[dict[str, str]]) -> bytes:
    """A manifest.json for ``body`` and ``sigs`` as build_package writes it."""
    return manifest_bytes(body, sigs)


def tree(root: Path) -> set[str]:
    """Every path under ``root`` (to prove nothing was written)."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}
