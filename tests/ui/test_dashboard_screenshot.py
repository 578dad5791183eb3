"""A picture of the dashboard over a simulated floor, to look at after a change.

`workstation simulate` keys the demo batches over several working days, two more batches are
left part-keyed, and the supervisor's dashboard shows the period in the main window. The test
asserts what the picture must show; /tmp/dashboard.png keeps a copy for a person to look at.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.ui.dashboarddemo import build_floor
from ui.dashboard import DashboardWidget
from ui.mainwindow import MainWindow
from workstation import auth
from workstation.paths import Workspace

COPY = Path(tempfile.gettempdir(), "dashboard.png")


def test_a_simulated_floor_makes_a_lively_dashboard(qtbot: QtBot, ws: Workspace, tmp_path: Path) -> None:
    floor = build_floor(ws, tmp_path)
    boss = auth.Actor(auth.uuid.uuid4(), "sue", "supervisor", "Sue Visor")
    window = MainWindow(boss)
    qtbot.addWidget(window)
    page = DashboardWidget(boss, lambda: floor.central, today=floor.last_day)
    window.add_page("dashboard", page, "Dashboard")
    window.resize(1366, 820)
    with qtbot.waitSignal(page.refreshed, timeout=20_000):
        window.show()  # showing the page starts its first refresh
    qtbot.waitUntil(lambda: not page.busy, timeout=20_000)
    page.set_period(floor.first_day, floor.last_day)
    qtbot.waitUntil(lambda: not page.busy and page.board.filters.start is not None
                    and page.board.filters.start.date() == floor.first_day, timeout=20_000)
    board = page.board

    # Several keyers over several days, with errors of several classes, and work still open.
    assert len(board.keyers) == floor.keyers
    days = {h.hour.date() for h in board.hourly}
    assert len(days) >= 3
    assert all(k.figures.kph and 5_000 < k.figures.kph < 15_000 for k in board.keyers)
    assert sum(1 for count in board.errors_by_class.values() if count) >= 3
    assert page.field_chart.categories and page.hourly_chart.points >= 5
    assert {b.name for b in board.batches} == {"CLAIMS-0142", "REBATES-0077"}
    rebates = next(b for b in board.batches if b.name == "REBATES-0077")
    assert 0 < rebates.final < rebates.documents and rebates.pass1_left < rebates.documents
    assert page.cards["keyers"].value.text() == str(floor.keyers)

    target = tmp_path / "dashboard.png"
    assert window.grab().save(str(target))
    assert target.stat().st_size > 20_000
    shutil.copyfile(target, COPY)
    floor.central.dispose()
