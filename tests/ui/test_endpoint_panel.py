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
