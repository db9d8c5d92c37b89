"""The Controllers page's shadow line (issue 11.4): hidden while the watched controller runs
nothing in shadow; once a staged model runs beside the active one it shows the agreement,
the windows compared and the staged model's latency, as the reference runtime reports them."""

from __future__ import annotations

from pathlib import Path

from app.devices.controller.server import serve_tcp
from app.devices.flash import Endpoint, flash_package, read_shadow, start_shadow
from app.ui.widgets.shadow_panel import ShadowPanel
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, make_runtime, package, trust_operator, wait_for
from tests.packages.kit import Kit


def test_the_shadow_line_shows_agreement_and_latency(qtbot, runner, tmp_path: Path):
    kit = trust_operator(Kit(root=tmp_path))
    rt = make_runtime(kit, tmp_path / "box")
    server = serve_tcp(rt, "127.0.0.1", 0)
    ep = Endpoint.tcp("127.0.0.1", server.port or 0)
    target = f"tcp:127.0.0.1:{server.port}"
    try:
        panel = ShadowPanel(runner, lambda _target: read_shadow(ep, PATIENT))
        qtbot.addWidget(panel)
        panel.show()
        flash_package(ep, package(kit, 1), policy=PATIENT, signer=OPERATOR)
        with qtbot.waitSignal(panel.sig_shown, timeout=30_000) as off:
            panel.refresh(target)
        assert off.args[1] is not None and not off.args[1].running
        assert not panel.isVisible()
        start_shadow(ep, package(kit, 3), policy=PATIENT, signer=OPERATOR)
        wait_for(lambda: read_shadow(ep, PATIENT), lambda s: s.compared >= 20,
                 "20 windows compared in shadow")
        with qtbot.waitSignal(panel.sig_shown, timeout=30_000) as on:
            panel.refresh(target)
        shadow = on.args[1]
        assert panel.isVisible()
        text = panel.label.text()
        assert text.startswith("shadow: v3 (slot B) agrees on "), text
        assert f"{shadow.agreement:.1%} of {shadow.compared} windows" in text
        assert f"latency {shadow.latency_us} us" in text
        panel.clear()
        assert not panel.isVisible() and panel.label.text() == ""
    finally:
        server.stop()
        rt.stop()
