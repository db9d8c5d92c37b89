"""Flashing benchmarks: RTU payload throughput at 115200 baud through the line simulator as a
fraction of the function-16 ceiling, compression ratio and transfer time of a 100-tree
random forest (CWRU, skl2onnx), and TCP loopback throughput.

The controller runs in a child process (as on a real box); the line simulator and the flash
client run here. Run: python bench/bench_flash.py [--baud 115200] [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnxruntime as ort
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.devices.flash import Endpoint, FlashOptions, RetryPolicy, flash_package
from app.devices.protocol.registers import MAX_CHUNK, WINDOW_HEADER_REGS
from app.devices.sim.linesim import LineSimulator
from app.features.spec import FeatureSpec
from app.fieldbus.timing import fc16_ceiling_bytes_per_s, fc16_transaction_seconds
from app.ml import Recipe, Recording, export_onnx, train, window_set
from app.packages import TrustStore, build_package, make_body, sign_body
from app.packages.trust import COMMAND_ROLE, key_id_for

ROOT = Path(__file__).resolve().parents[1]
CWRU = ROOT.parent / "shared" / "data" / "cwru"
HW = "bench-ctrl"


class CommandKey:
    """Signs controller commands, like the workstation's key."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        self.key_id = key_id_for(self.private.public_key())

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


@dataclass
class Forest:
    """The trained forest, its raw-window ONNX model and signed packages of it."""

    trained: object
    onnx_bytes: bytes
    windows: np.ndarray
    packages: dict[int, Path]
    trust: Path
    signer: CommandKey  # the workstation's command key (protocol 2), trusted as operator


def cwru_recordings() -> list[Recording]:
    recs = []
    for path in sorted(CWRU.glob("*.npz")):
        label = path.stem.split("_", 1)[1].removesuffix("_DE12")
        with np.load(path) as data:
            recs.append(Recording(id=path.stem, label=label,
                                  signal=np.ascontiguousarray(data["DE"][:, 0])[None, :]))
    return recs


def build_forest(folder: Path, versions: tuple[int, ...] = (1, 2, 3)) -> Forest:
    """100 trees on CWRU drive-end windows, exported raw window -> label, packaged."""
    spec = FeatureSpec.default(12000.0, channels=("DE",), window=2048, hop=512)
    ws = window_set(cwru_recordings(), spec)
    trained = train(ws, Recipe(model="random_forest", params={"n_estimators": 100}))
    exported = export_onnx(trained)
    golden = ws.raw(trained.test_idx[:8]).astype(np.float32)
    sess = ort.InferenceSession(exported.onnx_bytes, providers=["CPUExecutionProvider"])
    outs = dict(zip([o.name for o in sess.get_outputs()],
                    sess.run(None, {"window": golden}), strict=True))
    buf = io.BytesIO()
    np.save(buf, golden)
    files = {"model.onnx": exported.onnx_bytes, "golden_inputs.npy": buf.getvalue(),
             "golden_outputs.json": json.dumps({"outputs": {
                 "label": outs["label"].tolist(), "scores": outs["scores"].tolist()}}).encode()}
    eng, appr = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    now = datetime.now(UTC).replace(microsecond=0)
    trust = TrustStore()
    trust.add_key(eng.public_key(), "erin", ["engineer"], now)
    trust.add_key(appr.public_key(), "alex", ["approver"], now)
    signer = CommandKey()
    trust.add_key(signer.private.public_key(), "bench-workstation", [COMMAND_ROLE], now)
    trust.save(folder / "trust.json")
    packages = {}
    for v in versions:
        body = make_body(model_name="bearing", model_version=v, release_counter=v,
                         hardware_ids=[HW],
                         input_schema=[t.to_dict() for t in exported.schema.inputs],
                         output_schema=[t.to_dict() for t in exported.schema.outputs],
                         feature_spec=spec.to_dict(), dataset_hash="ab" * 32, lineage={},
                         library_versions={}, files=files, created_at=now)
        sigs = [sign_body(body, eng, "engineer", "erin", "released", now),
                sign_body(body, appr, "approver", "alex", "approved", now)]
        packages[v] = build_package(folder / f"forest-v{v}.plantml", body, sigs, files)
    return Forest(trained, exported.onnx_bytes, ws.raw(trained.test_idx[:200]), packages,
                  folder / "trust.json", signer)


