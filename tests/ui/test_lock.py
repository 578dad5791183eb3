"""The station lock: idle -> content hidden, password asked; the right one continues in place.

The countdown is driven directly (`IdleWatcher.expire()`), or configured to one millisecond and
waited for by signal; no test sleeps or measures time.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QKeyEvent, QWindow
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QVBoxLayout, QWidget

from tests.ui.conftest import FakeActor
from ui import app as app_module
from ui.lock import IdleWatcher
from ui.mainwindow import MainWindow
from workstation import auth
from workstation.cli.context import CliContext
from workstation.errors import AuthError
from workstation.paths import Workspace
from workstation.settings import Settings, load_settings, save_settings

SHOT = Path(tempfile.gettempdir(), "lock_screen.png")


class FakePage(QWidget):
    """A page with a 'scan' and a 'form' field; records flush() and close_session()."""

    def __init__(self) -> None:
        super().__init__()
        self.scan = QLabel("SCAN OF CLAIM 0042")
        self.edit = QLineEdit()
        self.edit.setObjectName("fieldEdit")
        self.other = QLineEdit()
        layout = QVBoxLayout(self)
        layout.addWidget(self.scan)
        layout.addWidget(self.edit)
        layout.addWidget(self.other)
        self.flushed: list[str] = []
        self.closed = 0

    def flush(self) -> bool:
        self.flushed.append(self.edit.text())
        return True

    def close_session(self) -> None:
        self.closed += 1


class FakeCheck:
    """asha's password is 'right-password'; counts every check (as the lockout does)."""

    def __init__(self) -> None:
        self.tries: list[str] = []

    def __call__(self, password: str) -> None:
        self.tries.append(password)
        if password != "right-password":
            raise AuthError("The user name or password is wrong.", "Try again.")


@pytest.fixture
def check() -> FakeCheck:
    return FakeCheck()


@pytest.fixture
def window(qtbot, keyer: FakeActor, check: FakeCheck) -> Iterator[tuple[MainWindow, FakePage]]:
    win = MainWindow(keyer)
    qtbot.addWidget(win)
    page = FakePage()
    win.add_page("keying", page, "Keying")
    win.enable_lock(check, 600_000)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    page.edit.setFocus()
    qtbot.waitUntil(page.edit.hasFocus)
    yield win, page
    win.shutdown()


def lock(qtbot, win: MainWindow) -> None:
    assert win.idle is not None
    with qtbot.waitSignal(win.station_locked, timeout=1000):
        win.idle.expire()


def unlock_with(qtbot, win: MainWindow, password: str) -> None:
    assert win.lock_screen is not None
    qtbot.keyClicks(win.lock_screen.password_edit, password)
    qtbot.keyClick(win.lock_screen.password_edit, Qt.Key.Key_Return)


def test_idle_hides_the_scan_and_the_form_and_asks_for_the_password(qtbot, window) -> None:
    win, page = window
    qtbot.keyClicks(page.edit, "SMI")
    lock(qtbot, win)
    assert win.locked
    assert not page.isVisible() and not page.scan.isVisible() and not page.edit.isVisible()
    assert not page.isEnabled() or not page.parentWidget().isEnabled()  # no key or shortcut reaches it
    assert not win.menuBar().isEnabled()
    assert win.lock_screen is not None and win.lock_screen.isVisible()
    assert page.flushed == ["SMI"]  # what was being typed was saved before the content went away
    qtbot.waitUntil(win.lock_screen.password_edit.hasFocus)
    assert "asha" in win.lock_screen.who_label.text() and "Asha Rao" in win.lock_screen.who_label.text()
    win.resize(1100, 700)
    qtbot.wait(10)  # let the layout settle before the grab (not a timing assertion)
    assert win.grab().save(str(SHOT))


def test_the_right_password_continues_exactly_where_the_keyer_was(qtbot, window, check: FakeCheck) -> None:
    win, page = window
    qtbot.keyClicks(page.edit, "SMITH")
    page.edit.setCursorPosition(2)
    lock(qtbot, win)
    qtbot.keyClicks(page.edit, "XX")  # typing into the hidden form does nothing
    with qtbot.waitSignal(win.station_unlocked, timeout=5000):
        unlock_with(qtbot, win, "right-password")
    assert not win.locked and page.isVisible() and page.isEnabled() and win.menuBar().isEnabled()
    assert page.edit.text() == "SMITH" and page.edit.cursorPosition() == 2
    qtbot.waitUntil(page.edit.hasFocus)
    qtbot.keyClicks(page.edit, "Y")
    assert page.edit.text() == "SMYITH"
    assert check.tries == ["right-password"]
    assert win.lock_screen is not None and win.lock_screen.password_edit.text() == ""


