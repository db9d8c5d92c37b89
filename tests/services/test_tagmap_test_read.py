"""DataInService.read_tags_once: the editor's test read is the engineer's, reads the device
without recording or auditing anything, and refuses an invalid tag map naming its rows."""

from __future__ import annotations

import pytest

from app.core.clock import FakeClock
from app.core.errors import PermissionDenied
from app.data.errors import TagMapError
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
from app.services.audit import AuditFilter


def test_an_engineer_reads_every_tag_once_and_nothing_is_recorded(services, people):
    before = len(services.audit.show(people["auditor"], AuditFilter()))
    with ModbusSimulator(clock=FakeClock(frozen=True).monotonic) as sim:
        text = simulator_tagmap(port=sim.start_tcp())
        result = services.data_in.read_tags_once(people["engineer"], text=text,
                                                 source="line3.toml")
    assert result.ok and result.reading("temperature").text == "60 degC"
    assert services.datasets.list(people["engineer"]) == []
    after = services.audit.show(people["auditor"], AuditFilter())
    assert len(after) == before, "a read: nothing audited"


def test_other_roles_are_refused_and_the_refusal_is_audited(services, people):
    text = simulator_tagmap(port=1)  # never reached
    with pytest.raises(PermissionDenied):
        services.data_in.read_tags_once(people["operator"], text=text, source="line3.toml")
    [event] = services.audit.show(people["auditor"], AuditFilter(action="data.acquire"))
    assert (event.user, event.result, event.object) == ("operator1", "refused", "line3.toml")


def test_an_invalid_tag_map_is_refused_before_connecting(services, people):
    text = simulator_tagmap(port=1).replace("scale = 0.1", "scale = 0")
    with pytest.raises(TagMapError) as info:
        services.data_in.read_tags_once(people["engineer"], text=text, source="line3.toml")
    [problem] = info.value.problems
    assert (problem.section, problem.index, problem.key) == ("tag", 0, "scale")
    assert str(info.value) == ("line3.toml: 1 problem(s):\n  - tag 'temperature': scale must "
                               "not be 0")
