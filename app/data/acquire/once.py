"""Read every tag of a tag map once ("test read"): the reads the acquisition would make, each
value scaled to its unit, and each failure said in words for its row or for the device."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from app.core.errors import Cancelled
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.data.acquire.tags import TagPoller
from app.data.tagmap.model import Connection, Tag, TagMap, Waveform
from app.fieldbus.codec import TYPES, decode
from app.fieldbus.errors import DeviceError, ExceptionResponse, LinkLost, LinkTimeout
from app.fieldbus.exceptions import exception_text
from app.fieldbus.link import ModbusLink, span_text

#: The row of a tag the read never reached (the device failed before it).
NOT_READ = "not read"


@dataclass(frozen=True)
class TagReading:
    """One row: the value in its unit, or why there is none. A waveform shows its first
    sample, ``detail`` its sequence counter."""

    name: str
    kind: str  # "tag" or "waveform"
    unit: str
    value: float | None = None
    error: str = ""
    detail: str = ""

    @property
    def text(self) -> str:
        """The value with its unit ('21.5 degC'), or the error."""
        if self.value is None:
            return self.error or NOT_READ
        return f"{self.value:.6g} {self.unit}".rstrip()


@dataclass(frozen=True)
class TestRead:
    """What one test read found: a reading per tag and waveform in tag-map order, and a
    device-level failure (no connection, no answer) that stopped it, if any."""

    __test__ = False  # not a pytest test class, despite its name

    device: str
    readings: tuple[TagReading, ...]
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True if every row has a value."""
        return not self.error and all(r.value is not None for r in self.readings)

    def reading(self, name: str) -> TagReading:
        """The row of ``name`` (KeyError if none)."""
        for r in self.readings:
            if r.name == name:
                return r
        raise KeyError(name)


def _where(conn: Connection) -> str:
    return conn.serial_port or f"{conn.host or '127.0.0.1'}:{conn.port}"


def device_sentence(exc: DeviceError, conn: Connection, connecting: bool) -> str:
    """A link failure as one sentence about the device (no request dump)."""
    if isinstance(exc, LinkTimeout) and conn.serial_port:
        return (f"no answer from {_where(conn)} within {conn.timeout_s:g} s (is the device "
                f"on, and are its unit id {conn.unit_id}, baud rate {conn.baudrate} and "
                f"parity {conn.parity} right?)")
    if isinstance(exc, LinkTimeout):
        return (f"no answer from {_where(conn)} within {conn.timeout_s:g} s (is the device "
                f"on, and is its unit id {conn.unit_id}?)")
    if connecting and conn.serial_port:
        return (f"cannot open the serial port {conn.serial_port}: is it there, and not in "
                "use by another program?")
    if connecting:
        return (f"cannot connect to {_where(conn)}: nothing accepts Modbus TCP connections "
                "there (is the device on, and are the address and port right?)")
    return f"the connection to {_where(conn)} was lost during the read"


def refusal_sentence(exc: ExceptionResponse, table: str, address: int, count: int) -> str:
    """An exception response for one read, e.g. 'holding register 70: the device answered
    02 illegal data address: ...'."""
    code = exc.exception_code if exc.exception_code is not None else 0
    return f"{span_text(table, address, count)}: the device answered {exception_text(code)}"


