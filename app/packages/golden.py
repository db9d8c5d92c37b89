"""The golden self-test data of a package: every golden input must have its expected output.

One check, used when a package is built, when it is verified, and (through
:func:`expected_outputs`) by the controller runtime before its self-test, so an empty or
partial ``golden_outputs.json`` can never make a self-test that tests nothing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.packages.errors import PackageRefused

GOLDEN_INPUTS = "golden_inputs.npy"
GOLDEN_OUTPUTS = "golden_outputs.json"


def _refuse(message: str) -> PackageRefused:
    return PackageRefused("golden", message)


def golden_input_count(data: bytes) -> int:
    """How many golden inputs ``golden_inputs.npy`` holds (its first dimension)."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _refuse(f"{GOLDEN_INPUTS} is not a readable .npy array: {exc}") from exc
    if not isinstance(array, np.ndarray) or array.ndim < 2 or array.dtype.kind != "f":
        what = f"{array.dtype} {array.shape}" if isinstance(array, np.ndarray) else \
            type(array).__name__
        raise _refuse(f"{GOLDEN_INPUTS} must be a float array of windows, not {what}")
    if len(array) == 0:
        raise _refuse(f"{GOLDEN_INPUTS} holds no golden input")
    return len(array)


def expected_outputs(doc: Any, n_inputs: int, required: Sequence[str],
                     known: Sequence[str] | None = None) -> dict[str, list]:
    """The expected values per output from a parsed ``golden_outputs.json``.

    Accepted forms: ``{"outputs": {name: values}}``, ``{name: values}``, or a bare list
    (the first of ``required``). Every output in ``required`` must be present, and every
    output named must have exactly one expected value per golden input. With ``known`` (the
    model's outputs, as the runtime sees them) an output the model lacks is refused too.
    Raises PackageRefused('golden') naming the output.
    """
    if isinstance(doc, dict) and isinstance(doc.get("outputs"), dict) and len(doc) == 1:
        doc = doc["outputs"]
    if isinstance(doc, list):
        if not required:
            raise _refuse(f"{GOLDEN_OUTPUTS} is a bare list but the model names no output")
        doc = {required[0]: doc}
    if not isinstance(doc, dict):
        raise _refuse(f"{GOLDEN_OUTPUTS} is neither a list nor an object")
    if not doc:
        raise _refuse(f"{GOLDEN_OUTPUTS} names no expected output: the self-test would "
                      "test nothing")
    if known is not None:
        unknown = sorted(set(doc) - set(known))
        if unknown:
            raise _refuse(f"{GOLDEN_OUTPUTS} names {', '.join(unknown)}, which the model "
                          "does not have")
    missing = [name for name in required if name not in doc]
    if missing:
        raise _refuse(f"{GOLDEN_OUTPUTS} has no expected values for output "
                      f"{', '.join(missing)}")
    for name, values in doc.items():
        if not isinstance(values, list) or len(values) != n_inputs:
            count = len(values) if isinstance(values, list) else "no list of"
            raise _refuse(f"{GOLDEN_OUTPUTS}: output {name!r} has {count} expected values "
                          f"for {n_inputs} golden inputs; every golden input needs its "
                          "expected output")
    return dict(doc)


def _read(source: bytes | Path) -> bytes:
    return bytes(source) if isinstance(source, bytes | bytearray | memoryview) else \
        Path(source).read_bytes()


def check_golden(files: Mapping[str, bytes | Path], output_schema: Sequence[Mapping[str, Any]]
                 ) -> int:
    """Check a package's golden files against its declared outputs; returns the number of
    golden inputs. Raises PackageRefused('golden')."""
    for name in (GOLDEN_INPUTS, GOLDEN_OUTPUTS):
        if name not in files:
            raise _refuse(f"the package has no {name}: the controller could not self-test "
                          "the model")
    n = golden_input_count(_read(files[GOLDEN_INPUTS]))
    try:
        doc = json.loads(_read(files[GOLDEN_OUTPUTS]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _refuse(f"{GOLDEN_OUTPUTS} is not JSON: {exc}") from exc
    expected_outputs(doc, n, [str(o.get("name")) for o in output_schema])
    return n
