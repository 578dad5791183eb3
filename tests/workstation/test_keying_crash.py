"""A station killed mid-document loses at most the field being typed.

A child process keys through a real KeyingSession on the on-disk local store and is killed
hard (SIGKILL, TerminateProcess on Windows: no clean-up, no atexit, like a power cut as far as
the process is concerned).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.workstation.faults import hard_kill
from tests.workstation.localseed import SeededUnit, seed_unit
from workstation import models as m
from workstation.keying import KeyingSession
from workstation.paths import Workspace
from workstation.store import Store

REPO = Path(__file__).resolve().parents[2]

# Valid survey values, so every Enter saves at once.
CHILD = r"""
import sys, time, uuid
from workstation.store import Store
from workstation.keying import KeyingSession

VALUES = {"respondent_id": "12345674", "visit_date": "24/12/2023", "age": "41", "gender": "X",
          "q1": "4", "q2": "3", "q3": "5", "q4": "5", "q5": "2", "q6": "4", "recommend": "X",
          "visits_per_year": "3", "comments": "Friendly staff, long wait."}
url, unit_id, keyer_id, stop_after = sys.argv[1], uuid.UUID(sys.argv[2]), uuid.UUID(sys.argv[3]), int(sys.argv[4])
session = KeyingSession.open(Store(url), unit_id, keyer_id)
saved = 0
while True:
    path = session.path
    for i in range(1, len(VALUES[path]) + 1):
        session.keystroke()
        session.set_text(VALUES[path][:i])
    if saved == stop_after:
        print("TYPING", session.doc_index, path, flush=True)
        time.sleep(600)
    doc = session.doc_index
    move = session.advance()
    assert move.saved == path, move
    saved += 1
    print("SAVED", doc, path, flush=True)  # advance returned: the field is committed
    if move.document_done:
        session.finish_document()
"""


@contextmanager
def start_child(ws: Workspace, unit: SeededUnit, stop_after: int) -> Iterator[subprocess.Popen[str]]:
    """The child keys the unit; after `stop_after` fields it types into the next and waits.
    It never outlives the test."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, ws.local_url, str(unit.unit_id), str(unit.keyer_id), str(stop_after)],
        stdout=subprocess.PIPE, text=True, cwd=REPO, env=env,
    ) as child:
        try:
            yield child
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=30)


def saved_in_store(ws: Workspace, unit: SeededUnit) -> dict[tuple[int, str], str]:
    store = Store(ws.local_url)
    try:
        with store.transaction() as s:
            rows = s.execute(
                select(m.Entry.document_id, m.FieldValue.field_path, m.FieldValue.value)
                .join(m.Entry, m.Entry.id == m.FieldValue.entry_id)
            ).all()
        index = {doc_id: i for i, doc_id in enumerate(unit.document_ids)}
        return {(index[d], p): v for d, p, v in rows}
    finally:
        store.dispose()


def test_killed_while_typing_keeps_every_field_left_and_resumes_at_the_typed_one(local: Store, ws: Workspace) -> None:
    unit = seed_unit(local, "survey", documents=2)
    with start_child(ws, unit, stop_after=7) as child:
        assert child.stdout is not None
        lines = [child.stdout.readline().split() for _ in range(8)]
        hard_kill(child)

    assert lines[-1][0] == "TYPING"
    left = [(int(d), p) for kind, d, p in lines[:-1]]
    paths = unit.template.field_paths()
    assert left == [(0, p) for p in paths[:7]]
    saved = saved_in_store(ws, unit)
    assert set(saved) == {(0, p) for p in paths[:7]}  # every field left; not the one being typed
    assert saved[(0, "respondent_id")] == "12345674"

    store = Store(ws.local_url)
    resumed = KeyingSession.open(store, unit.unit_id, unit.keyer_id)
    assert (resumed.doc_index, resumed.path) == (0, paths[7])
    assert resumed.field(paths[6]).text == "5" and not resumed.field().saved
    store.dispose()


@pytest.mark.slow
def test_killed_at_a_random_moment_loses_no_field_it_reported_saved(local: Store, ws: Workspace) -> None:
    unit = seed_unit(local, "survey", documents=30)
    reported = []
    with start_child(ws, unit, stop_after=10_000) as child:
        assert child.stdout is not None
        for _ in range(40):  # kill while it is keying at full speed, mid-document
            kind, doc, path = child.stdout.readline().split()
            reported.append((int(doc), path))
        hard_kill(child)

    paths = unit.template.field_paths()
    order = [(d, p) for d in range(len(unit.document_ids)) for p in paths]
    saved = saved_in_store(ws, unit)
    # What was saved is an unbroken run from the first field: no gaps, nothing half-written.
    assert set(saved) == set(order[: len(saved)])
    # Every field reported saved before the kill is there.
    assert set(reported) <= set(saved)

    last_doc, last_path = order[len(saved) - 1]
    store = Store(ws.local_url)
    with store.transaction() as s:
        finished = {
            doc_id for doc_id in s.scalars(select(m.Entry.document_id).where(m.Entry.finished_at.is_not(None)))
        }
    resumed = KeyingSession.open(store, unit.unit_id, unit.keyer_id)
    if last_path == paths[-1] and unit.document_ids[last_doc] in finished:
        expected = (last_doc + 1, paths[0])
    elif last_path == paths[-1]:
        expected = (last_doc, last_path)
    else:
        expected = (last_doc, paths[paths.index(last_path) + 1])
    assert (resumed.doc_index, resumed.path) == expected
    store.dispose()
