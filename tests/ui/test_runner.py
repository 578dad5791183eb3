from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from ui import crash
from ui.runner import WriterThread, run_in_background, wait_for_background
from workstation.errors import ImageError


def test_result_arrives_on_the_gui_thread(qtbot) -> None:
    seen: list[tuple[object, str]] = []
    op_threads: list[str] = []

    def op() -> int:
        op_threads.append(threading.current_thread().name)
        return 42

    run_in_background(op, lambda value: seen.append((value, threading.current_thread().name)))
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert seen == [(42, threading.main_thread().name)]
    assert op_threads and op_threads[0] != threading.main_thread().name


def test_errors_go_to_on_error_on_the_gui_thread(qtbot) -> None:
    errors: list[tuple[BaseException, str]] = []

    def op() -> None:
        raise ImageError("Page 2 cannot be read.", "Rescan it.")

    run_in_background(op, lambda _v: pytest.fail("no result expected"), lambda e: errors.append((e, threading.current_thread().name)))
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    error, thread = errors[0]
    assert isinstance(error, ImageError) and error.message == "Page 2 cannot be read."
    assert thread == threading.main_thread().name


def test_an_error_without_on_error_reaches_the_crash_handler(qtbot, monkeypatch) -> None:
    seen: list[BaseException] = []
    monkeypatch.setattr(crash.CrashDialog, "ask", classmethod(lambda cls, error, log_file, parent=None: seen.append(error)))
    monkeypatch.setattr("sys.excepthook", crash.handle_exception)
    run_in_background(lambda: 1 / 0)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert isinstance(seen[0], ZeroDivisionError)


def test_nothing_is_delivered_to_a_deleted_owner(qtbot) -> None:
    release = threading.Event()
    seen: list[object] = []
    owner = QObject()

    def op() -> str:
        release.wait(5)
        return "late"

    run_in_background(op, seen.append, seen.append, owner=owner)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner), timeout=5000)
    release.set()
    assert wait_for_background(5000)
    qtbot.wait(20)  # let any queued delivery run
    assert seen == []


def _alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_writer_runs_jobs_in_order_on_one_thread(qtbot) -> None:
    writer = WriterThread()
    threads: set[str] = set()
    order: list[int] = []
    saved: list[tuple[int, object]] = []
    writer.saved.connect(lambda job_id, result: saved.append((job_id, result)))

    def job(n: int):
        def run() -> int:
            threads.add(threading.current_thread().name)
            order.append(n)
            return n * 10

        return run

    with qtbot.waitSignal(writer.drained, timeout=5000, check_params_cb=lambda *a: len(saved) == 20):
        ids = [writer.submit(job(n)) for n in range(20)]
    qtbot.waitUntil(lambda: len(saved) == 20, timeout=5000)
    assert order == list(range(20))
    assert saved == [(job_id, n * 10) for job_id, n in zip(ids, range(20))]
    assert len(threads) == 1 and threading.main_thread().name not in threads
    assert writer.pending == 0
    assert writer.stop()


def test_writer_reports_a_failed_job_and_keeps_going(qtbot) -> None:
    writer = WriterThread()
    failures: list[tuple[int, BaseException]] = []
    saved: list[int] = []
    writer.failed.connect(lambda job_id, error: failures.append((job_id, error)))
    writer.saved.connect(lambda job_id, result: saved.append(job_id))

    def bad() -> None:
        raise OSError("disk full")

    first = writer.submit(bad)
    second = writer.submit(lambda: "ok")
    qtbot.waitUntil(lambda: len(saved) == 1 and len(failures) == 1, timeout=5000)
    assert failures[0][0] == first and isinstance(failures[0][1], OSError)
    assert saved == [second]
    assert writer.stop()


def test_stop_finishes_queued_jobs_first(qtbot) -> None:
    writer = WriterThread()
    gate = threading.Event()
    done: list[int] = []

    def slow(n: int):
        def run() -> None:
            gate.wait(5)
            done.append(n)

        return run

    for n in range(5):
        writer.submit(slow(n))
    gate.set()
    assert writer.stop(10_000)
    assert done == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError):
        writer.submit(lambda: None)


