"""Resolution rules on hand-built entries: third key outcomes, idempotence, export rules."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.workstation.centralseed import add_user, seed_batch
from workstation import models as m
from workstation.auth import operator
from workstation.errors import KnownError
from workstation.export import export_batch
from workstation.resolve import documents_updated
from workstation.store import Store


def add_entry(central: Store, document_id: uuid.UUID, pass_no: int, keyer: uuid.UUID, values: dict[str, str]) -> uuid.UUID:
    with central.transaction() as s:
        entry = m.Entry(document_id=document_id, pass_no=pass_no, keyer_id=keyer, finished_at=m.utcnow())
        s.add(entry)
        s.flush()
        for path, value in values.items():
            flag = value if value in ("illegible", "blank") else ""
            s.add(m.FieldValue(entry_id=entry.id, keyer_id=keyer, field_path=path, value="" if flag else value, flag=flag,
                               keystrokes=len(value)))
        documents_updated(s, [document_id])
        return entry.id


@pytest.fixture
def survey(central: Store) -> tuple[uuid.UUID, list[uuid.UUID]]:
    batch = seed_batch(central, documents=1, template="survey", name="S")
    keyers = [add_user(central, n) for n in ("k1", "k2", "k3")]
    return batch.document_ids[0], keyers


def test_a_third_key_matching_neither_sends_the_field_to_qa(central: Store, survey: tuple[uuid.UUID, list[uuid.UUID]]) -> None:
    doc, (k1, k2, k3) = survey
    add_entry(central, doc, 1, k1, {"age": "43", "gender": "F"})
    add_entry(central, doc, 2, k2, {"age": "34", "gender": "F"})
    add_entry(central, doc, 3, k3, {"age": "44"})
    with central.session() as s:
        dispute = s.scalars(select(m.Dispute)).one()
        assert (dispute.field_path, dispute.stage, dispute.state) == ("age", "qa", "open")
        assert s.get(m.Document, doc).state == "resolving"
        assert s.scalars(select(m.FieldValue).where(m.FieldValue.final_match.is_not(None))).all() == []


def test_marks_compare_as_marks_and_a_third_key_can_settle_them(central: Store, survey: tuple[uuid.UUID, list[uuid.UUID]]) -> None:
    doc, (k1, k2, k3) = survey
    e1 = add_entry(central, doc, 1, k1, {"comments": "illegible"})
    add_entry(central, doc, 2, k2, {"comments": "blank"})
    add_entry(central, doc, 3, k3, {"comments": "illegible"})
    with central.session() as s:
        final = s.scalars(select(m.Resolution).where(m.Resolution.field_path == "comments")).one()
        assert (final.flag, final.how, final.chosen_entry_id) == ("illegible", "third_key", e1)
        assert s.get(m.Document, doc).state == "final"


def test_replaying_an_update_changes_nothing(central: Store, survey: tuple[uuid.UUID, list[uuid.UUID]]) -> None:
    doc, (k1, k2, _) = survey
    add_entry(central, doc, 1, k1, {"age": "43"})
    add_entry(central, doc, 2, k2, {"age": "34"})
    with central.transaction() as s:
        documents_updated(s, [doc, doc])
    with central.session() as s:
        assert len(s.scalars(select(m.Dispute)).all()) == 1
        assert len(s.scalars(select(m.Task).where(m.Task.pass_no == 3)).all()) == 1


def test_export_refuses_an_unfinished_batch_and_writes_jsonl_when_final(central: Store, tmp_path: Path) -> None:
    batch = seed_batch(central, documents=2, template="cms1500", name="C")
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    values = {"patient_last_name": "O'BRIEN", "total_charge": "1,200.00", "lines[1].cpt": "99213",
              "lines[2].cpt": "36415", "patient_city": "illegible"}
    add_entry(central, batch.document_ids[0], 1, k1, values)
    add_entry(central, batch.document_ids[0], 2, k2, values)
    with central.session() as s, pytest.raises(KnownError, match="1 of 2 documents not final"):
        export_batch(s, "C", "csv", tmp_path / "c.csv", by=operator("os:test"))
    with central.session() as s:
        report = export_batch(s, "C", "jsonl", tmp_path / "c.jsonl", by=operator("os:test"), partial=True)
    assert report.documents == 1
    (record,) = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["total_charge"] == "1200.00"
    assert [row["cpt"] for row in record["lines"]] == ["99213", "36415"]
    assert record["flags"] == {"patient_city": "illegible"} and record["patient_city"] == ""
