"""Append-only Arrow IPC stream files: accepted rows land here before a snapshot is written."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
from pyarrow import ipc

log = logging.getLogger(__name__)


class SpoolWriter:
    """Writes record batches of one schema to ``path``; :meth:`sync` makes them durable.

    An IPC *stream* (not file) is used because it needs no footer: after a crash every batch
    that was synced can be read back, and only a torn last message is lost.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        self._fh = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        try:
            self._writer = ipc.new_stream(self._fh, schema)
        except BaseException:
            self._fh.close()
            raise

    def write(self, batch: pa.RecordBatch) -> None:
        """Append one batch (its schema must equal the spool's)."""
        if batch.num_rows:
            self._writer.write_batch(batch)
            self.rows += batch.num_rows

    def write_columns(self, columns: Mapping[str, object]) -> None:
        """Append a batch made of equal-length arrays keyed by column name."""
        self.write(pa.RecordBatch.from_pydict(columns, schema=self.schema))

    def sync(self) -> None:
        """Push written batches to the disk (flush and fsync)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self, *, sync: bool = True) -> None:
        """Write the end-of-stream marker and close; idempotent."""
        if self._fh.closed:
            return
        try:
            self._writer.close()
            if sync:
                self.sync()
        finally:
            self._fh.close()


def read_spool(path: Path, *, tolerate_torn_tail: bool = False) -> Iterator[pa.RecordBatch]:
    """Yield the batches of a spool file.

    With ``tolerate_torn_tail`` a stream cut short by a crash yields every complete batch and
    then stops (the cut is logged); otherwise a damaged stream raises ``pyarrow.ArrowInvalid``.
    """
    with pa.memory_map(str(path), "r") as source:
        try:
            reader = ipc.open_stream(source)
        except (pa.ArrowInvalid, OSError):
            if tolerate_torn_tail:
                log.warning("spool %s has no readable schema; treated as empty", path)
                return
            raise
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, OSError):
                if not tolerate_torn_tail:
                    raise
                log.warning("spool %s ends in a torn batch; kept the complete ones", path)
                return
            yield batch


def spool_schema(path: Path) -> pa.Schema | None:
    """The schema at the head of a spool file, or None if even that was not written."""
    try:
        with pa.memory_map(str(path), "r") as source:
            return ipc.open_stream(source).schema
    except (pa.ArrowInvalid, OSError):
        return None


def make_work_dir(parent: Path | None, prefix: str) -> Path:
    """A new private folder for spools (under ``parent``, or the system temp folder)."""
    import tempfile

    if parent is not None:
        Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
