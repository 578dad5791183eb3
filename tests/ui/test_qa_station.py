"""The QA station driven with real key events on disputes seeded in a central database."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from functools import cache

import pytest
from PIL import Image as PILImage
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from sqlalchemy import select

from tests.ui.synthetic import draw_form_page
from tests.workstation.centralseed import add_user, sample_template, seed_batch
from tests.workstation.test_resolve import add_entry
from ui.qa_entries import diff_html
from ui.qa_models import QaDocumentsModel, QaQueueModel
from ui.qa_station import NEXT_DISPUTE_WRITE_DELAY_S, QaStationWidget
from workstation import models as m
from workstation import qa
from workstation.auth import Actor
from workstation.compare import char_diff
from workstation.qa import Candidate
from workstation.store import Store

@cache
def rebate_png() -> bytes:
    """A drawn rebate form (1275x1650), so snippets show real boxes and text."""
    page = draw_form_page(sample_template("rebate"), 1275, 1650)
    out = io.BytesIO()
    PILImage.frombytes("L", (page.width, page.height), page.pixels).save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Seeded:
    batch_id: uuid.UUID
    documents: tuple[uuid.UUID, ...]
    lead: Actor
    entries: dict[tuple[int, int], uuid.UUID]  # (document index, pass) -> entry id


def seed(central: Store, values: list[tuple[dict[str, str], dict[str, str]]], *, name: str = "R",
         lead: Actor | None = None, lead_keys_pass1: bool = False) -> Seeded:
    batch = seed_batch(central, documents=len(values), template="rebate", name=name,
                       image_for=lambda doc, page: rebate_png())
    if lead is None:
        lead = Actor(add_user(central, f"lead-{name.lower()}", role="qa"), f"lead-{name.lower()}", "qa")
    k1, k2 = add_user(central, f"k1-{name.lower()}"), add_user(central, f"k2-{name.lower()}")
    entries = {}
    for index, (first, second) in enumerate(values):
        doc = batch.document_ids[index]
        entries[(index, 1)] = add_entry(central, doc, 1, lead.id if lead_keys_pass1 else k1, first)
        entries[(index, 2)] = add_entry(central, doc, 2, k2, second)
    return Seeded(batch.batch_id, batch.document_ids, lead, entries)


@pytest.fixture
def open_station(qtbot):  # type: ignore[no-untyped-def]
    opened: list[QaStationWidget] = []

    def open_(actor: Actor, central: Store, *, wait: bool = True, allow_own: bool = False) -> QaStationWidget:
        station = QaStationWidget(actor, central, allow_own=allow_own)
        qtbot.addWidget(station)
        station.resize(1200, 820)
        station.show()
        qtbot.waitExposed(station)
        station.activateWindow()
        station.setFocus()
        if wait:
            qtbot.waitUntil(lambda: not station.loading)
            if station.queue_count:
                qtbot.waitUntil(lambda: station.snippet.snippet_image() is not None)
        opened.append(station)
        return station

    yield open_
    for station in opened:
        station.close_session()


def key(qtbot, station: QaStationWidget, *keys: object) -> None:  # type: ignore[no-untyped-def]
    """Real key presses where the keys are going (the station or its value box)."""
    for k in keys:
        target = station.focusWidget() or station
        if isinstance(k, tuple):
            qtbot.keyClick(target, k[0], k[1])
        else:
            qtbot.keyClick(target, k)


def plain(rich: str) -> str:
    """What a rich-text label reads as (tags gone, entities decoded)."""
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText().replace("\xa0", " ")


def resolutions(central: Store, document_id: uuid.UUID) -> dict[str, tuple[str, str, str, str]]:
    with central.session() as s:
        rows = s.scalars(select(m.Resolution).where(m.Resolution.document_id == document_id)).all()
        return {r.field_path: (r.value, r.flag, r.how, r.reason) for r in rows}


# --- the model ------------------------------------------------------------------------------


def test_the_queue_model_groups_by_batch_and_document_and_survives_removal_and_undo(
        central: Store, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    a = seed(central, [({"first_name": "ANNA", "city": "X"}, {"first_name": "ANNE", "city": "Y"}),
                       ({"first_name": "BO"}, {"first_name": "BOB"})], name="A")
    seed(central, [({"zip": "12345"}, {"zip": "12346"})], name="B", lead=a.lead)
    items = qa.qa_queue(central, a.lead)
    model = QaQueueModel()
    model.set_items(items)
    qtmodeltester.check(model)
    batches = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert batches == ["Batch A", "Batch B"]
    first_batch = model.index(0, 0)
    assert model.index(0, 1).data() == "3"  # open fields in batch A
    assert [model.index(r, 0, first_batch).data() for r in range(model.rowCount(first_batch))] == ["Document 1", "Document 2"]
    doc1 = model.index(0, 0, first_batch)
    assert [model.index(r, 0, doc1).data() for r in range(model.rowCount(doc1))] == ["First name", "City"]
    # Deciding the only field of document 2 removes the document; undo puts it back in place.
    only = next(i for i in items if i.document_seq == 2)
    assert model.remove_item(only.dispute_id)
    assert model.rowCount(first_batch) == 1 and model.index(0, 1).data() == "2"
    assert model.remove_item(items[-1].dispute_id)  # batch B's only field: the batch goes
    assert model.rowCount() == 1
    model.insert_item(items[-1])
    model.insert_item(only)
    assert [i.dispute_id for i in model.items()] == [i.dispute_id for i in items]
    qtmodeltester.check(model)


def test_diff_html_highlights_differences_and_escapes_values() -> None:
    first, second = "<b>ANNA", "<b>ANNE&"
    candidates = (
        Candidate(uuid.uuid4(), 1, first, "", "", char_diff(first, first)),
        Candidate(uuid.uuid4(), 2, second, "", "", char_diff(first, second)),
    )
    one, two = diff_html(candidates, 0), diff_html(candidates, 1)
    assert "<b>" not in one and "&lt;b&gt;" in one and "&lt;b&gt;" in two
    assert "background-color" in one and ">A</span>" in one  # the last A differs
    assert ">E&amp;</span>" in two  # replaced and inserted characters of entry 2
    assert "ANN" in two.replace("&lt;b&gt;", "")




def test_the_documents_model_is_a_thin_table(central: Store, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X"}, {"city": "Y"}), ({"city": "X"}, {"city": "X"})])
    model = QaDocumentsModel()
    model.set_rows(qa.batch_documents(central, seeded.lead, seeded.batch_id))
    qtmodeltester.check(model)
    assert [[model.index(r, c).data() for c in range(4)] for r in range(2)] == [
        ["Document 1", "disputed", "1", ""], ["Document 2", "final", "", ""]]


# --- deciding by keys -----------------------------------------------------------------------


def audit_actions(central: Store, *actions: str) -> list[m.AuditEvent]:
    with central.session() as s:
        return list(s.scalars(select(m.AuditEvent).where(m.AuditEvent.action.in_(actions)).order_by(m.AuditEvent.seq)))


def test_pick_type_undo_and_mark_by_keys_then_the_document_is_final(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"first_name": "ANNA", "last_name": "LEE", "city": "X"},
                             {"first_name": "ANNE", "last_name": "LE", "city": "Y"})])
    doc = seeded.documents[0]
    station = open_station(seeded.lead, central)
    assert station.queue_count == 3
    assert station.current_item is not None and station.current_item.field_path == "first_name"
    assert [row.keyer.text() for row in station.rows[:2]] == ["", ""]  # keyers hidden
    assert station.reason == qa.DEFAULT_REASON

    with qtbot.waitSignal(station.decision_made) as made:
        key(qtbot, station, "1", Qt.Key.Key_Return)
    assert made.args == ["first_name"]
    assert station.current_item.field_path == "last_name" and station.queue_count == 2
    assert station.snippet.snippet_image() is not None

    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "t")
        assert station.value_edit.hasFocus()
        qtbot.keyClicks(station.value_edit, "lee")
        qtbot.keyClick(station.value_edit, Qt.Key.Key_Escape)  # back to the station's keys
        key(qtbot, station, "r", Qt.Key.Key_Return)
    assert station.current_item.field_path == "city"

    with qtbot.waitSignal(station.decision_undone) as undone:
        key(qtbot, station, ("z", Qt.KeyboardModifier.ControlModifier))
    assert undone.args == ["last_name"]
    assert station.current_item.field_path == "last_name" and station.queue_count == 2

    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "2", Qt.Key.Key_Return)
    with qtbot.waitSignal(station.decision_made), qtbot.waitSignal(station.queue_emptied):
        key(qtbot, station, "i", Qt.Key.Key_Enter)
    assert station.queue_count == 0 and station.current_item is None
    # The document stays open while the lead is on it: the last decision can still be undone.
    with central.session() as s:
        assert s.get(m.Document, doc).state == "resolving"
    with qtbot.waitSignal(station.decision_undone) as undone:
        key(qtbot, station, ("z", Qt.KeyboardModifier.ControlModifier))
    assert undone.args == ["city"] and station.current_item.field_path == "city"
    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "t")
        qtbot.keyClicks(station.value_edit, "springfield")
        qtbot.keyClick(station.value_edit, Qt.Key.Key_Return)

    with qtbot.waitSignal(station.document_closed) as closed:
        station.close_open_documents()
    assert closed.args == [str(doc)]
    assert station.decided_this_session == 3
    key(qtbot, station, ("z", Qt.KeyboardModifier.ControlModifier))  # the document is final now
    assert "final" in station.message_text

    finals = resolutions(central, doc)
    assert finals["first_name"] == ("ANNA", "", "qa", "image_clear")
    assert finals["last_name"] == ("LE", "", "qa", "image_clear")
    assert finals["city"] == ("SPRINGFIELD", "", "qa", "image_clear")  # prepared like keying: upper case
    with central.session() as s:
        assert s.get(m.Document, doc).state == "final"
    events = audit_actions(central, "qa_decision", "qa_undo")
    assert [e.action for e in events] == ["qa_decision", "qa_decision", "qa_undo", "qa_decision", "qa_decision",
                                          "qa_undo", "qa_decision"]
    assert all(e.username == seeded.lead.username for e in events)
    assert events[0].details["entry"] == str(seeded.entries[(0, 1)]) and events[0].details["pass"] == 1
    assert events[1].details["reason"] == "keyer_typo" and events[1].details["decision"] == "typed"
    assert events[4].details["decision"] == "illegible" and events[4].details["reason"] == "illegible"


def test_deciding_in_another_document_closes_the_one_left(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X"}, {"city": "Y"}), ({"city": "P"}, {"city": "Q"})])
    station = open_station(seeded.lead, central)
    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "1", Qt.Key.Key_Return)
    assert station.current_item.document_id == seeded.documents[1]
    with qtbot.waitSignal(station.document_closed) as closed:
        key(qtbot, station, "2", Qt.Key.Key_Return)
    assert closed.args == [str(seeded.documents[0])]
    qtbot.waitUntil(lambda: station.pending_writes == 0)
    with qtbot.waitSignal(station.decision_undone):
        key(qtbot, station, ("z", Qt.KeyboardModifier.ControlModifier))  # document 2 is still open
    with qtbot.assertNotEmitted(station.decision_undone, wait=100):
        key(qtbot, station, ("z", Qt.KeyboardModifier.ControlModifier))
    assert "Document 1 is closed and final" in station.message_text
    assert resolutions(central, seeded.documents[0])["city"][0] == "X"


def test_a_decisions_write_waits_for_the_next_dispute_to_be_shown(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X", "zip": "12345"}, {"city": "Y", "zip": "12346"})])
    station = open_station(seeded.lead, central)
    writer = station.writer
    held: list[tuple[float, str, int]] = []  # (seconds, the field shown, writes queued) when asked
    real_defer = writer.defer
    writer.defer = lambda seconds: (  # type: ignore[method-assign]
        held.append((seconds, station.current_item.field_path, writer.pending)), real_defer(seconds))
    first = station.current_item.field_path
    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "1", Qt.Key.Key_Return)
    # Asked before the decision was queued, while its field was still shown: the write begins
    # once the next field is on screen, and it is written then.
    assert held == [(NEXT_DISPUTE_WRITE_DELAY_S, first, 0)]
    assert station.current_item.field_path != first
    assert resolutions(central, seeded.documents[0])[first][0] == "X"


def test_closing_the_station_writes_everything_and_closes_the_open_document(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X", "zip": "12345"}, {"city": "Y", "zip": "12346"})])
    station = open_station(seeded.lead, central)
    key(qtbot, station, "1", Qt.Key.Key_Return, "2", Qt.Key.Key_Return)  # no waiting in between
    assert station.close_session()
    with central.session() as s:
        assert s.get(m.Document, seeded.documents[0]).state == "final"
    decided = {p: v[0] for p, v in resolutions(central, seeded.documents[0]).items() if v[2] == "qa"}
    assert decided == {"city": "X", "zip": "12346"}


def test_a_decided_document_left_open_by_a_killed_station_is_closed_on_the_next_load(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X"}, {"city": "Y"})])
    (item,) = qa.qa_queue(central, seeded.lead)
    qa.decide(central, seeded.lead, item.dispute_id, entry_id=seeded.entries[(0, 1)], finalize=False)
    station = open_station(seeded.lead, central)
    assert station.queue_count == 0
    with central.session() as s:
        assert s.get(m.Document, seeded.documents[0]).state == "final"


def test_enter_without_a_choice_says_what_to_do_and_decides_nothing(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"first_name": "ANNA"}, {"first_name": "ANNE"})])
    station = open_station(seeded.lead, central)
    with qtbot.assertNotEmitted(station.decision_made, wait=50):
        key(qtbot, station, Qt.Key.Key_Return, "3")
    assert "no entry 3" in station.message_text
    key(qtbot, station, Qt.Key.Key_Return)
    assert "Choose first" in station.message_text
    assert station.queue_count == 1 and station.pending_writes == 0
    assert resolutions(central, seeded.documents[0]).get("first_name") is None


def test_a_keyer_is_refused_with_a_sentence(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seed(central, [({"first_name": "ANNA"}, {"first_name": "ANNE"})])
    keyer = Actor(add_user(central, "kim"), "kim", "keyer")
    station = open_station(keyer, central, wait=False)
    qtbot.waitUntil(lambda: "may not do this" in station.message_text)
    assert station.queue_count == 0 and station.current_item is None
    assert "Traceback" not in station.message_text


def test_documents_the_lead_keyed_are_left_to_another_lead(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"first_name": "ANNA"}, {"first_name": "ANNE"})], lead_keys_pass1=True)
    seed(central, [({"city": "X"}, {"city": "Y"})], name="S", lead=seeded.lead)
    station = open_station(seeded.lead, central)
    assert station.queue_count == 1 and station.current_item.batch_name == "S"
    assert "1 field of documents you keyed" in station.queue_note.text()
    assert not station.own_note.isVisibleTo(station)


def test_for_tiny_teams_own_documents_can_be_decided_and_are_flagged(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"first_name": "ANNA"}, {"first_name": "ANNE"})], lead_keys_pass1=True)
    station = open_station(seeded.lead, central, allow_own=True)
    assert station.queue_count == 1 and station.own_note.isVisibleTo(station)
    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "2", Qt.Key.Key_Return)
    (event,) = audit_actions(central, "qa_decision")
    assert event.details["own_entry"] is True
    assert resolutions(central, seeded.documents[0])["first_name"][0] == "ANNE"


def test_the_core_refuses_an_own_entry_decision_even_if_the_station_sends_it(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"first_name": "ANNA"}, {"first_name": "ANNE"})], lead_keys_pass1=True)
    station = open_station(seeded.lead, central, allow_own=True)
    station.allow_own = False  # as if the station were misconfigured: the core still says no
    item = station.current_item
    with qtbot.waitSignal(station.message_shown) as shown:
        key(qtbot, station, "1", Qt.Key.Key_Return)
    assert "keyed an entry" in shown.args[0]
    assert station.queue_count == 1 and station.current_item == item
    assert resolutions(central, seeded.documents[0]).get("first_name") is None


def test_typed_values_are_validated_live_and_a_second_enter_keeps_them(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"zip": "12345", "city": "X"}, {"zip": "12346", "city": "Y"})])
    station = open_station(seeded.lead, central)
    assert station.current_item.field_path == "city"
    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "1", Qt.Key.Key_Return)
    key(qtbot, station, "t")
    qtbot.keyClicks(station.value_edit, "12a")  # digits typed here are the value, not picks
    assert station.issues_label.isVisibleTo(station) and station.issues_label.text()
    with qtbot.assertNotEmitted(station.decision_made, wait=50):
        qtbot.keyClick(station.value_edit, Qt.Key.Key_Return)
    assert "Enter again keeps it" in station.message_text and station.queue_count == 1
    with qtbot.waitSignal(station.decision_made):
        qtbot.keyClick(station.value_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.pending_writes == 0)
    assert station.queue_count == 0 and station.decided_this_session == 2
    assert resolutions(central, seeded.documents[0])["zip"][:3] == ("12a", "", "qa")
    (_, typed) = audit_actions(central, "qa_decision")
    assert typed.details["decision"] == "typed" and typed.details["issues"] >= 1


def test_sensitive_values_are_masked_until_v_and_the_look_is_audited(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"card_last4": "1234"}, {"card_last4": "1284"})])
    station = open_station(seeded.lead, central)
    shown = [plain(row.value.text()) for row in station.rows[:2]]
    assert [text.split()[0] for text in shown] == [qa.mask("1234"), qa.mask("1284")]
    assert station.reveal_button.isVisibleTo(station)
    assert audit_actions(central, "qa_reveal_value") == []
    with qtbot.waitSignal(station.values_revealed):
        key(qtbot, station, "v")
    assert [plain(row.value.text()) for row in station.rows[:2]] == ["1234", "1284"]
    assert not station.reveal_button.isVisibleTo(station)
    (event,) = audit_actions(central, "qa_reveal_value")
    assert event.username == seeded.lead.username and "card_last4" in event.subject
    with qtbot.waitSignal(station.decision_made):
        key(qtbot, station, "2", Qt.Key.Key_Return)
    assert resolutions(central, seeded.documents[0])["card_last4"][0] == "1284"


def test_an_admin_may_show_who_keyed(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X"}, {"city": "Y"})])
    admin = Actor(add_user(central, "boss", role="admin"), "boss", "admin")
    lead_station = open_station(seeded.lead, central)
    boss = open_station(admin, central)
    assert boss.reveal_box.isVisibleTo(boss) and not lead_station.reveal_box.isVisibleTo(lead_station)
    assert [row.keyer.text() for row in boss.rows[:2]] == ["", ""]
    with qtbot.waitSignal(boss.queue_loaded):
        boss.reveal_box.setChecked(True)
    qtbot.waitUntil(lambda: boss.rows[0].keyer.text() != "")
    assert [boss.rows[0].keyer.text(), boss.rows[1].keyer.text()] == ["k1-r", "k2-r"]
    assert len(audit_actions(central, "qa_reveal_keyers")) == 1


def test_the_batch_filter_shows_one_batch(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    a = seed(central, [({"first_name": "ANNA"}, {"first_name": "ANNE"})], name="A")
    b = seed(central, [({"city": "X"}, {"city": "Y"}), ({"city": "P"}, {"city": "Q"})], name="B", lead=a.lead)
    station = open_station(a.lead, central)
    assert station.queue_count == 3 and station.batch_filter.count() == 3
    with qtbot.waitSignal(station.queue_loaded) as loaded:
        station.show_batch(b.batch_id)
    assert loaded.args == [2]
    assert {i.batch_id for i in station.model.items()} == {b.batch_id}
    assert station.current_item.batch_id == b.batch_id


def test_the_batch_view_shows_document_states_filters_and_opens_a_document(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X"}, {"city": "Y"}), ({"city": "X"}, {"city": "X"}),
                            ({"city": "P", "zip": "1"}, {"city": "Q", "zip": "2"})])
    station = open_station(seeded.lead, central)
    view = station.batch_view
    with qtbot.waitSignal(view.documents_loaded) as loaded:
        key(qtbot, station, "b")
    assert loaded.args == [3] and station.batch_view_shown
    states = [(r.seq, r.state, r.open_fields) for r in view.model.rows()]
    assert states == [(1, "disputed", 1), (2, "final", 0), (3, "disputed", 2)]
    assert "3 documents · 1 final · 2 still disputed (3 fields)" in view.summary.text()
    with qtbot.waitSignal(view.documents_loaded) as loaded:
        key(qtbot, station, "d")
    assert loaded.args == [2] and [r.seq for r in view.model.rows()] == [1, 3]
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    key(qtbot, station, Qt.Key.Key_Return)  # Enter in the batch view opens the document
    assert not station.batch_view_shown
    assert station.current_item.document_id == seeded.documents[2] and station.current_item.field_path == "city"


def test_the_leads_own_figures_come_from_the_central_database(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X", "zip": "1"}, {"city": "Y", "zip": "2"})])
    station = open_station(seeded.lead, central)
    qtbot.waitUntil(lambda: station.lead_figures is not None)
    assert station.lead_figures.decisions == 0
    key(qtbot, station, "1", Qt.Key.Key_Return, "1", Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.pending_writes == 0)
    with qtbot.waitSignal(station.figures_updated):
        station.refresh_figures()
    assert station.lead_figures.decisions == 2 and station.lead_figures.per_hour is not None
    assert station.figures.text().startswith("Today: 2 decided")


def test_f_shows_the_full_page_with_the_zone(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X"}, {"city": "Y"})])
    station = open_station(seeded.lead, central)
    assert not station.page_view.isVisible()
    key(qtbot, station, "f")
    assert station.page_view.isVisible() and station.page_view.page is not None
    assert station.page_view.zone == station.current_item.zone
    key(qtbot, station, "f")
    assert not station.page_view.isVisible()


def test_the_queue_tree_follows_the_shown_field_once_the_lead_pauses(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(central, [({"city": "X", "zip": "1"}, {"city": "Y", "zip": "2"}), ({"city": "P"}, {"city": "Q"})])
    station = open_station(seeded.lead, central)
    key(qtbot, station, "1", Qt.Key.Key_Return, "1", Qt.Key.Key_Return)  # a burst: the tree waits
    assert not station.tree_follows
    shown = station.current_item
    assert shown.document_id == seeded.documents[1]
    qtbot.waitUntil(lambda: station.tree_follows)
    assert station.model.item_at(station.tree.currentIndex()) == shown
    assert [station.model.index(r, 0).data() for r in range(station.model.rowCount())] == ["Batch R"]
    batch = station.model.index(0, 0)
    assert station.model.rowCount(batch) == 1 and station.model.index(0, 1).data() == "1"


def test_f1_lists_the_stations_own_keys_as_bound(central: Store, qtbot, open_station) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QKeySequence

    lead = Actor(add_user(central, "quinn", role="qa"), "quinn", "qa")
    station = open_station(lead, central)
    listed = {shown: label for _group, rows in station.help_groups() for shown, label in rows}
    assert listed["1"] == "Choose entry 1" and listed["Ctrl+Z"].startswith("Undo")
    assert "Rotate the page 90° clockwise" not in listed.values()  # not the keying station's list
    bound = {action.shortcuts()[0].toString(QKeySequence.SequenceFormat.NativeText)
             for action in station.actions() if action.shortcuts()}
    bound = {"Enter" if shown == "Return" else shown for shown in bound}
    assert set(listed) == bound, "F1 and the station's shortcuts disagree"
