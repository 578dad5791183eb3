"""The QA lead's station: the queue of disputed fields, one field at a time, decided by key.

The widget adds no domain logic (house rule 2): `workstation.qa` loads the queue, checks roles and
the own-entry rule, validates typed values, records decisions and undoes them. The station shows
what the core returned and sends what the lead chose.

Speed is the point of this screen. A confirmed decision leaves the queue at once and the next
field is shown from pages decoded ahead of time (`SnippetPageCacheModel`, by SHA-256), while the write
goes to the central database on one serialising writer thread, so decisions, closes and undos
reach the database in the order they were made. A write the core refuses (another lead was
faster, the lead keyed the document) puts the field back and says why in the message line.

Keys (the station or any of its children focused):
    1 / 2 / 3   pick entry 1, 2 or 3            T        type a value (Esc leaves the box)
    I           mark the field illegible        R        next reason code
    Enter       confirm, show the next field    Ctrl+Z   undo the last decision
    F           show or hide the full page

Documents: a document's decisions are written with `finalize=False` while it still has open
fields in the queue; with its last decision the station closes it (`qa.close_document`), and it
becomes final. Undo therefore works while the document still has open fields; after that the
core refuses it (an administrator reopens final documents).
"""

from __future__ import annotations

import html
import logging
import time
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
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ui.pageview import PageViewWidget
from ui.qa_models import COL_NAME, COL_OPEN, COL_STATE, QaQueueModel, SnippetPageCacheModel
from ui.runner import WriterThread, report_bug, run_in_background
from ui.snippet import SnippetWidget
from workstation import qa
from workstation.auth import Actor
from workstation.errors import KnownError, NotFound
from workstation.fields import Issue
from workstation.models import FLAG_ILLEGIBLE
from workstation.qa import Candidate, DisputeItem
from workstation.store import Store

log = logging.getLogger(__name__)

MAX_ENTRIES = 3
PREFETCH_AHEAD = 12  # pages (documents), decoded while the lead decides; the cache holds 20
DEFAULT_REASON = qa.REASONS[0]
MASK = "\u2022\u2022\u2022\u2022"
GAP = "\u2038"  # where the other entry has characters this one lacks

# Diff colours: the same on every candidate, readable on white (see style.qss, QA station).
_CHANGED = "background-color:#fde68a;color:#7c2d12;"
_GAP = "color:#b42318;font-weight:700;"

PICK_ENTRY = "entry"
TYPE_VALUE = "value"
MARK_ILLEGIBLE = "illegible"


def masked(value: str) -> str:
    """A sensitive value as a QA lead who is not an administrator sees it: dots, last 2 chars."""
    if not value:
        return ""
    return MASK + (value[-2:] if len(value) > 2 else "")


def _changed_positions(candidates: Sequence[Candidate]) -> set[int]:
    """Positions in the first candidate's value that some other candidate keyed differently."""
    marked: set[int] = set()
    for other in candidates[1:]:
        position = 0
        for op in other.diff:
            if op.kind in ("replace", "delete"):
                marked.update(range(position, position + len(op.a)))
            elif op.kind == "insert":
                marked.add(-position - 1)  # a gap before `position`
            position += len(op.a)
    return marked


def _text(value: str) -> str:
    return html.escape(value, quote=False).replace(" ", "&nbsp;")


