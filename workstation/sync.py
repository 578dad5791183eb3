"""Moving work between a station's local store and the central database.

Pull: after a claim, copy what the unit needs into the local store: the keyer's user row, the
template, the batch, the unit's documents and pages, the images the station lacks (checked by
SHA-256 first), the unit and its tasks. Never entries or field values: a station must not
receive another pass's values (blindness is a data rule, not a screen rule).

Push: finishing a unit writes an outbox item in the same local transaction (keying does that).
`push_pending` sends each unsent item: the payload is built from the local rows, the central
side applies it in ONE transaction with idempotent upserts on the client UUIDs, and the item is
marked sent only after that commit. A replay changes nothing; a failure before the commit leaves
the central database as it was. When the central database cannot be reached the items stay
pending with the attempt recorded, and `next_retry_delay` says when to try again.

Outbox items are of two kinds: a finished unit, and a keyer's page problem report (F8), which
travels as an item of its own so it arrives whether it was made before or after its unit was
pushed (see `workstation.page_problems`). Both are applied the same way; only a unit's
confirmed push purges anything on the station, and the purge never touches reports.
"""

from __future__ import annotations

import logging
import operator
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, func, literal, select, update
from sqlalchemy import column as sa_column
from sqlalchemy import table as sa_table
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from workstation import audit, page_problems, resolve, secrets
from workstation import models as m
from workstation.auth import Actor
from workstation.errors import KnownError, NotFound, PermissionDenied
from workstation.store import Store
from workstation.work import (
    Claim,
    is_offline_error,
    release,
    upsert_insert,
    write_transaction,
)
from workstation.work import (
    claim as claim_work,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]

PAYLOAD_VERSION = 1
UNIT_FINISHED = "unit_finished"
IMAGE_CHUNK = 32
RETRY_BASE_S = 2.0
RETRY_CAP_S = 300.0

_users = cast(Table, m.User.__table__)
_templates = cast(Table, m.Template.__table__)
_batches = cast(Table, m.Batch.__table__)
_docs = cast(Table, m.Document.__table__)
_pages = cast(Table, m.Page.__table__)
_images = cast(Table, m.Image.__table__)
_units = cast(Table, m.WorkUnit.__table__)
_tasks = cast(Table, m.Task.__table__)
_entries = cast(Table, m.Entry.__table__)
_values = cast(Table, m.FieldValue.__table__)
_outbox = cast(Table, m.OutboxItem.__table__)

# Columns a station sends for a value. The scoring columns are the central side's to fill, and
# the keyer is the unit's (the central side sets it; one UUID less to carry per value).
_VALUE_COLUMNS = tuple(c.name for c in _values.columns if c.name not in ("final_match", "error_class", "keyer_id"))
_ENTRY_COLUMNS = tuple(c.name for c in _entries.columns)


# --- pull --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PullReport:
    unit_id: uuid.UUID
    documents: int
    pages: int
    images_copied: int
    images_present: int


def _rows(s: Session, query: Any) -> list[dict[str, Any]]:
    result = s.execute(query)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


def _upsert(s: Session, table: Any, rows: list[dict[str, Any]], keys: Sequence[str],
            update_columns: Iterable[str] = ()) -> None:
    """Insert rows into the local store; existing rows keep their identity and get `update_columns`."""
    if not rows:
        return
    stmt = upsert_insert("sqlite", table)
    columns = [c for c in update_columns if c in rows[0]]
    if columns:
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    s.execute(stmt, rows)


