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

from ui import startprobe
from ui.crash import APP_TITLE, install_excepthook
from ui.lock import UnlockCheck
from ui.login import Actor, Authenticate, LoginDialog
from ui.mainwindow import MainWindow
from ui.roles import build_window
from ui.runner import wait_for_background
from workstation import __version__
from workstation.paths import APP_AUTHOR, APP_NAME
from workstation.resources import resource_path
from workstation.settings import Settings, load_settings

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
    """Checks a login against the central database (runs in the background); while it cannot
    be reached, against this station's copy of a keyer's account (workstation.auth.login_station).

    `check(store, username, password)` replaces the central check (tests). Failed attempts are
    committed by the check itself (the lockout counts them)."""

    policy = _login_policy(_settings(ctx))

    def authenticate(username: str, password: str) -> Actor:
        if check is not None:
            checked: Actor = check(ctx.central(), username, password)
            return checked
        from workstation.auth import login_station

        actor: Actor = login_station(ctx.central, ctx.local, username, password, **policy)  # type: ignore[arg-type]
        return actor

    return authenticate


def _settings(ctx: "CliContext") -> Settings:
    try:
        return load_settings(ctx.ws)
    except Exception:  # noqa: BLE001 - a broken settings file must not keep anyone out
        log.warning("the settings file cannot be read; using the defaults", exc_info=True)
        return Settings()


def _login_policy(settings: Settings) -> dict[str, object]:
    import datetime as dt

    return {"max_failures": max(1, int(settings.login_max_failures)),
            "lockout": dt.timedelta(minutes=max(0.0, float(settings.lockout_minutes)))}


def unlock_checker(ctx: "CliContext", actor: Actor) -> UnlockCheck:
    """Checks the locked user's password (in the background), counted like a login; offline it
    is checked against the copy of the account this station pulled with the work."""
    policy = _login_policy(_settings(ctx))

    def check(password: str) -> None:
        from workstation.auth import Actor as CoreActor
        from workstation.auth import unlock_station

        core = CoreActor(actor.id, actor.username, actor.role, actor.display_name)  # type: ignore[arg-type]
        unlock_station(ctx.central, ctx.local, core, password, **policy)  # type: ignore[arg-type]

    return check


def enable_lock(window: MainWindow, ctx: "CliContext", actor: Actor) -> None:
    """Lock the window after the configured minutes without input (`lock_after_minutes`, 0: never)."""
    minutes = float(_settings(ctx).lock_after_minutes)
    if minutes > 0:
        window.enable_lock(unlock_checker(ctx, actor), int(minutes * 60_000))


def start(ctx: "CliContext") -> MainWindow | None:
    """Log in and open the window for the user's role; None when the login was cancelled."""
    actor = LoginDialog.ask(central_authenticator(ctx))
    if actor is None:
        return None
    window = build_window(actor, ctx)
    enable_lock(window, ctx, actor)
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
    startprobe.install_if_asked(app)  # WORKSTATION_EXIT_AT_LOGIN=1: the startup benchmark's probe
    log.info("desktop application starting (Qt %s, platform %s)", qVersion(), app.platformName())
    if start(ctx) is None:
        return 0
    try:
        return int(app.exec())
    finally:
        wait_for_background(10_000)
        _windows.clear()
