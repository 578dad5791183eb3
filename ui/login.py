"""The login dialog: user name, password, Enter.

Checking a password (argon2, a round trip to the central database) is slow on purpose, so it
runs in the background; the dialog stays responsive and shows "Checking...". The check itself is
injected (`authenticate(username, password) -> Actor`), so this dialog knows nothing about
databases and tests can hand it a fake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.crash import APP_TITLE
from ui.passwordprompt import PasswordPrompt
from ui.runner import run_in_background

if TYPE_CHECKING:
    from workstation import auth

log = logging.getLogger(__name__)


class Actor(Protocol):
    """Who logged in (workstation.auth.Actor has these attributes)."""

    id: object
    username: str
    role: str
    display_name: str


Authenticate = Callable[[str, str], Actor]


def core_actor(actor: object) -> auth.Actor:
    """The core's services take `workstation.auth.Actor`; the login (and tests) may hand over any
    object with its attributes. (The core is imported here, not at the top: the login dialog
    comes up before the database layer is loaded.)"""
    from workstation import auth

    if isinstance(actor, auth.Actor):
        return actor
    return auth.Actor(getattr(actor, "id"), getattr(actor, "username"), getattr(actor, "role"),
                      getattr(actor, "display_name", ""))


class LoginDialog(PasswordPrompt, QDialog):
    """Asks for user name and password and checks them with the injected `authenticate`.

    Wrong credentials (or any known error, such as an unreachable database) are shown in the
    dialog as a sentence; the password is cleared and focused for another try.

    Signals:
        login_succeeded(actor): the credentials were accepted; the dialog then closes.
        login_failed(message): the check failed with a known error; the dialog stays open.
    """

    login_succeeded = Signal(object)
    login_failed = Signal(str)
    _bug_text = "The login could not be checked because of an error in the program."

    def __init__(self, authenticate: Authenticate, parent: QWidget | None = None, *, username: str = "") -> None:
        super().__init__(parent)
        self._authenticate = authenticate
        self.actor: Actor | None = None
        self._checking = False
        self.setObjectName("loginDialog")
        self.setWindowTitle(f"Log in - {APP_TITLE}")
        self.setModal(True)

        title = QLabel(APP_TITLE)
        title.setObjectName("loginTitle")
        subtitle = QLabel("Log in with your user name and password.")
        subtitle.setObjectName("loginSubtitle")

        self.username_edit = QLineEdit(username)
        self.username_edit.setObjectName("usernameEdit")
        self.username_edit.setPlaceholderText("user name")
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("passwordEdit")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("password")

        self.message_label = QLabel()
        self.message_label.setObjectName("loginMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setMinimumHeight(self.message_label.fontMetrics().lineSpacing() * 2)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.addRow("&User name", self.username_edit)
        form.addRow("&Password", self.password_edit)

        buttons = QDialogButtonBox()
        self.login_button = QPushButton("Log in")
        self.login_button.setDefault(True)
        buttons.addButton(self.login_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addLayout(form)
        layout.addWidget(self.message_label)
        layout.addWidget(buttons)

        self.setTabOrder(self.username_edit, self.password_edit)
        self.setTabOrder(self.password_edit, self.login_button)
        self.setMinimumWidth(380)
        (self.password_edit if username else self.username_edit).setFocus()

    @classmethod
    def ask(cls, authenticate: Authenticate, parent: QWidget | None = None, *, username: str = "") -> Actor | None:
        """Run the dialog; the actor who logged in, or None when cancelled (tests replace this)."""
        dialog = cls(authenticate, parent, username=username)
        dialog.exec()
        return dialog.actor

    # --- behaviour -----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self._checking:
            self._on_buttons_accepted()
            return
        super().keyPressEvent(event)

    def _on_buttons_accepted(self) -> None:
        if self._checking:
            return
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        if not username:
            self._show_message("Enter your user name.")
            self.username_edit.setFocus()
            return
        if not password:
            if self.focusWidget() is self.username_edit:
                self.password_edit.setFocus()  # Enter after the user name goes on to the password
                self._show_message("")
            else:
                self._show_message("Enter your password.")
                self.password_edit.setFocus()
            return
        self._set_checking(True)
        check = self._authenticate
        run_in_background(
            lambda: check(username, password),
            self._on_check_succeeded,
            self._on_check_failed,
            owner=self,
        )

    def _on_check_succeeded(self, actor: Actor) -> None:
        self._set_checking(False)
        self.actor = actor
        log.info("user %s logged in as %s", actor.username, actor.role)
        self.login_succeeded.emit(actor)
        self.accept()

    def _inputs(self) -> tuple[QWidget, ...]:
        return (self.username_edit, self.password_edit, self.login_button)

    def _refused(self, message: str) -> None:
        self.login_failed.emit(message)
