"""Sync proofs against a real PostgreSQL: a push cut off anywhere, two passes pushed at once, and a
database that goes away and comes back.

A push passes boundaries: before each SQL statement, before each COPY, before the COMMIT and
after it. The fault test runs the push again and again, cutting it at the 1st boundary, then the
2nd, and so on, until a run gets through them all; once by raising an exception there and once by
killing the connection's server process (`pg_terminate_backend`), as a crash or a dropped
network would. After every cut-off run the central database must be exactly as it was; at the
end it must hold the unit once, compared against the other pass, with its third-key work.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, func, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.conftest import PG_URL
from tests.pgnet import TcpProxy
from tests.workstation.centralseed import add_user, seed_batch, value_for, write_finished_unit
from workstation import models as m
from workstation import page_problems, sync
from workstation.store import Store, open_central, open_local

pytestmark = pytest.mark.pg

FIELDS = 4  # fields keyed per document
AGREED = 2  # of which pass 2 keys the first two as pass 1 did; the rest disagree


@pytest.fixture
def admin() -> Iterator[Engine]:
    """A connection of our own to the server, to kill other connections' server processes."""
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def snapshot(central: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    present = set(inspect(central.engine).get_table_names())
    with central.transaction() as s:
        return {
            table.name: sorted((tuple(row) for row in s.execute(select(table))), key=repr)
            for table in m.Base.metadata.sorted_tables if table.name in present
        }


def local_rows(local: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with local.transaction() as s:
        entries = sorted(s.execute(select(m.Entry.id, m.Entry.document_id, m.Entry.pass_no, m.Entry.keyer_id)).all())
        values = sorted(s.execute(select(m.FieldValue.id, m.FieldValue.entry_id, m.FieldValue.field_path,
                                         m.FieldValue.value)).all())
    return entries, values


def keyed_paths() -> list[str]:
    from tests.workstation.centralseed import sample_template

    return sample_template("survey").field_paths()[:FIELDS]


def key_pass(central: Store, local: Store, keyer: uuid.UUID, pass_no: int) -> uuid.UUID:
    """Claim, pull and key one pass of the batch on a station; returns the unit id."""
    claim, _ = sync.claim_and_pull(central, local, keyer, pass_no=pass_no)
    write_finished_unit(local, claim.unit_id, fields=FIELDS)
    if pass_no == 2:  # agree with pass 1 on the first fields
        with local.transaction() as s:
            for entry in s.scalars(select(m.Entry).where(m.Entry.unit_id == claim.unit_id)).all():
                for path in keyed_paths()[:AGREED]:
                    s.execute(update(m.FieldValue)
                              .where(m.FieldValue.entry_id == entry.id, m.FieldValue.field_path == path)
                              .values(value=value_for(entry.document_id, 1, path)))
    return claim.unit_id


class Cut:
    """Counts the boundaries pushes to `central` pass and cuts the push at the k-th.

    mode "raise": an exception at the boundary. mode "kill": the connection's server process is
    terminated at the boundary, so what comes next meets a dead connection.
    """

    def __init__(self, central: Store, admin: Engine, k: int, mode: str) -> None:
        self.central, self.admin, self.k, self.mode = central, admin, k, mode
        self.seen = 0
        self.labels: list[str] = []
        self.pid: int | None = None

    def boundary(self, label: str, pid: int | None) -> None:
        self.pid = pid if pid is not None else self.pid
        self.seen += 1
        self.labels.append(label)
        if self.seen != self.k:
            return
        if self.mode == "raise":
            raise RuntimeError(f"cut at boundary {self.k} ({label})")
        with self.admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": self.pid}).scalar()

    @property
    def cut_label(self) -> str:
        return self.labels[self.k - 1] if self.seen >= self.k else ""

    @contextmanager
    def installed(self, monkeypatch: pytest.MonkeyPatch) -> Iterator["Cut"]:
        engine = self.central.engine

        def before_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            self.boundary(f"statement {statement.split()[0]} {statement.split()[1]}", cursor.connection.info.backend_pid)

        def before_commit(conn: Any) -> None:
            self.boundary("COMMIT", conn.connection.dbapi_connection.info.backend_pid)

        def after_commit(session: Session) -> None:
            if session.get_bind() is engine:
                self.boundary("after COMMIT", None)

        real_copy: Callable[..., None] = sync._copy_rows

        def copy_rows(conn: Any, statement: str, *args: Any) -> None:
            self.boundary("COPY", conn.connection.dbapi_connection.info.backend_pid)
            real_copy(conn, statement, *args)

        monkeypatch.setattr(sync, "_copy_rows", copy_rows)
        event.listen(engine, "before_cursor_execute", before_statement)
        event.listen(engine, "commit", before_commit)
        event.listen(Session, "after_commit", after_commit)
        try:
            yield self
        finally:
            event.remove(Session, "after_commit", after_commit)
            event.remove(engine, "commit", before_commit)
            event.remove(engine, "before_cursor_execute", before_statement)
            monkeypatch.setattr(sync, "_copy_rows", real_copy)


def assert_pushed_once(central: Store, expected: tuple[list[Any], list[Any]], unit_id: uuid.UUID) -> None:
    """Central holds both passes exactly once, compared, with one third-key task per document."""
    entries, values = expected
    with central.transaction() as s:
        got_entries = sorted(s.execute(select(m.Entry.id, m.Entry.document_id, m.Entry.pass_no, m.Entry.keyer_id)).all())
        got_values = sorted(s.execute(select(m.FieldValue.id, m.FieldValue.entry_id, m.FieldValue.field_path,
                                             m.FieldValue.value)).all())
        assert got_entries == entries and got_values == values
        assert s.get(m.WorkUnit, unit_id).state == "finished"
        docs = sorted({e[1] for e in entries})
        disputed = keyed_paths()[AGREED:]
        disputes = sorted(s.execute(select(m.Dispute.document_id, m.Dispute.field_path, m.Dispute.stage)).all())
        assert disputes == sorted((d, p, "third_key") for d in docs for p in disputed)
        agreed = sorted(s.execute(select(m.Resolution.document_id, m.Resolution.field_path)
                                  .where(m.Resolution.field_path.in_(keyed_paths()))).all())
        assert agreed == sorted((d, p) for d in docs for p in keyed_paths()[:AGREED])
        third = s.execute(select(m.Task.document_id, m.Task.field_paths).where(m.Task.pass_no == 3)).all()
        assert sorted(third) == sorted((d, disputed) for d in docs)
        assert s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "work.push", m.AuditEvent.subject == str(unit_id))) == 1
        assert set(s.scalars(select(m.Document.state))) == {"resolving"}


