"""Many stations claiming from one batch at once: no task twice, nobody on two passes."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.workstation.centralseed import add_users, seed_batch
from workstation import audit, work
from workstation import models as m
from workstation.errors import NoWorkAvailable
from workstation.store import Store, open_central


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.pg), "sqlite"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.sqlite'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


def test_concurrent_claims_never_hand_out_a_task_twice(shared_url: str) -> None:
    threads = 50 if shared_url.startswith("postgresql") else 8
    keyers_count = threads // 2  # two stations per keyer: their claims race each other too
    documents = 60
    central = open_central(shared_url, create=True)
    keyers = add_users(central, keyers_count)
    batch = seed_batch(central, documents=documents)
    central.dispose()

    claims: list[work.Claim] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def station(index: int) -> None:
        keyer = keyers[index % keyers_count]
        store = Store(shared_url)  # each station its own engine and connections
        rng = random.Random(index)
        try:
            start.wait()
            while True:
                try:
                    got = work.claim(store, keyer, batch_id=batch.batch_id, max_documents=rng.randint(1, 3))
                except NoWorkAvailable:
                    return
                with lock:
                    claims.append(got)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                failures.append(exc)
        finally:
            store.dispose()

    workers = [threading.Thread(target=station, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not failures, failures
    assert not any(w.is_alive() for w in workers)

    given = Counter((doc, c.pass_no) for c in claims for doc in c.document_ids)
    assert [pair for pair, times in given.items() if times > 1] == []
    # Everything was claimed: with this many keyers there is always someone allowed.
    assert len(given) == documents * 2

    passes_by_keyer_doc: dict[tuple[uuid.UUID, uuid.UUID], set[int]] = defaultdict(set)
    for c in claims:
        for doc in c.document_ids:
            passes_by_keyer_doc[(c.keyer_id, doc)].add(c.pass_no)
    assert all(len(passes) == 1 for passes in passes_by_keyer_doc.values())

    central = Store(shared_url)
    unit_of = {(doc, c.pass_no): c.unit_id for c in claims for doc in c.document_ids}
    with central.transaction() as s:
        for task in s.scalars(select(m.Task)):
            assert task.state == "claimed"
            assert task.unit_id == unit_of[(task.document_id, task.pass_no)]
        assert s.scalar(select(func.count()).select_from(m.WorkUnit)) == len(claims)
        assert s.scalar(select(func.count()).select_from(m.Hold)) == documents * 2
    central.dispose()


@pytest.mark.pg
def test_concurrent_claims_and_audit_appends_keep_one_unbroken_chain(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims append unchained side by side while other services append chained and claimers
    chain the tail: every claim ends up in one chain, in order, nothing lost or forked."""
    monkeypatch.setattr(work, "AUDIT_CHAIN_EVERY", 0.01)
    threads = 16
    central = open_central(pg_schema_url, create=True)
    keyers = add_users(central, threads)
    batch = seed_batch(central, documents=400)
    central.dispose()

    claims: list[work.Claim] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    done = threading.Event()
    start = threading.Barrier(threads + 1)

    def station(index: int) -> None:
        store = Store(pg_schema_url)
        try:
            start.wait()
            for pass_no in (1, 2):  # batch and pass named: the one-statement claim
                while True:
                    try:
                        got = work.claim(store, keyers[index], batch_id=batch.batch_id, pass_no=pass_no,
                                         max_documents=1 + index % 2)
                    except NoWorkAvailable:
                        break
                    with lock:
                        claims.append(got)
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                failures.append(exc)
        finally:
            store.dispose()

    def other_services() -> None:  # pushes, logins, QA decisions: chained appends
        store = Store(pg_schema_url)
        try:
            start.wait()
            n = 0
            while not done.is_set():
                with store.transaction() as s:
                    audit.record(s, "work.push", subject=f"push {n}")
                n += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            with lock:
                failures.append(exc)
        finally:
            store.dispose()

    workers = [threading.Thread(target=station, args=(i,)) for i in range(threads)]
    writer = threading.Thread(target=other_services)
    for worker in [*workers, writer]:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    done.set()
    writer.join(timeout=60)
    assert not failures, failures
    assert sum(len(c.document_ids) for c in claims) == 800

    central = Store(pg_schema_url)
    audit.chain_pending(central.engine)
    with central.session() as s:
        result = audit.verify(s)
        events = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "work.claim")).all()
    central.dispose()
    assert result.ok and result.pending == 0, result
    assert sorted(e.subject for e in events) == sorted(str(c.unit_id) for c in claims)
    documents = {e.subject: e.details["documents"] for e in events}
    assert all(documents[str(c.unit_id)] == len(c.document_ids) for c in claims)
