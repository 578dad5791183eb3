"""Sends the station's finished work to the central database in the background.

Keying never waits on the network: a finished unit is already safe in the local outbox, and
this worker pushes it when it can. One round runs at a time, off the GUI thread (through
`ui.runner`): it counts what waits, then pushes it (`workstation.sync.push_pending`) or, with
nothing to send, checks that the central database answers, so the status bar tells the truth
either way. A round that cannot reach the central database is retried after
`workstation.sync.next_retry_delay` of the failures in a row (doubling, capped); a round that
sent everything is followed by a quiet check every `poll_interval_s`. `push_now()` (a unit was
just finished) starts a round at once, or right after the one under way.

The round writes to the local store from its pool thread rather than through the keying
`WriterThread`: it only touches outbox rows and units already finished, never a row being keyed,
SQLite's lock orders the two, and network time on the writer would hold up field saves.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from sqlalchemy.exc import SQLAlchemyError

from ui.runner import report_bug, run_in_background
from workstation import secrets
from workstation.errors import CredentialError, KnownError
from workstation.store import Store
from workstation.sync import RETRY_BASE_S, RETRY_CAP_S, PushReport, next_retry_delay, pending_count, push_pending

log = logging.getLogger(__name__)

DEFAULT_POLL_S = 60.0


class _CentralLink:
    """The central store, made on first need and dropped after a failed round.

    Dropping it means the next round calls the factory again, so a password stored meanwhile
    (`workstation central login`) or a server that moved is picked up without a restart. Used by
    one round at a time; `close()` never waits for a round (it may be called on the GUI thread).
    """

    def __init__(self, factory: Callable[[], Store]) -> None:
        self._factory = factory
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def round(self, local: Store, purge: bool) -> PushReport:
        """One round (any thread): push what waits, or check the central database answers."""
        with self._lock:
            try:
                return self._round(local, purge)
            finally:
                if self._closed.is_set():  # close() came meanwhile and left the dropping to us
                    self._drop()

    def _round(self, local: Store, purge: bool) -> PushReport:
        waiting = pending_count(local)
        try:
            store = self._connect()
        except (KnownError, SQLAlchemyError) as exc:
            self._drop()
            refused = isinstance(exc, CredentialError) or secrets.login_refused(exc)
            if refused and not isinstance(exc, CredentialError):
                error: BaseException = secrets.refused_error(None)
            elif isinstance(exc, KnownError):
                error = exc
            else:
                error = KnownError("The central database cannot be reached.", str(getattr(exc, "orig", exc)))
            log.info("central database not available: %s", error)
            return PushReport(0, 0, waiting, (str(error),), offline=True, login_refused=refused)
        if waiting == 0:
            try:
                with store.engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
            except SQLAlchemyError as exc:
                self._drop()
                error = secrets.connect_error(store.url, exc)
                return PushReport(0, 0, 0, (str(error),), offline=True, login_refused=secrets.login_refused(exc))
            return PushReport(0, 0, 0, ())
        report = push_pending(local, store, purge=purge)
        if report.offline:
            self._drop()
        return report

    def _connect(self) -> Store:
        if self._store is None:
            self._store = self._factory()
        return self._store

    def _drop(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.dispose()

    def reopen(self) -> None:
        self._closed.clear()

    def close(self) -> None:
        """Let go of the central store now, or at the end of the round under way."""
        self._closed.set()
        if self._lock.acquire(blocking=False):
            try:
                self._drop()
            finally:
                self._lock.release()


class SyncWorker(QObject):
    """Pushes the local outbox to the central database in the background, retrying while offline.

    `central_factory` makes the central store (called off the GUI thread, again after a failed
    round); it may raise a KnownError (no password stored, database unreachable). Give its engine
    a connect timeout, so a round against a host that drops packets ends in seconds.

    Signals:
        status_changed(online, pending): after every round: whether the central database
            answered and took the work, and how many finished units still wait to be sent.
        push_finished(report): a round ended; `report` is the round's `workstation.sync.PushReport`
            (errors say why units wait; `login_refused` means a password must be stored again).
    """

    status_changed = Signal(bool, int)
    push_finished = Signal(object)

    def __init__(
        self,
        local: Store,
        central_factory: Callable[[], Store],
        parent: QObject | None = None,
        *,
        purge: bool = True,
        retry_base_s: float = RETRY_BASE_S,
        retry_cap_s: float = RETRY_CAP_S,
        poll_interval_s: float = DEFAULT_POLL_S,
    ) -> None:
        super().__init__(parent)
        self._local = local
        self._link = _CentralLink(central_factory)
        self._purge = purge
        self._retry_base_s = retry_base_s
        self._retry_cap_s = retry_cap_s
        self._poll_interval_s = poll_interval_s
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._running = False
        self._busy = False
        self._again = False
        self.failures = 0
        self.online: bool | None = None  # None until the first round has said
        self.pending = 0
        self.next_round_s: float | None = None  # delay of the round now scheduled, if any
        link = self._link
        self.destroyed.connect(lambda *_: link.close())

    @property
    def busy(self) -> bool:
        """A round is under way."""
        return self._busy

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Begin: a first round at once, then rounds as described above."""
        if self._running:
            return
        self._running = True
        self._link.reopen()
        self.push_now()

    def stop(self) -> None:
        """No more rounds; the central store is let go. A round under way ends on its own (a
        push is all or nothing, so nothing is lost) and its result is dropped."""
        self._running = False
        self._again = False
        self._timer.stop()
        self.next_round_s = None
        self._link.close()

    def push_now(self) -> None:
        """Push at once (a unit was just finished); if a round is under way, right after it."""
        if not self._running:
            log.debug("push_now ignored: the sync worker is not running")
            return
        if self._busy:
            self._again = True
            return
        self._timer.stop()
        self.next_round_s = None
        self._busy = True
        run_in_background(
            functools.partial(self._link.round, self._local, self._purge),
            self._on_round_finished, self._on_round_failed, owner=self,
        )

    @Slot()
    def _on_timer_timeout(self) -> None:
        self.next_round_s = None
        self.push_now()

    def _on_round_finished(self, report: PushReport) -> None:
        self._busy = False
        if not self._running:
            return  # stopped meanwhile: nobody is listening for it any more
        trouble = report.offline or report.failed > 0
        self.failures = self.failures + 1 if trouble else 0
        self.online = not report.offline
        self.pending = report.pending
        if self._again or (not trouble and report.pending > 0):
            self._again = False  # more came in meanwhile: go on at once
            self._schedule(0.0)
        elif trouble:
            self._schedule(next_retry_delay(self.failures, base=self._retry_base_s, cap=self._retry_cap_s))
        else:
            self._schedule(self._poll_interval_s)
        if report.sent or report.problems or trouble:
            log.info("sync round: %d unit(s) and %d page report(s) sent, %d failed, %d waiting%s", report.sent,
                     report.problems, report.failed, report.pending, ", offline" if report.offline else "")
        self.status_changed.emit(self.online, self.pending)
        self.push_finished.emit(report)

    def _on_round_failed(self, error: BaseException) -> None:
        """A bug or a broken local store: say so once, keep trying with the backoff."""
        self._busy = False
        self.failures += 1
        if self.failures == 1:
            report_bug(error)
        else:
            log.error("sync round failed again: %r", error)
        if self._running:
            self._schedule(next_retry_delay(self.failures, base=self._retry_base_s, cap=self._retry_cap_s))

    def _schedule(self, delay_s: float) -> None:
        self.next_round_s = delay_s
        self._timer.start(max(0, round(delay_s * 1000)))
