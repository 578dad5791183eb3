"""Keyers' reports of pages that are missing, unreadable or not the document's (F8 while keying).

A report is recorded on the station, reaches the central database with the sync push, and is
read there by supervisors (and QA leads and admins): who reported it, when, which batch,
document and page, the image (its SHA-256; empty when the document has no images) and why.

Delivery (a design decision): each report is its own outbox item, written in the same local
transaction as the report row, and not a part of the unit's payload. So a report arrives
whether it was made before the unit was finished, after the unit was pushed, or in a unit that
is never finished (the lease ran out); the push sends it like a unit (`workstation.sync`):
applied centrally in one transaction with an idempotent insert on the report's client UUID,
marked sent only after that commit, so it arrives exactly once and a replay changes nothing.
The report row is never touched by the purge after a unit's push (which blanks keyed text and
deletes images): the report names its image by SHA-256, without a foreign key, so an unsent
report outlives the image it is about. A report carries codes and a short reason, no keyed
values, so it is not PHI and stays on the station after it was sent.

Reasons are a fixed list (`REASONS`, also a CHECK in the schema); the station picks one from
what it knows (`reason_for`): "missing" when the document has no images or the image is not on
the station, "unreadable" otherwise; `detail` keeps the decoder's own message.

Open reports are those nobody closed whose document is not final yet: while a document is
being keyed or settled its page problem still matters; once it is final, the problem was dealt
with (keyed from the paper, marked illegible, decided by QA) and the report is history.

Closing (`close_problem`): a supervisor (or QA lead, or admin: `page_problems.close` in
`workstation.auth.PERMISSIONS`) who dealt with a report before its document is final, e.g. the
page was rescanned or the paper pulled, closes it with a short note: what was done, never what
the page says (the note goes into the audit log too, which holds no keyed values). The central
row gets when, who and the note (`closed_at`, `closed_by`, `close_note`: set together, a CHECK in
the schema) and the audit log a `page.report_closed` event in the same transaction; the report
leaves the open list (the dashboard, `workstation stats`) and stays in the history. A report is
closed once: closing it again is refused with who closed it and when, so two supervisors cannot
both think they dealt with it. Closing happens only centrally: those columns are not part of the
push (a replay of the report leaves a closed report closed), and an older station's payload,
which lacks them, is applied as before.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, inspect, select
from sqlalchemy.orm import Session, aliased

from workstation import audit, auth
from workstation import models as m
from workstation.errors import KnownError, NotFound, PermissionDenied
from workstation.store import Store, central_schema_checked
from workstation.work import upsert_insert, write_transaction

log = logging.getLogger(__name__)

PAGE_PROBLEM = "page_problem"  # the outbox item's kind
PAYLOAD_VERSION = 1
UNREADABLE, MISSING, WRONG_DOCUMENT = "unreadable", "missing", "wrong_document"
# Code -> how a person reads it. The schema's CHECK on page_problems.reason lists the same codes.
REASONS: dict[str, str] = {UNREADABLE: "unreadable", MISSING: "missing", WRONG_DOCUMENT: "wrong document"}
DETAIL_LENGTH = 500
NOTE_LENGTH = 200  # a closing note: what was done, in a few words
CLOSE_ACTION = "page_problems.close"  # workstation.auth.PERMISSIONS

_problems = cast(Table, m.PageProblem.__table__)
_outbox = cast(Table, m.OutboxItem.__table__)
# What a station sends: the report as the keyer made it; the closing columns are central only.
_CLOSE_COLUMNS = ("closed_at", "closed_by", "close_note")
_REPORT_COLUMNS = tuple(c.name for c in _problems.columns if c.name not in _CLOSE_COLUMNS)


@dataclass(frozen=True)
class Reported:
    """What F8 recorded: the report's id, its reason, and False when it had been reported already."""

    problem_id: uuid.UUID
    reason: str
    new: bool


def reason_for(image_sha256: str, image_on_station: bool) -> str:
    """The reason a station gives when the keyer does not name one."""
    return MISSING if not image_sha256 or not image_on_station else UNREADABLE


