"""The task runner: one writer lane, a free lane beside it, results and progress on the GUI
thread, errors never crash."""

from __future__ import annotations

import logging
import threading

import pytest

from app.core.errors import Cancelled, PermissionDenied
from app.ui.task_runner import INTERNAL_ERROR, TaskRunner, describe_error


class Recorder:
    """Collects callbacks with the thread each ran on."""

    def __init__(self) -> None:
        self.done: list[object] = []
        self.errors: list[BaseException] = []
        self.progress: list[tuple[float, str]] = []
        self.threads: set[int] = set()

    def on_done(self, value: object) -> None:
        self.threads.add(threading.get_ident())
        self.done.append(value)

    def on_error(self, exc: BaseException) -> None:
        self.threads.add(threading.get_ident())
        self.errors.append(exc)

    def on_progress(self, fraction: float, message: str) -> None:
        self.threads.add(threading.get_ident())
        self.progress.append((fraction, message))


def test_result_and_progress_arrive_on_the_gui_thread(runner):
    rec = Recorder()

    def job(progress, cancel):
        progress(0.0, "start")
        progress(1.0, "finished")
        return threading.get_ident()

    runner.submit(job, on_done=rec.on_done, on_error=rec.on_error, on_progress=rec.on_progress)
    assert runner.wait_idle(3000)
    gui = threading.get_ident()
    assert rec.errors == []
    assert rec.done and rec.done[0] != gui, "the job must run off the GUI thread"
    assert rec.threads == {gui}, "every callback must run on the GUI thread"
    assert rec.progress[0] == (0.0, "start")
    assert rec.progress[-1] == (1.0, "finished")


def test_progress_and_cancel_are_passed_only_when_asked_for(runner):
    rec = Recorder()
    runner.submit(lambda: "plain", on_done=rec.on_done, on_error=rec.on_error)
    runner.submit(lambda *, progress: progress is not None, on_done=rec.on_done,
                  on_error=rec.on_error)
    runner.submit(lambda **kw: sorted(kw), on_done=rec.on_done, on_error=rec.on_error)
    assert runner.wait_idle(3000)
    assert rec.errors == []
    assert rec.done == ["plain", True, ["cancel", "progress"]]


def test_one_worker_runs_jobs_in_order_never_two_at_once(runner):
    rec = Recorder()
    running = []
    overlap = []
    lock = threading.Lock()

    def job(i):
        with lock:
            running.append(i)
            overlap.append(len(running))
        threading.Event().wait(0.005)
        with lock:
            running.remove(i)
        return i, threading.get_ident()

    for i in range(8):
        runner.submit(lambda i=i: job(i), on_done=rec.on_done, on_error=rec.on_error)
    assert runner.wait_idle(3000)
    assert [i for i, _ in rec.done] == list(range(8))
    assert len({ident for _, ident in rec.done}) == 1
    assert max(overlap) == 1


def test_a_free_job_runs_while_a_long_writer_job_runs(runner, qtbot):
    rec = Recorder()
    release = threading.Event()
    writer_started = threading.Event()

    def long_writer():
        writer_started.set()
        return release.wait(30)

    runner.submit(long_writer, on_done=rec.on_done, on_error=rec.on_error)
    assert writer_started.wait(5)
    runner.submit(lambda: "read", on_done=rec.on_done, on_error=rec.on_error, writes=False)
    queued_writer = runner.submit(lambda: "second write", on_done=rec.on_done,
                                  on_error=rec.on_error)
    try:
        qtbot.waitUntil(lambda: rec.done == ["read"], timeout=5000)
        assert runner.busy and not release.is_set()
        assert not queued_writer.cancelled
    finally:
        release.set()
    assert runner.wait_idle(5000)
    assert rec.done == ["read", True, "second write"], "writers keep their order"
    assert rec.errors == []


def test_free_jobs_never_overlap_the_writers_order(runner):
    rec = Recorder()
    writing = []
    overlap = []
    lock = threading.Lock()

    def write(i):
        with lock:
            writing.append(i)
            overlap.append(len(writing))
        threading.Event().wait(0.005)
        with lock:
            writing.remove(i)
        return i

    for i in range(6):
        runner.submit(lambda i=i: write(i), on_done=rec.on_done, on_error=rec.on_error)
        runner.submit(lambda: "free", on_done=lambda _v: None, on_error=rec.on_error,
                      writes=False)
    assert runner.wait_idle(5000)
    assert rec.done == list(range(6)) and max(overlap) == 1 and rec.errors == []


