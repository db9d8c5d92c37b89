"""Model registry: versions with lineage, lifecycle enforced by the services, audited aliases."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest

from app.core.canonical import canonical_json, sha256_hex
from app.core.errors import Conflict, NotFound, PermissionDenied, UsageError
from app.services.audit import AuditFilter


def _register(services, who, *, passed=True, accuracy=0.99, line="pump-7"):
    return services.registry.register(
        who, line=line, kind="classifier", dataset_id="d" * 64,
        feature_spec={"window": 2048, "hop": 1024}, recipe={"model": "rf", "seed": 1},
        metrics={"accuracy": accuracy}, lineage={"sklearn": "1.9"},
        artifacts={"model.onnx": b"onnx-bytes-%f" % accuracy, "model_card.md": b"# card"},
        parity_passed=passed, blocked_reason="" if passed else "parity gate failed")


def test_register_versions_with_lineage_and_audit(services, people):
    eng = people["engineer"]
    v1 = _register(services, eng)
    v2 = _register(services, eng, passed=False, accuracy=0.5)
    assert (v1.ref, v1.state, v2.ref, v2.state) == ("pump-7:v1", "validated", "pump-7:v2",
                                                    "draft")
    assert v2.parity.blocked_reason == "parity gate failed"
    assert services.registry.artifact(people["auditor"], ref="pump-7:v1",
                                      name="model_card.md") == b"# card"
    [line] = services.registry.lines(people["operator"])
    assert (line.name, line.versions, line.latest_version) == ("pump-7", 2, 2)
    assert [v.version for v in services.registry.versions(eng, line="pump-7")] == [2, 1]
    events = services.audit.show(people["auditor"], AuditFilter(action="model.register"))
    assert {e.object for e in events} == {"model:pump-7:v1", "model:pump-7:v2"}
    with pytest.raises(PermissionDenied):
        _register(services, people["operator"])
    with pytest.raises(NotFound):
        services.registry.show(eng, ref="pump-7:v9")
    with pytest.raises(UsageError, match="LINE:vN"):
        services.registry.show(eng, ref="pump-7")


def test_compare_lists_what_differs(services, people):
    eng = people["engineer"]
    _register(services, eng)
    _register(services, eng, accuracy=0.95)
    diff = services.registry.compare(eng, a="pump-7:v1", b="pump-7:v2")
    assert diff["metrics.accuracy"] == (0.99, 0.95)
    assert "artifacts.model.onnx" in diff
    assert "recipe.model" not in diff


def test_production_alias_only_for_approved_and_every_move_is_kept(services, people):
    eng, opr = people["engineer"], people["operator"]
    _register(services, eng)
    with pytest.raises(UsageError, match="only an approved version"):
        services.registry.set_alias(opr, ref="pump-7:v1", alias="production", reason="go")
    with pytest.raises(PermissionDenied):
        services.registry.set_alias(eng, ref="pump-7:v1", alias="candidate", reason="try")
    before = services.ctx.clock.now().isoformat()
    time.sleep(0.01)
    assert services.registry.set_alias(opr, ref="pump-7:v1", alias="candidate",
                                       reason="trial on line 3") is None
    between = services.ctx.clock.now().isoformat()
    time.sleep(0.01)
    _register(services, eng)
    assert services.registry.set_alias(opr, ref="pump-7:v2", alias="candidate",
                                       reason="better") == 1
    assert services.registry.alias_at(opr, line="pump-7", alias="candidate", when=before) is None
    assert services.registry.alias_at(opr, line="pump-7", alias="candidate", when=between) == 1
    now = services.ctx.clock.now().isoformat()
    assert services.registry.alias_at(opr, line="pump-7", alias="candidate", when=now) == 2
    moves = services.audit.show(people["auditor"], AuditFilter(action="model.alias", result="ok"))
    assert [(e.old["version"], e.new["version"]) for e in reversed(moves)] == [(None, 1), (1, 2)]


def test_retire_is_final_and_drops_aliases(services, people):
    eng = people["engineer"]
    _register(services, eng)
    services.registry.set_alias(people["operator"], ref="pump-7:v1", alias="candidate",
                                reason="trial")
    v = services.registry.retire(eng, ref="pump-7:v1", reason="sensor replaced")
    assert v.state == "retired" and v.aliases == ()
    with pytest.raises(Conflict, match="retired"):
        services.registry.retire(eng, ref="pump-7:v1", reason="again")
    with pytest.raises(PermissionDenied):
        services.registry.retire(people["operator"], ref="pump-7:v1", reason="x")


def test_line_kind_and_name_are_checked(services, people):
    eng = people["engineer"]
    _register(services, eng)
    with pytest.raises(UsageError, match="holds classifier models"):
        services.registry.register(eng, line="pump-7", kind="regressor", dataset_id="d",
                                   feature_spec={}, recipe={}, metrics={}, lineage={},
                                   artifacts={"model.onnx": b"x"}, parity_passed=True)
    with pytest.raises(UsageError, match="lower-case"):
        _register(services, eng, line="Pump 7!")


def test_stored_record_is_the_json_older_workspaces_hold(services, people):
    """The row holds exactly what the untyped registry wrote, and the hash binds the same."""
    v = _register(services, people["engineer"], passed=False, accuracy=0.5)
    old_shape = {"line": "pump-7", "version": 1, "kind": "classifier", "dataset_id": "d" * 64,
                 "feature_spec": {"window": 2048, "hop": 1024},
                 "recipe": {"model": "rf", "seed": 1}, "metrics": {"accuracy": 0.5},
                 "lineage": {"sklearn": "1.9"}, "artifacts": dict(v.artifacts),
                 "parity": {"passed": False, "blocked_reason": "parity gate failed"}}
    with services.db.engine.connect() as conn:
        text, digest = conn.exec_driver_sql(
            "SELECT record, record_hash FROM model_versions").one()
    assert text == json.dumps(old_shape, sort_keys=True)
    assert digest == v.record_hash == sha256_hex(canonical_json(old_shape).encode("utf-8"))
    assert json.dumps(v.to_record(), sort_keys=True) == text


def test_only_the_registry_store_touches_registry_rows():
    """One writer: no module outside app/registry (and the schema) names the row classes."""
    rows = {"ModelLineRow", "ModelVersionRow", "ModelAliasRow", "AliasHistoryRow"}
    app = Path(__file__).resolve().parents[2] / "app"
    offenders = []
    for path in sorted(app.rglob("*.py")):
        part = path.relative_to(app).parts
        if part[0] == "registry" or part[:2] == ("store", "schema.py") or "versions" in part:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                  for a in n.names}
        if names & rows:
            offenders.append(str(path.relative_to(app)))
    assert not offenders, offenders
