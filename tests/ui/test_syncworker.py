"""The background sync: pushes off the GUI thread, one round at a time, backs off while offline.

"Offline" is real here: a central database in a folder that does not exist, or PostgreSQL behind
a proxy that is stopped; the push itself is never replaced.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.pgnet import TcpProxy
from tests.workstation.centralseed import add_user, seed_batch, write_finished_unit
from ui import syncworker
from ui.syncworker import SyncWorker
from workstation import models as m
from workstation import secrets
from workstation.store import Store, open_central
from workstation.sync import PushReport, claim_and_pull, next_retry_delay
from workstation.work import Claim

BASE = 0.02  # retry backoff base for the tests (the real one is seconds)
QUIET = 3600.0  # a poll so far off that it never comes during a test


class Watch:
    """What a worker said, in order."""

    def __init__(self, worker: SyncWorker) -> None:
        self.statuses: list[tuple[bool, int]] = []
        self.delays: list[float | None] = []
        self.reports: list[PushReport] = []
        worker.status_changed.connect(self._on_worker_status_changed)
        worker.push_finished.connect(self.reports.append)
        self._worker = worker

    def _on_worker_status_changed(self, online: bool, pending: int) -> None:
        self.statuses.append((online, pending))
        self.delays.append(self._worker.next_round_s)

    @property
    def last(self) -> tuple[bool, int] | None:
        return self.statuses[-1] if self.statuses else None


@pytest.fixture
def make_worker(local: Store) -> Iterator[Callable[..., tuple[SyncWorker, Watch]]]:
    workers: list[SyncWorker] = []

    def make(factory: Callable[[], Store], **kwargs: Any) -> tuple[SyncWorker, Watch]:
        kwargs.setdefault("retry_base_s", BASE)
        kwargs.setdefault("poll_interval_s", QUIET)
        worker = SyncWorker(local, factory, **kwargs)
        workers.append(worker)
        return worker, Watch(worker)

    yield make
    for worker in workers:
        worker.stop()


def finished_unit(central: Store, local: Store, keyer: uuid.UUID) -> Claim:
    """Claim, pull and finish a unit on the station, as keying leaves it: in the outbox."""
    claimed = claim(central, local, keyer, max_documents=None)
    write_finished_unit(local, claimed.unit_id)
    return claimed


def claim(central: Store, local: Store, keyer: uuid.UUID, max_documents: int | None = 2) -> Claim:
    """Claim and pull a unit (note: a claim first pushes what waits, as the station does)."""
    kwargs = {"max_documents": max_documents} if max_documents else {}
    claimed, _ = claim_and_pull(central, local, keyer, **kwargs)
    return claimed


def central_entries(central: Store) -> list[uuid.UUID]:
    with central.transaction() as s:
        return sorted(s.scalars(select(m.Entry.document_id)))


def local_images(local: Store) -> int:
    with local.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(m.Image)) or 0)


def test_finished_work_is_pushed_off_the_gui_thread_and_the_status_says_online(
    qtbot: Any, central: Store, local: Store, make_worker: Callable[..., tuple[SyncWorker, Watch]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=2)
    claimed = finished_unit(central, local, ann)
    threads: list[threading.Thread] = []
    real_push = syncworker.push_pending

    def watched_push(*args: Any, **kwargs: Any) -> PushReport:
        threads.append(threading.current_thread())
        return real_push(*args, **kwargs)

    monkeypatch.setattr(syncworker, "push_pending", watched_push)
    worker, watch = make_worker(lambda: open_central(central.url))
    assert worker.online is None  # nothing is claimed before the first round has said
    worker.start()
    qtbot.waitUntil(lambda: bool(watch.reports), timeout=10_000)

    assert watch.statuses == [(True, 0)]
    report = watch.reports[0]
    assert (report.sent, report.documents, report.pending, report.offline) == (1, 2, 0, False)
    assert threads and threads[0] is not threading.main_thread()
    assert central_entries(central) == sorted(claimed.document_ids)
    assert local_images(local) == 0  # purged after the confirmed push
    assert worker.next_round_s == QUIET and worker.failures == 0  # a quiet check next, not a retry


def test_offline_rounds_back_off_and_the_work_goes_once_the_database_is_back(
    qtbot: Any, central: Store, local: Store, tmp_path: Path, make_worker: Callable[..., tuple[SyncWorker, Watch]],
) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=4, passes=(1,))
    first, second = claim(central, local, ann), claim(central, local, ann)
    write_finished_unit(local, first.unit_id)
    where = {"url": f"sqlite:///{tmp_path / 'not-there' / 'central.sqlite'}"}  # unreachable
    worker, watch = make_worker(lambda: open_central(where["url"]))
    worker.start()
    qtbot.waitUntil(lambda: len(watch.statuses) >= 3, timeout=10_000)

    assert watch.statuses[:3] == [(False, 1)] * 3
    assert watch.delays[:3] == [next_retry_delay(n, base=BASE) for n in (1, 2, 3)]  # doubling
    assert "cannot be reached" in watch.reports[0].errors[0]
    assert local_images(local) == 4  # nothing purged while unsent

    # Keying goes on offline: another unit is finished and announced.
    write_finished_unit(local, second.unit_id)
    worker.push_now()
    qtbot.waitUntil(lambda: watch.last == (False, 2), timeout=10_000)

    where["url"] = central.url  # the database is back
    qtbot.waitUntil(lambda: watch.last == (True, 0), timeout=20_000)
    assert sum(r.sent for r in watch.reports) == 2
    assert central_entries(central) == sorted(first.document_ids + second.document_ids)
    assert worker.failures == 0 and worker.next_round_s == QUIET

    worker.stop()
    seen = len(watch.reports)
    worker.push_now()  # ignored once stopped
    with qtbot.assertNotEmitted(worker.push_finished, wait=200):
        pass
    assert len(watch.reports) == seen and not worker.running


def test_one_round_at_a_time_and_push_now_never_waits_for_it(
    qtbot: Any, central: Store, local: Store, make_worker: Callable[..., tuple[SyncWorker, Watch]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=4, passes=(1,))
    first, second = claim(central, local, ann), claim(central, local, ann)
    write_finished_unit(local, first.unit_id)
    gate = threading.Event()
    active, peak, calls = [0], [0], [0]
    real_push = syncworker.push_pending

    def held_push(*args: Any, **kwargs: Any) -> PushReport:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        calls[0] += 1
        try:
            if calls[0] == 1:
                gate.wait(10)  # the network is slow today
            return real_push(*args, **kwargs)
        finally:
            active[0] -= 1

    monkeypatch.setattr(syncworker, "push_pending", held_push)
    safety = threading.Timer(10, gate.set)  # never hang the suite, whatever happens
    safety.start()
    try:
        worker, watch = make_worker(lambda: open_central(central.url))
        worker.start()
        qtbot.waitUntil(lambda: calls[0] == 1, timeout=10_000)
        write_finished_unit(local, second.unit_id)  # keying finished another unit meanwhile
        for _ in range(3):
            worker.push_now()
        # Each push_now returned while the push was still held: the GUI thread never waited.
        assert not gate.is_set() and worker.busy and calls[0] == 1
        gate.set()
        qtbot.waitUntil(lambda: len(watch.reports) == 2, timeout=10_000)
        with qtbot.assertNotEmitted(worker.push_finished, wait=300):
            pass
    finally:
        safety.cancel()
        gate.set()
    assert peak[0] == 1  # never two pushes at once
    assert watch.statuses[-1] == (True, 0)
    assert sum(r.sent for r in watch.reports) == 2


def test_a_missing_password_is_reported_and_the_work_waits(
    qtbot: Any, central: Store, local: Store, make_worker: Callable[..., tuple[SyncWorker, Watch]],
) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=1)
    finished_unit(central, local, ann)
    worker, watch = make_worker(lambda: open_central(secrets.with_password("postgresql://keyer@db.example/keying")))
    worker.start()
    qtbot.waitUntil(lambda: bool(watch.reports), timeout=10_000)
    assert watch.statuses[0] == (False, 1)
    report = watch.reports[0]
    assert report.login_refused and "workstation central login" in report.errors[0]


@pytest.mark.pg
def test_the_same_database_going_away_and_coming_back(
    qtbot: Any, pg_proxy: TcpProxy, local: Store, make_worker: Callable[..., tuple[SyncWorker, Watch]],
) -> None:
    central = open_central(pg_proxy.url, create=True)
    ann = add_user(central, "ann")
    seed_batch(central, documents=4, passes=(1,))
    first, second = claim(central, local, ann), claim(central, local, ann)
    write_finished_unit(local, first.unit_id)
    worker, watch = make_worker(lambda: open_central(pg_proxy.url), poll_interval_s=0.05)
    worker.start()
    qtbot.waitUntil(lambda: watch.last == (True, 0), timeout=10_000)

    pg_proxy.stop()
    qtbot.waitUntil(lambda: watch.last == (False, 0), timeout=10_000)  # noticed with nothing to send
    write_finished_unit(local, second.unit_id)
    worker.push_now()
    qtbot.waitUntil(lambda: watch.last == (False, 1), timeout=10_000)

    pg_proxy.start()
    qtbot.waitUntil(lambda: watch.last == (True, 0), timeout=20_000)
    worker.stop()
    assert central_entries(central) == sorted(first.document_ids + second.document_ids)
    central.dispose()


def test_a_bug_in_a_round_is_reported_once_and_the_rounds_go_on(
    qtbot: Any, central: Store, local: Store, make_worker: Callable[..., tuple[SyncWorker, Watch]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=1)
    finished_unit(central, local, ann)
    bugs: list[BaseException] = []
    monkeypatch.setattr(syncworker, "report_bug", bugs.append)
    made = [0]

    def flaky_factory() -> Store:
        made[0] += 1
        if made[0] <= 3:
            raise RuntimeError("a bug in making the store")
        return open_central(central.url)

    worker, watch = make_worker(flaky_factory)
    worker.start()
    qtbot.waitUntil(lambda: watch.last == (True, 0), timeout=10_000)
    assert [str(b) for b in bugs] == ["a bug in making the store"]  # one crash report, not one per retry
    assert made[0] == 4 and watch.reports[-1].sent == 1
