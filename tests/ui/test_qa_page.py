"""The QA review page in the main window: connecting, a database that is gone, settings, logout."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import FakeActor
from tests.ui.test_qa_station import key, resolutions, seed
from tests.workstation.centralseed import add_user
from ui.qa_page import QaPageWidget
from ui.roles import build_window
from workstation.auth import Actor
from workstation.cli.context import CliContext
from workstation.paths import Workspace
from workstation.secrets import SERVICE, credential_key
from workstation.settings import Settings, save_settings

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"


@pytest.fixture
def ctx(ws: Workspace) -> Iterator[CliContext]:
    context = CliContext(ws=ws, central_url=ws.embedded_central_url)
    yield context
    context.close()


def opened_page(qtbot, actor, ctx: CliContext) -> QaPageWidget:  # type: ignore[no-untyped-def]
    page = QaPageWidget(actor, ctx)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    with qtbot.waitSignal(page.station_opened, timeout=30_000):
        page.show()
    assert page.station is not None
    qtbot.waitUntil(lambda: not page.station.loading)
    return page


def test_an_unreachable_central_database_is_a_sentence_with_try_again(qtbot, ws: Workspace, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    memory_keyring.set_password(SERVICE, credential_key(UNREACHABLE), "secret")  # logged in, server down
    ctx = CliContext(ws=ws, central_url=UNREACHABLE)
    try:
        page = QaPageWidget(Actor(uuid.uuid4(), "lead", "qa"), ctx)
        qtbot.addWidget(page)
        with qtbot.waitSignal(page.open_failed, timeout=15_000) as failed:
            page.show()
        assert "cannot be reached" in failed.args[0]
        assert "cannot be reached" in page.status_message and "Traceback" not in page.status_message
        assert page.retry_button.isVisibleTo(page) and page.station is None
        with qtbot.waitSignal(page.open_failed, timeout=15_000):
            qtbot.keyClick(page.focusWidget() or page, Qt.Key.Key_F5)  # try again
        assert page.station is None
    finally:
        ctx.close()


def test_the_page_opens_the_station_on_the_central_database(qtbot, ctx: CliContext) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(ctx.central(create=True), [({"city": "X"}, {"city": "Y"})])
    page = opened_page(qtbot, seeded.lead, ctx)
    assert page.station.queue_count == 1 and not page.station.allow_own
    assert page.status_message == ""


def test_the_own_entry_setting_for_tiny_teams_reaches_the_station(qtbot, ctx: CliContext) -> None:  # type: ignore[no-untyped-def]
    save_settings(ctx.ws, Settings(qa_allow_own_entries=True))
    seeded = seed(ctx.central(create=True), [({"city": "X"}, {"city": "Y"})], lead_keys_pass1=True)
    page = opened_page(qtbot, seeded.lead, ctx)
    assert page.station.allow_own and page.station.queue_count == 1


def test_a_login_actor_becomes_the_cores_actor(qtbot, ctx: CliContext) -> None:  # type: ignore[no-untyped-def]
    central = ctx.central(create=True)
    lead_id = add_user(central, "quinn", role="qa")
    page = opened_page(qtbot, FakeActor("quinn", "qa", "Quinn QA", id=lead_id), ctx)
    assert page.actor == Actor(lead_id, "quinn", "qa", "Quinn QA")
    assert page.station.message_text == ""  # the services accepted it


def test_the_qa_role_gets_the_station_in_the_main_window_and_logout_writes_it_all(qtbot, ctx: CliContext) -> None:  # type: ignore[no-untyped-def]
    seeded = seed(ctx.central(create=True), [({"city": "X"}, {"city": "Y"})])
    window = build_window(seeded.lead, ctx)
    qtbot.addWidget(window)
    page = window.page("qa")
    assert isinstance(page, QaPageWidget) and window.current_page_key == "qa"
    with qtbot.waitSignal(page.station_opened, timeout=30_000):
        window.show()
    station = page.station
    qtbot.waitUntil(lambda: not station.loading and station.queue_count == 1)
    key(qtbot, station, "2", Qt.Key.Key_Return)
    logout = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "Log &out")
    with qtbot.waitSignal(window.logout_requested):  # the app then hides and drops the window
        logout.trigger()
    assert station.pending_writes == 0 and not station.writer.isRunning()
    assert resolutions(ctx.central(), seeded.documents[0])["city"][:3] == ("Y", "", "qa")
    supervisor = build_window(Actor(uuid.uuid4(), "sam", "supervisor"), ctx)
    qtbot.addWidget(supervisor)
    with pytest.raises(KeyError):
        supervisor.page("qa")


def test_a_broken_settings_file_is_said_and_own_entries_stay_refused(qtbot, ctx: CliContext) -> None:  # type: ignore[no-untyped-def]
    ctx.ws.settings_file.write_text("qa_allow_own_entries = [unclosed\n", encoding="utf-8")
    seeded = seed(ctx.central(create=True), [({"city": "X"}, {"city": "Y"})])
    page = opened_page(qtbot, seeded.lead, ctx)
    assert not page.station.allow_own
    assert "cannot be read" in page.station.message_text and "stay refused" in page.station.message_text
