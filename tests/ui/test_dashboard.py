"""The supervisor's dashboard: thin models, background refresh, filters, charts, CSV export, roles,
closing page problem reports."""

from __future__ import annotations

import csv
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from tests.workstation.centralseed import add_user, seed_batch
from tests.workstation.test_metrics import Floor, at
from ui import roles
from ui.dashboard import DashboardWidget, make_dashboard
from ui.dashboard_models import ReportTableModel, SortRole
from ui.page_problem_dialog import CloseProblemDialog
from workstation import auth, metrics, page_problems, reports, sync
from workstation import models as m
from workstation.errors import DatabaseUnavailable
from workstation.store import Store, open_central, open_local

SUPERVISOR = auth.Actor(uuid.uuid4(), "sue", "supervisor", "Sue Visor")


@pytest.fixture
def floor_store(tmp_path: Path) -> Iterator[Store]:
    """A central database with the hand-made floor of the metric tests (alice and bob)."""
    store = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    with store.transaction() as s:
        f = Floor(s)
        a, b = f.alice, f.bob
        f.value(1, a, 1, "first_name", "JOHN", keys=5, active=2000, saved=at(9, 10), match=True, finished=at(9, 21))
        f.value(1, a, 1, "last_name", "SMTIH", keys=6, active=3000, pause=40000, saved=at(9, 20), match=False,
                error_class="transposition")
        f.value(1, b, 2, "first_name", "JOHN", keys=4, active=1000, saved=at(11, 0), match=True, finished=at(11, 2))
        f.value(1, b, 2, "last_name", "SMITH", keys=5, active=2000, saved=at(11, 1), match=True)
        f.docs[0].state = "final"
        f.summarise()
    yield store
    store.dispose()


def _page(qtbot: QtBot, store: Store, actor: object = SUPERVISOR, **kwargs: object) -> DashboardWidget:
    page = DashboardWidget(actor, lambda: store, today=at(0).date(), **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(page)
    return page


def _refreshed(qtbot: QtBot, page: DashboardWidget) -> metrics.Dashboard:
    with qtbot.waitSignal(page.refreshed, timeout=10_000) as blocker:
        page.refresh()
    return blocker.args[0]


def _settled(qtbot: QtBot, page: DashboardWidget) -> metrics.Dashboard:
    """Wait until no refresh runs or waits, and return what the page shows."""
    qtbot.waitUntil(lambda: not page.busy and page.state_label.text() != "Refreshing...", timeout=10_000)
    return page.board


def _column(view_model: QSortFilterProxyModel, column: int) -> list[str]:
    return [view_model.index(r, column).data() for r in range(view_model.rowCount())]


def test_the_table_model_is_a_well_behaved_thin_model(qtmodeltester, floor_store: Store) -> None:  # type: ignore[no-untyped-def]
    with floor_store.session() as s:
        table = reports.keyer_table(metrics.keyer_figures(s))
    model = ReportTableModel(table)
    qtmodeltester.check(model, force_py=True)
    assert model.headerData(model.column_of("errors_per_1000"), Qt.Orientation.Horizontal) == "Err/1k keys"
    assert model.headerData(model.column_of("errors_per_1000"), Qt.Orientation.Horizontal,
                            Qt.ItemDataRole.ToolTipRole) == "Errors per 1,000 keystrokes"
    accuracy = model.column_of("accuracy")
    assert [model.index(r, accuracy).data() for r in range(2)] == ["50.00%", "100.00%"]
    model.set_table(reports.keyer_table(()))
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 0


def test_sorting_uses_the_numbers_and_puts_missing_rates_last(qtbot: QtBot) -> None:
    def keyer(name: str, keys: int, active: int) -> metrics.KeyerFigures:
        return metrics.KeyerFigures(uuid.uuid4(), name, metrics.Figures(keystrokes=keys, active_ms=active))

    table = reports.keyer_table([keyer("a", 900, 360_000), keyer("b", 10_000, 3_600_000), keyer("c", 0, 0)])
    model = ReportTableModel(table)
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SortRole)
    kph = model.column_of("kph")
    proxy.sort(kph, Qt.SortOrder.DescendingOrder)
    # 10,000 keys in an hour beats 900 in six minutes (9,000 KPH) as numbers, not as text; c has no rate.
    assert _column(proxy, 0) == ["b", "a", "c"]
    assert _column(proxy, kph) == ["10,000", "9,000", "-"]


