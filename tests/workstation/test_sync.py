"""Sync between a station's local store and the central database.

Pull copies what a unit needs and never another pass's values; push applies a finished unit in
one central transaction, idempotently, survives a failure at any statement and waits offline.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from tests.pgnet import PasswordRefusingServer
from tests.workstation.centralseed import add_user, png_bytes, seed_batch, value_for, write_finished_unit
from tests.workstation.faults import push_cut_at
from workstation import models as m
from workstation import page_problems, sync, work
from workstation.errors import KnownError
from workstation.paths import Workspace
from workstation.settings import load_settings, save_settings
from workstation.store import Store, open_local


@pytest.fixture
def station_b(tmp_path: Path) -> Iterator[Store]:
    """A second station's local store."""
    store = open_local(f"sqlite:///{tmp_path / 'station-b.sqlite'}")
    yield store
    store.dispose()


def _count(store: Store, model: type[m.Base], *where: object) -> int:
    with store.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _central_rows(central: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with central.transaction() as s:
        entries = sorted(s.execute(select(m.Entry.id, m.Entry.document_id, m.Entry.pass_no, m.Entry.keyer_id)).all())
        values = sorted(s.execute(select(m.FieldValue.id, m.FieldValue.entry_id, m.FieldValue.field_path,
                                         m.FieldValue.value)).all())
    return entries, values


def _local_values(local: Store, unit_id: uuid.UUID) -> list[tuple[object, ...]]:
    with local.transaction() as s:
        return sorted(s.execute(
            select(m.FieldValue.id, m.FieldValue.entry_id, m.FieldValue.field_path, m.FieldValue.value)
            .join(m.Entry, m.Entry.id == m.FieldValue.entry_id).where(m.Entry.unit_id == unit_id)
        ).all())


def test_pull_copies_what_the_unit_needs_and_only_missing_images(central: Store, local: Store) -> None:
    ann = add_user(central, "ann")
    # Documents 1 and 3 share their page image, as do 2 and 4.
    batch = seed_batch(central, documents=4, passes=(1,), image_for=lambda doc, page: png_bytes(1000 + doc % 2))
    seed_batch(central, documents=2)  # another batch the station never sees

    first, report = sync.claim_and_pull(central, local, ann, max_documents=2)
    assert report == sync.PullReport(first.unit_id, documents=2, pages=2, images_copied=2, images_present=0)
    with local.transaction() as s:
        assert s.get(m.User, ann).username == "ann"
        assert s.get(m.WorkUnit, first.unit_id).state == "active"
        assert {t.document_id for t in s.scalars(select(m.Task))} == set(first.document_ids)
        assert {d.id for d in s.scalars(select(m.Document))} == set(first.document_ids)
        assert s.scalar(select(func.count()).select_from(m.Batch)) == 1
        assert s.scalar(select(func.count()).select_from(m.Template)) == 1
    # Pulling again is harmless and copies nothing.
    assert sync.pull(central, local, first.unit_id).images_copied == 0

    second, report = sync.claim_and_pull(central, local, ann, max_documents=2)
    assert set(second.document_ids).isdisjoint(first.document_ids)
    assert (report.documents, report.images_copied, report.images_present) == (2, 0, 2)
    assert _count(local, m.Image) == 2
    assert _count(local, m.Document) == 4 and batch.document_ids


def test_a_pull_never_carries_another_passes_values(central: Store, local: Store, station_b: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    batch = seed_batch(central, documents=3)
    first, _ = sync.claim_and_pull(central, local, ann, pass_no=1)
    write_finished_unit(local, first.unit_id)
    assert sync.push_pending(local, central).sent == 1
    assert _count(central, m.FieldValue) > 0  # pass 1 is in the central database now

    second, report = sync.claim_and_pull(central, station_b, bob, pass_no=2)
    assert set(second.document_ids) == set(batch.document_ids) and report.documents == 3
    for model in (m.Entry, m.FieldValue, m.Resolution, m.Dispute, m.Hold):
        assert _count(station_b, model) == 0, model.__tablename__
    assert _count(station_b, m.Task, m.Task.pass_no != 2) == 0
    assert _count(station_b, m.User) == 1  # only bob, not who keyed pass 1
    station_b.dispose()
    # Not a byte of a pass-1 value anywhere in station B's files.
    marker = value_for(batch.document_ids[0], 1, "last_name").encode()
    assert marker[:3] == b"V1-"
    files = list(Path(station_b.url.removeprefix("sqlite:///")).parent.glob("station-b.sqlite*"))
    assert files
    for path in files:
        assert b"V1-" not in path.read_bytes(), path


def test_a_third_keyer_gets_the_fields_to_key_and_neither_earlier_value(
    central: Store, local: Store, station_b: Store, tmp_path: Path
) -> None:
    ann, bob, cy = add_user(central, "ann"), add_user(central, "bob"), add_user(central, "cy")
    batch = seed_batch(central, documents=1)
    doc = batch.document_ids[0]
    third_station = open_local(f"sqlite:///{tmp_path / 'station-c.sqlite'}")
    for keyer, station, pass_no in ((ann, local, 1), (bob, station_b, 2)):
        unit, _ = sync.claim_and_pull(central, station, keyer, pass_no=pass_no)
        write_finished_unit(station, unit.unit_id)
        assert sync.push_pending(station, central).sent == 1
    with central.transaction() as s:
        if s.scalar(select(func.count()).select_from(m.Task).where(m.Task.pass_no == 3)) == 0:
            s.add(m.Task(batch_id=batch.batch_id, document_id=doc, pass_no=3, field_paths=["last_name", "city"]))

    third, _ = sync.claim_and_pull(central, third_station, cy)
    assert third.pass_no == 3
    with third_station.transaction() as s:
        task = s.scalars(select(m.Task)).one()
        assert task.pass_no == 3 and task.field_paths
        assert s.scalar(select(func.count()).select_from(m.FieldValue)) == 0
        assert s.scalar(select(func.count()).select_from(m.Entry)) == 0
    third_station.dispose()
    for path in tmp_path.glob("station-c.sqlite*"):
        data = path.read_bytes()
        assert b"V1-" not in data and b"V2-" not in data


def test_push_applies_the_entries_and_values_and_purges_the_station(central: Store, local: Store) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=3)
    unit, _ = sync.claim_and_pull(central, local, ann, pass_no=1)
    write_finished_unit(local, unit.unit_id)
    keyed = _local_values(local, unit.unit_id)
    assert sync.pending_count(local) == 1

    ticks: list[tuple[int, int]] = []
    report = sync.push_pending(local, central, progress=lambda done, total, label: ticks.append((done, total)))
    assert report == sync.PushReport(sent=1, failed=0, pending=0, errors=(), documents=3)
    assert ticks[0] == (0, 1) and ticks[-1] == (1, 1)
    entries, values = _central_rows(central)
    assert values == keyed and len(entries) == 3
    with central.transaction() as s:
        assert s.get(m.WorkUnit, unit.unit_id).state == "finished"
        assert {(t.state, t.keyer_id) for t in s.scalars(select(m.Task).where(m.Task.pass_no == 1))} == {("done", ann)}
    # The station keeps no keyed text and no images of that unit.
    assert {v for *_, v in _local_values(local, unit.unit_id)} == {""}
    assert _count(local, m.Image) == 0 and _count(local, m.Page) == 0
    with local.transaction() as s:
        item = s.scalars(select(m.OutboxItem)).one()
        assert item.sent_at is not None and item.attempts == 1 and item.last_error == ""


def test_a_replayed_push_changes_nothing(central: Store, local: Store) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=2)
    unit, _ = sync.claim_and_pull(central, local, ann)
    write_finished_unit(local, unit.unit_id)
    payload = sync.build_payload(local, unit.unit_id)
    assert sync.push_pending(local, central, purge=False).sent == 1
    before = _central_rows(central)

    with local.transaction() as s:
        s.execute(update(m.OutboxItem).values(sent_at=None))
    assert sync.push_pending(local, central).sent == 1
    with work.write_transaction(central) as s:
        again = sync.apply_unit(s, payload)
    assert again.already_applied
    assert _central_rows(central) == before


