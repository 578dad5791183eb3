"""The one way the UI does slow work (HOUSE-STYLE rule 4).

`run_in_background(op, on_success, on_error)` runs `op` on a pool thread and calls the callbacks
on the GUI thread. `op` must not touch widgets: it gets plain values in and hands plain values
(ids, frozen dataclasses, bytes) back.

`WriterThread` serialises local database writes: one thread, one queue, jobs run in the order
they were submitted, so two saves of one field can never overtake each other.
"""

from __future__ import annotations

import functools
import gc
import itertools
import logging
import queue
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread, QThreadPool, Signal, Slot

from workstation.errors import KnownError

log = logging.getLogger(__name__)

SuccessCallback = Callable[[Any], object]
ErrorCallback = Callable[[BaseException], object]

_pool: QThreadPool | None = None


def thread_pool() -> QThreadPool:
    """The pool background work runs on (its own, so a test or shutdown can wait for it)."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("background")
    return _pool


HEADS_DOWN_SWITCH_INTERVAL_S = 0.001


def tune_for_heads_down_work() -> None:
    """Process-wide settings for a station someone works in key after key (the keying view and
    the QA station call it when they open).

    Garbage: a full collection walks every object of the process (tens of milliseconds); when
    Python started one in the middle of keying, the GUI stood still for that long. Opening a
    unit or a queue is a pause anyway, so the collection happens there (`gc.freeze` then sets
    what survives aside, and later collections only walk what was made since; unfrozen first, so
    what an earlier unit left behind can still be collected).

    Threads: the writer and pool threads run Python too; the GUI thread waiting for the GIL
    waits up to the switch interval (5 ms by default) for them to let go. 1 ms keeps a key's
    echo, a new document or the next dispute within a frame while a write is under way."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    if sys.getswitchinterval() > HEADS_DOWN_SWITCH_INTERVAL_S:
        sys.setswitchinterval(HEADS_DOWN_SWITCH_INTERVAL_S)


def report_bug(error: BaseException) -> None:
    """Hand an unexpected exception to the crash handler (sys.excepthook)."""
    sys.excepthook(type(error), error, error.__traceback__)


def error_sentence(error: BaseException, bug_text: str,
                   on_bug: Callable[[BaseException], object] = report_bug) -> str:
    """What a page says about a failed background call: a known error's own sentence; anything
    else is a bug, handed to `on_bug` (the crash handler unless the page only logs it) and
    said as `bug_text`."""
    if isinstance(error, KnownError):
        return str(error)
    on_bug(error)
    return bug_text


@dataclass
class _Pending:
    on_success: SuccessCallback | None
    on_error: ErrorCallback | None
    owner: "weakref.ref[QObject] | None"


class _Hub(QObject):
    """Carries every result from the pool threads back to the GUI thread.

    One object for the life of the application, made on the GUI thread, so a signal emitted on
    it from the pool is queued to the GUI thread. It is never deleted: a Qt object made per
    task would be freed by whichever thread dropped its last Python reference, and a pool
    thread freeing a GUI-thread object while the GUI thread still had an event queued for it
    was a use-after-free (a segmentation fault under the test suite's load). The callbacks stay
    here, on the GUI thread, by token; the pool sees only the token.

    Signals:
        finished(token, ok, value): the op returned `value` (ok) or raised it (not ok).
    """

    finished = Signal(int, bool, object)

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, _Pending] = {}
        self.tokens = itertools.count(1)
        self.finished.connect(self._on_self_finished)

    @Slot(int, bool, object)
    def _on_self_finished(self, token: int, ok: bool, value: object) -> None:
        entry = self.pending.pop(token, None)
        if entry is None:
            return
        if entry.owner is not None:
            owner = entry.owner()
            if owner is None or not shiboken6.isValid(owner):
                log.debug("background result dropped: its receiver is gone")
                return
        if ok:
            if entry.on_success is not None:
                entry.on_success(value)
        elif entry.on_error is not None:
            entry.on_error(value)  # type: ignore[arg-type]
        else:
            report_bug(value)  # type: ignore[arg-type]


_hub: _Hub | None = None


def _the_hub() -> _Hub:
    global _hub
    if _hub is None:
        _hub = _Hub()
    return _hub


def _run_and_deliver(box: list[Callable[[], Any]], hub: _Hub, token: int) -> None:
    op = box.pop()  # the pool's functor keeps only the empty box
    try:
        result = op()
    except Exception as exc:  # handed to on_error on the GUI thread
        ok, value = False, exc
    else:
        ok, value = True, result
    # The op (and whatever its closure holds) is let go here, before the GUI thread can run the
    # callbacks and drop its own references: the last reference to a Qt object is never this one.
    del op
    hub.finished.emit(token, ok, value)


def run_in_background(
    op: Callable[[], Any],
    on_success: SuccessCallback | None = None,
    on_error: ErrorCallback | None = None,
    *,
    owner: QObject | None = None,
) -> None:
    """Run `op()` off the GUI thread; then `on_success(result)` or `on_error(exc)` on it.

    Without `on_error` an exception goes to the crash handler. With an `owner`, nothing is
    delivered once the owner has been deleted. Call from the GUI thread."""
    hub = _the_hub()
    token = next(hub.tokens)
    hub.pending[token] = _Pending(on_success, on_error, weakref.ref(owner) if owner is not None else None)
    thread_pool().start(functools.partial(_run_and_deliver, [op], hub, token))


