"""The main window: a menu, a stack of pages, a status bar, the F1 overlay.

Each role gets its own pages (ui/roles.py); this window only hosts them. Window geometry is
the one thing kept in QSettings (HOUSE-STYLE rule 12).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QStackedWidget, QWidget

from ui import keys
from ui.crash import APP_TITLE
from ui.helpoverlay import HelpOverlayWidget
from ui.login import Actor
from workstation import __version__

GEOMETRY_KEY = "main_window/geometry"
STATE_KEY = "main_window/state"


class MainWindow(QMainWindow):
    """Hosts one page at a time in a stacked central area.

    Signals:
        logout_requested(): the user chose File > Log out.
        page_changed(key): another page is shown.
    """

    logout_requested = Signal()
    page_changed = Signal(str)

    def __init__(self, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.actor = actor
        self.setWindowTitle(f"{APP_TITLE} - {actor.display_name or actor.username} ({actor.role})")
        self._stack = QStackedWidget()
        self._stack.setObjectName("pageStack")
        self.setCentralWidget(self._stack)
        self._pages: dict[str, QWidget] = {}
        self._page_actions: dict[str, QAction] = {}
        self.help_overlay = HelpOverlayWidget(self)

        file_menu = self.menuBar().addMenu("&File")
        logout = file_menu.addAction("Log &out")
        logout.triggered.connect(self.logout_requested)
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        self._view_menu = self.menuBar().addMenu("&View")
        self._view_menu.menuAction().setVisible(False)
        help_menu = self.menuBar().addMenu("&Help")
        keys_action = help_menu.addAction("&Keys")
        keys_action.setShortcuts([QKeySequence(k) for k in keys.binding(keys.HELP).keys])
        keys_action.triggered.connect(self.help_overlay.toggle)
        about = help_menu.addAction("&About")
        about.triggered.connect(self._on_about_triggered)

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
