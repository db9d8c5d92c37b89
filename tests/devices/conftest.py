"""Fixtures: a signing kit, controllers served on 127.0.0.1, the tests' retry policies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.server import ControllerServer, serve_tcp
from app.devices.flash import Endpoint, RetryPolicy
from tests.devices.kit import make_runtime, trust_operator
from tests.packages.kit import Kit

#: For every test that is not about a timeout. A controller on 127.0.0.1 answers in
#: milliseconds, but a loaded machine can hold a process for a second or more (a child
#: importing onnx for its first verification, two CPU-bound neighbours), and a test must
#: not fail on that: a request waits long before it counts as unanswered. No test waits for
#: this timeout to pass; faults that end a link (resets, refused connections) are immediate.
PATIENT = RetryPolicy(timeout_s=10.0, timeout_retries=2, busy_retries=4, backoff_s=0.01,
                      backoff_max_s=0.05)
#: For the tests about a controller that does not answer (T17): short, so the bounded
#: retries are quick. Only requests that a fault holds (``faults.hang``, armed
#: deterministically) may run into it; everything before the fault uses PATIENT.
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
    return trust_operator(Kit(root=tmp_path))


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
