"""QA decisions: role checks, own-entry rule, pick/type/mark, undo, audit, finality."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from tests.workstation.centralseed import add_user, seed_batch
from tests.workstation.test_resolve import add_entry
from workstation import audit
from workstation import models as m
from workstation import qa
from workstation.auth import Actor
from workstation.errors import DatabaseUnavailable, KnownError, NotFound, PermissionDenied
from workstation.store import Store


@pytest.fixture
def disputed(central: Store) -> tuple[uuid.UUID, Actor, uuid.UUID, uuid.UUID]:
    batch = seed_batch(central, documents=1, template="rebate", name="R")  # policy qa
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    lead = add_user(central, "lead", role="qa")
    doc = batch.document_ids[0]
    e1 = add_entry(central, doc, 1, k1, {"first_name": "ANNA", "last_name": "LEE", "city": "X"})
    e2 = add_entry(central, doc, 2, k2, {"first_name": "ANNE", "last_name": "LE", "city": "X"})
    return doc, Actor(lead, "lead", "qa"), e1, e2


def test_the_queue_shows_every_entry_side_by_side_without_names(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, e2 = disputed
    items = qa.qa_queue(central, lead)
    assert [i.field_path for i in items] == ["first_name", "last_name"]
    first = items[0]
    assert [(c.entry_id, c.value) for c in first.candidates] == [(e1, "ANNA"), (e2, "ANNE")]
    assert all(c.keyer == "" for c in first.candidates)
    assert [op.kind for op in first.candidates[1].diff if op.kind != "equal"] == ["replace"]


def test_only_qa_and_admin_reach_the_services(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, _ = disputed
    keyer = Actor(uuid.uuid4(), "k9", "keyer")
    supervisor = Actor(uuid.uuid4(), "s1", "supervisor")
    for actor in (keyer, supervisor):
        with pytest.raises(PermissionDenied):
            qa.qa_queue(central, actor)
        with pytest.raises(PermissionDenied):
            qa.decide(central, actor, qa.qa_queue(central, lead)[0].dispute_id, entry_id=e1)
    admin = Actor(add_user(central, "boss", role="admin"), "boss", "admin")
    assert len(qa.qa_queue(central, admin)) == 2


def test_pick_type_undo_then_close_makes_the_document_final(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, e2 = disputed
    first, last = qa.qa_queue(central, lead)
    picked = qa.decide(central, lead, first.dispute_id, entry_id=e1, reason="image_clear", finalize=False)
    assert not picked.document_final
    typed = qa.decide(central, lead, last.dispute_id, value="lee", reason="keyer_typo", finalize=False)
    assert typed.issues == ()
    assert qa.undo_last(central, lead, doc) == "last_name"
    assert [i.field_path for i in qa.qa_queue(central, lead)] == ["last_name"]
    qa.decide(central, lead, last.dispute_id, value="LEE", reason="keyer_typo", finalize=False)
    assert qa.close_document(central, lead, doc)
    with central.session() as s:
        assert s.get(m.Document, doc).state == "final"
        finals = {r.field_path: (r.value, r.how, r.reason, r.decided_by) for r in s.scalars(select(m.Resolution))}
        assert finals["first_name"] == ("ANNA", "qa", "image_clear", lead.id)
        assert finals["last_name"] == ("LEE", "qa", "keyer_typo", lead.id)
        assert finals["city"][1] == "agreed"
        scored = {(fv.entry_id, fv.field_path): fv.final_match for fv in s.scalars(select(m.FieldValue))}
        assert scored[(e2, "first_name")] is False and scored[(e1, "first_name")] is True
        assert scored[(e2, "last_name")] is False and scored[(e1, "last_name")] is True
        events = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action.in_(["qa_decision", "qa_undo"]))).all()
        assert [e.action for e in events] == ["qa_decision", "qa_decision", "qa_undo", "qa_decision"]
        assert all("ANNA" not in str(e.details) and "LEE" not in str(e.details) for e in events)
    with pytest.raises(NotFound):
        qa.decide(central, lead, first.dispute_id, entry_id=e1)


def test_marking_illegible_and_a_final_decision_finalises_at_once(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, _ = disputed
    first, last = qa.qa_queue(central, lead)
    assert not qa.decide(central, lead, first.dispute_id, flag="illegible", reason="illegible").document_final
    assert qa.decide(central, lead, last.dispute_id, entry_id=e1).document_final


def test_a_lead_who_keyed_the_document_cannot_decide_it_unless_allowed(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="rebate", name="R2")
    lead_id, k2 = add_user(central, "lead", role="qa"), add_user(central, "k2")
    doc = batch.document_ids[0]
    e1 = add_entry(central, doc, 1, lead_id, {"first_name": "ANNA"})
    add_entry(central, doc, 2, k2, {"first_name": "ANNE"})
    lead = Actor(lead_id, "lead", "qa")
    (item,) = qa.qa_queue(central, lead)
    with pytest.raises(PermissionDenied, match="keyed an entry"):
        qa.decide(central, lead, item.dispute_id, entry_id=e1)
    qa.decide(central, lead, item.dispute_id, entry_id=e1, allow_own=True)
    with central.session() as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "qa_decision")).one()
        assert event.details["own_entry"] is True


# --- every decision is recorded: who, when, which entry or typed value, the reason ------------


def test_every_decision_is_recorded_with_who_when_which_entry_or_value_and_reason(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, e2 = disputed
    first, last = qa.qa_queue(central, lead)
    before = m.utcnow()
    picked = qa.decide(central, lead, first.dispute_id, entry_id=e2, reason="image_clear", finalize=False)
    typed = qa.decide(central, lead, last.dispute_id, value=" lee ", reason="keyer_typo")
    with central.session() as s:
        rows = {r.field_path: r for r in s.scalars(select(m.Resolution).where(m.Resolution.how == "qa"))}
        assert (rows["first_name"].chosen_entry_id, rows["first_name"].value, rows["first_name"].decided_by) == (e2, "ANNE", lead.id)
        assert (rows["last_name"].chosen_entry_id, rows["last_name"].value) == (None, "LEE")  # prepared like keying
        assert all(r.decided_at >= before for r in rows.values())
        events = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "qa_decision").order_by(m.AuditEvent.seq)).all()
    assert [(e.user_id, e.username) for e in events] == [(lead.id, "lead")] * 2
    assert events[0].details == {"decision": "pick pass 2", "reason": "image_clear", "entry": str(e2), "pass": 2,
                                 "resolution": str(picked.resolution_id), "own_entry": False, "issues": 0}
    assert events[1].details["decision"] == "typed" and events[1].details["entry"] == ""
    assert events[1].details["resolution"] == str(typed.resolution_id)
    assert all(e.at >= before for e in events)
    assert "first_name" in events[0].subject and str(doc) in events[0].subject
    with central.session() as s:
        assert audit.verify(s).ok


def test_a_typed_value_is_validated_like_keying_and_kept_with_its_issues(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="rebate", name="Z")
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    lead = Actor(add_user(central, "lead", role="qa"), "lead", "qa")
    add_entry(central, batch.document_ids[0], 1, k1, {"zip": "12345"})
    add_entry(central, batch.document_ids[0], 2, k2, {"zip": "12346"})
    (item,) = qa.qa_queue(central, lead)
    check = qa.check_typed(item.spec, "12a")
    assert check.value == "12a" and {i.code for i in check.issues} & {"type", "length", "fixed_length"}
    decision = qa.decide(central, lead, item.dispute_id, value="12a", reason="other")
    assert decision.issues == check.issues and decision.document_final
    assert qa.check_typed(item.spec, "62704").issues == ()


def test_unknown_reasons_and_ambiguous_choices_are_refused(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, _ = disputed
    item = qa.qa_queue(central, lead)[0]
    with pytest.raises(KnownError, match="Unknown reason"):
        qa.decide(central, lead, item.dispute_id, entry_id=e1, reason="because")
    with pytest.raises(KnownError, match="exactly one"):
        qa.decide(central, lead, item.dispute_id, entry_id=e1, value="ANNA")
    with pytest.raises(KnownError, match="exactly one"):
        qa.decide(central, lead, item.dispute_id)
    assert len(qa.qa_queue(central, lead)) == 2


def test_a_field_another_lead_decided_first_is_a_sentence_not_a_crash(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, _ = disputed
    item = qa.qa_queue(central, lead)[0]
    with central.transaction() as s:  # the other lead's resolution is in, their dispute update not seen yet
        s.add(m.Resolution(document_id=doc, field_path=item.field_path, value="ANNA", how="qa"))
    with pytest.raises(NotFound, match="Another QA lead"):
        qa.decide(central, lead, item.dispute_id, entry_id=e1)


# --- roles ------------------------------------------------------------------------------------


def test_every_qa_service_checks_the_role(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, _ = disputed
    batch_id = qa.qa_queue(central, lead)[0].batch_id
    dispute_id = qa.qa_queue(central, lead)[0].dispute_id
    keyer = Actor(uuid.uuid4(), "k9", "keyer")
    calls = [
        lambda a: qa.reveal_values(central, a, dispute_id),
        lambda a: qa.undo_last(central, a, doc),
        lambda a: qa.close_document(central, a, doc),
        lambda a: qa.close_decided_documents(central, a),
        lambda a: qa.qa_batches(central, a),
        lambda a: qa.batch_documents(central, a, batch_id),
        lambda a: qa.lead_figures(central, a),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call(keyer)


def test_only_an_admin_sees_who_keyed_and_that_is_audited(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, _, _ = disputed
    with pytest.raises(PermissionDenied):
        qa.qa_queue(central, lead, reveal=True)
    admin = Actor(add_user(central, "boss", role="admin"), "boss", "admin")
    names = {c.keyer for c in qa.qa_queue(central, admin, reveal=True)[0].candidates}
    assert names == {"k1", "k2"}
    with central.session() as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "qa_reveal_keyers")).one()
        assert event.username == "boss" and event.details["fields"] == 2


# --- sensitive fields ---------------------------------------------------------------------------


def test_sensitive_values_are_masked_until_revealed_and_the_reveal_is_audited(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="rebate", name="C")
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    lead = Actor(add_user(central, "lead", role="qa"), "lead", "qa")
    e1 = add_entry(central, batch.document_ids[0], 1, k1, {"card_last4": "1234", "city": "X"})
    add_entry(central, batch.document_ids[0], 2, k2, {"card_last4": "123", "city": "Y"})
    items = {i.field_path: i for i in qa.qa_queue(central, lead)}
    card = items["card_last4"]
    assert card.masked and not items["city"].masked
    assert [c.value for c in card.candidates] == ["\u2022" * 4, "\u2022" * 3]
    assert "1234" not in repr(card.candidates)
    assert [op.kind for op in card.candidates[1].diff] == ["equal", "delete"]  # only the length shows
    with central.session() as s:
        assert s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "qa_reveal_value")).all() == []
    revealed = qa.reveal_values(central, lead, card.dispute_id)
    assert [c.value for c in revealed] == ["1234", "123"] and revealed[0].entry_id == e1
    assert [c.keyer for c in revealed] == ["", ""]
    with central.session() as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "qa_reveal_value")).one()
        assert event.username == "lead" and "card_last4" in event.subject and "1234" not in str(event.details)


# --- the own-entry rule ----------------------------------------------------------------------


def test_the_queue_marks_documents_the_lead_keyed(central: Store) -> None:
    batch = seed_batch(central, documents=2, template="rebate", name="O")
    lead_id, k1, k2 = add_user(central, "lead", role="qa"), add_user(central, "k1"), add_user(central, "k2")
    add_entry(central, batch.document_ids[0], 1, lead_id, {"city": "X"})
    add_entry(central, batch.document_ids[0], 2, k2, {"city": "Y"})
    add_entry(central, batch.document_ids[1], 1, k1, {"city": "X"})
    add_entry(central, batch.document_ids[1], 2, k2, {"city": "Y"})
    lead = Actor(lead_id, "lead", "qa")
    assert [(i.document_seq, i.own_entry) for i in qa.qa_queue(central, lead)] == [(1, True), (2, False)]


def test_an_admin_who_keyed_the_document_is_held_to_the_same_rule(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="rebate", name="A")
    boss, k2 = add_user(central, "boss", role="admin"), add_user(central, "k2")
    e1 = add_entry(central, batch.document_ids[0], 1, boss, {"city": "X"})
    add_entry(central, batch.document_ids[0], 2, k2, {"city": "Y"})
    admin = Actor(boss, "boss", "admin")
    (item,) = qa.qa_queue(central, admin)
    with pytest.raises(PermissionDenied, match="keyed an entry"):
        qa.decide(central, admin, item.dispute_id, entry_id=e1)


# --- undo, closing ---------------------------------------------------------------------------


def test_undo_of_a_named_field_and_only_the_actors_own_decisions(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, e2 = disputed
    first, last = qa.qa_queue(central, lead)
    qa.decide(central, lead, first.dispute_id, entry_id=e1, finalize=False)
    qa.decide(central, lead, last.dispute_id, entry_id=e2, finalize=False)
    other = Actor(add_user(central, "lead2", role="qa"), "lead2", "qa")
    with pytest.raises(KnownError, match="no decision"):
        qa.undo_last(central, other, doc)
    assert qa.undo_last(central, lead, doc, "first_name") == "first_name"
    assert [i.field_path for i in qa.qa_queue(central, lead)] == ["first_name"]
    with central.session() as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "qa_undo")).one()
        assert event.details["reason"] == "image_clear" and event.details["resolution"]


def test_decided_documents_left_open_are_closed_by_their_lead_or_when_stale(central: Store) -> None:
    batch = seed_batch(central, documents=2, template="rebate", name="L")
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    lead = Actor(add_user(central, "lead", role="qa"), "lead", "qa")
    other = Actor(add_user(central, "lead2", role="qa"), "lead2", "qa")
    entries = {}
    for doc in batch.document_ids:
        entries[doc] = add_entry(central, doc, 1, k1, {"city": "X"})
        add_entry(central, doc, 2, k2, {"city": "Y"})
    for item in qa.qa_queue(central, lead):
        qa.decide(central, lead, item.dispute_id, entry_id=entries[item.document_id], finalize=False)
    states = lambda: [r.state for r in qa.batch_documents(central, lead, batch.batch_id)]  # noqa: E731
    assert states() == [qa.STATE_DECIDED, qa.STATE_DECIDED]
    assert qa.close_decided_documents(central, other) == 0  # another lead's, and fresh: left alone
    later = m.utcnow() + qa.STALE_OPEN + dt.timedelta(seconds=1)
    assert qa.close_decided_documents(central, other, now=later) == 2
    assert states() == [qa.STATE_FINAL, qa.STATE_FINAL]
    assert qa.close_decided_documents(central, lead) == 0


# --- batch view and figures ----------------------------------------------------------------------


def test_the_batch_view_lists_document_states_and_filters_the_still_disputed(central: Store) -> None:
    batch = seed_batch(central, documents=4, template="rebate", name="V")
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    lead = Actor(add_user(central, "lead", role="qa"), "lead", "qa")
    d1, d2, d3, _d4 = batch.document_ids
    e1 = add_entry(central, d1, 1, k1, {"city": "X", "zip": "1"})
    add_entry(central, d1, 2, k2, {"city": "Y", "zip": "2"})
    add_entry(central, d2, 1, k1, {"city": "X"})
    add_entry(central, d2, 2, k2, {"city": "X"})  # agreed: final at once
    add_entry(central, d3, 1, k1, {"city": "X"})  # pass 2 still out
    city = next(i for i in qa.qa_queue(central, lead) if i.document_id == d1 and i.field_path == "city")
    qa.decide(central, lead, city.dispute_id, entry_id=e1)
    rows = qa.batch_documents(central, lead, batch.batch_id)
    assert [(r.seq, r.state, r.open_fields, r.decided_fields) for r in rows] == [
        (1, qa.STATE_DISPUTED, 1, 1), (2, qa.STATE_FINAL, 0, 0), (3, qa.STATE_KEYING, 0, 0), (4, qa.STATE_KEYING, 0, 0)]
    assert [r.seq for r in qa.batch_documents(central, lead, batch.batch_id, still_disputed=True)] == [1]
    (summary,) = qa.qa_batches(central, lead)
    assert (summary.name, summary.documents, summary.final, summary.disputed_documents, summary.open_fields) == ("V", 4, 1, 1, 1)


def test_the_leads_figures_count_decisions_per_hour_of_qa_time(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="rebate", name="F")
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    lead = Actor(add_user(central, "lead", role="qa"), "lead", "qa")
    e1 = add_entry(central, batch.document_ids[0], 1, k1, {"first_name": "A", "last_name": "B", "city": "C", "zip": "1"})
    add_entry(central, batch.document_ids[0], 2, k2, {"first_name": "X", "last_name": "Y", "city": "Z", "zip": "2"})
    for item in qa.qa_queue(central, lead):
        qa.decide(central, lead, item.dispute_id, entry_id=e1, finalize=False)
    start = m.utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
    # Decisions at 0 s, 10 s, 30 s, then one after a 20-minute pause: 2 timed gaps, 30 s of QA time.
    with central.transaction() as s:
        rows = s.scalars(select(m.Resolution).where(m.Resolution.how == "qa").order_by(m.Resolution.field_path)).all()
        for row, offset in zip(rows, (0, 10, 30, 30 + 20 * 60)):
            row.decided_at = start + dt.timedelta(seconds=offset)
    figures = qa.lead_figures(central, lead, since=start - dt.timedelta(minutes=1))
    assert figures.decisions == 4 and figures.active_seconds == 30
    assert figures.per_hour == pytest.approx(2 / (30 / 3600))
    assert qa.lead_figures(central, lead, since=start + dt.timedelta(minutes=5)).decisions == 1
    assert qa.lead_figures(central, lead, since=start + dt.timedelta(minutes=5)).per_hour is None
    other = Actor(add_user(central, "lead2", role="qa"), "lead2", "qa")
    assert qa.lead_figures(central, other).decisions == 0


def test_a_third_keys_entry_is_a_third_candidate(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="survey", name="T")  # policy third_key
    k1, k2, k3 = add_user(central, "k1"), add_user(central, "k2"), add_user(central, "k3")
    lead = Actor(add_user(central, "lead", role="qa"), "lead", "qa")
    doc = batch.document_ids[0]
    add_entry(central, doc, 1, k1, {"age": "43"})
    add_entry(central, doc, 2, k2, {"age": "34"})
    e3 = add_entry(central, doc, 3, k3, {"age": "44"})
    (item,) = qa.qa_queue(central, lead)
    assert [(c.pass_no, c.value) for c in item.candidates] == [(1, "43"), (2, "34"), (3, "44")]
    assert qa.decide(central, lead, item.dispute_id, entry_id=e3, reason="image_clear").document_final


def test_an_unreachable_central_database_is_a_known_error() -> None:
    gone = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    lead = Actor(uuid.uuid4(), "lead", "qa")
    try:
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            qa.qa_queue(gone, lead)
        with pytest.raises(DatabaseUnavailable):
            qa.decide(gone, lead, uuid.uuid4(), entry_id=uuid.uuid4())
    finally:
        gone.dispose()


def test_the_role_is_checked_against_the_database_not_only_the_actor(central: Store, disputed) -> None:  # type: ignore[no-untyped-def]
    doc, lead, e1, _ = disputed
    item = qa.qa_queue(central, lead)[0]
    forged = Actor(uuid.uuid4(), "ghost", "qa")  # no such user
    with pytest.raises(NotFound):
        qa.qa_queue(central, forged)
    with central.transaction() as s:
        s.get(m.User, lead.id).active = False
    with pytest.raises(PermissionDenied, match="disabled"):
        qa.decide(central, lead, item.dispute_id, entry_id=e1)
    with central.transaction() as s:
        user = s.get(m.User, lead.id)
        user.active, user.role = True, "keyer"  # demoted while the station was open
    with pytest.raises(PermissionDenied):
        qa.decide(central, lead, item.dispute_id, entry_id=e1)
    assert qa.qa_queue(central, Actor(add_user(central, "lead2", role="qa"), "lead2", "qa"))[0].dispute_id == item.dispute_id
