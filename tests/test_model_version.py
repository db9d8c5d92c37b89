"""The typed model version reads and writes the stored record byte for byte (signatures bind it)."""

from __future__ import annotations

import json

import pytest

from app.core.model_version import ImportOrigin, ModelVersion, ParityResult
from app.registry.refs import record_hash

TRAINED = {
    "line": "pump-7", "version": 3, "kind": "classifier", "dataset_id": "d" * 64,
    "feature_spec": {"window": 2048, "hop": 1024, "sample_rate": 12000.0, "channels": ["de"]},
    "recipe": {"model": "rf", "seed": 1},
    "metrics": {"accuracy": 0.9953125, "balanced_accuracy": 0.99},
    "lineage": {"dataset_hash": "d" * 64, "libraries": {"numpy": "2.3.0"}, "model_hash": "m" * 64},
    "artifacts": {"model.onnx": "a" * 64, "model_card.md": "b" * 64},
    "parity": {"passed": False, "blocked_reason": "label agreement 0.98 < 0.999"},
}
IMPORTED = dict(TRAINED, parity={"passed": True, "blocked_reason": ""},
                imported={"package_id": "p" * 32, "source": "E:/pump-7-v3-r2.plantml",
                          "package_sha256": "c" * 64})
#: Computed by the registry code before the record had a type: a change here would orphan
#: every signature in existing workspaces and packages.
HASHES = {"trained": "376c1f709f52eed6192ba606bb13fc810e3e55406df5e1ffa2dec1b73191908a",
          "imported": "07f6e32a5b37b02781d876f4e1f9231bc0a15fe2bcd9c9a0093080f7742b6860"}


def _stored(record: dict) -> str:
    return json.dumps(record, sort_keys=True)  # how app/registry writes model_versions.record


@pytest.mark.parametrize(("name", "record"), [("trained", TRAINED), ("imported", IMPORTED)])
def test_record_round_trips_byte_identical_with_the_same_hash(name, record):
    text = _stored(record)
    version = ModelVersion.from_record(json.loads(text), state="validated")
    assert _stored(version.to_record()) == text
    assert record_hash(version.to_record()) == record_hash(record) == HASHES[name]


def test_typed_fields_say_what_the_record_holds():
    v = ModelVersion.from_record(IMPORTED, state="approved")
    assert (v.ref, v.kind, v.dataset_id) == ("pump-7:v3", "classifier", "d" * 64)
    assert v.parity == ParityResult(passed=True, blocked_reason="")
    assert v.imported == ImportOrigin(package_id="p" * 32, source="E:/pump-7-v3-r2.plantml",
                                      package_sha256="c" * 64)
    assert v.artifacts["model.onnx"] == "a" * 64 and v.metrics["accuracy"] == 0.9953125
    assert v.library_versions == {"numpy": "2.3.0"}
    assert ModelVersion.from_record(TRAINED).imported is None


def test_keys_this_code_does_not_know_are_kept_not_dropped():
    odd = dict(TRAINED, library_versions={"onnx": "1.23"}, imported=None,
               parity=dict(TRAINED["parity"], report_sha256="e" * 64))
    v = ModelVersion.from_record(json.loads(_stored(odd)))
    assert _stored(v.to_record()) == _stored(odd)
    assert record_hash(v.to_record()) == record_hash(odd)
    assert v.library_versions == {"numpy": "2.3.0"}  # lineage first, as before


def test_older_records_keep_library_versions_in_the_lineage():
    old = dict(TRAINED, lineage={"dataset_hash": "d" * 64, "numpy": "1.26", "onnx": "1.15"})
    assert ModelVersion.from_record(old).library_versions == {"numpy": "1.26", "onnx": "1.15"}


def test_the_version_is_frozen_and_to_record_is_a_copy():
    v = ModelVersion.from_record(TRAINED)
    with pytest.raises(AttributeError):
        v.state = "approved"  # type: ignore[misc]
    record = v.to_record()
    record["metrics"]["accuracy"] = 0.0
    record["artifacts"].clear()
    assert v.metrics["accuracy"] == 0.9953125 and v.artifacts


def test_a_record_without_a_required_entry_is_refused():
    broken = {k: v for k, v in TRAINED.items() if k != "artifacts"}
    with pytest.raises(KeyError, match="artifacts"):
        ModelVersion.from_record(broken)
