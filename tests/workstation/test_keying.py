"""The keying session: whole documents keyed through the object alone, saved field by field."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import uuid

import pytest
from sqlalchemy import select, update

from tests.workstation.localseed import SeededUnit, seed_unit
from workstation import models as m
from workstation.errors import KnownError, LeaseLost
from workstation.keying import KeyingSession, Move, RowLimit, SaveJob, save
from workstation.keying.figures import day_start
from workstation.paths import Workspace
from workstation.store import Store

CLAIM = {
    "insured_id": "ab123456",
    "patient_last_name": "o'brien",
    "patient_first_name": "Mary",
    "patient_dob": "03/07/1980",
    "patient_sex": "f",
    "patient_address": "12 Main St",
    "patient_city": "Springfield",
    "patient_state": "IL",
    "patient_zip": "62704",
    "diagnosis_1": "J06.9",
    "diagnosis_2": "R05",
    "lines[1].service_date": "03/01/24",
    "lines[1].place": "11",
    "lines[1].cpt": "99213",
    "lines[1].modifier": "25",
    "lines[1].pointer": "A",
    "lines[1].charge": "125.00",
    "lines[1].units": "1",
    "lines[2].service_date": "03/02/24",
    "lines[2].place": "11",
    "lines[2].cpt": "87880",
    "lines[2].modifier": "",
    "lines[2].pointer": "AB",
    "lines[2].charge": "35.50",
    "lines[2].units": "2",
    "total_charge": "160.50",
    "billing_npi": "1234567893",
    "federal_tax_id": "123456789",
    "signature_date": "03/05/2024",
}

SURVEY = {
    "respondent_id": "12345674",
    "visit_date": "24/12/2023",
    "age": "41",
    "gender": "x",
    "q1": "4", "q2": "3", "q3": "5", "q4": "5", "q5": "2", "q6": "4",
    "recommend": "X",
    "visits_per_year": "3",
    "comments": "Friendly staff, long wait.",
}


class FakeClock:
    """The session's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


def type_text(session: KeyingSession, clock: FakeClock, text: str, gap: float = 0.25) -> None:
    """Key `text` one character at a time, as the window would report it."""
    for i in range(1, len(text) + 1):
        clock.tick(gap)
        session.keystroke()
        session.set_text(text[:i])


def key_field(session: KeyingSession, clock: FakeClock, text: str) -> Move:
    type_text(session, clock, text)
    clock.tick(0.25)
    return session.advance()


def reopen(ws: Workspace) -> Store:
    """The local store as a new process would see it."""
    return Store(ws.local_url)


def stored_values(store: Store, document_id: uuid.UUID) -> dict[str, m.FieldValue]:
    with store.transaction() as s:
        rows = s.scalars(
            select(m.FieldValue).join(m.Entry, m.Entry.id == m.FieldValue.entry_id).where(m.Entry.document_id == document_id)
        ).all()
        return {r.field_path: r for r in rows}


def open_session(local: Store, unit: SeededUnit, clock: FakeClock, **kwargs: object) -> KeyingSession:
    return KeyingSession.open(local, unit.unit_id, unit.keyer_id, clock=clock, **kwargs)  # type: ignore[arg-type]


def key_claim(session: KeyingSession, clock: FakeClock) -> None:
    """Key CLAIM into the current document, adding line 2 from the last field of line 1."""
    while True:
        path = session.path
        if path == "lines[1].units":
            type_text(session, clock, CLAIM[path])
            clock.tick(0.25)
            assert session.add_row("lines") == "lines[2].service_date"
            continue
        move = key_field(session, clock, CLAIM[path])
        assert move.saved == path and not move.warned, (path, move.issues)
        if move.document_done:
            return


