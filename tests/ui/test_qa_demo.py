"""The QA station on the demo workspace: real scans, disputes made by simulated keyers.

`workstation demo` builds the batches (drawn 300-dpi scans, ground truth kept aside); simulated
keyers key them through the real claim, keying and push services with a high error rate, and
the simulated QA lead is left out, so the disputes wait for the station. A lead then settles a
batch with keys only, reading the ground truth the way a person reads the scan.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from tests.ui.test_qa_station import key
from ui.qa_station import QaStationWidget
from workstation import models as m
from workstation.auth import Actor
from workstation.compare import same
from workstation.demo.data import TruthDocument
from workstation.demo.workspace import build_demo, demo_truth
from workstation.paths import Workspace
from workstation.simulate import ErrorModel, Simulation
from workstation.store import Store, open_central

SHOT = Path(tempfile.gettempdir(), "qa_station.png")
SHOT_BATCHES = Path(tempfile.gettempdir(), "qa_station_batches.png")
REBATES = "REBATES-DEMO"


class _KeyersOnly(Simulation):
    """The simulation without its QA lead: the disputes stay open for the station."""

    def _adjudicate(self) -> int:
        return 0


@dataclass(frozen=True)
class DemoDisputes:
    ws: Workspace
    central_file: Path


@pytest.fixture(scope="module")
def demo_disputes(tmp_path_factory: pytest.TempPathFactory) -> DemoDisputes:
    ws = Workspace(tmp_path_factory.mktemp("qa-demo")).ensure()
    build_demo(ws, documents=3, seed=4)
    central = open_central(ws.embedded_central_url)
    try:
        _KeyersOnly(ws, central, keyers=3, seed=4, model=ErrorModel(field_error_rate=0.15)).run()
    finally:
        central.dispose()
    return DemoDisputes(ws, Path(ws.central_db))


@pytest.fixture
def demo_central(demo_disputes: DemoDisputes, tmp_path: Path) -> Iterator[Store]:
    """A copy of the demo's central database for this test alone."""
    copy = tmp_path / "central.sqlite"
    shutil.copyfile(demo_disputes.central_file, copy)
    store = open_central(f"sqlite:///{copy}")
    yield store
    store.dispose()


def demo_lead(central: Store) -> Actor:
    with central.session() as s:
        user = s.scalars(select(m.User).where(m.User.username == "qa1")).one()
        return Actor(user.id, user.username, user.role, user.display_name)


def open_station(qtbot, central: Store) -> QaStationWidget:  # type: ignore[no-untyped-def]
    station = QaStationWidget(demo_lead(central), central)
    qtbot.addWidget(station)
    station.resize(1280, 860)
    station.show()
    qtbot.waitExposed(station)
    station.activateWindow()
    station.setFocus()
    qtbot.waitUntil(lambda: not station.loading, timeout=20_000)
    qtbot.waitUntil(lambda: station.snippet.snippet_image() is not None, timeout=20_000)
    return station


def truth_by_document(central: Store, ws: Workspace, batch: str) -> dict:  # type: ignore[type-arg]
    truth = demo_truth(ws, batch)
    with central.session() as s:
        rows = s.execute(select(m.Document.id, m.Document.source_name).join(m.Batch)
                         .where(m.Batch.name == batch)).all()
    return {doc_id: truth[name] for doc_id, name in rows}


