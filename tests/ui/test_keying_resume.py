"""A station killed hard (SIGKILL) mid-keying: the next login offers the unit, at the same field."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.ui.keyingdemo import DemoStation, HomeKeeper, current_edit, demo_station, key_value, stored_texts
from tests.workstation.faults import hard_kill
from ui.keying_home import KeyingHomeWidget
from ui.workmodel import RESUME

BATCH = "REBATES-DEMO"
FIELDS_IN_SECOND = 3
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def station(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStation]:
    cache = tmp_path_factory.getbasetemp() / "keying-demo-cache"
    station = demo_station(cache, tmp_path / "ws")
    yield station
    station.close()


def _key_and_get_killed(station: DemoStation, tmp_path: Path) -> tuple[int, str]:
    """Run a keyer's station in a child process and SIGKILL it mid-field; where it was."""
    actor = station.actor()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "child-config"),
               PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.ui.keyingchild", str(station.ws.root), str(actor.id), actor.username, BATCH,
         str(FIELDS_IN_SECOND)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until READY (or the child dies)
        assert line.startswith("READY "), f"child said {line!r}; stderr: {child.stderr.read() if child.stderr else ''}"
        hard_kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    _ready, index, path = line.split()
    return int(index), path


def test_after_a_kill_the_next_login_resumes_at_the_same_document_and_field(qtbot, station: DemoStation,
                                                                          tmp_path: Path) -> None:
    doc_index, path = _key_and_get_killed(station, tmp_path)
    assert doc_index == 1  # the first document finished, the second under way

    actor = station.actor()
    keeper = HomeKeeper()
    home = keeper.add(KeyingHomeWidget(actor, station.local, lambda: station.central))
    qtbot.addWidget(home)
    home.show()
    qtbot.waitUntil(lambda: not home._loading, timeout=10_000)
    first = home.model.rows[0]
    assert first.kind == RESUME and first.batch_name == BATCH
    assert "document 2 of 3" in first.detail
    assert "unfinished work" in home.message_text
    with qtbot.waitSignal(home.keying_started, timeout=10_000):
        qtbot.keyClick(home.view, Qt.Key.Key_Return)  # the offer is the first row: Enter takes it
    keying = home.keying
    assert keying is not None
    session = keying.session
    assert (session.doc_index, session.path, keying.form.current_path) == (doc_index, path, path)
    assert current_edit(keying).hasFocus()
    assert f"\u201c{session.template.spec(path).label}\u201d" in first.detail  # the home said where
    assert keying.status.document_label.text() == "Document 2 of 3"
    truth = station.truth(BATCH)
    first_doc, second_doc = session.documents[0], session.documents[1]
    assert session.is_finished(0)
    assert stored_texts(station.local, first_doc.id) == truth[first_doc.source_name].values
    keyed = session.paths()[:FIELDS_IN_SECOND]
    expected = {p: truth[second_doc.source_name].values[p] for p in keyed}
    assert {p: keying.form.text(p) for p in keyed} == expected  # shown again in the form
    assert stored_texts(station.local, second_doc.id) == expected  # and on disk
    assert keying.form.text(path) == ""  # "HALF" was being typed: the one thing a crash may lose
    key_value(qtbot, keying, truth[second_doc.source_name].values[path])  # keying goes on
    assert keying.flush() and stored_texts(station.local, second_doc.id)[path] == truth[second_doc.source_name].values[path]
    keeper.close()
