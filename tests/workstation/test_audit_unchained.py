"""Claims append their audit events unchained on PostgreSQL; the chain still covers every event.

A chained append holds the audit log's lock until it commits, so claims would queue for one disk
flush each; they hold the lock in shared mode instead and leave their events' hashes empty until
`audit.chain_pending` (or the next chained append) chains them in order.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select, text, update

from tests.workstation.centralseed import add_user, add_users, seed_batch
from workstation import audit, work
from workstation import models as m
from workstation.cli import main
from workstation.store import Store, open_central


APPEND_LOCK = 0x4B574155  # the audit log's advisory locks (workstation.audit)
CHAIN_LOCK = 0x4B574156


@pytest.fixture
def no_periodic_chaining(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claims leave their events unchained for as long as the test runs."""
    monkeypatch.setattr(work, "AUDIT_CHAIN_EVERY", 3600.0)
    monkeypatch.setattr(work, "_chained_at", time.monotonic())


@pytest.fixture
def pg_central(pg_schema_url: str) -> Iterator[Store]:
    store = open_central(pg_schema_url, create=True)
    yield store
    store.dispose()


def _events(central: Store) -> list[m.AuditEvent]:
    with central.session() as s:
        return list(s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.seq)))


def _claim_events(central: Store) -> list[m.AuditEvent]:
    return [e for e in _events(central) if e.action == "work.claim"]


@pytest.mark.pg
@pytest.mark.usefixtures("no_periodic_chaining")
def test_a_claim_appends_its_event_unchained_and_chain_pending_chains_it(pg_central: Store) -> None:
    ann = add_user(pg_central, "ann")
    batch = seed_batch(pg_central, documents=3)
    unit = work.claim(pg_central, ann, batch_id=batch.batch_id, pass_no=2, max_documents=2)

    (event,) = _claim_events(pg_central)
    assert (event.prev_hash, event.hash) == ("", "")
    assert (event.user_id, event.username, event.subject) == (ann, "ann", str(unit.unit_id))
    assert event.details == {"batch_id": str(batch.batch_id), "pass_no": 2, "documents": 2}
    assert event.at == unit.lease_expires_at - work.DEFAULT_LEASE
    with pg_central.session() as s:
        before = audit.verify(s)
    assert before.ok and before.pending == 1

    assert audit.chain_pending(pg_central.engine) == 1
    assert audit.chain_pending(pg_central.engine) == 0
    with pg_central.session() as s:
        after = audit.verify(s)
    assert after.ok and after.pending == 0 and after.events == before.events + 1
    assert _claim_events(pg_central)[0].hash == after.last_hash


@pytest.mark.pg
@pytest.mark.usefixtures("no_periodic_chaining")
def test_a_chained_append_chains_the_claims_before_it_first(pg_central: Store) -> None:
    keyers = add_users(pg_central, 3)
    batch = seed_batch(pg_central, documents=3, passes=(1,))
    for keyer in keyers:
        work.claim(pg_central, keyer, batch_id=batch.batch_id, pass_no=1, max_documents=1)
    with pg_central.transaction() as s:
        audit.record(s, "export", subject="B1")

    events = _events(pg_central)
    assert [e.action for e in events[-4:]] == ["work.claim"] * 3 + ["export"]
    assert all(e.hash for e in events)
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    with pg_central.session() as s:
        result = audit.verify(s)
    assert result.ok and result.pending == 0 and result.events == len(events)


def _waiting_for(observer: Engine, key: int, mode: str) -> int:
    with observer.connect() as conn:
        return int(conn.scalar(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND mode = :mode "
            "AND objid = :key"), {"key": key, "mode": mode}) or 0)


@pytest.mark.pg
@pytest.mark.usefixtures("no_periodic_chaining")
def test_a_claim_waits_for_a_chained_append_in_flight_and_follows_it(pg_central: Store, pg_schema_url: str) -> None:
    ann = add_user(pg_central, "ann")
    batch = seed_batch(pg_central, documents=1, passes=(1,))
    other = Store(pg_schema_url)
    claims: list[work.Claim] = []
    observer = create_engine(pg_schema_url, isolation_level="AUTOCOMMIT")
    try:
        with other.transaction() as s:
            audit.record(s, "export", subject="B1")  # holds the append lock until this block ends
            thread = threading.Thread(target=lambda: claims.append(
                work.claim(pg_central, ann, batch_id=batch.batch_id, pass_no=1)))
            thread.start()
            deadline = time.monotonic() + 30
            while not _waiting_for(observer, APPEND_LOCK, "ShareLock") and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _waiting_for(observer, APPEND_LOCK, "ShareLock") == 1, "the claim did not wait"
            assert claims == [] and _claim_events(pg_central) == []
        thread.join(timeout=30)
        assert len(claims) == 1
    finally:
        observer.dispose()
        other.dispose()
    assert [e.action for e in _events(pg_central)][-2:] == ["export", "work.claim"]
    assert audit.chain_pending(pg_central.engine) == 1
    with pg_central.session() as s:
        assert audit.verify(s).ok


