"""Fixtures for the data tests: CSV writing helpers and a running Modbus simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.data.report import ValidationReport
from app.devices.sim.simulator import ModbusSimulator
from tests.conftest import CWRU

WAVE_LEN = 512


def cwru_wave() -> np.ndarray:
    """The drive-end signal of the CWRU 'Normal' file, or a synthetic one without the data."""
    path = CWRU / "1797_Normal.npz"
    if path.exists():
        with np.load(path) as data:
            return data["DE"][:, 0]
    return np.sin(np.arange(120_000) * 2 * np.pi * 30 / 12_000)


@pytest.fixture(scope="session")
def wave() -> np.ndarray:
    return cwru_wave()


@pytest.fixture
def sim(wave: np.ndarray) -> Iterator[ModbusSimulator]:
    """A simulator on 127.0.0.1 (ephemeral port) replaying the CWRU signal."""
    with ModbusSimulator(waveform=wave, buffer_len=WAVE_LEN) as simulator:
        simulator.start_tcp()
        yield simulator
    assert not simulator.running


@pytest.fixture
def csv_file(tmp_path: Path):
    """Write bytes (or text, UTF-8) to a CSV file in the test folder and return its path."""

    def write(content: bytes | str, name: str = "data.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


def rejected_lines(report: ValidationReport) -> dict[int, str]:
    """Line number -> reason of every rejected line."""
    return {i.line: i.reason for i in report.issues if i.action == "rejected"}


def flagged_lines(report: ValidationReport) -> dict[int, str]:
    """Line number -> reason of every flagged (kept) line."""
    return {i.line: i.reason for i in report.issues if i.action == "flagged"}