class _Reader:
    """One test read in progress: the link, the rows so far, the first device failure."""

    def __init__(self, tagmap: TagMap, link: ModbusLink, cancel: CancelToken) -> None:
        self.tagmap, self.link, self.cancel = tagmap, link, cancel
        self.rows: dict[str, TagReading] = {}
        self.error = ""

    def read(self, table: str, address: int, count: int) -> list[int]:
        self.cancel.raise_if_cancelled()
        return self.link.read(table, address, count, what="test read")

    def tags(self) -> None:
        by_name = {t.name: t for t in self.tagmap.tags}
        poller = TagPoller(self.tagmap)
        for dec in poller.decoders:
            r = dec.read
            names = poller.tags_of(r)
            try:
                regs = self.read(r.table, r.address, r.count)
            except ExceptionResponse as exc:
                if len(names) == 1:
                    self._failed(by_name[names[0]], refusal_sentence(exc, r.table, r.address,
                                                                     r.count))
                else:  # one merged read refused: which of its tags does the device refuse?
                    for name in names:
                        self._alone(by_name[name])
                continue
            row = [math.nan] * len(poller.tags)
            dec.values(regs, row)
            for slot in dec.slots:
                self._value(poller.tags[slot], row[slot])

    def _alone(self, tag: Tag) -> None:
        single = TagPoller(replace(self.tagmap, tags=(tag,), waveforms=(), max_gap=0))
        [r] = single.reads
        try:
            regs = self.read(r.table, r.address, r.count)
        except ExceptionResponse as exc:
            self._failed(tag, refusal_sentence(exc, r.table, r.address, r.count))
            return
        row = [math.nan]
        single.decoders[0].values(regs, row)
        self._value(tag, row[0])

    def waveform(self, wf: Waveform) -> None:
        words = TYPES[wf.type][0]
        step = "sequence register"
        try:
            seq = self.read(wf.sequence_table, wf.sequence_address, 1)[0]
            step = "buffer"
            regs = self.read(wf.table, wf.address, words)
        except ExceptionResponse as exc:
            table, address, count = ((wf.sequence_table, wf.sequence_address, 1)
                                     if step == "sequence register"
                                     else (wf.table, wf.address, words))
            self.rows[wf.name] = TagReading(
                wf.name, "waveform", wf.unit,
                error=f"{step}: {refusal_sentence(exc, table, address, count)}")
            return
        raw = float(decode(np.asarray(regs), wf.type, word_order=wf.word_order,
                           byte_order=wf.byte_order)[0])
        self.rows[wf.name] = TagReading(wf.name, "waveform", wf.unit,
                                        value=raw * wf.scale + wf.offset,
                                        detail=f"first sample; sequence {seq}")

    def _value(self, tag: Tag, value: float) -> None:
        self.rows[tag.name] = TagReading(tag.name, "tag", tag.unit, value=value)

    def _failed(self, tag: Tag, error: str) -> None:
        self.rows[tag.name] = TagReading(tag.name, "tag", tag.unit, error=error)


def read_once(tagmap: TagMap, *, link: ModbusLink | None = None,
              progress: ProgressFn = no_progress,
              cancel: CancelToken = NEVER_CANCELLED) -> TestRead:
    """Connect to the tag map's device and read every tag (and each waveform's counter and
    first sample) once, with the requests the acquisition makes and its timeout.

    A refused read is the error of its rows (a merged read that is refused is repeated per
    tag, so the row at fault is named); no answer or no connection stops the read and is the
    device's error, the rows not reached say so. Raises Cancelled when ``cancel`` is set
    (checked before every request)."""
    conn = tagmap.connection
    link = link or ModbusLink(conn.endpoint(), conn.retry_policy())
    reader = _Reader(tagmap, link, cancel)
    t0 = time.monotonic()
    connecting = True
    try:
        progress(0.0, f"connecting to {_where(conn)}")
        cancel.raise_if_cancelled()
        link.connect()
        connecting = False
        progress(0.2, "reading the tags")
        if tagmap.tags:
            reader.tags()
        for i, wf in enumerate(tagmap.waveforms):
            progress(0.6 + 0.4 * i / len(tagmap.waveforms), f"reading waveform {wf.name}")
            reader.waveform(wf)
    except (LinkTimeout, LinkLost) as exc:
        if cancel.cancelled:  # asked to stop while a request waited: that is the outcome
            raise Cancelled("test read cancelled") from None
        reader.error = device_sentence(exc, conn, connecting)
    finally:
        link.close()
    items = [(t.name, "tag", t.unit) for t in tagmap.tags]
    items += [(w.name, "waveform", w.unit) for w in tagmap.waveforms]
    rows = [reader.rows.get(name) or TagReading(name, kind, unit, error=NOT_READ)
            for name, kind, unit in items]
    progress(1.0, "read")
    return TestRead(conn.describe(), tuple(rows), reader.error, time.monotonic() - t0)
