"""The QA review page of the main window: connects to the central database, then the station.

The QA station works on the central database only (a QA lead's decisions are shared the moment
they are made). Opening it can take a while (a network round trip, the schema check) and can
fail, so it happens in the background; until then the page says what it is doing, and a database
that cannot be reached is a plain sentence with "Try again", never a traceback.

`close_session()` writes what the station still queues; the main window calls it on logout, on
closing and when the application quits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from ui.keys import HelpGroups
from ui.login import Actor as LoginActor
from ui.login import core_actor
from ui.qa_station import QaStationWidget
from ui.runner import report_bug, run_in_background
from workstation.errors import KnownError
from workstation.settings import load_settings
from workstation.store import Store

if TYPE_CHECKING:
    from workstation.cli.context import CliContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Opened:
    central: Store
    allow_own: bool
    note: str


def _open(ctx: "CliContext") -> _Opened:
    """Background: the central database and the station's settings."""
    central = ctx.central()
    try:
        allow_own, note = load_settings(ctx.ws).qa_allow_own_entries, ""
    except KnownError as exc:
        allow_own, note = False, f"{exc} Own-entry decisions stay refused."
    return _Opened(central, allow_own, note)


class QaPageWidget(QWidget):
    """A status line until the central database is open, then the QA station.

    Signals:
        station_opened(): the station is built and loading its queue.
        open_failed(message): the central database could not be opened (the page says why).
    """

    station_opened = Signal()
    open_failed = Signal(str)

    def __init__(self, actor: LoginActor, ctx: "CliContext", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qaPage")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.actor = core_actor(actor)
        self._ctx = ctx
        self._opening = False
        self.station: QaStationWidget | None = None

        self.status_title = QLabel("QA review")
        self.status_title.setObjectName("placeholderTitle")
        self.status_title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.status_text = QLabel()
        self.status_text.setObjectName("placeholderText")
        self.status_text.setWordWrap(True)
        self.status_text.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.retry_button = QPushButton("Try again (F5)")
        self.retry_button.setObjectName("qaRetry")
        self.retry_button.clicked.connect(self.open_station)
        self.retry_button.hide()
        status = QWidget()
        status_layout = QVBoxLayout(status)
        status_layout.setContentsMargins(48, 24, 48, 24)
        status_layout.addStretch(1)
        status_layout.addWidget(self.status_title)
        status_layout.addSpacing(8)
        status_layout.addWidget(self.status_text)
        status_layout.addSpacing(8)
        status_layout.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignHCenter)
        status_layout.addStretch(2)
        self._stack = QStackedWidget()
        self._stack.addWidget(status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)
        retry = QShortcut(QKeySequence("F5"), self)
        retry.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        retry.activated.connect(self._on_retry_activated)
        self.open_station()

    def help_groups(self) -> HelpGroups:
        """F1: the station's keys once it is open; until then, Try again."""
        if self.station is not None:
            return self.station.help_groups()
        return [("QA review", [("F5", "Try again to reach the central database")])]

    @property
    def status_message(self) -> str:
        return self.status_text.text() if self.station is None else ""

    def open_station(self) -> None:
        """Open the central database in the background, then build the station."""
        if self._opening or self.station is not None:
            return
        self._opening = True
        self.retry_button.hide()
        self.status_text.setText("Connecting to the central database…")
        ctx = self._ctx
        run_in_background(lambda: _open(ctx), self._on_opened, self._on_open_failed, owner=self)

    def close_session(self) -> None:
        """Write what the station still holds and stop its writer (logout, quit)."""
        if self.station is not None:
            self.station.close_session()

    def _on_opened(self, opened: _Opened) -> None:
        self._opening = False
        station = QaStationWidget(self.actor, opened.central, allow_own=opened.allow_own)
        self.station = station
        self._stack.addWidget(station)
        self._stack.setCurrentWidget(station)
        station.setFocus(Qt.FocusReason.OtherFocusReason)
        if opened.note:
            station.show_message(opened.note, error=True)
        self.station_opened.emit()

    def _on_open_failed(self, error: BaseException) -> None:
        self._opening = False
        if not isinstance(error, KnownError):
            report_bug(error)
            message = "The QA station could not be opened; the error was logged."
        else:
            message = str(error)
        log.warning("QA station not opened: %s", message)
        self.status_text.setText(message)
        self.retry_button.show()
        self.retry_button.setFocus(Qt.FocusReason.OtherFocusReason)  # Enter, Space or F5 tries again
        self.open_failed.emit(message)

    def _on_retry_activated(self) -> None:
        self.open_station()