def test_a_lead_settles_a_demo_batch_by_keys_and_the_final_values_are_the_truth(
        qtbot, demo_disputes: DemoDisputes, demo_central: Store) -> None:  # type: ignore[no-untyped-def]
    truth: dict[object, TruthDocument] = truth_by_document(demo_central, demo_disputes.ws, REBATES)
    station = open_station(qtbot, demo_central)
    with demo_central.session() as s:
        batch_id = s.scalar(select(m.Batch.id).where(m.Batch.name == REBATES))
    with qtbot.waitSignal(station.queue_loaded):
        station.show_batch(batch_id)
    disputes = station.queue_count
    assert disputes >= 3, "the simulated keyers should have left several rebate fields in dispute"

    picked = typed = revealed = 0
    number = 0
    while station.current_item is not None:
        number += 1
        item = station.current_item
        if item.masked:
            with qtbot.waitSignal(station.values_revealed):
                key(qtbot, station, "v")
            revealed += 1
            item = station.current_item
        reading = truth[item.document_id].values[item.field_path]
        matching = [n for n, c in enumerate(item.candidates, start=1) if same(item.spec, c.value, c.flag, reading, "")]
        if number == 1:
            # A slip: the wrong entry (or a wrong mark) confirmed, then taken back.
            wrong = next((n for n in range(1, len(item.candidates) + 1) if n not in matching), None)
            with qtbot.waitSignal(station.decision_made):
                key(qtbot, station, str(wrong) if wrong else "i", Qt.Key.Key_Return)
            with qtbot.waitSignal(station.decision_undone):
                key(qtbot, station, ("z", Qt.KeyboardModifier.ControlModifier))
            assert station.current_item.dispute_id == item.dispute_id
            if item.masked:  # back in the queue, masked again until asked
                with qtbot.waitSignal(station.values_revealed):
                    key(qtbot, station, "v")
                revealed += 1
        if matching and number != 2:
            key(qtbot, station, str(matching[0]), Qt.Key.Key_Return)
            picked += 1
        else:  # nobody keyed it right, or the second field: the lead types what the scan shows
            key(qtbot, station, "t")
            qtbot.keyClicks(station.value_edit, reading)
            qtbot.keyClick(station.value_edit, Qt.Key.Key_Return)
            typed += 1
    assert picked + typed == disputes and typed >= 1 and picked >= 1
    assert station.close_session()

    with demo_central.session() as s:
        states = s.execute(select(m.Document.state, func.count()).join(m.Batch)
                           .where(m.Batch.name == REBATES).group_by(m.Document.state)).all()
        assert dict(states) == {"final": len(truth)}
        decided = s.execute(select(m.Resolution).join(m.Document).join(m.Batch)
                            .where(m.Batch.name == REBATES, m.Resolution.how == "qa")).scalars().all()
        assert len(decided) == disputes
        for resolution in decided:
            assert resolution.value == truth[resolution.document_id].values[resolution.field_path]
            assert resolution.decided_by == station.actor.id and resolution.reason == "image_clear"
        actions = dict(s.execute(select(m.AuditEvent.action, func.count())
                                 .where(m.AuditEvent.action.like("qa_%")).group_by(m.AuditEvent.action)).all())
    assert actions["qa_decision"] == disputes + 1 and actions["qa_undo"] == 1
    assert actions.get("qa_reveal_value", 0) == revealed


def test_screenshot_of_the_station_on_a_demo_scan(qtbot, demo_central: Store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    station = open_station(qtbot, demo_central)
    items = station.model.items()
    # The richest field to look at: three entries (a third key happened), with help text if any.
    item = max(items, key=lambda i: (len(i.candidates), bool(i.help), not i.masked))
    station.tree.setCurrentIndex(station.model.field_index(item.dispute_id))
    qtbot.waitUntil(lambda: station.current_item == item and station.snippet.snippet_image() is not None)
    key(qtbot, station, "2")
    qtbot.waitUntil(lambda: station.tree_follows)
    assert station.model.item_at(station.tree.currentIndex()) == item  # the tree shows where we are
    path = tmp_path / "qa_station.png"
    assert station.grab().save(str(path))
    shutil.copy(path, SHOT)
    assert station.rows[1].property("chosen") is True
    assert len(item.candidates) == 3 and all(row.isVisibleTo(station) for row in station.rows)

    with qtbot.waitSignal(station.batch_view.documents_loaded):
        key(qtbot, station, "b")
    batches = tmp_path / "qa_station_batches.png"
    assert station.grab().save(str(batches))
    shutil.copy(batches, SHOT_BATCHES)
    assert station.batch_view.model.rowCount() >= 3
