"""Tag maps for the editor: documents round-trip through the parser, problems are placed on
their row and setting, and a test read reads each tag once from a real Modbus server."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from app.core.clock import FakeClock
from app.core.errors import Cancelled
from app.core.progress import CancelToken
from app.data.acquire.once import NOT_READ, read_once
from app.data.errors import TagMapError
from app.data.tagmap.document import dump_document, leading_comments, read_document
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.registers import process_values
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "tagmaps"


@pytest.mark.parametrize("name", ["pump-skid-tcp.toml", "fan-rtu.toml"])
def test_an_example_map_round_trips_through_the_parser(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    doc = read_document(text)
    again = dump_document(doc, leading_comments(text))
    assert tomllib.loads(again) == doc
    before, after = parse_tagmap(text), parse_tagmap(again)
    assert (after.name, after.connection, after.tags, after.waveforms) == \
        (before.name, before.connection, before.tags, before.waveforms)
    assert again.startswith("# Example tag map"), "the file's leading comment is kept"


def test_strings_floats_and_odd_keys_are_written_as_toml_reads_them():
    doc = {"name": 'line "3"\\ \u00e9\t\x7f', "poll_rate_hz": 0.1, "max_gap": 0,
           "connection": {"host": "h", "timeout_s": 1e-05},
           "tag": [{"name": "a", "table": "holding", "address": 0, "scale": 1e16,
                    "offset": -0.0, "unit": "m\u00b3/h", "odd key": True}]}
    assert tomllib.loads(dump_document(doc)) == doc


def test_problems_name_their_row_and_setting():
    text = simulator_tagmap(port=1502).replace("scale = 0.001", "scale = 0").replace(
        'name = "speed"', 'name = "t"')
    with pytest.raises(TagMapError) as info:
        parse_tagmap(text)
    placed = {(p.section, p.index, p.key) for p in info.value.problems}
    assert placed == {("tag", 6, "scale"), ("tag", 1, "name")}
    assert [p.message for p in info.value.problems if p.key == "scale"] == \
        ["tag 'vibration_rms': scale must not be 0"]
    overlap = simulator_tagmap(port=1502).replace("address = 4\n", "address = 3\n")
    with pytest.raises(TagMapError) as info:
        parse_tagmap(overlap)
    [problem] = info.value.problems
    assert (problem.section, problem.index, problem.key) == ("tag", 2, "address")
    assert problem.message == "tag 'pressure' (holding 2-3) overlaps tag 'flow' (holding 3-4)"


def test_a_syntax_error_names_its_line():
    with pytest.raises(TagMapError) as info:
        read_document('name = "x"\n\n[connection]\nhost = \n', "plant.toml")
    [problem] = info.value.problems
    assert (problem.section, problem.line) == ("toml", 4)
    assert str(info.value).startswith("plant.toml: not valid TOML (")


def _frozen_sim(**kw) -> ModbusSimulator:
    # A frozen clock: the device's values are those of t = 0, exactly known.
    return ModbusSimulator(waveform=np.linspace(0.5, 1.5, 4096), buffer_len=256,
                           clock=FakeClock(frozen=True).monotonic, **kw)


def test_a_test_read_shows_each_tag_scaled_in_its_unit():
    with _frozen_sim() as sim:
        tm = parse_tagmap(simulator_tagmap(port=sim.start_tcp(), waveform_len=256))
        result = read_once(tm)
        # Merged like the acquisition: the holding tags in one request, coil, discrete,
        # and two for the waveform's counter and first sample.
        assert sim.requests == 5
    assert result.ok and result.error == "" and result.device.endswith("unit 1")
    expected = process_values(0.0)
    for name, value in expected.items():
        assert result.reading(name).value == pytest.approx(value, rel=1e-6), name
    assert result.reading("temperature").text == "60 degC"
    assert result.reading("vibration_rms").text == "0.25 g"
    assert result.reading("running").value == 1.0 and result.reading("door_closed").text == "1"
    wave = result.reading("vibration")
    assert wave.kind == "waveform" and wave.value == pytest.approx(0.5)
    assert wave.detail == "first sample; sequence 0" and wave.text == "0.5 g"


def test_a_refused_register_is_the_error_of_its_own_row_only():
    with _frozen_sim() as sim:
        sim.faults.exceptions[("holding", 12)] = 2  # vibration_rms: no such register
        result = read_once(parse_tagmap(simulator_tagmap(port=sim.start_tcp())))
    assert result.error == "" and not result.ok
    bad = result.reading("vibration_rms")
    assert bad.value is None and bad.text == (
        "holding register 12: the device answered 02 illegal data address: the device has "
        "no such register or range, or it cannot be written there")
    # The merged read was repeated per tag: the others still have their values.
    assert result.reading("temperature").text == "60 degC"
    assert result.reading("energy").value == pytest.approx(1000.0)


def test_a_closed_port_and_a_silent_unit_are_device_errors():
    with _frozen_sim() as sim:
        port = sim.start_tcp()
        silent = read_once(parse_tagmap(simulator_tagmap(port=port, unit_id=9,
                                                         timeout_s=0.2)))
    assert silent.error == (f"no answer from 127.0.0.1:{port} within 0.2 s (is the device on, "
                            "and is its unit id 9?)")
    assert {r.text for r in silent.readings} == {NOT_READ}
    closed = read_once(parse_tagmap(simulator_tagmap(port=port)))  # nothing listens now
    assert closed.error == (f"cannot connect to 127.0.0.1:{port}: nothing accepts Modbus TCP "
                            "connections there (is the device on, and are the address and "
                            "port right?)")
    assert not closed.ok and all(r.value is None for r in closed.readings)


def test_a_cancelled_test_read_raises_cancelled():
    token = CancelToken()
    token.cancel()
    with _frozen_sim() as sim:
        tm = parse_tagmap(simulator_tagmap(port=sim.start_tcp()))
        with pytest.raises(Cancelled):
            read_once(tm, cancel=token)
        assert sim.requests == 0
