"""Fixtures: small synthetic recordings of three machine states, and the CWRU drive-end set."""

from __future__ import annotations

import numpy as np
import pytest

from app.features.spec import FeatureSpec
from app.ml.dataset import Recording, WindowSet, window_set
from app.ml.recipe import Recipe
from tests.conftest import CWRU

FS = 2000.0
# The default recipe, told the machine: the CWRU drive end bearing and the 0 HP speed.
# (The shared .npz files carry no RPM value; the speed is in their names and on the
# CWRU data page: 1797 rpm at 0 HP.  The original .mat files hold it as X097RPM.)
CWRU_RPM = 1797.0
CWRU_RECIPE = Recipe(kinematics={"rpm": CWRU_RPM, "bearing": "SKF 6205-2RS JEM"})


def synthetic_signal(state: str, n: int, seed: int) -> np.ndarray:
    """Shaft at 25 Hz plus noise; 'imbalance' raises the 1x line, 'bearing' adds impacts."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    x = 0.3 * np.sin(2 * np.pi * 25 * t + rng.uniform(0, 6)) + 0.2 * rng.standard_normal(n)
    if state == "imbalance":
        x += 0.6 * np.sin(2 * np.pi * 25 * t)
    elif state == "bearing":
        impacts = np.zeros(n)
        impacts[:: int(FS / 87)] = 3.0  # defect rate 87 Hz ringing at 600 Hz
        ring = np.exp(-np.arange(40) / 6.0) * np.sin(2 * np.pi * 600 * np.arange(40) / FS)
        x += np.convolve(impacts, ring)[:n]
    return x[None, :]


def synthetic_recordings(per_class: int = 2, n: int = 12_000) -> list[Recording]:
    recs = []
    for k, state in enumerate(("ok", "imbalance", "bearing")):
        for r in range(per_class):
            recs.append(Recording(id=f"{state}-{r}", label=state,
                                  signal=synthetic_signal(state, n, seed=10 * k + r)))
    return recs


@pytest.fixture(scope="session")
def small_spec() -> FeatureSpec:
    return FeatureSpec.default(FS, channels=("acc",), window=256, hop=128)


@pytest.fixture(scope="session")
def small_set(small_spec: FeatureSpec) -> WindowSet:
    return window_set(synthetic_recordings(), small_spec)


def cwru_recordings() -> list[Recording]:
    """Drive-end channel of each CWRU file; the class is in the file name."""
    recs = []
    for path in sorted(CWRU.glob("*.npz")):
        label = path.stem.split("_", 1)[1].removesuffix("_DE12")  # 1797_IR_7_DE12 -> IR_7
        with np.load(path) as data:
            key = next(k for k in data.files if "DE" in k)
            recs.append(Recording(id=path.stem, label=label,
                                  signal=np.ascontiguousarray(data[key][:, 0])[None, :]))
    return recs


@pytest.fixture(scope="session")
def cwru_set() -> WindowSet:
    if not CWRU.is_dir() or not any(CWRU.glob("*.npz")):
        pytest.skip(f"CWRU recordings not found in {CWRU} (shared data absent)")
    spec = FeatureSpec.default(12000.0, channels=("DE",), window=2048, hop=512,
                               kinematics=CWRU_RECIPE.kinematics_for(("DE",)))
    return window_set(cwru_recordings(), spec)


@pytest.fixture(scope="session")
def cwru_model(cwru_set):
    """The default recipe (random forest, time split, gap of one window) with the machine's
    kinematics, on the default feature spec."""
    from app.ml import train

    return train(cwru_set, CWRU_RECIPE)


@pytest.fixture(scope="session")
def cwru_exported(cwru_model):
    from app.ml import export_onnx

    return export_onnx(cwru_model)
