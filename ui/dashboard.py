"""The supervisor's dashboard: speed and accuracy per keyer, per hour and per field; batch progress.

Everything on it comes from one core call, `metrics.load_dashboard`, run off the GUI thread
(`ui.runner.run_in_background`); the core checks the role, so a keyer who somehow opened this
page would get a sentence, not the floor's figures. The widgets only show the `Dashboard` that
comes back: the tables are `reports.Table`s (the same rows the CSV export writes), the charts
draw its hourly, per-field and per-class numbers. Under the open batches, the page problems keyers
reported (F8) that are still open; a supervisor closes the selected one with a note (Close
report, Alt+C or Del: `ui.page_problem_dialog` asks for it, `page_problems.close_problem` runs
off the GUI thread, a refusal is shown as its sentence) and the table refreshes without it;
"Include closed" (Alt+L) lists the closed ones too, with who closed each, when, and what was
done. A refresh asked for while one runs is queued, so the
page never runs two at a time and never freezes. It refreshes itself every minute while it is
shown, and on F5.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDate, QItemSelection, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.dashboard_charts import ErrorClassChartWidget, FieldErrorsChartWidget, HourlyChartWidget
from ui.dashboard_models import ReportTableModel, ShareBarDelegate, SortRole
from ui.login import core_actor
from ui.page_problem_dialog import CloseProblemDialog
from ui.runner import error_sentence, run_in_background
from workstation import auth, metrics, page_problems, reports
from workstation.models import utcnow
from workstation.store import Store

log = logging.getLogger(__name__)

AUTO_REFRESH_MS = 60_000
DEFAULT_DAYS = 30
ALL_TEMPLATES = "All templates"
WHOLE_TEAM = "Whole team"
# Shares of the page's height, top to bottom: keyers, charts, open batches, page problems.
SECTION_SHARES = (26, 44, 14, 16)

CentralProvider = Callable[[], Store]


def _empty_board() -> metrics.Dashboard:
    return metrics.Dashboard(metrics.Filters(), metrics.Figures(), (), (), None, (), dict.fromkeys(metrics.ERROR_CLASSES, 0),
                             (), (), utcnow())


class _Card(QFrame):
    """One headline figure: a small caption over a large number."""

    def __init__(self, caption: str, name: str) -> None:
        super().__init__()
        self.setObjectName("dashboardCard")
        self.value = QLabel("-")
        self.value.setObjectName("dashboardCardValue")
        self.value.setAccessibleName(caption)
        label = QLabel(caption.upper())
        label.setObjectName("dashboardCardCaption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.setSpacing(0)
        layout.addWidget(label)
        layout.addWidget(self.value)
        self.setProperty("figure", name)


def _table_view(name: str, model: ReportTableModel, sort_column: int, order: Qt.SortOrder) -> QTableView:
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    view = QTableView()
    view.setObjectName(name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(sort_column, order)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(26)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view


class DashboardWidget(QWidget):
    """The dashboard page for supervisors and administrators.

    Signals:
        refreshed(board): a refresh finished; `board` is the `metrics.Dashboard` now shown.
        refresh_failed(message): a refresh failed; the message is shown on the page.
        exported(paths): CSV files were written.
        problem_closed(row): the core closed a page problem report (a refresh follows).
        close_refused(message): the core refused to close one; the message is shown on the page.
    """

    refreshed = Signal(object)
    refresh_failed = Signal(str)
    exported = Signal(list)
    problem_closed = Signal(object)
    close_refused = Signal(str)

    def __init__(self, actor: object, central: CentralProvider, parent: QWidget | None = None, *,
                 auto_refresh_ms: int = AUTO_REFRESH_MS, today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardPage")
        self._actor = core_actor(actor)
        self._central = central
        self._busy = False
        self._again = False
        self._sized = False
        self.board = _empty_board()
        self._closing = False
        # What closing a report just did, said once more after the refresh that follows it: a
        # success beside "Updated", a refusal in the message line (which a refresh clears).
        self._notice = ""
        self._refusal = ""

        # --- filters -------------------------------------------------------------------------------
        today = today or dt.datetime.now(dt.timezone.utc).date()
        self.from_edit = self._date_edit("dashboardFrom", today - dt.timedelta(days=DEFAULT_DAYS - 1))
        self.to_edit = self._date_edit("dashboardTo", today)
        self.template_box = QComboBox()
        self.template_box.setObjectName("dashboardTemplate")
        self.template_box.addItem(ALL_TEMPLATES, None)
        self.template_box.setMinimumContentsLength(12)
        self.subject_box = QComboBox()
        self.subject_box.setObjectName("dashboardSubject")
        self.subject_box.addItem(WHOLE_TEAM, None)
        self.subject_box.setMinimumContentsLength(14)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("dashboardRefresh")
        self.refresh_button.setToolTip("Refresh now (F5); the page also refreshes itself every minute")
        self.export_button = QToolButton()
        self.export_button.setObjectName("dashboardExport")
        self.export_button.setText("Export CSV")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export_menu = QMenu(self.export_button)
        self.export_button.setMenu(self.export_menu)
        self.state_label = QLabel("")
        self.state_label.setObjectName("dashboardState")
        self.message_label = QLabel("")
        self.message_label.setObjectName("dashboardMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setVisible(False)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        for caption, widget in (("From", self.from_edit), ("to", self.to_edit), ("Form", self.template_box),
                                ("Chart for", self.subject_box)):
            label = QLabel(caption)
            label.setObjectName("dashboardFilterLabel")
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget)
            bar.addSpacing(6)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)
        bar.addStretch(1)
        bar.addWidget(self.state_label)

        # --- headline figures ------------------------------------------------------------------------
        self.cards = {name: _Card(caption, name) for name, caption in (
            ("kph", "Team KPH"), ("accuracy", "Accuracy"), ("documents", "Documents"),
            ("active_hours", "Active hours"), ("errors_per_1000", "Errors / 1,000 keys"), ("keyers", "Keyers"))}
        cards = QHBoxLayout()
        cards.setSpacing(10)
        for card in self.cards.values():
            cards.addWidget(card, 1)

        # --- tables and charts -------------------------------------------------------------------------
        self.keyer_model = ReportTableModel(reports.keyer_table(()), self)
        self.keyer_view = _table_view("dashboardKeyers", self.keyer_model, reports.KEYER_COLUMNS.index(
            next(c for c in reports.KEYER_COLUMNS if c.key == "keystrokes")), Qt.SortOrder.DescendingOrder)
        self.batch_model = ReportTableModel(reports.batch_table((), utcnow()), self)
        self.batch_view = _table_view("dashboardBatches", self.batch_model, 0, Qt.SortOrder.AscendingOrder)
        self.batch_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.batch_view.setItemDelegateForColumn(self.batch_model.column_of("done"), ShareBarDelegate(self.batch_view))
        self.problem_model = ReportTableModel(reports.page_problem_table(()), self)
        self.problem_view = _table_view("dashboardPageProblems", self.problem_model,
                                        self.problem_model.column_of("reported_at"), Qt.SortOrder.DescendingOrder)
        self.problem_view.setAccessibleName("Page problem reports")
        self.closed_problems_box = QCheckBox("Include c&losed")
        self.closed_problems_box.setObjectName("dashboardClosedProblems")
        self.closed_problems_box.setToolTip("Show the closed reports too, newest first: when, by whom and what was "
                                            "done (Alt+L)")
        self.closed_problems_box.setVisible(auth.allowed(self._actor, "page_problems"))  # the actor stays
        self.close_problem_button = QPushButton("&Close report…")
        self.close_problem_button.setObjectName("dashboardCloseProblem")
        self.close_problem_button.setToolTip("Close the selected report with a note on what was done (Del)")
        self.hourly_chart = HourlyChartWidget()
        self.field_chart = FieldErrorsChartWidget()
        self.class_chart = ErrorClassChartWidget()

        charts = QWidget()
        charts.setObjectName("dashboardCharts")
        row = QHBoxLayout(charts)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(self.hourly_chart, 9)
        row.addWidget(self.field_chart, 7)
        row.addWidget(self.class_chart, 5)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("dashboardSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.batches_title = QLabel("Open batches")
        self.problems_title = QLabel("Page problems")
        self.problems_title.setToolTip("Pages keyers reported missing or unreadable (F8), until a supervisor "
                                       "closes the report or its document is final")
        self.splitter.addWidget(self._section(QLabel("Keyers"), self.keyer_view))
        self.splitter.addWidget(charts)
        self.splitter.addWidget(self._section(self.batches_title, self.batch_view))
        self.splitter.addWidget(self._section(self.problems_title, self.problem_view, self.closed_problems_box,
                                              self.close_problem_button))
        self.batch_view.setMinimumHeight(30 + 3 * 26)
        self.problem_view.setMinimumHeight(30 + 2 * 26)
        for index, stretch in enumerate(SECTION_SHARES):
            self.splitter.setStretchFactor(index, stretch)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.message_label)
        layout.addLayout(cards)
        layout.addWidget(self.splitter, 1)

        # --- wiring ------------------------------------------------------------------------------------
        self._build_export_menu()
        self.refresh_button.clicked.connect(self._on_refresh_button_clicked)
        self.from_edit.dateChanged.connect(self._on_filter_changed)
        self.to_edit.dateChanged.connect(self._on_filter_changed)
        self.template_box.currentIndexChanged.connect(self._on_filter_changed)
        self.subject_box.currentIndexChanged.connect(self._on_subject_box_changed)
        self.keyer_view.selectionModel().selectionChanged.connect(self._on_keyer_selection_changed)
        self.problem_view.selectionModel().selectionChanged.connect(self._on_problem_selection_changed)
        self.close_problem_button.clicked.connect(self.close_selected_problem)
        self.closed_problems_box.toggled.connect(self._on_closed_problems_toggled)
        close_key = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.problem_view)
        close_key.setContext(Qt.ShortcutContext.WidgetShortcut)
        close_key.activated.connect(self.close_selected_problem)
        refresh = QAction("Refresh", self)
        refresh.setShortcut(QKeySequence(Qt.Key.Key_F5))
        refresh.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.triggered.connect(self.refresh)
        self.addAction(refresh)
        self._timer = QTimer(self)
        self._timer.setInterval(auto_refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self.setFocusProxy(self.keyer_view)
        self._show_board(self.board)

    # --- building blocks -------------------------------------------------------------------------

    @staticmethod
    def _date_edit(name: str, day: dt.date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setToolTip("Whole days in UTC")
        return edit

    @staticmethod
    def _section(heading: QLabel, body: QWidget, *tools: QWidget) -> QWidget:
        """A titled section; `tools` (buttons for its table) sit at the right of the title."""
        box = QWidget()
        box.setObjectName("dashboardSection")
        heading.setObjectName("dashboardSectionTitle")
        title = QHBoxLayout()
        title.setContentsMargins(0, 0, 0, 0)
        title.addWidget(heading)
        title.addStretch(1)
        for tool in tools:
            title.addWidget(tool)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(title)
        layout.addWidget(body, 1)
        return box

    def _build_export_menu(self) -> None:
        for name, title in (("keyers", "Keyers"), ("hourly", "Per hour (chart)"), ("errors_by_field", "Errors by field"),
                            ("errors_by_class", "Errors by class"), ("batches", "Open batches"),
                            ("page_problems", "Page problems")):
            action = self.export_menu.addAction(f"{title}...")
            action.setObjectName(f"export_{name}")
            action.triggered.connect(lambda _checked=False, n=name: self.export_table(n))
        self.export_menu.addSeparator()
        every = self.export_menu.addAction("All tables to a folder...")
        every.setObjectName("export_all")
        every.triggered.connect(lambda _checked=False: self.export_all())

    # --- the filters -------------------------------------------------------------------------------

    @staticmethod
    def _day(edit: QDateEdit) -> dt.date:
        d = edit.date()
        return dt.date(d.year(), d.month(), d.day())

    def filters(self) -> metrics.Filters:
        start, end = metrics.day_range(self._day(self.from_edit), self._day(self.to_edit))
        return metrics.Filters(start=start, end=end, template=self.template_box.currentData())

    def chart_keyer(self) -> uuid.UUID | None:
        """The keyer the hourly chart is for (None: the whole team). The box holds ids as text."""
        data = self.subject_box.currentData()
        return uuid.UUID(data) if data else None

    def set_period(self, first: dt.date, last: dt.date) -> None:
        """Show whole UTC days first..last (refreshes once)."""
        for edit, day in ((self.from_edit, first), (self.to_edit, last)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.blockSignals(False)
        self.refresh()

    # --- refreshing ------------------------------------------------------------------------------

    def help_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """F1: the dashboard's keys."""
        return [("Dashboard", [("F5", "Refresh the figures now"), ("Tab", "Move between filters, tables and charts"),
                               ("Del / Alt+C", "Close the selected page problem report, with a note"),
                               ("Alt+L", "Show the closed page problem reports too, and what was done")])]

    def refresh(self) -> None:
        """Fetch the figures in the background; a refresh asked for meanwhile runs after it."""
        if self._day(self.from_edit) > self._day(self.to_edit):
            self._show_message("The first day is after the last day; pick the period again.")
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._again = False
        self.state_label.setText("Refreshing...")
        actor, central, filters, keyer = self._actor, self._central, self.filters(), self.chart_keyer()
        closed = self.closed_problems_box.isChecked()

        def op() -> metrics.Dashboard:
            return metrics.load_dashboard(central(), actor, filters, chart_keyer_id=keyer, closed_problems=closed)

        run_in_background(op, self._on_refresh_done, self._on_refresh_error, owner=self)

    @property
    def busy(self) -> bool:
        return self._busy

    def _on_refresh_done(self, board: metrics.Dashboard) -> None:
        self._busy = False
        self._show_message(self._refusal)
        self._show_board(board)
        updated = f"Updated {dt.datetime.now().strftime('%H:%M:%S')}"
        self.state_label.setText(f"{self._notice}; {updated.lower()}" if self._notice else updated)
        self._notice = self._refusal = ""
        self.refreshed.emit(board)
        if self._again:
            self.refresh()

    def _on_refresh_error(self, error: BaseException) -> None:
        self._busy = False
        self.state_label.setText("Not updated")
        message = self._sentence(error, "The figures could not be loaded; the log file has the details.")
        self._notice = self._refusal = ""
        self._show_message(message)
        self.refresh_failed.emit(message)
        if self._again:
            self.refresh()

    @staticmethod
    def _sentence(error: BaseException, bug_text: str) -> str:
        """`error_sentence`, with a bug only logged: the page refreshes itself every minute, and
        a crash dialog each time would bury the supervisor's screen."""
        return error_sentence(error, bug_text, lambda bug: log.error("%s", bug_text, exc_info=bug))

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # --- showing a board ---------------------------------------------------------------------------

    def _show_board(self, board: metrics.Dashboard) -> None:
        self.board = board
        self._show_cards(board)
        selected = self.chart_keyer()
        self.keyer_view.selectionModel().blockSignals(True)
        self.keyer_model.set_table(reports.keyer_table(board.keyers))
        self.keyer_view.selectionModel().blockSignals(False)
        self.batch_model.set_table(reports.batch_table(board.batches, board.refreshed_at))
        self.batches_title.setText("Open batches" if board.batches else "Open batches: none (every batch is final)")
        chosen = self.selected_problem()
        self.problem_model.set_table(reports.page_problem_table(board.page_problems, closed=board.closed_problems))
        self._select_row(self.problem_view, self.problem_model, chosen.id if chosen else None)
        self._update_close_button()
        count = sum(1 for p in board.page_problems if p.open)
        title = f"Page problems: {count} open" if count else "Page problems: none open"
        if board.closed_problems:
            title += f", {len(board.page_problems) - count} closed shown"
        self.problems_title.setText(title)
        self._fill_combo(self.template_box, ALL_TEMPLATES, [(name, name) for name in board.templates])
        self._fill_combo(self.subject_box, WHOLE_TEAM,
                         [(k.display_name or k.username, str(k.keyer_id)) for k in sorted(board.keyers, key=lambda k: k.username)])
        self._select_keyer_row(selected)
        subject = self.subject_box.currentText() if board.chart_keyer_id else WHOLE_TEAM.lower()
        self.hourly_chart.set_hours(board.hourly, subject)
        self.field_chart.set_fields(board.errors_by_field, len({f.template for f in board.errors_by_field}) > 1)
        self.class_chart.set_classes(board.errors_by_class)
        for view in (self.keyer_view, self.batch_view, self.problem_view):
            view.resizeColumnsToContents()

    def _show_cards(self, board: metrics.Dashboard) -> None:
        team = board.team
        texts = {
            "kph": "-" if team.kph is None else f"{team.kph:,.0f}",
            "accuracy": "-" if team.accuracy is None else f"{100 * team.accuracy:.2f}%",
            "documents": f"{team.documents:,}",
            "active_hours": f"{team.active_hours:,.1f}",
            "errors_per_1000": "-" if team.errors_per_1000_keystrokes is None else f"{team.errors_per_1000_keystrokes:.2f}",
            "keyers": f"{len(board.keyers)}",
        }
        for name, card in self.cards.items():
            card.value.setText(texts[name])

    @staticmethod
    def _fill_combo(box: QComboBox, first: str, items: list[tuple[str, object]]) -> None:
        """Refill a filter box keeping its choice (when the choice is still there)."""
        current = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(first, None)
        for text, data in items:
            box.addItem(text, data)
        index = box.findData(current) if current is not None else 0
        box.setCurrentIndex(max(index, 0))
        box.blockSignals(False)

    def _select_keyer_row(self, keyer_id: uuid.UUID | None) -> None:
        self._select_row(self.keyer_view, self.keyer_model, keyer_id)

    @staticmethod
    def _select_row(view: QTableView, model: ReportTableModel, key: object) -> None:
        """Select the row whose key is `key` (none when it is None or gone), without signals."""
        selection = view.selectionModel()
        selection.blockSignals(True)
        try:
            view.clearSelection()
            row = model.row_of_key(key) if key is not None else -1
            if row >= 0:
                proxy = view.model()
                assert isinstance(proxy, QSortFilterProxyModel)
                index = proxy.mapFromSource(model.index(row, 0))
                view.selectRow(index.row())
        finally:
            selection.blockSignals(False)

    @staticmethod
    def _selected_key(view: QTableView, model: ReportTableModel) -> object:
        rows = view.selectionModel().selectedRows()
        if not rows:
            return None
        proxy = view.model()
        assert isinstance(proxy, QSortFilterProxyModel)
        return model.row_key(proxy.mapToSource(rows[0]).row())

    # --- reacting to the user ------------------------------------------------------------------------

    def _on_refresh_button_clicked(self) -> None:
        self.refresh()

    def _on_filter_changed(self, *_args: object) -> None:
        self.refresh()

    def _on_subject_box_changed(self, _index: int) -> None:
        self._select_keyer_row(self.chart_keyer())
        self.refresh()

    def _on_keyer_selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        keyer_id = self._selected_key(self.keyer_view, self.keyer_model)
        index = self.subject_box.findData(str(keyer_id)) if keyer_id is not None else 0
        if index >= 0 and index != self.subject_box.currentIndex():
            self.subject_box.setCurrentIndex(index)  # refreshes the chart for that keyer

    def _on_problem_selection_changed(self, *_args: object) -> None:
        self._update_close_button()

    def _on_closed_problems_toggled(self, _checked: bool) -> None:
        self.refresh()

    # --- closing a page problem report -----------------------------------------------------------

    def selected_problem(self) -> page_problems.PageProblemRow | None:
        """The page problem report selected in its table, if any."""
        problem_id = self._selected_key(self.problem_view, self.problem_model)
        return next((p for p in self.board.page_problems if p.id == problem_id), None)

    def _update_close_button(self) -> None:
        # A convenience: the core refuses anyone else (`page_problems.close`).
        allowed = auth.allowed(self._actor, page_problems.CLOSE_ACTION)
        self.close_problem_button.setVisible(allowed)
        selected = self.selected_problem()
        self.close_problem_button.setEnabled(allowed and not self._closing and selected is not None and selected.open)

    def close_selected_problem(self) -> None:
        """Ask for the note that closes the selected report, then close it in the background."""
        problem = self.selected_problem()
        if problem is None or not problem.open or self._closing or not auth.allowed(self._actor, page_problems.CLOSE_ACTION):
            return
        note = CloseProblemDialog.ask(problem, self)
        self.problem_view.setFocus(Qt.FocusReason.OtherFocusReason)
        if note is None:
            return
        self._closing = True
        self._update_close_button()
        actor, central = self._actor, self._central
        run_in_background(lambda: page_problems.close_problem(central(), actor, problem.id, note),
                          self._on_close_done, self._on_close_failed, owner=self)

    def _on_close_done(self, row: page_problems.PageProblemRow) -> None:
        self._closing = False
        self._show_message("")
        self._notice = f"Closed the report on {row.where}"
        self.problem_closed.emit(row)
        self.refresh()

    def _on_close_failed(self, error: BaseException) -> None:
        self._closing = False
        message = self._sentence(error, "The report could not be closed because of an error in the program; "
                                        "the log file has the details.")
        self._refusal = message
        self._show_message(message)
        self.close_refused.emit(message)
        self.refresh()  # it may have been closed by someone else meanwhile

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._sized:  # first show: each section its share of the height
            self._sized = True
            total = max(self.splitter.height(), 400)
            self.splitter.setSizes([total * share // sum(SECTION_SHARES) for share in SECTION_SHARES])
        if not self._timer.isActive():
            self._timer.start()
            self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt override)
        self._timer.stop()
        super().hideEvent(event)

    # --- export ----------------------------------------------------------------------------------

    def ask_save_path(self, suggested: str) -> Path | None:
        """Where to write one CSV file (tests replace this)."""
        path, _filter = QFileDialog.getSaveFileName(self, "Export to CSV", suggested, "CSV files (*.csv)")
        return Path(path) if path else None

    def ask_folder(self) -> Path | None:
        """Which folder gets every table (tests replace this)."""
        path = QFileDialog.getExistingDirectory(self, "Export every table to a folder")
        return Path(path) if path else None

    def _stamp(self) -> str:
        f = self.board.filters
        first = f.start.date().isoformat() if f.start else "start"
        last = (f.end - dt.timedelta(days=1)).date().isoformat() if f.end else "now"
        return f"{first}_{last}"

    def export_table(self, name: str) -> None:
        table = reports.dashboard_tables(self.board)[name]
        path = self.ask_save_path(f"{name}-{self._stamp()}.csv")
        if path is None:
            return
        self._write(lambda: [reports.write_csv(table, path)])

    def export_all(self) -> None:
        folder = self.ask_folder()
        if folder is None:
            return
        board, stamp = self.board, self._stamp()
        self._write(lambda: reports.export_all(board, folder, stamp))

    def _write(self, op: Callable[[], list[Path]]) -> None:
        def done(paths: list[Path]) -> None:
            self.state_label.setText(f"Exported {len(paths)} file{'s' if len(paths) != 1 else ''}")
            self.exported.emit(paths)

        def failed(error: BaseException) -> None:
            self._show_message(f"The CSV file could not be written: {error}")

        run_in_background(op, done, failed, owner=self)


_central_lock = threading.Lock()


def make_dashboard(actor: object, ctx: object) -> DashboardWidget:
    """The page factory for ui/roles.py: ctx is the CliContext whose `central()` opens the database.

    The first refresh opens the database on a pool thread; the lock keeps two refreshes from
    opening it twice (CliContext opens it lazily and is not itself thread-safe).
    """
    opener = getattr(ctx, "central")

    def central() -> Store:
        with _central_lock:
            return opener()

    return DashboardWidget(actor, central)
