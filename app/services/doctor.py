"""Self-test of an installation: kernels, onnxruntime, serial ports, workspace, clock, disk."""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import logging
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.core.errors import PlantMLError
from app.core.resources import resource
from app.store.workspace import resolve_home

log = logging.getLogger(__name__)

#: Below this much free space in the workspace's file system the check fails.
MIN_FREE_BYTES = 500 * 2**20
#: Native kernels, each a compiled module of app.features (the AVX2 build of _condition is
#: checked by running the features: app.features.condition picks it where the CPU has AVX2).
KERNELS = ("_timestats", "_spectral", "_condition")
#: Wall-clock years a plant PC can plausibly be in.
SANE_YEARS = range(2024, 2100)


@dataclass(frozen=True)
class Check:
    """One line of the self-test: what was checked, whether it passed, what was seen."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        """``ok    name: detail`` or ``FAIL  name: detail``."""
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def _run(name: str, probe: Callable[[], str]) -> Check:
    """Run one probe; any exception is its failure, told in one sentence."""
    try:
        return Check(name, True, probe())
    except PlantMLError as exc:
        return Check(name, False, str(exc))
    except Exception as exc:  # a self-test reports every way a check breaks
        log.exception("self-test %s failed", name)
        return Check(name, False, f"{type(exc).__name__}: {exc}")


class SelfTestFailed(PlantMLError):
    """A self-test probe saw something wrong."""


def _golden() -> tuple[dict, dict[str, np.ndarray], bytes]:
    meta = json.loads(resource("selftest", "golden.json").read_text(encoding="utf-8"))
    with np.load(resource("selftest", "golden.npz")) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return meta, arrays, resource("selftest", "golden.onnx").read_bytes()


def check_kernels() -> str:
    """The compiled kernels load (no fallback) and reproduce the bundled golden features."""
    from app.features.extraction import extract_windows
    from app.features.spec import FeatureSpec

    paths = []
    for name in KERNELS:
        module = importlib.import_module(f"app.features.{name}")
        path = Path(getattr(module, "__file__", "") or "")
        if not any(path.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES):
            raise SelfTestFailed(f"app.features.{name} is not a compiled module ({path})")
        paths.append(path.name)
    meta, arrays, _ = _golden()
    rows = arrays["feature_rows"]  # the golden windows with finite samples
    feats = extract_windows(arrays["window"][rows].astype(np.float64),
                            FeatureSpec.from_dict(meta["feature_spec"]))
    err = float(np.max(np.abs(feats - arrays["features"]) /
                       np.maximum(np.abs(arrays["features"]), 1e-12)))
    if not err <= 1e-9:
        raise SelfTestFailed(f"the kernels' features differ from the golden ones by {err:.2g} "
                             "(relative; 1e-9 allowed)")
    return f"compiled ({', '.join(paths)}); golden features within {err:.1g}"


def check_onnxruntime() -> str:
    """onnxruntime runs the bundled golden model and gives its golden outputs."""
    import onnxruntime as ort

    meta, arrays, model = _golden()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sess = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    out = dict(zip([o.name for o in sess.get_outputs()],
                   sess.run(None, {"window": arrays["window"]}), strict=True))
    for name in meta["outputs"]:
        want, got = arrays[f"out_{name}"], out.get(name)
        if got is None or got.shape != want.shape:
            raise SelfTestFailed(f"the golden model's output {name!r} is missing or mis-shaped")
        same = (np.array_equal(got, want) if want.dtype.kind in "iub" else
                np.allclose(got, want, rtol=1e-5, atol=1e-6))
        if not same:
            raise SelfTestFailed(f"the golden model's output {name!r} differs from the "
                                 "expected values")
    return f"onnxruntime {ort.__version__} ran the golden model ({len(arrays['window'])} windows)"


def check_serial_ports() -> str:
    """Serial ports can be listed (an empty list is fine: a PC without COM ports)."""
    from serial.tools import list_ports

    ports = sorted(p.device for p in list_ports.comports())
    return ", ".join(ports) if ports else "none on this computer"


def check_workspace(home: Path) -> str:
    """The workspace folder takes a file, and its database passes integrity_check."""
    if not home.exists():
        parent = next(p for p in (home, *home.parents) if p.exists())
        _probe_write(parent)
        return f"none yet at {home}; {parent} is writable, so the first start can create it"
    _probe_write(home)
    db = home / "plantml.db"
    if (home / "registry.json").is_file():
        # A shared registry: the server checks its own storage; opening it is the check.
        return f"{home} is writable; the registry is shared (registry.json)"
    if not db.is_file():
        return f"{home} is writable; no database yet"
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        result = con.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        result = str(exc)
    finally:
        con.close()
    if result != "ok":
        raise SelfTestFailed(f"{db} fails integrity_check: {result}")
    return f"{home} is writable; plantml.db passes integrity_check"


def _probe_write(folder: Path) -> None:
    probe = folder / f".plantml-doctor-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"probe")
        probe.unlink()
    except OSError as exc:
        raise SelfTestFailed(f"{folder} is not writable: {exc.strerror or exc}") from None


def check_clock(home: Path) -> str:
    """The wall clock is in a plausible year, runs forward, and is not behind the audit."""
    now = datetime.now(UTC)
    if now.year not in SANE_YEARS:
        raise SelfTestFailed(f"the system clock says {now:%Y-%m-%d}; set the date and time")
    t0 = time.monotonic()
    time.sleep(0.01)
    if time.monotonic() <= t0:
        raise SelfTestFailed("the monotonic clock does not advance")
    newest = _newest_audit_time(home / "plantml.db")
    if newest is not None and now < newest:
        raise SelfTestFailed(f"the system clock ({now:%Y-%m-%d %H:%M} UTC) is behind the newest "
                             f"audit event ({newest:%Y-%m-%d %H:%M} UTC); set the date and time")
    return f"{now:%Y-%m-%d %H:%M:%S} UTC" + ("" if newest is None else
                                            ", after the newest audit event")


def _newest_audit_time(db: Path) -> datetime | None:
    if not db.is_file():
        return None
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        row = con.execute("SELECT ts FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    if row is None:
        return None
    when = datetime.fromisoformat(row[0])
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_disk(home: Path) -> str:
    """Enough free space where the workspace lives."""
    where = next(p for p in (home, *home.parents) if p.exists())
    free = shutil.disk_usage(where).free
    if free < MIN_FREE_BYTES:
        raise SelfTestFailed(f"only {free / 2**20:.0f} MB free at {where}; PlantML needs "
                             f"{MIN_FREE_BYTES / 2**20:.0f} MB")
    return f"{free / 2**30:.1f} GB free at {where}"


def run_self_test(home: str | Path | None = None,
                  extra: tuple[tuple[str, Callable[[], str]], ...] = ()) -> list[Check]:
    """Every check, in order, for the workspace ``home`` (resolved as everywhere: --home,
    PLANTML_HOME, the user data folder); ``extra`` adds front-end probes (the CLI adds Qt's).
    """
    home = resolve_home(home)
    probes: list[tuple[str, Callable[[], str]]] = [
        ("native kernels", check_kernels),
        ("onnxruntime", check_onnxruntime),
        *extra,
        ("serial ports", check_serial_ports),
        ("workspace", lambda: check_workspace(home)),
        ("clock", lambda: check_clock(home)),
        ("disk space", lambda: check_disk(home)),
    ]
    return [_run(name, probe) for name, probe in probes]