def test_a_refresh_fills_cards_tables_and_charts(qtbot: QtBot, floor_store: Store) -> None:
    page = _page(qtbot, floor_store)
    page.set_period(at(0).date(), at(0).date())
    board = _settled(qtbot, page)
    assert board.filters.start == at(0) and board.filters.end == at(0, day=3)
    assert page.cards["documents"].value.text() == "2"
    assert page.cards["accuracy"].value.text() == "75.00%"  # 3 of 4 scored fields right
    assert page.cards["keyers"].value.text() == "2"
    assert _column(page.keyer_view.model(), 0) == ["Alice A", "bob"]  # busiest first
    # One day: the axis names the worked hours (in the station's time zone).
    assert page.hourly_chart.points == 2
    assert page.hourly_chart.labels == [at(h).astimezone().strftime("%H:00") for h in (9, 11)]
    assert page.field_chart.categories == ["last_name"]
    assert page.class_chart.slices == {"transposition": 1}
    assert page.batch_model.rowCount() == 1
    assert page.batch_model.index(0, page.batch_model.column_of("done")).data() == "33%"
    assert page.state_label.text().startswith("Updated")


def test_refreshing_runs_off_the_gui_thread_one_at_a_time(qtbot: QtBot, floor_store: Store) -> None:
    gate = threading.Event()
    calls: list[str] = []

    def slow_central() -> Store:
        calls.append(threading.current_thread().name)
        assert threading.current_thread() is not threading.main_thread()
        gate.wait(10)
        return floor_store

    page = DashboardWidget(SUPERVISOR, slow_central, today=at(0).date())
    qtbot.addWidget(page)
    boards: list[metrics.Dashboard] = []
    page.refreshed.connect(boards.append)
    page.refresh()
    page.refresh()  # asked for while the first runs: queued, not run beside it
    page.refresh()
    qtbot.wait(200)  # the GUI thread keeps handling events meanwhile
    assert page.busy and len(calls) == 1 and page.state_label.text() == "Refreshing..."
    gate.set()
    qtbot.waitUntil(lambda: len(boards) == 2 and not page.busy, timeout=10_000)
    assert len(calls) == 2  # the queued requests ran once, after the first


def test_filters_and_the_chosen_keyer_go_to_the_service(qtbot: QtBot, floor_store: Store) -> None:
    page = _page(qtbot, floor_store)
    _refreshed(qtbot, page)
    assert [page.template_box.itemText(i) for i in range(page.template_box.count())] == ["All templates", "rebate"]
    with qtbot.waitSignal(page.refreshed, timeout=10_000) as blocker:
        page.keyer_view.selectRow(1)  # bob
    board = blocker.args[0]
    with floor_store.session() as s:
        bob = next(k for k in metrics.keyer_figures(s) if k.username == "bob")
    assert board.chart_keyer_id == bob.keyer_id and page.subject_box.currentText() == "bob"
    assert [h.figures.keystrokes for h in board.hourly] == [9]
    assert "bob" in page.hourly_chart.chart().title()
    assert page.keyer_view.selectionModel().selectedRows()[0].row() == 1  # kept across the refresh
    with qtbot.waitSignal(page.refreshed, timeout=10_000) as blocker:
        page.template_box.setCurrentIndex(1)
    assert blocker.args[0].filters.template == "rebate"
    with qtbot.waitSignal(page.refreshed, timeout=10_000) as blocker:
        page.subject_box.setCurrentIndex(0)
    assert blocker.args[0].chart_keyer_id is None and not page.keyer_view.selectionModel().selectedRows()
    # An empty period: nothing to show, and that is said, not drawn as zeros.
    page.set_period(at(0, day=5).date(), at(0, day=6).date())
    assert _settled(qtbot, page).filters.start == at(0, day=5)
    assert page.keyer_model.rowCount() == 0 and page.cards["kph"].value.text() == "-"
    assert page.field_chart.chart().title().endswith("none in this period")


