"""The endpoint field shows a whole plant address, at the window's smallest size too."""

from __future__ import annotations

from app.ui.widgets.endpoint_panel import EndpointPanel

LONGEST_TCP = "tcp:192.168.100.200:50200"


def test_a_long_tcp_endpoint_is_not_cut_off(qtbot, runner):
    panel = EndpointPanel(runner, list_ports=lambda: [])
    qtbot.addWidget(panel)
    panel.resize(panel.minimumSizeHint())
    panel.show()
    panel.tcp_edit.setText(LONGEST_TCP)
    edit = panel.tcp_edit
    needed = edit.fontMetrics().horizontalAdvance(LONGEST_TCP)
    assert edit.width() >= edit.minimumWidth() > needed
    # What the field shows of the text is all of it: nothing scrolled off either side.
    assert edit.cursorRect().right() < edit.width()


def test_units_are_listed_in_one_spelling_and_bad_ones_said(qtbot, runner):
    panel = EndpointPanel(runner, list_ports=lambda: [])
    qtbot.addWidget(panel)
    said = []
    panel.sig_message.connect(lambda text, _style: said.append(text))
    assert panel.add_endpoint("rtu:/dev/ttyUSB0:19200#unit=03")
    assert panel.add_endpoint("10.0.0.9:502#unit=1")
    assert panel.endpoints() == ["rtu:/dev/ttyUSB0:19200#unit=3", "tcp:10.0.0.9:502"]
    assert not panel.add_endpoint("rtu:/dev/ttyUSB0:19200#unit=3")
    assert said[-1] == "rtu:/dev/ttyUSB0:19200#unit=3 is already listed"
    assert not panel.add_endpoint("rtu:/dev/ttyUSB0:19200#unit=300")
    assert "unit id 300 is not 1 to 247" in said[-1] and "Traceback" not in said[-1]
    assert len(panel.endpoints()) == 2
