"""The dashboard's item models: one thin table model over a core `reports.Table`, and a bar delegate.

A thin model (house rule 7): it holds the rows of one `Table` the core made and shows them;
the column definitions (headers, units, rounding) are the core's, so the screen and the CSV
export cannot disagree. Sorting goes through a `QSortFilterProxyModel` on `SortRole`, which
gives the raw number (a missing rate sorts below every number).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from workstation.reports import TEXT, Column, Table, cell_text

SortRole = Qt.ItemDataRole.UserRole + 1  # the raw value, for sorting
KeyRole = Qt.ItemDataRole.UserRole + 2  # the row's key (a keyer's id, a batch's id)
ValueRole = Qt.ItemDataRole.UserRole + 3  # the raw value as it is (None when there is none)

AnyIndex = QModelIndex | QPersistentModelIndex
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_MISSING = float("-inf")


class ReportTableModel(QAbstractTableModel):
    """Shows one `reports.Table`; `set_table` replaces the rows (a model reset).

    Signals: the standard model signals only.
    """

    def __init__(self, table: Table, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._table = table
        self._texts = self._format(table)

    @staticmethod
    def _format(table: Table) -> list[list[str]]:
        return [[cell_text(c, v) for c, v in zip(table.columns, row, strict=True)] for row in table.rows]

    @property
    def table(self) -> Table:
        return self._table

    def set_table(self, table: Table) -> None:
        self.beginResetModel()
        self._table = table
        self._texts = self._format(table)
        self.endResetModel()

    def column_of(self, key: str) -> int:
        return self._table.column(key)

    def row_key(self, row: int) -> Any:
        keys = self._table.keys
        return keys[row] if 0 <= row < len(keys) else None

    def row_of_key(self, key: Any) -> int:
        try:
            return self._table.keys.index(key)
        except ValueError:
            return -1

    # --- Qt overrides ----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._table.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._table.columns)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._table.rows) or index.column() >= len(self._table.columns):
            return None
        column: Column = self._table.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_RIGHT if column.numeric else _LEFT)
        if role == Qt.ItemDataRole.ToolTipRole:  # a long text (a page problem's detail) cut off by the column
            return self._texts[index.row()][index.column()] if column.kind == TEXT else None
        value = self._table.rows[index.row()][index.column()]
        if role == SortRole:
            if value is None:
                return _MISSING if column.numeric else ""
            return value.isoformat() if hasattr(value, "isoformat") else value
        if role == ValueRole:
            return value
        if role == KeyRole:
            return self.row_key(index.row())
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._table.columns):
            return None
        column = self._table.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.header
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(_RIGHT if column.numeric else _LEFT)
        return None


class ShareBarDelegate(QStyledItemDelegate):
    """Paints a share (0..1) as a progress bar with its percentage, for "done" columns.

    Signals: none.
    """

    FILL = QColor("#2563eb")
    TRACK = QColor("#e5e9f0")

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        share = index.data(ValueRole)
        if not isinstance(share, (int, float)):
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget is not None else None
        if style is not None:  # selection background and focus as for any cell
            plain = QStyleOptionViewItem(option)
            self.initStyleOption(plain, index)
            plain.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, plain, painter, option.widget)
        rect = QRectF(option.rect).adjusted(6, 6, -6, -6)
        text_width = 44.0
        bar = QRectF(rect.left(), rect.top(), max(rect.width() - text_width, 10.0), rect.height())
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.TRACK)
        painter.drawRoundedRect(bar, 3, 3)
        filled = QRectF(bar.left(), bar.top(), bar.width() * max(0.0, min(1.0, float(share))), bar.height())
        if filled.width() > 0:
            painter.setBrush(self.FILL)
            painter.drawRoundedRect(filled, 3, 3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(option.palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        label = QRectF(bar.right() + 4, rect.top(), text_width - 4, rect.height())
        painter.drawText(label, int(_RIGHT), f"{100 * float(share):.0f}%")
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:  # noqa: N802 (Qt override)
        hint = super().sizeHint(option, index)
        return QSize(max(hint.width(), 150), hint.height())