def test_a_wrong_password_is_refused_counted_and_the_content_stays_hidden(qtbot, window, check: FakeCheck) -> None:
    win, page = window
    lock(qtbot, win)
    assert win.lock_screen is not None
    with qtbot.assertNotEmitted(win.station_unlocked), qtbot.waitSignal(win.lock_screen.unlock_failed, timeout=5000):
        unlock_with(qtbot, win, "guess")
    assert win.locked and not page.isVisible()
    assert "password is wrong" in win.lock_screen.message and win.lock_screen.password_edit.text() == ""
    win.lock_screen.password_edit.clear()
    qtbot.keyClick(win.lock_screen.password_edit, Qt.Key.Key_Return)  # empty: not even sent
    assert win.lock_screen.message == "Enter your password." and check.tries == ["guess"]


def test_another_person_can_only_log_the_locked_session_out(qtbot, window) -> None:
    win, page = window
    lock(qtbot, win)
    assert win.lock_screen is not None
    # There is no user name on the lock screen: only the locked user's password opens it.
    assert not [e for e in win.lock_screen.findChildren(QLineEdit) if e is not win.lock_screen.password_edit]
    with qtbot.waitSignal(win.logout_requested, timeout=1000):
        win.lock_screen.logout_button.click()
    assert page.closed == 1  # the session was saved and closed
    assert win.idle is not None and not win.idle.timer.isActive()


def _count_restarts(idle: IdleWatcher) -> list[int]:
    restarts: list[int] = []
    real_start = idle.timer.start
    idle.timer.start = lambda *args: (restarts.append(1), real_start(*args))  # type: ignore[method-assign]
    return restarts


def test_input_anywhere_starts_the_countdown_again(qtbot, window) -> None:
    """Input as the platform sends it: to the window, which hands it on to the focused widget."""
    win, page = window
    idle = win.idle
    assert idle is not None and idle.timer.isActive()
    restarts = _count_restarts(idle)
    handle = win.windowHandle()
    QTest.keyClick(handle, "a")
    assert page.edit.text() == "a"  # the key reached the form through the window ...
    assert len(restarts) == 1  # ... and was seen on its way (the press, not the release)
    QTest.mouseClick(handle, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(5, 5))
    seen = len(restarts)
    assert seen > 1  # the mouse moved there and pressed
    QApplication.sendEvent(handle, QEvent(QEvent.Type.UpdateRequest))  # a repaint is not a person
    page.edit.update()
    qtbot.wait(5)
    assert len(restarts) == seen
    lock(qtbot, win)
    QTest.keyClick(win.windowHandle(), "a")
    assert len(restarts) == seen and not idle.timer.isActive()  # no countdown while locked


def test_input_in_a_dialog_opened_later_counts_too(qtbot, window) -> None:
    win, page = window
    idle = win.idle
    assert idle is not None
    restarts = _count_restarts(idle)
    dialog = QDialog(win)
    answer = QLineEdit(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWindow() is dialog.windowHandle())
    answer.setFocus()
    QTest.keyClick(dialog.windowHandle(), "y")
    assert answer.text() == "y" and len(restarts) == 1
    dialog.close()
    dialog.deleteLater()
    qtbot.wait(5)
    idle.stop()  # a window gone meanwhile is no trouble when the watching stops
    assert not idle.timer.isActive()
    QTest.keyClick(win.windowHandle(), "b")
    assert len(restarts) == 1  # stopped: nothing is watched any more


def test_the_watcher_sees_the_windows_events_only_not_every_objects(qtbot, window) -> None:
    """An application-wide filter would run Python for every paint, timer and queued call of the
    keying view (hundreds per key); the watcher is only asked about events to a window."""
    win, page = window
    watched: list[object] = []

    class Recording(IdleWatcher):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt override)
            watched.append(obj)
            return super().eventFilter(obj, event)

    recorder = Recording(600_000)
    recorder.start()
    page.edit.setText("a repaint, a timer and a key sent to the widget itself")
    page.edit.repaint()
    QApplication.sendEvent(page.other, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A, Qt.KeyboardModifier.NoModifier, "a"))
    qtbot.wait(20)
    QTest.keyClick(win.windowHandle(), "b")
    recorder.stop()
    assert watched, "the window's own events were not watched"
    assert all(isinstance(obj, QWindow) for obj in watched), {type(obj).__name__ for obj in watched}


def test_a_short_configured_timeout_locks_by_itself(qtbot, keyer: FakeActor, check: FakeCheck) -> None:
    win = MainWindow(keyer)
    qtbot.addWidget(win)
    win.add_page("keying", FakePage(), "Keying")
    win.show()
    with qtbot.waitSignal(win.station_locked, timeout=5000):
        win.enable_lock(check, 1)
    assert win.locked
    win.shutdown()