def test_cancel_raises_cancelled_reported_as_cancelled(runner):
    rec = Recorder()
    started = threading.Event()

    def job(cancel):
        started.set()
        for _ in range(1000):
            cancel.raise_if_cancelled()
            threading.Event().wait(0.005)
        return "ran to the end"

    handle = runner.submit(job, on_done=rec.on_done, on_error=rec.on_error)
    assert started.wait(2)
    handle.cancel()
    assert runner.wait_idle(3000)
    assert rec.done == []
    assert len(rec.errors) == 1 and isinstance(rec.errors[0], Cancelled)
    assert describe_error(rec.errors[0]) == "cancelled"


def test_a_job_cancelled_while_queued_never_starts(runner):
    rec = Recorder()
    release = threading.Event()
    calls = []
    runner.submit(lambda: release.wait(3), on_done=rec.on_done, on_error=rec.on_error)
    queued = runner.submit(lambda: calls.append("ran"), on_done=rec.on_done,
                           on_error=rec.on_error)
    queued.cancel()
    release.set()
    assert runner.wait_idle(3000)
    assert calls == []
    assert rec.done == [True]
    assert [type(e) for e in rec.errors] == [Cancelled]


def test_not_cancellable_job_ignores_cancel(runner):
    rec = Recorder()
    handle = runner.submit(lambda cancel: cancel.cancelled, on_done=rec.on_done,
                           on_error=rec.on_error, cancellable=False)
    handle.cancel()
    assert runner.wait_idle(3000)
    assert rec.done == [False] and rec.errors == []


def test_an_exception_in_the_worker_reaches_on_error_and_the_log(runner, caplog):
    rec = Recorder()

    def broken():
        raise ValueError("secret internals")

    with caplog.at_level(logging.ERROR, logger="app.ui.task_runner"):
        runner.submit(broken, on_done=rec.on_done, on_error=rec.on_error)
        assert runner.wait_idle(3000)
    assert len(rec.errors) == 1 and isinstance(rec.errors[0], ValueError)
    assert rec.threads == {threading.get_ident()}
    assert describe_error(rec.errors[0]) == INTERNAL_ERROR
    assert "secret internals" not in describe_error(rec.errors[0])
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)
    # The worker survives the failure.
    runner.submit(lambda: "still alive", on_done=rec.on_done, on_error=rec.on_error)
    assert runner.wait_idle(3000)
    assert rec.done == ["still alive"]


def test_user_errors_keep_their_message(runner):
    rec = Recorder()

    def refused():
        raise PermissionDenied("erin may not audit.verify: that needs the role admin, auditor")

    runner.submit(refused, on_done=rec.on_done, on_error=rec.on_error)
    assert runner.wait_idle(3000)
    assert describe_error(rec.errors[0]).startswith("erin may not audit.verify")


def test_a_failing_callback_is_logged_and_reported_not_raised(runner, caplog):
    rec = Recorder()

    def bad_done(_value):
        raise RuntimeError("bug in the widget code")

    def bad_error(exc):
        rec.errors.append(exc)
        raise RuntimeError("and a bug in the error handler")

    with caplog.at_level(logging.ERROR, logger="app.ui.task_runner"):
        runner.submit(lambda: 1, on_done=bad_done, on_error=bad_error,
                      on_progress=lambda f, m: 1 / 0)
        assert runner.wait_idle(3000)
    assert [str(e) for e in rec.errors] == ["bug in the widget code"]
    assert "error callback" in caplog.text
    assert not runner.busy


def test_busy_signal_brackets_a_chain_of_jobs(runner, qtbot):
    states = []
    runner.sig_busy_changed.connect(states.append)
    order = []

    def first_done(value):
        order.append(value)
        # A follow-up submitted from a callback keeps the runner busy.
        runner.submit(lambda: "second", on_done=order.append, on_error=pytest.fail)

    with qtbot.waitSignal(runner.sig_busy_changed, timeout=3000,
                          check_params_cb=lambda busy: not busy):
        runner.submit(lambda: "first", on_done=first_done, on_error=pytest.fail)
    assert order == ["first", "second"]
    assert states == [True, False]


def test_wait_idle_times_out_while_a_job_blocks(runner):
    release = threading.Event()
    runner.submit(lambda: release.wait(3), on_done=lambda _v: None, on_error=pytest.fail)
    assert runner.wait_idle(100) is False
    assert runner.busy
    release.set()
    assert runner.wait_idle(3000)


def test_shutdown_stops_the_worker_thread(qtbot):
    runner = TaskRunner()
    runner.submit(lambda: None, on_done=lambda _v: None, on_error=pytest.fail)
    assert runner.shutdown(3000)
    assert not [t for t in threading.enumerate() if t.name.startswith("plantml-")]
    with pytest.raises(RuntimeError):
        runner.submit(lambda: None, on_done=lambda _v: None, on_error=pytest.fail)
    assert runner.shutdown(100), "a second shutdown is harmless"
