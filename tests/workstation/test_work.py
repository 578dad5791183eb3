"""Claiming work with leases: order, exclusivity, the two-passes rule, expiry, renew, release."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tests.workstation.centralseed import add_user, add_users, seed_batch
from workstation import audit, work
from workstation import models as m
from workstation.errors import LeaseLost, NotFound, NoWorkAvailable, PermissionDenied
from workstation.store import Store

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
LATER = T0 + dt.timedelta(minutes=31)


def _tasks(central: Store, **where: object) -> list[m.Task]:
    with central.transaction() as s:
        query = select(m.Task)
        for key, value in where.items():
            query = query.where(getattr(m.Task, key) == value)
        return list(s.scalars(query))


def _seqs(central: Store, document_ids: tuple[uuid.UUID, ...]) -> list[int]:
    with central.transaction() as s:
        by_id = {d.id: d.seq for d in s.scalars(select(m.Document).where(m.Document.id.in_(document_ids)))}
    return [by_id[d] for d in document_ids]


def _mark_done(central: Store, document_ids: list[uuid.UUID], pass_no: int) -> None:
    with central.transaction() as s:
        s.execute(update(m.Task).where(m.Task.document_id.in_(document_ids), m.Task.pass_no == pass_no)
                  .values(state="done", done_at=T0))


def test_claim_takes_the_highest_priority_then_the_oldest_batch_and_documents_in_order(central: Store) -> None:
    keyer = add_user(central, "ann")
    seed_batch(central, name="old-low", priority=0, created_at=T0 - dt.timedelta(hours=3))
    new_high = seed_batch(central, name="new-high", priority=5, created_at=T0 - dt.timedelta(hours=1))
    old_high = seed_batch(central, name="old-high", priority=5, created_at=T0 - dt.timedelta(hours=2), documents=6)

    offers = work.available_work(central, keyer, now=T0)
    assert [(o.batch_name, o.pass_no) for o in offers] == [
        ("old-high", 1), ("old-high", 2), ("new-high", 1), ("new-high", 2), ("old-low", 1), ("old-low", 2),
    ]
    assert offers[0].documents_left == 6 and offers[0].priority == 5
    assert offers[0].oldest == T0 - dt.timedelta(hours=2)
    assert offers[0].template_name == "rebate" and offers[0].template_title

    first = work.claim(central, keyer, max_documents=4, now=T0)
    assert (first.batch_id, first.pass_no, first.keyer_id) == (old_high.batch_id, 1, keyer)
    assert _seqs(central, first.document_ids) == [1, 2, 3, 4]
    assert first.lease_expires_at == T0 + work.DEFAULT_LEASE

    # The same keyer goes on with the rest of pass 1, then pass 2 of documents they never held.
    second = work.claim(central, keyer, max_documents=4, now=T0)
    assert (second.batch_id, second.pass_no) == (old_high.batch_id, 1)
    assert _seqs(central, second.document_ids) == [5, 6]
    third = work.claim(central, keyer, max_documents=4, now=T0)
    assert third.batch_id == new_high.batch_id


def test_a_task_is_held_by_one_unit_at_a_time(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=5, passes=(1,))
    a = work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, max_documents=3, now=T0)
    b = work.claim(central, bob, batch_id=batch.batch_id, pass_no=1, max_documents=3, now=T0)
    assert set(a.document_ids).isdisjoint(b.document_ids)
    assert len(a.document_ids) + len(b.document_ids) == 5
    for task in _tasks(central):
        expected = a.unit_id if task.document_id in a.document_ids else b.unit_id
        assert (task.state, task.unit_id) == ("claimed", expected)
    with pytest.raises(NoWorkAvailable):
        work.claim(central, add_user(central, "cy"), batch_id=batch.batch_id, pass_no=1, now=T0)


def test_a_keyer_never_gets_another_pass_of_a_document_they_hold(central: Store) -> None:
    ann = add_user(central, "ann")
    batch = seed_batch(central, documents=4)
    held = work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, max_documents=2, now=T0)
    other = work.claim(central, ann, batch_id=batch.batch_id, pass_no=2, max_documents=4, now=T0)
    assert set(other.document_ids) == set(batch.document_ids) - set(held.document_ids)
    # Pass 1 of documents 3-4 and pass 2 of documents 1-2 are open, but not for her.
    assert work.available_work(central, ann, now=T0) == []
    with pytest.raises(NoWorkAvailable):
        work.claim(central, ann, now=T0)
    bob = add_user(central, "bob")
    assert [(o.pass_no, o.documents_left) for o in work.available_work(central, bob, now=T0)] == [(1, 2), (2, 2)]


def test_even_after_the_lease_expired_the_keyer_never_gets_another_pass_of_those_documents(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=4)
    held = work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, max_documents=2, now=T0)
    keyed, unkeyed = held.document_ids
    _mark_done(central, [keyed], pass_no=1)  # ann's first document arrived before the lease ran out
    assert work.expire_leases(central, now=LATER) == 1

    # The unkeyed document went back to the queue and forgot its keyer...
    task = _tasks(central, document_id=unkeyed, pass_no=1)[0]
    assert (task.state, task.keyer_id, task.unit_id) == ("open", None, None)
    # ...but ann was handed it in pass 1 and may still push it: pass 2 of it is never hers.
    again = work.claim(central, ann, batch_id=batch.batch_id, pass_no=2, max_documents=10, now=LATER)
    assert keyed not in again.document_ids and unkeyed not in again.document_ids
    assert len(again.document_ids) == 2
    # She may take her own pass back, and anyone else may take the other passes.
    mine = work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, max_documents=10, now=LATER)
    assert unkeyed in mine.document_ids
    bobs = work.claim(central, bob, batch_id=batch.batch_id, pass_no=2, max_documents=10, now=LATER)
    assert set(bobs.document_ids) == {keyed, unkeyed}


def test_the_schema_refuses_a_second_pass_for_the_same_keyer(central: Store) -> None:
    ann = add_user(central, "ann")
    batch = seed_batch(central, documents=1)
    doc = batch.document_ids[0]
    with pytest.raises(IntegrityError):
        with central.transaction() as s:
            s.add(m.Hold(document_id=doc, keyer_id=ann, pass_no=1))
            s.flush()
            s.add(m.Hold(document_id=doc, keyer_id=ann, pass_no=2))
            s.flush()


def test_an_expired_lease_returns_only_the_unkeyed_remainder(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=4, passes=(1,))
    unit = work.claim(central, ann, max_documents=4, now=T0)
    done = list(unit.document_ids[:2])
    _mark_done(central, done, pass_no=1)

    assert work.expire_leases(central, now=T0 + dt.timedelta(minutes=29)) == 0
    assert work.expire_leases(central, now=LATER) == 1
    assert work.expire_leases(central, now=LATER) == 0
    for task in _tasks(central):
        if task.document_id in done:
            assert (task.state, task.keyer_id, task.unit_id) == ("done", ann, unit.unit_id)
        else:
            assert (task.state, task.keyer_id, task.unit_id) == ("open", None, None)
    with central.transaction() as s:
        assert s.get(m.WorkUnit, unit.unit_id).state == "expired"
    back = work.claim(central, bob, batch_id=batch.batch_id, now=LATER)
    assert set(back.document_ids) == set(unit.document_ids[2:])


def test_a_claim_sweeps_expired_leases_first(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=2, passes=(1,))
    work.claim(central, ann, now=T0, lease=dt.timedelta(minutes=5))
    with pytest.raises(NoWorkAvailable):
        work.claim(central, bob, now=T0 + dt.timedelta(minutes=4))
    assert [o.documents_left for o in work.available_work(central, bob, now=T0 + dt.timedelta(minutes=6))] == [2]
    taken = work.claim(central, bob, now=T0 + dt.timedelta(minutes=6))
    assert set(taken.document_ids) == set(batch.document_ids)


def test_renew_extends_the_lease_until_it_has_run_out(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    seed_batch(central, documents=2)
    unit = work.claim(central, ann, now=T0)
    later = T0 + dt.timedelta(minutes=20)
    assert work.renew(central, unit.unit_id, ann, now=later) == later + work.DEFAULT_LEASE
    # Thanks to the renewal nothing expires at the original deadline.
    assert work.expire_leases(central, now=LATER) == 0
    with pytest.raises(LeaseLost):
        work.renew(central, unit.unit_id, bob, now=later)
    with pytest.raises(LeaseLost, match="ran out"):
        work.renew(central, unit.unit_id, ann, now=later + work.DEFAULT_LEASE + dt.timedelta(seconds=1))
    work.expire_leases(central, now=later + work.DEFAULT_LEASE + dt.timedelta(seconds=1))
    with pytest.raises(LeaseLost):
        work.renew(central, unit.unit_id, ann, now=later)


def test_release_gives_the_documents_back_at_once(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=3, passes=(1,))
    unit = work.claim(central, ann, now=T0)
    with pytest.raises(LeaseLost):
        work.release(central, unit.unit_id, bob)
    work.release(central, unit.unit_id, ann)
    work.release(central, unit.unit_id, ann)  # harmless twice
    with central.transaction() as s:
        assert s.get(m.WorkUnit, unit.unit_id).state == "expired"
    assert {t.state for t in _tasks(central)} == {"open"}
    with pytest.raises(LeaseLost):
        work.renew(central, unit.unit_id, ann, now=T0)
    assert set(work.claim(central, bob, now=T0).document_ids) == set(batch.document_ids)


def test_no_work_is_a_plain_sentence(central: Store) -> None:
    ann = add_user(central, "ann")
    batch = seed_batch(central, documents=1)
    work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, now=T0)
    with pytest.raises(NoWorkAvailable) as caught:
        work.claim(central, ann, batch_id=batch.batch_id, pass_no=2, now=T0)
    assert caught.value.message == "There is no work you can take in this batch in pass 2 right now."
    assert "never offered to you in another" in caught.value.hint
    with pytest.raises(NoWorkAvailable, match="There is no work you can take right now"):
        work.claim(central, ann, now=T0)
    assert work.available_work(central, ann, now=T0) == []


def test_a_third_key_goes_only_to_someone_who_keyed_neither_pass(central: Store) -> None:
    ann, bob, cy = add_users(central, 3)
    batch = seed_batch(central, documents=1)
    doc = batch.document_ids[0]
    work.claim(central, ann, pass_no=1, now=T0)
    work.claim(central, bob, pass_no=2, now=T0)
    _mark_done(central, [doc], 1)
    _mark_done(central, [doc], 2)
    with central.transaction() as s:
        s.add(m.Task(batch_id=batch.batch_id, document_id=doc, pass_no=3, field_paths=["last_name"]))
    for keyer in (ann, bob):
        with pytest.raises(NoWorkAvailable):
            work.claim(central, keyer, now=T0)
    third = work.claim(central, cy, now=T0)
    assert (third.pass_no, third.document_ids) == (3, (doc,))


def test_only_active_known_users_claim(central: Store) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=1)
    with pytest.raises(NotFound):
        work.claim(central, uuid.uuid4(), now=T0)
    with central.transaction() as s:
        s.execute(update(m.User).where(m.User.id == ann).values(active=False))
    with pytest.raises(PermissionDenied):
        work.claim(central, ann, now=T0)
    with pytest.raises(ValueError):
        work.claim(central, ann, max_documents=0)


def test_a_unit_takes_urgent_documents_first_and_fills_up_with_the_rest(central: Store) -> None:
    ann = add_user(central, "ann")
    batch = seed_batch(central, documents=5, passes=(1,))
    with central.transaction() as s:
        s.execute(update(m.Task).where(m.Task.document_id.in_(batch.document_ids[2:4])).values(priority=5))
    unit = work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, max_documents=3, now=T0)
    # Documents 3 and 4 are urgent; document 1 is the oldest of the rest; batch order inside.
    assert _seqs(central, unit.document_ids) == [1, 3, 4]
    assert {t.document_id for t in _tasks(central, state="claimed")} == set(unit.document_ids)


def test_a_named_batch_and_pass_sweeps_expired_leases_too(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=3, passes=(1,))
    first = work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, max_documents=2, now=T0)
    # Bob's claim finds one open document and the two ann's lease held until it ran out.
    got = work.claim(central, bob, batch_id=batch.batch_id, pass_no=1, max_documents=5, now=LATER)
    assert len(got.document_ids) in (1, 3)  # the sweep may come before or right after the pick
    with central.transaction() as s:
        assert s.get(m.WorkUnit, first.unit_id).state == "expired"
    if len(got.document_ids) == 1:
        rest = work.claim(central, bob, batch_id=batch.batch_id, pass_no=1, max_documents=5, now=LATER)
        assert set(rest.document_ids) == set(first.document_ids)
    assert {t.state for t in _tasks(central)} == {"claimed"}


def test_every_claim_is_in_the_audit_log_with_what_it_took(central: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=5, passes=(1,))
    with central.transaction() as s:  # two priority groups: the unit fills up from the second
        s.execute(update(m.Task).where(m.Task.document_id.in_(batch.document_ids[:2])).values(priority=5))
    first = work.claim(central, ann, batch_id=batch.batch_id, pass_no=1, max_documents=4, now=T0)
    second = work.claim(central, bob, max_documents=4, now=T0)
    audit.chain_pending(central.engine)
    with central.session() as s:
        events = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "work.claim")
                           .order_by(m.AuditEvent.seq)).all()
        assert audit.verify(s).ok
    taken: dict[str, int] = {}
    for event in events:
        assert event.details["batch_id"] == str(batch.batch_id) and event.details["pass_no"] == 1
        assert event.user_id == (ann if event.subject == str(first.unit_id) else bob)
        taken[event.subject] = taken.get(event.subject, 0) + event.details["documents"]
    assert taken == {str(first.unit_id): 4, str(second.unit_id): 1}
