"""A TCP relay between a workstation and the PostgreSQL server, whose cable can be pulled:
``cut()`` drops every connection and refuses new ones until ``resume()``."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading


class Relay:
    """Forwards 127.0.0.1:``port`` to ``upstream``; one thread, stopped by :meth:`close`."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port = int(self._listener.getsockname()[1])
        self._peers: dict[socket.socket, socket.socket] = {}
        self._wanted = "open"
        self._asked = 0  # requests made, and the number the loop has carried out
        self._done = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="pg-relay", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        """Drop every connection now and refuse new ones (returns once done)."""
        self._set("cut")

    def resume(self) -> None:
        """Forward again."""
        self._set("open")

    def close(self) -> None:
        """Stop the relay thread and close everything."""
        self._set("closed")
        self._thread.join(10)

    def _set(self, state: str) -> None:
        with self._cond:
            self._wanted = state
            self._asked += 1
            ticket = self._asked
            self._cond.wait_for(lambda: self._done >= ticket, timeout=10)

    def _drop_all(self, sel: selectors.BaseSelector) -> None:
        for sock in list(self._peers):
            self._drop(sel, sock)

    def _drop(self, sel: selectors.BaseSelector, sock: socket.socket) -> None:
        peer = self._peers.pop(sock, None)
        for s in (sock, peer):
            if s is None:
                continue
            self._peers.pop(s, None)
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(s)
            s.close()

    def _loop(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ)
        state = "open"
        try:
            while True:
                with self._cond:
                    wanted, ticket = self._wanted, self._asked
                if wanted != state:
                    state = wanted
                    if state != "open":
                        self._drop_all(sel)
                with self._cond:
                    self._done = max(self._done, ticket)
                    self._cond.notify_all()
                if state == "closed":
                    return
                for key, _ in sel.select(timeout=0.05):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    if sock is self._listener:
                        self._accept(sel, state)
                        continue
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    peer = self._peers.get(sock)
                    if not data or peer is None:
                        self._drop(sel, sock)
                        continue
                    try:
                        peer.sendall(data)
                    except OSError:
                        self._drop(sel, sock)
        finally:
            self._drop_all(sel)
            sel.close()
            self._listener.close()

    def _accept(self, sel: selectors.BaseSelector, state: str) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if state != "open":
            client.close()  # the cable is out: the server "closed the connection"
            return
        server = socket.create_connection(self.upstream, timeout=10)
        for s in (client, server):
            s.setblocking(True)
        self._peers[client], self._peers[server] = server, client
        sel.register(client, selectors.EVENT_READ)
        sel.register(server, selectors.EVENT_READ)
