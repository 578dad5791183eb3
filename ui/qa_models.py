"""The QA station's models: the queue as a tree, a batch's documents, and decoded pages.

The queue is a tree: batch, then document, then disputed field, oldest first. The batch view is
a table of one batch's documents with their state (`QaDocumentsModel`).

A thin model (house rule 7): it holds the `DisputeItem` snapshots the core returned and shows
them; it knows nothing about deciding. The station removes a field the moment the lead confirms
it and puts it back on undo, so both are row removals and insertions (not a reset): the view
keeps its expansion and scroll position and a decision stays cheap with hundreds of fields open.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from sqlalchemy import select

from ui.pageimage import PreparedPage
from ui.runner import run_in_background
from workstation import models as m
from workstation.errors import NotFound
from workstation.images import decode_page
from workstation.qa import STATE_DISPUTED, DisputeItem, DocumentRow
from workstation.store import Store

log = logging.getLogger(__name__)

COL_NAME, COL_OPEN, COL_STATE = range(3)
HEADERS = ("Queue", "Open", "State")

BATCH, DOCUMENT, FIELD = "batch", "document", "field"

ItemRole = Qt.ItemDataRole.UserRole + 1  # the DisputeItem of a field row
KindRole = Qt.ItemDataRole.UserRole + 2  # batch | document | field

AnyIndex = QModelIndex | QPersistentModelIndex

_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_GROUP_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_LEAF_FLAGS = _GROUP_FLAGS | Qt.ItemFlag.ItemNeverHasChildren


@dataclass(eq=False)
class _Node:
    id: int
    kind: str
    key: uuid.UUID | None
    order: int  # the position of its (first) field in the queue as loaded: oldest first
    parent: "_Node | None"
    title: str = ""
    item: DisputeItem | None = None
    children: list["_Node"] = field(default_factory=list)
    row: int = 0
    open: int = 0  # open fields at and under this node
    cells: tuple[str, str, str] = ("", "", "")  # what the columns show, made when counts change

    def refresh_cells(self) -> None:
        if self.kind == FIELD:
            count = len(self.item.candidates) if self.item is not None else 0
            self.cells = (self.title, "", f"{count} entries")
        elif self.kind == DOCUMENT:
            self.cells = (self.title, str(self.open), "")
        else:
            documents = len(self.children)
            self.cells = (self.title, str(self.open), f"{documents} document{'s' if documents != 1 else ''}")


class QaQueueModel(QAbstractItemModel):
    """Open disputed fields grouped by batch and document, with the number open in each.

    The view calls `data` for every visible cell and role on every repaint, so it answers from
    strings made when a count changes (not by counting), and `flags` from constants.

    Signals: only QAbstractItemModel's own.
    """

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._ids = itertools.count(1)
        self._root = _Node(0, "root", None, -1, None)
        self._nodes: dict[int, _Node] = {0: self._root}
        self._order: dict[uuid.UUID, int] = {}  # dispute, document and batch ids -> queue position
        self._fields: dict[uuid.UUID, _Node] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    # --- filling -------------------------------------------------------------------------------

    def set_items(self, items: Iterable[DisputeItem]) -> None:
        """Show a freshly loaded queue (in the core's order: oldest first)."""
        self.beginResetModel()
        self._root.children.clear()
        self._root.open = 0
        self._nodes = {0: self._root}
        self._order.clear()
        self._fields.clear()
        for position, item in enumerate(items):
            self._order.setdefault(item.batch_id, position)
            self._order.setdefault(item.document_id, position)
            self._order[item.dispute_id] = position
            batch = self._child(self._root, BATCH, item.batch_id, f"Batch {item.batch_name}")
            document = self._child(batch, DOCUMENT, item.document_id, f"Document {item.document_seq}")
            node = self._new(FIELD, item.dispute_id, position, document, item.label or item.field_path)
            node.item = item
            node.open = 1
            node.row = len(document.children)
            node.refresh_cells()
            document.children.append(node)
            self._fields[item.dispute_id] = node
            for ancestor in (document, batch, self._root):
                ancestor.open += 1
        for batch in self._root.children:
            for document in batch.children:
                document.refresh_cells()
            batch.refresh_cells()
        self.endResetModel()

    def remove_item(self, dispute_id: uuid.UUID) -> bool:
        """Take a decided field out (and its document and batch when they become empty)."""
        node = self._fields.pop(dispute_id, None)
        if node is None:
            return False
        # Remove the highest ancestor that holds nothing but this field.
        target = node
        while target.parent is not self._root and target.parent is not None and len(target.parent.children) == 1:
            target = target.parent
        parent = target.parent
        assert parent is not None
        self.beginRemoveRows(self._index_of(parent), target.row, target.row)
        del parent.children[target.row]
        self._renumber(parent, target.row)
        for gone in self._subtree(target):
            self._nodes.pop(gone.id, None)
        self.endRemoveRows()
        self._count(parent, -1)
        return True

    def insert_item(self, item: DisputeItem) -> None:
        """Put a field back where it was in the queue (undo)."""
        if item.dispute_id in self._fields:
            return
        position = self._order.setdefault(item.dispute_id, len(self._order))
        self._order.setdefault(item.batch_id, position)
        self._order.setdefault(item.document_id, position)
        batch = self._find_or_insert(self._root, BATCH, item.batch_id, f"Batch {item.batch_name}")
        document = self._find_or_insert(batch, DOCUMENT, item.document_id, f"Document {item.document_seq}")
        row = self._insert_row(document, position)
        self.beginInsertRows(self._index_of(document), row, row)
        node = self._new(FIELD, item.dispute_id, position, document, item.label or item.field_path)
        node.item = item
        node.open = 1
        node.refresh_cells()
        document.children.insert(row, node)
        self._renumber(document, row)
        self._fields[item.dispute_id] = node
        self.endInsertRows()
        self._count(document, +1)

    # --- queries -------------------------------------------------------------------------------

    def items(self) -> list[DisputeItem]:
        """Every open field in queue order."""
        return [node.item for node in self._walk(self._root) if node.item is not None]

    def field_index(self, dispute_id: uuid.UUID) -> QModelIndex:
        node = self._fields.get(dispute_id)
        return self._index_of(node) if node is not None else QModelIndex()

    def item_at(self, index: AnyIndex) -> DisputeItem | None:
        node = self._node(index)
        return node.item if node is not None else None

    def open_count(self) -> int:
        return len(self._fields)

    # --- QAbstractItemModel --------------------------------------------------------------------

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:
        node = self._nodes.get(parent.internalId()) if parent.isValid() else self._root
        if node is None or not (0 <= row < len(node.children)) or not (0 <= column < 3):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row].id)

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        node = self._nodes.get(index.internalId())
        if node is None or node.parent is None or node.parent is self._root:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent.id)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        if parent.isValid():
            if parent.column() != 0:
                return 0
            node = self._nodes.get(parent.internalId())
            return len(node.children) if node is not None else 0
        return len(self._root.children)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 3

    def hasChildren(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: N802 (Qt override)
        node = self._nodes.get(parent.internalId()) if parent.isValid() else self._root
        return node is not None and parent.column() <= 0 and bool(node.children)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        node = self._node(index)
        if node is None:
            return _NO_FLAGS
        return _LEAF_FLAGS if node.kind == FIELD else _GROUP_FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == _DISPLAY and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Hot: every visible cell, every role, every repaint. Display first, then the rare ones.
        node = self._nodes.get(index.internalId())
        if node is None or node is self._root:
            return None
        if role == _DISPLAY:
            return node.cells[index.column()]
        if role == _FONT:
            return self._bold if node.kind != FIELD and index.column() == COL_NAME else None
        if role == _ALIGN:
            return _RIGHT if index.column() == COL_OPEN else None
        if role == ItemRole:
            return node.item
        if role == KindRole:
            return node.kind
        if role == _TOOLTIP and node.item is not None:
            return f"{node.item.label} ({node.item.field_path}), {len(node.item.candidates)} entries"
        return None

    # --- internals -----------------------------------------------------------------------------

    def _node(self, index: AnyIndex) -> _Node | None:
        # An invalid index has internalId 0, the root, which is never a row.
        node = self._nodes.get(index.internalId())
        return None if node is self._root else node

    def _index_of(self, node: _Node) -> QModelIndex:
        if node is self._root:
            return QModelIndex()
        return self.createIndex(node.row, 0, node.id)

    def _new(self, kind: str, key: uuid.UUID, order: int, parent: _Node, title: str) -> _Node:
        node = _Node(next(self._ids), kind, key, order, parent, title)
        self._nodes[node.id] = node
        return node

    def _child(self, parent: _Node, kind: str, key: uuid.UUID, title: str) -> _Node:
        """During a reset: the last child when it has this key, else a new last child."""
        if parent.children and parent.children[-1].key == key:
            return parent.children[-1]
        for child in parent.children:  # the core groups them, but do not rely on it
            if child.key == key:
                return child
        node = self._new(kind, key, self._order[key], parent, title)
        node.row = len(parent.children)
        parent.children.append(node)
        return node

    def _find_or_insert(self, parent: _Node, kind: str, key: uuid.UUID, title: str) -> _Node:
        for child in parent.children:
            if child.key == key:
                return child
        order = self._order[key]
        row = self._insert_row(parent, order)
        self.beginInsertRows(self._index_of(parent), row, row)
        node = self._new(kind, key, order, parent, title)
        node.refresh_cells()
        parent.children.insert(row, node)
        self._renumber(parent, row)
        self.endInsertRows()
        return node

    @staticmethod
    def _insert_row(parent: _Node, order: int) -> int:
        for row, child in enumerate(parent.children):
            if child.order > order:
                return row
        return len(parent.children)

    @staticmethod
    def _renumber(parent: _Node, start: int = 0) -> None:
        children = parent.children
        for row in range(start, len(children)):
            children[row].row = row

    def _subtree(self, node: _Node) -> Iterable[_Node]:
        yield node
        for child in node.children:
            yield from self._subtree(child)

    def _walk(self, node: _Node) -> Iterable[_Node]:
        for child in node.children:
            yield child
            yield from self._walk(child)

    def _count(self, node: _Node | None, change: int) -> None:
        """One field more or fewer at and above `node`: new counts and cells, one signal each."""
        while node is not None:
            node.open += change
            if node is not self._root:
                node.refresh_cells()
                self.dataChanged.emit(self.createIndex(node.row, COL_OPEN, node.id),
                                      self.createIndex(node.row, COL_STATE, node.id), _COUNT_ROLES)
            node = node.parent


_DISPLAY = Qt.ItemDataRole.DisplayRole
_FONT = Qt.ItemDataRole.FontRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_COUNT_ROLES = [Qt.ItemDataRole.DisplayRole]


DOC_COL_SEQ, DOC_COL_STATE, DOC_COL_OPEN, DOC_COL_DECIDED = range(4)
DOC_HEADERS = ("Document", "State", "Open", "Decided")
DocumentRole = Qt.ItemDataRole.UserRole + 3  # the DocumentRow of a row


class QaDocumentsModel(QAbstractTableModel):
    """One batch's documents as the core listed them: number, state, open and decided fields.

    Signals: only QAbstractTableModel's own.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[DocumentRow] = []

    def set_rows(self, rows: Iterable[DocumentRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> DocumentRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rows(self) -> list[DocumentRow]:
        return list(self._rows)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(DOC_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(DOC_HEADERS):
            return DOC_HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"Document {row.seq}", row.state, str(row.open_fields) if row.open_fields else "",
                    str(row.decided_fields) if row.decided_fields else "")[column] if 0 <= column < 4 else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (DOC_COL_OPEN, DOC_COL_DECIDED):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and column == DOC_COL_STATE and row.state == STATE_DISPUTED:
            font = QFont()
            font.setBold(True)
            return font
        if role == DocumentRole:
            return row
        return None


def load_snippet_page(central: Store, sha256: str) -> PreparedPage:
    """Read one page image from the central store and wrap it for snippets (any thread).

    No display levels: a snippet is cut from the full-resolution page, and skipping the two
    smoothly scaled copies makes a page ready in a third of the time. The full-page view asks
    for its levels only when the lead opens it (`with_levels`)."""
    with central.session() as s:
        row = s.execute(select(m.Image.data, m.Image.media_type).where(m.Image.sha256 == sha256)).first()
    if row is None:
        raise NotFound(f"The page image {sha256[:12]} is not in the central database.", "Re-import the batch.")
    return PreparedPage.from_page(decode_page(row.data, row.media_type), levels=())


class SnippetPageCacheModel(QObject):
    """Decoded pages by SHA-256 for the QA station, decoded in the background, the latest kept.

    Signals:
        page_ready(sha256): a requested page is decoded and in the cache.
        page_failed(sha256, message): a page could not be read or decoded.
    """

    page_ready = Signal(str)
    page_failed = Signal(str, str)

    def __init__(self, central: Store, *, capacity: int = 20, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._central = central
        self._capacity = capacity
        self._pages: OrderedDict[str, PreparedPage] = OrderedDict()
        self._loading: set[str] = set()
        self.failures: dict[str, str] = {}

    def page(self, sha256: str) -> PreparedPage | None:
        page = self._pages.get(sha256)
        if page is not None:
            self._pages.move_to_end(sha256)
        return page

    def request(self, sha256s: Iterable[str]) -> None:
        """Decode these pages in the background unless they are cached, under way or failed."""
        central = self._central
        for sha in sha256s:
            if sha in self._pages or sha in self._loading or sha in self.failures:
                continue
            self._loading.add(sha)
            run_in_background(lambda sha=sha: load_snippet_page(central, sha),
                              lambda page, sha=sha: self._on_loaded(sha, page),
                              lambda exc, sha=sha: self._on_failed(sha, exc), owner=self)

    def is_loading(self, sha256: str) -> bool:
        return sha256 in self._loading

    @staticmethod
    def with_levels(page: PreparedPage) -> PreparedPage:
        """The same page with display levels, for the full-page view (GUI thread, on demand)."""
        if page.levels or page.pixels is None:
            return page
        return PreparedPage.from_pixels(page.width, page.height, page.pixels)

    def _on_loaded(self, sha256: str, page: PreparedPage) -> None:
        self._loading.discard(sha256)
        self._pages[sha256] = page
        self._pages.move_to_end(sha256)
        while len(self._pages) > self._capacity:
            self._pages.popitem(last=False)
        self.page_ready.emit(sha256)

    def _on_failed(self, sha256: str, error: BaseException) -> None:
        self._loading.discard(sha256)
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        log.warning("page %s cannot be shown: %s", sha256[:12], message)
        self.failures[sha256] = message
        self.page_failed.emit(sha256, message)
