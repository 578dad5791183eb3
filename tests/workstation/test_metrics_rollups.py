"""The summary tables stay equal to a recomputation from the raw rows, through the real services.

Keyers key with `KeyingSession` on stations of their own (a fake clock, so active time and the
idle gap are worked out by hand), push with `sync.push_pending`, the central side compares,
a third keyer or a QA lead settles, scoring runs; after every step the stored summaries must be
what `rollups.recomputed` computes from the rows. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from tests.workstation.centralseed import add_user, seed_batch
from workstation import auth, metrics, qa, rollups, sync
from workstation import models as m
from workstation.demo.workspace import build_demo
from workstation.keying import KeyingSession
from workstation.paths import Workspace
from workstation.resolve import documents_updated
from workstation.simulate import ErrorModel, Simulation
from workstation.store import Store, open_central, open_local

UTC = dt.timezone.utc
HOUR_MS = 3_600_000
REBATE_FIELDS = 16


def assert_summaries_exact(central: Store) -> None:
    with central.session() as s:
        stored, expected = rollups.stored(s), rollups.recomputed(s)
    assert stored == expected
    assert stored[0], "the check is empty: nothing was summarised"


@dataclass
class FakeClock:
    """The session's clock (seconds) and the wall clock it implies."""

    base: dt.datetime
    t: float = 0.0

    def __call__(self) -> float:
        return self.t

    def wall(self) -> dt.datetime:
        return self.base + dt.timedelta(seconds=self.t)


@dataclass
class Station:
    keyer_id: uuid.UUID
    local: Store
    clock: FakeClock
    entries: list[uuid.UUID] = field(default_factory=list)


@pytest.fixture
def stations(tmp_path: Path) -> Iterator[dict[str, Store]]:
    opened: dict[str, Store] = {}
    yield opened
    for store in opened.values():
        store.dispose()


def station(central: Store, stations: dict[str, Store], tmp_path: Path, name: str, start: dt.datetime) -> Station:
    keyer = add_user(central, name)
    local = open_local(f"sqlite:///{tmp_path / f'{name}.sqlite'}")
    stations[name] = local
    return Station(keyer, local, FakeClock(start))


def key_unit(central: Store, st: Station, pass_no: int, plan: dict[str, tuple[str, list[float], float]]) -> None:
    """Claim one document of `pass_no` and key it: per field (text, seconds before each key, then Enter).

    Fields not in `plan` are left empty with Enter one second after entering them.
    """
    claim, _ = sync.claim_and_pull(central, st.local, st.keyer_id, pass_no=pass_no, max_documents=1, now=st.clock.wall())
    session = KeyingSession.open(st.local, claim.unit_id, st.keyer_id, clock=st.clock, wallclock=st.clock.wall)
    while True:
        text, gaps, enter = plan.get(session.path, ("", [], 1.0))
        for gap in gaps:
            st.clock.t += gap
            session.keystroke()
        session.set_text(text)
        st.clock.t += enter
        if session.advance(confirm=True).document_done:
            break
    session.finish_document()
    assert session.unit_finished
    assert sync.push_pending(st.local, central).sent == 1


