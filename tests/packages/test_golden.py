"""15.9: a package whose golden outputs do not cover every golden input cannot be built, does
not verify, and the same check is there for the controller runtime to call."""

from __future__ import annotations

import json

import pytest

from app.core.errors import UsageError
from app.packages import PackageRefused, verify_package
from app.packages.build import zip_bytes
from app.packages.golden import expected_outputs
from tests.conftest import password_of
from tests.packages.kit import Kit, payload

#: golden_outputs.json contents that leave some golden input (the kit has two) untested.
PARTIAL = {
    "empty object": {},
    "empty outputs": {"outputs": {}},
    "empty list": [],
    "one value for two inputs": [[1.0, 2.0, 3.0, 4.0]],
    "another output than the model's": {"Z": [[0.0] * 4, [0.0] * 4]},
    "not a list": {"Y": 3},
}


@pytest.mark.parametrize("doc", PARTIAL.values(), ids=PARTIAL.keys())
def test_build_refuses_golden_outputs_that_miss_inputs(kit: Kit, doc):
    files = {**payload(), "golden_outputs.json": json.dumps(doc).encode()}
    with pytest.raises(UsageError, match="golden_outputs.json"):
        kit.build(files=files)
    assert not list(kit.root.rglob("*.plantml"))


@pytest.mark.parametrize("doc", PARTIAL.values(), ids=PARTIAL.keys())
def test_verify_refuses_a_signed_package_with_partial_golden_outputs(kit: Kit, doc):
    files = {**payload(), "golden_outputs.json": json.dumps(doc).encode()}
    body = kit.body(payload())  # a valid body, then swapped for the partial file
    from app.packages.manifest import hash_source
    digest, length = hash_source(files["golden_outputs.json"])
    body["files"]["golden_outputs.json"] = {"sha256": digest, "length": length}
    path = kit.root / "partial.plantml"
    path.write_bytes(zip_bytes(body, kit.sign(body), files))
    with pytest.raises(PackageRefused, match="golden_outputs.json") as err:
        verify_package(path, kit.trust, clock=kit.clock)
    assert err.value.reason_code == "golden"


@pytest.mark.parametrize("missing", ["golden_inputs.npy", "golden_outputs.json"])
def test_a_package_without_golden_data_is_refused(kit: Kit, missing):
    files = {k: v for k, v in payload().items() if k != missing}
    with pytest.raises(UsageError, match=missing):
        kit.build(files=files)


def test_golden_inputs_that_are_not_windows_are_refused(kit: Kit):
    files = {**payload(), "golden_inputs.npy": b"\x93NUMPY junk"}
    with pytest.raises(UsageError, match="golden_inputs.npy"):
        kit.build(files=files)


def test_the_runtime_check_knows_the_model_outputs():
    doc = {"outputs": {"label": [1, 2], "scores": [[0.1], [0.2]]}}
    assert set(expected_outputs(doc, 2, ["label"], known=["label", "scores"])) == \
        {"label", "scores"}
    with pytest.raises(PackageRefused, match="does not have"):
        expected_outputs(doc, 2, ["label"], known=["label"])
    with pytest.raises(PackageRefused, match="every golden input"):
        expected_outputs(doc, 3, ["label"], known=["label", "scores"])


def test_propose_refuses_a_version_with_empty_golden_outputs(services, people):
    from tests.services.release_kit import artifacts

    eng = people["engineer"]
    v = services.registry.register(
        eng, line="pump-9", kind="classifier", dataset_id="d" * 64, feature_spec={},
        recipe={}, metrics={}, lineage={},
        artifacts={**artifacts(), "golden_outputs.json": b"{}"}, parity_passed=True)
    with pytest.raises(UsageError, match="golden_outputs.json"):
        services.approvals.propose(eng, ref=v.ref, password=password_of("engineer1"),
                                   hardware_ids=["HW"], reason="ready")
    assert services.registry.show(eng, ref=v.ref).proposed_by is None
    from app.services.audit import AuditFilter

    refused = services.audit.show(people["admin"], AuditFilter(action="model.propose",
                                                              result="refused"))
    assert refused and "golden_outputs.json" in refused[0].reason
