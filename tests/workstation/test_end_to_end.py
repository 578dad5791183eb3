"""The whole double-entry pipeline through the real services, with one station per keyer.

Import-shaped batch in the central database -> pass 1 and pass 2 keyed on two stations with the
keying session -> pushed -> compared centrally -> third key on a third station (blind) -> final
values -> scored -> exported. Runs on the embedded SQLite central database and on PostgreSQL.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.workstation.centralseed import add_user, seed_batch
from workstation import models as m
from workstation.cli import main
from workstation.keying import KeyingSession
from workstation.store import Store, open_local
from workstation.sync import claim_and_pull, push_pending

# A survey as printed on the paper; doc 2 is where pass 2 slips.
TRUTH = {
    "respondent_id": "12345674",
    "visit_date": "07/03/2024",
    "age": "43",
    "gender": "F",
    "q1": "4", "q2": "5", "q3": "3", "q4": "4", "q5": "5", "q6": "4",
    "recommend": "X",
    "visits_per_year": "2",
    "comments": "Friendly staff, long wait",
}


def key_unit(local: Store, unit_id: uuid.UUID, keyer_id: uuid.UUID, values_for: dict[int, dict[str, str]]) -> list[str]:
    """Key every document of the unit as a keyer would: one keystroke per character, Enter."""
    session = KeyingSession.open(local, unit_id, keyer_id)
    keyed_paths: list[str] = []
    while not session.unit_finished:
        values = values_for[session.document.seq]
        while True:
            path = session.path
            keyed_paths.append(path)
            text = values.get(path, "")
            for _ in text:
                session.keystroke()
            session.set_text(text)
            if session.advance(confirm=True).document_done:
                break
        session.finish_document()
    return keyed_paths


def station(tmp_path: Path, name: str) -> Store:
    return open_local(f"sqlite:///{tmp_path / f'{name}.sqlite'}")


def test_two_stations_then_a_blind_third_key_make_every_field_final(central: Store, central_url: str, tmp_path: Path) -> None:
    batch = seed_batch(central, documents=3, template="survey", name="SURVEY-1")
    alice, bob, carol = (add_user(central, name) for name in ("alice", "bob", "carol"))
    a_station, b_station, c_station = (station(tmp_path, n) for n in ("a", "b", "c"))

    claim_a, _ = claim_and_pull(central, a_station, alice, batch_id=batch.batch_id, pass_no=1)
    claim_b, _ = claim_and_pull(central, b_station, bob, batch_id=batch.batch_id, pass_no=2)
    assert set(claim_a.document_ids) == set(claim_b.document_ids) == set(batch.document_ids)

    first = {seq: dict(TRUTH) for seq in (1, 2, 3)}
    second = {seq: dict(TRUTH) for seq in (1, 2, 3)}
    second[2]["age"] = "34"  # a transposition by bob
    second[3]["visit_date"] = "7/3/2024"  # same date, other format: must agree
    key_unit(a_station, claim_a.unit_id, alice, first)
    key_unit(b_station, claim_b.unit_id, bob, second)
    assert push_pending(a_station, central).sent == 1
    assert push_pending(b_station, central).sent == 1

    doc1, doc2, doc3 = batch.document_ids
    with central.session() as s:
        states = dict(s.execute(select(m.Document.id, m.Document.state)).all())
        assert states[doc1] == "final" and states[doc3] == "final"
        assert states[doc2] != "final"
        disputes = s.scalars(select(m.Dispute).where(m.Dispute.document_id == doc2)).all()
        assert [(d.field_path, d.stage, d.state) for d in disputes] == [("age", "third_key", "open")]
        third = s.scalars(select(m.Task).where(m.Task.pass_no == 3)).one()
        assert third.document_id == doc2 and third.field_paths == ["age"] and third.state == "open"

    # Neither earlier keyer may take the third key; carol can, and sees no earlier value.
    claim_c, _ = claim_and_pull(central, c_station, carol, batch_id=batch.batch_id, pass_no=3)
    with c_station.session() as s:
        assert s.scalars(select(m.FieldValue)).all() == []
        assert s.scalars(select(m.Entry).where(m.Entry.keyer_id != carol)).all() == []
    keyed = key_unit(c_station, claim_c.unit_id, carol, {2: {"age": "43"}})
    assert keyed == ["age"]
    assert push_pending(c_station, central).sent == 1

    with central.session() as s:
        assert s.get(m.Document, doc2).state == "final"
        assert s.get(m.Batch, batch.batch_id).state == "final"
        age = s.scalars(select(m.Resolution).where(m.Resolution.document_id == doc2, m.Resolution.field_path == "age")).one()
        assert (age.value, age.how) == ("43", "third_key")
        scored = {
            (row.keyer_id, row.field_path): (row.final_match, row.error_class)
            for row in s.scalars(select(m.FieldValue).join(m.Entry).where(m.Entry.document_id == doc2))
        }
        assert scored[(bob, "age")] == (False, "transposition")
        assert scored[(alice, "age")] == (True, None)
        assert scored[(carol, "age")] == (True, None)
        # Every field of every document has exactly one final value.
        finals = s.execute(select(m.Resolution.document_id, m.Resolution.field_path)).all()
        assert len(finals) == len(set(finals)) == 3 * len(TRUTH)

    out = tmp_path / "survey.csv"
    assert main(["--central", central_url, "export", "--batch", "SURVEY-1", "--format", "csv", "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    assert {row["age"] for row in rows} == {"43"}
    assert {row["visit_date"] for row in rows} == {"2024-03-07"}  # DD/MM/YYYY exported as ISO


def test_a_station_keeps_no_keyed_text_after_its_push_is_confirmed(central: Store, tmp_path: Path) -> None:
    batch = seed_batch(central, documents=2, template="survey")
    alice = add_user(central, "alice")
    local = station(tmp_path, "a")
    claim, _ = claim_and_pull(central, local, alice, batch_id=batch.batch_id, pass_no=1)
    key_unit(local, claim.unit_id, alice, {1: dict(TRUTH), 2: dict(TRUTH)})
    with local.session() as s:
        assert "Friendly staff, long wait" in s.scalars(select(m.FieldValue.value)).all()
    assert push_pending(local, central).sent == 1
    with local.session() as s:
        assert all(value == "" for value in s.scalars(select(m.FieldValue.value)))
        assert s.scalars(select(m.Image)).all() == []
    with central.session() as s:
        assert "Friendly staff, long wait" in s.scalars(select(m.FieldValue.value)).all()


@pytest.mark.parametrize("policy_template", ["rebate"])
def test_qa_policy_sends_a_mismatch_straight_to_qa(central: Store, tmp_path: Path, policy_template: str) -> None:
    batch = seed_batch(central, documents=1, template=policy_template)
    alice, bob = add_user(central, "alice"), add_user(central, "bob")
    a_station, b_station = station(tmp_path, "a"), station(tmp_path, "b")
    claim_a, _ = claim_and_pull(central, a_station, alice, batch_id=batch.batch_id, pass_no=1)
    claim_b, _ = claim_and_pull(central, b_station, bob, batch_id=batch.batch_id, pass_no=2)
    key_unit(a_station, claim_a.unit_id, alice, {1: {"first_name": "ANNA", "last_name": "LEE"}})
    key_unit(b_station, claim_b.unit_id, bob, {1: {"first_name": "ANNE", "last_name": "lee"}})
    push_pending(a_station, central)
    push_pending(b_station, central)
    with central.session() as s:
        disputes = s.scalars(select(m.Dispute)).all()
        assert [(d.field_path, d.stage) for d in disputes] == [("first_name", "qa")]
        assert s.scalars(select(m.Task).where(m.Task.pass_no == 3)).all() == []
        last = s.scalars(select(m.Resolution).where(m.Resolution.field_path == "last_name")).one()
        assert last.how == "agreed"