@pytest.mark.pg
@pytest.mark.usefixtures("no_periodic_chaining")
def test_claims_go_on_while_the_tail_is_being_chained(pg_central: Store, pg_schema_url: str) -> None:
    keyers = add_users(pg_central, 2)
    batch = seed_batch(pg_central, documents=2, passes=(1,))
    work.claim(pg_central, keyers[0], batch_id=batch.batch_id, pass_no=1, max_documents=1)
    chainer = Store(pg_schema_url)
    claims: list[work.Claim] = []
    try:
        with chainer.transaction() as s:  # a chainer busy with a long tail holds the chainer lock
            s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
            thread = threading.Thread(target=lambda: claims.append(
                work.claim(pg_central, keyers[1], batch_id=batch.batch_id, pass_no=1, max_documents=1)))
            thread.start()
            thread.join(timeout=30)
            assert len(claims) == 1, "a claim waited for the chaining"
    finally:
        chainer.dispose()
    assert audit.chain_pending(pg_central.engine) == 2
    with pg_central.session() as s:
        assert audit.verify(s).ok


def test_blanking_an_older_events_hashes_is_detected(central: Store) -> None:
    user = add_user(central, "asha")
    for i in range(4):
        with central.transaction() as s:
            audit.record(s, "work.claim", actor=user, subject=f"unit {i}")
    with central.transaction() as s:
        second = s.scalars(select(m.AuditEvent.seq).where(m.AuditEvent.subject == "unit 1")).one()
        s.execute(update(m.AuditEvent).where(m.AuditEvent.seq == second).values(prev_hash="", hash=""))
    with central.session() as s:
        result = audit.verify(s)
    assert not result.ok and "blanked" in result.problem and result.broken_seq is not None
    assert result.broken_seq > second


def test_on_sqlite_a_claims_event_is_chained_at_once(tmp_path: Path) -> None:
    central = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    ann = add_user(central, "ann")
    batch = seed_batch(central, documents=2)
    work.claim(central, ann, batch_id=batch.batch_id, pass_no=1)
    (event,) = _claim_events(central)
    assert event.hash and event.details["documents"] == 2
    with central.session() as s:
        assert audit.verify(s).pending == 0
    central.dispose()


@pytest.mark.pg
@pytest.mark.usefixtures("no_periodic_chaining")
def test_cli_verify_chains_the_newest_events_first(pg_central: Store, pg_schema_url: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ann = add_user(pg_central, "ann")
    batch = seed_batch(pg_central, documents=2)
    work.claim(pg_central, ann, batch_id=batch.batch_id, pass_no=1)
    count = len(_events(pg_central))
    assert main(["--central", pg_schema_url, "audit", "verify"]) == 0
    assert f"{count} events, chain intact" in capsys.readouterr().out
    assert all(e.hash for e in _events(pg_central))


@pytest.mark.pg
@pytest.mark.usefixtures("no_periodic_chaining")
def test_cli_export_chains_the_newest_events_first(pg_central: Store, pg_schema_url: str, tmp_path: Path) -> None:
    ann = add_user(pg_central, "ann")
    batch = seed_batch(pg_central, documents=2)
    work.claim(pg_central, ann, batch_id=batch.batch_id, pass_no=1)
    out = tmp_path / "audit.csv"
    assert main(["--central", pg_schema_url, "audit", "export", "--out", str(out)]) == 0
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    claims = [row for row in rows if row["action"] == "work.claim"]
    assert len(claims) == 1
    assert claims[0]["hash"] and claims[0]["prev_hash"], "an exported event lacks its hashes"


@pytest.mark.pg
def test_claimers_chain_the_log_every_few_seconds(pg_central: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(work, "AUDIT_CHAIN_EVERY", 0.0)
    ann, bob = add_user(pg_central, "ann"), add_user(pg_central, "bob")
    batch = seed_batch(pg_central, documents=2)
    first = work.claim(pg_central, ann, batch_id=batch.batch_id, pass_no=1)
    work.claim(pg_central, bob, batch_id=batch.batch_id, pass_no=2)
    events = _claim_events(pg_central)
    assert [e.subject for e in events][0] == str(first.unit_id)
    assert all(e.hash for e in events)

