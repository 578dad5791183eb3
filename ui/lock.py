"""The station lock: after some minutes without input the window hides its content and asks for
the password of the user who is logged in.

`IdleWatcher` watches the application's windows (QWindow: the main window, a dialog, a message
box): any key, mouse button, wheel or touch reaching one restarts its countdown; when the
countdown runs out it says so. The window then swaps its content for a `LockScreenWidget` (the
scan and the form are hidden, not covered by a translucent overlay) and disables it, so no
shortcut reaches it either.

It filters the windows, not the application. Input from the platform reaches a window first,
and the window hands it on to the widget; an application-wide Python filter was called for
every event of every object instead (each paint, timer and queued call, hundreds per key),
which cost the keying view a third of its time per key and per new document. A popup (a menu,
a completer's list) is a window that never takes the focus and is not watched: input inside one
alone does not restart the countdown (a menu held open for the whole ten minutes locks).

The lock screen takes only the locked user's password (the check is injected: it counts toward
the account's lockout like a login). Another person at the station cannot go on with the locked
user's work; they may log the locked session out, which saves it and closes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QWindow
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.login import Actor
from ui.passwordprompt import PasswordPrompt
from ui.runner import run_in_background

log = logging.getLogger(__name__)

DEFAULT_LOCK_MINUTES = 10.0
# What counts as a person at the station. Mouse moves count too: someone reading the scan moves
# the mouse now and then; a window merely repainting never makes any of these.
INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TabletPress,
})

# `check(password)` returns when it is the locked user's password and raises a KnownError (wrong
# password, account locked meanwhile) otherwise. It runs off the GUI thread.
UnlockCheck = Callable[[str], None]


class IdleWatcher(QObject):
    """Counts down while nobody touches the application; any input starts the count again.

    Tests drive it without waiting: `expire()` is what the running-out countdown calls.

    Signals:
        idle_reached(): the countdown ran out (once per countdown; input starts a new one).
    """

    idle_reached = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(1, int(timeout_ms)))
        self.timer.timeout.connect(self._on_timer_timeout)
        self._installed = False
        self._windows: dict[int, QWindow] = {}  # the windows filtered, by id() of their wrapper

    @property
    def timeout_ms(self) -> int:
        return self.timer.interval()

    def start(self) -> None:
        """Watch the input of every window of the application and start the countdown."""
        app = QGuiApplication.instance()
        if app is not None and not self._installed:
            assert isinstance(app, QGuiApplication)
            # A window shown later (a dialog, a message box) takes the focus when it opens.
            app.focusWindowChanged.connect(self._watch)
            for window in app.topLevelWindows():
                self._watch(window)
            self._installed = True
        self.timer.start()

    def stop(self) -> None:
        """Stop counting and watching (logging out, closing the window)."""
        self.timer.stop()
        app = QGuiApplication.instance()
        if app is not None and self._installed:
            assert isinstance(app, QGuiApplication)
            app.focusWindowChanged.disconnect(self._watch)
            for window in list(self._windows.values()):
                window.removeEventFilter(self)
            self._windows.clear()
            self._installed = False

    def _watch(self, window: QWindow | None) -> None:
        if window is None or id(window) in self._windows:
            return
        key = id(window)
        self._windows[key] = window
        window.installEventFilter(self)
        window.destroyed.connect(lambda *_: self._windows.pop(key, None))

    def pause(self) -> None:
        """Stop the countdown but keep watching (while the station is locked)."""
        self.timer.stop()

    def resume(self) -> None:
        self.timer.start()

    def expire(self) -> None:
        """The countdown ran out: now, whatever the timer says."""
        self.timer.stop()
        self.idle_reached.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() in INPUT_EVENTS and self.timer.isActive():
            self.timer.start()  # start() on a running timer starts the interval over
        return False

    def _on_timer_timeout(self) -> None:
        self.idle_reached.emit()


class LockScreenWidget(PasswordPrompt, QWidget):
    """What a locked station shows: who is logged in, a password field, and a way out for others.

    Signals:
        unlock_succeeded(): the locked user's password was right.
        unlock_failed(message): it was not (or the account is locked now); the message says so.
        logout_requested(): someone chose to log the locked session out.
    """

    unlock_succeeded = Signal()
    unlock_failed = Signal(str)
    logout_requested = Signal()

    def __init__(self, actor: Actor, check: UnlockCheck, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._check = check
        self._checking = False
        name = actor.display_name or actor.username
        who = name if name == actor.username else f"{name} ({actor.username})"

        title = QLabel("This station is locked")
        title.setObjectName("lockTitle")
        self.who_label = QLabel(f"{who} is logged in. Their work is saved and waits for them.")
        self.who_label.setObjectName("lockWho")
        self.who_label.setWordWrap(True)
        prompt = QLabel(f"Password for {actor.username}")
        prompt.setObjectName("lockPrompt")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("lockPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("password")
        prompt.setBuddy(self.password_edit)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self._on_unlock_button_clicked)
        self.message_label = QLabel()
        self.message_label.setObjectName("lockMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setMinimumHeight(self.message_label.fontMetrics().lineSpacing() * 2)
        other = QLabel(f"Not {name}?")
        other.setObjectName("lockOther")
        self.logout_button = QPushButton(f"Log {actor.username} out")
        self.logout_button.setObjectName("lockLogoutButton")
        self.logout_button.setToolTip(f"Saves {name}'s work, closes the session and shows the login.")
        self.logout_button.clicked.connect(self.logout_requested)

        entry = QHBoxLayout()
        entry.setSpacing(8)
        entry.addWidget(self.password_edit, 1)
        entry.addWidget(self.unlock_button)
        out = QHBoxLayout()
        out.setSpacing(8)
        out.addWidget(other)
        out.addWidget(self.logout_button)
        out.addStretch(1)

        card = QWidget()
        card.setObjectName("lockCard")
        card.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        card.setFixedWidth(420)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 24, 28, 20)
        inner.setSpacing(10)
        inner.addWidget(title)
        inner.addWidget(self.who_label)
        inner.addSpacing(6)
        inner.addWidget(prompt)
        inner.addLayout(entry)
        inner.addWidget(self.message_label)
        inner.addSpacing(4)
        inner.addLayout(out)

        layout = QVBoxLayout(self)
        layout.addStretch(2)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(3)
        self.setFocusProxy(self.password_edit)

    def reset(self) -> None:
        """A fresh prompt each time the station locks."""
        self.password_edit.clear()
        self._show_message("")
        self._set_checking(False)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._on_unlock_button_clicked()
            return
        super().keyPressEvent(event)

    def _on_unlock_button_clicked(self) -> None:
        if self._checking:
            return
        password = self.password_edit.text()
        if not password:
            self._show_message("Enter your password.")
            self.password_edit.setFocus()
            return
        self._set_checking(True)
        check = self._check
        run_in_background(lambda: check(password), self._on_check_succeeded, self._on_check_failed, owner=self)

    def _on_check_succeeded(self, _result: object) -> None:
        self._set_checking(False)
        self.reset()
        self.unlock_succeeded.emit()

    def _inputs(self) -> tuple[QWidget, ...]:
        return (self.password_edit, self.unlock_button)

    def _refused(self, message: str) -> None:
        self.unlock_failed.emit(message)
