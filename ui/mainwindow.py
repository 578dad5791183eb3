"""The main window: a menu, a stack of pages, a status bar, the F1 overlay, the station lock.

Each role gets its own pages (ui/roles.py); this window only hosts them. Window geometry is
the one thing kept in QSettings (HOUSE-STYLE rule 12).

A page may define `flush()` (save what is being typed; called before the station locks) and
`close_session()` (save and stop; called when the user logs out, the window closes or the
application quits: pages need not watch for these themselves). With
`enable_lock`, the window locks after the configured time without input (ui/lock.py): the pages
are hidden and disabled, the lock screen asks for the password, and unlocking shows the same
page with the focus back in the same field.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QStackedWidget, QWidget

from ui import keys
from ui.crash import APP_TITLE
from ui.helpoverlay import HelpOverlayWidget
from ui.lock import IdleWatcher, LockScreenWidget, UnlockCheck
from ui.login import Actor
from workstation import __version__

log = logging.getLogger(__name__)

GEOMETRY_KEY = "main_window/geometry"
STATE_KEY = "main_window/state"


class MainWindow(QMainWindow):
    """Hosts one page at a time in a stacked central area.

    Signals:
        logout_requested(): the user chose File > Log out (or logged a locked session out); the
            pages are closed (their work saved) before it is emitted.
        page_changed(key): another page is shown.
        station_locked(): the content is hidden behind the lock screen.
        station_unlocked(): the locked user's password brought the content back.
    """

    logout_requested = Signal()
    page_changed = Signal(str)
    station_locked = Signal()
    station_unlocked = Signal()

    def __init__(self, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.actor = actor
        self.setWindowTitle(f"{APP_TITLE} - {actor.display_name or actor.username} ({actor.role})")
        self._stack = QStackedWidget()
        self._stack.setObjectName("pageStack")
        # The pages, or the lock screen in their place: the content is hidden, never just covered.
        self._outer = QStackedWidget()
        self._outer.setObjectName("lockStack")
        self._outer.addWidget(self._stack)
        self.setCentralWidget(self._outer)
        self._pages: dict[str, QWidget] = {}
        self._page_actions: dict[str, QAction] = {}
        self.help_overlay = HelpOverlayWidget(self)
        self.idle: IdleWatcher | None = None
        self.lock_screen: LockScreenWidget | None = None
        self._focus_before_lock: QWidget | None = None
        self._shut_down = False

        file_menu = self.menuBar().addMenu("&File")
        logout = file_menu.addAction("Log &out")
        logout.triggered.connect(self._on_logout_triggered)
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        self._view_menu = self.menuBar().addMenu("&View")
        self._view_menu.menuAction().setVisible(False)
        help_menu = self.menuBar().addMenu("&Help")
        keys_action = help_menu.addAction("&Keys")
        keys_action.setShortcuts([QKeySequence(k) for k in keys.binding(keys.HELP).keys])
        keys_action.triggered.connect(self.toggle_help)
        about = help_menu.addAction("&About")
        about.triggered.connect(self._on_about_triggered)

        app = QApplication.instance()
        if app is not None:  # a quit that does not close the window still saves every page's work
            app.aboutToQuit.connect(self.shutdown)
        self.resize(1280, 800)
        self._restore_geometry()

    # --- pages ---------------------------------------------------------------------------------

    def add_page(self, key: str, widget: QWidget, title: str = "") -> None:
        """Add a page; the first one added is shown. Pages are listed in the View menu."""
        if key in self._pages:
            raise ValueError(f"page {key!r} exists already")
        self._pages[key] = widget
        self._stack.addWidget(widget)
        action = self._view_menu.addAction(title or key)
        action.setCheckable(True)
        action.triggered.connect(lambda _checked=False, k=key: self.show_page(k))
        self._page_actions[key] = action
        self._view_menu.menuAction().setVisible(len(self._pages) > 1)
        if len(self._pages) == 1:
            self.show_page(key)

    def show_page(self, key: str) -> None:
        widget = self._pages[key]
        self._stack.setCurrentWidget(widget)
        for name, action in self._page_actions.items():
            action.setChecked(name == key)
        self.page_changed.emit(key)

    def page(self, key: str) -> QWidget:
        return self._pages[key]

    @property
    def current_page_key(self) -> str:
        current = self._stack.currentWidget()
        for key, widget in self._pages.items():
            if widget is current:
                return key
        return ""

    # --- F1 ----------------------------------------------------------------------------------

    def help_groups(self) -> keys.HelpGroups:
        """The keys of the page on screen (its `help_groups()`), then the window's own."""
        provider = getattr(self._stack.currentWidget(), "help_groups", None)
        groups: keys.HelpGroups = list(provider()) if callable(provider) else []
        window_rows = [(keys.binding(keys.HELP).display, keys.binding(keys.HELP).label), ("Ctrl+Q", "Quit")]
        groups = [(group, [row for row in rows if row[0] != window_rows[0][0]]) for group, rows in groups]
        return [(group, rows) for group, rows in groups if rows] + [("Window", window_rows)]

    def toggle_help(self) -> None:
        """F1: show or hide the list of keys of the page on screen."""
        if not self.help_overlay.isVisible():
            self.help_overlay.set_groups(self.help_groups())
        self.help_overlay.toggle()

    # --- the station lock ----------------------------------------------------------------------

    def enable_lock(self, check: UnlockCheck, timeout_ms: int) -> None:
        """Lock after `timeout_ms` without input; `check(password)` unlocks (see ui/lock.py)."""
        if self.idle is not None:
            raise RuntimeError("the lock is enabled already")
        self.lock_screen = LockScreenWidget(self.actor, check)
        self.lock_screen.unlock_succeeded.connect(self._on_lock_screen_unlock_succeeded)
        self.lock_screen.logout_requested.connect(self._on_lock_screen_logout_requested)
        self._outer.addWidget(self.lock_screen)
        self.idle = IdleWatcher(timeout_ms, self)
        self.idle.idle_reached.connect(self._on_idle_idle_reached)
        self.idle.start()

    @property
    def locked(self) -> bool:
        return self.lock_screen is not None and self._outer.currentWidget() is self.lock_screen

    def lock(self) -> None:
        """Save what is being typed, hide the content and ask for the password."""
        if self.lock_screen is None or self.locked or self._shut_down:
            return
        self._flush_pages()
        focus = QApplication.focusWidget()
        self._focus_before_lock = focus if focus is not None and self._stack.isAncestorOf(focus) else None
        self.help_overlay.hide()
        self._stack.setEnabled(False)  # no key, no shortcut reaches a hidden page
        self.menuBar().setEnabled(False)
        self.lock_screen.reset()
        self._outer.setCurrentWidget(self.lock_screen)
        if self.idle is not None:
            self.idle.pause()
        self.lock_screen.setFocus()
        log.info("station locked for %s", self.actor.username)
        self.station_locked.emit()

    def unlock(self) -> None:
        """Show the content again, the focus where it was (the locked user's password was right)."""
        if not self.locked:
            return
        self._stack.setEnabled(True)
        self.menuBar().setEnabled(True)
        self._outer.setCurrentWidget(self._stack)
        focus, self._focus_before_lock = self._focus_before_lock, None
        if focus is not None:
            focus.setFocus()
        if self.idle is not None:
            self.idle.resume()
        log.info("station unlocked by %s", self.actor.username)
        self.station_unlocked.emit()

    def _on_idle_idle_reached(self) -> None:
        self.lock()

    def _on_lock_screen_unlock_succeeded(self) -> None:
        self.unlock()

    def _on_lock_screen_logout_requested(self) -> None:
        log.info("the locked session of %s is logged out from the lock screen", self.actor.username)
        self._on_logout_triggered()

    def _on_logout_triggered(self) -> None:
        self.shutdown()
        self.logout_requested.emit()

    def _flush_pages(self) -> None:
        for key, page in self._pages.items():
            flush = getattr(page, "flush", None)
            if callable(flush):
                try:
                    flush()
                except Exception:  # noqa: BLE001 - the lock must still hide the content
                    log.exception("page %s could not save before the station locked", key)

    def shutdown(self) -> None:
        """Stop the lock and close every page's session (their work saved); idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        if self.idle is not None:
            self.idle.stop()
        for key, page in self._pages.items():
            close = getattr(page, "close_session", None) or getattr(page, "flush", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001 - the other pages still close
                    log.exception("page %s could not close its session", key)

    # --- geometry ------------------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        settings = QSettings()
        geometry = settings.value(GEOMETRY_KEY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.value(STATE_KEY)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.shutdown()
        settings = QSettings()
        settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        settings.setValue(STATE_KEY, self.saveState())
        super().closeEvent(event)

    def _on_about_triggered(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_TITLE}",
            f"{APP_TITLE} {__version__}\n\nBlind double-entry data keying: two passes, compare, "
            "third key and QA review.",
        )