def pull(central: Store, local: Store, claim: Claim | uuid.UUID, *, by: Actor | None = None) -> PullReport:
    """Copy what a claimed unit needs into the local store; safe to repeat.

    With `by` (the person at the station), a unit that is not theirs is refused: its scans are
    not copied to a station where someone else works.
    """
    unit_id = claim.unit_id if isinstance(claim, Claim) else claim
    with central.transaction() as s:
        units = _rows(s, select(_units).where(_units.c.id == unit_id))
        if not units:
            raise NotFound(f"Work unit {unit_id} is not in the central database.", "Claim new work.")
        unit = units[0]
        if by is not None and by.id != unit["keyer_id"]:
            raise PermissionDenied(f"This work unit was claimed by someone else, not {by.username}.",
                                   "Claim work of your own.")
        tasks = _rows(s, select(_tasks).where(_tasks.c.unit_id == unit_id))
        doc_ids = [t["document_id"] for t in tasks]
        batch = _rows(s, select(_batches).where(_batches.c.id == unit["batch_id"]))
        template = _rows(s, select(_templates).where(_templates.c.id == batch[0]["template_id"]))
        user = _rows(s, select(_users).where(_users.c.id == unit["keyer_id"]))
        docs = _rows(s, select(_docs).where(_docs.c.id.in_(doc_ids))) if doc_ids else []
        pages = _rows(s, select(_pages).where(_pages.c.document_id.in_(doc_ids))) if doc_ids else []
    needed = sorted({p["image_sha256"] for p in pages})
    with local.transaction() as ls:
        present = set(ls.scalars(select(_images.c.sha256).where(_images.c.sha256.in_(needed)))) if needed else set()
    missing = [sha for sha in needed if sha not in present]
    _copy_images(central, local, missing)

    with write_transaction(local) as ls:
        _upsert(ls, _users, user, ["id"],
                ("username", "display_name", "role", "password_hash", "active", "locked_until"))
        _upsert(ls, _templates, template, ["id"])
        _upsert(ls, _batches, batch, ["id"], ("priority", "state", "finished_at"))
        _upsert(ls, _docs, docs, ["id"], ("state", "finished_at"))
        _upsert(ls, _pages, pages, ["id"])
        _upsert(ls, _units, [unit], ["id"], ("state", "lease_expires_at", "finished_at"))
        _upsert(ls, _tasks, tasks, ["id"], ("state", "keyer_id", "unit_id", "field_paths", "priority", "done_at"))
        _adopt_local_leftovers(ls, unit, tasks)
    log.info("pulled unit %s: %d document(s), %d page(s), %d image(s) copied, %d already here",
             unit_id, len(docs), len(pages), len(missing), len(present))
    return PullReport(unit_id, len(docs), len(pages), len(missing), len(present))


def _copy_images(central: Store, local: Store, shas: Sequence[str]) -> None:
    """Copy images in chunks, each chunk committed: content-addressed rows are harmless alone."""
    for start in range(0, len(shas), IMAGE_CHUNK):
        chunk = shas[start:start + IMAGE_CHUNK]
        with central.transaction() as s:
            rows = _rows(s, select(_images).where(_images.c.sha256.in_(chunk)))
        with write_transaction(local) as ls:
            _upsert(ls, _images, rows, ["sha256"])


def _adopt_local_leftovers(ls: Session, unit: dict[str, Any], tasks: list[dict[str, Any]]) -> None:
    """Deal with local entries an earlier unit left for the same documents and pass.

    This keyer's own unfinished keying (their lease ran out and they got the document back) is
    resumed in the new unit; another keyer's leftovers on a shared station lost their claim and
    are removed, so the new keying does not collide with them.
    """
    passes = {t["document_id"]: t["pass_no"] for t in tasks}
    if not passes:
        return
    leftovers = ls.execute(
        select(_entries.c.id, _entries.c.document_id, _entries.c.pass_no, _entries.c.keyer_id)
        .where(_entries.c.document_id.in_(list(passes)), _entries.c.unit_id.is_distinct_from(unit["id"]))
    ).all()
    adopt = [e.id for e in leftovers if passes.get(e.document_id) == e.pass_no and e.keyer_id == unit["keyer_id"]]
    drop = [e.id for e in leftovers if passes.get(e.document_id) == e.pass_no and e.keyer_id != unit["keyer_id"]]
    if adopt:
        ls.execute(update(_entries).where(_entries.c.id.in_(adopt)).values(unit_id=unit["id"]))
    if drop:
        ls.execute(delete(_values).where(_values.c.entry_id.in_(drop)))
        ls.execute(delete(_entries).where(_entries.c.id.in_(drop)))
        log.info("removed %d stale local entr(ies) of another keyer", len(drop))