@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_push_cut_at_every_boundary_then_retried_lands_exactly_once(
    pg_schema_url: str, tmp_path: Path, admin: Engine, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    central = open_central(pg_schema_url, create=True)
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    seed_batch(central, documents=3, template="survey")
    station_a = open_local(f"sqlite:///{tmp_path / 'a.sqlite'}")
    station_b = open_local(f"sqlite:///{tmp_path / 'b.sqlite'}")
    key_pass(central, station_a, ann, 1)
    assert sync.push_pending(station_a, central).sent == 1
    unit_b = key_pass(central, station_b, bob, 2)
    pass_1 = local_rows(central)  # what the central database holds of pass 1 (station A purged its copy)
    pass_2 = local_rows(station_b)
    expected = (sorted(pass_1[0] + pass_2[0]), sorted(pass_1[1] + pass_2[1]))

    labels: list[str] = []
    committed = False
    k = 0
    while True:
        k += 1
        assert k < 200, "the push never got through"
        before = snapshot(central)
        with Cut(central, admin, k, mode).installed(monkeypatch) as cut:
            report = sync.push_pending(station_b, central)
        if cut.seen < k:  # got through every boundary: the retry that converges
            assert report.sent == 1 and report.pending == 0
            break
        labels.append(cut.cut_label)
        if report.sent == 1:  # killed after the commit: the push had landed, nothing to retry
            assert mode == "kill" and cut.cut_label == "after COMMIT"
            break
        assert (report.sent, report.pending) == (0, 1), cut.cut_label
        if mode == "kill":
            assert report.offline and report.failed == 0, cut.cut_label
        else:
            assert not report.offline and report.failed == 1 and f"cut at boundary {k}" in report.errors[0]
        if cut.cut_label == "after COMMIT":
            # Central committed but the station never heard: the retry must be a harmless replay.
            committed = True
            assert_pushed_once(central, expected, unit_b)
        else:
            assert snapshot(central) == before, f"a push cut at {cut.cut_label} left a trace"

    # Every kind of boundary was cut at least once, and there are many statements.
    assert {"COPY", "COMMIT", "after COMMIT"} <= set(labels)
    assert sum(label.startswith("statement") for label in labels) >= 10
    assert committed == (mode == "raise")
    assert_pushed_once(central, expected, unit_b)
    with station_b.transaction() as s:
        item = s.scalars(select(m.OutboxItem)).one()
        assert item.sent_at is not None and item.attempts == len(labels) + (mode == "raise")
        assert set(s.scalars(select(m.FieldValue.value))) == {""}  # purged once confirmed
    # And the pool recovered from every killed connection.
    assert sync.push_pending(station_b, central) == sync.PushReport(0, 0, 0, ())
    for store in (station_a, station_b, central):
        store.dispose()


@pytest.mark.parametrize("mode", ["raise", "kill"])
def test_a_page_report_push_cut_at_every_boundary_lands_exactly_once(
    pg_schema_url: str, tmp_path: Path, admin: Engine, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """A page problem report (F8) goes through the same boundaries as a unit, made after its unit
    was pushed and purged: cut anywhere, central is as it was; at the end it holds the report once."""
    central = open_central(pg_schema_url, create=True)
    ann = add_user(central, "ann")
    seed_batch(central, documents=2, template="survey")
    station = open_local(f"sqlite:///{tmp_path / 'a.sqlite'}")
    unit = key_pass(central, station, ann, 1)
    assert sync.push_pending(station, central).sent == 1
    with station.transaction() as s:
        doc = s.scalars(select(m.Task.document_id).where(m.Task.unit_id == unit)).first()
    reported = page_problems.report_page(station, ann, unit, doc, 2, detail="missing from the scan")

    labels: list[str] = []
    k = 0
    while True:
        k += 1
        assert k < 60, "the push never got through"
        before = snapshot(central)
        with Cut(central, admin, k, mode).installed(monkeypatch) as cut:
            report = sync.push_pending(station, central)
        if cut.seen < k:
            assert (report.problems, report.pending) == (1, 0)
            break
        labels.append(cut.cut_label)
        if report.problems == 1:  # killed after the commit: it had landed
            assert mode == "kill" and cut.cut_label == "after COMMIT"
            break
        assert report.pending == 1, cut.cut_label
        if cut.cut_label != "after COMMIT":
            assert snapshot(central) == before, f"a report push cut at {cut.cut_label} left a trace"
    assert {"COMMIT", "after COMMIT"} <= set(labels) and sum(label.startswith("statement") for label in labels) >= 3
    with central.transaction() as s:
        rows = s.execute(select(m.PageProblem.id, m.PageProblem.document_id, m.PageProblem.page_no)).all()
        events = s.scalar(select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.action == "page.reported"))
    assert rows == [(reported.problem_id, doc, 2)] and events == 1
    assert sync.push_pending(station, central) == sync.PushReport(0, 0, 0, ())
    station.dispose()
    central.dispose()


def test_both_passes_pushed_at_the_same_moment_are_compared(
    pg_schema_url: str, tmp_path: Path, admin: Engine
) -> None:
    """Pass 1 and pass 2 land in overlapping transactions; the later one must still compare.

    Station A's push is held just before its COMMIT until station B's push either finished or
    is waiting for a lock A holds. Each push sees only committed rows, so without a lock on the
    documents B would see no pass 1, A no pass 2, and nobody would compare.
    """
    central = open_central(pg_schema_url, create=True)
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    seed_batch(central, documents=3, template="survey")
    station_a = open_local(f"sqlite:///{tmp_path / 'a.sqlite'}")
    station_b = open_local(f"sqlite:///{tmp_path / 'b.sqlite'}")
    key_pass(central, station_a, ann, 1)
    key_pass(central, station_b, bob, 2)

    a_at_commit, b_done = threading.Event(), threading.Event()
    b_pid: list[int] = []
    results: dict[str, Any] = {}

    def b_waits_for_a() -> bool:
        with admin.connect() as conn:
            state = conn.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                 {"pid": b_pid[0]}).scalar() if b_pid else None
        return state == "Lock"

    def before_commit(conn: Any) -> None:
        if threading.current_thread().name == "push-a" and not a_at_commit.is_set():
            a_at_commit.set()
            for _ in range(2000):
                if b_done.is_set() or b_waits_for_a():
                    return
                b_done.wait(0.01)
            results["stuck"] = True

    def note_b(conn: Any, cursor: Any, *args: Any) -> None:
        if threading.current_thread().name == "push-b" and not b_pid:
            b_pid.append(cursor.connection.info.backend_pid)

    def push(name: str, station: Store) -> None:
        if name == "b":
            a_at_commit.wait(30)
        try:
            results[name] = sync.push_pending(station, central)
        finally:
            if name == "b":
                b_done.set()

    event.listen(central.engine, "commit", before_commit)
    event.listen(central.engine, "before_cursor_execute", note_b)
    threads = [threading.Thread(target=push, args=(n, st), name=f"push-{n}") for n, st in (("a", station_a), ("b", station_b))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(central.engine, "before_cursor_execute", note_b)
        event.remove(central.engine, "commit", before_commit)
    assert "stuck" not in results
    assert results["a"].sent == 1 and results["b"].sent == 1
    with central.transaction() as s:
        assert set(s.scalars(select(m.Document.state))) == {"resolving"}
        assert s.scalar(select(func.count()).select_from(m.Task).where(m.Task.pass_no == 3)) == 3
        assert s.scalar(select(func.count()).select_from(m.Dispute)) == 3 * (FIELDS - AGREED)
    for store in (station_a, station_b, central):
        store.dispose()


def test_pushes_queued_while_the_database_is_down_are_delivered_once_it_is_back(
    pg_proxy: TcpProxy, tmp_path: Path
) -> None:
    central = open_central(pg_proxy.url, create=True)  # one store, one URL, all along
    ann = add_user(central, "ann")
    seed_batch(central, documents=4, passes=(1,))
    local = open_local(f"sqlite:///{tmp_path / 'station.sqlite'}")
    first, _ = sync.claim_and_pull(central, local, ann, max_documents=2)
    second, _ = sync.claim_and_pull(central, local, ann, max_documents=2)
    write_finished_unit(local, first.unit_id)

    pg_proxy.stop()  # the server goes away: live connections cut, port closed
    write_finished_unit(local, second.unit_id)  # keying went on meanwhile, locally
    for attempt in (1, 2):
        report = sync.push_pending(local, central)
        assert (report.sent, report.failed, report.pending, report.offline) == (0, 0, 2, True)
        assert not report.login_refused
        with local.transaction() as s:
            oldest = s.scalars(select(m.OutboxItem).order_by(m.OutboxItem.created_at)).first()
        assert oldest is not None and oldest.sent_at is None and oldest.attempts == attempt
    assert _images(local) == 4  # nothing purged while unsent

    pg_proxy.start()  # back on the same port
    report = sync.push_pending(local, central)
    assert (report.sent, report.pending, report.offline, report.documents) == (2, 0, False, 4)
    with central.transaction() as s:
        entries = s.scalars(select(m.Entry.document_id)).all()
        units = set(s.scalars(select(m.WorkUnit.state)))
    assert sorted(entries) == sorted(first.document_ids + second.document_ids)
    assert units == {"finished"}
    assert _images(local) == 0
    local.dispose()
    central.dispose()


def _images(local: Store) -> int:
    with local.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(m.Image)) or 0)
