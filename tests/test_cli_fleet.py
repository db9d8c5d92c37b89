"""``plantml fleet ...`` run as real processes against reference controllers on 127.0.0.1:
the inventory, a roll-out to a group, its status, and readable refusals."""

from __future__ import annotations

from contextlib import ExitStack

from app.services.controller_runtime import start_controller
from tests.conftest import password_of
from tests.services.test_controllers import _trained
from tests.test_cli import plantml


def test_fleet_inventory_and_rollout_from_the_command_line(services, people, home, tmp_path):
    [v1] = _trained(services, people, tmp_path)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)

    def as_(name, *args):
        return plantml(*args, home=home, user=name, password=password_of(name))

    with ExitStack() as stack:
        edges = [stack.enter_context(start_controller(
            state_dir=tmp_path / f"edge{i}", hardware_id="EDGE-01", trust=trust,
            tcp="127.0.0.1:0", commit_deadline_s=30)) for i in range(2)]
        for i, edge in enumerate(edges):
            r = as_("operator1", "fleet", "add", f"fan-{i}", edge.target, "--hardware-id",
                    "EDGE-01", "--group", "fans", "--location", "roof")
            assert r.returncode == 0 and f"added fan-{i}" in r.stdout, r.stderr
        r = as_("engineer1", "fleet", "add", "fan-9", "tcp:10.0.0.9:502", "--hardware-id", "X")
        assert r.returncode == 4 and "Traceback" not in r.stderr
        r = as_("operator1", "fleet", "rollout", "start", v1, "--group", "fans", "--observe",
                "0", "--batch", "1")
        assert r.returncode == 0, r.stderr
        assert "roll-out 1 started" in r.stdout and "resume 1" in r.stdout
        assert "roll-out 1 of pump-7:v1 to group fans: done, 2 of 2" in r.stdout
        r = as_("auditor1", "fleet", "list")
        assert r.returncode == 0 and r.stdout.count("pump-7 v1") == 2, r.stdout
        r = as_("auditor1", "fleet", "show", "fan-1")
        assert r.returncode == 0 and "current model: pump-7 v1" in r.stdout
        assert "deploy ok: pump-7:v1" in r.stdout
        r = as_("auditor1", "fleet", "rollout", "status", "1")
        assert r.returncode == 0 and "canary" in r.stdout and "batch 1" in r.stdout
        r = as_("operator1", "fleet", "rollout", "resume", "1")
        assert r.returncode == 2 and "nothing to resume" in r.stderr
        r = as_("operator1", "fleet", "rollout", "status", "7")
        assert r.returncode != 0 and "there is no roll-out 7" in r.stderr
        assert "Traceback" not in r.stderr
        r = as_("operator1", "fleet", "remove", "fan-0", "--reason", "replaced")
        assert r.returncode == 0
        r = as_("operator1", "fleet", "list", "--group", "fans")
        assert "fan-0" not in r.stdout and "fan-1" in r.stdout
