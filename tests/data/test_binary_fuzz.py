"""T29 (binary part): corrupt or fuzzed Parquet, NPZ and MAT files never crash the process;
each is imported or refused with a clear message, and nothing is left behind on failure."""

from __future__ import annotations

import io
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.io

from app.core.errors import Cancelled
from app.core.progress import CancelToken
from app.data.binary.importer import BinaryOptions, import_binary
from app.data.binary.sandbox import run_parser
from app.data.errors import ImportRefused
from app.data.importer import import_file

N = 2000


def make_parquet(path: Path) -> Path:
    t = np.arange(N) / 100.0
    table = pa.table({"time": t, "a": np.sin(t), "b": np.arange(N, dtype=np.int32),
                      "label": ["x"] * N})
    pq.write_table(table, path, row_group_size=500)
    return path


def make_npz(path: Path) -> Path:
    np.savez_compressed(path, DE=np.random.default_rng(0).standard_normal((N, 1)),
                        FE=np.zeros(N), fs=np.array(12000.0))
    return path


def make_mat(path: Path) -> Path:
    rng = np.random.default_rng(0)
    scipy.io.savemat(path, {"X097_DE_time": rng.standard_normal((N, 1)),
                            "X097_FE_time": rng.standard_normal((N, 1)),
                            "X097RPM": np.array([[1797.0]]), "Fs": 12000.0, "note": "text"})
    return path


MAKERS = {"parquet": make_parquet, "npz": make_npz, "mat": make_mat}


def test_valid_files_import(tmp_path):
    rec = import_file(make_parquet(tmp_path / "x.parquet"))
    assert rec.channel_names == ["a", "b"] and rec.time_column == "time"
    assert rec.num_rows == N and "skipped 'label'" in rec.report.notes[0]
    rec = import_file(make_npz(tmp_path / "x.npz"))
    assert rec.channel_names == ["DE", "FE"] and rec.sample_rate == 12000.0
    assert np.allclose(rec.column("t")[:2], [0.0, 1 / 12000])
    rec = import_file(make_mat(tmp_path / "x.mat"))
    assert rec.channel_names == ["X097_DE_time", "X097_FE_time"]
    assert rec.sample_rate == 12000.0 and rec.provenance["scalars"]["X097RPM"] == 1797.0
    assert len(rec.provenance["sha256"]) == 64


def _mutations(data: bytes, seed: int) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(seed)
    out = [(f"cut at {f:.0%}", data[:int(len(data) * f)]) for f in (0.1, 0.5, 0.97)]
    for k in range(2):
        buf = bytearray(data)
        for pos in rng.integers(0, len(buf), 16):
            buf[pos] ^= 1 << int(rng.integers(0, 8))
        out.append((f"16 bit flips #{k}", bytes(buf)))
    out.append(("garbage after the magic", data[:8] + rng.bytes(len(data) - 8)))
    return out


@pytest.mark.parametrize("fmt", sorted(MAKERS))
def test_fuzzed_files_are_imported_or_refused(tmp_path, fmt):
    data = MAKERS[fmt](tmp_path / f"ok.{fmt}").read_bytes()
    work = tmp_path / "work"
    refused = 0
    for name, blob in _mutations(data, seed=len(fmt)):
        path = tmp_path / f"bad.{fmt}"
        path.write_bytes(blob)
        try:
            rec = import_binary(path, work_dir=work)
        except ImportRefused as exc:
            refused += 1
            assert "bad." in str(exc), name
            assert list(work.iterdir()) == [], f"{name}: left files behind"
            continue
        r = rec.report
        assert r.rows_in == r.rows_accepted + r.rows_rejected, name
        rec.discard()
    assert refused >= 3


def test_mat_v73_is_refused_with_advice(tmp_path):
    path = tmp_path / "new.mat"
    path.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 " +
                     b" " * 60 + b"\x00" * 400 + b"\x89HDF\r\n\x1a\n")
    with pytest.raises(ImportRefused, match=r"v7\.3 \(HDF5\).*-v7"):
        import_file(path)


def test_pickled_npz_is_refused(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object), y=np.arange(3.0))
    with pytest.raises(ImportRefused, match="allow_pickle"):
        import_file(path, BinaryOptions(sample_rate=1.0))


def test_npz_bomb_is_refused_before_unpacking(tmp_path):
    path = tmp_path / "bomb.npz"
    buf = io.BytesIO()
    np.save(buf, np.zeros(20_000_000))  # 160 MB of zeros, a few hundred kB packed
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.npy", buf.getvalue())
    with pytest.raises(ImportRefused, match="unpacked, over the"):
        import_binary(path, BinaryOptions(sample_rate=1.0, max_memory_bytes=64 << 20))


def test_arrays_of_different_length_are_refused(tmp_path):
    path = tmp_path / "uneven.npz"
    np.savez(path, a=np.zeros(10), b=np.zeros(11))
    with pytest.raises(ImportRefused, match="a has 10, b has 11"):
        import_file(path, BinaryOptions(sample_rate=1.0))


def test_nan_rows_in_binary_files_are_reported_by_row(tmp_path):
    path = tmp_path / "nan.npz"
    a = np.arange(10.0)
    a[[3, 7]] = np.nan
    np.savez(path, a=a, fs=np.array(10.0))
    rec = import_file(path)
    assert [(i.row, i.reason) for i in rec.report.issues] == [(3, "NaN in column 'a'"),
                                                              (7, "NaN in column 'a'")]
    assert rec.num_rows == 8 and rec.report.rows_in == 10
    assert rec.column("t").tolist() == [0.0, 0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 0.9]


@pytest.mark.parametrize("kind, message", [("segv", r"crashed \(SIGSEGV\)"),
                                           ("raise", "parser bug on purpose"),
                                           ("silent", r"failed \(exit status 0\)")])
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_crashing_parser_becomes_a_clear_error(tmp_path, kind, message):
    src = tmp_path / "x.bin"
    src.write_bytes(b"x")
    with pytest.raises(ImportRefused, match=message) as info:
        run_parser(src, kind, tmp_path, keys=None, time_column=None, timeout_s=30,
                   max_bytes=1 << 30, cancel=CancelToken(), module="tests.data.sandbox_children")
    assert str(src) in str(info.value)


def test_a_hanging_parser_is_stopped_at_the_timeout(tmp_path):
    src = tmp_path / "x.bin"
    src.write_bytes(b"x")
    t0 = time.monotonic()
    with pytest.raises(ImportRefused, match="longer than 1 s"):
        run_parser(src, "hang", tmp_path, keys=None, time_column=None, timeout_s=1.0,
                   max_bytes=1 << 30, cancel=CancelToken(), module="tests.data.sandbox_children")
    assert time.monotonic() - t0 < 5


def test_cancel_stops_the_parser(tmp_path):
    src = tmp_path / "x.bin"
    src.write_bytes(b"x")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        run_parser(src, "hang", tmp_path, keys=None, time_column=None, timeout_s=30,
                   max_bytes=1 << 30, cancel=token, module="tests.data.sandbox_children")


def test_unknown_files_are_refused_by_content(tmp_path):
    path = tmp_path / "fake.parquet"
    path.write_bytes(b"hello, world\n")
    with pytest.raises(ImportRefused, match="not a Parquet, NPZ or MAT file"):
        import_file(path)
    with pytest.raises(ImportRefused, match="unknown file type"):
        import_file(tmp_path / "fake.xlsx") if (tmp_path / "fake.xlsx").write_bytes(b"x") \
            else None
