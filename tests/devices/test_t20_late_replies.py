"""T20: a late reply arriving during the next request, or a TCP reply with the wrong
transaction or unit id, is never taken as the answer (a misbehaving raw peer on 127.0.0.1)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable

import pytest

from app.devices.flash import Endpoint, LinkTimeout, ModbusLink, RetryPolicy

GOOD = list(range(100, 110))
BAD = [0xBAD] * 10
#: A request waits 1 s for its answer: the tests that expect an answer get it in
#: milliseconds even on a loaded machine, and those that expect none wait for a peer that
#: deterministically never sends a valid one, so only the test's length depends on it.
POLICY = RetryPolicy(timeout_s=1.0, timeout_retries=1)
TRIES = 1 + POLICY.timeout_retries

#: behaviour(conn, tid, unit, request_number) sends whatever it likes.
Behaviour = Callable[[socket.socket, int, int, int], None]


def frame(tid: int, unit: int, regs: list[int]) -> bytes:
    pdu = bytes([4, 2 * len(regs)]) + b"".join(struct.pack(">H", v) for v in regs)
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


class RawPeer:
    """A TCP peer that reads Modbus requests and answers as ``behaviour`` says."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        buf = b""
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            buf += data
            while len(buf) >= 7:
                tid, _, length, unit = struct.unpack(">HHHB", buf[:7])
                if len(buf) < 6 + length:
                    break
                buf = buf[6 + length:]
                self.requests += 1
                try:
                    self.behaviour(conn, tid, unit, self.requests)
                except OSError:
                    return

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                self._serve(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def peer_factory():
    peers: list[RawPeer] = []

    def make(behaviour: Behaviour) -> ModbusLink:
        peer = RawPeer(behaviour)
        peers.append(peer)
        link = ModbusLink(Endpoint.tcp("127.0.0.1", peer.port), POLICY)
        link.peer = peer  # type: ignore[attr-defined]  # the tests count what it saw
        return link
    yield make
    for peer in peers:
        peer.close()


def read(link: ModbusLink) -> list[int]:
    try:
        return link.read_input(0, 10)
    finally:
        link.close()


def test_a_stale_reply_before_the_right_one_is_skipped(peer_factory):
    def behaviour(conn, tid, unit, n):
        # What a late answer to an earlier request looks like, then the real answer.
        conn.sendall(frame((tid + 1000) & 0xFFFF, unit, BAD) + frame(tid, unit, GOOD))
    assert read(peer_factory(behaviour)) == GOOD


def test_only_stale_replies_never_answer(peer_factory):
    def behaviour(conn, tid, unit, n):
        conn.sendall(frame((tid + 7) & 0xFFFF or 1, unit, BAD))
    link = peer_factory(behaviour)
    t0 = time.monotonic()
    with pytest.raises(LinkTimeout):
        read(link)
    # Bounded: the policy's tries, each a fresh connection, then a clear failure.
    assert link.peer.requests == TRIES and link.peer.connections == TRIES
    assert time.monotonic() - t0 < TRIES * 2 * POLICY.timeout_s + 5.0


def test_a_reply_from_another_unit_is_ignored(peer_factory):
    def behaviour(conn, tid, unit, n):
        conn.sendall(frame(tid, unit + 6, BAD))
        if n > 1:
            conn.sendall(frame(tid, unit, GOOD))
    assert read(peer_factory(behaviour)) == GOOD


def test_a_reply_with_transaction_zero_is_not_an_answer(peer_factory):
    def behaviour(conn, tid, unit, n):
        conn.sendall(frame(0, unit, BAD) if n == 1 else frame(tid, unit, GOOD))
    link = peer_factory(behaviour)
    assert read(link) == GOOD
    assert link.stats.timeouts + link.stats.garbled >= 1


def test_a_late_reply_to_a_timed_out_request_never_answers_the_next_one(peer_factory):
    def behaviour(conn, tid, unit, n):
        if n == 1:
            # Answer only once the client gave up on this request and hung up: late for
            # sure, whatever the machine's speed.
            conn.settimeout(None)
            while conn.recv(4096):
                pass
            conn.sendall(frame(tid, unit, BAD))
        else:
            conn.sendall(frame(tid, unit, GOOD))
    link = peer_factory(behaviour)
    assert read(link) == GOOD
    assert link.stats.timeouts == 1 and link.peer.connections == 2


def test_a_reply_of_the_wrong_length_is_not_an_answer(peer_factory):
    def behaviour(conn, tid, unit, n):
        conn.sendall(frame(tid, unit, BAD[:4] if n == 1 else GOOD))
    link = peer_factory(behaviour)
    assert read(link) == GOOD and link.stats.garbled == 1