def claim_and_pull(central: Store, local: Store, keyer_id: uuid.UUID, **claim_kwargs: Any) -> tuple[Claim, PullReport]:
    """Claim work and copy it to the station.

    Pending pushes go first, so work keyed offline lands before new work is handed out. If the
    copy fails, the claim is given back (when the central database can still be reached).
    """
    if pending_count(local):
        push_pending(local, central)
    claimed = claim_work(central, keyer_id, **claim_kwargs)
    try:
        report = pull(central, local, claimed)
    except BaseException:
        try:
            release(central, claimed.unit_id, keyer_id)
        except Exception:  # noqa: BLE001 - the lease runs out on its own
            log.warning("could not give back unit %s after a failed pull", claimed.unit_id)
        raise
    return claimed, report


# --- push: the station side --------------------------------------------------------------------


@dataclass(frozen=True)
class PushReport:
    """What one round of pushing moved; plain values, safe to hand to another thread."""

    sent: int
    failed: int
    pending: int
    errors: tuple[str, ...]
    # True when the round stopped because the central database could not be reached.
    offline: bool = False
    # Documents the central database counted, and those it did not (someone else took them).
    documents: int = 0
    discarded: int = 0
    # True when the server refused the user name or password: waiting will not help.
    login_refused: bool = False
    # Page problem reports the central database took (`sent` counts units only).
    problems: int = 0


def pending_count(local: Store) -> int:
    with local.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(_outbox).where(_outbox.c.sent_at.is_(None))) or 0)


@dataclass(frozen=True)
class Waiting:
    """What waits in a station's outbox, by kind (`pending_count` is their total)."""

    units: int = 0  # finished units
    problems: int = 0  # page problem reports
    other: int = 0  # items of a kind this version does not know (they cannot be sent)

    @property
    def total(self) -> int:
        return self.units + self.problems + self.other


def waiting(local: Store) -> Waiting:
    """The unsent outbox items of each kind, in one statement."""
    with local.transaction() as s:
        counts = {kind: int(n) for kind, n in s.execute(
            select(_outbox.c.kind, func.count()).where(_outbox.c.sent_at.is_(None)).group_by(_outbox.c.kind))}
    units, problems = counts.pop(UNIT_FINISHED, 0), counts.pop(page_problems.PAGE_PROBLEM, 0)
    return Waiting(units, problems, sum(counts.values()))


def next_retry_delay(attempts: int, *, base: float = RETRY_BASE_S, cap: float = RETRY_CAP_S) -> float:
    """Seconds to wait after `attempts` failed attempts: doubling from `base`, at most `cap`."""
    if attempts <= 0:
        return 0.0
    return float(min(cap, base * 2 ** min(attempts - 1, 32)))


def build_payload(local: Store, unit_id: uuid.UUID) -> dict[str, Any]:
    """What a finished unit sends: its finished entries and their values, as plain values."""
    with local.transaction() as s:
        units = _rows(s, select(_units.c.id, _units.c.keyer_id, _units.c.batch_id, _units.c.pass_no)
                      .where(_units.c.id == unit_id))
        if not units:
            raise KnownError(f"Work unit {unit_id} is missing from the local store.", "Its outbox item cannot be sent.")
        finished = (_entries.c.unit_id == unit_id) & _entries.c.finished_at.is_not(None)
        entries = _rows(s, select(*(_entries.c[c] for c in _ENTRY_COLUMNS)).where(finished))
        values = _rows(s, select(*(_values.c[c] for c in _VALUE_COLUMNS))
                       .join(_entries, _entries.c.id == _values.c.entry_id).where(finished))
    unit = units[0]
    return {
        "version": PAYLOAD_VERSION, "kind": UNIT_FINISHED, "unit_id": unit["id"], "keyer_id": unit["keyer_id"],
        "batch_id": unit["batch_id"], "pass_no": unit["pass_no"], "entries": entries, "values": values,
    }


