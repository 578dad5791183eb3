"""The keyer's list of work: units held on this station (to resume) and work they may claim.

A thin item model (HOUSE-STYLE rule 7): a list of frozen row snapshots, column constants, a reset
when new rows come. The rows are made from the core's `HeldUnit` and `WorkOffer`; nothing here
decides what a keyer may take.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from workstation.keying import HeldUnit
from workstation.work import WorkOffer

RESUME = "resume"
CLAIM = "claim"

COL_WHAT, COL_BATCH, COL_FORM, COL_PASS, COL_DOCUMENTS, COL_DETAIL = range(6)
HEADERS = ("", "Batch", "Form", "Pass", "Documents", "")
PASS_NAMES = {1: "1st key", 2: "2nd key", 3: "3rd key"}

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class WorkRow:
    """One line of the list: a unit to resume, or work to claim."""

    kind: str  # RESUME or CLAIM
    batch_id: uuid.UUID
    batch_name: str
    template_title: str
    pass_no: int
    documents: int  # in the unit (resume) or left to claim (claim)
    detail: str
    unit_id: uuid.UUID | None = None
    started: bool = False  # a held unit something was keyed in (interrupted, not just claimed)

    @property
    def key(self) -> tuple[object, ...]:
        """Identifies the row across reloads (its counts may change)."""
        return (self.kind, self.unit_id, self.batch_id, self.pass_no)

    @property
    def action(self) -> str:
        return "Resume" if self.kind == RESUME else "Claim"


def resume_row(unit: HeldUnit) -> WorkRow:
    if unit.started:
        detail = (f"document {unit.resume_index + 1} of {unit.documents} ({unit.resume_source}), "
                  f"at \u201c{unit.resume_label}\u201d")
    else:
        detail = "claimed, not started"
    return WorkRow(RESUME, unit.batch_id, unit.batch_name, unit.template_title, unit.pass_no, unit.documents,
                   detail, unit.unit_id, unit.started)


def claim_row(offer: WorkOffer) -> WorkRow:
    detail = f"priority {offer.priority}" if offer.priority else ""
    return WorkRow(CLAIM, offer.batch_id, offer.batch_name, offer.template_title, offer.pass_no,
                   offer.documents_left, detail)


class WorkListModel(QAbstractTableModel):
    """Rows: held units first (most recent claim first), then offers, best first.

    Signals: the standard model signals only.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._held: list[WorkRow] = []
        self._offers: list[WorkRow] = []
        self._rows: list[WorkRow] = []

    def set_held(self, units: Iterable[HeldUnit]) -> None:
        self._held = [resume_row(u) for u in units]
        self._reset()

    def set_offers(self, offers: Iterable[WorkOffer]) -> None:
        self._offers = [claim_row(o) for o in offers]
        self._reset()

    def _reset(self) -> None:
        self.beginResetModel()
        self._rows = self._held + self._offers
        self.endResetModel()

    @property
    def rows(self) -> Sequence[WorkRow]:
        return tuple(self._rows)

    def row_at(self, row: int) -> WorkRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    # --- Qt model API --------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_PASS, COL_DOCUMENTS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.action}: {row.batch_name}, {PASS_NAMES.get(row.pass_no, row.pass_no)}. {row.detail}".strip()
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    @staticmethod
    def _display(row: WorkRow, column: int) -> object:
        if column == COL_WHAT:
            return row.action
        if column == COL_BATCH:
            return row.batch_name
        if column == COL_FORM:
            return row.template_title
        if column == COL_PASS:
            return PASS_NAMES.get(row.pass_no, str(row.pass_no))
        if column == COL_DOCUMENTS:
            return f"{row.documents:,}" + ("" if row.kind == RESUME else " left")
        if column == COL_DETAIL:
            return row.detail
        return None