def diff_html(candidates: Sequence[Candidate], index: int) -> str:
    """Candidate `index`'s value as rich text, the characters that differ highlighted.

    Diff runs come from the core (`char_diff`, each candidate against the first); this only
    paints them. Every piece of keyed text is escaped: a value is data, never markup."""
    candidate = candidates[index]
    if candidate.flag:
        return f'<i style="color:#78350f">[{_text(candidate.flag)}]</i>'
    if not candidate.value:
        return '<i style="color:#8a919c">(empty)</i>'
    parts: list[str] = []
    if index == 0:
        marked = _changed_positions(candidates)
        for position, char in enumerate(candidate.value):
            if -position - 1 in marked:
                parts.append(f'<span style="{_GAP}">{GAP}</span>')
            parts.append(f'<span style="{_CHANGED}">{_text(char)}</span>' if position in marked else _text(char))
        if -len(candidate.value) - 1 in marked:
            parts.append(f'<span style="{_GAP}">{GAP}</span>')
        return "".join(parts)
    for op in candidate.diff:
        if op.kind == "equal":
            parts.append(_text(op.b))
        elif op.kind == "delete":
            parts.append(f'<span style="{_GAP}">{GAP}</span>')
        elif op.b:
            parts.append(f'<span style="{_CHANGED}">{_text(op.b)}</span>')
    return "".join(parts)


@dataclass(frozen=True)
class _Done:
    """A decision this session, kept so Ctrl+Z can take it back."""

    item: DisputeItem
    closes_document: bool


@dataclass(frozen=True)
class _DecisionResult:
    field_path: str
    issues: tuple[Issue, ...]
    document_final: bool


def _decide_and_maybe_close(central: Store, actor: Actor, item: DisputeItem, choice: dict[str, object],
                            reason: str, close: bool) -> _DecisionResult:
    """One writer job (writer thread): the decision and, for a document's last field, its close."""
    decision = qa.decide(central, actor, item.dispute_id, reason=reason, finalize=False, **choice)  # type: ignore[arg-type]
    final = qa.close_document(central, actor, item.document_id) if close else False
    return _DecisionResult(item.field_path, decision.issues, final)


class _CandidateRow(QFrame):
    """One entry of the disputed field: its key, pass, value (diff highlighted) and keyer.

    Signals: none (it only displays).
    """

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qaCandidate")
        self.setProperty("chosen", False)
        self.key = QLabel(str(number))
        self.key.setObjectName("qaKey")
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pass_label = QLabel()
        self.pass_label.setObjectName("qaPass")
        self.value = QLabel()
        self.value.setObjectName("qaValue")
        self.value.setTextFormat(Qt.TextFormat.RichText)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.keyer = QLabel()
        self.keyer.setObjectName("qaKeyer")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(10)
        layout.addWidget(self.key)
        layout.addWidget(self.pass_label)
        layout.addWidget(self.value, 1)
        layout.addWidget(self.keyer)

    def set_chosen(self, chosen: bool) -> None:
        if self.property("chosen") == chosen:
            return
        self.setProperty("chosen", chosen)
        self.style().unpolish(self)
        self.style().polish(self)


