"""The keying view driven with real key events on demo documents."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import select, text, update

from tests.ui.keyingdemo import (
    CTRL,
    Beeps,
    DemoStation,
    current_edit,
    demo_station,
    key_document,
    key_until,
    key_value,
    open_keying,
    press,
    stored_texts,
    stored_values,
    truth_of,
    type_unicode,
)
from ui import keying_window
from ui.keying_window import KeyingWidget
from workstation import models as m
from workstation.keying import KeyingSession, SaveFailed

SHOT = Path(tempfile.gettempdir(), "keying_window.png")
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def station(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStation]:
    cache = tmp_path_factory.getbasetemp() / "keying-demo-cache"
    station = demo_station(cache, tmp_path / "ws")
    yield station
    station.close()


@pytest.mark.parametrize("batch", ["REBATES-DEMO", "CLAIMS-DEMO", "SURVEYS-DEMO"])
def test_a_whole_demo_batch_keyed_with_real_keys_is_in_the_local_store(qtbot, station: DemoStation, batch: str) -> None:
    widget = open_keying(qtbot, station, batch)
    truth = station.truth(batch)
    documents = widget.session.documents
    assert len(documents) == len(truth)
    assert widget.snippet.snippet_image() is not None and widget.page_view.zone is not None
    with qtbot.waitSignal(widget.unit_finished, timeout=60_000):
        for number, info in enumerate(documents, start=1):
            assert widget.status.document_label.text() == f"Document {number} of {len(documents)}"
            assert widget.form.current_path == widget.session.paths()[0]
            key_document(qtbot, widget, truth[info.source_name])
    assert widget.flush()
    for info in documents:
        assert stored_texts(station.local, info.id) == truth[info.source_name].values, info.source_name
    with station.local.session() as s:
        entries = s.scalars(select(m.Entry).where(m.Entry.unit_id == widget.session.unit_id)).all()
        assert len(entries) == len(documents) and all(e.finished_at is not None for e in entries)
        assert s.scalars(select(m.OutboxItem.kind).where(m.OutboxItem.unit_id == widget.session.unit_id)).all() == [
            "unit_finished"]
    assert widget.status.save_label.text().startswith("Saved")
    fields = sum(len(t.values) for t in truth.values())
    assert widget.status.fields_label.text() == f"{fields:,} fields today"
    first = truth[documents[0].source_name]
    key, value = next((k, v) for k, v in first.values.items() if v and len(v) > 3 and "[" not in k)
    spec = widget.session.template.spec(key)
    expected = len(value) + (0 if spec.auto_advance_at and len(value) >= spec.auto_advance_at else 1)
    assert stored_values(station.local, documents[0].id)[key].keystrokes == expected  # the letters and Enter


def test_a_two_page_form_shows_the_page_of_the_current_field(qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station, "SURVEYS-DEMO")
    truth = truth_of(station, "SURVEYS-DEMO", widget)
    assert widget.status.page_label.text() == "Page 1 of 2"
    key_until(qtbot, widget, truth, "recommend")  # the first field on page 2
    qtbot.waitUntil(lambda: widget.page_view.page is not None)
    assert widget.status.page_label.text() == "Page 2 of 2"
    assert widget.page_view.zone == widget.session.field().zone and widget.page_view.zone.page == 2
    press(qtbot, widget, Qt.Key.Key_PageUp)  # the keyer looks back; the field keeps the focus
    qtbot.waitUntil(lambda: widget.status.page_label.text() == "Page 1 of 2")
    assert widget.session.path == "recommend" and current_edit(widget).hasFocus()


def test_the_page_cache_keeps_the_previous_current_and_next_documents_only(
        qtbot, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A page two documents back is let go of when a document opens, before the next request:
    its block goes to the decoder to be written again (memory new to the process cost more)."""
    station = demo_station(tmp_path_factory.getbasetemp() / "keying-demo-cache", tmp_path / "ws5", documents=5)
    try:
        widget = open_keying(qtbot, station)
        documents = widget.session.documents
        for _ in range(2):
            key_document(qtbot, widget, truth_of(station, "REBATES-DEMO", widget))
        assert widget.session.doc_index == 2
        shas = [info.page_shas[0] for info in documents]
        qtbot.waitUntil(lambda: all(widget.pages.page(sha) is not None for sha in shas[2:]), timeout=20_000)
        assert widget.pages.page(shas[0]) is None  # two back: let go of
        assert widget.pages.page(shas[1]) is not None  # the previous one stays for a look back
        widget.close_session()
    finally:
        station.close()