def test_keyed_pushed_and_decided_figures_match_the_hand_worked_answer(
        central: Store, stations: dict[str, Store], tmp_path: Path) -> None:
    batch = seed_batch(central, documents=1, template="rebate", name="R-1")  # mismatch policy: qa
    ann = station(central, stations, tmp_path, "ann", dt.datetime(2026, 5, 4, 9, 0, tzinfo=UTC))
    ben = station(central, stations, tmp_path, "ben", dt.datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    lead = auth.Actor(add_user(central, "lead", role="qa"), "lead", "qa")

    # ann: ANNA in 3.0 s (five key presses with Enter); LEE with a 45 s look-away before the last E,
    # which is over the 30 s idle threshold, so 2.0 s active and 45 s pause; 14 empty fields, 1 s each.
    key_unit(central, ann, 1, {"first_name": ("ANNA", [1, 0.5, 0.5, 0.5], 0.5),
                               "last_name": ("LEE", [1, 0.5, 45], 0.5)})
    assert_summaries_exact(central)
    with central.session() as s:
        (first,) = metrics.keyer_figures(s)
    assert (first.username, first.figures.fields, first.figures.scored) == ("ann", REBATE_FIELDS, 0)

    # ben: ANNE in 3.0 s, LEE in 2.5 s, 14 empty fields.
    key_unit(central, ben, 2, {"first_name": ("ANNE", [1, 0.5, 0.5, 0.5], 0.5),
                               "last_name": ("LEE", [1, 0.5, 0.5], 0.5)})
    assert_summaries_exact(central)
    (item,) = qa.qa_queue(central, lead)
    assert item.field_path == "first_name"
    with central.session() as s:
        anns_entry = s.scalar(select(m.Entry.id).where(m.Entry.keyer_id == ann.keyer_id))
    decision = qa.decide(central, lead, item.dispute_id, entry_id=anns_entry, reason="image_clear")
    assert decision.document_final
    assert_summaries_exact(central)

    with central.session() as s:
        by_name = {k.username: k for k in metrics.keyer_figures(s)}
        classes = metrics.errors_by_class(s)
        fields = metrics.errors_by_field(s)
        hours = metrics.hourly_figures(s)
    a, b = by_name["ann"].figures, by_name["ben"].figures
    assert (a.documents, a.fields, a.keystrokes, a.characters) == (1, 16, 5 + 4 + 14, 7)
    assert (a.active_ms, a.pause_ms) == (3000 + 2000 + 14 * 1000, 45_000)
    assert a.kph == pytest.approx(23 / (19_000 / HOUR_MS))  # 4357.9
    assert (a.scored, a.errors, a.accuracy) == (16, 0, 1.0)
    assert (b.active_ms, b.pause_ms, b.keystrokes) == (3000 + 2500 + 14 * 1000, 0, 23)
    assert (b.scored, b.errors) == (16, 1)
    assert b.accuracy == pytest.approx(15 / 16)
    assert b.errors_per_1000_keystrokes == pytest.approx(1000 / 23)
    # QA chose ann's ANNA: ben's ANNE is his error, as verifier, one substituted letter.
    assert (by_name["ben"].blamed_as_verifier, by_name["ann"].blamed_as_keyer) == (1, 0)
    assert by_name["ben"].errors_by_class["substitution"] == 1
    assert classes == {"substitution": 1, "transposition": 0, "omission": 0, "insertion": 0, "other": 0}
    assert (fields[0].field, fields[0].scored, fields[0].errors) == ("first_name", 2, 1)
    assert [(h.hour.hour, h.figures.documents) for h in hours] == [(9, 1), (10, 1)]
    with central.session() as s:
        (progress,) = metrics.batch_progress(s, include_final=True)
    assert (progress.batch_id, progress.documents, progress.final) == (batch.batch_id, 1, 1)


def test_a_replayed_push_leaves_the_summaries_as_they_are(central: Store, stations: dict[str, Store], tmp_path: Path) -> None:
    seed_batch(central, documents=1, template="rebate", name="R-2")
    ann = station(central, stations, tmp_path, "ann", dt.datetime(2026, 5, 4, 9, 0, tzinfo=UTC))
    claim, _ = sync.claim_and_pull(central, ann.local, ann.keyer_id, pass_no=1, now=ann.clock.wall())
    session = KeyingSession.open(ann.local, claim.unit_id, ann.keyer_id, clock=ann.clock, wallclock=ann.clock.wall)
    while True:
        ann.clock.t += 2
        session.keystroke()
        session.set_text("X")
        if session.advance(confirm=True).document_done:
            break
    session.finish_document()
    assert sync.push_pending(ann.local, central, purge=False).sent == 1
    with central.session() as s:
        before = rollups.stored(s)
    with ann.local.transaction() as s:
        s.execute(update(m.OutboxItem).values(sent_at=None))
    assert sync.push_pending(ann.local, central).sent == 1
    with central.session() as s:
        assert rollups.stored(s) == before
    assert_summaries_exact(central)
    with central.session() as s:
        (figures,) = metrics.keyer_figures(s)
    assert (figures.figures.fields, figures.figures.keystrokes, figures.figures.documents) == (16, 32, 1)


def _entry(central: Store, document_id: uuid.UUID, pass_no: int, keyer: uuid.UUID, values: dict[str, str],
           saved: dt.datetime, finished: dt.datetime) -> uuid.UUID:
    """A pushed entry as the central side receives it: rows inserted, then `documents_updated`."""
    with central.transaction() as s:
        entry = m.Entry(document_id=document_id, pass_no=pass_no, keyer_id=keyer, started_at=saved, finished_at=finished)
        s.add(entry)
        s.flush()
        for path, value in values.items():
            s.add(m.FieldValue(entry_id=entry.id, keyer_id=keyer, field_path=path, value=value,
                               keystrokes=len(value) + 1, active_ms=800, saved_at=saved))
        s.flush()
        documents_updated(s, [document_id])
        return entry.id


def test_third_key_scoring_and_a_forgotten_row_in_another_hour_keep_the_summaries_exact(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="cms1500", name="C-1")  # mismatch policy: third_key
    doc = batch.document_ids[0]
    k1, k2, k3 = (add_user(central, n) for n in ("k1", "k2", "k3"))
    nine = dt.datetime(2026, 5, 4, 9, 50, tzinfo=UTC)
    both_rows = {"patient_last_name": "DOE", "lines[1].cpt": "99213", "lines[2].cpt": "36415"}
    _entry(central, doc, 1, k1, both_rows, nine, nine)
    # k2 forgot the second line and finished the document after 10:00: the filler value scoring
    # adds for that row is saved at the finish, in an hour none of k2's values were in.
    e2 = _entry(central, doc, 2, k2, {"patient_last_name": "DOE", "lines[1].cpt": "99213"}, nine,
                nine + dt.timedelta(minutes=20))
    assert_summaries_exact(central)
    _entry(central, doc, 3, k3, {"lines[2].cpt": "36415"}, nine + dt.timedelta(hours=2), nine + dt.timedelta(hours=2))
    assert_summaries_exact(central)
    with central.session() as s:
        assert s.get(m.Document, doc).state == "final"
        filler = s.scalars(select(m.FieldValue).where(m.FieldValue.entry_id == e2, m.FieldValue.field_path == "lines[2].cpt")).one()
        assert (filler.final_match, filler.error_class, filler.keystrokes) == (False, "omission", 0)
        by_id = {k.keyer_id: k for k in metrics.keyer_figures(s)}
        hours = {h.hour.hour: h.figures for h in metrics.hourly_figures(s, metrics.Filters(keyer_id=k2))}
    assert (by_id[k2].figures.errors, by_id[k2].errors_by_class["omission"], by_id[k2].blamed_as_verifier) == (1, 1, 1)
    assert (by_id[k1].figures.errors, by_id[k3].figures.errors, by_id[k3].figures.scored) == (0, 0, 1)
    # k2's two keyed values in hour 9; the document (finished 10:10) and the filler in hour 10.
    assert (hours[9].fields, hours[9].documents, hours[10].fields, hours[10].documents) == (2, 0, 1, 1)


def test_decisions_left_open_and_closed_later_keep_the_summaries_exact(central: Store) -> None:
    batch = seed_batch(central, documents=1, template="rebate", name="R-3")
    doc = batch.document_ids[0]
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    lead = auth.Actor(add_user(central, "lead", role="qa"), "lead", "qa")
    nine = dt.datetime(2026, 5, 4, 9, 10, tzinfo=UTC)
    _entry(central, doc, 1, k1, {"first_name": "ANNA", "last_name": "LEE"}, nine, nine)
    _entry(central, doc, 2, k2, {"first_name": "ANNE", "last_name": "LE"}, nine, nine)
    items = qa.qa_queue(central, lead)
    assert {i.field_path for i in items} == {"first_name", "last_name"}
    for item in items:
        qa.decide(central, lead, item.dispute_id, value="ANNA" if item.field_path == "first_name" else "LEE",
                  reason="keyer_typo", finalize=False)
    with central.session() as s:
        assert metrics.team_figures(s).scored == 0  # not final yet: nothing scored
    assert qa.close_document(central, lead, doc)
    assert_summaries_exact(central)
    with central.session() as s:
        by_id = {k.keyer_id: k for k in metrics.keyer_figures(s)}
    assert (by_id[k1].figures.errors, by_id[k2].figures.errors) == (0, 2)
    assert by_id[k2].errors_by_class == {"substitution": 1, "transposition": 0, "omission": 1, "insertion": 0, "other": 0}


def test_the_upkeep_repairs_whatever_it_is_asked_to_recompute(central: Store) -> None:
    batch = seed_batch(central, documents=2, template="rebate", name="R-4")
    k1, k2 = add_user(central, "k1"), add_user(central, "k2")
    nine = dt.datetime(2026, 5, 4, 9, 10, tzinfo=UTC)
    entries = []
    for doc in batch.document_ids:
        entries.append(_entry(central, doc, 1, k1, {"first_name": "ANNA"}, nine, nine))
        entries.append(_entry(central, doc, 2, k2, {"first_name": "ANNA"}, nine + dt.timedelta(days=3), nine))
    with central.transaction() as s:  # rescoring: a value's scoring changed after the fact
        s.execute(update(m.FieldValue).where(m.FieldValue.keyer_id == k2).values(final_match=False, error_class="other"))
        s.execute(delete(m.KeyerHourStats).where(m.KeyerHourStats.keyer_id == k1))
    with central.session() as s:
        assert rollups.stored(s) != rollups.recomputed(s)
    with central.transaction() as s:
        assert rollups.entries_changed(s, entries) == 3  # k1's hour, k2's hour three days later, k2's finish
    assert_summaries_exact(central)
    with central.transaction() as s:
        s.execute(delete(m.TeamFieldHourStats))
        rollups.rebuild(s)
    assert_summaries_exact(central)
    with central.session() as s:
        assert [(e.field, e.errors) for e in metrics.errors_by_field(s)] == [("first_name", 2)]


def test_hour_numbers_agree_between_python_and_sql(central: Store) -> None:
    seed_batch(central, documents=1, template="rebate", name="R-5")
    k1 = add_user(central, "k1")
    moments = [dt.datetime(2026, 1, 1, 0, 0, tzinfo=UTC), dt.datetime(2026, 6, 30, 23, 59, 59, 999_999, tzinfo=UTC),
               dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))]
    with central.transaction() as s:
        doc = s.scalars(select(m.Document)).one()
        entry = m.Entry(document_id=doc.id, pass_no=1, keyer_id=k1, finished_at=moments[0])
        s.add(entry)
        s.flush()
        for n, moment in enumerate(moments):
            s.add(m.FieldValue(entry_id=entry.id, keyer_id=k1, field_path=f"f{n}", saved_at=moment))
        s.flush()
        found = s.execute(select(m.FieldValue.field_path, rollups.hour_of(m.FieldValue.saved_at, central.dialect))
                          .order_by(m.FieldValue.field_path)).all()
    assert [hour for _path, hour in found] == [rollups.hour_number(t) for t in moments]
    assert rollups.hour_start(rollups.hour_number(moments[1])) == dt.datetime(2026, 6, 30, 23, tzinfo=UTC)


