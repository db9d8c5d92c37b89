"""Runs service calls off the GUI thread (one writer lane, a free lane) and hands their results
back to the GUI thread."""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Qt, Signal, Slot

from app.core.errors import Cancelled, PlantMLError
from app.core.progress import CancelToken

log = logging.getLogger(__name__)

#: What the user sees for an exception that is not a PlantMLError.
INTERNAL_ERROR = "internal error, see log"

#: Threads of the free lane: reads and device polls (two cores on a control-room PC).
FREE_WORKERS = 2

#: Progress reports closer together than this are dropped (the final one never is), so a
#: chatty job cannot flood the GUI thread's event queue.
_PROGRESS_INTERVAL_S = 0.02

DoneFn = Callable[[Any], None]
ErrorFn = Callable[[BaseException], None]
ProgressCb = Callable[[float, str], None]


def describe_error(exc: BaseException) -> str:
    """The text a user sees for ``exc``: never a traceback."""
    if isinstance(exc, Cancelled):
        return "cancelled"
    if isinstance(exc, PlantMLError):
        return str(exc)
    return INTERNAL_ERROR


class TaskHandle:
    """What :meth:`TaskRunner.submit` returns: lets the GUI ask the job to stop."""

    def __init__(self, task_id: int, token: CancelToken, cancellable: bool) -> None:
        self.task_id = task_id
        self._token = token
        self._cancellable = cancellable

    def cancel(self) -> None:
        """Ask the job to stop at its next check; a job that is not cancellable ignores it."""
        if self._cancellable:
            self._token.cancel()

    @property
    def cancelled(self) -> bool:
        """True once cancellation was requested."""
        return self._token.cancelled

    @property
    def cancellable(self) -> bool:
        """False for a job that must finish once started (a signature, a password check)."""
        return self._cancellable


@dataclass
class _Task:
    """The GUI side of a job: its callbacks stay on the GUI thread (see _run)."""

    on_done: DoneFn
    on_error: ErrorFn
    on_progress: ProgressCb | None
    handle: TaskHandle


