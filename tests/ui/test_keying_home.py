"""The keyer's home: work to claim or resume, own figures, Enter to key, back home when done."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from tests.ui.keyingdemo import DemoStation, HomeKeeper, demo_station, key_document, key_value, stored_texts, truth_of
from ui.keying_home import KeyingHomeWidget
from ui.keying_window import KeyingWidget
from ui.syncworker import SyncWorker
from ui.workmodel import CLAIM, RESUME, WorkListModel
from workstation import models as m
from workstation.keying import KeyingSession
from workstation.store import Store, open_central

UNREACHABLE = "postgresql+psycopg://127.0.0.1:1/nowhere?connect_timeout=2"


@pytest.fixture
def station(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStation]:
    cache = tmp_path_factory.getbasetemp() / "keying-demo-cache"
    station = demo_station(cache, tmp_path / "ws")
    yield station
    station.close()


@pytest.fixture
def homes(station: DemoStation) -> Iterator[HomeKeeper]:
    keeper = HomeKeeper()
    yield keeper
    keeper.close()


def open_home(qtbot, homes: HomeKeeper, station: DemoStation, username: str = "keyer1", *,  # type: ignore[no-untyped-def]
              central=None, sync: SyncWorker | None = None) -> KeyingHomeWidget:
    actor = station.actor(username)
    home = KeyingHomeWidget(actor, station.local, central or (lambda: station.central), sync=sync)
    homes.add(home)
    qtbot.addWidget(home)
    home.resize(1300, 850)
    home.show()
    qtbot.waitUntil(lambda: not home._loading, timeout=10_000)  # both the local and the central part
    return home


def select_row(home: KeyingHomeWidget, kind: str, batch: str, pass_no: int = 1) -> None:
    row = next(i for i, r in enumerate(home.model.rows) if (r.kind, r.batch_name, r.pass_no) == (kind, batch, pass_no))
    home.view.setCurrentIndex(home.model.index(row, 0))


def test_the_work_model_is_a_sound_item_model(qtmodeltester, qtbot, homes, station: DemoStation) -> None:
    home = open_home(qtbot, homes, station)
    assert isinstance(home.model, WorkListModel) and home.model.rowCount() > 0
    qtmodeltester.check(home.model)


def test_enter_claims_the_work_keys_it_and_comes_back_home_with_the_list_read_again(
        qtbot, homes, station: DemoStation) -> None:
    home = open_home(qtbot, homes, station)
    offers = {(r.batch_name, r.pass_no): r for r in home.model.rows}
    assert all(r.kind == CLAIM for r in home.model.rows)
    assert offers[("REBATES-DEMO", 1)].documents == 3 and offers[("REBATES-DEMO", 1)].template_title == "Mail-in rebate form"
    assert "no keying yet" in home.figures_label.text() and "0 fields" in home.figures_label.text()
    select_row(home, CLAIM, "REBATES-DEMO")
    assert home.view.hasFocus()
    with qtbot.waitSignal(home.keying_started, timeout=10_000):
        qtbot.keyClick(home.view, Qt.Key.Key_Return)
    keying = home.keying
    assert isinstance(keying, KeyingWidget) and home.currentWidget() is keying
    qtbot.waitUntil(lambda: keying.page_view.page is not None)
    with qtbot.waitSignal(home.keying_finished, timeout=60_000):
        for _ in keying.session.documents:
            key_document(qtbot, keying, truth_of(station, "REBATES-DEMO", keying))
    assert home.keying is None and home.currentIndex() == 0
    assert "Finished: 3 document(s)" in home.message_text
    qtbot.waitUntil(lambda: not home._loading)
    left = {(r.batch_name, r.pass_no) for r in home.model.rows}
    assert ("REBATES-DEMO", 1) not in left  # all three are keyed
    assert ("REBATES-DEMO", 2) not in left  # and nobody keys two passes of one document
    assert ("CLAIMS-DEMO", 1) in left
    assert "48 fields" in home.figures_label.text() and "3 documents" in home.figures_label.text()
    with station.local.session() as s:
        assert s.scalar(select(func.count()).select_from(m.OutboxItem)) == 1


def test_a_finished_unit_is_pushed_by_the_sync_worker_and_the_status_shows_it(qtbot, homes, station: DemoStation) -> None:
    sync = SyncWorker(station.local, lambda: station.central)
    home = open_home(qtbot, homes, station, sync=sync)
    qtbot.waitUntil(lambda: home.connection_label.text() == "Online")
    select_row(home, CLAIM, "REBATES-DEMO")
    with qtbot.waitSignal(home.keying_started, timeout=10_000):
        qtbot.keyClick(home.view, Qt.Key.Key_Return)
    keying = home.keying
    assert keying is not None
    assert keying.status.connection_label.text() == "Online"  # the keying view's status bar too
    with qtbot.waitSignal(home.keying_finished, timeout=60_000):
        for _ in keying.session.documents:
            key_document(qtbot, keying, truth_of(station, "REBATES-DEMO", keying))
    qtbot.waitUntil(lambda: sync.pending == 0 and not sync.busy, timeout=15_000)
    with station.central.session() as s:
        entries = s.scalar(select(func.count()).select_from(m.Entry).where(m.Entry.finished_at.is_not(None)))
    assert entries == 3
    assert home.connection_label.text() == "Online"
    home.close_session()


def test_the_figures_are_the_keyers_own(qtbot, homes, station: DemoStation) -> None:
    other = station.actor("keyer2")
    unit = station.claim(other, "SURVEYS-DEMO")
    session = KeyingSession.open(station.local, unit, other.id)
    for text in ("20649331", "10/01/2026", "65"):
        session.keystroke()
        session.set_text(text)
        session.advance()
    home = open_home(qtbot, homes, station, "keyer1")
    assert "0 fields" in home.figures_label.text()
    assert all(r.kind == CLAIM for r in home.model.rows)  # keyer2's unit is not keyer1's to resume
    mine = open_home(qtbot, homes, station, "keyer2")
    assert "3 fields" in mine.figures_label.text()
    assert mine.model.rows[0].kind == RESUME


def test_an_unreachable_central_database_is_a_sentence_and_held_work_keys_offline(qtbot, homes, station: DemoStation) -> None:
    unit = station.claim(station.actor(), "REBATES-DEMO")  # claimed while the network was up

    def central() -> Store:
        return open_central(UNREACHABLE)

    home = open_home(qtbot, homes, station, central=central)
    assert "cannot be reached" in home.message_text and "Traceback" not in home.message_text
    assert "The work you hold is listed" in home.message_text
    assert home.connection_label.text() == "Offline"
    rows = home.model.rows
    assert [r.kind for r in rows] == [RESUME] and rows[0].unit_id == unit and "not started" in rows[0].detail
    with qtbot.waitSignal(home.keying_started, timeout=10_000):
        qtbot.keyClick(home.view, Qt.Key.Key_Return)
    keying = home.keying
    assert keying is not None
    key_value(qtbot, keying, "Ann")
    assert keying.flush()
    assert stored_texts(station.local, keying.session.document.id)["first_name"] == "ANN"
    home.close_session()


def test_a_claim_that_fails_is_a_sentence_and_the_home_stays(qtbot, monkeypatch, homes, station: DemoStation) -> None:
    home = open_home(qtbot, homes, station)
    select_row(home, CLAIM, "CLAIMS-DEMO")
    calls: list[uuid.UUID] = []

    def refuse(central, local, keyer_id, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(keyer_id)
        from workstation.errors import NoWorkAvailable

        raise NoWorkAvailable("There is no work you can take in this batch right now.", "Try again later.")

    monkeypatch.setattr("ui.keying_home.claim_and_pull", refuse)
    with qtbot.waitSignal(home.claim_failed, timeout=10_000) as failed:
        qtbot.keyClick(home.view, Qt.Key.Key_Return)
    assert "no work you can take" in failed.args[0]
    assert home.keying is None and home.currentIndex() == 0 and calls
    assert "no work you can take" in home.message_text


def test_screenshot_of_the_home_with_work_to_resume(qtbot, homes, station: DemoStation, tmp_path: Path) -> None:
    unit = station.claim(station.actor(), "SURVEYS-DEMO")
    session = KeyingSession.open(station.local, unit, station.actor().id)
    session.set_text("20649331")
    session.advance()
    home = open_home(qtbot, homes, station)
    assert home.model.rows[0].kind == RESUME and home.selected_row() == home.model.rows[0]
    assert "unfinished work" in home.message_text
    target = tmp_path / "home.png"
    assert home.grab().save(str(target))
    shutil.copyfile(target, Path(tempfile.gettempdir(), "keying_home.png"))
