"""The controller runtime, the protocol and the fieldbus load and serve without the
workstation's libraries: what a lean edge install (numpy, onnxruntime, pymodbus, pyserial,
cryptography) needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Workstation-only libraries; the edge runtime must not import any of them.
BLOCKED = ("sqlalchemy", "alembic", "sklearn", "skl2onnx", "scipy", "pyarrow", "PySide6",
           "shiboken6", "pyqtgraph", "platformdirs", "argon2")
EDGE = ("app.fieldbus", "app.fieldbus.link", "app.fieldbus.codec", "app.fieldbus.timing",
        "app.devices.protocol.registers", "app.devices.protocol.codes",
        "app.devices.protocol.words", "app.devices.controller", "app.devices.controller.serve",
        "app.devices.controller.server", "app.devices.controller.runtime")

CHILD = """
import importlib, json, sys, tempfile
from pathlib import Path
for name in {blocked!r}:
    sys.modules[name] = None  # any import of it now raises ImportError
for name in {edge!r}:
    importlib.import_module(name)
from app.devices.controller import ControllerRuntime, serve_tcp
from app.fieldbus import Endpoint, ModbusLink, RetryPolicy
with tempfile.TemporaryDirectory() as tmp:
    runtime = ControllerRuntime(Path(tmp) / "state", "EDGE-01", Path(tmp) / "trust.json")
    server = serve_tcp(runtime, port=0)
    try:
        with ModbusLink(Endpoint.tcp("127.0.0.1", server.port), RetryPolicy(timeout_s=5)) as link:
            magic = link.read_input(0, 2, "identity")
    finally:
        server.stop()
        runtime.stop()
third = sorted({{m.split(".")[0] for m, v in sys.modules.items() if v is not None}}
               - set(sys.stdlib_module_names))
print(json.dumps({{"magic": magic, "app": sorted(m for m in sys.modules if m.startswith("app.")),
                  "third_party": third}}))
"""


def test_runtime_protocol_and_fieldbus_run_without_workstation_libraries():
    child = CHILD.format(blocked=BLOCKED, edge=EDGE)
    r = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["magic"] == [0x504C, 0x4D4C]  # 'PLML': the runtime answered over Modbus TCP
    assert not set(out["third_party"]) & {b.split(".")[0] for b in BLOCKED}
    # What of the workstation packages the runtime still pulls in (package verification and
    # durable writes); the lean install ships these modules too.
    pulled = {m.split(".")[1] for m in out["app"]}
    assert pulled <= {"core", "fieldbus", "devices", "packages", "store"}, pulled
    assert {m for m in out["app"] if m.startswith("app.store")} <= {"app.store",
                                                                    "app.store.durable"}


LAZY_CHILD = """
import json, sys
import app.devices.controller.serve
print(json.dumps(sorted(sys.modules)))
"""
#: Loaded by the workstation only: package building and USB drives, the Modbus client.
NOT_AT_THE_EDGE = ("app.packages.build", "app.packages.usb", "app.fieldbus.link",
                   "app.fieldbus.ports", "pymodbus.client", "onnx")


def test_the_runtime_imports_only_what_it_uses():
    r = subprocess.run([sys.executable, "-c", LAZY_CHILD], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    loaded = set(json.loads(r.stdout))
    assert not loaded & set(NOT_AT_THE_EDGE), loaded & set(NOT_AT_THE_EDGE)
    # Verification is there from the start (onnx only once a package is verified).
    assert {"app.packages.verify", "app.packages.staging", "app.packages.trust"} <= loaded


def test_every_public_name_of_the_lazy_packages_resolves():
    import importlib

    import app.fieldbus
    import app.packages

    for package in (app.packages, app.fieldbus):
        assert sorted(package.__all__) == sorted(package._WHERE)
        for name, module in package._WHERE.items():
            home = importlib.import_module(f"{package.__name__}.{module}")
            assert getattr(package, name) is getattr(home, name), name
        assert set(package.__all__) <= set(dir(package))
        with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
            _ = package.nonsense