def test_a_reversed_period_is_a_sentence_not_a_query(qtbot: QtBot, floor_store: Store) -> None:
    page = _page(qtbot, floor_store)
    page.set_period(at(0, day=5).date(), at(0).date())
    assert page.message_label.isVisibleTo(page) and "first day is after the last" in page.message_label.text()
    assert not page.busy


def test_every_table_exports_to_csv_with_the_numbers_shown(qtbot: QtBot, floor_store: Store, tmp_path: Path) -> None:
    page = _page(qtbot, floor_store)
    _refreshed(qtbot, page)
    target = tmp_path / "keyers.csv"
    page.ask_save_path = lambda suggested: target  # type: ignore[method-assign]
    with qtbot.waitSignal(page.exported, timeout=10_000) as blocker:
        next(a for a in page.export_menu.actions() if a.objectName() == "export_keyers").trigger()
    assert blocker.args[0] == [target]
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["Keyer", "Documents", "Fields", "Keystrokes"]
    alice = rows[1]
    assert alice[0] == "Alice A" and alice[3] == "11"
    assert float(alice[rows[0].index("KPH")]) == pytest.approx(11 / (5000 / 3_600_000), abs=0.01)
    assert float(alice[rows[0].index("Accuracy")]) == pytest.approx(0.5)
    folder = tmp_path / "all"
    page.ask_folder = lambda: folder  # type: ignore[method-assign]
    with qtbot.waitSignal(page.exported, timeout=10_000) as blocker:
        page.export_all()
    assert sorted(p.name.split("-")[0] for p in blocker.args[0]) == [
        "batches", "errors_by_class", "errors_by_field", "hourly", "keyers", "page_problems"]
    assert all(p.parent == folder and p.stat().st_size > 0 for p in blocker.args[0])
    page.ask_save_path = lambda suggested: None  # type: ignore[method-assign]
    with qtbot.assertNotEmitted(page.exported, wait=200):
        page.export_table("batches")  # cancelled: nothing written


def test_a_keyer_gets_a_sentence_and_no_figures(qtbot: QtBot, floor_store: Store) -> None:
    with floor_store.session() as s:
        alice = next(k for k in metrics.keyer_figures(s) if k.username == "alice")
    page = _page(qtbot, floor_store, auth.Actor(alice.keyer_id, "alice", "keyer"))
    with qtbot.waitSignal(page.refresh_failed, timeout=10_000) as blocker:
        page.refresh()
    assert "only their own figures" in blocker.args[0]
    assert page.message_label.text() == blocker.args[0]
    assert page.keyer_model.rowCount() == 0 and page.batch_model.rowCount() == 0


def test_an_unreachable_database_is_a_sentence_and_the_next_refresh_recovers(qtbot: QtBot, floor_store: Store) -> None:
    down = [True]

    def central() -> Store:
        if down[0]:
            raise DatabaseUnavailable("The central database cannot be reached.", "Check the network.")
        return floor_store

    page = DashboardWidget(SUPERVISOR, central, today=at(0).date())
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.refresh_failed, timeout=10_000) as blocker:
        page.refresh()
    assert "cannot be reached" in blocker.args[0] and page.state_label.text() == "Not updated"
    down[0] = False
    _refreshed(qtbot, page)
    assert not page.message_label.isVisibleTo(page) and page.keyer_model.rowCount() == 2


def test_supervisors_and_admins_get_the_dashboard_page(qtbot: QtBot, floor_store: Store) -> None:
    assert roles.DASHBOARD in roles.PAGES_BY_ROLE["supervisor"] and roles.DASHBOARD in roles.PAGES_BY_ROLE["admin"]
    assert roles.DASHBOARD not in roles.PAGES_BY_ROLE["keyer"]

    class Context:
        def central(self) -> Store:
            return floor_store

    page = roles.DASHBOARD.factory(SUPERVISOR, Context())
    qtbot.addWidget(page)
    assert isinstance(page, DashboardWidget)
    page.set_period(at(0).date(), at(0).date())
    assert len(_settled(qtbot, page).keyers) == 2
    assert isinstance(make_dashboard(SUPERVISOR, Context()), DashboardWidget)