def test_a_partly_keyed_unit_gives_the_rest_back(central: Store, local: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    seed_batch(central, documents=4, passes=(1,))
    unit, _ = sync.claim_and_pull(central, local, ann)
    keyed = unit.document_ids[:1]
    write_finished_unit(local, unit.unit_id, documents=keyed)
    assert sync.push_pending(local, central).sent == 1
    with central.transaction() as s:
        states = {t.document_id: t.state for t in s.scalars(select(m.Task))}
    assert [states[d] for d in unit.document_ids] == ["done", "open", "open", "open"]
    rest = work.claim(central, bob)
    assert set(rest.document_ids) == set(unit.document_ids[1:])


def test_a_late_push_counts_unless_someone_else_took_the_documents(central: Store, local: Store) -> None:
    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    seed_batch(central, documents=2, passes=(1,))
    unit, _ = sync.claim_and_pull(central, local, ann, lease=dt.timedelta(minutes=1))
    write_finished_unit(local, unit.unit_id)
    later = m.utcnow() + dt.timedelta(minutes=2)
    assert work.expire_leases(central, now=later) == 1
    taken = work.claim(central, bob, max_documents=1, now=later)  # bob takes one of them meanwhile

    report = sync.push_pending(local, central)
    assert report.sent == 1
    with central.transaction() as s:
        tasks = {t.document_id: t for t in s.scalars(select(m.Task))}
        entries = {e.document_id: e.keyer_id for e in s.scalars(select(m.Entry))}
    (kept,) = set(unit.document_ids) - set(taken.document_ids)
    assert (tasks[kept].state, tasks[kept].keyer_id, tasks[kept].unit_id) == ("done", ann, unit.unit_id)
    assert entries == {kept: ann}
    assert (tasks[taken.document_ids[0]].state, tasks[taken.document_ids[0]].keyer_id) == ("claimed", bob)


def test_a_failure_at_any_statement_leaves_central_as_it_was(central: Store, local: Store) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=3)
    unit, _ = sync.claim_and_pull(central, local, ann, pass_no=1)
    write_finished_unit(local, unit.unit_id, fields=5)
    expected_values = _local_values(local, unit.unit_id)
    with central.transaction() as s:
        tasks_before = sorted(s.execute(select(m.Task.id, m.Task.state, m.Task.unit_id)).all())

    k = 0
    while True:
        k += 1
        report, cut = push_cut_at(local, central, k)
        if not cut:  # the push ran through without reaching statement k
            break
        assert report.sent == 0 and report.failed == 1 and report.pending == 1
        assert f"injected failure at statement {k}" in report.errors[0]
        # Nothing of the unit reached the central database.
        assert _central_rows(central) == ([], [])
        with central.transaction() as s:
            assert sorted(s.execute(select(m.Task.id, m.Task.state, m.Task.unit_id)).all()) == tasks_before
            assert s.get(m.WorkUnit, unit.unit_id).state == "active"
        assert k < 100, "the push never finished"

    assert report.sent == 1 and k > 5
    entries, values = _central_rows(central)
    assert len(entries) == 3 and values == expected_values
    with local.transaction() as s:
        assert s.scalars(select(m.OutboxItem)).one().attempts == k
    with central.transaction() as s:
        assert s.get(m.WorkUnit, unit.unit_id).state == "finished"


