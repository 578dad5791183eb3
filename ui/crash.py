"""What a person sees when something goes wrong (HOUSE-STYLE rule 10).

A `KnownError` (wrong password, database unreachable, unreadable image...) is shown as a plain
sentence and what to do about it. Anything else is a bug: it is logged with its traceback and a
crash dialog says where the log file is. `install_excepthook()` routes every uncaught exception,
including those raised inside Qt slots, through `handle_exception` once, at start.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from workstation.errors import KnownError
from workstation.logsetup import current_log_file

log = logging.getLogger(__name__)

APP_TITLE = "Keying Workstation"

_installed = False
_showing = False


class KnownErrorDialog(QMessageBox):
    """A known problem as one sentence and a hint; no traceback.

    Signals: QMessageBox's own only.
    """

    def __init__(self, error: KnownError, parent: QWidget | None = None) -> None:
        super().__init__(QMessageBox.Icon.Warning, APP_TITLE, error.message, QMessageBox.StandardButton.Ok, parent)
        self.setObjectName("knownErrorDialog")
        if error.hint:
            self.setInformativeText(error.hint)

    @classmethod
    def ask(cls, error: KnownError, parent: QWidget | None = None) -> None:
        """Show the message and wait for OK (tests replace this)."""
        cls(error, parent).exec()


class CrashDialog(QMessageBox):
    """A bug: an apology, where the log is, the details folded away.

    Signals: QMessageBox's own only.
    """

    def __init__(self, error: BaseException, log_file: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(
            QMessageBox.Icon.Critical,
            APP_TITLE,
            "Something went wrong inside the program. Fields you already left are saved.",
            QMessageBox.StandardButton.Ok,
            parent,
        )
        self.setObjectName("crashDialog")
        where = f"The details are in the log file:\n{log_file}" if log_file else "Logging is not set up, so nothing was written to a log file."
        self.setInformativeText(where + "\nPlease send it to your administrator.")
        self.setDetailedText("".join(traceback.format_exception(type(error), error, error.__traceback__)))

    @classmethod
    def ask(cls, error: BaseException, log_file: Path | None, parent: QWidget | None = None) -> None:
        """Show the crash dialog and wait for OK (tests replace this)."""
        cls(error, log_file, parent).exec()


def _dialog_parent() -> QWidget | None:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return None
    return app.activeWindow()


def handle_exception(
    exc_type: type[BaseException], error: BaseException, tb: TracebackType | None
) -> None:
    """The excepthook: known errors as a message, bugs as a crash dialog with the log path."""
    global _showing
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, error, tb)
        return
    if error.__traceback__ is None and tb is not None:
        error = error.with_traceback(tb)
    if isinstance(error, KnownError):
        log.warning("%s: %s", exc_type.__name__, error.message)
    else:
        log.critical("uncaught exception", exc_info=(exc_type, error, tb))
    if _showing or not isinstance(QApplication.instance(), QApplication):
        # An error while a dialog is up (or before the app exists): the log has it.
        if not isinstance(error, KnownError):
            sys.__excepthook__(exc_type, error, tb)
        return
    _showing = True
    try:
        if isinstance(error, KnownError):
            KnownErrorDialog.ask(error, _dialog_parent())
        else:
            CrashDialog.ask(error, current_log_file(), _dialog_parent())
    finally:
        _showing = False


def install_excepthook() -> None:
    """Route uncaught exceptions to `handle_exception`; a second call changes nothing."""
    global _installed
    if _installed and sys.excepthook is handle_exception:
        return
    sys.excepthook = handle_exception
    _installed = True