def test_a_pushed_page_problem_shows_in_its_table_and_exports(qtbot: QtBot, tmp_path: Path) -> None:
    """F8 on a station, the push, then the supervisor's refresh: the report is a row of the table."""
    central = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    local = open_local(f"sqlite:///{tmp_path / 'local.sqlite'}")
    ann = add_user(central, "ann")
    seed_batch(central, documents=2, passes=(1,), name="CLAIMS-7")
    claim, _ = sync.claim_and_pull(central, local, ann, pass_no=1)
    page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[1], 1,
                              detail="The page image could not be decoded.")
    page = _page(qtbot, central)
    _refreshed(qtbot, page)
    assert page.problem_model.rowCount() == 0 and page.problems_title.text() == "Page problems: none open"

    assert sync.push_pending(local, central).problems == 1
    board = _refreshed(qtbot, page)
    assert len(board.page_problems) == 1
    view = page.problem_view.model()
    texts = {page.problem_model.table.columns[c].key: view.index(0, c).data() for c in range(view.columnCount())}
    when = board.page_problems[0].reported_at.strftime("%Y-%m-%d %H:%M")
    assert texts == {"batch": "CLAIMS-7", "document": "scan_0002.png", "page": "1", "reason": "missing",
                     "keyer": "Ann", "reported_at": when, "detail": "The page image could not be decoded."}
    assert page.problems_title.text().startswith("Page problems: 1 open")

    target = tmp_path / "problems.csv"
    page.ask_save_path = lambda suggested: target  # type: ignore[method-assign]
    with qtbot.waitSignal(page.exported, timeout=10_000):
        next(a for a in page.export_menu.actions() if a.objectName() == "export_page_problems").trigger()
    with target.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Batch", "Document", "Page", "Reason", "Keyer", "Reported (UTC)", "Detail"]
    assert rows[1][:5] == ["CLAIMS-7", "scan_0002.png", "1", "missing", "Ann"]
    local.dispose()
    central.dispose()


@pytest.fixture
def reported(tmp_path: Path) -> Iterator[tuple[Store, auth.Actor, list[uuid.UUID]]]:
    """A central database with two pushed page problem reports, and a supervisor who has an account."""
    central = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    local = open_local(f"sqlite:///{tmp_path / 'local.sqlite'}")
    ann = add_user(central, "ann")
    sue = auth.Actor(add_user(central, "sue", "supervisor"), "sue", "supervisor", "Sue")
    seed_batch(central, documents=2, passes=(1,), name="CLAIMS-7")
    claim, _ = sync.claim_and_pull(central, local, ann, pass_no=1)
    ids = [page_problems.report_page(local, ann, claim.unit_id, doc, 1).problem_id for doc in claim.document_ids]
    assert sync.push_pending(local, central).problems == 2
    local.dispose()
    yield central, sue, ids
    central.dispose()


def _shown(qtbot: QtBot, page: DashboardWidget) -> None:
    """Show the page (keys reach only a shown page) and wait for the refresh that showing starts."""
    page.resize(1100, 800)
    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.show()


def _select_problem(page: DashboardWidget, problem_id: uuid.UUID) -> None:
    proxy = page.problem_view.model()
    assert isinstance(proxy, QSortFilterProxyModel)
    page.problem_view.selectRow(proxy.mapFromSource(page.problem_model.index(page.problem_model.row_of_key(problem_id), 0)).row())
    page.problem_view.setFocus()


def _open_ids(central: Store, actor: auth.Actor) -> set[uuid.UUID]:
    return {p.id for p in page_problems.page_problems(central, actor)}


