"""Page problem reports (F8): recorded on the station, pushed exactly once, read and closed by supervisors.

Run on the embedded SQLite central database and on PostgreSQL (the `central` fixture).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from tests.workstation.centralseed import add_user, seed_batch, write_finished_unit
from tests.workstation.faults import cut_at, push_cut_at
from workstation import audit, auth, metrics, migrate, page_problems, sync, work
from workstation import models as m
from workstation.auth import Actor
from workstation.errors import KnownError, NotFound, PermissionDenied
from workstation.migrate import current_revision, head_revision, upgrade_central
from workstation.store import Store, open_central, open_local

SUPERVISOR = Actor(uuid.uuid4(), "sue", "supervisor")


def _count(store: Store, model: type[m.Base], *where: object) -> int:
    with store.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _central_problems(central: Store) -> list[tuple[object, ...]]:
    with central.transaction() as s:
        return sorted(s.execute(select(m.PageProblem.id, m.PageProblem.document_id, m.PageProblem.page_no,
                                       m.PageProblem.image_sha256, m.PageProblem.reason, m.PageProblem.detail,
                                       m.PageProblem.keyer_id)).all(), key=repr)


def _first_page(local: Store, document_id: uuid.UUID) -> str:
    with local.transaction() as s:
        return s.scalars(select(m.Page.image_sha256).where(m.Page.document_id == document_id, m.Page.page_no == 1)).one()


def _claimed(central: Store, local: Store, username: str = "ann", documents: int = 2) -> tuple[uuid.UUID, work.Claim]:
    keyer = add_user(central, username)
    seed_batch(central, documents=documents, passes=(1,), name=f"B-{username}")
    claim, _ = sync.claim_and_pull(central, local, keyer, pass_no=1)
    return keyer, claim


def test_a_report_is_stored_locally_with_its_outbox_item_and_a_second_f8_adds_nothing(
        central: Store, local: Store) -> None:
    ann, claim = _claimed(central, local)
    doc = claim.document_ids[0]
    sha = _first_page(local, doc)
    first = page_problems.report_page(local, ann, claim.unit_id, doc, 1, image_sha256=sha,
                                      detail="The page image could not be decoded.")
    assert first.new and first.reason == page_problems.UNREADABLE  # the image is here, yet unreadable
    again = page_problems.report_page(local, ann, claim.unit_id, doc, 1, image_sha256=sha)
    assert again == page_problems.Reported(first.problem_id, first.reason, new=False)
    with local.transaction() as s:
        row = s.get(m.PageProblem, first.problem_id)
        assert (row.document_id, row.page_no, row.image_sha256, row.keyer_id, row.unit_id) == (
            doc, 1, sha, ann, claim.unit_id)
        assert row.detail == "The page image could not be decoded."
        items = s.execute(select(m.OutboxItem.kind, m.OutboxItem.unit_id, m.OutboxItem.payload)).all()
    assert items == [(page_problems.PAGE_PROBLEM, None, {"problem_id": str(first.problem_id)})]
    assert sync.pending_count(local) == 1
    # A document without images, and an image the station does not have, are reported missing.
    no_images = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[1], 1)
    gone = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[1], 2, image_sha256="f" * 64)
    assert no_images.reason == gone.reason == page_problems.MISSING
    assert page_problems.reported_pages(local, ann, claim.document_ids) == {
        (doc, 1), (claim.document_ids[1], 1), (claim.document_ids[1], 2)}


def test_only_the_keyer_holding_the_unit_reports_and_only_its_documents(central: Store, local: Store) -> None:
    ann, claim = _claimed(central, local)
    bob, other = _claimed(central, local, "bob")
    with pytest.raises(PermissionDenied):
        page_problems.report_page(local, bob, claim.unit_id, claim.document_ids[0], 1)
    with pytest.raises(NotFound, match="not part of this work unit"):
        page_problems.report_page(local, ann, claim.unit_id, other.document_ids[0], 1)
    with local.transaction() as s:
        s.execute(update(m.User).where(m.User.id == ann).values(role="supervisor"))
    with pytest.raises(PermissionDenied):
        page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    with pytest.raises(KnownError, match="not a reason"):
        page_problems.report_page(local, bob, other.unit_id, other.document_ids[0], 1, reason="smudged")
    assert _count(local, m.PageProblem) == 0 and sync.pending_count(local) == 0


def test_a_report_is_pushed_exactly_once_and_a_replay_changes_nothing(central: Store, local: Store) -> None:
    ann, claim = _claimed(central, local)
    doc = claim.document_ids[0]
    reported = page_problems.report_page(local, ann, claim.unit_id, doc, 1, image_sha256=_first_page(local, doc))
    payload = page_problems.build_payload(local, reported.problem_id)
    images = _count(local, m.Image)

    report = sync.push_pending(local, central)
    assert (report.sent, report.problems, report.failed, report.pending) == (0, 1, 0, 0)
    expected = _central_problems(central)
    assert [(r[0], r[1], r[4], r[6]) for r in expected] == [(reported.problem_id, doc, "unreadable", ann)]
    # The unit is still being keyed: a report's push purges nothing and finishes nothing.
    assert images == 2 and _count(local, m.Image) == images and _count(local, m.WorkUnit, m.WorkUnit.state == "active") == 1

    with local.transaction() as s:
        s.execute(update(m.OutboxItem).values(sent_at=None))
    again = sync.push_pending(local, central)
    assert (again.problems, again.pending) == (1, 0)
    with work.write_transaction(central) as s:
        assert page_problems.apply_problem(s, payload) is False
    assert _central_problems(central) == expected
    assert _count(central, m.AuditEvent, m.AuditEvent.action == "page.reported") == 1

    (row,) = page_problems.page_problems(central, SUPERVISOR)
    assert (row.id, row.batch, row.document, row.page_no, row.reason_text, row.keyer, row.open) == (
        reported.problem_id, "B-ann", "scan_0001.png", 1, "unreadable", "Ann", True)


def test_a_report_made_after_its_unit_was_pushed_still_arrives(central: Store, local: Store) -> None:
    ann, claim = _claimed(central, local)
    write_finished_unit(local, claim.unit_id)
    assert sync.push_pending(local, central).sent == 1  # pushed and purged
    assert _count(local, m.Page) == 0

    reported = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[1], 2)
    report = sync.push_pending(local, central)
    assert (report.sent, report.problems, report.pending) == (0, 1, 0)
    assert [r[0] for r in _central_problems(central)] == [reported.problem_id]


def test_the_purge_after_a_units_push_keeps_an_unsent_report(
        central: Store, local: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    ann, claim = _claimed(central, local)
    doc = claim.document_ids[0]
    sha = _first_page(local, doc)
    page_problems.report_page(local, ann, claim.unit_id, doc, 1, image_sha256=sha, detail="torn")
    write_finished_unit(local, claim.unit_id)
    real_apply = page_problems.apply_problem

    def refuse(s: object, payload: object) -> bool:
        raise KnownError("refused this once")

    monkeypatch.setattr(page_problems, "apply_problem", refuse)
    report = sync.push_pending(local, central)
    assert (report.sent, report.problems, report.failed, report.pending) == (1, 0, 1, 1)
    assert _count(local, m.Image) == 0  # the unit was purged, images and all
    monkeypatch.setattr(page_problems, "apply_problem", real_apply)

    report = sync.push_pending(local, central)
    assert (report.problems, report.pending) == (1, 0)
    ((_, got_doc, page, got_sha, reason, detail, keyer),) = _central_problems(central)
    assert (got_doc, page, got_sha, reason, detail, keyer) == (doc, 1, sha, "unreadable", "torn", ann)


def test_a_report_push_cut_at_any_statement_leaves_central_as_it_was(central: Store, local: Store) -> None:
    ann, claim = _claimed(central, local)
    page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    events_before = _count(central, m.AuditEvent)
    k = 0
    while True:
        k += 1
        report, cut = push_cut_at(local, central, k)
        if not cut:  # the push ran through without reaching statement k
            break
        assert (report.problems, report.pending) == (0, 1), k
        assert _central_problems(central) == [] and _count(central, m.AuditEvent) == events_before, k
        assert k < 60, "the push never finished"
    assert report.problems == 1 and k > 3
    assert len(_central_problems(central)) == 1 and _count(central, m.AuditEvent) == events_before + 1


def test_the_central_side_refuses_a_report_about_a_document_the_keyer_never_had(
        central: Store, local: Store) -> None:
    ann, claim = _claimed(central, local)
    bob = add_user(central, "bob")
    reported = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    payload = page_problems.build_payload(local, reported.problem_id)
    forged = {**payload, "problem": {**payload["problem"], "keyer_id": bob}}
    with pytest.raises(KnownError, match="never given"), work.write_transaction(central) as s:
        page_problems.apply_problem(s, forged)
    assert _central_problems(central) == []


def test_open_reports_are_those_whose_document_is_not_final(central: Store, local: Store) -> None:
    ann, claim = _claimed(central, local)
    first = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    second = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[1], 1)
    assert sync.push_pending(local, central).problems == 2
    with central.transaction() as s:
        s.execute(update(m.Document).where(m.Document.id == claim.document_ids[0]).values(state="final"))
    assert [r.id for r in page_problems.page_problems(central, SUPERVISOR)] == [second.problem_id]
    every = page_problems.page_problems(central, SUPERVISOR, open_only=False)
    assert {(r.id, r.open) for r in every} == {(first.problem_id, False), (second.problem_id, True)}
    with pytest.raises(PermissionDenied):
        page_problems.page_problems(central, Actor(ann, "ann", "keyer"))


def test_a_local_store_from_before_page_problems_opens_and_takes_reports(tmp_path: Path) -> None:
    """The local store is made from the models: opening an older one adds the new table."""
    url = f"sqlite:///{tmp_path / 'old-local.sqlite'}"
    old = Store(url)
    m.Base.metadata.create_all(old.engine, tables=[t for t in m.Base.metadata.sorted_tables
                                                   if t.name != "page_problems"])
    old.dispose()
    central = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    local = open_local(url)
    ann, claim = _claimed(central, local)
    page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    assert sync.push_pending(local, central).problems == 1
    local.dispose()
    central.dispose()


def test_reports_wait_for_a_central_database_that_was_not_upgraded(tmp_path: Path) -> None:
    """A central database made before page problems takes the units and keeps the reports waiting."""
    central = Store(f"sqlite:///{tmp_path / 'central.sqlite'}")
    upgrade_central(central, "0001")
    local = open_local(f"sqlite:///{tmp_path / 'local.sqlite'}")
    ann, claim = _claimed(central, local)
    page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[1], 1)
    write_finished_unit(local, claim.unit_id)
    report = sync.push_pending(local, central)
    assert (report.sent, report.problems, report.failed, report.pending, report.offline) == (1, 0, 2, 2, False)
    assert "workstation central upgrade" in report.errors[0]
    upgrade_central(central)
    assert sync.push_pending(local, central).problems == 2
    local.dispose()
    central.dispose()


# --- closing a report ---------------------------------------------------------------------------


def _pushed(central: Store, local: Store, pages: int = 2) -> tuple[uuid.UUID, work.Claim, list[uuid.UUID]]:
    """ann reports page 1 of each of `pages` documents and the reports reach the central database."""
    ann, claim = _claimed(central, local, documents=pages)
    reported = [page_problems.report_page(local, ann, claim.unit_id, doc, 1).problem_id for doc in claim.document_ids]
    assert sync.push_pending(local, central).problems == pages
    return ann, claim, reported


def _staff(central: Store, username: str, role: str) -> Actor:
    return Actor(add_user(central, username, role), username, role, username.title())


def _closes(central: Store) -> list[tuple[object, ...]]:
    with central.transaction() as s:
        return s.execute(select(m.AuditEvent.username, m.AuditEvent.subject, m.AuditEvent.details)
                         .where(m.AuditEvent.action == "page.report_closed")).all()


def test_a_supervisor_closes_a_report_with_a_note_and_it_leaves_the_open_list(central: Store, local: Store) -> None:
    _ann, claim, (first, second) = _pushed(central, local)
    sue = _staff(central, "sue", "supervisor")
    row = page_problems.close_problem(central, sue, first, "  paper\n pulled ")
    assert (row.id, row.open, row.closed_by, row.close_note) == (first, False, "Sue", "paper pulled")
    assert row.closed_at is not None and row.closed_at >= row.reported_at

    assert [r.id for r in page_problems.page_problems(central, sue)] == [second]
    history = {r.id: r for r in page_problems.page_problems(central, sue, open_only=False)}
    assert (history[first].closed_by, history[first].close_note, history[first].open) == ("Sue", "paper pulled", False)
    assert (history[second].closed_at, history[second].closed_by, history[second].open) == (None, "", True)
    with central.transaction() as s:
        stored = s.get(m.PageProblem, first)
        assert (stored.closed_by, stored.close_note) == (sue.id, "paper pulled")
        assert audit.verify(s).ok
    assert _closes(central) == [("sue", str(claim.document_ids[0]),
                                 {"problem": str(first), "page": 1, "reason": "missing", "note": "paper pulled"})]

    # A replay of the report's push (the station never heard it arrived) leaves it closed.
    with local.transaction() as s:
        s.execute(update(m.OutboxItem).values(sent_at=None))
    assert sync.push_pending(local, central).problems == 2
    assert [r.id for r in page_problems.page_problems(central, sue)] == [second]
    # QA leads and admins close reports too.
    page_problems.close_problem(central, _staff(central, "lee", "qa"), second, "rescanned")
    assert page_problems.page_problems(central, sue) == []


def test_a_second_close_is_refused_with_who_closed_it_and_changes_nothing(central: Store, local: Store) -> None:
    _ann, _claim, (first, _second) = _pushed(central, local)
    sue, lee = _staff(central, "sue", "supervisor"), _staff(central, "lee", "qa")
    closed = page_problems.close_problem(central, sue, first, "rescanned")
    with pytest.raises(KnownError, match=r"page 1 of scan_0001.png \(batch B-ann\) was closed already, by Sue on .* UTC "
                                         r'\("rescanned"\)') as refused:
        page_problems.close_problem(central, lee, first, "paper pulled")
    assert not isinstance(refused.value, (NotFound, PermissionDenied))
    assert "Traceback" not in str(refused.value)
    (again,) = [r for r in page_problems.page_problems(central, sue, open_only=False) if r.id == first]
    assert again == closed
    assert len(_closes(central)) == 1


def test_closing_an_unknown_report_or_without_a_note_is_refused(central: Store, local: Store) -> None:
    _ann, _claim, (first, _second) = _pushed(central, local)
    sue = _staff(central, "sue", "supervisor")
    with pytest.raises(NotFound, match="There is no page problem report .* in the central database"):
        page_problems.close_problem(central, sue, uuid.uuid4(), "rescanned")
    with pytest.raises(KnownError, match="closing note is needed"):
        page_problems.close_problem(central, sue, first, " \t ")
    with pytest.raises(KnownError, match=f"at most {page_problems.NOTE_LENGTH} fit"):
        page_problems.close_problem(central, sue, first, "x" * (page_problems.NOTE_LENGTH + 1))
    assert len(page_problems.page_problems(central, sue)) == 2 and _closes(central) == []


def test_keyers_cannot_close_reports_whatever_their_station_claims(central: Store, local: Store) -> None:
    ann, _claim, (first, _second) = _pushed(central, local)
    with pytest.raises(PermissionDenied):
        page_problems.close_problem(central, Actor(ann, "ann", "keyer"), first, "done")
    # An Actor made up with a grand role gets past the first check, not past the account's row.
    with pytest.raises(PermissionDenied, match="ann \\(keyer\\) may not do this"):
        page_problems.close_problem(central, Actor(ann, "ann", "supervisor"), first, "done")
    sue = _staff(central, "sue", "supervisor")
    auth.set_active(central, auth.operator("root"), "sue", False)
    with pytest.raises(PermissionDenied, match="disabled"):
        page_problems.close_problem(central, sue, first, "done")
    assert len(page_problems.page_problems(central, Actor(ann, "x", "admin"))) == 2 and _closes(central) == []


def test_a_close_cut_at_any_statement_leaves_the_report_open(central: Store, local: Store) -> None:
    """The row and its audit event commit together, or neither does."""
    _ann, _claim, (first, _second) = _pushed(central, local)
    sue = _staff(central, "sue", "supervisor")
    k = 0
    while True:
        k += 1
        result, cut = cut_at(central, k, lambda: page_problems.close_problem(central, sue, first, "rescanned"))
        if not cut:
            break
        assert isinstance(result, Exception), k
        assert len(page_problems.page_problems(central, sue)) == 2 and _closes(central) == [], k
        assert k < 60, "the close never finished"
    assert isinstance(result, page_problems.PageProblemRow) and not result.open and k > 3
    assert len(_closes(central)) == 1


def test_a_central_database_at_0002_upgrades_keeping_its_reports_open(central_url: str, tmp_path: Path) -> None:
    """An office that ran the release with page problems upgrades; the reports made then stay open."""
    central = Store(central_url)
    upgrade_central(central, "0002")
    local = open_local(f"sqlite:///{tmp_path / 'local.sqlite'}")
    ann, claim = _claimed(central, local)
    reported = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1, detail="torn")
    assert sync.push_pending(local, central).problems == 1  # the push needs nothing of 0003

    upgrade_central(central)
    assert current_revision(central) == head_revision()
    sue = _staff(central, "sue", "supervisor")
    (row,) = page_problems.page_problems(central, sue)
    assert (row.id, row.detail, row.open, row.closed_at, row.closed_by) == (reported.problem_id, "torn", True, None, "")
    page_problems.close_problem(central, sue, reported.problem_id, "rescanned")
    assert page_problems.page_problems(central, sue) == []
    # When, who and the note are set together or not at all: the schema says so, not only the code.
    with pytest.raises(IntegrityError), central.transaction() as s:
        s.execute(update(m.PageProblem).where(m.PageProblem.id == reported.problem_id).values(close_note=None))
    local.dispose()
    central.dispose()


def test_a_central_database_not_upgraded_yet_says_to_upgrade_instead_of_failing_as_a_bug(
        central_url: str, tmp_path: Path) -> None:
    """Stations of this version against a central database still at 0002: the dashboard's and
    `stats`' query and a close name the schema and the command, not a database error."""
    central = Store(central_url)
    upgrade_central(central, "0002")
    local = open_local(f"sqlite:///{tmp_path / 'local.sqlite'}")
    ann, claim = _claimed(central, local)
    page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    assert sync.push_pending(local, central).problems == 1
    sue = _staff(central, "sue", "supervisor")
    head = head_revision()
    for attempt in (lambda: metrics.load_dashboard(central, sue), lambda: page_problems.page_problems(central, sue),
                    lambda: page_problems.close_problem(central, sue, uuid.uuid4(), "rescanned")):
        with pytest.raises(KnownError, match=f"has schema 0002; this version of the workstation needs {head}") as told:
            attempt()
        assert "workstation central upgrade" in (told.value.hint or "")
    upgrade_central(central)
    assert len(metrics.load_dashboard(central, sue).page_problems) == 1
    assert migrate.schema_behind(central) is None  # up to date
    with central.transaction() as s:  # a newer release's schema: this version does not say upgrade
        s.execute(text("UPDATE alembic_version SET version_num = '9999_from_a_newer_release'"))
    assert migrate.schema_behind(central) is None
    local.dispose()
    central.dispose()


def test_a_station_store_from_before_closing_gets_the_columns_and_sends_reports_as_before(tmp_path: Path) -> None:
    """A local store is made from the models: an older one gets the new nullable columns when it opens."""
    url = f"sqlite:///{tmp_path / 'old-local.sqlite'}"
    upgrade_central(Store(url), "0002")  # the schema the models had then (test_store keeps them in step)
    local = open_local(url)
    with local.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("page_problems")}
    assert {"closed_at", "closed_by", "close_note"} <= columns
    central = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    ann, claim = _claimed(central, local)
    reported = page_problems.report_page(local, ann, claim.unit_id, claim.document_ids[0], 1)
    with local.transaction() as s:
        assert s.get(m.PageProblem, reported.problem_id).closed_at is None
    payload = page_problems.build_payload(local, reported.problem_id)
    assert not {"closed_at", "closed_by", "close_note"} & set(payload["problem"])  # closing is central only
    assert sync.push_pending(local, central).problems == 1
    local.dispose()
    central.dispose()
