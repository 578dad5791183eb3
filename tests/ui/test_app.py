from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QStackedWidget

from tests.ui.conftest import FakeActor
from ui import app as app_module
from ui.admin_users import AdminUsersWidget
from ui.dashboard import DashboardWidget
from ui.keying_home import KeyingHomeWidget
from ui.login import LoginDialog
from ui.mainwindow import MainWindow
from ui.qa_page import QaPageWidget
from workstation.cli.context import CliContext
from workstation.paths import APP_NAME, Workspace


@pytest.fixture
def ctx(ws: Workspace) -> CliContext:
    context = CliContext(ws=ws, central_url=ws.embedded_central_url)
    yield context
    context.close()


@pytest.fixture(autouse=True)
def forget_windows():
    yield
    for window in list(app_module._windows):
        window.close()
        window.deleteLater()
    app_module._windows.clear()


def _login_as(monkeypatch, *actors: FakeActor | None) -> list[int]:
    """Make LoginDialog.ask return the given actors in turn; returns a call counter."""
    queue = list(actors)
    calls: list[int] = []

    def ask(cls, authenticate, parent=None, *, username=""):
        calls.append(1)
        return queue.pop(0)

    monkeypatch.setattr(LoginDialog, "ask", classmethod(ask))
    return calls


def test_application_is_set_up_for_settings_style_and_icon(styled_app: QApplication) -> None:
    assert styled_app.applicationName() == APP_NAME
    assert styled_app.organizationName()
    sheet = styled_app.styleSheet()
    assert "QLineEdit#fieldEdit" in sheet
    styled_app.setStyleSheet("")  # the style sheet wraps the style; look underneath
    try:
        assert styled_app.style().name().lower() == "fusion"
    finally:
        styled_app.setStyleSheet(sheet)
    assert not styled_app.windowIcon().isNull()


def test_cancelled_login_opens_no_window(monkeypatch, ctx: CliContext) -> None:
    _login_as(monkeypatch, None)
    assert app_module.start(ctx) is None
    assert app_module._windows == []


def test_a_keyer_gets_the_keying_page(qtbot, monkeypatch, ctx: CliContext, keyer: FakeActor) -> None:
    _login_as(monkeypatch, keyer)
    window = app_module.start(ctx)
    assert isinstance(window, MainWindow)
    assert window.isVisible()
    assert window.current_page_key == "keying"
    assert isinstance(window.centralWidget(), QStackedWidget)
    assert "Asha Rao" in window.windowTitle()


@pytest.mark.parametrize(
    ("role", "first", "pages"),
    [("qa", "qa", {"qa", "keying"}), ("supervisor", "dashboard", {"dashboard"}), ("admin", "admin", {"admin", "dashboard", "qa"})],
)
def test_other_roles_get_their_pages(qtbot, monkeypatch, ctx: CliContext, role: str, first: str, pages: set[str]) -> None:
    _login_as(monkeypatch, FakeActor("lee", role))
    window = app_module.start(ctx)
    assert window is not None
    assert window.current_page_key == first
    for key in pages:
        expected = {"qa": QaPageWidget, "keying": KeyingHomeWidget, "dashboard": DashboardWidget, "admin": AdminUsersWidget}[key]
        assert isinstance(window.page(key), expected)
    window.show_page(sorted(pages)[0])
    assert window.current_page_key == sorted(pages)[0]


def test_logout_hides_the_window_and_asks_again(qtbot, monkeypatch, ctx: CliContext, keyer: FakeActor) -> None:
    calls = _login_as(monkeypatch, keyer, None)
    quits: list[int] = []
    monkeypatch.setattr(QApplication, "quit", staticmethod(lambda: quits.append(1)))
    window = app_module.start(ctx)
    assert window is not None
    window.logout_requested.emit()
    assert len(calls) == 2
    assert not window.isVisible()
    assert quits == [1]
    assert window not in app_module._windows


def test_window_geometry_is_remembered(qtbot, monkeypatch, ctx: CliContext, keyer: FakeActor) -> None:
    _login_as(monkeypatch, keyer, keyer)
    first = app_module.start(ctx)
    assert first is not None
    first.resize(700, 500)  # inside the offscreen screen (800x600)
    first.close()
    assert QSettings().value("main_window/geometry") is not None
    second = app_module.start(ctx)
    assert second is not None
    assert (second.width(), second.height()) == (700, 500)


def test_central_authenticator_checks_against_the_central_database(ctx: CliContext, keyer: FakeActor) -> None:
    seen: list[tuple[object, str, str]] = []

    def check(store, username: str, password: str) -> FakeActor:
        seen.append((store, username, password))
        return keyer

    authenticate = app_module.central_authenticator(ctx, check)
    assert authenticate("asha", "pw") is keyer
    store, username, password = seen[0]
    assert (username, password) == ("asha", "pw")
    assert store is ctx.central() and Path(ctx.ws.central_db).exists()


def test_the_login_falls_back_to_this_stations_copy_of_the_account_while_offline(ws: Workspace) -> None:
    from workstation import auth
    from workstation import models as m

    offline_ctx = CliContext(ws=ws, central_url="postgresql+psycopg://127.0.0.1:1/central")
    with offline_ctx.local().transaction() as s:  # as a pull of asha's work left it
        s.add(m.User(username="asha", display_name="Asha", role="keyer",
                     password_hash=auth.hash_password("s3cret-pass")))
    authenticate = app_module.central_authenticator(offline_ctx)
    assert authenticate("asha", "s3cret-pass").username == "asha"
    with pytest.raises(auth.DatabaseUnavailable, match="holds no copy"):
        authenticate("qa1", "whatever-pw")
    offline_ctx.close()