def test_an_idle_watcher_on_its_own_reports_once_per_countdown(qtbot) -> None:
    watcher = IdleWatcher(1)
    watcher.start()
    with qtbot.waitSignal(watcher.idle_reached, timeout=5000):
        pass
    assert not watcher.timer.isActive()
    watcher.stop()


# --- the real wiring: settings, the central database, the lockout ------------------------------


@pytest.fixture
def ctx(ws: Workspace) -> Iterator[CliContext]:
    context = CliContext(ws=ws, central_url=ws.embedded_central_url)
    yield context
    context.close()


def test_the_app_locks_after_the_configured_minutes_or_never(qtbot, ctx: CliContext, keyer: FakeActor) -> None:
    for minutes, expected in ((3.0, 180_000), (0.0, None)):
        save_settings(ctx.ws, dataclasses.replace(Settings(), lock_after_minutes=minutes))
        win = MainWindow(keyer)
        qtbot.addWidget(win)
        app_module.enable_lock(win, ctx, keyer)
        assert (win.idle.timeout_ms if win.idle else None) == expected
        win.shutdown()
    assert load_settings(ctx.ws).lock_after_minutes == 0.0


def test_wrong_unlock_passwords_count_toward_the_account_lockout(qtbot, ctx: CliContext) -> None:
    save_settings(ctx.ws, dataclasses.replace(Settings(), login_max_failures=3, lockout_minutes=20))
    central = ctx.central(create=True)
    root = auth.create_user(central, None, "root", "admin", "root-password")
    asha = auth.create_user(central, root, "asha", "keyer", "asha-password", display_name="Asha Rao")
    win = MainWindow(asha)
    qtbot.addWidget(win)
    win.add_page("keying", FakePage(), "Keying")
    app_module.enable_lock(win, ctx, asha)
    win.show()
    lock(qtbot, win)
    assert win.lock_screen is not None
    for attempt in range(3):
        with qtbot.waitSignal(win.lock_screen.unlock_failed, timeout=10_000) as failed:
            unlock_with(qtbot, win, "root-password" if attempt == 0 else "wrong-guess")  # root's is no key
    assert "locked for 20 minutes" in failed.args[0]
    with qtbot.waitSignal(win.lock_screen.unlock_failed, timeout=10_000) as failed:
        unlock_with(qtbot, win, "asha-password")  # the account is locked now: even the right one waits
    assert "locked" in failed.args[0] and win.locked
    auth.set_password(central, root, "asha", "asha-new-password")  # an administrator resets it
    with qtbot.waitSignal(win.station_unlocked, timeout=10_000):
        unlock_with(qtbot, win, "asha-new-password")
    win.shutdown()


def test_keying_locked_mid_field_saves_it_and_goes_on_in_the_same_field(
        qtbot, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, check: FakeCheck) -> None:
    from tests.ui.keyingdemo import current_edit, demo_station, stored_texts
    from ui.keying_window import KeyingWidget
    from workstation.keying import KeyingSession

    station = demo_station(tmp_path_factory.getbasetemp() / "keying-demo-cache", tmp_path / "ws")
    try:
        actor = station.actor("keyer1")
        unit = station.claim(actor, "REBATES-DEMO")
        widget = KeyingWidget(station.local,
                              lambda writer: KeyingSession.open(station.local, unit, actor.id, writer=writer))
        win = MainWindow(actor)
        qtbot.addWidget(win)
        win.add_page("keying", widget, "Keying")
        win.enable_lock(check, 600_000)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        qtbot.waitUntil(lambda: widget.form.line_edit(widget.form.current_path).hasFocus(), timeout=10_000)
        edit = current_edit(widget)
        path, document = widget.session.path, widget.session.document.id
        qtbot.keyClicks(edit, "JO")
        lock(qtbot, win)
        assert not widget.page_view.isVisible() and not widget.form.isVisible()
        assert stored_texts(station.local, document)[path] == "JO"  # saved by flush() before hiding
        with qtbot.waitSignal(win.station_unlocked, timeout=5000):
            unlock_with(qtbot, win, "right-password")
        qtbot.waitUntil(edit.hasFocus)
        assert current_edit(widget) is edit and edit.text() == "JO" and widget.session.path == path
        qtbot.keyClicks(edit, "HN")
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        assert widget.session.path != path
        assert widget.flush() and stored_texts(station.local, document)[path] == "JOHN"
        win.shutdown()
    finally:
        station.close()


def test_quitting_the_application_closes_every_pages_session_once(window: tuple[MainWindow, FakePage], qapp) -> None:  # type: ignore[no-untyped-def]
    win, page = window
    qapp.aboutToQuit.emit()  # what QApplication.quit() sends before the event loop ends
    assert page.closed == 1
    win.close()  # closing afterwards does not close the session a second time
    assert page.closed == 1
