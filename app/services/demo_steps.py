"""The demo's steps, each through the same services the CLI and the GUI call."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.core.errors import AuthenticationError, PermissionDenied
from app.core.roles import Action
from app.data.synthetic import STATES, vibration
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
from app.services.audit import verify_export_folder
from app.services.container import Services
from app.services.controller_runtime import start_controller
from app.services.options import binary_options
from app.services.recipes import make_recipe

SHARED_CWRU = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cwru"
HARDWARE_ID = "EDGE-DEMO-01"


class Demo:
    """State shared by the steps: services, folders, signed-in users, the report function."""

    def __init__(self, sv: Services, home: Path, step: Callable[..., None],
                 passwords: dict[str, str]) -> None:
        self.sv, self.home, self.step, self.passwords = sv, home, step, passwords
        self.who: dict = {}
        self.replay_signal: np.ndarray | None = None

    def accounts(self, users) -> None:
        sv = self.sv
        self.step(f"workspace created at {sv.home} (SQLite WAL, audit key {sv.audit.key_id})")
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-demo-password")
        self.who["admin"] = admin
        for name, role in users:
            sv.users.add(admin, username=name, password=self.passwords[name], roles=[role])
            self.who[name] = sv.auth.login(username=name, password=self.passwords[name])
        self.step(f"accounts: {', '.join(f'{n} ({r})' for n, r in users)}; signing keys of "
                  "engineer and approver trusted")
        try:
            sv.users.add(self.who["erin"], username="mallory", password="mallory-pass",
                         roles=["admin"])
            self.step("an engineer was allowed to create an account", ok=False)
        except PermissionDenied:
            self.step("engineer 'erin' tried to create an admin account: refused and audited")
        for _ in range(2):
            with contextlib.suppress(AuthenticationError):
                sv.auth.login(username="omar", password="not-his-password")
        self.step("two wrong passwords for 'omar': refused and audited")

    def acquire(self) -> None:
        wave = vibration("healthy", 120_000, seed=7)
        with ModbusSimulator(waveform=wave, buffer_len=512) as sim:
            port = sim.start_tcp()
            tagmap = self.home / "line3-tagmap.toml"
            tagmap.write_text(simulator_tagmap(port=port, waveform_len=512, poll_rate_hz=20),
                              encoding="utf-8")
            out = self.sv.data_in.acquire(self.who["erin"], tagmap=tagmap, duration_s=1.5,
                                          name="line 3")
        parts = ", ".join(f"{d.name}: {d.n_samples} samples at {d.sample_rate:g} Hz"
                          for d in out.datasets)
        self.step(f"acquired over Modbus TCP from the simulator on 127.0.0.1:{port} "
                  f"({out.end_reason}; {out.stats.get('requests', '?')} requests): {parts}",
                  bool(out.datasets) and not out.interrupted)
        wave_ds = max(out.datasets, key=lambda d: d.sample_rate)
        self.sv.datasets.label(self.who["erin"], dataset=wave_ds.dataset_id, recording=0,
                               label="healthy", t_start=0.0, t_end=0.5)
        self.step(f"labelled 0.0-0.5 s of {wave_ds.dataset_id[:12]} as 'healthy' (audited)")

    def training_data(self, data_dir: Path | None):
        folder = data_dir or SHARED_CWRU
        files = sorted(folder.glob("*.npz")) if folder.exists() else []
        if files:
            with np.load(next(f for f in files if "Normal" in f.name)) as npz:
                self.replay_signal = np.asarray(npz[next(k for k in npz.files if "DE" in k)],
                                                dtype=np.float32).ravel()
            out = self.sv.data_in.import_files(self.who["erin"], paths=files, cwru=True,
                                               channels=["DE"], name="CWRU 12k drive end 0 HP")
            what = f"{len(files)} CWRU recordings (10 classes)"
        else:
            paths = []
            for k, state in enumerate(STATES):
                for r in range(2):
                    path = self.home / f"{state}-{r}.npz"
                    np.savez(path, acc=vibration(state, 60_000, seed=10 * k + r))
                    paths.append(path)
            out = self.sv.data_in.import_files(
                self.who["erin"], paths=paths, name="synthetic pump vibration",
                binary=binary_options(keys=["acc"], sample_rate=12_000.0))
            for i, path in enumerate(paths):
                self.sv.datasets.label(self.who["erin"], dataset=out.dataset.dataset_id,
                                       recording=i, label=path.stem.rsplit("-", 1)[0])
            what = "synthetic vibration of 3 machine states (CWRU not found), labelled"
            self.replay_signal = vibration("healthy", 120_000, seed=99).astype(np.float32)
        d = out.dataset
        self.step(f"imported {what} as dataset {d.dataset_id[:12]}: "
                  f"{d.duration_s:.0f} s, every row accounted for")
        return d

    def train(self, dataset) -> str:
        out = self.sv.training.train(self.who["erin"], dataset=dataset.dataset_id,
                                     line="pump-7-bearing", recipe=make_recipe(),
                                     window=2048, hop=1024)
        v, p = out.version, out.parity
        acc = v.metrics.get("accuracy", 0.0)
        self.step(f"trained {v.ref} (random forest, time-ordered 70/30 split with a gap): "
                  f"held-out accuracy {acc:.4f}", acc >= 0.99)
        self.step(f"exported to ONNX (feature graph + model, {len(v.artifacts)} "
                  f"artifacts); parity gate {'passed' if p['deployable'] else 'FAILED'}: "
                  f"label agreement {p['label_agreement']}, max feature error "
                  f"{p['feature_max_rel_err']:.1e}", p["deployable"])
        onnx_file = self.home / "pump-7-bearing-v1.onnx"
        self.sv.training.export(self.who["erin"], ref=v.ref, out=onnx_file)
        self.step(f"ONNX model written to {onnx_file.name}")
        self._explain(v.ref, dataset)
        return v.ref

    def _explain(self, ref: str, dataset) -> None:
        rec = dataset.recordings[-1]
        r = self.sv.explanations.explain_recording(self.who["erin"], ref=ref,
                                                   dataset=dataset.dataset_id,
                                                   recording=str(rec.index))
        e = r.explanation
        if e is None:
            self.step(f"the first window of {rec.name} was invalid input: {r.invalid}", False)
            return
        name, value = e.top(1)[0]
        self.step(f"explained the first window of {rec.name}: {r.label}, {e.output_kind} "
                  f"{e.output:.3f} = base {e.base:.3f} + {len(e.feature_names)} contributions, "
                  f"the largest {name} ({value:+.3f})", e.gap < 1e-6)

    def release(self, ref: str) -> None:
        sv, pw = self.sv, self.passwords
        sv.approvals.propose(self.who["erin"], ref=ref, password=pw["erin"],
                             hardware_ids=[HARDWARE_ID], reason="bearing model for pump 7")
        self.step(f"erin proposed {ref} for {HARDWARE_ID} (password re-entered, signed)")
        try:
            sv.approvals.decide(self.who["erin"], ref=ref, password=pw["erin"],
                                meaning="approved", reason="self-approval")
            self.step("the proposer approved her own version", ok=False)
        except PermissionDenied:
            self.step("erin tried to approve her own version: refused (four eyes), audited")
        v = sv.approvals.decide(self.who["avery"], ref=ref, password=pw["avery"],
                                meaning="approved", reason="validation and parity reviewed")
        self.step(f"avery approved {ref}: signatures "
                  f"{', '.join(f'{s.meaning} by {s.username}' for s in v.signatures)}",
                  v.state == "approved")

    def package(self, ref: str) -> None:
        stick = self.home / "usb-stick"
        stick.mkdir()
        res = self.sv.packages.export_to_drive(self.who["omar"], ref=ref, drive_folder=stick)
        summary = self.sv.packages.verify(self.who["omar"], path=res.path,
                                          hardware_id=HARDWARE_ID)
        self.step(f"package {res.path.name} ({res.size} bytes) written to the stick, read "
                  f"back and verified: signed by {', '.join(summary.signers)}")
        self.package_path = res.path

    def deploy(self, ref: str) -> None:
        sv, omar = self.sv, self.who["omar"]
        trust = self.home / "edge-trust.json"
        sv.keys.export(self.who["admin"], path=trust)
        replay = self.replay_signal[None, :] if self.replay_signal is not None else None
        with start_controller(state_dir=self.home / "edge-box", hardware_id=HARDWARE_ID,
                              trust=trust, tcp="127.0.0.1:0", replay=replay) as edge:
            self.step(f"reference controller {HARDWARE_ID} started on {edge.target} "
                      "(onnxruntime inside, replaying vibration as its sensor)")
            _, before = sv.controllers.status(omar, target=edge.target)
            self.step(f"before the flash the device says: {before.summary()}")
            out = sv.controllers.flash(omar, ref=ref, target=edge.target)
            self.step(f"omar flashed {ref}: {out.chunks} chunks of {out.chunk_size} bytes "
                      f"({'zlib, ' if out.compressed else ''}{out.wire_bytes} bytes on the "
                      f"wire), verified on the device, self-test passed, committed; device "
                      f"says: {out.status.summary()}", out.ok)
            watch = self._watch(edge.target)
            level = watch.drift.level if watch.drift else "n/a"
            self.step(f"watching: {watch.live.inference_count} windows classified, latest "
                      f"'{watch.label}', latency {watch.live.latency_us} us; drift vs the "
                      f"training reference: {level}", watch.live.inference_count > 0)

    def _watch(self, target: str):
        # Per-class drift needs 30 windows of a class (about 3 s of replay); a bound, not a
        # pace: a slow machine gets there later, and the step says n/a if it never does.
        deadline = time.monotonic() + 60
        while True:
            w = self.sv.controllers.watch(self.who["omar"], target=target)
            if w.drift is not None or time.monotonic() > deadline:
                return w
            time.sleep(0.5)

    def audit(self) -> None:
        sv, aud = self.sv, self.who["aud"]
        report = sv.audit.verify(aud)
        self.step(f"audit verify: {report.summary()}", report.ok)
        self.export_dir = self.home / "audit-export"
        exported = sv.audit.export(aud, folder=self.export_dir)
        self.step(f"audit exported: {exported.events} events, {len(exported.files)} files, "
                  f"checkpoint at {exported.checkpoint.seq}")
        digest = hashlib.sha256((self.export_dir / "manifest.json").read_bytes()).hexdigest()
        sig = sv.auth.esign(aud, password=self.passwords["aud"], action=Action.AUDIT_EXPORT,
                            meaning="reviewed", reason="monthly audit trail review",
                            record_type="audit-export", record_id=self.export_dir.name,
                            record_hash=digest)
        self.step(f"auditor signed the export electronically (key {sig.key_id})")

    def audit_offline(self) -> None:
        offline = verify_export_folder(self.export_dir)
        self.step(f"export verified offline, without the workspace: {offline.summary()}",
                  offline.ok)
        tampered = self.home / "audit-export-tampered"
        shutil.copytree(self.export_dir, tampered)
        events = tampered / "events.jsonl"
        events.write_bytes(events.read_bytes().replace(b"omar", b"omXr", 1))
        try:
            bad = verify_export_folder(tampered)
            self.step(f"tampered copy: {bad.summary()}", not bad.ok)
        except Exception as exc:  # noqa: BLE001 - any refusal is the expected outcome here
            self.step(f"tampered copy refused: {exc}")
