from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import FakeActor
from ui import crash
from ui.login import LoginDialog
from workstation.errors import AuthError, DatabaseUnavailable


class FakeAuth:
    """Accepts asha/secret; records calls and the thread they ran on."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.threads: list[str] = []

    def __call__(self, username: str, password: str) -> FakeActor:
        self.calls.append((username, password))
        self.threads.append(threading.current_thread().name)
        if (username, password) != ("asha", "secret"):
            raise AuthError("Wrong user name or password.", "Check both and try again.")
        return FakeActor("asha", "keyer", "Asha Rao")


@pytest.fixture
def auth() -> FakeAuth:
    return FakeAuth()


@pytest.fixture
def dialog(qtbot, auth: FakeAuth) -> LoginDialog:
    dlg = LoginDialog(auth)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.activateWindow()
    qtbot.waitUntil(lambda: dlg.username_edit.hasFocus())
    return dlg


def test_user_name_has_the_focus_and_tab_goes_to_the_password(qtbot, dialog: LoginDialog) -> None:
    assert QApplication.focusWidget() is dialog.username_edit
    qtbot.keyClicks(dialog.username_edit, "asha")
    qtbot.keyClick(dialog.username_edit, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is dialog.password_edit


def test_enter_logs_in_off_the_gui_thread(qtbot, dialog: LoginDialog, auth: FakeAuth) -> None:
    qtbot.keyClicks(dialog.username_edit, "asha")
    qtbot.keyClick(dialog.username_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.password_edit, "secret")
    with qtbot.waitSignal(dialog.login_succeeded, timeout=5000) as blocker:
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert blocker.args[0].username == "asha"
    assert dialog.actor is not None and dialog.actor.role == "keyer"
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    assert auth.calls == [("asha", "secret")]
    assert auth.threads[0] != threading.main_thread().name


def test_enter_after_the_user_name_moves_to_the_password(qtbot, dialog: LoginDialog, auth: FakeAuth) -> None:
    qtbot.keyClicks(dialog.username_edit, "asha")
    qtbot.keyClick(dialog.username_edit, Qt.Key.Key_Return)
    assert QApplication.focusWidget() is dialog.password_edit
    assert auth.calls == []
    assert dialog.isVisible()


def test_wrong_password_shows_a_sentence_and_clears_the_password(qtbot, dialog: LoginDialog, auth: FakeAuth) -> None:
    qtbot.keyClicks(dialog.username_edit, "asha")
    qtbot.keyClick(dialog.username_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.password_edit, "guess")
    with qtbot.assertNotEmitted(dialog.login_succeeded), qtbot.waitSignal(dialog.login_failed, timeout=5000):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert "Wrong user name or password." in dialog.message
    assert "Traceback" not in dialog.message
    assert dialog.password_edit.text() == ""
    assert dialog.username_edit.text() == "asha"
    assert QApplication.focusWidget() is dialog.password_edit
    assert dialog.isVisible() and dialog.actor is None
    # A second try with the right password gets in.
    qtbot.keyClicks(dialog.password_edit, "secret")
    with qtbot.waitSignal(dialog.login_succeeded, timeout=5000):
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)


def test_unreachable_database_is_shown_in_the_dialog(qtbot) -> None:
    def down(username: str, password: str) -> FakeActor:
        raise DatabaseUnavailable("The central database cannot be reached.", "Check the network.")

    dlg = LoginDialog(down, username="asha")
    qtbot.addWidget(dlg)
    dlg.password_edit.setText("x")
    with qtbot.waitSignal(dlg.login_failed, timeout=5000) as blocker:
        dlg.login_button.click()
    assert blocker.args[0] == "The central database cannot be reached. Check the network."


def test_a_bug_in_authenticate_goes_to_the_crash_handler(qtbot, monkeypatch) -> None:
    seen: list[BaseException] = []
    monkeypatch.setattr(crash.CrashDialog, "ask", classmethod(lambda cls, error, log_file, parent=None: seen.append(error)))
    monkeypatch.setattr("sys.excepthook", crash.handle_exception)

    def broken(username: str, password: str) -> FakeActor:
        raise ZeroDivisionError("bug")

    dlg = LoginDialog(broken, username="asha")
    qtbot.addWidget(dlg)
    dlg.password_edit.setText("x")
    dlg.login_button.click()
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert isinstance(seen[0], ZeroDivisionError)
    assert dlg.actor is None and dlg.username_edit.isEnabled()


def test_empty_user_name_is_not_sent(qtbot, dialog: LoginDialog, auth: FakeAuth) -> None:
    dialog.password_edit.setText("secret")
    dialog.login_button.click()
    assert auth.calls == []
    assert dialog.message == "Enter your user name."


def test_ask_returns_none_when_cancelled(qtbot, monkeypatch, auth: FakeAuth) -> None:
    monkeypatch.setattr(LoginDialog, "exec", lambda self: self.reject() or 0)
    assert LoginDialog.ask(auth) is None


def test_repeated_wrong_passwords_lock_the_account_as_the_station_settings_say(qtbot, ws) -> None:
    import dataclasses

    from ui.app import central_authenticator
    from workstation import auth
    from workstation.cli.context import CliContext
    from workstation.settings import Settings, save_settings

    save_settings(ws, dataclasses.replace(Settings(), login_max_failures=2, lockout_minutes=7))
    ctx = CliContext(ws=ws, central_url=ws.embedded_central_url)
    root = auth.create_user(ctx.central(create=True), None, "root", "admin", "root-password")
    auth.create_user(ctx.central(), root, "asha", "keyer", "asha-password")
    dlg = LoginDialog(central_authenticator(ctx), username="asha")
    qtbot.addWidget(dlg)
    messages = []
    for password in ("wrong-one", "wrong-two", "asha-password"):
        dlg.password_edit.setText(password)
        with qtbot.waitSignal(dlg.login_failed, timeout=10_000) as failed:
            dlg.login_button.click()
        messages.append(failed.args[0])
    assert "wrong" in messages[0]
    assert "locked for 7 minutes" in messages[1]
    assert "locked" in messages[2] and dlg.actor is None  # the right password waits out the lockout
    ctx.close()
