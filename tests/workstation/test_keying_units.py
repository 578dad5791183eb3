"""The work a keyer holds on a station, and where it resumes: read from the local store alone."""

from __future__ import annotations

from sqlalchemy import func, select, update

from tests.workstation.localseed import seed_unit
from workstation import models as m
from workstation.keying import KeyingSession, held_units
from workstation.store import Store


def test_held_units_say_where_keying_resumes_and_write_nothing(local: Store) -> None:
    older = seed_unit(local, "rebate", documents=3, batch_name="REBATES-7")
    newer = seed_unit(local, "cms1500", documents=2, batch_name="CLAIMS-9")
    session = KeyingSession.open(local, older.unit_id, older.keyer_id)
    for text in ("Ann", "Lee", "1 Main St"):
        session.set_text(text)
        session.advance(confirm=True)
    session.go_to(1)  # the second document, keyed a little, is where the keyer was last
    session.set_text("Bo")
    session.advance(confirm=True)
    with local.transaction() as s:
        entries_before = s.scalar(select(func.count()).select_from(m.Entry))

    held = held_units(local, older.keyer_id)

    assert [h.unit_id for h in held] == [newer.unit_id, older.unit_id]  # the last claimed first
    first, second = held
    assert (first.batch_name, first.pass_no, first.documents, first.started) == ("CLAIMS-9", 1, 2, False)
    assert first.resume_index == 0 and first.resume_path == "insured_id"
    assert (second.batch_name, second.template_title, second.finished, second.started) == (
        "REBATES-7", "Mail-in rebate form", 0, True)
    assert (second.resume_index, second.resume_path, second.resume_label) == (1, "last_name", "Last name")
    assert second.resume_source == "scan_0002.tif"
    with local.transaction() as s:  # looking opened no documents and wrote no entries
        assert s.scalar(select(func.count()).select_from(m.Entry)) == entries_before


def test_finished_and_expired_units_are_not_held(local: Store) -> None:
    unit = seed_unit(local, "rebate", documents=1)
    expired = seed_unit(local, "rebate", documents=1, unit_state="expired")
    assert [h.unit_id for h in held_units(local, unit.keyer_id)] == [unit.unit_id]
    with local.transaction() as s:
        s.execute(update(m.WorkUnit).where(m.WorkUnit.id == unit.unit_id).values(state="finished"))
    assert held_units(local, unit.keyer_id) == [] and expired.keyer_id == unit.keyer_id