class QaStationWidget(QWidget):
    """The QA queue on the left, the current disputed field and its entries on the right.

    Signals:
        queue_loaded(count): the queue was (re)loaded from the central database.
        dispute_shown(field_path): a disputed field is on screen with its snippet ready.
        decision_made(field_path): a decision was committed to the central database.
        decision_undone(field_path): an undo was committed; the field is open again.
        document_closed(document_id): a document's last decision made it final (id as text).
        queue_emptied(): no open disputed field is left to show.
        message_shown(text): a sentence appeared in the message line (refusals, notes).
    """

    queue_loaded = Signal(int)
    dispute_shown = Signal(str)
    decision_made = Signal(str)
    decision_undone = Signal(str)
    document_closed = Signal(str)
    queue_emptied = Signal()
    message_shown = Signal(str)

    def __init__(self, actor: Actor, central_store: Store, parent: QWidget | None = None, *,
                 pages: SnippetPageCacheModel | None = None, load: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("qaStation")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.actor = actor
        self._central = central_store
        self._reveal = False
        self._batch_id: uuid.UUID | None = None
        self._current: DisputeItem | None = None
        self._choice: tuple[str, object] | None = None
        self._undo: list[_Done] = []
        self._jobs: dict[int, tuple[str, DisputeItem]] = {}
        self._in_flight: set[uuid.UUID] = set()
        self._batches: list[tuple[uuid.UUID, str]] = []
        self._shown_sha = ""
        self._loading = False
        self._changing_queue = False
        self._open_document = QPersistentModelIndex()
        self._closed = False
        self._decided = 0
        self._started = time.monotonic()

        self.pages = pages or SnippetPageCacheModel(central_store, parent=self)
        self.pages.page_ready.connect(self._on_pages_page_ready)
        self.pages.page_failed.connect(self._on_pages_page_failed)
        self.writer = WriterThread(self)
        self.writer.saved.connect(self._on_writer_saved)
        self.writer.failed.connect(self._on_writer_failed)
        self.model = QaQueueModel(self)

        self._build()
        self._actions = self._make_actions()
        self._figures_timer = QTimer(self)
        self._figures_timer.setInterval(5000)
        self._figures_timer.timeout.connect(self._show_figures)
        self._figures_timer.start()
        self._show_figures()
        self._show_item(None)
        if load:
            self.reload()

    # --- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        # Left: filter, queue, the lead's own figures.
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
        self.figures = QLabel()
        self.figures.setObjectName("qaFigures")
        left = QWidget()
        left.setObjectName("qaLeft")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(10, 10, 6, 10)
        left_layout.setSpacing(6)
        caption = QLabel("DISPUTED FIELDS")
        caption.setObjectName("snippetCaption")
        left_layout.addWidget(caption)
        left_layout.addWidget(self.batch_filter)
        left_layout.addWidget(self.tree, 1)
        left_layout.addWidget(self.reveal_box)
        left_layout.addWidget(self.figures)

        # Right: what the field is, the scan, the entries, the decision.
        self.title = QLabel()
        self.title.setObjectName("qaTitle")
        self.where = QLabel()
        self.where.setObjectName("qaWhere")
        self.help_label = QLabel()
        self.help_label.setObjectName("qaHelp")
        self.help_label.setWordWrap(True)
        self.snippet = SnippetWidget(height=150)
        self.full_page_button = QPushButton("Full page (F)")
        self.full_page_button.setObjectName("qaFullPage")
        self.full_page_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.full_page_button.setCheckable(True)
        self.full_page_button.toggled.connect(self._on_full_page_button_toggled)
        self.rows = [_CandidateRow(n + 1) for n in range(MAX_ENTRIES)]
        self.value_edit = QLineEdit()
        self.value_edit.setObjectName("qaValueEdit")
        self.value_edit.setPlaceholderText("T: type the value the scan shows")
        self.value_edit.textEdited.connect(self._on_value_edit_text_edited)
        self.value_edit.returnPressed.connect(self.confirm)
        self.value_edit.installEventFilter(self)
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
        caption = QLabel("FIELD ON THE SCAN")
        caption.setObjectName("snippetCaption")
        d.addWidget(caption)
        d.addWidget(self.snippet)
        caption = QLabel("ENTRIES (1 / 2 / 3 picks one)")
        caption.setObjectName("snippetCaption")
        d.addWidget(caption)
        for row in self.rows:
            d.addWidget(row)
        decide = QGridLayout()
        decide.setHorizontalSpacing(8)
        decide.setVerticalSpacing(6)
        type_label = QLabel("Value")
        type_label.setObjectName("qaFormLabel")
        reason_label = QLabel("Reason (R)")
        reason_label.setObjectName("qaFormLabel")
        decide.addWidget(type_label, 0, 0)
        decide.addWidget(self.value_edit, 0, 1)
        decide.addWidget(self.illegible_button, 0, 2)
        decide.addWidget(reason_label, 1, 0)
        decide.addWidget(self.reason_combo, 1, 1)
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

    def _make_actions(self) -> dict[str, QAction]:
        table: list[tuple[str, Sequence[str], Callable[[], object]]] = [
            ("pick1", ("1",), lambda: self.pick(1)),
            ("pick2", ("2",), lambda: self.pick(2)),
            ("pick3", ("3",), lambda: self.pick(3)),
            ("type", ("T",), self.start_typing),
            ("illegible", ("I",), self.mark_illegible),
            ("reason", ("R",), self.next_reason),
            ("confirm", ("Return", "Enter"), self.confirm),
            ("undo", ("Ctrl+Z",), self.undo),
            ("full_page", ("F",), self.full_page_button.toggle),
        ]
        actions: dict[str, QAction] = {}
        for name, sequences, handler in table:
            action = QAction(name, self)
            action.setShortcuts([QKeySequence(s) for s in sequences])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _checked=False, h=handler: h())
            self.addAction(action)
            actions[name] = action
        return actions

    # --- public state (tests, the main window) -------------------------------------------------

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
        """Decisions and undos sent to the central database and not confirmed yet."""
        return self.writer.pending

    @property
    def decided_this_session(self) -> int:
        return self._decided

    @property
    def loading(self) -> bool:
        return self._loading

    # --- the queue -----------------------------------------------------------------------------

    def reload(self) -> None:
        """Load the open disputed fields (of the chosen batch) in the background."""
        central, actor, batch_id, reveal = self._central, self.actor, self._batch_id, self._reveal
        self._loading = True
        run_in_background(lambda: qa.qa_queue(central, actor, batch_id=batch_id, reveal=reveal),
                          self._on_queue_loaded, self._on_queue_failed, owner=self)

    def _on_queue_loaded(self, items: list[DisputeItem]) -> None:
        self._loading = False
        items = [i for i in items if i.dispute_id not in self._in_flight]
        if self._batch_id is None:
            self._remember_batches(items)
        keep = self._current.dispute_id if self._current is not None else None
        self._change_queue(lambda: self.model.set_items(items))
        self._open_document = QPersistentModelIndex()
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
        self._say(str(error), error=True)

    def _remember_batches(self, items: Sequence[DisputeItem]) -> None:
        seen: dict[uuid.UUID, str] = {}
        for item in items:
            seen.setdefault(item.batch_id, item.batch_name)
        self._batches = list(seen.items())
        self.batch_filter.blockSignals(True)
        self.batch_filter.clear()
        self.batch_filter.addItem("All batches", None)
        for batch_id, name in self._batches:
            self.batch_filter.addItem(f"Batch {name}", str(batch_id))
        self.batch_filter.blockSignals(False)

    def show_batch(self, batch_id: uuid.UUID | None) -> None:
        """Only one batch's documents and their open fields (None: every batch)."""
        self._batch_id = batch_id
        index = self.batch_filter.findData(str(batch_id) if batch_id else None)
        if index >= 0:
            self.batch_filter.setCurrentIndex(index)
        self.reload()

    def _on_batch_filter_activated(self, index: int) -> None:
        data = self.batch_filter.itemData(index)
        self.show_batch(uuid.UUID(data) if data else None)

    def _on_reveal_box_toggled(self, checked: bool) -> None:
        self._reveal = checked and self.actor.role == "admin"
        self.reload()

    def _on_tree_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._changing_queue:
            return  # the view moving its current row as rows come and go is not the lead's choice
        item = self.model.item_at(current)
        if item is not None and (self._current is None or item.dispute_id != self._current.dispute_id):
            self._show_item(item)

    # --- showing one field ---------------------------------------------------------------------

    def _show_item(self, item: DisputeItem | None) -> None:
        self._current = item
        self._choice = None
        self.value_edit.clear()
        self.illegible_button.setChecked(False)
        self.reason_combo.setCurrentIndex(0)
        for row in self.rows:
            row.set_chosen(False)
        if item is None:
            self.title.setText("No disputed field is open")
            self.where.setText("Every field in this queue is decided." if not self._loading else "Loading the queue…")
            self.help_label.hide()
            for row in self.rows:
                row.hide()
            self.snippet.set_page(None)
            self._shown_sha = ""
            self.snippet.set_zone(None)
            self.page_view.set_page(None)
            self._set_deciding_enabled(False)
            return
        self._set_deciding_enabled(True)
        self.title.setText(item.label or item.field_path)
        self.where.setText(f"Batch {item.batch_name} · document {item.document_seq} · "
                           f"{item.field_path} · {item.type}")
        self.help_label.setText(item.help)
        self.help_label.setVisible(bool(item.help))
        self._show_candidates(item)
        self._select_in_tree(item)
        self._show_page(item)
        self._prefetch_after(item)

    def _set_deciding_enabled(self, enabled: bool) -> None:
        for widget in (self.value_edit, self.illegible_button, self.reason_combo, self.confirm_button):
            widget.setEnabled(enabled)

    def _show_candidates(self, item: DisputeItem) -> None:
        hide = item.sensitive and self.actor.role != "admin"
        shown = item.candidates
        if hide:
            shown = tuple(Candidate(c.entry_id, c.pass_no, masked(c.value), c.flag, c.keyer, ()) for c in shown)
        for index, row in enumerate(self.rows):
            if index >= len(shown):
                row.hide()
                continue
            candidate = shown[index]
            row.pass_label.setText(f"Pass {candidate.pass_no}")
            if hide:
                text = diff_html(shown[:1], 0) if index == 0 else diff_html((shown[index],), 0)
                row.value.setText(text + '&nbsp;&nbsp;<span style="color:#6b7280;font-size:11px">sensitive</span>')
            else:
                row.value.setText(diff_html(shown, index))
            row.keyer.setText(candidate.keyer)
            row.keyer.setVisible(bool(candidate.keyer))
            row.show()

    def _select_in_tree(self, item: DisputeItem) -> None:
        index = self.model.field_index(item.dispute_id)
        if not index.isValid():
            return
        # Only the current document is expanded: laying out hundreds of open rows after every
        # decision would cost more than the rest of showing the next field together.
        document = QPersistentModelIndex(index.parent())
        if document != self._open_document:
            if self._open_document.isValid():
                self.tree.collapse(QModelIndex(self._open_document))
            self._open_document = document
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
        if self.reason == DEFAULT_REASON:
            self.reason_combo.setCurrentIndex(qa.REASONS.index("illegible"))

    def next_reason(self) -> None:
        self.reason_combo.setCurrentIndex((self.reason_combo.currentIndex() + 1) % self.reason_combo.count())

    def set_reason(self, reason: str) -> None:
        self.reason_combo.setCurrentIndex(qa.REASONS.index(reason))

    def _on_value_edit_text_edited(self, text: str) -> None:
        self._set_choice((TYPE_VALUE, text) if text else None)

    def _set_choice(self, choice: tuple[str, object] | None) -> None:
        self._choice = choice
        for number, row in enumerate(self.rows, start=1):
            row.set_chosen(choice == (PICK_ENTRY, number))
        self.illegible_button.setChecked(choice is not None and choice[0] == MARK_ILLEGIBLE)
        if choice is None or choice[0] != TYPE_VALUE:
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
        """Send the chosen decision and show the next disputed field at once."""
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
            args = {"value": str(payload)}
        else:
            args = {"flag": str(payload)}
        items = self.model.items()
        position = next(n for n, i in enumerate(items) if i.dispute_id == item.dispute_id)
        closes = not any(i.document_id == item.document_id and i.dispute_id != item.dispute_id for i in items)
        central, actor, reason = self._central, self.actor, self.reason
        job_id = self.writer.submit(lambda: _decide_and_maybe_close(central, actor, item, args, reason, closes))
        self._jobs[job_id] = ("decide", item)
        self._in_flight.add(item.dispute_id)
        self._undo.append(_Done(item, closes))
        self.message.hide()
        self._change_queue(lambda: self.model.remove_item(item.dispute_id))
        rest = items[:position] + items[position + 1:]
        following = rest[position] if position < len(rest) else (rest[-1] if rest else None)
        self.setFocus(Qt.FocusReason.OtherFocusReason)
        self._show_item(following)
        if following is None:
            self.queue_emptied.emit()

    def undo(self) -> None:
        """Take back the last decision of this session while its document is still open."""
        if not self._undo:
            QApplication.beep()
            self._say("Nothing to undo in this session.")
            return
        done = self._undo[-1]
        if done.closes_document:
            QApplication.beep()
            self._say("That was the document's last disputed field; the document is final and its "
                      "decisions can no longer be undone here. Ask an administrator to reopen it.")
            return
        self._undo.pop()
        central, actor, document_id = self._central, self.actor, done.item.document_id
        job_id = self.writer.submit(lambda: qa.undo_last(central, actor, document_id))
        self._jobs[job_id] = ("undo", done.item)
        self.message.hide()
        self._change_queue(lambda: self.model.insert_item(done.item))
        self._show_item(done.item)

    def _change_queue(self, change: Callable[[], object]) -> None:
        self._changing_queue = True
        try:
            change()
        finally:
            self._changing_queue = False

    def _on_writer_saved(self, job_id: int, result: object) -> None:
        kind, item = self._jobs.pop(job_id, ("", None))
        if item is None:
            return
        if kind == "decide":
            self._in_flight.discard(item.dispute_id)
            assert isinstance(result, _DecisionResult)
            self._decided += 1
            self._show_figures()
            if result.issues:
                notes = "; ".join(issue.message for issue in result.issues)
                self._say(f"{item.label} (document {item.document_seq}) was saved as typed, with notes: {notes}")
            if result.document_final:
                self.document_closed.emit(str(item.document_id))
            self.decision_made.emit(item.field_path)
        elif kind == "undo":
            self._decided = max(0, self._decided - 1)
            self._show_figures()
            if result != item.field_path:  # someone else's order of events: trust the database
                log.info("undo reopened %s, not %s; reloading the queue", result, item.field_path)
                self.reload()
            self.decision_undone.emit(str(result))

    def _on_writer_failed(self, job_id: int, error: object) -> None:
        kind, item = self._jobs.pop(job_id, ("", None))
        if item is None:
            return
        if not isinstance(error, KnownError):
            report_bug(error)  # type: ignore[arg-type]
        if kind == "decide":
            self._in_flight.discard(item.dispute_id)
            self._undo = [d for d in self._undo if d.item.dispute_id != item.dispute_id]
            if not isinstance(error, NotFound):
                # Refused (own entry, role, a bad value): the field is still open; bring it back.
                self._change_queue(lambda: self.model.insert_item(item))
                self._show_item(item)
        elif kind == "undo":
            self._change_queue(lambda: self.model.remove_item(item.dispute_id))
            if self._current is not None and self._current.dispute_id == item.dispute_id:
                items = self.model.items()
                self._show_item(items[0] if items else None)
        if isinstance(error, KnownError):
            self._say(str(error), error=True)

    # --- figures and messages ------------------------------------------------------------------

    def _show_figures(self) -> None:
        hours = max(time.monotonic() - self._started, 60.0) / 3600
        rate = self._decided / hours
        self.figures.setText(f"This session: {self._decided} decided · {rate:.0f} per hour")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("error", error)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.show()
        self.message_shown.emit(text)

    # --- closing -------------------------------------------------------------------------------

    def close_session(self, timeout_ms: int = 30_000) -> bool:
        """Write every queued decision and stop the writer (idempotent); True when all were written."""
        if self._closed:
            return True
        self._closed = True
        self._figures_timer.stop()
        deadline = time.monotonic() + timeout_ms / 1000
        while self.writer.pending and time.monotonic() < deadline:
            QApplication.processEvents()
            self.writer.wait(5)
        return self.writer.stop(timeout_ms)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.close_session()
        super().closeEvent(event)
