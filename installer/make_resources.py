"""Regenerate the derived files under resources/: logo PNG and ICO, sample recording,
self-test model with its golden data, compiled translations. Run from the repo root in the
dev venv (``python installer/make_resources.py``); the outputs are committed."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RES = ROOT / "resources"
sys.path.insert(0, str(ROOT))

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
SAMPLE_RATE = 12_000.0


def logo() -> None:
    """plantml.png (256 px) and plantml.ico (PNG-compressed entries) from plantml.svg."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(RES / "icons" / "plantml.svg"))
    pngs = []
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(0)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buf, "PNG")
        pngs.append(bytes(data))
        if size == 256:
            (RES / "icons" / "plantml.png").write_bytes(bytes(data))
    # ICO: header, one 16-byte entry per image, then the PNG streams (Vista and later).
    head = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(head) + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, png in zip(ICON_SIZES, pngs, strict=True):
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
        blobs += png
    (RES / "icons" / "plantml.ico").write_bytes(head + entries + blobs)


def sample_data() -> None:
    """Two seconds of a healthy and of a bearing-fault pump, one CSV each (time + channel)."""
    from app.data.synthetic import vibration

    folder = RES / "sample-data"
    n = int(2 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    for state, seed in (("healthy", 1), ("bearing_fault", 2)):
        x = vibration(state, n, SAMPLE_RATE, seed=seed)
        lines = ["time_s,accel_g"] + [f"{a:.6f},{b:.6f}" for a, b in zip(t, x, strict=True)]
        (folder / f"pump-{state.replace('_', '-')}.csv").write_text(
            "\n".join(lines) + "\n", encoding="utf-8")


def selftest_model() -> None:
    """A small forest on synthetic vibration, exported raw window to prediction, with its
    golden inputs and outputs: what `plantml doctor` runs through onnxruntime."""
    from app.data.synthetic import STATES, vibration
    from app.features.extraction import extract_windows
    from app.features.spec import FeatureSpec
    from app.ml import Recipe, Recording, export_onnx, golden_set, train, window_set

    spec = FeatureSpec.default(SAMPLE_RATE, window=1024, hop=1024)
    recs = [Recording(id=s, signal=vibration(s, 40 * 1024, SAMPLE_RATE, seed=i).reshape(1, -1),
                      label=s) for i, s in enumerate(STATES)]
    data = window_set(recs, spec)
    recipe = Recipe(model="random_forest", params={"n_estimators": 8, "max_depth": 4})
    model = train(data, recipe)
    exported = export_onnx(model)
    idx = np.arange(0, len(data), max(1, len(data) // 12))
    inputs, outputs = golden_set(exported, data.raw(idx))
    folder = RES / "selftest"
    (folder / "golden.onnx").write_bytes(exported.onnx_bytes)
    # The kernels refuse non-finite samples (the graph flags them): features of the rest.
    rows = np.flatnonzero(np.isfinite(inputs).all(axis=(1, 2)))
    np.savez(folder / "golden.npz", window=inputs, feature_rows=rows,
             features=extract_windows(inputs[rows], spec),
             **{f"out_{k}": v for k, v in outputs.items()})
    (folder / "golden.json").write_text(json.dumps({
        "what": "self-test model of plantml doctor: feature graph + 8-tree forest",
        "onnx_sha256": exported.sha256, "outputs": sorted(outputs),
        "classes": list(STATES), "feature_spec": spec.to_dict()}, indent=2) + "\n",
        encoding="utf-8")


def translations() -> None:
    """Compile every resources/translations/*.ts into its .qm with pyside6-lrelease."""
    tool = shutil.which("pyside6-lrelease", path=str(Path(sys.executable).parent))
    if tool is None:
        raise SystemExit("pyside6-lrelease not found next to this Python")
    for ts in sorted((RES / "translations").glob("*.ts")):
        subprocess.run([tool, str(ts), "-qm", str(ts.with_suffix(".qm"))], check=True)


if __name__ == "__main__":
    logo()
    sample_data()
    selftest_model()
    translations()
    print("resources regenerated")
