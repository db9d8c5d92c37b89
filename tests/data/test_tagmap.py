"""Tag maps: the documented format parses; invalid maps are refused naming the tag."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.data.errors import TagMapError
from app.data.tagmap.load import load_tagmap, parse_tagmap
from app.devices.sim.tagmap import simulator_tagmap

DOC = Path(__file__).resolve().parents[2] / "docs" / "tagmap.md"
HEAD = '[connection]\nhost = "127.0.0.1"\nport = 502\n'


def tags(*blocks: str) -> str:
    return HEAD + "".join(f"[[tag]]\n{b}\n" for b in blocks)


def refused(text: str) -> str:
    with pytest.raises(TagMapError) as info:
        parse_tagmap(text, "plant.toml")
    assert str(info.value).startswith("plant.toml:")
    return str(info.value)


def test_the_documented_example_is_valid():
    text = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    tm = parse_tagmap(text)
    assert tm.name == "Pump skid P-101" and tm.poll_rate_hz == 10.0
    assert [t.name for t in tm.tags] == ["temperature", "flow", "running"]
    assert tm.tag("flow").word_order == "little" and tm.tag("temperature").scale == 0.1
    wf = tm.waveforms[0]
    assert (wf.words, wf.sequence_address, wf.sample_rate_hz) == (2048, 0, 12000.0)
    assert len(tm.sha256) == 64 and tm.connection.describe() == "127.0.0.1:502 unit 1"


def test_simulator_maps_are_valid_for_tcp_and_rtu(tmp_path):
    path = tmp_path / "sim.toml"
    path.write_text(simulator_tagmap(port=1502, waveform_len=256))
    assert len(load_tagmap(path).tags) == 9
    rtu = parse_tagmap(simulator_tagmap(serial_port="/dev/ttyUSB0"))
    assert rtu.connection.transport == "rtu"
    assert rtu.connection.describe() == "/dev/ttyUSB0 115200 8N1 unit 1"


@pytest.mark.parametrize("blocks, message", [
    (('name = "a"\ntable = "holding"\naddress = 10\ntype = "float32"',
      'name = "b"\ntable = "holding"\naddress = 11'),
     "tag 'a' (holding 10-11) overlaps tag 'b' (holding 11)"),
    (('name = "a"\ntable = "input"\naddress = 0\ntype = "float64"',
      'name = "b"\ntable = "input"\naddress = 3\ntype = "int32"'),
     "tag 'a' (input 0-3) overlaps tag 'b' (input 3-4)"),
    (('name = "a"\ntable = "holding"\naddress = 65535\ntype = "float32"',),
     "tag 'a': address 65535 (+2 registers) is outside 0 to 65535"),
    (('name = "a"\ntable = "holding"\naddress = -1',), "tag 'a': address -1"),
    (('name = "a"\ntable = "holding"\naddress = 1\ntype = "int24"',),
     "tag 'a': unknown type 'int24'"),
    (('name = "a"\ntable = "register"\naddress = 1',), "tag 'a': unknown table 'register'"),
    (('name = "a"\ntable = "coil"\naddress = 1\ntype = "float32"',),
     "tag 'a': a coil is one bit; its type must be bool"),
    (('name = "a"\ntable = "holding"\naddress = 1\ntype = "bool"',),
     "tag 'a': type bool is only for coil or discrete"),
    (('name = "a"\ntable = "holding"\naddress = 1\nscael = 2',),
     "tag 'a': unknown setting 'scael'"),
    (('name = "a"\ntable = "holding"\naddress = 1\nscale = 0',), "tag 'a': scale must not be 0"),
    (('name = "a"\ntable = "holding"\naddress = 1', 'name = "a"\ntable = "coil"\naddress = 1'),
     "the name 'a' is used twice"),
    (('name = "bad name"\ntable = "holding"\naddress = 1',), "name 'bad name' must start"),
    (('table = "holding"\naddress = 1',), "tag #1: 'name' is missing"),
    (('name = "a"\ntable = "holding"\naddress = "one"',), "'address' must be int"),
    (('name = "a"\ntable = "holding"\naddress = 1\nword_order = "middle"',),
     "unknown word_order 'middle'"),
])
def test_invalid_tags_are_named(blocks, message):
    assert message in refused(tags(*blocks))


def test_coils_and_registers_do_not_overlap_each_other():
    tm = parse_tagmap(tags('name = "a"\ntable = "holding"\naddress = 0',
                           'name = "b"\ntable = "coil"\naddress = 0'))
    assert len(tm.tags) == 2


def test_waveform_overlaps_and_sequence_register():
    wave = ('[[waveform]]\nname = "w"\ntable = "input"\naddress = 10\nlength = 4\n'
            'type = "float32"\nsample_rate_hz = 100\nsequence_register = {seq}\n')
    text = tags('name = "a"\ntable = "input"\naddress = 17') + wave.format(seq=12)
    msg = refused(text)
    assert "waveform 'w' (input 10-17) overlaps sequence register of waveform 'w' (input 12)" \
        in msg
    assert "waveform 'w' (input 10-17) overlaps tag 'a' (input 17)" in msg
    ok = parse_tagmap(HEAD + wave.format(seq=9) + wave.replace('"w"', '"v"')
                      .replace("address = 10", "address = 20").format(seq=9))
    assert [w.name for w in ok.waveforms] == ["w", "v"]  # one counter shared by two buffers


@pytest.mark.parametrize("conn, message", [
    ("", "give either host (Modbus TCP) or serial_port (RTU)"),
    ('host = "a"\nserial_port = "COM1"', "give either host"),
    ('serial_port = "COM1"\nparity = "X"', "unknown parity 'X'"),
    ('serial_port = "COM1"\nunit_id = 0', "unit_id 0 is out of range (1 to 247)"),
    ('host = "h"\nport = 70000', "port 70000 is out of range"),
    ('host = "h"\ntimeout_s = 0', "timeout_s 0 is out of range"),
])
def test_connection_problems(conn, message):
    text = f"[connection]\n{conn}\n[[tag]]\nname = \"a\"\ntable = \"coil\"\naddress = 0\n"
    assert message in refused(text)


def test_all_problems_are_listed_at_once():
    msg = refused(tags('name = "a"\ntable = "holding"\naddress = 1\ntype = "x"',
                       'name = "b"\ntable = "y"\naddress = 1'))
    assert "2 problem(s)" in msg and "tag 'a'" in msg and "tag 'b'" in msg


def test_not_toml_and_empty_maps():
    assert "not valid TOML" in refused("name = ")
    assert "nothing to read" in refused(HEAD)
    with pytest.raises(TagMapError, match="cannot be read"):
        load_tagmap(Path("/nonexistent/plant.toml"))