def report_page(local: Store, keyer_id: uuid.UUID, unit_id: uuid.UUID, document_id: uuid.UUID, page_no: int, *,
                image_sha256: str = "", reason: str | None = None, detail: str = "",
                now: dt.datetime | None = None) -> Reported:
    """Record a page problem in the local store and queue it for the push, in one transaction.

    Only the keyer holding the unit may report, and only a document of that unit (the one they
    have in front of them); the account is read from the local store, as it came with the work.
    The unit may be finished or sent already: the keyer saw the page either way. Reporting the
    same page again returns the first report, so a second F8 does not make a second row.
    """
    if reason is not None and reason not in REASONS:
        raise KnownError(f"{reason!r} is not a reason for a page problem.", f"Use one of {', '.join(REASONS)}.")
    page_no = max(int(page_no), 1)
    at = now or m.utcnow()
    with write_transaction(local) as s:
        auth.require_user(s, keyer_id, "work.claim")
        unit = s.get(m.WorkUnit, unit_id)
        if unit is None:
            raise NotFound(f"Work unit {unit_id} is not on this station.", "Claim work again.")
        if unit.keyer_id != keyer_id:
            raise PermissionDenied("This work unit is held by another keyer.", "Report pages of your own work.")
        in_unit = s.scalar(select(func.count()).select_from(m.Task).where(
            m.Task.unit_id == unit_id, m.Task.document_id == document_id))
        if not in_unit:
            raise NotFound("That document is not part of this work unit.", "Report the page of the document shown.")
        earlier = s.execute(select(_problems.c.id, _problems.c.reason).where(
            _problems.c.document_id == document_id, _problems.c.page_no == page_no,
            _problems.c.keyer_id == keyer_id)).first()
        if earlier is not None:
            return Reported(earlier.id, earlier.reason, new=False)
        if reason is None:
            present = bool(image_sha256) and s.get(m.Image, image_sha256) is not None
            reason = reason_for(image_sha256, present)
        problem_id = m.new_id()
        s.execute(_problems.insert().values(
            id=problem_id, document_id=document_id, page_no=page_no, image_sha256=image_sha256[:64],
            reason=reason, detail=detail.strip()[:DETAIL_LENGTH], keyer_id=keyer_id, unit_id=unit_id,
            reported_at=at,
        ))
        s.execute(_outbox.insert().values(
            id=m.new_id(), kind=PAGE_PROBLEM, unit_id=None, payload={"problem_id": str(problem_id)}, created_at=at,
        ))
    log.info("page problem %s recorded: document %s page %d, %s", problem_id, document_id, page_no, reason)
    return Reported(problem_id, reason, new=True)


def reported_pages(local: Store, keyer_id: uuid.UUID, document_ids: Sequence[uuid.UUID]) -> set[tuple[uuid.UUID, int]]:
    """(document, page) pairs this keyer has reported on this station, for saying "reported" again."""
    if not document_ids:
        return set()
    with local.transaction() as s:
        rows = s.execute(select(_problems.c.document_id, _problems.c.page_no).where(
            _problems.c.keyer_id == keyer_id, _problems.c.document_id.in_(list(document_ids))))
        return {(r.document_id, r.page_no) for r in rows}


# --- the push ----------------------------------------------------------------------------------


def build_payload(local: Store, problem_id: uuid.UUID) -> dict[str, Any]:
    """What one report sends: its row, as plain values."""
    with local.transaction() as s:
        row = s.execute(select(*(_problems.c[c] for c in _REPORT_COLUMNS))
                        .where(_problems.c.id == problem_id)).mappings().first()
    if row is None:
        raise KnownError(f"Page problem {problem_id} is missing from the local store.", "Its outbox item cannot be sent.")
    return {"version": PAYLOAD_VERSION, "kind": PAGE_PROBLEM, "problem": dict(row)}


def central_ready(central: Store) -> None:
    """Refuse before sending when the central database predates page problems (not upgraded).

    Checked once per push round that has reports, so the refusal names the fix instead of a
    missing table, which SQLite reports like an unreachable database and would hold up units.
    """
    if not inspect(central.engine).has_table(_problems.name):
        raise KnownError("The central database is too old for page problem reports.",
                         "Run `workstation central upgrade` there; the reports wait on this station.")


def apply_problem(central_session: Session, payload: dict[str, Any]) -> bool:
    """Apply one report inside the caller's transaction; False when it was there already (a replay).

    The central side trusts only what it can check: the reporting keyer must have been handed
    that document (a hold), so a station cannot file reports about documents it never had.
    """
    s = central_session
    if payload.get("version") != PAYLOAD_VERSION or payload.get("kind") != PAGE_PROBLEM:
        raise KnownError("This station sent a page report in a format the central database does not know.",
                         "Update the workstation software on this station.")
    problem = {c: payload["problem"][c] for c in _REPORT_COLUMNS}
    held = s.scalar(select(func.count()).select_from(m.Hold).where(
        m.Hold.document_id == problem["document_id"], m.Hold.keyer_id == problem["keyer_id"]))
    if not held:
        raise KnownError(f"Page problem {problem['id']} is about a document its keyer was never given.",
                         "It cannot be sent; tell a supervisor.")
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    # RETURNING says whether the row went in (psycopg reports no row count for this statement).
    inserted = s.execute(upsert_insert(dialect, _problems).values(**problem)
                         .on_conflict_do_nothing(index_elements=["id"]).returning(_problems.c.id)).first()
    if inserted is None:
        return False
    audit.record(s, "page.reported", actor=problem["keyer_id"], subject=str(problem["document_id"]),
                 details={"page": problem["page_no"], "reason": problem["reason"]})
    return True