def push_pending(local: Store, central: Store, *, progress: Progress | None = None, purge: bool = True) -> PushReport:
    """Send every unsent outbox item, oldest first; never raises for an unreachable database."""
    with local.transaction() as s:
        items = s.execute(
            select(_outbox.c.id, _outbox.c.kind, _outbox.c.unit_id, _outbox.c.payload)
            .where(_outbox.c.sent_at.is_(None)).order_by(_outbox.c.created_at)
        ).all()
    sent = failed = documents = discarded = problems = 0
    offline = refused = False
    ready: bool | KnownError | None = None  # whether the central database takes page reports
    errors: list[str] = []
    total = len(items)
    for index, item in enumerate(items):
        is_unit = item.kind == UNIT_FINISHED
        if progress is not None:
            progress(index, total, f"unit {str(item.unit_id)[:8]}" if is_unit else "page report")
        try:
            result = ApplyResult((), ())
            if is_unit and item.unit_id is not None:
                payload = build_payload(local, item.unit_id)
                with write_transaction(central) as cs:
                    result = apply_unit(cs, payload)
            elif item.kind == page_problems.PAGE_PROBLEM:
                if ready is None:  # asked once a round; a refusal holds the round's other reports too
                    try:
                        page_problems.central_ready(central)
                        ready = True
                    except KnownError as exc:
                        ready = exc
                if isinstance(ready, KnownError):
                    raise ready
                payload = page_problems.build_payload(local, uuid.UUID(str((item.payload or {}).get("problem_id"))))
                with write_transaction(central) as cs:
                    page_problems.apply_problem(cs, payload)
            else:
                raise KnownError(f"Outbox item {item.id} has an unknown kind {item.kind!r}.")
        except Exception as exc:  # noqa: BLE001 - a push never takes the station down
            refused = secrets.login_refused(exc)
            message = str(secrets.refused_error(central.url)) if refused else _describe(exc)
            _record_attempt(local, item.id, message, sent=False)
            errors.append(message)
            if refused or is_offline_error(exc):
                offline = True
                log.info("central database %s; %d item(s) stay pending",
                         "refused the login" if refused else "unreachable", total - index)
                break
            failed += 1
            log.error("pushing %s %s failed: %s", item.kind, item.unit_id or item.id, message,
                      exc_info=not isinstance(exc, KnownError))
            continue
        try:
            # Marked sent and purged in one local transaction: a unit is never sent but kept.
            _record_attempt(local, item.id, "", sent=True,
                            purge_unit_id=item.unit_id if purge and is_unit else None)
        except Exception as exc:  # noqa: BLE001 - the central copy is safe; a replay later changes nothing
            what = f"unit {str(item.unit_id)[:8]}" if is_unit else "a page report"
            errors.append(f"This station could not note {what} as sent: {_describe(exc)}")
            failed += 1
            log.error("%s %s is in the central database but could not be marked sent here", item.kind,
                      item.unit_id or item.id, exc_info=True)
            break
        if is_unit:
            sent += 1
        else:
            problems += 1
        documents += len(result.accepted)
        discarded += len(result.discarded)
    if progress is not None:
        progress(total, total, "")
    return PushReport(sent, failed, pending_count(local), tuple(errors), offline, documents, discarded, refused,
                      problems)


def _describe(exc: BaseException) -> str:
    """A one-line reason for the outbox; database messages are cut to their first line."""
    if isinstance(exc, KnownError):
        return str(exc)
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {detail[0] if detail else ''}"[:500]


def _record_attempt(local: Store, item_id: uuid.UUID, error: str, *, sent: bool,
                    purge_unit_id: uuid.UUID | None = None) -> None:
    values: dict[str, Any] = {"attempts": _outbox.c.attempts + 1, "last_error": error}
    if sent:
        values["sent_at"] = m.utcnow()
    with write_transaction(local) as s:
        s.execute(update(_outbox).where(_outbox.c.id == item_id).values(**values))
        if purge_unit_id is not None:
            _purge(s, purge_unit_id)


def purge_unit(local: Store, unit_id: uuid.UUID) -> None:
    """After a confirmed push: blank the unit's keyed text and drop images no active unit needs.

    Keystroke counts and times stay (they are not PHI and feed the keyer's own figures).
    """
    with write_transaction(local) as s:
        _purge(s, unit_id)


def _purge(s: Session, unit_id: uuid.UUID) -> None:
    unit_entries = select(_entries.c.id).where(_entries.c.unit_id == unit_id)
    s.execute(update(_values).where(_values.c.entry_id.in_(unit_entries)).values(value=""))
    s.execute(update(_units).where(_units.c.id == unit_id, _units.c.state == "active")
              .values(state="finished", finished_at=m.utcnow()))
    still_needed = (
        select(_tasks.c.document_id)
        .join(_units, _units.c.id == _tasks.c.unit_id)
        .where(_units.c.state == "active")
    )
    s.execute(delete(_pages).where(
        _pages.c.document_id.in_(select(_tasks.c.document_id).where(_tasks.c.unit_id == unit_id)),
        _pages.c.document_id.not_in(still_needed),
    ))
    s.execute(delete(_images).where(_images.c.sha256.not_in(select(_pages.c.image_sha256))))


