"""Reading a controller's per-class running statistics (IR 7000-9999) on the workstation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.devices.flash.device import BLOCK, ControllerClient
from app.devices.flash.errors import ProtocolError
from app.devices.protocol import class_stats as cs
from app.devices.protocol.words import words_f32, words_u32
from app.fieldbus import DeviceRefused, Endpoint, ExceptionCode, RetryPolicy

TRIES = 3  # a snapshot lasts PUBLISH_EVERY windows; a read that spans two is repeated


@dataclass(frozen=True)
class ClassPage:
    """The newest windows predicted as class ``index``: count, mean and m2 per value."""

    index: int
    count: int
    mean: np.ndarray
    m2: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        if self.count < 2:
            return np.full_like(self.mean, np.nan)
        return self.m2 / (self.count - 1)


@dataclass(frozen=True)
class ClassStats:
    """One published snapshot: ``levels`` values per page are channel levels, the rest the
    model's features in order; ``held`` windows in the ring, ``invalid`` of them refused."""

    seq: int
    ring: int
    held: int
    invalid: int
    levels: int
    pages: tuple[ClassPage, ...]


def _header(client: ControllerClient) -> list[int]:
    return client.link.read_input(cs.CLASS_BASE, cs.CLASS_HEAD, "class statistics")


def read_class_stats_from(client: ControllerClient) -> ClassStats | None:
    """The snapshot; None from a controller without the block (exception 02). Before the
    first snapshot (seq 0) it has no pages."""
    try:
        head = _header(client)
    except DeviceRefused as exc:
        if exc.exception_code == ExceptionCode.ILLEGAL_DATA_ADDRESS:
            return None
        raise
    for _ in range(TRIES):
        seq, pages, n, levels = words_u32(head[0:2]), head[2], head[3], head[4]
        if seq == 0:
            return ClassStats(seq=0, ring=head[5], held=0, invalid=0, levels=0, pages=())
        if not 1 <= pages <= cs.MAX_PAGES or n > cs.capacity(pages) or levels > n:
            raise ProtocolError(f"the class statistics header at IR {cs.CLASS_BASE} is not "
                                f"valid ({pages} pages of {n} values, {levels} levels)")
        regs: list[int] = []
        first, total = cs.page_address(0, n), pages * cs.stride(n)
        for start in range(first, first + total, BLOCK):
            regs += client.link.read_input(start, min(BLOCK, first + total - start),
                                           "class statistics")
        again = _header(client)
        if again == head:
            out = []
            for k in range(pages):
                page = regs[k * cs.stride(n):(k + 1) * cs.stride(n)]
                body = page[cs.PAGE_HEAD:]
                out.append(ClassPage(k, words_u32(page[0:2]), words_f32(body[:2 * n]),
                                     words_f32(body[2 * n:4 * n])))
            return ClassStats(seq=seq, ring=head[5], held=head[6], invalid=head[7],
                              levels=levels, pages=tuple(out))
        head = again
    raise ProtocolError(f"the class statistics at IR {cs.CLASS_BASE} changed during every "
                        f"read ({TRIES} tries); the link is too slow for the controller's "
                        "window rate")


def read_class_stats(endpoint: Endpoint, policy: RetryPolicy | None = None
                     ) -> ClassStats | None:
    """:func:`read_class_stats_from` over a connection of its own."""
    with ControllerClient.open(endpoint, policy) as client:
        return read_class_stats_from(client)
