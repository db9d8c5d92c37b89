"""``plantml controllers flash / rollback / watch / scan`` as real processes against the
reference controller (protocol 2): the CLI's commands carry the workstation's proof, so they
work end to end, while the same controller refuses an unsigned rollback."""

from __future__ import annotations

import re

from pymodbus.client import ModbusTcpClient

from app.data.synthetic import vibration
from app.services.audit import AuditFilter
from app.services.controller_runtime import start_controller
from tests.conftest import password_of
from tests.services.test_controllers import _trained
from tests.test_cli import plantml


def test_cli_flashes_watches_and_rolls_back(services, people, home, tmp_path):
    v1, v2 = _trained(services, people, tmp_path, versions=2)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    who = {"home": home, "user": "operator1", "password": password_of("operator1")}
    with start_controller(state_dir=tmp_path / "edge", hardware_id="EDGE-01", trust=trust,
                          tcp="127.0.0.1:0", replay=vibration("healthy", 60_000)[None, :],
                          commit_deadline_s=30) as edge:
        for ref in (v1, v2):
            r = plantml("controllers", "flash", ref, edge.target, **who)
            assert r.returncode == 0, r.stderr
            assert r.stdout.startswith("committed:") and "Traceback" not in r.stderr
        # A PLC's one-register rollback is refused ...
        plc = ModbusTcpClient("127.0.0.1", port=int(edge.target.rpartition(":")[2]),
                              timeout=10, retries=0)
        assert plc.connect()
        try:
            assert plc.write_register(0, 6, device_id=1).isError()
        finally:
            plc.close()
        # ... the operator's, through the CLI, is obeyed; scan audits the refused one.
        r = plantml("controllers", "rollback", edge.target, "--reason", "v2 noisy", **who)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("rolled back:") and "v1" in r.stdout
        r = plantml("controllers", "watch", edge.target, "--count", "1", **who)
        assert r.returncode == 0 and v1 in r.stdout, r.stderr
        assert re.search(r"(predicted \S+|invalid input: .+), latency \d+ us, drift "
                         r"(ok|WARN|ALARM|n/a \(not enough windows of the class yet\))",
                         r.stdout), r.stdout
        r = plantml("controllers", "scan", edge.target, **who)
        assert r.returncode == 0 and "protocol 3" in r.stdout, r.stderr
        # Capture (12.1) and feedback (12.2) from the command line.
        r = plantml("controllers", "capture", edge.target, "--windows", "3", **who)
        assert r.returncode == 0 and r.stdout.startswith("dataset "), r.stderr
        dataset = r.stdout.split()[1]
        r = plantml("feedback", dataset, "list", **who)
        assert r.returncode == 0 and r.stdout.count("no feedback") == 3, r.stderr
        first = int(r.stdout.split()[1].rstrip(":"))
        r = plantml("feedback", dataset, str(first), "relabel", "healthy", "--note",
                    "checked on site", **who)
        assert r.returncode == 0 and "relabel, labelled 'healthy'" in r.stdout, r.stderr
        r = plantml("feedback", dataset, str(first + 1), "reject", **who)
        assert r.returncode == 2 and "say why you reject it" in r.stderr
    refused = services.audit.show(people["auditor"],
                                  AuditFilter(action="controller.refused_commands"))
    assert [e.new["last"]["code"] for e in refused] == ["proof_missing"]
    rollbacks = services.audit.show(people["auditor"],
                                    AuditFilter(action="controller.rollback"))
    assert [e.result for e in rollbacks] == ["ok"]


def test_cli_runs_a_version_in_shadow_then_commits_it_or_drops_it(services, people, home,
                                                                  tmp_path):
    v1, v2 = _trained(services, people, tmp_path, versions=2)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    who = {"home": home, "user": "operator1", "password": password_of("operator1")}
    shadow = ("controllers", "shadow", v2)
    period = ("--seconds", "1", "--min-windows", "5")
    with start_controller(state_dir=tmp_path / "edge", hardware_id="EDGE-01", trust=trust,
                          tcp="127.0.0.1:0", replay=vibration("healthy", 60_000)[None, :],
                          commit_deadline_s=30) as edge:
        assert plantml("controllers", "flash", v1, edge.target, **who).returncode == 0
        r = plantml(*shadow, edge.target, *period, "--min-agreement", "1.5", **who)
        assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.strip()
        # Report only: the shadow runs its period, then the staged package is dropped.
        r = plantml(*shadow, edge.target, *period, "--min-agreement", "0", **who)
        assert r.returncode == 0, r.stderr
        assert "runs in shadow" in r.stdout and "staged package dropped" in r.stdout
        _, status = services.controllers.status(people["operator"], target=edge.target)
        assert f"{status.active.name}:v{status.active.version}" == v1
        # With --commit and a requirement met, the shadowed version takes over.
        r = plantml(*shadow, edge.target, *period, "--min-agreement", "0", "--commit", **who)
        assert r.returncode == 0 and "committed:" in r.stdout, r.stderr
        _, status = services.controllers.status(people["operator"], target=edge.target)
        assert f"{status.active.name}:v{status.active.version}" == v2
    shadows = services.audit.show(people["auditor"], AuditFilter(action="controller.shadow",
                                                                 newest_first=False))
    # Started, stopped after the report-only period (with why), started again.
    assert [(e.result, e.reason) for e in shadows] == [
        ("ok", ""), ("ok", "shadow period only (no --commit)"), ("ok", "")]
