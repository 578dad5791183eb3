"""A keyer's page: their home (work to resume or claim, their figures for today) and keying.

The home reads the local store first (held units, today's figures: both work offline) and the
central database second (work to claim, accuracy), each in the background. Enter on a row resumes
the held unit or claims the work (`workstation.sync.claim_and_pull`, in the background) and opens
the keying view; a finished unit brings the keyer back home with the list read again. After a
crash the keyer's unfinished unit is the first row, saying at which document and field keying
resumes, so the next login offers it on Enter.

While a unit is keyed its lease is renewed every few minutes; the sync worker, when given,
pushes finished units and tells the status bars whether the central database answers.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from ui.qss import set_style_property
from ui import keys
from ui.keying_window import KeyingWidget
from ui.login import Actor
from ui.prefetch import PageDecoder
from ui.runner import report_bug, run_in_background
from ui.syncworker import SyncWorker
from ui.workmodel import CLAIM, RESUME, WorkListModel, WorkRow
from workstation import metrics
from workstation.errors import DatabaseUnavailable, KnownError, LeaseLost
from workstation.keying import HeldUnit, KeyerFigures, KeyingSession, held_units
from workstation.keying.figures import day_start
from workstation.keying.persist import day_totals
from workstation.models import utcnow
from workstation.store import Store
from workstation.sync import claim_and_pull
from workstation.work import WorkOffer, available_work, renew

if TYPE_CHECKING:
    from workstation.cli.context import CliContext

log = logging.getLogger(__name__)

LEASE_RENEW_S = 300.0  # the lease is 30 minutes; renewing every 5 leaves room for a bad network
REFRESH_S = 60.0  # the home reads the lists again this often while it is shown
HOME, KEYING = 0, 1
MIN_ACTIVE_FOR_RATE_S = 60.0


@dataclass(frozen=True)
class LocalPart:
    """What the home reads from the local store: held units and today's figures here."""

    held: tuple[HeldUnit, ...]
    today: KeyerFigures


@dataclass(frozen=True)
class CentralPart:
    """What the home reads from the central database: offers and today's scored fields (the
    keyer's own: the metrics are filtered to them)."""

    offers: tuple[WorkOffer, ...]
    today: metrics.Figures | None


def read_local(local: Store, keyer_id: uuid.UUID) -> LocalPart:
    """Background: held units and this keyer's figures for today on this station (what the
    keying status bar counts from: saved values stay counted after they were sent)."""
    totals = day_totals(local, keyer_id, day_start(utcnow()))
    today = KeyerFigures(totals.keystrokes, totals.fields, totals.documents, totals.active_ms / 1000)
    return LocalPart(tuple(held_units(local, keyer_id)), today)


def read_central(central: Callable[[], Store], keyer_id: uuid.UUID) -> CentralPart:
    """Background: the work this keyer may claim, and their own scored fields since midnight."""
    store = central()
    offers = tuple(available_work(store, keyer_id))
    start = day_start(utcnow()).replace(minute=0)  # the figures are kept per whole UTC hour
    scored: metrics.Figures | None = None
    try:
        with store.transaction() as s:
            scored = metrics.team_figures(s, metrics.Filters(start=start, keyer_id=keyer_id))
    except SQLAlchemyError as exc:  # accuracy is a nicety: the work list must still come
        log.warning("today's accuracy could not be read: %s", exc)
    return CentralPart(offers, scored)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def describe_figures(today: KeyerFigures, scored: metrics.Figures | None) -> str:
    """The keyer's own figures as one line (only what is known is said)."""
    if today.active_seconds >= MIN_ACTIVE_FOR_RATE_S:
        speed = f"{round(today.keystrokes_per_hour):,} keystrokes/hour"
    else:  # a rate over a few seconds says nothing (the status bar waits the same minute)
        speed = "no keying yet" if today.keystrokes == 0 else "under a minute of keying"
    parts = [speed, _count(today.fields, "field"), _count(today.documents, "document")]
    if scored is not None and scored.accuracy is not None:
        parts.append(f"accuracy {scored.accuracy * 100:.1f}% of {scored.scored:,} checked fields")
    return " \u00b7 ".join(parts)


class WorkListView(QTreeView):
    """The list of work; Enter starts the selected row (also when the view would not emit
    `activated` for it on this platform).

    Signals:
        enter_pressed(): Enter or Return was pressed in the list.
    """

    enter_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.enter_pressed.emit()
            return
        super().keyPressEvent(event)