def test_the_pool_lets_go_of_the_op_before_the_result_is_delivered(qtbot) -> None:
    """What the op's closure holds is never freed by a pool thread after the GUI thread has
    moved on: the pool drops it before the result goes back (a Qt object freed on the wrong
    thread while the GUI thread still has an event queued for it is a crash)."""
    import gc
    import weakref

    class Held:
        pass

    held = Held()
    ref = weakref.ref(held)
    alive_at_delivery: list[bool] = []

    def op(h: Held = held) -> int:
        return id(h)

    del held
    run_in_background(op, lambda _value: alive_at_delivery.append(ref() is not None))
    del op
    qtbot.waitUntil(lambda: bool(alive_at_delivery), timeout=5000)
    gc.collect()
    assert alive_at_delivery == [False]


def test_a_job_reaching_an_idle_writer_waits_for_the_key_to_be_shown_unless_hurried(qtbot) -> None:
    """The first job after a pause is written a moment later (the GUI thread is still showing the
    key that submitted it); someone waiting for it (flush, stop) hurries it."""
    writer = WriterThread(delay_s=600)  # far longer than this test: only hurry() lets it through
    done: list[str] = []
    writer.submit(lambda: done.append("first"))
    writer.submit(lambda: done.append("queued behind it"))
    qtbot.wait(50)
    assert done == []  # still waiting
    writer.hurry()
    qtbot.waitUntil(lambda: done == ["first", "queued behind it"], timeout=5000)
    qtbot.waitUntil(lambda: writer.pending == 0, timeout=5000)
    writer.submit(lambda: done.append("after a pause"))  # idle again: it waits again ...
    qtbot.wait(50)
    assert done == ["first", "queued behind it"]
    assert writer.stop(5000)  # ... and stopping writes it at once
    assert done[-1] == "after a pause"


def test_defer_holds_back_the_next_write_and_hurry_still_writes_at_once(qtbot) -> None:
    """A new document is being painted: the finished one's writes wait for it (defer), unless
    someone waits for them (hurry)."""
    writer = WriterThread(delay_s=0)  # no wait of its own: only defer() holds the job back
    done: list[str] = []
    writer.defer(600)
    writer.submit(lambda: done.append("the finished document"))
    qtbot.wait(50)
    assert done == []  # held back
    writer.hurry()
    qtbot.waitUntil(lambda: done == ["the finished document"], timeout=5000)
    qtbot.waitUntil(lambda: writer.pending == 0, timeout=5000)
    writer.submit(lambda: done.append("later"))  # the deferred time is over: written at once
    qtbot.waitUntil(lambda: done[-1] == "later", timeout=5000)
    assert writer.stop(5000)


def test_defer_also_holds_back_the_writes_queued_behind_a_busy_writer(qtbot) -> None:
    """A fast keyer's fields are still being written when the document ends: the write under
    way is finished, the ones queued behind it wait for the new document to be painted."""
    writer = WriterThread(delay_s=0)
    writing, go_on = threading.Event(), threading.Event()
    done: list[str] = []

    def slow_field() -> None:
        writing.set()
        go_on.wait(5)
        done.append("the field being written")

    writer.submit(slow_field)
    writer.submit(lambda: done.append("the document's last field"))
    assert writing.wait(5)
    writer.defer(600)  # the document ended while the writer was busy
    go_on.set()
    qtbot.waitUntil(lambda: done == ["the field being written"], timeout=5000)
    qtbot.wait(50)
    assert done == ["the field being written"]  # held back, not written beside the new page's paint
    writer.hurry()
    qtbot.waitUntil(lambda: done == ["the field being written", "the document's last field"], timeout=5000)
    assert writer.stop(5000)


def test_drain_writes_what_is_queued_at_once_and_delivers_its_signals(qtbot) -> None:
    """Locking, logging out and closing wait for the writes: drain() does not wait for the
    writer's delay or a defer, and returns once every job's signal has been delivered."""
    writer = WriterThread(delay_s=600)
    writer.defer(600)
    saved: list[object] = []
    writer.saved.connect(lambda _job, result: saved.append(result))
    for n in range(3):
        writer.submit(lambda n=n: n)
    assert writer.drain(5000)
    assert saved == [0, 1, 2] and writer.pending == 0
    assert writer.stop(5000)


def test_drain_says_so_when_a_write_outlasts_the_wait(qtbot) -> None:
    writer = WriterThread(delay_s=0)
    release = threading.Event()
    writer.submit(lambda: release.wait(10))
    assert not writer.drain(50)
    assert writer.pending == 1
    release.set()
    assert writer.drain(5000)
    assert writer.stop(5000)