@pytest.mark.parametrize("unreachable", ["postgresql+psycopg://localhost:1/x", "sqlite:///{tmp}/missing/dir/c.sqlite"])
def test_offline_push_waits_and_delivers_later(central: Store, local: Store, tmp_path: Path, unreachable: str) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=2)
    unit, _ = sync.claim_and_pull(central, local, ann)
    write_finished_unit(local, unit.unit_id)

    offline = Store(unreachable.format(tmp=tmp_path), connect_args={"connect_timeout": 2}
                    if unreachable.startswith("postgresql") else {})
    for attempt in (1, 2):
        report = sync.push_pending(local, offline)
        assert (report.sent, report.failed, report.pending, report.offline) == (0, 0, 1, True)
        with local.transaction() as s:
            item = s.scalars(select(m.OutboxItem)).one()
        assert item.sent_at is None and item.attempts == attempt and item.last_error
    offline.dispose()
    assert _count(local, m.Image) == 2  # nothing purged while unsent

    report = sync.push_pending(local, central)
    assert (report.sent, report.pending, report.offline) == (1, 0, False)
    assert len(_central_rows(central)[0]) == 2


def test_a_station_resumes_its_own_unfinished_keying_when_it_gets_the_document_back(
    central: Store, local: Store
) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=1, passes=(1,))
    first, _ = sync.claim_and_pull(central, local, ann, lease=dt.timedelta(minutes=1))
    entry_ids = write_finished_unit(local, first.unit_id, outbox=False)  # keyed, never finished
    with local.transaction() as s:
        s.execute(update(m.Entry).values(finished_at=None))
    work.expire_leases(central, now=m.utcnow() + dt.timedelta(minutes=2))

    again, _ = sync.claim_and_pull(central, local, ann)
    with local.transaction() as s:
        entry = s.get(m.Entry, entry_ids[0])
        assert entry.unit_id == again.unit_id


