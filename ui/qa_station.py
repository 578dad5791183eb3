"""The QA lead's station: the queue of disputed fields, one field at a time, decided by key.

The widget adds no domain logic (house rule 2): `workstation.qa` loads the queue, checks roles and
the own-entry rule, masks sensitive values, validates typed values, records decisions and undoes
them. The station shows what the core returned and sends what the lead chose.

Speed is the point of this screen. A confirmed decision leaves the queue at once and the next
field is shown from pages decoded ahead of time (`SnippetPageCacheModel`, by SHA-256), while the
write goes to the central database on one serialising writer thread, so decisions, undos and
closes reach the database in the order they were made. A write the core refuses (another lead
was faster, the lead keyed the document, the database is gone) puts the field back and says why
in the message line.

Keys (the station or any of its children focused):
    1 / 2 / 3   pick entry 1, 2 or 3            T        type a value (Esc leaves the box)
    I           mark the field illegible        R        next reason code
    Enter       confirm, show the next field    Ctrl+Z   undo the last decision
    F           show or hide the full page      V        show a sensitive field's values
    B           queue / batch view              D        batch view: still disputed only

Documents stay open for undo while the lead is on them: decisions are written with
`finalize=False`, and a document is closed (`qa.close_document`, it becomes final when every
field is decided) when the lead decides a field of another document, after `CLOSE_AFTER_MS` of
no decisions, or when the station closes. Undo works until then; after that the core refuses it.
A document a station left open (killed) is closed by `qa.close_decided_documents` when a station
next loads its queue.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ui.keys import HelpGroups
from ui.pageview import PageViewWidget
from ui.qa_batchview import QaBatchViewWidget
from ui.qa_entries import CandidateRowWidget
from ui.qa_models import COL_NAME, COL_OPEN, COL_STATE, QaQueueModel, SnippetPageCacheModel
from ui.qss import set_style_property
from ui.runner import WriterThread, report_bug, run_in_background, tune_for_heads_down_work
from ui.snippet import SnippetWidget
from workstation import qa
from workstation.auth import Actor
from workstation.errors import KnownError, NotFound
from workstation.models import FLAG_ILLEGIBLE
from workstation.qa import Candidate, Decision, DisputeItem, LeadFigures
from workstation.store import Store

log = logging.getLogger(__name__)

MAX_ENTRIES = 3
PREFETCH_AHEAD = 12  # pages (documents), decoded while the lead decides; the cache holds 20
QUEUE_LIMIT = 500
CLOSE_AFTER_MS = 60_000  # no decision for this long: the open document is closed (final)
# The queue tree follows the shown field once the lead pauses this long. Repainting a few hundred
# rows after every decision cost more than showing the next field; during a burst of decisions
# the tree waits, the field on the right never does.
TREE_FOLLOWS_MS = 120
FIGURES_EVERY_MS = 60_000
# Showing the next dispute is 5-10 ms of the GUI thread; the decision just made (and a document
# left, closed) is written after that, not beside it, where it took the interpreter lock and a
# core from the painting (next_dispute_ms p95 26.7 ms beside it, 6-7.5 ms after it).
NEXT_DISPUTE_WRITE_DELAY_S = 0.025

PICK_ENTRY = "entry"
TYPE_VALUE = "value"
MARK_ILLEGIBLE = "illegible"

KEY_HINTS = ("1/2/3 pick · T type · I illegible · R reason · Enter confirm · Ctrl+Z undo · "
             "F page · V values · B batches")


@dataclass(frozen=True)
class _Job:
    kind: str  # decide | undo | close
    item: DisputeItem | None = None
    document_id: uuid.UUID | None = None


class QaStationWidget(QWidget):
    """The QA queue (or the batch view) on the left, the current disputed field on the right.

    Signals:
        queue_loaded(count): the queue was (re)loaded from the central database.
        dispute_shown(field_path): a disputed field is on screen with its snippet ready.
        decision_made(field_path): a decision was committed to the central database.
        decision_undone(field_path): an undo was committed; the field is open again.
        document_closed(document_id): a document was closed and is final (id as text).
        values_revealed(field_path): a sensitive field's real values are on screen.
        figures_updated(): the lead's figures line was refreshed from the central database.
        queue_emptied(): no open disputed field is left to show.
        message_shown(text): a sentence appeared in the message line (refusals, notes).
    """

    queue_loaded = Signal(int)
    dispute_shown = Signal(str)
    decision_made = Signal(str)
    decision_undone = Signal(str)
    document_closed = Signal(str)
    values_revealed = Signal(str)
    figures_updated = Signal()
    queue_emptied = Signal()
    message_shown = Signal(str)

    def __init__(self, actor: Actor, central_store: Store, parent: QWidget | None = None, *,
                 allow_own: bool = False, pages: SnippetPageCacheModel | None = None, load: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("qaStation")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.actor = actor
        self.allow_own = allow_own
        self._central = central_store
        self._reveal_keyers = False
        self._batch_id: uuid.UUID | None = None
        self._current: DisputeItem | None = None
        self._choice: tuple[str, object] | None = None
        self._warned_text: str | None = None
        self._undo: list[DisputeItem] = []
        self._jobs: dict[int, _Job] = {}
        self._in_flight: set[uuid.UUID] = set()
        self._unclosed: set[uuid.UUID] = set()  # documents with decisions, not closed yet
        self._closing: set[uuid.UUID] = set()   # documents whose close was sent
        self._shown_sha = ""
        self._loading = False
        self._swept = False
        self._changing_queue = False
        self._open_tree_document = QPersistentModelIndex()
        self._closed = False
        self._decided = 0
        self._figures: LeadFigures | None = None
        self._figures_loading = False

        self.pages = pages or SnippetPageCacheModel(central_store, parent=self)
        self.pages.page_ready.connect(self._on_pages_page_ready)
        self.pages.page_failed.connect(self._on_pages_page_failed)
        self.writer = WriterThread(self)
        self.writer.saved.connect(self._on_writer_saved)
        self.writer.failed.connect(self._on_writer_failed)
        self.model = QaQueueModel(self)

        self._build()
        self._actions = self._make_actions()
        self._close_timer = QTimer(self)
        self._close_timer.setSingleShot(True)
        self._close_timer.setInterval(CLOSE_AFTER_MS)
        self._close_timer.timeout.connect(self._on_close_timer_timeout)
        self._figures_timer = QTimer(self)
        self._figures_timer.setInterval(FIGURES_EVERY_MS)
        self._figures_timer.timeout.connect(self.refresh_figures)
        self._figures_timer.start()
        self._tree_timer = QTimer(self)
        self._tree_timer.setSingleShot(True)
        self._tree_timer.setInterval(TREE_FOLLOWS_MS)
        self._tree_timer.timeout.connect(self._on_tree_timer_timeout)
        self._figures_soon = QTimer(self)
        self._figures_soon.setSingleShot(True)
        self._figures_soon.setInterval(1500)
        self._figures_soon.timeout.connect(self.refresh_figures)
        self._show_figures()
        self._show_item(None)
        tune_for_heads_down_work()
        if load:
            self.reload()
            self.refresh_figures()

    # --- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        # Left: the queue (or the batch view), the lead's own figures.
        self.batch_filter = QComboBox()
        self.batch_filter.setObjectName("qaBatchFilter")
        self.batch_filter.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.batch_filter.addItem("All batches", None)
        self.batch_filter.activated.connect(self._on_batch_filter_activated)
        self.reveal_box = QCheckBox("Show who keyed")
        self.reveal_box.setObjectName("qaReveal")
        self.reveal_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reveal_box.setVisible(self.actor.role == "admin")
        self.reveal_box.toggled.connect(self._on_reveal_box_toggled)
        self.tree = QTreeView()
        self.tree.setObjectName("qaQueue")
        self.tree.setModel(self.model)
        self.tree.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        # Fixed widths: sizing columns to their contents reads every row on every change, which
        # made each decision cost tens of milliseconds with a few hundred fields open.
        metrics = self.tree.fontMetrics()
        header.setSectionResizeMode(COL_OPEN, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COL_STATE, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(COL_OPEN, metrics.horizontalAdvance("Open") + 16)
        header.resizeSection(COL_STATE, metrics.horizontalAdvance("still disputed") + 20)
        self.tree.selectionModel().currentChanged.connect(self._on_tree_current_changed)
        self.queue_note = QLabel()
        self.queue_note.setObjectName("qaQueueNote")
        self.queue_note.setWordWrap(True)
        self.queue_note.hide()
        queue_page = QWidget()
        queue_layout = QVBoxLayout(queue_page)
        queue_layout.setContentsMargins(0, 6, 0, 0)
        queue_layout.setSpacing(6)
        queue_layout.addWidget(self.batch_filter)
        queue_layout.addWidget(self.tree, 1)
        queue_layout.addWidget(self.queue_note)
        queue_layout.addWidget(self.reveal_box)

        self.batch_view = QaBatchViewWidget(self.actor, self._central)
        self.batch_view.document_activated.connect(self._on_batch_view_document_activated)
        batch_page = QWidget()
        batch_layout = QVBoxLayout(batch_page)
        batch_layout.setContentsMargins(0, 6, 0, 0)
        batch_layout.addWidget(self.batch_view)

        self.left_tabs = QTabWidget()
        self.left_tabs.setObjectName("qaLeftTabs")
        self.left_tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.left_tabs.addTab(queue_page, "Disputed fields")
        self.left_tabs.addTab(batch_page, "Batches (B)")
        self.left_tabs.tabBar().setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.left_tabs.currentChanged.connect(self._on_left_tabs_current_changed)
        self.figures = QLabel()
        self.figures.setObjectName("qaFigures")
        self.figures.setWordWrap(True)
        left = QWidget()
        left.setObjectName("qaLeft")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(10, 10, 6, 10)
        left_layout.setSpacing(6)
        left_layout.addWidget(self.left_tabs, 1)
        left_layout.addWidget(self.figures)

        # Right: what the field is, the scan, the entries, the decision.
        self.title = QLabel()
        self.title.setObjectName("qaTitle")
        self.where = QLabel()
        self.where.setObjectName("qaWhere")
        self.help_label = QLabel()
        self.help_label.setObjectName("qaHelp")
        self.help_label.setWordWrap(True)
        self.own_note = QLabel()
        self.own_note.setObjectName("qaOwnNote")
        self.own_note.setWordWrap(True)
        self.own_note.hide()
        self.snippet = SnippetWidget(height=150)
        self.full_page_button = QPushButton("Full page (F)")
        self.full_page_button.setObjectName("qaFullPage")
        self.full_page_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.full_page_button.setCheckable(True)
        self.full_page_button.toggled.connect(self._on_full_page_button_toggled)
        self.reveal_button = QPushButton("Show values (V)")
        self.reveal_button.setObjectName("qaRevealValues")
        self.reveal_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reveal_button.clicked.connect(self.reveal_values)
        self.reveal_button.hide()
        self.rows = [CandidateRowWidget(n + 1) for n in range(MAX_ENTRIES)]
        self.value_edit = QLineEdit()
        self.value_edit.setObjectName("qaValueEdit")
        self.value_edit.setPlaceholderText("T: type the value the scan shows")
        self.value_edit.textEdited.connect(self._on_value_edit_text_edited)
        self.value_edit.returnPressed.connect(self.confirm)
        self.value_edit.installEventFilter(self)
        self.issues_label = QLabel()
        self.issues_label.setObjectName("qaIssues")
        self.issues_label.setWordWrap(True)
        self.issues_label.hide()
        self.illegible_button = QPushButton("Illegible (I)")
        self.illegible_button.setObjectName("qaIllegible")
        self.illegible_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.illegible_button.setCheckable(True)
        self.illegible_button.clicked.connect(self.mark_illegible)
        self.reason_combo = QComboBox()
        self.reason_combo.setObjectName("qaReason")
        self.reason_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for reason in qa.REASONS:
            self.reason_combo.addItem(reason.replace("_", " "), reason)
        self.confirm_button = QPushButton("Confirm (Enter)")
        self.confirm_button.setObjectName("qaConfirm")
        self.confirm_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.confirm_button.clicked.connect(self.confirm)
        self.undo_button = QPushButton("Undo (Ctrl+Z)")
        self.undo_button.setObjectName("qaUndo")
        self.undo_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.clicked.connect(self.undo)
        self.message = QLabel()
        self.message.setObjectName("qaMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        hints = QLabel(KEY_HINTS)
        hints.setObjectName("qaKeyHints")
        hints.setWordWrap(True)

        details = QWidget()
        details.setObjectName("qaDetails")
        d = QVBoxLayout(details)
        d.setContentsMargins(14, 10, 14, 10)
        d.setSpacing(6)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.full_page_button)
        d.addLayout(heading)
        d.addWidget(self.where)
        d.addWidget(self.help_label)
        d.addWidget(self.own_note)
        caption = QLabel("FIELD ON THE SCAN")
        caption.setObjectName("snippetCaption")
        d.addWidget(caption)
        d.addWidget(self.snippet)
        entries_heading = QHBoxLayout()
        caption = QLabel("ENTRIES (1 / 2 / 3 picks one)")
        caption.setObjectName("snippetCaption")
        entries_heading.addWidget(caption, 1)
        entries_heading.addWidget(self.reveal_button)
        d.addLayout(entries_heading)
        for row in self.rows:
            d.addWidget(row)
        decide = QGridLayout()
        decide.setHorizontalSpacing(8)
        decide.setVerticalSpacing(6)
        type_label = QLabel("Value (T)")
        type_label.setObjectName("qaFormLabel")
        reason_label = QLabel("Reason (R)")
        reason_label.setObjectName("qaFormLabel")
        decide.addWidget(type_label, 0, 0)
        decide.addWidget(self.value_edit, 0, 1)
        decide.addWidget(self.illegible_button, 0, 2)
        decide.addWidget(self.issues_label, 1, 1, 1, 2)
        decide.addWidget(reason_label, 2, 0)
        decide.addWidget(self.reason_combo, 2, 1)
        decide.setColumnStretch(1, 1)
        d.addSpacing(4)
        d.addLayout(decide)
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.confirm_button)
        d.addLayout(buttons)
        d.addWidget(self.message)
        d.addStretch(1)
        d.addWidget(hints)

        self.page_view = PageViewWidget()
        self.page_view.hide()
        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.setObjectName("qaRight")
        self.right.addWidget(details)
        self.right.addWidget(self.page_view)
        self.right.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("qaSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([380, 720])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def _key_table(self) -> list[tuple[str, Sequence[str], Callable[[], object], str, str]]:
        """(action, keys, handler, what it does, group): the shortcuts and the F1 list both."""
        return [
            ("pick1", ("1",), lambda: self.pick(1), "Choose entry 1", "Decide"),
            ("pick2", ("2",), lambda: self.pick(2), "Choose entry 2", "Decide"),
            ("pick3", ("3",), lambda: self.pick(3), "Choose entry 3 (the third key)", "Decide"),
            ("type", ("T",), self.start_typing, "Type the value from the image", "Decide"),
            ("illegible", ("I",), self.mark_illegible, "Mark the field illegible", "Decide"),
            ("reason", ("R",), self.next_reason, "Next reason code", "Decide"),
            ("confirm", ("Return", "Enter"), self.confirm, "Record the decision, go to the next field", "Decide"),
            ("undo", ("Ctrl+Z",), self.undo, "Undo the last decision (document still open)", "Decide"),
            ("full_page", ("F",), self.full_page_button.toggle, "Show or hide the full page", "View"),
            ("reveal", ("V",), self.reveal_values, "Show masked values (recorded in the audit)", "View"),
            ("batches", ("B",), self.toggle_batch_view, "Show the batch view", "View"),
            ("still_disputed", ("D",), self.batch_view.toggle_still_disputed,
             "Batch view: only documents still disputed", "View"),
        ]

    def _make_actions(self) -> dict[str, QAction]:
        actions: dict[str, QAction] = {}
        for name, sequences, handler, _label, _group in self._key_table():
            action = QAction(name, self)
            action.setShortcuts([QKeySequence(s) for s in sequences])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _checked=False, h=handler: h())
            self.addAction(action)
            actions[name] = action
        return actions

    def help_groups(self) -> HelpGroups:
        """F1: the station's keys, from the table its shortcuts are made from."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for _name, sequences, _handler, label, group in self._key_table():
            shown = "Enter" if "Enter" in sequences else " / ".join(
                QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in sequences)
            groups.setdefault(group, []).append((shown, label))
        return list(groups.items())

    # --- public state (tests, the page) ---------------------------------------------------------

    @property
    def current_item(self) -> DisputeItem | None:
        return self._current

    @property
    def queue_count(self) -> int:
        """Open disputed fields still in the queue on screen."""
        return self.model.open_count()

    @property
    def choice(self) -> tuple[str, object] | None:
        """What Enter would decide: ("entry", 1..3), ("value", text), ("illegible", ...) or None."""
        return self._choice

    @property
    def reason(self) -> str:
        return str(self.reason_combo.currentData())

    @property
    def message_text(self) -> str:
        return self.message.text() if not self.message.isHidden() else ""

    @property
    def pending_writes(self) -> int:
        """Decisions, undos and closes sent to the central database and not confirmed yet."""
        return self.writer.pending

    @property
    def decided_this_session(self) -> int:
        return self._decided

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def lead_figures(self) -> LeadFigures | None:
        return self._figures

    # --- the queue -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Load the open disputed fields (of the chosen batch) in the background.

        The first load of a session also closes documents a station left decided but open."""
        central, actor, batch_id, reveal = self._central, self.actor, self._batch_id, self._reveal_keyers
        sweep = not self._swept
        self._swept = True

        def load() -> list[DisputeItem]:
            if sweep:
                closed = qa.close_decided_documents(central, actor)
                if closed:
                    log.info("closed %d decided document(s) left open", closed)
            return qa.qa_queue(central, actor, batch_id=batch_id, reveal=reveal, limit=QUEUE_LIMIT)

        self._loading = True
        if self._current is None:
            self.where.setText("Loading the queue…")
        run_in_background(load, self._on_queue_loaded, self._on_queue_failed, owner=self)

    def _on_queue_loaded(self, items: list[DisputeItem]) -> None:
        self._loading = False
        items = [i for i in items if i.dispute_id not in self._in_flight]
        notes = []
        if len(items) >= QUEUE_LIMIT:
            notes.append(f"The oldest {QUEUE_LIMIT} open fields are shown; more follow as these are decided.")
        if not self.allow_own:
            own = [i for i in items if i.own_entry]
            if own:
                items = [i for i in items if not i.own_entry]
                notes.append(f"{len(own)} field{'s' if len(own) != 1 else ''} of documents you keyed "
                             "are left to another QA lead.")
        self.queue_note.setText(" ".join(notes))
        self.queue_note.setVisible(bool(notes))
        if self._batch_id is None:
            self._remember_batches(items)
        keep = self._current.dispute_id if self._current is not None else None
        self._change_queue(lambda: self.model.set_items(items))
        self._open_tree_document = QPersistentModelIndex()
        self.tree.expandToDepth(0)  # batches open; only the current document shows its fields
        chosen = next((i for i in items if i.dispute_id == keep), items[0] if items else None)
        self._show_item(chosen)
        self.queue_loaded.emit(len(items))
        if not items:
            self.queue_emptied.emit()

    def _on_queue_failed(self, error: BaseException) -> None:
        self._loading = False
        if not isinstance(error, KnownError):
            report_bug(error)
            return
        self._show_item(None)
        self._say(str(error), error=True)

    def _remember_batches(self, items: Sequence[DisputeItem]) -> None:
        seen: dict[uuid.UUID, str] = {}
        for item in items:
            seen.setdefault(item.batch_id, item.batch_name)
        self.batch_filter.blockSignals(True)
        self.batch_filter.clear()
        self.batch_filter.addItem("All batches", None)
        for batch_id, name in seen.items():
            self.batch_filter.addItem(f"Batch {name}", str(batch_id))
        self.batch_filter.blockSignals(False)

    def show_batch(self, batch_id: uuid.UUID | None) -> None:
        """Only one batch's open fields in the queue (None: every batch)."""
        self._batch_id = batch_id
        index = self.batch_filter.findData(str(batch_id) if batch_id else None)
        if index >= 0:
            self.batch_filter.setCurrentIndex(index)
        self.reload()

    def _on_batch_filter_activated(self, index: int) -> None:
        data = self.batch_filter.itemData(index)
        self.show_batch(uuid.UUID(data) if data else None)

    def _on_reveal_box_toggled(self, checked: bool) -> None:
        self._reveal_keyers = checked and self.actor.role == "admin"
        self.reload()

    def _on_tree_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._changing_queue:
            return  # the view moving its current row as rows come and go is not the lead's choice
        item = self.model.item_at(current)
        if item is not None and (self._current is None or item.dispute_id != self._current.dispute_id):
            self._show_item(item)

    # --- the batch view ------------------------------------------------------------------------

    def toggle_batch_view(self) -> None:
        """B: between the queue and the batch view (which reloads when it opens)."""
        self.left_tabs.setCurrentIndex(1 - self.left_tabs.currentIndex())

    @property
    def batch_view_shown(self) -> bool:
        return self.left_tabs.currentIndex() == 1

    def _on_left_tabs_current_changed(self, index: int) -> None:
        if index == 1:
            self.batch_view.refresh(self._current.batch_id if self._current is not None else self._batch_id)
            self.batch_view.table.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_batch_view_document_activated(self, document_id: str) -> None:
        wanted = uuid.UUID(document_id)
        item = next((i for i in self.model.items() if i.document_id == wanted), None)
        if item is None:
            seq = next((r.seq for r in self.batch_view.model.rows() if r.document_id == wanted), None)
            QApplication.beep()
            self._say(f"Document {seq} has no open disputed field in this queue." if seq else
                      "That document has no open disputed field in this queue.")
            return
        self.left_tabs.setCurrentIndex(0)
        self._show_item(item)

    # --- showing one field ---------------------------------------------------------------------

    def _show_item(self, item: DisputeItem | None) -> None:
        self._current = item
        self._choice = None
        self._warned_text = None
        self.value_edit.clear()
        self.issues_label.hide()
        self.illegible_button.setChecked(False)
        self.reason_combo.setCurrentIndex(0)
        for row in self.rows:
            row.set_chosen(False)
        if item is None:
            self.title.setText("No disputed field is open")
            self.where.setText("Loading the queue…" if self._loading else "Every field in this queue is decided.")
            self.help_label.hide()
            self.own_note.hide()
            self.reveal_button.hide()
            for row in self.rows:
                row.hide()
            self.snippet.set_page(None)
            self._shown_sha = ""
            self.snippet.set_zone(None)
            self.page_view.set_page(None)
            self._set_deciding_enabled(False)
            self._follow_in_tree_soon()
            return
        self._set_deciding_enabled(True)
        self.title.setText(item.label or item.field_path)
        self.where.setText(f"Batch {item.batch_name} · document {item.document_seq} · "
                           f"{item.field_path} · {item.type}")
        self.help_label.setText(item.help)
        self.help_label.setVisible(bool(item.help))
        self.own_note.setText("You keyed an entry of this document; your decision is flagged in the audit log.")
        self.own_note.setVisible(item.own_entry)
        self._show_candidates(item)
        self._follow_in_tree_soon()
        self._show_page(item)
        self._prefetch_after(item)

    def _set_deciding_enabled(self, enabled: bool) -> None:
        for widget in (self.value_edit, self.illegible_button, self.reason_combo, self.confirm_button):
            widget.setEnabled(enabled)

    def _show_candidates(self, item: DisputeItem) -> None:
        self.reveal_button.setVisible(item.masked)
        note = "masked: V shows" if item.masked else ""
        for index, row in enumerate(self.rows):
            if index >= len(item.candidates):
                row.hide()
                continue
            row.show_candidate(item.candidates, index, note=note)
            row.set_chosen(self._choice == (PICK_ENTRY, index + 1))
            row.show()

    def _follow_in_tree_soon(self) -> None:
        """Freeze the tree's painting until the lead pauses; then select the shown field."""
        if self.tree.updatesEnabled():
            self.tree.setUpdatesEnabled(False)
        self._tree_timer.start()

    @property
    def tree_follows(self) -> bool:
        """True when the tree shows the current field (no burst of decisions under way)."""
        return self.tree.updatesEnabled() and not self._tree_timer.isActive()

    def _on_tree_timer_timeout(self) -> None:
        if self._current is not None:
            self._select_in_tree(self._current)
        self.tree.setUpdatesEnabled(True)

    def _select_in_tree(self, item: DisputeItem) -> None:
        index = self.model.field_index(item.dispute_id)
        if not index.isValid():
            return
        # Only the current document is expanded: laying out hundreds of open rows after every
        # decision would cost more than the rest of showing the next field together.
        document = QPersistentModelIndex(index.parent())
        if document != self._open_tree_document:
            if self._open_tree_document.isValid():
                self.tree.collapse(QModelIndex(self._open_tree_document))
            self._open_tree_document = document
        batch = index.parent().parent()
        if batch.isValid() and not self.tree.isExpanded(batch):
            self.tree.expand(batch)
        self.tree.expand(index.parent())
        selection = self.tree.selectionModel()
        if selection.currentIndex() != index:
            selection.blockSignals(True)
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
            selection.blockSignals(False)
            self.tree.viewport().update()
        self.tree.scrollTo(index)

    def _show_page(self, item: DisputeItem) -> None:
        sha = item.page_sha256
        if not sha:
            self._shown_sha = ""
            self.snippet.set_page(None)
            self.snippet.set_zone(None, message="This document has no page for this field.")
            self.dispute_shown.emit(item.field_path)
            return
        if sha in self.pages.failures:
            self._shown_sha = ""
            self.snippet.set_page(None)
            self.snippet.set_zone(None, message=f"The page cannot be shown: {self.pages.failures[sha]}")
            self.dispute_shown.emit(item.field_path)
            return
        page = self.pages.page(sha)
        if page is None:
            self._shown_sha = ""
            self.snippet.set_page(None)
            self.snippet.set_zone(None, message="Loading the page…")
            self.pages.request([sha])
            return
        if sha != self._shown_sha:
            self._shown_sha = sha
            self.snippet.set_page(page)
            if self.page_view.isVisible():
                self.page_view.set_page(self.pages.with_levels(page))
        self.snippet.set_zone(item.zone, message="" if item.zone else "The template has no zone for this field.")
        if self.page_view.isVisible():
            self.page_view.show_zone(item.zone)
        self.dispute_shown.emit(item.field_path)

    def _prefetch_after(self, item: DisputeItem) -> None:
        items = self.model.items()
        try:
            at = next(n for n, i in enumerate(items) if i.dispute_id == item.dispute_id)
        except StopIteration:
            return
        shas: list[str] = []
        for following in items[at + 1:]:
            sha = following.page_sha256
            if sha and sha not in shas:
                shas.append(sha)
                if len(shas) >= PREFETCH_AHEAD:
                    break
        self.pages.request(shas)

    def _on_pages_page_ready(self, sha256: str) -> None:
        item = self._current
        if item is not None and item.page_sha256 == sha256 and self._shown_sha != sha256:
            self._show_page(item)

    def _on_pages_page_failed(self, sha256: str, message: str) -> None:
        item = self._current
        if item is not None and item.page_sha256 == sha256:
            self._show_page(item)

    def _on_full_page_button_toggled(self, checked: bool) -> None:
        self.page_view.setVisible(checked)
        item = self._current
        if checked and item is not None and item.page_sha256:
            page = self.pages.page(item.page_sha256)
            self.page_view.set_page(self.pages.with_levels(page) if page is not None else None)
            self.page_view.show_zone(item.zone if page is not None else None)
            self.right.setSizes([max(300, self.right.height() // 2), max(200, self.right.height() // 2)])

    # --- sensitive values ----------------------------------------------------------------------

    def reveal_values(self) -> None:
        """V: read a masked field's real values from the core (which audits the look)."""
        item = self._current
        if item is None or not item.masked:
            return
        central, actor, dispute_id = self._central, self.actor, item.dispute_id
        run_in_background(lambda: qa.reveal_values(central, actor, dispute_id),
                          lambda candidates: self._on_values_revealed(dispute_id, candidates),
                          self._on_reveal_failed, owner=self)

    def _on_values_revealed(self, dispute_id: uuid.UUID, candidates: tuple[Candidate, ...]) -> None:
        item = self._current
        if item is None or item.dispute_id != dispute_id:
            return  # the lead moved on; the next look asks again
        self._current = dataclasses.replace(item, candidates=candidates, masked=False)
        self._show_candidates(self._current)
        self.values_revealed.emit(item.field_path)

    def _on_reveal_failed(self, error: BaseException) -> None:
        if not isinstance(error, KnownError):
            report_bug(error)
            return
        self._say(str(error), error=True)

    # --- choosing ------------------------------------------------------------------------------

    def pick(self, number: int) -> None:
        """Choose entry `number` (1-based, in the order shown)."""
        item = self._current
        if item is None:
            return
        if not 1 <= number <= len(item.candidates):
            QApplication.beep()
            self._say(f"There is no entry {number} for this field.")
            return
        self._set_choice((PICK_ENTRY, number))

    def start_typing(self) -> None:
        """Put the keys into the value box (its text becomes the choice as it is typed)."""
        if self._current is None:
            return
        self.value_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.value_edit.selectAll()
        if self.value_edit.text():
            self._set_choice((TYPE_VALUE, self.value_edit.text()))

    def mark_illegible(self) -> None:
        if self._current is None:
            return
        self._set_choice((MARK_ILLEGIBLE, FLAG_ILLEGIBLE))
        if self.reason == qa.DEFAULT_REASON:
            self.reason_combo.setCurrentIndex(qa.REASONS.index("illegible"))

    def next_reason(self) -> None:
        self.reason_combo.setCurrentIndex((self.reason_combo.currentIndex() + 1) % self.reason_combo.count())

    def set_reason(self, reason: str) -> None:
        self.reason_combo.setCurrentIndex(qa.REASONS.index(reason))

    def _on_value_edit_text_edited(self, text: str) -> None:
        self._set_choice((TYPE_VALUE, text) if text else None)
        item = self._current
        issues = qa.check_typed(item.spec, text).issues if item is not None and text else ()
        self.issues_label.setText(" ".join(issue.message for issue in issues))
        self.issues_label.setVisible(bool(issues))

    def _set_choice(self, choice: tuple[str, object] | None) -> None:
        self._choice = choice
        self._warned_text = None
        for number, row in enumerate(self.rows, start=1):
            row.set_chosen(choice == (PICK_ENTRY, number))
        self.illegible_button.setChecked(choice is not None and choice[0] == MARK_ILLEGIBLE)
        if choice is None or choice[0] != TYPE_VALUE:
            self.issues_label.hide()
            if self.value_edit.hasFocus():
                self.setFocus(Qt.FocusReason.OtherFocusReason)
        self.message.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (watched is self.value_edit and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Escape):
            self.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        return super().eventFilter(watched, event)

    # --- deciding ------------------------------------------------------------------------------

    def confirm(self) -> None:
        """Enter: send the chosen decision and show the next disputed field at once."""
        if self.batch_view_shown:
            self.batch_view.activate_current()
            return
        item, choice = self._current, self._choice
        if item is None:
            return
        if choice is None:
            QApplication.beep()
            self._say("Choose first: 1, 2 or 3 picks an entry, T types a value, I marks the field illegible.")
            return
        kind, payload = choice
        if kind == PICK_ENTRY:
            args: dict[str, object] = {"entry_id": item.candidates[int(payload) - 1].entry_id}  # type: ignore[call-overload]
        elif kind == TYPE_VALUE:
            text = str(payload)
            issues = qa.check_typed(item.spec, text).issues
            if issues and self._warned_text != text:
                # Like keying: warn once, Enter again keeps the value.
                QApplication.beep()
                self._warned_text = text
                self._say(" ".join(i.message for i in issues) + " Enter again keeps it as typed.", error=True)
                return
            args = {"value": text}
        else:
            args = {"flag": str(payload)}
        self.writer.defer(NEXT_DISPUTE_WRITE_DELAY_S)
        # Leaving a document closes it (it becomes final when every field is decided).
        for document_id in [d for d in self._unclosed if d != item.document_id]:
            self._close_document(document_id)
        items = self.model.items()
        position = next(n for n, i in enumerate(items) if i.dispute_id == item.dispute_id)
        central, actor, reason, allow_own = self._central, self.actor, self.reason, self.allow_own
        job_id = self.writer.submit(lambda: qa.decide(central, actor, item.dispute_id, reason=reason, finalize=False,
                                                      allow_own=allow_own, **args))  # type: ignore[arg-type]
        self._jobs[job_id] = _Job("decide", item)
        self._in_flight.add(item.dispute_id)
        self._unclosed.add(item.document_id)
        self._undo.append(item)
        self._close_timer.start()
        self.message.hide()
        self._change_queue(lambda: self.model.remove_item(item.dispute_id))
        rest = items[:position] + items[position + 1:]
        following = rest[position] if position < len(rest) else (rest[-1] if rest else None)
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show_item(following)
        if following is None:
            self.queue_emptied.emit()

    def undo(self) -> None:
        """Ctrl+Z: take back the last decision of this session while its document is open."""
        if not self._undo:
            QApplication.beep()
            self._say("Nothing to undo in this session.")
            return
        item = self._undo[-1]
        if item.document_id in self._closing:
            QApplication.beep()
            self._say(f"Document {item.document_seq} is closed and final; its decisions can no longer be "
                      "undone here. Ask an administrator to reopen it.")
            return
        self._undo.pop()
        central, actor = self._central, self.actor
        job_id = self.writer.submit(lambda: qa.undo_last(central, actor, item.document_id, item.field_path))
        self._jobs[job_id] = _Job("undo", item)
        self._close_timer.start()
        self.message.hide()
        self._change_queue(lambda: self.model.insert_item(item))
        self._show_item(item)

    def close_open_documents(self) -> None:
        """Close every document this session decided and has not closed yet."""
        for document_id in list(self._unclosed):
            self._close_document(document_id)

    def _close_document(self, document_id: uuid.UUID) -> None:
        central, actor = self._central, self.actor
        job_id = self.writer.submit(lambda: qa.close_document(central, actor, document_id))
        self._jobs[job_id] = _Job("close", document_id=document_id)
        self._unclosed.discard(document_id)
        self._closing.add(document_id)

    def _on_close_timer_timeout(self) -> None:
        self.close_open_documents()

    def _change_queue(self, change: Callable[[], object]) -> None:
        self._changing_queue = True
        try:
            change()
        finally:
            self._changing_queue = False

    def _on_writer_saved(self, job_id: int, result: object) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        if job.kind == "decide" and job.item is not None:
            assert isinstance(result, Decision)
            self._in_flight.discard(job.item.dispute_id)
            self._decided += 1
            self._figures_soon.start()
            self.decision_made.emit(job.item.field_path)
        elif job.kind == "undo" and job.item is not None:
            self._decided = max(0, self._decided - 1)
            self._figures_soon.start()
            self.decision_undone.emit(str(result))
        elif job.kind == "close" and job.document_id is not None:
            if result:
                self.document_closed.emit(str(job.document_id))
            else:
                # Not every field decided yet (one was undone, or is still open): not final.
                self._closing.discard(job.document_id)

    def _on_writer_failed(self, job_id: int, error: object) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        if not isinstance(error, KnownError):
            report_bug(error)  # type: ignore[arg-type]
        if job.kind == "decide" and job.item is not None:
            item = job.item
            self._in_flight.discard(item.dispute_id)
            self._undo = [i for i in self._undo if i.dispute_id != item.dispute_id]
            if not isinstance(error, NotFound):
                # Refused (own entry, role, the database gone): the field is still open; bring it back.
                self._change_queue(lambda: self.model.insert_item(item))
                self._show_item(item)
        elif job.kind == "undo" and job.item is not None:
            item = job.item
            self._change_queue(lambda: self.model.remove_item(item.dispute_id))
            if self._current is not None and self._current.dispute_id == item.dispute_id:
                items = self.model.items()
                self._show_item(items[0] if items else None)
        elif job.kind == "close" and job.document_id is not None:
            self._closing.discard(job.document_id)
            self._unclosed.add(job.document_id)  # try again with the next close
        if isinstance(error, KnownError):
            self._say(str(error), error=True)

    # --- figures and messages ------------------------------------------------------------------

    def refresh_figures(self) -> None:
        """Reload the lead's own figures for today in the background."""
        if self._figures_loading or self._closed:
            return
        self._figures_loading = True
        central, actor = self._central, self.actor
        run_in_background(lambda: qa.lead_figures(central, actor), self._on_figures_loaded,
                          self._on_figures_failed, owner=self)

    def _on_figures_loaded(self, figures: LeadFigures) -> None:
        self._figures_loading = False
        self._figures = figures
        self._show_figures()
        self.figures_updated.emit()

    def _on_figures_failed(self, error: BaseException) -> None:
        self._figures_loading = False
        if not isinstance(error, KnownError):
            report_bug(error)
        # A figures line that cannot refresh is not worth a message; the next refresh tries again.

    def _show_figures(self) -> None:
        figures = self._figures
        if figures is None:
            self.figures.setText(f"This session: {self._decided} decided")
            return
        rate = f"{figures.per_hour:.0f} per hour" if figures.per_hour is not None else "– per hour"
        self.figures.setText(f"Today: {figures.decisions} decided · {rate} of QA time · "
                             f"this session: {self._decided}")

    def show_message(self, text: str, *, error: bool = False) -> None:
        """A sentence in the message line (the page uses it for notes about the settings)."""
        self._say(text, error=error)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        set_style_property(self.message, "error", error)
        self.message.show()
        self.message_shown.emit(text)

    # --- closing -------------------------------------------------------------------------------

    def close_session(self, timeout_ms: int = 30_000) -> bool:
        """Close the open documents, write everything queued and stop the writer (idempotent);
        True when all was written."""
        if self._closed:
            return True
        self.close_open_documents()
        self._closed = True
        for timer in (self._figures_timer, self._figures_soon, self._close_timer):
            timer.stop()
        self.writer.drain(timeout_ms)
        return self.writer.stop(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.close_session()
        super().closeEvent(event)