def test_a_simulated_floor_fills_summaries_equal_to_the_raw_rows(ws: Workspace) -> None:
    build_demo(ws, seed=3, documents=4)
    central = open_central(ws.embedded_central_url)
    start = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    Simulation(ws, central, keyers=3, seed=3, model=ErrorModel(field_error_rate=0.08), start=start, unit_size=2).run()
    assert_summaries_exact(central)
    # An independent count from the raw rows, in Python, for each keyer.
    with central.session() as s:
        rows = s.execute(select(m.FieldValue.keyer_id, m.FieldValue.keystrokes, m.FieldValue.active_ms,
                                m.FieldValue.pause_ms, m.FieldValue.final_match, m.Entry.pass_no)
                         .join(m.Entry, m.Entry.id == m.FieldValue.entry_id)).all()
        documents = dict(s.execute(select(m.Entry.keyer_id, func.count()).group_by(m.Entry.keyer_id)).all())
        figures = {k.keyer_id: k for k in metrics.keyer_figures(s)}
    expected: dict[uuid.UUID, list[int]] = {}
    for keyer_id, keys, active, pause, match, pass_no in rows:
        sums = expected.setdefault(keyer_id, [0, 0, 0, 0, 0, 0, 0])
        sums[0] += 1
        sums[1] += keys
        sums[2] += active
        sums[3] += pause
        sums[4] += match is not None
        sums[5] += match is False
        sums[6] += match is False and pass_no == 1
    assert len(figures) == 3
    for keyer_id, (fields, keys, active, pause, scored, errors, as_keyer) in expected.items():
        k = figures[keyer_id]
        assert (k.figures.fields, k.figures.keystrokes, k.figures.active_ms, k.figures.pause_ms) == (fields, keys, active, pause)
        assert (k.figures.scored, k.figures.errors, k.blamed_as_keyer) == (scored, errors, as_keyer)
        assert k.figures.documents == documents[keyer_id]
        assert 5_000 < (k.figures.kph or 0) < 15_000  # the simulated keyers' speeds
    central.dispose()