# --- push: the central side --------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyResult:
    accepted: tuple[uuid.UUID, ...]
    discarded: tuple[uuid.UUID, ...]
    already_applied: bool = False


def apply_unit(central_session: Session, payload: dict[str, Any]) -> ApplyResult:
    """Apply one finished unit inside the caller's transaction; idempotent.

    A document is accepted when its task is still this unit's, or is back in the queue after the
    lease ran out and nobody took it (and the keyer holds no other pass of it). A document
    someone else has taken meanwhile is discarded: their keying counts. The unit's tasks left
    unkeyed go back to the queue and the unit is finished. A unit that is already finished is a
    replay and changes nothing.
    """
    s = central_session
    if payload.get("version") != PAYLOAD_VERSION or payload.get("kind") != UNIT_FINISHED:
        raise KnownError("This station sent work in a format the central database does not know.",
                         "Update the workstation software on this station.")
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    lock = dialect == "postgresql"
    unit_id: uuid.UUID = payload["unit_id"]
    keyer_id: uuid.UUID = payload["keyer_id"]
    query = select(_units.c.keyer_id, _units.c.state, _units.c.pass_no).where(_units.c.id == unit_id)
    unit = s.execute(query.with_for_update() if lock else query).one_or_none()
    if unit is None:
        raise NotFound(f"Work unit {unit_id} is not in the central database.", "It cannot be sent; tell a supervisor.")
    if unit.keyer_id != keyer_id:
        raise KnownError(f"Work unit {unit_id} belongs to another keyer.", "It cannot be sent; tell a supervisor.")
    if unit.state == "finished":
        return ApplyResult((), (), already_applied=True)

    entries = payload["entries"]
    doc_ids = list({e["document_id"] for e in entries})
    tasks: dict[uuid.UUID, Any] = {}
    other_pass: set[uuid.UUID] = set()
    if doc_ids:
        # Locked in id order, so two pushes that share documents cannot deadlock.
        tq = select(_tasks.c.id, _tasks.c.document_id, _tasks.c.state, _tasks.c.unit_id).where(
            _tasks.c.document_id.in_(doc_ids), _tasks.c.pass_no == unit.pass_no).order_by(_tasks.c.id)
        tasks = {t.document_id: t for t in s.execute(tq.with_for_update() if lock else tq)}
        if lock:
            # The other pass of these documents may be being pushed right now. Whoever comes
            # second waits here and then sees the first one's entries, so one of the two
            # compares; without the lock each would see only its own pass and neither would.
            s.execute(select(_docs.c.id).where(_docs.c.id.in_(doc_ids)).order_by(_docs.c.id)
                      .with_for_update(key_share=True))
        other_pass = set(s.scalars(select(_tasks.c.document_id).where(
            _tasks.c.document_id.in_(doc_ids), _tasks.c.keyer_id == keyer_id, _tasks.c.pass_no != unit.pass_no)))

    accepted_entries: list[dict[str, Any]] = []
    accepted_tasks: list[uuid.UUID] = []
    discarded: list[uuid.UUID] = []
    for entry in entries:
        task = tasks.get(entry["document_id"])
        ours = task is not None and task.unit_id == unit_id and task.state in ("claimed", "done")
        back_in_queue = task is not None and task.state == "open" and entry["document_id"] not in other_pass
        if task is not None and entry["keyer_id"] == keyer_id and entry["pass_no"] == unit.pass_no \
                and (ours or back_in_queue):
            accepted_entries.append({**entry, "unit_id": unit_id})
            accepted_tasks.append(task.id)
        else:
            discarded.append(entry["document_id"])
    accepted_ids = {e["id"] for e in accepted_entries}
    values = payload["values"]
    if len(accepted_ids) < len(entries):
        values = [v for v in values if v["entry_id"] in accepted_ids]

    _insert_new(s, dialect, _entries, accepted_entries)
    _insert_new(s, dialect, _values, values, same={"keyer_id": keyer_id})
    now = m.utcnow()
    if accepted_tasks:
        s.execute(update(_tasks).where(_tasks.c.id.in_(accepted_tasks))
                  .values(state="done", done_at=now, keyer_id=keyer_id, unit_id=unit_id))
    s.execute(update(_tasks).where(_tasks.c.unit_id == unit_id, _tasks.c.state == "claimed")
              .values(state="open", keyer_id=None, unit_id=None))
    s.execute(update(_units).where(_units.c.id == unit_id).values(state="finished", finished_at=now))

    accepted_docs = tuple(e["document_id"] for e in accepted_entries)
    _documents_updated(s, accepted_docs)
    _audit_push(s, keyer_id, unit_id, len(accepted_docs), len(discarded))
    if discarded:
        log.warning("unit %s: %d document(s) were taken by someone else meanwhile and are not counted",
                    unit_id, len(discarded))
    return ApplyResult(accepted_docs, tuple(discarded))