class Asked:
    """Stands in for `CloseProblemDialog.ask`: answers with `note` and remembers what was asked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, note: str | None) -> None:
        self.note = note
        self.asked: list[page_problems.PageProblemRow] = []
        monkeypatch.setattr(CloseProblemDialog, "ask", self)

    def __call__(self, problem: page_problems.PageProblemRow, parent: object = None) -> str | None:
        self.asked.append(problem)
        return self.note


def test_a_supervisor_closes_the_selected_page_problem_with_a_note(
        qtbot: QtBot, reported: tuple[Store, auth.Actor, list[uuid.UUID]], monkeypatch: pytest.MonkeyPatch) -> None:
    central, sue, (first, second) = reported
    page = _page(qtbot, central, sue)
    _shown(qtbot, page)
    assert page.problems_title.text() == "Page problems: 2 open"
    assert page.close_problem_button.isVisibleTo(page) and not page.close_problem_button.isEnabled()
    asked = Asked(monkeypatch, "rescanned")
    page.close_selected_problem()  # nothing selected: nothing asked
    assert asked.asked == []
    _select_problem(page, first)
    assert page.close_problem_button.isEnabled() and page.selected_problem().id == first

    with qtbot.waitSignal(page.problem_closed, timeout=10_000) as closed:
        qtbot.keyClick(page.problem_view, Qt.Key.Key_Delete)
    assert [p.id for p in asked.asked] == [first]
    row = closed.args[0]
    assert (row.id, row.closed_by, row.close_note, row.open) == (first, "Sue", "rescanned", False)
    qtbot.waitUntil(lambda: page.problem_model.rowCount() == 1 and not page.busy, timeout=10_000)
    assert page.problems_title.text() == "Page problems: 1 open" and page.problem_model.row_key(0) == second
    assert page.state_label.text().startswith("Closed the report on page 1 of scan_0001.png (batch CLAIMS-7); updated ")
    assert not page.message_label.isVisibleTo(page)
    assert _open_ids(central, sue) == {second}

    # Alt+C (the button) asks too; cancelled, the report stays open and nothing runs.
    asked.note = None
    _select_problem(page, second)
    with qtbot.assertNotEmitted(page.problem_closed, wait=200), qtbot.assertNotEmitted(page.refreshed, wait=200):
        qtbot.keyClick(page.problem_view, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert [p.id for p in asked.asked] == [first, second]
    assert _open_ids(central, sue) == {second} and page.selected_problem().id == second


def test_alt_l_shows_the_closed_reports_with_what_was_done_and_they_cannot_be_closed_again(
        qtbot: QtBot, reported: tuple[Store, auth.Actor, list[uuid.UUID]], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    central, sue, (first, second) = reported
    page_problems.close_problem(central, sue, first, "rescanned and re-sent")
    page = _page(qtbot, central, sue)
    _shown(qtbot, page)
    assert page.problem_model.rowCount() == 1 and page.problems_title.text() == "Page problems: 1 open"
    assert page.closed_problems_box.isVisibleTo(page) and not page.closed_problems_box.isChecked()

    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        qtbot.keyClick(page, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    assert page.closed_problems_box.isChecked() and page.problem_model.rowCount() == 2
    assert page.problems_title.text() == "Page problems: 1 open, 1 closed shown"
    table = page.problem_model.table
    by_key = dict(zip(table.keys, table.rows, strict=True))
    closed_row = dict(zip((c.key for c in table.columns), by_key[first], strict=True))
    open_row = dict(zip((c.key for c in table.columns), by_key[second], strict=True))
    assert (closed_row["state"], closed_row["closed_by"], closed_row["close_note"]) == ("closed", "Sue",
                                                                                         "rescanned and re-sent")
    assert closed_row["closed_at"] is not None
    assert (open_row["state"], open_row["closed_at"], open_row["close_note"]) == ("open", None, "")

    asked = Asked(monkeypatch, "again")
    _select_problem(page, first)  # closed already: nothing to close
    assert not page.close_problem_button.isEnabled()
    with qtbot.assertNotEmitted(page.problem_closed, wait=200):
        qtbot.keyClick(page.problem_view, Qt.Key.Key_Delete)
    assert asked.asked == []
    _select_problem(page, second)
    assert page.close_problem_button.isEnabled()

    target = tmp_path / "history.csv"  # the export writes what the table shows
    page.ask_save_path = lambda suggested: target  # type: ignore[method-assign]
    with qtbot.waitSignal(page.exported, timeout=10_000):
        next(a for a in page.export_menu.actions() if a.objectName() == "export_page_problems").trigger()
    header = target.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith("State,Closed (UTC),Closed by,What was done")

    with qtbot.waitSignal(page.refreshed, timeout=10_000):
        page.closed_problems_box.click()
    assert page.problem_model.rowCount() == 1 and page.problem_model.row_key(0) == second


def test_a_refused_close_is_a_sentence_on_the_page_and_the_table_catches_up(
        qtbot: QtBot, reported: tuple[Store, auth.Actor, list[uuid.UUID]], monkeypatch: pytest.MonkeyPatch) -> None:
    central, sue, (first, second) = reported
    page = _page(qtbot, central, sue)
    _shown(qtbot, page)
    _select_problem(page, first)
    # Meanwhile a QA lead closed the same report from another desk.
    lee = auth.Actor(add_user(central, "lee", "qa"), "lee", "qa")
    page_problems.close_problem(central, lee, first, "paper pulled")
    Asked(monkeypatch, "rescanned")
    with qtbot.waitSignal(page.close_refused, timeout=10_000) as refused:
        page.close_problem_button.click()
    message = refused.args[0]
    assert "was closed already, by Lee" in message and '("paper pulled")' in message and "Traceback" not in message
    qtbot.waitUntil(lambda: page.problem_model.rowCount() == 1 and not page.busy, timeout=10_000)
    assert page.problem_model.row_key(0) == second
    assert page.message_label.isVisibleTo(page) and page.message_label.text() == message  # kept past the refresh


def test_keyers_do_not_get_the_button_and_the_core_refuses_them_anyway(
        qtbot: QtBot, reported: tuple[Store, auth.Actor, list[uuid.UUID]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The button is a convenience; the control is the core's check of the account's role."""
    central, sue, (first, _second) = reported
    with central.session() as s:
        ann = s.scalars(select(m.User.id).where(m.User.username == "ann")).one()
    asked = Asked(monkeypatch, "done")
    keyer_page = _page(qtbot, central, auth.Actor(ann, "ann", "keyer"))
    assert not keyer_page.close_problem_button.isVisibleTo(keyer_page)
    keyer_page.close_selected_problem()
    assert asked.asked == []

    # Sue's account is made a keyer while her dashboard is open: the page still offers the button.
    page = _page(qtbot, central, sue)
    _shown(qtbot, page)
    _select_problem(page, first)
    auth.set_role(central, auth.operator("root"), "sue", "keyer")
    with qtbot.waitSignal(page.close_refused, timeout=10_000) as refused:
        page.close_problem_button.click()
    assert refused.args[0].startswith("sue (keyer) may not do this") and "Traceback" not in refused.args[0]
    assert page.message_label.text() == refused.args[0]
    assert first in _open_ids(central, auth.operator("root"))


