"""A virtual multi-drop serial bus: one master port and several device ports (Linux ptys).

Like a four-wire RS-485 bus: every byte the master sends reaches every device, and every byte
a device sends reaches the master (the devices do not hear each other). Each device must stay
silent to frames for other unit ids, as on a real bus, or its answer collides with the
addressed one's. Bytes pass unpaced (a pty ignores baud rates); the line simulator
(app.devices.sim.linesim) paces one device's line.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty

#: How long a port that does not take bytes may hold up the bus before they are dropped.
STALL_S = 0.5


class MultiDropBus:
    """``master_port`` for the workstation, ``device_ports`` for ``devices`` controllers.

    Use as a context manager; :meth:`close` stops the relay thread and closes the ptys.
    """

    def __init__(self, devices: int) -> None:
        if devices < 1:
            raise ValueError("a bus needs at least one device")
        self._fds: list[int] = []
        self._master, self.master_port = self._pair()
        pairs = [self._pair() for _ in range(devices)]
        self._devices = [fd for fd, _ in pairs]
        self.device_ports = [path for _, path in pairs]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="multidrop-bus", daemon=True)
        self._thread.start()

    def _pair(self) -> tuple[int, str]:
        ours, theirs = os.openpty()
        tty.setraw(theirs)  # no echo, no line discipline: bytes pass as they are
        os.set_blocking(ours, False)  # a device that stopped reading never stalls the bus
        self._fds += [ours, theirs]  # their end stays open so the pty never hangs up
        return ours, os.ttyname(theirs)

    @staticmethod
    def _write_all(fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                # Nobody reads that port (its device stopped): what it misses is lost.
                if not select.select([], [fd], [], STALL_S)[1]:
                    return
            except OSError:
                return  # the port is gone: lost, as on a cut drop cable

    def _run(self) -> None:
        watched = [self._master, *self._devices]
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select(watched, [], [], 0.05)
            except (OSError, ValueError):
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                targets = self._devices if fd == self._master else [self._master]
                for target in targets:
                    self._write_all(target, data)

    def close(self) -> None:
        """Stop relaying and close every pty; safe to call twice."""
        self._stop.set()
        self._thread.join(5.0)
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []

    def __enter__(self) -> MultiDropBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