class KeyingHomeWidget(QStackedWidget):
    """The home page and, while a unit is keyed, the keying view on top of it.

    `flush()` saves the field being typed and waits for the writes (the screen lock calls it);
    `close_session()` also stops the keying view's writer (logout, quit).

    Signals:
        work_loaded(): the list was read again (local part, or central part, or both).
        keying_started(unit_id): the keying view opened a unit.
        keying_finished(unit_id): a unit was finished and the home is back.
        claim_failed(message): a claim did not work (the home says why).
    """

    work_loaded = Signal()
    keying_started = Signal(str)
    keying_finished = Signal(str)
    claim_failed = Signal(str)

    def __init__(self, actor: Actor, local: Store, central: Callable[[], Store], *,
                 sync: SyncWorker | None = None, lease_renew_s: float = LEASE_RENEW_S,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyingHome")
        self.actor = actor
        self.keyer_id: uuid.UUID = actor.id  # type: ignore[assignment]
        self._local = local
        self._central = central
        self.sync = sync
        self.keying: KeyingWidget | None = None
        self._busy = False  # a claim is under way
        self._loading: set[str] = set()
        self._again: set[str] = set()
        self._local_today: KeyerFigures | None = None
        self._scored_today: metrics.Figures | None = None
        self.central_error = ""
        self._auto_selected: tuple[object, ...] | None = None  # the row the home selected, not the keyer

        self.model = WorkListModel(self)
        self._build_home()
        self._renew = QTimer(self)
        self._renew.setInterval(round(lease_renew_s * 1000))
        self._renew.timeout.connect(self._on_renew_timeout)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(round(REFRESH_S * 1000))
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self._refresh_timer.start()
        if sync is not None:
            sync.status_changed.connect(self._on_sync_status_changed)
            if not sync.running:
                sync.start()
        PageDecoder.shared().start()  # it takes a second to start: the first page then waits less
        self.refresh()

    # --- building ------------------------------------------------------------------------------

    def _build_home(self) -> None:
        home = QWidget()
        home.setObjectName("keyingHomePage")
        name = getattr(self.actor, "display_name", "") or self.actor.username
        title = QLabel(f"Keying \u00b7 {name}")
        title.setObjectName("homeTitle")
        self.figures_label = QLabel("Reading your figures\u2026")
        self.figures_label.setObjectName("homeFigures")
        figures_caption = QLabel("YOUR FIGURES TODAY")
        figures_caption.setObjectName("homeCaption")
        work_caption = QLabel("YOUR WORK")
        work_caption.setObjectName("homeCaption")
        self.view = WorkListView()
        self.view.setObjectName("workList")
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAllColumnsShowFocus(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.activated.connect(self._on_view_activated)
        self.view.enter_pressed.connect(self.start_selected)
        self.message = QLabel()
        self.message.setObjectName("homeMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.start_button = QPushButton("Start (Enter)")
        self.start_button.setObjectName("homeStart")
        self.start_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.start_button.clicked.connect(self.start_selected)
        refresh_button = QPushButton("Look again (F5)")
        refresh_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        refresh_button.clicked.connect(self.refresh)
        self.connection_label = QLabel("Central database: checking\u2026")
        self.connection_label.setObjectName("homeConnection")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(refresh_button)
        buttons.addStretch(1)
        buttons.addWidget(self.connection_label)
        layout = QVBoxLayout(home)
        layout.setContentsMargins(32, 24, 32, 20)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addSpacing(10)
        layout.addWidget(figures_caption)
        layout.addWidget(self.figures_label)
        layout.addSpacing(14)
        layout.addWidget(work_caption)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.addWidget(home)
        refresh = QShortcut(QKeySequence("F5"), home)
        refresh.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.activated.connect(self.refresh)

    def help_groups(self) -> keys.HelpGroups:
        """F1: the keying station's keys while a unit is open, the work list's otherwise."""
        if self.keying is not None and self.currentWidget() is self.keying:
            return keys.help_rows()
        return [("Work", [("Enter", "Start keying the selected work"), ("Up / Down", "Choose the work"),
                          ("F5", "Read the work list again")])]

    # --- the lists -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the held units and figures (local) and the offers (central) again."""
        self._load("local", lambda: read_local(self._local, self.keyer_id), self._on_local_read)
        central = self._central
        keyer = self.keyer_id
        self._load("central", lambda: read_central(central, keyer), self._on_central_read)

    def _load(self, part: str, op: Callable[[], object], done: Callable[[object], None]) -> None:
        if part in self._loading:
            self._again.add(part)
            return
        self._loading.add(part)

        def finished(result: object) -> None:
            self._loading.discard(part)
            done(result)
            self._loaded(part)

        def failed(error: BaseException) -> None:
            self._loading.discard(part)
            self._on_read_failed(part, error)
            self._loaded(part)

        run_in_background(op, finished, failed, owner=self)

    def _loaded(self, part: str) -> None:
        if part in self._again:
            self._again.discard(part)
            self.refresh()
        self.work_loaded.emit()

    def _on_local_read(self, result: object) -> None:
        assert isinstance(result, LocalPart)
        self._keep_selection(lambda: self.model.set_held(result.held))
        self._local_today = result.today
        self._show_figures()
        self._show_list_message()

    def _on_central_read(self, result: object) -> None:
        assert isinstance(result, CentralPart)
        self.central_error = ""
        self._keep_selection(lambda: self.model.set_offers(result.offers))
        self._scored_today = result.today
        self._show_figures()
        self._show_connection(True)
        self._show_list_message()

    def _on_read_failed(self, part: str, error: BaseException) -> None:
        if not isinstance(error, KnownError):
            report_bug(error)
            message = "The list of work could not be read; the error was logged."
        else:
            message = str(error)
        log.warning("reading the %s part of the keyer's home failed: %s", part, message)
        if part == "central":
            self.central_error = message
            self._keep_selection(lambda: self.model.set_offers(()))
            if isinstance(error, DatabaseUnavailable):
                self._show_connection(False)
        self._show_list_message()

    def _keep_selection(self, change: Callable[[], None]) -> None:
        """Change the rows. A row the keyer moved to stays selected; otherwise the first row is
        (held work first, so Enter resumes it)."""
        current = self.selected_row()
        chosen = current is not None and current.key != self._auto_selected
        change()
        rows = self.model.rows
        index = 0
        if chosen and current is not None:
            index = next((i for i, r in enumerate(rows) if r.key == current.key), 0)
        if rows:
            self.view.setCurrentIndex(self.model.index(index, 0))
            if not chosen or index == 0:
                self._auto_selected = rows[index].key

    def _show_figures(self) -> None:
        if self._local_today is not None:
            self.figures_label.setText(describe_figures(self._local_today, self._scored_today))

    def _show_list_message(self) -> None:
        if self._busy:
            return
        held = sum(1 for r in self.model.rows if r.kind == RESUME)
        offers = len(self.model.rows) - held
        if self.central_error:
            text = self.central_error
            if held:
                text += " The work you hold is listed and can be keyed now."
        elif any(r.kind == RESUME and r.started for r in self.model.rows):
            text = "You have unfinished work: Enter resumes it where you left off."
        elif offers or held:
            text = "Enter starts the selected work."
        else:
            text = "There is no work for you right now. F5 looks again."
        self._say(text)

    def _show_connection(self, online: bool, pending: int | None = None) -> None:
        text = "Online" if online else "Offline"
        if pending:
            text += f" \u00b7 {pending} to send"
        self.connection_label.setText(text)
        set_style_property(self.connection_label, "kind", "online" if online else "offline")

    def _say(self, text: str) -> None:
        self.message.setText(text)

    @property
    def message_text(self) -> str:
        return self.message.text()

    def selected_row(self) -> WorkRow | None:
        index = self.view.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    # --- starting work -------------------------------------------------------------------------

    def start_selected(self) -> None:
        """Enter: resume the selected held unit, or claim the selected work."""
        if self._busy or self.keying is not None:
            return
        row = self.selected_row() or self.model.row_at(0)
        if row is None:
            QApplication.beep()
            self._say("There is no work to start. F5 looks again.")
            return
        if row.kind == RESUME and row.unit_id is not None:
            self.open_unit(row.unit_id)
        elif row.kind == CLAIM:
            self._claim(row)

    def _claim(self, row: WorkRow) -> None:
        self._busy = True
        self._say(f"Claiming work in {row.batch_name}\u2026")
        central, local, keyer = self._central, self._local, self.keyer_id

        def op() -> uuid.UUID:
            claim, _report = claim_and_pull(central(), local, keyer, batch_id=row.batch_id, pass_no=row.pass_no)
            return claim.unit_id

        run_in_background(op, self._on_claimed, self._on_claim_failed, owner=self)

    def _on_claimed(self, unit_id: object) -> None:
        self._busy = False
        assert isinstance(unit_id, uuid.UUID)
        self.open_unit(unit_id)

    def _on_claim_failed(self, error: BaseException) -> None:
        self._busy = False
        if not isinstance(error, KnownError):
            report_bug(error)
            message = "The work could not be claimed; the error was logged."
        else:
            message = str(error)
            if isinstance(error, DatabaseUnavailable):
                self._show_connection(False)
        log.info("claim failed: %s", message)
        QApplication.beep()
        self._say(message)
        self.claim_failed.emit(message)
        self.refresh()

    def open_unit(self, unit_id: uuid.UUID) -> None:
        """Open the keying view on a unit held on this station (it resumes where it was left)."""
        if self.keying is not None:
            return
        local, keyer = self._local, self.keyer_id
        try:
            widget = KeyingWidget(local, lambda writer: KeyingSession.open(local, unit_id, keyer, writer=writer))
        except KnownError as exc:
            QApplication.beep()
            self._say(str(exc))
            self.refresh()
            return
        self.keying = widget
        widget.unit_finished.connect(self._on_keying_unit_finished)
        widget.page_reported.connect(self._on_keying_page_reported)
        if self.sync is not None and self.sync.online is not None:
            widget.status.set_connection(self.sync.online, self.sync.pending)
        self.addWidget(widget)
        self.setCurrentWidget(widget)
        widget.form.focus_path(widget.session.path)
        self._refresh_timer.stop()
        self._renew.start()
        self._on_renew_timeout()
        self.keying_started.emit(str(unit_id))

    def _on_keying_page_reported(self, _sha256: str, _reason: str) -> None:
        # The report is in the outbox: send it now rather than at the next quiet check.
        if self.sync is not None:
            self.sync.push_now()

    def _on_keying_unit_finished(self) -> None:
        # Emitted from inside the keying view's key handling: leave it before taking it down.
        QTimer.singleShot(0, self._back_home)

    def _back_home(self) -> None:
        widget = self.keying
        if widget is None:
            return
        unit_id = widget.session.unit_id
        documents = len(widget.session.documents)
        self._close_keying()
        if self.sync is not None:
            self.sync.push_now()
        self._say(f"Finished: {documents} document(s) keyed and queued to send. Enter starts the next work.")
        self._refresh_timer.start()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.keying_finished.emit(str(unit_id))
        self.refresh()

    def _close_keying(self) -> None:
        widget, self.keying = self.keying, None
        self._renew.stop()
        if widget is None:
            return
        widget.close_session()
        self.setCurrentIndex(HOME)
        self.removeWidget(widget)
        widget.hide()
        widget.deleteLater()

    # --- leases and sync -----------------------------------------------------------------------

    def _on_renew_timeout(self) -> None:
        widget = self.keying
        if widget is None:
            return
        unit_id, keyer, central = widget.session.unit_id, self.keyer_id, self._central
        run_in_background(lambda: renew(central(), unit_id, keyer), None, self._on_renew_failed, owner=self)

    def _on_renew_failed(self, error: BaseException) -> None:
        if isinstance(error, LeaseLost):
            log.warning("lease lost while keying: %s", error)
            if self.keying is not None:
                self.keying._say(str(error))
        elif isinstance(error, KnownError):
            log.info("lease not renewed (will try again): %s", error)
        else:
            report_bug(error)

    def _on_sync_status_changed(self, online: bool, pending: int) -> None:
        self._show_connection(online, pending)
        if self.keying is not None:
            self.keying.status.set_connection(online, pending)

    def _on_refresh_timer_timeout(self) -> None:
        if self.keying is None and self.isVisible():
            self.refresh()

    # --- saving on lock, logout and quit -------------------------------------------------------

    def flush(self, timeout_ms: int = 30_000) -> bool:
        """Save the field being typed and wait until every write is on disk (screen lock)."""
        return self.keying.flush(timeout_ms) if self.keying is not None else True

    def close_session(self) -> None:
        """Save everything and stop the keying view's writer (logout, quit); idempotent."""
        if self.keying is not None:
            self.keying.close_session()
        if self.sync is not None:
            self.sync.stop()

    # --- Qt overrides --------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.close_session()  # only when the page itself is a window (tests, a tool window)
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self.keying is None:
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_view_activated(self, _index: object) -> None:
        self.start_selected()


def make_keying_home(actor: Actor, ctx: "CliContext") -> KeyingHomeWidget:
    """The page factory for ui.roles: the station's stores and a sync worker."""
    local = ctx.local()
    lock = threading.Lock()

    def central() -> Store:
        # The home and the sync worker ask from pool threads; the context makes the store once.
        with lock:
            return ctx.central()

    sync = SyncWorker(local, central)
    home = KeyingHomeWidget(actor, local, central, sync=sync)
    sync.setParent(home)
    return home