class TaskRunner(QObject):
    """Runs callables on two lanes of background threads.

    The writer lane (``writes=True``, the default) runs one job at a time in submission
    order: it keeps the workspace single-writer and the audit trail's order equal to the
    order the user asked for things (imports, training, approvals, flashing). The free lane
    (``writes=False``) runs beside it, as Anki's task manager runs work that does not use
    the collection: reads (tables, details, the last verification), device polls (the
    controller watch, scans) and the session's own events (sign-in, lock, unlock, sign-out:
    a locked screen must not wait for a training run to end). A free job may append an
    audit row of its own (a refusal, a drift alarm, a session event): one short transaction
    that SQLite's write lock (BEGIN IMMEDIATE) serialises with the writer's.

    Callbacks (``on_done``, ``on_error``, ``on_progress``) always run on the GUI thread; the
    background function must never touch a widget. Call :meth:`submit` and
    :meth:`shutdown` from the GUI thread only.
    """

    sig_busy_changed = Signal(bool)
    """Emitted when the runner goes from idle to busy (True) or back (False); idle means
    every submitted job finished and its callbacks ran."""

    # Internal hops from the worker to the GUI thread. The connections are queued explicitly:
    # callbacks must run from the GUI thread's event loop, never inside the emitting call.
    _sig_progress = Signal(int, float, str)
    """The worker reported progress: task id, fraction, message."""

    _sig_finished = Signal(int, bool, object)
    """A job ended: task id, whether it succeeded, its result or exception."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._writer: ThreadPoolExecutor | None = None
        self._free: ThreadPoolExecutor | None = None
        self._tasks: dict[int, _Task] = {}
        self._ids = itertools.count(1)
        self._closed = False
        self._sig_progress.connect(self._deliver_progress, Qt.ConnectionType.QueuedConnection)
        self._sig_finished.connect(self._deliver_finished, Qt.ConnectionType.QueuedConnection)
        # Set by the worker after each signal, so wait_idle() wakes without polling hard.
        self._posted = threading.Event()

    # ---------------------------------------------------------------- public API

    @property
    def busy(self) -> bool:
        """True while a job is queued, running, or its callbacks have not run yet."""
        return bool(self._tasks)

    def submit(self, fn: Callable[..., Any], *, on_done: DoneFn, on_error: ErrorFn,
               on_progress: ProgressCb | None = None, cancellable: bool = True,
               writes: bool = True) -> TaskHandle:
        """Queue ``fn`` on the writer lane (or with ``writes=False`` on the free lane, see the
        class); returns a handle with ``cancel()``.

        ``fn`` receives ``progress`` and ``cancel`` as keyword arguments if its signature
        names them (or takes ``**kwargs``); it must not reference widgets. ``on_error``
        receives the exception: a :class:`Cancelled` after :meth:`TaskHandle.cancel`, a
        PlantMLError for a refusal, anything else for a bug (already logged with its
        traceback).
        """
        if self._closed:
            raise RuntimeError("the task runner was shut down")
        task_id = next(self._ids)
        token = CancelToken()
        handle = TaskHandle(task_id, token, cancellable)
        task = _Task(on_done=on_done, on_error=on_error, on_progress=on_progress, handle=handle)
        was_idle = not self._tasks
        self._tasks[task_id] = task
        self._lane(writes).submit(self._run, task_id, fn, _kwargs_builder(fn), token)
        if was_idle:
            self.sig_busy_changed.emit(True)
        return handle

    @property
    def closed(self) -> bool:
        """True after :meth:`shutdown`: nothing more can be submitted."""
        return self._closed

    @property
    def pending(self) -> int:
        """Jobs queued or running (their callbacks not run yet)."""
        return len(self._tasks)

    @property
    def cancellable_running(self) -> int:
        """How many queued or running jobs can be asked to stop."""
        return sum(1 for task in self._tasks.values() if task.handle.cancellable)

    def cancel_all(self) -> None:
        """Ask every queued or running job to stop."""
        for task in list(self._tasks.values()):
            task.handle.cancel()

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """Process GUI events until every job finished and its callbacks ran; returns False
        if that did not happen within ``timeout_ms``. Do not call it from a callback."""
        deadline = time.monotonic() + timeout_ms / 1000
        while self._tasks:
            # processEvents rather than a nested QEventLoop: after QApplication.quit() a new
            # loop's exec() can return at once, which made this a busy loop at shutdown.
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)
            remaining = deadline - time.monotonic()
            if not self._tasks or remaining <= 0:
                break
            # Sleep until the worker posts a result (bounded, so timers and input still run).
            self._posted.wait(min(remaining, 0.01))
            self._posted.clear()
        return not self._tasks

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel what is left, wait for it, and stop the worker thread; True if it was idle
        in time. Safe to call twice."""
        self.cancel_all()
        idle = self.wait_idle(timeout_ms)
        self._closed = True
        for pool in (self._writer, self._free):
            if pool is not None:
                # Jobs check their cancel token; waiting here only covers a job that ignores
                # it, which we must not abandon halfway through a database write.
                pool.shutdown(wait=True, cancel_futures=True)
        self._writer = self._free = None
        if not idle:
            log.warning("task runner shut down with %d job(s) unfinished", len(self._tasks))
        self._tasks.clear()
        return idle

    # ---------------------------------------------------------------- worker side

    def _lane(self, writes: bool) -> ThreadPoolExecutor:
        # Plain Python threads (as in Anki's task manager): joinable, visible to
        # threading.enumerate() for leak checks, and signals emitted from them are queued.
        if writes:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="plantml-write")
            return self._writer
        if self._free is None:
            self._free = ThreadPoolExecutor(max_workers=FREE_WORKERS,
                                            thread_name_prefix="plantml-free")
        return self._free

    def _run(self, task_id: int, fn: Callable[..., Any],
             kwargs_for: Callable[[Callable[[float, str], None], CancelToken], dict[str, Any]],
             token: CancelToken) -> None:
        """Runs on the worker thread; touches nothing but the job and the signals.

        It gets no callbacks: they are bound to widgets, and the worker must never hold the
        last reference to a widget, or the widget would be destroyed on the wrong thread.
        """
        last = [0.0]

        def progress(fraction: float, message: str) -> None:
            now = time.monotonic()
            if fraction < 1.0 and now - last[0] < _PROGRESS_INTERVAL_S:
                return
            last[0] = now
            self._sig_progress.emit(task_id, float(fraction), str(message))
            self._posted.set()

        try:
            token.raise_if_cancelled()
            result = fn(**kwargs_for(progress, token))
        except PlantMLError as exc:
            log.info("task %d ended: %s", task_id, exc)
            self._sig_finished.emit(task_id, False, exc)
        except Exception as exc:  # a bug in a job must reach on_error, not kill the worker
            log.error("task %d failed", task_id, exc_info=exc)
            self._sig_finished.emit(task_id, False, exc)
        else:
            self._sig_finished.emit(task_id, True, result)
        self._posted.set()

    # ---------------------------------------------------------------- GUI side

    @Slot(int, float, str)
    def _deliver_progress(self, task_id: int, fraction: float, message: str) -> None:
        task = self._tasks.get(task_id)
        if task is None or task.on_progress is None:
            return
        try:
            task.on_progress(fraction, message)
        except Exception:  # a broken progress display must not end the job
            log.exception("progress callback of task %d failed", task_id)

    @Slot(int, bool, object)
    def _deliver_finished(self, task_id: int, ok: bool, payload: object) -> None:
        task = self._tasks.get(task_id)
        if task is None:
            return
        try:
            if ok:
                try:
                    task.on_done(payload)
                except Exception as exc:  # shown to the user via on_error
                    log.exception("completion callback of task %d failed", task_id)
                    self._call_on_error(task_id, task, exc)
            else:
                assert isinstance(payload, BaseException)
                self._call_on_error(task_id, task, payload)
        finally:
            # Removed only after the callbacks, so a follow-up job they submit keeps the
            # runner busy and wait_idle() covers the whole chain.
            del self._tasks[task_id]
            if not self._tasks:
                self.sig_busy_changed.emit(False)

    @staticmethod
    def _call_on_error(task_id: int, task: _Task, exc: BaseException) -> None:
        try:
            task.on_error(exc)
        except Exception:  # last line of defence: log it, never crash the GUI
            log.exception("error callback of task %d failed", task_id)


def _kwargs_builder(fn: Callable[..., Any]
                    ) -> Callable[[Callable[[float, str], None], CancelToken], dict[str, Any]]:
    """Which of ``progress`` and ``cancel`` ``fn`` accepts, decided once at submit time."""
    params: Mapping[str, inspect.Parameter]
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    wants_progress = takes_all or "progress" in params
    wants_cancel = takes_all or "cancel" in params

    def build(progress: Callable[[float, str], None], cancel: CancelToken) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if wants_progress:
            out["progress"] = progress
        if wants_cancel:
            out["cancel"] = cancel
        return out

    return build