def wait_for_background(timeout_ms: int = 30_000) -> bool:
    """Block until the pool is idle (shutdown, tests). Results are still delivered later."""
    return thread_pool().waitForDone(timeout_ms)


# A job submitted to an idle writer waits this long before it is written (the jobs queued behind
# it do not): the key that submitted it is still being shown. Written at once, the write's Python
# took the GIL from the GUI thread in the middle of painting the next field or document, again and
# again, for up to the switch interval each time; a new document took half as long again.
# `hurry()` (flush, stop) cuts the wait short; `defer()` makes it longer for heavier work (a new
# document is 5-10 ms of painting).
WRITE_DELAY_S = 0.005


class WriterThread(QThread):
    """The single thread that writes to the local database, one job at a time, in order.

    A job is a callable that opens its own session (`with store.transaction() as s:`) and
    returns a plain value. `stop()` finishes every queued job before the thread ends, so a
    field submitted before closing is on disk when `stop()` returns. A job reaching an idle
    writer is written WRITE_DELAY_S later, and no job begins before a time `defer()` set, unless
    `hurry()` was called.

    Signals:
        saved(job_id, result): a job finished; result is what it returned.
        failed(job_id, error): a job raised; the error is passed on, later jobs still run.
        drained(): the queue became empty (every submitted job has finished).
    """

    saved = Signal(int, object)
    failed = Signal(int, object)
    drained = Signal()

    def __init__(self, parent: QObject | None = None, *, delay_s: float = WRITE_DELAY_S) -> None:
        super().__init__(parent)
        self.setObjectName("local-writer")
        self._delay_s = delay_s
        self._hurry = threading.Event()
        # time.monotonic() before which no job is begun (the first after a pause and defer() move
        # it on); both threads move it, under the lock.
        self._due = 0.0
        self._due_lock = threading.Lock()
        self._queue: queue.Queue[tuple[int, Callable[[], Any]] | None] = queue.Queue()  # None: stop
        self._ids = itertools.count(1)
        self._pending = 0
        self._stopping = False
        self.saved.connect(self._on_self_job_finished)
        self.failed.connect(self._on_self_job_finished)

    def submit(self, job: Callable[[], Any]) -> int:
        """Queue `job`; returns its id (the `saved`/`failed` signals carry it). Starts the thread
        on first use."""
        if self._stopping:
            raise RuntimeError("the writer thread is stopping; no new jobs")
        job_id = next(self._ids)
        self._pending += 1
        self._queue.put((job_id, job))
        if not self.isRunning():
            self.start()
        return job_id

    @property
    def pending(self) -> int:
        """Jobs submitted from the GUI thread whose signal has not been delivered yet."""
        return self._pending

    def hurry(self) -> None:
        """Write what is queued now, without the delay (someone waits for it)."""
        with self._due_lock:
            self._due = 0.0
        self._hurry.set()

    def defer(self, seconds: float) -> None:
        """Hold the writes not yet begun back until `seconds` from now (the GUI thread has a
        new document to paint); a job being written is finished, and `hurry()` still writes at
        once."""
        self._push_due(time.monotonic() + seconds)

    def _push_due(self, due: float) -> None:
        with self._due_lock:
            self._due = max(self._due, due)

    def _left(self) -> float:
        """Seconds until the first job after a pause may be written."""
        with self._due_lock:
            return self._due - time.monotonic()

    def drain(self, timeout_ms: int = 30_000) -> bool:
        """Write every queued job now and deliver its signal (the GUI thread waits for them: the
        lock, logging out, closing); True when none is left within the timeout."""
        self.hurry()
        deadline = time.monotonic() + timeout_ms / 1000
        while self._pending and time.monotonic() < deadline:
            QCoreApplication.processEvents()  # the saved/failed signals of the jobs written
            self.wait(5)
        QCoreApplication.processEvents()
        return self._pending == 0

    def stop(self, timeout_ms: int = 30_000) -> bool:
        """Finish the queued jobs, end the thread; True when it ended within the timeout."""
        self._stopping = True
        if not self.isRunning():
            return True
        self._queue.put(None)
        self.hurry()
        return self.wait(timeout_ms)

    def run(self) -> None:
        idle = True
        while True:
            item = self._queue.get()
            if item is None:
                return
            if idle:
                self._push_due(time.monotonic() + self._delay_s)
            # Before every job, not only the first after a pause: defer() may have moved the time
            # on while earlier jobs were written (a fast keyer's fields are still being written
            # when the document ends); hurry() sets it back to 0.
            while not self._hurry.is_set() and (left := self._left()) > 0:
                self._hurry.wait(left)
            idle = False
            job_id, job = item
            try:
                result = job()
            except Exception as exc:
                log.warning("local write %d failed: %s", job_id, type(exc).__name__)
                self.failed.emit(job_id, exc)
            else:
                self.saved.emit(job_id, result)
            if self._queue.empty():
                idle = True
                self._hurry.clear()
                self.drained.emit()

    def _on_self_job_finished(self, *_args: object) -> None:
        self._pending = max(0, self._pending - 1)