def test_keys_a_whole_claim_with_two_line_items_and_a_survey(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    claim = seed_unit(local, "cms1500", documents=1)
    session = open_session(local, claim, clock)
    assert session.paths()[11:18] == [f"lines[1].{k}" for k in ("service_date", "place", "cpt", "modifier", "pointer", "charge", "units")]
    key_claim(session, clock)
    assert session.rows("lines") == 2
    assert session.missing() == ()
    assert session.paths_with_content() == tuple(session.paths())
    done = session.finish_document()
    assert done.unit_finished and done.missing == ()

    survey = seed_unit(local, "survey", documents=1, username="keyer2")
    session = open_session(local, survey, clock)
    assert session.documents[0].page_shas and len(session.documents[0].page_shas) == 2
    for path in session.paths():
        assert not key_field(session, clock, SURVEY[path]).warned
    session.finish_document()

    store = reopen(ws)
    claim_values = stored_values(store, claim.document_ids[0])
    assert set(claim_values) == set(CLAIM)
    assert claim_values["patient_last_name"].value == "O'BRIEN"  # prepared: upper case
    assert claim_values["insured_id"].value == "AB123456"
    assert claim_values["lines[2].cpt"].value == "87880"
    for path, text in CLAIM.items():
        row = claim_values[path]
        # One key press per character, plus the key that left the field (Enter or add-row).
        assert row.keystrokes == len(text) + 1, path
        assert row.keyer_id == claim.keyer_id and row.flag == "" and not row.overridden
        assert row.active_ms == round(0.25 * (len(text) + 1) * 1000)
    survey_values = stored_values(store, survey.document_ids[0])
    assert {p: v.value for p, v in survey_values.items()} == {**SURVEY, "gender": "X"}
    assert all(v.keystrokes == len(SURVEY[p]) + 1 for p, v in survey_values.items())
    with store.transaction() as s:
        entries = s.scalars(select(m.Entry)).all()
        assert {(e.document_id, e.pass_no, e.unit_id) for e in entries} == {
            (claim.document_ids[0], 1, claim.unit_id), (survey.document_ids[0], 1, survey.unit_id)}
        assert all(e.finished_at is not None for e in entries)
    store.dispose()


def test_paths_with_content_are_the_saved_fields_and_the_one_being_typed(local: Store) -> None:
    clock = FakeClock()
    session = open_session(local, seed_unit(local, "cms1500", documents=2), clock)

    def shown() -> list[str]:  # what asking `field` about every path finds
        return [p for p in session.paths() if (lambda f: f.saved or f.text or f.flag)(session.field(p))]

    assert session.paths_with_content() == () and shown() == []
    first, second, third = session.paths()[:3]
    key_field(session, clock, CLAIM[first])
    type_text(session, clock, "A1")  # being typed, not saved yet
    assert session.path == second
    assert list(session.paths_with_content()) == shown() == [first, second]
    session.set_text("")
    assert list(session.paths_with_content()) == shown() == [first]
    session.mark_illegible()
    assert session.path == third and list(session.paths_with_content()) == shown() == [first, second]


def test_an_invalid_value_warns_once_then_enter_again_saves_it_overridden(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    type_text(session, clock, "AB")
    move = session.advance()
    assert move.warned and not move.moved and move.path == "insured_id"
    assert [i.code for i in move.issues] == ["pattern"]
    assert session.field().warned
    assert stored_values(local, unit.document_ids[0]) == {}  # nothing saved by a refused Enter

    move = session.advance()  # the second Enter accepts
    assert move.moved and move.overridden and move.saved == "insured_id"
    assert move.issues and move.issues[0].code == "pattern"
    row = stored_values(reopen(ws), unit.document_ids[0])["insured_id"]
    assert row.overridden and row.value == "AB" and row.keystrokes == 4

    # A changed value after a warning is checked afresh; confirm=True accepts at once.
    type_text(session, clock, "o'brien3")
    assert session.advance().warned
    session.keystroke()
    session.set_text("o'brien")
    assert session.advance().moved  # valid now: saved, not overridden
    type_text(session, clock, "M4ry")
    assert session.advance(confirm=True).overridden
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert not values["patient_last_name"].overridden
    assert values["patient_first_name"].overridden and values["patient_first_name"].value == "M4RY"


def test_dup_repeats_the_previous_documents_saved_value(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500", documents=2)
    session = open_session(local, unit, clock)
    assert session.dup() is None  # the first document has nothing before it
    key_field(session, clock, "ab123456")
    session.mark_illegible()
    done = session.finish_document()
    assert done.next_index == 1 and "patient_first_name" in done.missing
    assert session.doc_index == 1 and session.path == "insured_id"

    assert session.dup() == "AB123456"
    assert session.field().text == "AB123456"
    assert session.advance().saved == "insured_id"
    assert session.dup() == ""  # the previous document's field was marked illegible
    assert session.field().flag == m.FLAG_ILLEGIBLE
    session.advance()
    assert session.dup() is None  # never keyed in the previous document
    assert session.field().text == ""
    values = stored_values(reopen(ws), unit.document_ids[1])
    assert values["insured_id"].value == "AB123456" and values["insured_id"].keystrokes == 2  # dup + Enter
    assert values["patient_last_name"].flag == m.FLAG_ILLEGIBLE


def test_illegible_and_blank_flag_the_field_and_move_on(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    type_text(session, clock, "AB12")
    move = session.mark_illegible()
    assert move.moved and move.saved == "insured_id" and move.path == "patient_last_name"
    move = session.mark_blank()
    assert move.saved == "patient_last_name" and not move.overridden
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert (values["insured_id"].flag, values["insured_id"].value) == (m.FLAG_ILLEGIBLE, "")
    assert (values["patient_last_name"].flag, values["patient_last_name"].value) == (m.FLAG_BLANK, "")

    # Going back and keying text into a flagged field takes the flag away.
    session.back()
    assert session.field().flag == m.FLAG_BLANK
    type_text(session, clock, "Smith")
    assert session.field().flag == ""
    session.advance()
    value = stored_values(reopen(ws), unit.document_ids[0])["patient_last_name"]
    assert (value.flag, value.value) == ("", "SMITH")


def test_line_items_are_added_and_removed_within_the_sections_limits(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    session.go_to(0, "lines[1].cpt")
    for row in (1, 2, 3):
        assert session.path == f"lines[{row}].cpt"
        type_text(session, clock, f"9921{row}")
        if row < 3:
            session.add_row("lines")
            session.go_to(0, f"lines[{row + 1}].cpt")
    session.advance()
    assert session.rows("lines") == 3

    session.remove_row("lines", 2)
    assert session.rows("lines") == 2
    assert "lines[3].cpt" not in session.paths()
    assert session.path == "lines[2].modifier"  # was on row 3: moved up with its row
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert {p: v.value for p, v in values.items() if p.startswith("lines")} == {
        "lines[1].cpt": "99211", "lines[2].cpt": "99213"}
    assert values["lines[2].cpt"].keystrokes == 6  # row 3's figures moved with its value

    # Resumed, the document has its two rows back.
    reopened = open_session(local, unit, clock)
    assert reopened.rows("lines") == 2 and reopened.path == "lines[2].modifier"
    assert reopened.field("lines[2].cpt").text == "99213"

    while session.can_add_row("lines"):
        session.add_row("lines")
    assert session.rows("lines") == 6
    with pytest.raises(RowLimit):
        session.add_row("lines")
    while session.can_remove_row("lines"):
        session.remove_row("lines", session.rows("lines"))
    with pytest.raises(RowLimit):
        session.remove_row("lines", 1)
    assert session.rows("lines") == 1


def test_removing_a_row_moves_the_field_being_typed_with_its_row(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    for row in (1, 2, 3, 4):
        if row > 1:
            session.add_row("lines")
        session.go_to(0, f"lines[{row}].modifier")
        type_text(session, clock, f"M{row}")
        session.advance()
    session.go_to(0, "lines[3].modifier")
    session.keystroke()
    session.set_text("ZZ")  # being typed when the keyer removes row 2
    session.remove_row("lines", 2)
    assert session.path == "lines[2].modifier" and session.field().text == "ZZ"
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert {p: v.value for p, v in values.items()} == {
        "lines[1].modifier": "M1", "lines[2].modifier": "ZZ", "lines[3].modifier": "M4"}
    assert session.field("lines[3].modifier").text == "M4"


def test_back_saves_and_returns_and_keystrokes_accumulate(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    assert not session.back().moved  # nothing before the first field
    key_field(session, clock, "AB123456")
    type_text(session, clock, "Smit")
    move = session.back()  # saves "SMIT" unvalidated, goes back
    assert move.moved and move.path == "insured_id" and move.saved == "patient_last_name"
    assert session.field().text == "AB123456"
    assert session.field("patient_last_name").text == "SMIT"
    session.advance()
    assert session.path == "patient_last_name"
    assert session.field().text == "SMIT"  # the saved value is back in the field
    type_text(session, clock, "SMITH")
    session.advance()
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert values["insured_id"].keystrokes == 8 + 1 + 1  # keyed + Enter, then Enter on the return visit
    assert values["patient_last_name"].keystrokes == 4 + 1 + 5 + 1
    assert values["patient_last_name"].value == "SMITH"
    assert values["patient_last_name"].started_at <= values["insured_id"].saved_at


def test_fixed_length_fields_tell_the_form_when_to_auto_advance(local: Store) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    assert session.field("patient_zip").auto_advance_at == 5
    assert session.field("patient_sex").spec.auto_advance_at == 1
    assert session.field("insured_id").auto_advance_at is None
    session.go_to(0, "patient_zip")
    type_text(session, clock, "62704")
    assert len(session.field().text) == session.field().auto_advance_at
    move = session.advance(auto=True)
    assert move.moved and move.saved == "patient_zip"
    assert stored_values(local, unit.document_ids[0])["patient_zip"].keystrokes == 5  # no Enter pressed
    # A full field that fails its check digit still warns and stays.
    session.go_to(0, "billing_npi")
    type_text(session, clock, "1234567890")
    assert session.advance(auto=True).warned


def test_a_third_key_keys_only_the_disputed_paths(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    listed = ["patient_zip", "lines[2].cpt", "insured_id"]
    unit = seed_unit(local, "cms1500", documents=1, pass_no=3, field_paths=[listed])
    session = open_session(local, unit, clock)
    assert session.pass_no == 3
    assert session.documents[0].field_paths == tuple(listed)
    assert session.paths() == ["insured_id", "patient_zip", "lines[2].cpt"]  # form order
    with pytest.raises(RowLimit):
        session.add_row("lines")
    assert not key_field(session, clock, "AB123456").document_done
    assert session.path == "patient_zip"
    assert not key_field(session, clock, "62704").document_done
    assert key_field(session, clock, "99213").document_done
    assert session.finish_document().unit_finished
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert set(values) == {"insured_id", "lines[2].cpt", "patient_zip"}
    with local.transaction() as s:
        assert s.scalars(select(m.Entry.pass_no)).all() == [3]


def test_active_time_excludes_an_idle_gap_which_counts_as_pause(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock, idle_threshold_s=30.0)
    for gap in (1.0, 1.0, 45.0, 1.0):  # the keyer looks away for 45 s after two keys
        clock.tick(gap)
        session.keystroke()
    session.set_text("AB12")
    clock.tick(2.0)
    live = session.figures()
    assert live.active_seconds == pytest.approx(3.0 + 2.0)  # the running gap is under the threshold
    session.advance(confirm=True)
    row = stored_values(reopen(ws), unit.document_ids[0])["insured_id"]
    assert (row.active_ms, row.pause_ms, row.keystrokes) == (5000, 45000, 5)
    figures = session.figures()
    assert figures.keystrokes == 5 and figures.fields == 1
    assert figures.active_seconds == pytest.approx(5.0)
    assert figures.keystrokes_per_hour == pytest.approx(5 * 3600 / 5.0)

    # A new session on the same day starts from what the store holds.
    again = open_session(local, unit, clock)
    assert again.figures().keystrokes == 5 and again.figures().fields == 1


def test_todays_figures_start_again_after_midnight(local: Store) -> None:
    clock = FakeClock()
    midnight = day_start(dt.datetime.now(dt.timezone.utc)) + dt.timedelta(days=1)
    wall = [midnight - dt.timedelta(minutes=1)]
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock, wallclock=lambda: wall[0])
    key_field(session, clock, "AB123456")
    assert (session.figures().keystrokes, session.figures().fields) == (9, 1)
    wall[0] = midnight + dt.timedelta(minutes=1)
    assert (session.figures().keystrokes, session.figures().fields) == (0, 0)
    key_field(session, clock, "SMITH")
    assert (session.figures().keystrokes, session.figures().fields) == (6, 1)
    with local.transaction() as s:
        saved = s.scalars(select(m.FieldValue.saved_at).order_by(m.FieldValue.saved_at)).all()
    assert saved == [midnight - dt.timedelta(minutes=1), midnight + dt.timedelta(minutes=1)]


def test_save_current_writes_the_field_being_typed_without_leaving_it(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    type_text(session, clock, "ab12")
    session.save_current()  # the window is closing
    assert session.path == "insured_id" and session.field().text == "ab12"
    type_text(session, clock, "ab1234")
    session.advance()
    row = stored_values(reopen(ws), unit.document_ids[0])["insured_id"]
    assert (row.value, row.keystrokes) == ("AB1234", 4 + 6 + 1)


def test_finishing_the_last_document_writes_the_outbox_item_with_it(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "survey", documents=2)
    jobs: list[SaveJob] = []

    def writer(job: SaveJob) -> None:
        jobs.append(job)
        save(local, job)

    session = open_session(local, unit, clock, writer=writer)
    key_field(session, clock, SURVEY["respondent_id"])
    assert not session.finish_document().unit_finished
    with local.transaction() as s:
        assert s.scalars(select(m.OutboxItem)).all() == []
    key_field(session, clock, SURVEY["respondent_id"])
    done = session.finish_document()
    assert done.unit_finished and done.next_index is None and session.unit_finished

    last = jobs[-1]  # one job, so one transaction: the entry's finish, the unit's and the outbox
    assert last.finished_at is not None and last.finish_unit is not None
    store = reopen(ws)
    with store.transaction() as s:
        (item,) = s.scalars(select(m.OutboxItem)).all()
        assert (item.kind, item.unit_id, item.payload) == ("unit_finished", unit.unit_id, {"unit_id": str(unit.unit_id)})
        assert item.sent_at is None
        finished_unit = s.get(m.WorkUnit, unit.unit_id)
        assert finished_unit is not None and finished_unit.state == "finished"
        assert all(e.finished_at is not None for e in s.scalars(select(m.Entry)))
    store.dispose()
    with pytest.raises(LeaseLost):
        session.advance()


def test_finishing_a_unit_whose_lease_is_gone_writes_nothing(local: Store) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "survey", documents=1)
    session = open_session(local, unit, clock)
    key_field(session, clock, SURVEY["respondent_id"])
    with local.transaction() as s:  # the sync worker learnt that the lease expired
        s.execute(update(m.WorkUnit).values(state="expired"))
    with pytest.raises(LeaseLost):
        session.finish_document()
    with local.transaction() as s:
        assert s.scalars(select(m.OutboxItem)).all() == []
        assert s.scalars(select(m.Entry.finished_at)).all() == [None]  # rolled back together
    assert not session.unit_finished and not session.is_finished(0)


def test_reopening_resumes_at_the_same_document_and_field(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500", documents=3)
    session = open_session(local, unit, clock)
    key_field(session, clock, "AB123456")
    session.finish_document()
    for path in ("insured_id", "patient_last_name", "patient_first_name"):
        key_field(session, clock, CLAIM[path])
    type_text(session, clock, "03/07")  # being typed when the station dies: lost
    del session

    store = reopen(ws)
    resumed = KeyingSession.open(store, unit.unit_id, unit.keyer_id, clock=clock)
    assert resumed.doc_index == 1 and resumed.path == "patient_dob"
    assert resumed.is_finished(0) and not resumed.is_finished(1)
    assert resumed.field().text == "" and not resumed.field().saved
    assert resumed.field("patient_last_name").text == "O'BRIEN"
    assert resumed.field("insured_id").keystrokes == 9
    resumed.go_to(0)
    assert resumed.field("insured_id").text == "AB123456" and resumed.is_finished(0)
    store.dispose()


def test_bad_input_is_cleaned_and_kept_whole_never_truncated(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500")
    session = open_session(local, unit, clock)
    long_text = "A1" * 300
    session.keystroke()
    issues = session.set_text(long_text)  # pasted: one key press
    assert any(i.code == "length" for i in issues)
    assert session.advance().warned
    assert session.advance().overridden
    session.keystroke()
    session.set_text("  m\u00fcller\tg\u00f3mez\r\n\x07\u200b ")  # pasted with tab, line break, control chars
    assert session.advance().moved
    session.keystroke()
    session.set_text("\u738b\u5c0f\u660e")  # a name in Chinese characters
    session.advance(confirm=True)
    session.keystroke()
    session.set_text("\x00\x1b[2J")  # nothing but control characters
    session.advance(confirm=True)
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert values["insured_id"].value == long_text  # 600 characters, all kept
    assert values["patient_last_name"].value == "M\u00dcLLER G\u00d3MEZ"
    assert values["patient_first_name"].value == "\u738b\u5c0f\u660e"
    assert "\x00" not in values["patient_dob"].value and "\x1b" not in values["patient_dob"].value


def test_a_unit_that_is_not_active_or_not_yours_cannot_be_opened(local: Store) -> None:
    expired = seed_unit(local, "survey", unit_state="expired")
    with pytest.raises(LeaseLost, match="expired"):
        KeyingSession.open(local, expired.unit_id, expired.keyer_id)
    other = seed_unit(local, "survey", username="someone")
    with pytest.raises(LeaseLost):
        KeyingSession.open(local, other.unit_id, expired.keyer_id)


def test_a_document_with_nothing_to_key_is_a_known_error(local: Store) -> None:
    empty = seed_unit(local, "cms1500", pass_no=3, documents=1, field_paths=[[]])
    with pytest.raises(KnownError, match="no fields to key"):
        KeyingSession.open(local, empty.unit_id, empty.keyer_id)
    unknown = seed_unit(local, "cms1500", pass_no=3, documents=1, field_paths=[["no_such_field"]], username="k2")
    with pytest.raises(KnownError, match="no_such_field"):
        KeyingSession.open(local, unknown.unit_id, unknown.keyer_id)


def test_other_keyers_entries_are_never_read(local: Store) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "cms1500", documents=2)
    with local.transaction() as s:  # should never be on a station; if it were, it stays unseen
        other = m.User(username="other", role="keyer", password_hash="x")
        s.add(other)
        s.flush()
        for doc_id in unit.document_ids:
            entry = m.Entry(document_id=doc_id, pass_no=2, keyer_id=other.id)
            s.add(entry)
            s.flush()
            s.add(m.FieldValue(entry_id=entry.id, keyer_id=other.id, field_path="insured_id", value="SECRET1"))
    session = open_session(local, unit, clock)
    assert session.field("insured_id").text == ""
    session.finish_document()
    assert session.dup() is None


def test_a_writer_thread_applies_the_jobs_in_order(local: Store, ws: Workspace) -> None:
    clock = FakeClock()
    unit = seed_unit(local, "survey")
    jobs: queue.Queue[SaveJob | None] = queue.Queue()

    def run() -> None:
        while (job := jobs.get()) is not None:
            save(local, job)

    thread = threading.Thread(target=run)
    thread.start()
    session = open_session(local, unit, clock, writer=jobs.put)
    for path in session.paths()[:5]:
        key_field(session, clock, SURVEY[path])
    session.back()
    jobs.put(None)
    thread.join()
    values = stored_values(reopen(ws), unit.document_ids[0])
    assert {p: v.value for p, v in values.items()} == {p: SURVEY[p].upper() for p in list(SURVEY)[:5]}
    with local.transaction() as s:
        assert s.scalars(select(m.Entry.cursor_path)).one() == "q1"
        assert s.scalars(select(m.FieldValue.saved_at)).all()[0].tzinfo == dt.timezone.utc