def test_the_first_page_is_decoded_once_for_the_width_the_shown_view_draws_it_at(qtbot, monkeypatch,
                                                                                  station: DemoStation) -> None:
    """Until the view is shown its size is a guess: a page asked for then came for the wrong
    width, was drawn scaled (a few ms a paint) and took the decoder's time from the next pages."""
    from ui.prefetch import PageCacheModel

    asked: list[tuple[str, int]] = []
    request = PageCacheModel.request

    def recording(self: PageCacheModel, sha256s) -> None:  # type: ignore[no-untyped-def]
        sha256s = list(sha256s)
        asked.extend((sha, self.display_width) for sha in sha256s
                     if self.page(sha) is None and not self.is_loading(sha))
        request(self, sha256s)

    monkeypatch.setattr(PageCacheModel, "request", recording)
    widget = open_keying(qtbot, station)
    first = widget.session.document.page_shas[0]
    width = widget.page_view.fit_width_pixels()
    assert [w for sha, w in asked if sha == first] == [width]  # once, for the shown width
    page = widget.page_view.page
    assert page is not None and width in [level.width() for _scale, level in page.levels]
    widget.close_session()


class _PaintWatch(QObject):
    """Calls `seen()` at every paint of the widgets it is installed on, keeping what it returns."""

    def __init__(self, seen) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.seen, self.log = seen, []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint:
            self.log.append((watched.objectName(), self.seen()))
        return False