@pytest.mark.pg
def test_concurrent_recomputations_of_one_keyer_wait_for_each_other(pg_schema_url: str) -> None:
    central = open_central(pg_schema_url, create=True)
    try:
        batch = seed_batch(central, documents=2, template="rebate", name="R-6")
        k1, k2 = add_user(central, "k1"), add_user(central, "k2")
        nine = dt.datetime(2026, 5, 4, 9, 10, tzinfo=UTC)
        entries = []
        for doc in batch.document_ids:
            entries.append(_entry(central, doc, 1, k1, {"first_name": "ANNA", "city": "X"}, nine, nine))
            entries.append(_entry(central, doc, 2, k2, {"first_name": "ANNA", "city": "X"}, nine, nine))
        first_done, errors = threading.Event(), []

        def recompute(hold: bool) -> None:
            try:
                with central.transaction() as s:
                    rollups.entries_changed(s, entries)
                    if hold:  # keep the locks until the other transaction has had to wait
                        time.sleep(0.5)
                first_done.set()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        first = threading.Thread(target=recompute, args=(True,))
        first.start()
        time.sleep(0.2)
        second = threading.Thread(target=recompute, args=(False,))
        second.start()
        first.join(10)
        second.join(10)
        assert errors == [] and first_done.is_set()
        assert_summaries_exact(central)
        with central.session() as s:
            assert {(e.field, e.scored, e.errors) for e in metrics.errors_by_field(s)} == {("city", 4, 0), ("first_name", 4, 0)}
    finally:
        central.dispose()
