"""The Administration page's dialogs: add an account, reset a password, change a role, and the
question asked before an account is disabled.

Each dialog is handed the change to make as a plain callable (`save`), which runs off the GUI
thread (`ui.runner`: a new password is an argon2 hash, the central database may be a network
round trip away). The core checks everything (user name, role, password rules, who may do
it); a refusal comes back as a `KnownError` and is shown in the dialog as its sentence, and the
dialog stays open with what was typed. The only check made here is the one the core cannot
make: that the password was typed the same twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.qss import set_style_property
from ui.runner import error_sentence, run_in_background
from workstation.auth import PASSWORD_RULES

log = logging.getLogger(__name__)

AddAccount = Callable[[str, str, str, str], object]  # (user name, display name, role, password), off the GUI thread
ResetPassword = Callable[[str, str], object]  # (user name, new password)
ChangeRole = Callable[[str, str], object]  # (user name, role)

PASSWORDS_DIFFER = "The two passwords differ. Type the same password in both boxes."
BUG_TEXT = "The change could not be made because of an error in the program; it was logged."


class _AccountDialog(QDialog):
    """What the three dialogs share: a title, a form, a message line, Save and Cancel.

    Subclasses fill `form`, list their inputs in `_inputs()`, and return the background call in
    `_change()` (or a message when the input cannot be sent).

    Signals:
        saved(username): the core made the change; the dialog then closes.
        refused(message): the core (or the two password boxes) refused it; the dialog stays open.
    """

    saved = Signal(str)
    refused = Signal(str)

    def __init__(self, title: str, intro: str, save_text: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName("accountDialog")
        self.setWindowTitle(title)
        self.setModal(True)
        self._saving = False
        self._focus_before: QWidget | None = None

        heading = QLabel(title)
        heading.setObjectName("accountTitle")
        self.intro_label = QLabel(intro)
        self.intro_label.setObjectName("accountIntro")
        self.intro_label.setWordWrap(True)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.message_label = QLabel()
        self.message_label.setObjectName("accountMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.setMinimumHeight(self.message_label.fontMetrics().lineSpacing() * 2)

        buttons = QDialogButtonBox()
        self.save_button = QPushButton(save_text)
        self.save_button.setDefault(True)
        self.save_button.setAutoDefault(True)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(self.intro_label)
        layout.addLayout(self.form)
        layout.addWidget(self.message_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    # --- for subclasses --------------------------------------------------------------------------

    def _inputs(self) -> Sequence[QWidget]:
        raise NotImplementedError

    def _change(self) -> tuple[str, Callable[[], object]] | str:
        """(user name, the call to run off the GUI thread), or a message saying what to fix."""
        raise NotImplementedError

    def _add_password_rows(self, label: str) -> None:
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("accountPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_edit = QLineEdit()
        self.repeat_edit.setObjectName("accountPasswordRepeat")
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.rules_label = QLabel(PASSWORD_RULES)
        self.rules_label.setObjectName("accountRules")
        self.rules_label.setWordWrap(True)
        self.form.addRow(label, self.password_edit)
        self.form.addRow("Pass&word again", self.repeat_edit)
        self.form.addRow("", self.rules_label)

    def _password(self) -> str | None:
        """The new password, or None when the two boxes differ."""
        password = self.password_edit.text()
        return password if password == self.repeat_edit.text() else None

    # --- state -----------------------------------------------------------------------------------

    @property
    def message(self) -> str:
        return self.message_label.text()

    @property
    def saving(self) -> bool:
        return self._saving

    def show_message(self, text: str, *, error: bool = True) -> None:
        self.message_label.setText(text)
        set_style_property(self.message_label, "error", error and bool(text))

    def _set_saving(self, saving: bool) -> None:
        self._saving = saving
        if saving:
            self._focus_before = self.focusWidget()
        for widget in (*self._inputs(), self.save_button, self.cancel_button):
            widget.setEnabled(not saving)
        if saving:
            self.show_message("Saving…", error=False)
        elif self._focus_before is not None:
            self._focus_before.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- slots -----------------------------------------------------------------------------------

    def _on_buttons_accepted(self) -> None:
        if self._saving:
            return
        change = self._change()
        if isinstance(change, str):
            self.show_message(change)
            self.refused.emit(change)
            return
        username, call = change
        self._set_saving(True)
        run_in_background(call, lambda _result: self._on_change_done(username), self._on_change_failed, owner=self)

    def _on_change_done(self, username: str) -> None:
        self._set_saving(False)
        self.show_message("", error=False)
        self.saved.emit(username)
        self.accept()

    def _on_change_failed(self, error: BaseException) -> None:
        self._set_saving(False)
        message = error_sentence(error, BUG_TEXT)
        log.info("account change refused: %s", message)
        self.show_message(message)
        self.refused.emit(message)

    def reject(self) -> None:
        if not self._saving:  # a change on its way finishes first; its result says what happened
            super().reject()


class AddAccountDialog(_AccountDialog):
    """A new account: user name, display name, role, the password twice."""

    def __init__(self, save: AddAccount, roles: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__("Add an account", "The new user logs in with this user name and password.",
                         "Add account", parent)
        self._save = save
        self.username_edit = QLineEdit()
        self.username_edit.setObjectName("accountUsername")
        self.display_edit = QLineEdit()
        self.display_edit.setObjectName("accountDisplayName")
        self.display_edit.setPlaceholderText("the user name when left empty")
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("accountRole")
        self.role_combo.addItems(list(roles))
        self.form.addRow("&User name", self.username_edit)
        self.form.addRow("&Display name", self.display_edit)
        self.form.addRow("&Role", self.role_combo)
        self._add_password_rows("&Password")
        for first, second in zip(self._inputs(), self._inputs()[1:]):
            self.setTabOrder(first, second)
        self.setTabOrder(self._inputs()[-1], self.save_button)
        self.username_edit.setFocus()

    def _inputs(self) -> Sequence[QWidget]:
        return (self.username_edit, self.display_edit, self.role_combo, self.password_edit, self.repeat_edit)

    def _change(self) -> tuple[str, Callable[[], object]] | str:
        password = self._password()
        if password is None:
            return PASSWORDS_DIFFER
        username, display = self.username_edit.text().strip(), self.display_edit.text().strip()
        role, save = self.role_combo.currentText(), self._save
        return username, lambda: save(username, display, role, password)


class PasswordDialog(_AccountDialog):
    """A new password for an existing account (the core also unlocks the account)."""

    def __init__(self, save: ResetPassword, username: str, who: str, parent: QWidget | None = None) -> None:
        super().__init__("Reset a password", f"A new password for {who}. Saving it also unlocks the account.",
                         "Set password", parent)
        self._save = save
        self.username = username
        self._add_password_rows("New &password")
        self.setTabOrder(self.password_edit, self.repeat_edit)
        self.setTabOrder(self.repeat_edit, self.save_button)
        self.password_edit.setFocus()

    def _inputs(self) -> Sequence[QWidget]:
        return (self.password_edit, self.repeat_edit)

    def _change(self) -> tuple[str, Callable[[], object]] | str:
        password = self._password()
        if password is None:
            return PASSWORDS_DIFFER
        username, save = self.username, self._save
        return username, lambda: save(username, password)


class RoleDialog(_AccountDialog):
    """Another role for an existing account."""

    def __init__(self, save: ChangeRole, username: str, who: str, current: str, roles: Sequence[str],
                 parent: QWidget | None = None) -> None:
        super().__init__("Change a role", f"The role decides what {who} may do.",
                         "Change role", parent)
        self._save = save
        self.username = username
        self.who = who
        self.current = current
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("accountRole")
        self.role_combo.addItems(list(roles))
        self.role_combo.setCurrentText(current)
        self.form.addRow("&Role", self.role_combo)
        self.setTabOrder(self.role_combo, self.save_button)
        self.role_combo.setFocus()

    def _inputs(self) -> Sequence[QWidget]:
        return (self.role_combo,)

    def _change(self) -> tuple[str, Callable[[], object]] | str:
        username, role, save = self.username, self.role_combo.currentText(), self._save
        if role == self.current:
            return f"{self.who} has the {role} role already; pick another one."
        return username, lambda: save(username, role)


class DisableAccountDialog(QMessageBox):
    """"Disable asha?", asked before the change is made; Cancel is the default and Escape.

    Disabling stops someone logging in, perhaps mid-shift, so Enter pressed by habit cancels. The
    Disable button has no mnemonic (a second Alt+D must not answer); Tab reaches it, then Space
    or Enter. The dialog only asks: `confirmed` tells the page to make the change.

    Signals:
        confirmed(username): the admin chose Disable.
    """

    confirmed = Signal(str)

    def __init__(self, username: str, who: str, parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Warning, "Disable an account", f"Disable {username}?",
                         QMessageBox.StandardButton.NoButton, parent)
        self.setObjectName("disableAccountDialog")
        self.username = username
        self.setInformativeText(f"{who} can no longer log in or take new work. Everything already in the "
                                "central database is kept, and Enable gives the account back.")
        self.disable_button = self.addButton(f"Disable {username}", QMessageBox.ButtonRole.DestructiveRole)
        self.disable_button.setObjectName("disableAccountConfirm")
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.cancel_button)
        self.setEscapeButton(self.cancel_button)
        self.buttonClicked.connect(self._on_button_clicked)

    def _on_button_clicked(self, button: object) -> None:
        if button is self.disable_button:
            self.confirmed.emit(self.username)
