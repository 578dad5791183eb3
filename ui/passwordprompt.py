"""What the login dialog and the lock screen share: a password checked off the GUI thread.

Both ask for a password, check it in the background (ui.runner) and say what went wrong in one
sentence. `PasswordPrompt` is a mixin for such a widget: the widget has `password_edit` and
`message_label`, lists the inputs to disable while a check runs in `_inputs()`, and reports a
refused password through `_refused(message)`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from ui.qss import set_style_property
from ui.runner import report_bug
from workstation.errors import KnownError


class PasswordPrompt:
    """Mixin (before the Qt base class) for a widget that checks a password in the background."""

    password_edit: QLineEdit
    message_label: QLabel
    _checking: bool = False
    # Said when the check itself failed (a bug, already reported with the crash dialog).
    _bug_text = "The password could not be checked because of an error in the program."

    def _inputs(self) -> tuple[QWidget, ...]:
        raise NotImplementedError

    def _refused(self, message: str) -> None:
        """The password (or the account) was refused with `message`."""

    def _on_check_failed(self, error: BaseException) -> None:
        self._set_checking(False)
        self.password_edit.clear()
        self.password_edit.setFocus()
        if isinstance(error, KnownError):
            message = str(error)
            self._show_message(message)
            self._refused(message)
            return
        self._show_message(self._bug_text)
        report_bug(error)

    def _set_checking(self, checking: bool) -> None:
        self._checking = checking
        for widget in self._inputs():
            widget.setEnabled(not checking)
        if checking:
            self._show_message("Checking...", error=False)

    def _show_message(self, text: str, *, error: bool = True) -> None:
        self.message_label.setText(text)
        set_style_property(self.message_label, "error", error and bool(text))

    @property
    def message(self) -> str:
        return self.message_label.text()
