"""The target syntax: ``#unit=N`` after a TCP or RTU target, read back as written, one spelling
per device, and every malformed or out-of-range unit id refused in one sentence naming the
target."""

from __future__ import annotations

import pytest

from app.core.errors import UsageError
from app.fieldbus import Endpoint
from app.fieldbus.endpoint import SYNTAX


@pytest.mark.parametrize(("text", "expected"), [
    ("tcp:127.0.0.1:5020", Endpoint.tcp("127.0.0.1", 5020)),
    ("tcp:10.0.0.5:502#unit=17", Endpoint.tcp("10.0.0.5", 502, 17)),
    ("rtu:/dev/ttyUSB0:115200", Endpoint.rtu("/dev/ttyUSB0", 115200)),
    ("rtu:/dev/ttyUSB0:115200#unit=3", Endpoint.rtu("/dev/ttyUSB0", 115200, 3)),
    ("rtu:COM3:19200#unit=247", Endpoint.rtu("COM3", 19200, 247)),
    (r"rtu:\\.\COM12:9600#unit=1", Endpoint.rtu(r"\\.\COM12", 9600, 1)),
])
def test_targets_round_trip(text, expected):
    ep = Endpoint.parse(text)
    assert ep == expected
    assert Endpoint.parse(ep.target) == ep
    # The default unit is never written: every target from before unit ids keeps its text.
    assert ep.target == (text.removesuffix("#unit=1") if ep.unit == 1 else text)


def test_one_spelling_per_device_and_the_bus_it_shares():
    assert Endpoint.parse("rtu:COM3:19200#unit=003").target == "rtu:COM3:19200#unit=3"
    assert Endpoint.parse("tcp:h:0502#unit=01").target == "tcp:h:502"
    # The keyword is the unit of a target that names none; a written unit wins.
    assert Endpoint.parse("rtu:COM3:19200", unit=7).unit == 7
    assert Endpoint.parse("rtu:COM3:19200#unit=4", unit=7).unit == 4
    units = [Endpoint.parse(f"rtu:/dev/ttyS0:19200#unit={u}") for u in (1, 2, 3)]
    assert {u.bus for u in units} == {"rtu:/dev/ttyS0"} and len({u.target for u in units}) == 3
    assert Endpoint.parse("rtu:/dev/ttyS0:9600").bus == "rtu:/dev/ttyS0", "whatever the baud"
    assert Endpoint.parse("rtu:/dev/ttyS1:19200").bus != units[0].bus
    gateway = [Endpoint.parse(f"tcp:10.0.0.9:502#unit={u}") for u in (1, 5)]
    assert {g.bus for g in gateway} == {"tcp:10.0.0.9:502"}
    assert Endpoint.parse("tcp:10.0.0.9:503").bus != gateway[0].bus
    assert str(Endpoint.parse("rtu:COM3:19200#unit=3")) == "rtu:COM3@19200 8N1 unit 3"


@pytest.mark.parametrize(("text", "message"), [
    ("rtu:COM3:19200#unit=0", "'rtu:COM3:19200#unit=0': unit id 0 is not 1 to 247 (0 is the "
                              "broadcast address, 248 to 255 are reserved)"),
    ("tcp:h:502#unit=248", "'tcp:h:502#unit=248': unit id 248 is not 1 to 247"),
    ("rtu:COM3:19200#unit=65536", "'rtu:COM3:19200#unit=65536': unit id 65536 is not 1 to 247"),
    ("rtu:COM3:19200#unit=", "'rtu:COM3:19200#unit=': a unit id is written #unit=N after the "
                             "target, e.g. rtu:COM3:19200#unit=3"),
    ("rtu:COM3:19200#unit=-3", "a unit id is written #unit=N"),
    ("rtu:COM3:19200#unit=3.0", "a unit id is written #unit=N"),
    ("rtu:COM3:19200#unit=\u00b3", "a unit id is written #unit=N"),  # a digit, not ASCII
    ("rtu:COM3:19200#3", "a unit id is written #unit=N"),
    ("rtu:COM3:19200#slave=3", "a unit id is written #unit=N"),
    ("rtu:COM3:19200#unit=3#unit=4", "a unit id is written #unit=N"),
    ("rtu:COM3#unit=3", f"'rtu:COM3#unit=3' is not {SYNTAX}"),
    ("tcp:h:70000", "'tcp:h:70000': TCP port 70000 is not 1 to 65535"),
    ("rtu:COM3:0#unit=2", "'rtu:COM3:0#unit=2': a baud rate is a positive number, not 0"),
])
def test_bad_targets_are_refused_naming_the_target(text, message):
    with pytest.raises(UsageError) as info:
        Endpoint.parse(text)
    assert message in str(info.value)


def test_a_bad_default_unit_is_refused_too():
    with pytest.raises(UsageError, match=r"'rtu:COM3:19200': unit id 0 is not 1 to 247"):
        Endpoint.parse("rtu:COM3:19200", unit=0)