def test_the_close_dialog_takes_the_note_on_enter_and_cancels_on_escape(
        qtbot: QtBot, reported: tuple[Store, auth.Actor, list[uuid.UUID]]) -> None:
    central, sue, (first, _second) = reported
    (problem,) = [p for p in page_problems.page_problems(central, sue) if p.id == first]
    dialog = CloseProblemDialog(problem)
    qtbot.addWidget(dialog)
    dialog.open()
    assert "page 1 of scan_0001.png (batch CLAIMS-7)" in dialog.findChild(QLabel, "problemTitle").text()
    assert "Ann reported it missing on" in dialog.intro_label.text()
    assert not dialog.close_button.isEnabled()  # a blank note cannot be sent
    qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.note_edit, "  paper pulled ")
    with qtbot.waitSignal(dialog.accepted, timeout=5_000):
        qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return)
    assert dialog.note == "paper pulled"

    again = CloseProblemDialog(problem)
    qtbot.addWidget(again)
    again.open()
    qtbot.keyClicks(again.note_edit, "rescanned")
    with qtbot.waitSignal(again.rejected, timeout=5_000):
        qtbot.keyClick(again.note_edit, Qt.Key.Key_Escape)


def test_f1_lists_the_key_that_closes_a_page_problem(qtbot: QtBot, floor_store: Store) -> None:
    keys = {shown: label for _group, rows in _page(qtbot, floor_store).help_groups() for shown, label in rows}
    assert "page problem" in keys["Del / Alt+C"]