# --- reading them ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageProblemRow:
    """One report as a supervisor sees it; plain values, safe to hand to another thread."""

    id: uuid.UUID
    batch: str
    document_id: uuid.UUID
    document: str  # the scan's file name, or "document N"
    page_no: int
    reason: str  # a code of REASONS
    detail: str
    keyer: str
    reported_at: dt.datetime
    open: bool  # nobody closed it and the document is not final yet
    closed_at: dt.datetime | None = None
    closed_by: str = ""  # who closed it (display name), "" while it is not closed
    close_note: str = ""

    @property
    def reason_text(self) -> str:
        return REASONS.get(self.reason, self.reason)

    @property
    def where(self) -> str:
        """The page as a sentence names it: "page 2 of scan_0002.png (batch CLAIMS-7)"."""
        return f"page {self.page_no} of {self.document} (batch {self.batch})"


_closer = aliased(m.User, name="closer")


def _rows(s: Session, *where: Any, open_only: bool = False, limit: int | None = None) -> list[PageProblemRow]:
    """Reports newest first, in one statement."""
    query = (
        select(_problems.c.id, m.Batch.name.label("batch"), _problems.c.document_id, m.Document.seq,
               m.Document.source_name, m.Document.state, _problems.c.page_no, _problems.c.reason,
               _problems.c.detail, m.User.username, m.User.display_name, _problems.c.reported_at,
               _problems.c.closed_at, _problems.c.close_note,
               _closer.username.label("closer_username"), _closer.display_name.label("closer_name"))
        .join(m.Document, m.Document.id == _problems.c.document_id)
        .join(m.Batch, m.Batch.id == m.Document.batch_id)
        .join(m.User, m.User.id == _problems.c.keyer_id)
        .outerjoin(_closer, _closer.id == _problems.c.closed_by)
        .where(*where)
        .order_by(_problems.c.reported_at.desc(), _problems.c.id)
    )
    if open_only:
        query = query.where(_problems.c.closed_at.is_(None), m.Document.state != "final")
    if limit is not None:
        query = query.limit(limit)
    return [
        PageProblemRow(r.id, r.batch, r.document_id, r.source_name or f"document {r.seq}", r.page_no, r.reason,
                       r.detail, r.display_name or r.username, r.reported_at,
                       r.closed_at is None and r.state != "final", r.closed_at,
                       (r.closer_name or r.closer_username or "") if r.closed_at is not None else "",
                       r.close_note or "")
        for r in s.execute(query)
    ]


def list_problems(s: Session, *, open_only: bool = True, limit: int | None = None) -> list[PageProblemRow]:
    """Reports newest first, in one statement (the dashboard runs it with its other queries)."""
    return _rows(s, open_only=open_only, limit=limit)


def page_problems(central: Store, actor: auth.Actor, *, open_only: bool = True,
                  limit: int | None = None) -> list[PageProblemRow]:
    """The page problems keyers reported, newest first (supervisors, QA leads, admins)."""
    auth.require(actor, "page_problems")
    with central_schema_checked(central), central.session() as s:
        return list_problems(s, open_only=open_only, limit=limit)


# --- closing them ------------------------------------------------------------------------------


def close_problem(central: Store, actor: auth.Actor, problem_id: uuid.UUID, note: str, *,
                  now: dt.datetime | None = None) -> PageProblemRow:
    """Close one report with a note on what was done; returns the report as it is now.

    Refused before anything is read for a role that may not close reports, and for an empty or
    over-long note; then, in one central transaction, refused for an account that is disabled
    or whose role changed since login, an unknown report, and a report closed already (naming
    who closed it and when). The row and its audit event commit together.
    """
    auth.require(actor, CLOSE_ACTION)
    note = " ".join(note.split())
    if not note:
        raise KnownError("A closing note is needed.", 'Say in a few words what was done, e.g. "rescanned".')
    if len(note) > NOTE_LENGTH:
        raise KnownError(f"The closing note is {len(note)} characters long; at most {NOTE_LENGTH} fit.",
                         "Say what was done in fewer words.")
    at = now or m.utcnow()
    with central_schema_checked(central), write_transaction(central) as s:
        closer = auth.require_user(s, actor.id, CLOSE_ACTION)
        found = _rows(s, _problems.c.id == problem_id)
        if not found:
            raise NotFound(f"There is no page problem report {problem_id} in the central database.",
                           "Refresh the list of page problems.")
        problem = found[0]
        if problem.closed_at is not None:
            raise KnownError(f"The report on {problem.where} was closed already, by {problem.closed_by} on "
                             f'{_moment(problem.closed_at)} UTC ("{problem.close_note}").', "Nothing was changed.")
        # Only an open row changes: of two supervisors closing it at once, one wins, the other is told.
        closed = s.execute(_problems.update().where(_problems.c.id == problem_id, _problems.c.closed_at.is_(None))
                           .values(closed_at=at, closed_by=closer.id, close_note=note)
                           .returning(_problems.c.id)).first()
        if closed is None:
            raise KnownError(f"The report on {problem.where} was closed by someone else just now.",
                             "Nothing was changed.")
        audit.record(s, "page.report_closed", actor=closer, subject=str(problem.document_id),
                     details={"problem": str(problem_id), "page": problem.page_no, "reason": problem.reason,
                              "note": note}, at=at)
        (row,) = _rows(s, _problems.c.id == problem_id)
    log.info("page problem %s closed by %s", problem_id, closer.username)
    return row


def _moment(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
