"""The QA station's batch view: one batch's documents with their state, "still disputed" filter.

The lead sees how far a batch is (keying, third key, disputed, decided, final) and jumps to a
document's open fields with Enter. Everything shown comes from `workstation.qa`
(`qa_batches`, `batch_documents`), loaded in the background.
"""

from __future__ import annotations

import logging
import uuid

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.qa_models import DOC_COL_SEQ, DOC_COL_STATE, QaDocumentsModel
from ui.runner import report_bug, run_in_background
from workstation import qa
from workstation.auth import Actor
from workstation.errors import KnownError
from workstation.qa import BatchSummary, DocumentRow
from workstation.store import Store

log = logging.getLogger(__name__)


class QaBatchViewWidget(QWidget):
    """A batch chooser, a "still disputed only" filter and the batch's documents.

    Signals:
        documents_loaded(count): the document list was (re)loaded.
        document_activated(document_id): the lead pressed Enter on a document (id as text).
        load_failed(message): the central database refused or could not be reached.
    """

    documents_loaded = Signal(int)
    document_activated = Signal(str)
    load_failed = Signal(str)

    def __init__(self, actor: Actor, central: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qaBatchView")
        self._actor = actor
        self._central = central
        self._batches: list[BatchSummary] = []
        self._wanted: uuid.UUID | None = None
        self.loading = False

        self.batch_combo = QComboBox()
        self.batch_combo.setObjectName("qaBatchChooser")
        self.batch_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.batch_combo.activated.connect(self._on_batch_combo_activated)
        self.still_disputed_box = QCheckBox("Still disputed only (D)")
        self.still_disputed_box.setObjectName("qaStillDisputed")
        self.still_disputed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.still_disputed_box.toggled.connect(self._on_still_disputed_box_toggled)
        self.summary = QLabel()
        self.summary.setObjectName("qaBatchSummary")
        self.summary.setWordWrap(True)
        self.model = QaDocumentsModel(self)
        self.table = QTableView()
        self.table.setObjectName("qaDocuments")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(DOC_COL_SEQ, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(DOC_COL_STATE, QHeaderView.ResizeMode.ResizeToContents)
        self.table.activated.connect(self._on_table_activated)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.batch_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.still_disputed_box)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    # --- public ----------------------------------------------------------------------------------

    @property
    def batch_id(self) -> uuid.UUID | None:
        data = self.batch_combo.currentData()
        return uuid.UUID(data) if data else None

    def refresh(self, batch_id: uuid.UUID | None = None) -> None:
        """Reload the open batches (then the chosen batch's documents) in the background."""
        if batch_id is not None:
            self._wanted = batch_id
        actor, central = self._actor, self._central
        self.loading = True
        run_in_background(lambda: qa.qa_batches(central, actor), self._on_batches_loaded, self._on_load_failed, owner=self)

    def toggle_still_disputed(self) -> None:
        self.still_disputed_box.toggle()

    def activate_current(self) -> None:
        """Enter on the table: open the selected document's disputed fields."""
        index = self.table.currentIndex()
        if index.isValid():
            self._on_table_activated(index)

    # --- loading ---------------------------------------------------------------------------------

    def _on_batches_loaded(self, batches: list[BatchSummary]) -> None:
        self._batches = batches
        keep = self._wanted or self.batch_id
        self.batch_combo.blockSignals(True)
        self.batch_combo.clear()
        for batch in batches:
            self.batch_combo.addItem(f"Batch {batch.name}", str(batch.batch_id))
        index = self.batch_combo.findData(str(keep)) if keep else -1
        self.batch_combo.setCurrentIndex(index if index >= 0 else 0)
        self.batch_combo.blockSignals(False)
        self._wanted = None
        self._load_documents()

    def _load_documents(self) -> None:
        batch_id = self.batch_id
        self._show_summary()
        if batch_id is None:
            self.loading = False
            self.model.set_rows([])
            self.documents_loaded.emit(0)
            return
        actor, central, still = self._actor, self._central, self.still_disputed_box.isChecked()
        self.loading = True
        run_in_background(lambda: qa.batch_documents(central, actor, batch_id, still_disputed=still),
                          self._on_documents_loaded, self._on_load_failed, owner=self)

    def _on_documents_loaded(self, rows: list[DocumentRow]) -> None:
        self.loading = False
        self.model.set_rows(rows)
        if rows:
            self.table.setCurrentIndex(self.model.index(0, 0))
        self.documents_loaded.emit(len(rows))

    def _on_load_failed(self, error: BaseException) -> None:
        self.loading = False
        if not isinstance(error, KnownError):
            report_bug(error)
            return
        self.summary.setText(str(error))
        self.load_failed.emit(str(error))

    def _show_summary(self) -> None:
        batch = next((b for b in self._batches if b.batch_id == self.batch_id), None)
        if batch is None:
            self.summary.setText("No open batch." if not self._batches else "")
            return
        self.summary.setText(f"{batch.documents} documents · {batch.final} final · "
                             f"{batch.disputed_documents} still disputed ({batch.open_fields} fields)")

    # --- slots -----------------------------------------------------------------------------------

    def _on_batch_combo_activated(self, _index: int) -> None:
        self._load_documents()

    def _on_still_disputed_box_toggled(self, _checked: bool) -> None:
        self._load_documents()

    def _on_table_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.document_activated.emit(str(row.document_id))
