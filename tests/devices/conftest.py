"""Fixtures: a signing kit, controllers served on 127.0.0.1, quick retry policies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.server import ControllerServer, serve_tcp
from app.devices.flash import Endpoint, RetryPolicy
from tests.devices.kit import make_runtime
from tests.packages.kit import Kit

#: Short timeouts keep fault tests quick; the rules are the same as the defaults.
FAST = RetryPolicy(timeout_s=0.3, timeout_retries=2, busy_retries=4, backoff_s=0.01,
                   backoff_max_s=0.05)


@dataclass
class Controller:
    runtime: ControllerRuntime
    server: ControllerServer
    endpoint: Endpoint

    @property
    def faults(self):
        return self.server.faults


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(root=tmp_path)


@pytest.fixture
def controller_factory(kit: Kit, tmp_path: Path) -> Iterator[Callable[..., Controller]]:
    started: list[Controller] = []

    def make(name: str = "ctrl", **kw) -> Controller:
        runtime = make_runtime(kit, tmp_path / name, **kw)
        server = serve_tcp(runtime, "127.0.0.1", 0)
        ctl = Controller(runtime, server, Endpoint.tcp("127.0.0.1", server.port or 0))
        started.append(ctl)
        return ctl

    yield make
    for ctl in started:
        ctl.server.stop()
        ctl.runtime.stop()


@pytest.fixture
def controller(controller_factory: Callable[..., Controller]) -> Controller:
    return controller_factory()