def test_the_next_document_opens_in_two_blocks_and_its_page_and_zone_are_then_painted(
        qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station)
    session = widget.session
    first_page, next_sha = widget.page_view.page, session.documents[1].page_shas[0]
    qtbot.waitUntil(lambda: widget.pages.page(next_sha) is not None, timeout=10_000)
    watch = _PaintWatch(lambda: (widget.page_view.page, widget.page_view.zone))
    viewport = widget.page_view.viewport()
    viewport.setObjectName("scan")
    truth = truth_of(station, "REBATES-DEMO", widget)
    last = session.paths()[-1]
    key_until(qtbot, widget, truth, last)
    page_when_due: list[object] = []
    due = QTimer(widget)  # a timer due from now on (QTimer.singleShot(0) would post a call instead)
    due.setSingleShot(True)
    due.timeout.connect(lambda: page_when_due.append(widget.page_view.page))
    due.start(0)
    # The document's last keys as the platform hands them over, with no event loop run after.
    type_unicode(widget, truth.values.get(last, ""))
    if session.doc_index == 0:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(current_edit(widget), QKeyEvent(kind, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r"))
    # The form's half at once: the next document's first field has the focus, keys go to it.
    assert session.doc_index == 1 and widget.form.line_edit(session.paths()[0]).hasFocus()
    assert widget.page_view.page is first_page  # its page is the second half
    # The timer due meanwhile runs before the page's half: the GUI thread is not held for both.
    viewport.installEventFilter(watch)
    QApplication.processEvents()
    assert page_when_due == [first_page]
    assert ("scan", (widget.pages.page(next_sha), widget.page_view.zone)) in watch.log, \
        "the next document's page and zone were not painted"
    assert widget.page_view.zone == session.field().zone

    # Moving on a field: its highlight and its zone on the scan change in the same paint.
    before = widget.page_view.zone
    key_value(qtbot, widget, truth_of(station, "REBATES-DEMO", widget).values.get(session.path, ""))
    assert widget.page_view.zone != before
    watch.log.clear()
    QApplication.processEvents()
    assert ("scan", (widget.page_view.page, widget.page_view.zone)) in watch.log, \
        "the zone of the next field was not painted with the field"


def test_validation_shows_at_once_beeps_and_enter_again_keeps_the_value_flagged(qtbot, monkeypatch,
                                                                                station: DemoStation) -> None:
    beeps = Beeps(monkeypatch)
    widget = open_keying(qtbot, station)
    truth = truth_of(station, "REBATES-DEMO", widget)
    key_until(qtbot, widget, truth, "purchase_date")
    edit = current_edit(widget)
    qtbot.keyClicks(edit, "13/45/2026")
    assert "date" in str(widget.form.field_state("purchase_date")["issues"]).lower()  # shown while typing
    assert beeps.count == 0
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert widget.session.path == "purchase_date" and beeps.count == 1  # refused once, with a beep
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # never trapped: Enter again keeps it
    assert widget.session.path == "purchase_amount"
    state = widget.form.field_state("purchase_date")
    assert state["overridden"] is True and state["saved"] is True and state["issues"]
    assert widget.flush()
    saved = stored_values(station.local, widget.session.document.id)["purchase_date"]
    assert (saved.value, saved.overridden) == ("13/45/2026", True)


def test_dup_repeats_the_previous_documents_value_and_marks_are_saved(qtbot, monkeypatch, station: DemoStation) -> None:
    beeps = Beeps(monkeypatch)
    widget = open_keying(qtbot, station)
    first_path = widget.session.path
    press(qtbot, widget, Qt.Key.Key_F2)  # nothing to repeat on the first document
    assert beeps.count == 1 and "Nothing to repeat" in widget.message.text()
    assert widget.session.path == first_path
    key_document(qtbot, widget, truth_of(station, "REBATES-DEMO", widget))
    previous = widget.session.documents[0]
    doc = widget.session.document
    assert widget.session.doc_index == 1

    press(qtbot, widget, Qt.Key.Key_F2)  # dup
    dup_value = stored_texts(station.local, previous.id)[first_path]
    assert current_edit(widget).text() == dup_value
    press(qtbot, widget, Qt.Key.Key_Return)
    illegible_path = widget.session.path
    press(qtbot, widget, Qt.Key.Key_F3)  # illegible
    assert widget.form.field_state(illegible_path)["flag"] == "illegible"
    blank_path = widget.session.path
    qtbot.keyClicks(current_edit(widget), "typed by mistake")
    press(qtbot, widget, Qt.Key.Key_F4)  # blank on the paper: the text goes
    assert widget.form.field_state(blank_path)["flag"] == "blank"
    assert widget.form.text(blank_path) == ""
    after_blank = widget.session.path
    press(qtbot, widget, Qt.Key.Key_Tab, SHIFT)  # back to the blank field
    assert widget.session.path == blank_path and current_edit(widget).hasFocus()
    press(qtbot, widget, Qt.Key.Key_Tab)  # Tab advances like Enter; the mark stays
    assert widget.session.path == after_blank
    assert widget.flush()
    saved = stored_values(station.local, doc.id)
    assert saved[first_path].value == dup_value and saved[first_path].flag == ""
    assert (saved[illegible_path].value, saved[illegible_path].flag) == ("", "illegible")
    assert (saved[blank_path].value, saved[blank_path].flag) == ("", "blank")


def test_a_full_fixed_length_field_moves_on_by_itself_with_the_fields_case(qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station)
    truth = truth_of(station, "REBATES-DEMO", widget)
    key_until(qtbot, widget, truth, "state")
    qtbot.keyClicks(current_edit(widget), "ny")  # two letters fill the field: no Enter needed
    assert widget.session.path == "zip"
    assert widget.form.field_state("state")["text"] == "NY"
    qtbot.keyClicks(current_edit(widget), "1234")  # not full yet: stays
    assert widget.session.path == "zip"


def test_the_keyers_figures_follow_within_a_second_not_on_the_key(qtbot, station: DemoStation) -> None:
    """Fields today (and keys/h) are shown once a second: a field change does not update the
    status bar, and the count is there a second later."""
    widget = open_keying(qtbot, station)
    truth = truth_of(station, "REBATES-DEMO", widget)
    label = widget.status.fields_label
    qtbot.waitUntil(lambda: label.text() == "0 fields today", timeout=3000)
    key_until(qtbot, widget, truth, "state")
    keyed = widget.session.paths().index("state")
    assert label.text() == "0 fields today"  # not on the keys themselves
    qtbot.waitUntil(lambda: label.text() == f"{keyed} fields today", timeout=1500)


def test_the_next_fields_snippet_is_made_while_the_keyer_types(qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station)
    truth = truth_of(station, "REBATES-DEMO", widget)
    key_until(qtbot, widget, truth, "state")
    session, snippet = widget.session, widget.snippet
    upcoming = session.field("zip").zone
    assert upcoming is not None

    def made(zone: object) -> bool:
        return any(key[0] == zone for key in snippet._made)

    assert not made(upcoming)
    qtbot.waitUntil(lambda: made(upcoming), timeout=2000)  # a pause in the keying
    ready = next(image for key, image in snippet._made.items() if key[0] == upcoming)
    qtbot.keyClicks(current_edit(widget), "ny")  # on to zip
    assert session.path == "zip" and snippet.zone == upcoming
    assert snippet.snippet_image() is ready  # shown as made, nothing made on the key


def test_a_finished_documents_writes_wait_for_the_next_document_to_be_shown(qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station)
    writer = widget.writer
    held: list[tuple[float, int]] = []  # (seconds, the document shown when asked)
    real_defer = writer.defer
    writer.defer = lambda seconds: (held.append((seconds, widget.session.doc_index)), real_defer(seconds))  # type: ignore[method-assign]
    first = widget.session.document
    key_document(qtbot, widget, truth_of(station, "REBATES-DEMO", widget))
    assert held == [(keying_window.NEW_DOCUMENT_WRITE_DELAY_S, 1)]  # asked as document 2 opened
    assert widget.flush()  # someone waiting for the writes does not wait for the delay
    assert stored_values(station.local, first.id)


def test_line_items_are_added_and_removed_on_keys(qtbot, monkeypatch, station: DemoStation) -> None:
    beeps = Beeps(monkeypatch)
    widget = open_keying(qtbot, station, "CLAIMS-DEMO")
    truth = truth_of(station, "CLAIMS-DEMO", widget)
    key_until(qtbot, widget, truth, "lines[1].units")
    assert widget.form.row_count("lines") == 1
    press(qtbot, widget, Qt.Key.Key_Delete, CTRL)  # the section needs one row at least
    assert beeps.count == 1 and widget.form.row_count("lines") == 1 and "at least" in widget.message.text()
    qtbot.keyClicks(current_edit(widget), "1")
    press(qtbot, widget, Qt.Key.Key_Insert, CTRL)
    assert widget.form.row_count("lines") == 2 and widget.session.path == "lines[2].service_date"
    assert current_edit(widget).hasFocus()
    key_value(qtbot, widget, truth.values["lines[2].service_date"])
    key_value(qtbot, widget, truth.values["lines[2].place"])
    press(qtbot, widget, Qt.Key.Key_Insert, CTRL)
    assert widget.form.row_count("lines") == 3 and widget.session.path == "lines[3].service_date"
    key_value(qtbot, widget, "01/02/26")
    press(qtbot, widget, Qt.Key.Key_Tab, SHIFT)
    press(qtbot, widget, Qt.Key.Key_Tab, SHIFT)
    assert widget.session.path.startswith("lines[2].")
    press(qtbot, widget, Qt.Key.Key_Delete, CTRL)  # row 2 goes; row 3 moves up into its place
    assert widget.form.row_count("lines") == 2
    assert widget.form.text("lines[2].service_date") == "01/02/26"
    assert widget.flush()
    saved = stored_texts(station.local, widget.session.document.id)
    assert saved["lines[1].units"] == "1" and saved["lines[2].service_date"] == "01/02/26"
    assert not any(path.startswith("lines[3].") for path in saved)


def test_long_pasted_and_non_latin_values_are_kept_whole_per_field_rules(qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station)
    doc = widget.session.document
    assert widget.session.path == "first_name"
    long_name = "Maximiliana-" * 10  # 120 characters in a 24-character field
    qtbot.keyClicks(current_edit(widget), long_name)
    assert "24" in str(widget.form.field_state("first_name")["issues"])
    press(qtbot, widget, Qt.Key.Key_Return)
    press(qtbot, widget, Qt.Key.Key_Return)  # kept, flagged, never cut
    assert widget.session.path == "last_name"
    type_unicode(widget, "Núñez-Łukaszewicz 山田")
    press(qtbot, widget, Qt.Key.Key_Return)
    assert widget.session.path == "street"
    edit = current_edit(widget)
    edit.insert("12 Main St\tApt 4\r\nback door")  # a paste with a tab and a line break
    edit.textEdited.emit(edit.text())  # QLineEdit.insert() is programmatic; a paste emits this
    press(qtbot, widget, Qt.Key.Key_Return)
    assert widget.flush()
    saved = stored_values(station.local, doc.id)
    assert saved["first_name"].value == long_name.upper() and saved["first_name"].overridden
    assert saved["last_name"].value == "NÚÑEZ-ŁUKASZEWICZ 山田" and not saved["last_name"].overridden
    assert saved["street"].value == "12 MAIN ST APT 4 BACK DOOR"


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_a_bad_page_image_shows_the_reason_and_f8_reports_it_while_the_form_works(
        qtbot, caplog, station: DemoStation, damage: str) -> None:
    actor = station.actor()
    unit = station.claim(actor, "REBATES-DEMO")
    first = station.local.engine.connect()
    sha = first.execute(text(
        "SELECT p.image_sha256 FROM pages p JOIN documents d ON d.id = p.document_id ORDER BY d.seq LIMIT 1"
    )).scalar_one()
    first.close()
    if damage == "corrupt":
        with station.local.engine.begin() as conn:
            conn.execute(update(m.Image).where(m.Image.sha256 == sha).values(data=b"II*\x00garbage"))
    else:
        with station.local.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.execute(text("DELETE FROM images WHERE sha256 = :s"), {"s": sha})
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
    widget = open_keying(qtbot, station, unit_id=unit)
    qtbot.waitUntil(lambda: bool(widget.page_view.error_text))
    shown = widget.page_view.error_text
    assert "cannot be shown" in shown and "F8" in shown
    assert ("decoded" in shown) if damage == "corrupt" else ("not on this station" in shown)
    assert widget.snippet.snippet_image() is None
    with caplog.at_level(logging.WARNING, logger="ui.keying_window"), qtbot.waitSignal(widget.page_reported) as got:
        press(qtbot, widget, Qt.Key.Key_F8)
    reason = "unreadable" if damage == "corrupt" else "missing"
    assert got.args == [sha, reason]
    assert any("page problem reported" in r.getMessage() for r in caplog.records)
    assert "Reported" in widget.page_view.error_text and "Reported" in widget.message.text()
    assert "reaches your supervisor with the next sync" in widget.message.text()
    # The report is in the local store, queued for the push, with the decoder's reason.
    doc = widget.session.document
    with station.local.session() as s:
        (problem,) = s.scalars(select(m.PageProblem)).all()
        assert (problem.document_id, problem.page_no, problem.image_sha256, problem.reason, problem.keyer_id,
                problem.unit_id) == (doc.id, 1, sha, reason, actor.id, unit)
        assert problem.detail == widget.pages.failures[sha]
        assert s.scalars(select(m.OutboxItem.kind)).all() == ["page_problem"]
    with qtbot.waitSignal(widget.page_reported):
        press(qtbot, widget, Qt.Key.Key_F8)  # again: the same report, not a second one
    assert widget.message.text().startswith("Already reported page 1 of")
    with station.local.session() as s:
        assert len(s.scalars(select(m.PageProblem)).all()) == 1
    key_value(qtbot, widget, "Ann")  # the form still works
    assert widget.session.path == "last_name" and widget.flush()
    assert stored_texts(station.local, widget.session.document.id)["first_name"] == "ANN"


def test_f8_on_a_page_that_shows_records_it_unreadable_for_the_push(qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station, "SURVEYS-DEMO")
    qtbot.waitUntil(lambda: widget.page_view.page is not None)
    press(qtbot, widget, Qt.Key.Key_PageDown)
    assert widget.status.page_label.text() == "Page 2 of 2"
    qtbot.waitUntil(lambda: widget.page_view.page is not None)
    with qtbot.waitSignal(widget.page_reported) as got:
        press(qtbot, widget, Qt.Key.Key_F8)
    doc = widget.session.document
    assert got.args == [doc.page_shas[1], "unreadable"]
    assert widget.message.text().startswith(f"Reported page 2 of {doc.source_name} as unreadable")
    with station.local.session() as s:
        problem = s.scalars(select(m.PageProblem)).one()
    assert (problem.document_id, problem.page_no, problem.image_sha256, problem.reason) == (
        doc.id, 2, doc.page_shas[1], "unreadable")
    assert widget.page_view.page is not None and not widget.page_view.error_text  # the page stays shown
    assert widget.flush()


def test_a_failed_save_is_shown_kept_and_written_again(qtbot, monkeypatch, station: DemoStation) -> None:
    failures = [SaveFailed("The disk is full.")]
    real_save = keying_window.save

    def flaky_save(local, job):  # type: ignore[no-untyped-def]
        if failures and job.values:
            raise failures.pop()
        real_save(local, job)

    monkeypatch.setattr(keying_window, "save", flaky_save)
    monkeypatch.setattr(keying_window, "RETRY_MS", 50)
    widget = open_keying(qtbot, station)
    widget._retry.setInterval(50)
    key_value(qtbot, widget, "Ann")
    qtbot.waitUntil(lambda: widget.status.save_label.text() == "Not saved!")
    assert "could not be saved" in widget.message.text()
    qtbot.waitUntil(lambda: widget.status.save_label.text().startswith("Saved"), timeout=5000)
    assert not widget.message.isVisible()
    assert stored_texts(station.local, widget.session.document.id)["first_name"] == "ANN"


def test_closing_saves_the_field_being_typed_and_reopening_resumes_there(qtbot, station: DemoStation) -> None:
    widget = open_keying(qtbot, station)
    truth = truth_of(station, "REBATES-DEMO", widget)
    key_until(qtbot, widget, truth, "city")
    qtbot.keyClicks(current_edit(widget), "HALF")
    unit, doc = widget.session.unit_id, widget.session.document.id
    widget.close()
    assert stored_texts(station.local, doc)["city"] == "HALF"
    actor = station.actor()
    again = KeyingWidget(station.local, lambda writer: KeyingSession.open(station.local, unit, actor.id, writer=writer))
    qtbot.addWidget(again)
    again.show()
    assert again.session.path == "city" and again.form.current_path == "city"
    assert again.form.field_state("city")["text"] == "HALF"
    assert again.form.field_state("street")["saved"] is True
    again.close_session()


def test_screenshot_of_the_keying_view(qtbot, station: DemoStation, tmp_path: Path) -> None:
    widget = open_keying(qtbot, station, "CLAIMS-DEMO")
    widget.resize(1500, 940)
    truth = truth_of(station, "CLAIMS-DEMO", widget)
    key_until(qtbot, widget, truth, "patient_dob")
    qtbot.keyClicks(current_edit(widget), "07/12/20")
    qtbot.wait(50)
    assert widget.page_view.zone is not None and widget.snippet.snippet_image() is not None
    assert widget.form.field_state("patient_first_name")["saved"] is True
    target = tmp_path / "keying.png"
    assert widget.grab().save(str(target))
    shutil.copyfile(target, SHOT)
    assert target.stat().st_size > 50_000  # a scan, a form and a snippet, not a blank window


def test_a_third_key_keys_only_the_listed_fields(qtbot, local) -> None:  # type: ignore[no-untyped-def]
    from tests.workstation.localseed import seed_unit

    unit = seed_unit(local, "rebate", documents=1, pass_no=3, field_paths=[["city", "zip"]])
    widget = KeyingWidget(local, lambda writer: KeyingSession.open(local, unit.unit_id, unit.keyer_id, writer=writer))
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.form.line_edit("city").hasFocus())
    assert widget.session.path == "city" and current_edit(widget).hasFocus()
    assert not widget.form.line_edit("first_name").isEnabled()  # seen on the form, not keyed
    assert widget.form.text("first_name") == ""  # and no earlier pass's value anywhere
    key_value(qtbot, widget, "Boise")
    assert widget.session.path == "zip"
    with qtbot.waitSignal(widget.unit_finished, timeout=5000):
        key_value(qtbot, widget, "83702")  # five digits fill the field: the document is done
    assert widget.flush()
    assert stored_texts(local, unit.document_ids[0]) == {"city": "BOISE", "zip": "83702"}