def _insert_new(s: Session, dialect: str, table: Any, rows: list[dict[str, Any]],
                same: dict[str, Any] | None = None) -> None:
    """Insert rows whose client UUID is not there yet; rows already there are left as they are.

    `same` holds columns whose value is the same for every row. SQLite runs in process, so an
    executemany of INSERT ... ON CONFLICT DO NOTHING is cheap. On PostgreSQL a statement per row
    (even pipelined) costs a round of client and server work per row; instead the rows are
    COPYed into a temporary table that disappears at commit, and one INSERT ... SELECT ... ON
    CONFLICT (id) DO NOTHING moves them over, all in the caller's transaction. A unit of 30,000
    values goes in well under a second.
    """
    if not rows:
        return
    same = same or {}
    columns = list(rows[0])
    upsert = upsert_insert(dialect, table)
    if dialect != "postgresql":
        s.execute(upsert.on_conflict_do_nothing(index_elements=["id"]), [{**row, **same} for row in rows])
        return
    for column in columns:  # COPY bypasses the UTC column type: refuse what it would refuse
        if isinstance(table.c[column].type, m.UTCDateTime):
            if any(row[column] is not None and row[column].tzinfo is None for row in rows):
                raise KnownError(f"A pushed {table.name}.{column} has no time zone.", "Update this station's software.")
    staging = f"incoming_{table.name}_{uuid.uuid4().hex[:8]}"
    conn = s.connection()
    names = ", ".join(f'"{c}"' for c in columns)
    conn.exec_driver_sql(
        f'CREATE TEMPORARY TABLE "{staging}" ON COMMIT DROP AS SELECT {names} FROM "{table.name}" WITH NO DATA'
    )
    _copy_rows(conn, f'COPY "{staging}" ({names}) FROM STDIN', columns, rows)
    source = sa_table(staging, *(sa_column(c) for c in columns))
    constants = [literal(value, type_=table.c[name].type).label(name) for name, value in same.items()]
    query = select(*source.c, *constants)
    s.execute(upsert.from_select([*columns, *same], query).on_conflict_do_nothing(index_elements=["id"]))


def _copy_rows(conn: Any, statement: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """COPY rows over the connection's own psycopg connection, errors mapped to SQLAlchemy's."""
    import psycopg

    dbapi = conn.connection.dbapi_connection
    getter = operator.itemgetter(*columns)
    try:
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(getter(row))
    except psycopg.OperationalError as exc:
        # A connection lost mid-COPY is dead: tell the pool, so the retry gets a fresh one.
        lost = dbapi.closed or dbapi.broken
        if lost:
            conn.invalidate(exc)
        raise OperationalError(statement, None, exc, connection_invalidated=lost) from exc
    except psycopg.Error as exc:
        raise DBAPIError(statement, None, exc) from exc


def _documents_updated(s: Session, document_ids: Sequence[uuid.UUID]) -> None:
    """Let comparison run for documents whose passes may now be complete."""
    if not document_ids:
        return
    resolve.documents_updated(s, list(document_ids))


def _audit_push(s: Session, keyer_id: uuid.UUID, unit_id: uuid.UUID, accepted: int, discarded: int) -> None:
    audit.record(s, "work.push", actor=keyer_id, subject=str(unit_id),
                 details={"accepted": accepted, "discarded": discarded})