def test_retry_delay_doubles_up_to_a_cap() -> None:
    delays = [sync.next_retry_delay(n) for n in range(0, 12)]
    assert delays[:4] == [0.0, sync.RETRY_BASE_S, 2 * sync.RETRY_BASE_S, 4 * sync.RETRY_BASE_S]
    assert delays == sorted(delays)
    assert delays[-1] == sync.RETRY_CAP_S
    assert sync.next_retry_delay(10_000) == sync.RETRY_CAP_S


def test_the_sync_command_sends_waiting_work_and_says_so_when_offline(
    central: Store, local: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from workstation.cli import main

    assert main(["--central", central.url, "sync"]) == 0
    assert "nothing to send" in capsys.readouterr().out

    ann = add_user(central, "ann")
    seed_batch(central, documents=2)
    unit, _ = sync.claim_and_pull(central, local, ann)
    write_finished_unit(local, unit.unit_id)

    assert main(["--central", "postgresql+psycopg://localhost:1/x", "sync"]) == 3
    captured = capsys.readouterr()
    assert "offline: 1 finished unit(s) wait to be sent" in captured.err and "Traceback" not in captured.err
    assert sync.pending_count(local) == 1

    assert main(["--central", central.url, "sync"]) == 0
    captured = capsys.readouterr()
    assert "sent 1 finished unit(s), 2 document(s), to" in captured.out and "nothing left to send" in captured.out
    assert "sending: 1/1 (100%)" in captured.err  # the progress bar (plain lines off a terminal)
    assert sync.pending_count(local) == 0
    assert len(_central_rows(central)[0]) == 2
    assert _count(local, m.Image) == 0  # purged after the confirmed push


def test_the_sync_command_names_what_waits_units_and_page_problem_reports(
    central: Store, local: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from workstation.cli import main

    offline = "postgresql+psycopg://localhost:1/x"
    ann = add_user(central, "ann")
    seed_batch(central, documents=2, passes=(1,))
    claim, _ = sync.claim_and_pull(central, local, ann, pass_no=1)
    page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    assert main(["--central", offline, "sync"]) == 3
    err = capsys.readouterr().err
    assert "offline: 1 page problem report(s) wait to be sent;" in err and "unit" not in err.splitlines()[0]

    write_finished_unit(local, claim.unit_id)
    assert main(["--central", offline, "sync"]) == 3
    assert "offline: 1 finished unit(s) and 1 page problem report(s) wait to be sent;" in capsys.readouterr().err

    def refuse(s: object, payload: object) -> bool:
        raise KnownError("refused this once")

    real_apply = page_problems.apply_problem
    monkeypatch.setattr(page_problems, "apply_problem", refuse)
    assert main(["--central", central.url, "sync"]) == 2
    captured = capsys.readouterr()
    assert "sent 1 finished unit(s)" in captured.out
    assert "error: refused this once" in captured.err
    assert "waiting in the outbox: 1 page problem report(s);" in captured.err and "Traceback" not in captured.err

    monkeypatch.setattr(page_problems, "apply_problem", real_apply)
    assert main(["--central", central.url, "sync"]) == 0
    out = capsys.readouterr().out
    assert "sent 1 page problem report(s) to the supervisors" in out and "nothing left to send" in out
    assert main(["--central", central.url, "sync"]) == 0
    assert "nothing to send: every finished unit and page problem report is in the central database" in (
        capsys.readouterr().out)


def test_the_sync_command_keeps_the_local_copy_when_the_settings_say_so(
    central: Store, local: Store, ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from workstation.cli import main
    save_settings(ws, replace(load_settings(ws), purge_after_push=False))
    ann = add_user(central, "ann")
    seed_batch(central, documents=2)
    unit, _ = sync.claim_and_pull(central, local, ann)
    write_finished_unit(local, unit.unit_id)
    keyed = _local_values(local, unit.unit_id)
    assert main(["--central", central.url, "sync"]) == 0
    assert "their keyed text and images stay on this station" in capsys.readouterr().out
    assert _local_values(local, unit.unit_id) == keyed and _count(local, m.Image) == 2


def test_the_work_command_lists_and_claims_for_a_user(
    central: Store, local: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from workstation.cli import main

    add_user(central, "ann")
    seed_batch(central, documents=3, name="march")
    assert main(["--central", central.url, "work", "list", "--user", "ann"]) == 0
    out = capsys.readouterr().out
    assert "march\tpass 1\t3 document(s)" in out and "march\tpass 2\t3 document(s)" in out

    assert main(["--central", central.url, "work", "claim", "--user", "ann", "--batch", "march",
                 "--pass", "2", "--max", "2"]) == 0
    assert "pass 2, 2 document(s)" in capsys.readouterr().out
    assert _count(local, m.Task, m.Task.pass_no == 2) == 2
    assert main(["--central", central.url, "work", "claim", "--user", "nobody"]) == 2
    assert "There is no user named 'nobody'" in capsys.readouterr().err


def test_a_push_whose_sent_mark_fails_locally_is_replayed_exactly_once(central: Store, local: Store) -> None:
    """The central commit happened but this station could not note it: the next round is a replay."""
    ann = add_user(central, "ann")
    seed_batch(central, documents=2)
    unit, _ = sync.claim_and_pull(central, local, ann)
    write_finished_unit(local, unit.unit_id)
    keyed = _local_values(local, unit.unit_id)

    def fail_marking_sent(conn: object, cursor: object, statement: str, params: object, *args: object) -> None:
        if statement.startswith("UPDATE outbox") and "sent_at" in statement:
            raise OSError("disk I/O error")

    event.listen(local.engine, "before_cursor_execute", fail_marking_sent)
    try:
        report = sync.push_pending(local, central)
    finally:
        event.remove(local.engine, "before_cursor_execute", fail_marking_sent)
    assert (report.sent, report.failed, report.pending) == (0, 1, 1)
    assert "could not note unit" in report.errors[0]
    assert _central_rows(central)[1] == keyed  # it did land centrally
    assert _local_values(local, unit.unit_id) == keyed  # and nothing was purged, as it is not marked sent

    again = sync.push_pending(local, central)
    assert (again.sent, again.pending, again.documents) == (1, 0, 0)  # a replay: nothing new counted
    assert _central_rows(central)[1] == keyed
    with central.transaction() as s:
        pushes = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "work.push")).all()
    assert len(pushes) == 1
    assert {v for *_, v in _local_values(local, unit.unit_id)} == {""}


def test_purge_keeps_images_an_active_unit_still_needs(central: Store, local: Store) -> None:
    ann = add_user(central, "ann")
    # Documents 1 and 3 share their page image, as do 2 and 4.
    seed_batch(central, documents=4, passes=(1,), image_for=lambda doc, page: png_bytes(2000 + doc % 2))
    first, _ = sync.claim_and_pull(central, local, ann, max_documents=2)
    second, _ = sync.claim_and_pull(central, local, ann, max_documents=2)
    write_finished_unit(local, first.unit_id)
    assert sync.push_pending(local, central).sent == 1
    # The second unit is still being keyed: its pages and the shared images stay.
    assert _count(local, m.Image) == 2
    assert _count(local, m.Page) == 2
    with local.transaction() as s:
        assert set(s.scalars(select(m.Page.document_id))) == set(second.document_ids)
    write_finished_unit(local, second.unit_id)
    assert sync.push_pending(local, central).sent == 1
    assert _count(local, m.Image) == 0 and _count(local, m.Page) == 0


def test_a_policy_that_keeps_the_local_copy_keeps_it(central: Store, local: Store) -> None:
    ann = add_user(central, "ann")
    seed_batch(central, documents=2)
    unit, _ = sync.claim_and_pull(central, local, ann)
    write_finished_unit(local, unit.unit_id)
    keyed = _local_values(local, unit.unit_id)
    assert sync.push_pending(local, central, purge=False).sent == 1
    assert _local_values(local, unit.unit_id) == keyed
    assert _count(local, m.Image) == 2


def test_a_refused_login_is_named_and_the_work_waits(
    tmp_path: Path, local: Store, refusing_server: PasswordRefusingServer
) -> None:
    central = Store(f"sqlite:///{tmp_path / 'central.sqlite'}")
    central.create_schema()
    ann = add_user(central, "ann")
    seed_batch(central, documents=1)
    unit, _ = sync.claim_and_pull(central, local, ann)
    write_finished_unit(local, unit.unit_id)

    wrong = Store(f"postgresql+psycopg://keyer:not-it@127.0.0.1:{refusing_server.port}/keying")
    report = sync.push_pending(local, wrong)
    wrong.dispose()
    assert (report.sent, report.pending, report.offline, report.login_refused) == (0, 1, True, True)
    assert report.errors[0].startswith(
        f"The central database refused the user name or password for keyer@127.0.0.1:{refusing_server.port}/keying.")
    assert "not-it" not in report.errors[0]
    assert refusing_server.passwords == ["not-it"]
    with local.transaction() as s:
        item = s.scalars(select(m.OutboxItem)).one()
    assert item.sent_at is None and "refused the user name or password" in item.last_error
    assert sync.push_pending(local, central).sent == 1
    central.dispose()


def test_a_pull_for_someone_elses_unit_is_refused(central: Store, local: Store) -> None:
    from workstation.auth import Actor
    from workstation.errors import PermissionDenied

    ann, bob = add_user(central, "ann"), add_user(central, "bob")
    seed_batch(central, documents=1)
    claimed = work.claim(central, ann)
    with pytest.raises(PermissionDenied, match="claimed by someone else, not bob"):
        sync.pull(central, local, claimed, by=Actor(bob, "bob", "keyer"))
    assert _count(local, m.Image) == 0 and _count(local, m.Document) == 0
    assert sync.pull(central, local, claimed, by=Actor(ann, "ann", "keyer")).documents == 1
