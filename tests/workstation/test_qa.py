"""QA decisions: role checks, own-entry rule, pick/type/mark, undo, audit, finality."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.workstation.centralseed import add_user, seed_batch
from tests.workstation.test_resolve import add_entry
from workstation import models as m
from workstation import qa
from workstation.auth import Actor
from workstation.errors import NotFound, PermissionDenied
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
    assert {c.keyer for c in qa.qa_queue(central, lead, reveal=True)[0].candidates} == {"k1", "k2"}


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
