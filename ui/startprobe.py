"""`WORKSTATION_EXIT_AT_LOGIN=1`: the probe behind the startup benchmark (startup_to_login_ms).

With the variable set, the application prints `login dialog shown` the moment the login dialog
has painted its first frame, then cancels the dialog, so it exits as if the user had pressed
Escape. The benchmark times the process from its start to that line. Nothing else changes.
"""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from ui.login import LoginDialog

VARIABLE = "WORKSTATION_EXIT_AT_LOGIN"
MARKER = "login dialog shown"


class LoginShownProbe(QObject):
    """Watches the application's events for the login dialog's first paint.

    Signals: none.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and isinstance(watched, LoginDialog):
            QApplication.instance().removeEventFilter(self)
            if sys.stdout is not None:
                print(MARKER, flush=True)
            QTimer.singleShot(0, watched.reject)
        return False


def install_if_asked(app: QApplication) -> None:
    if os.environ.get(VARIABLE) == "1":
        probe = LoginShownProbe(app)
        app.installEventFilter(probe)
