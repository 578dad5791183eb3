"""Starting the desktop application: `workstation` with no command ends up in `run(ctx)`.

Order matters: the high-DPI policy before the QApplication exists, the crash handler before
anything can fail, the login before any data is shown.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from ui.crash import APP_TITLE, install_excepthook
from ui.login import Actor, Authenticate, LoginDialog
from ui.mainwindow import MainWindow
from ui.roles import build_window
from ui.runner import wait_for_background
from workstation import __version__
from workstation.paths import APP_AUTHOR, APP_NAME
from workstation.resources import resource_path

if TYPE_CHECKING:
    from workstation.cli.context import CliContext

log = logging.getLogger(__name__)

# Windows that are open; Qt does not keep Python wrappers of top-level windows alive.
_windows: list[MainWindow] = []
_CONFIGURED = "keyingWorkstationConfigured"


def style_sheet() -> str:
    """The application's style sheet; a missing file leaves Qt's Fusion look."""
    path = resource_path("style.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("style sheet %s not found; using the plain Fusion style", path)
        return ""


def app_icon() -> QIcon:
    icon = QIcon()
    for name in ("workstation.svg", "workstation.png"):
        path = resource_path("icons", name)
        if path.exists():
            icon.addFile(str(path))
    return icon


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication, set up once: DPI policy, names for QSettings, Fusion, style, icon."""
    existing = QApplication.instance()
    if existing is None:
        # Per-monitor scaling at the monitor's exact factor (125%, 150%), not rounded.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv) if argv is not None else sys.argv)
    elif isinstance(existing, QApplication):
        app = existing
    else:  # pragma: no cover - a QCoreApplication made elsewhere cannot show widgets
        raise RuntimeError("a non-GUI Qt application exists already")
    if app.property(_CONFIGURED):
        return app  # restyling every widget again is slow and changes nothing
    app.setProperty(_CONFIGURED, True)
    app.setOrganizationName(APP_AUTHOR)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")
    app.setStyleSheet(style_sheet())
    app.setWindowIcon(app_icon())
    return app


def central_authenticator(ctx: "CliContext", check: Callable[..., Actor] | None = None) -> Authenticate:
    """Checks a login against the central database (runs in the background).

    `check(store, username, password)` defaults to workstation.auth.authenticate, which commits
    failed attempts itself (the lockout counts them)."""

    def authenticate(username: str, password: str) -> Actor:
        if check is None:
            from workstation.auth import authenticate as verify
        else:
            verify = check
        actor: Actor = verify(ctx.central(), username, password)
        return actor

    return authenticate


def start(ctx: "CliContext") -> MainWindow | None:
    """Log in and open the window for the user's role; None when the login was cancelled."""
    actor = LoginDialog.ask(central_authenticator(ctx))
    if actor is None:
        return None
    window = build_window(actor, ctx)
    window.logout_requested.connect(lambda: _on_window_logout_requested(window, ctx))
    _windows.append(window)
    window.show()
    return window


def _on_window_logout_requested(window: MainWindow, ctx: "CliContext") -> None:
    # Hide first (nobody sees the last user's work), log in again, then drop the old window.
    window.hide()
    log.info("user %s logged out", window.actor.username)
    replacement = start(ctx)
    if window in _windows:
        _windows.remove(window)
    window.deleteLater()
    if replacement is None:
        QApplication.quit()


def run(ctx: "CliContext") -> int:
    """The desktop application's main loop; returns the exit status."""
    app = make_application()
    install_excepthook()
    log.info("desktop application starting (Qt %s, platform %s)", qVersion(), app.platformName())
    if start(ctx) is None:
        return 0
    try:
        return int(app.exec())
    finally:
        wait_for_background(10_000)
        _windows.clear()