class ControllerProcess:
    """``python -m app.devices.controller`` in a child process."""

    def __init__(self, folder: Path, trust: Path, *args: str) -> None:
        port_file = folder / "port"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.devices.controller", "--state-dir",
             str(folder / "state"), "--hardware-id", HW, "--trust", str(trust),
             "--port-file", str(port_file), *args], cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the controller did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def bench_rtu(forest: Forest, folder: Path, baud: int, quick: bool) -> None:
    ceiling = fc16_ceiling_bytes_per_s(baud)
    protocol_max = MAX_CHUNK / (2 * 123)
    print(f"\nRTU at {baud} baud through the line simulator (11 bits a character, 3.5-char "
          f"gaps)")
    print(f"  function-16 ceiling: 246 data bytes per {fc16_transaction_seconds(123, baud)*1e3:.2f}"
          f" ms transaction (255-byte request + 8-byte answer + 2 gaps) = {ceiling:.0f} B/s")
    print(f"  protocol maximum: {MAX_CHUNK} of 246 bytes are package ({WINDOW_HEADER_REGS} "
          f"registers of chunk header) = {protocol_max:.3f} of the ceiling")
    policy = RetryPolicy(timeout_s=1.0)
    with LineSimulator(baud) as line:
        ctl = ControllerProcess(folder, forest.trust, "--serial", line.device_port, "--baud",
                                str(baud))
        try:
            ep = Endpoint.rtu(line.client_port, baud)
            size = forest.packages[1].stat().st_size
            zipped = flash_package(ep, forest.packages[1], signer=forest.signer, policy=policy,
                                   options=FlashOptions(compress=True))
            assert zipped.ok, zipped.status
            rate_z = zipped.wire_bytes / zipped.transfer_s
            if quick:
                raw_s, rate, how = size / rate_z, rate_z, "estimated at the measured rate"
            else:
                raw = flash_package(ep, forest.packages[2], signer=forest.signer, policy=policy,
                                    options=FlashOptions(compress=False))
                assert raw.ok, raw.status
                raw_s, rate, how = raw.transfer_s, raw.wire_bytes / raw.transfer_s, "measured"
        finally:
            ctl.stop()
    print(f"  payload throughput: {rate:.0f} B/s = {rate / ceiling:.3f} of the ceiling "
          f"(target >= 0.8)")
    print(f"\n100-tree random forest (CWRU drive end, skl2onnx), package {size} bytes "
          f"(model.onnx {len(forest.onnx_bytes)} bytes)")
    print(f"  zlib stream {zipped.wire_bytes} bytes: ratio {size / zipped.wire_bytes:.1f}")
    print(f"  transfer at {baud}: uncompressed {raw_s:.1f} s ({how}), compressed "
          f"{zipped.transfer_s:.1f} s: {raw_s / zipped.transfer_s:.1f} times faster "
          f"(target >= 2); estimate before flashing was {zipped.estimated_s:.1f} s")
    print(f"  whole flash incl. verify, self-test, activate, commit: {zipped.duration_s:.1f} s")


def bench_tcp(forest: Forest, folder: Path) -> None:
    tcp_dir = folder / "tcp"
    tcp_dir.mkdir()
    ctl = ControllerProcess(tcp_dir, forest.trust, "--tcp", "127.0.0.1:0")
    try:
        out = flash_package(Endpoint.tcp("127.0.0.1", ctl.port), forest.packages[3],
                            signer=forest.signer, options=FlashOptions(compress=False))
        assert out.ok, out.status
    finally:
        ctl.stop()
    print(f"\nTCP loopback: {out.wire_bytes} bytes in {out.chunks} requests, "
          f"{out.transfer_s * 1e3:.0f} ms: {out.wire_bytes / out.transfer_s / 1e3:.0f} kB/s, "
          f"{out.chunks / out.transfer_s:.0f} chunk writes/s; whole flash {out.duration_s:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--quick", action="store_true",
                    help="do not send the uncompressed forest over RTU (about a minute)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        forest = build_forest(folder)
        print(f"forest trained, exported and packaged in {time.perf_counter() - t0:.1f} s")
        bench_rtu(forest, folder, args.baud, args.quick)
        bench_tcp(forest, folder)


if __name__ == "__main__":
    main()
