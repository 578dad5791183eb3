"""Claiming work: a keyer takes open tasks of one batch and pass as a unit, under a lease.

The rules, held by the schema and by the claim query alike:

* Nobody keys two passes of one document. A claim skips every document the keyer holds or keyed
  in any pass (`tasks.keyer_id`) and every document they were ever handed in another pass
  (`holds`, which outlives an expired lease: the keyer has seen that document and may still push
  what they keyed offline). The unique (document, keyer) constraints on tasks, holds and entries
  are the backstop. A third key therefore only goes to someone who keyed neither pass.
* A task is held by one unit at a time.
* A claim is one short transaction, committed at once; no transaction stays open while a person
  keys. PostgreSQL: open tasks are picked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers
  never wait for each other; the usual claim (batch and pass named) is a single statement, run
  in autocommit (one round trip), that picks, takes, records the unit, the holds and the audit
  event. The event is appended unchained (`audit.UNCHAINED_LOCK`): a chained append would make
  every claim wait for the one before it to reach the disk. Claimers chain the audit log's tail
  every `AUDIT_CHAIN_EVERY` seconds. SQLite: `BEGIN IMMEDIATE` takes the database write lock
  before anything is read, so claims run one after the other.
* Order: effective priority (batch priority + task priority) highest first, then the oldest task;
  inside a unit, documents in batch order.
* Leases: every claim checks (an index probe inside its statement) whether a lease ran out and
  then sweeps; listing work does the same. Swept units' tasks that are not done go back to the
  queue, done tasks stay with their keyer.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    CursorResult,
    Integer,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast as sql_cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from workstation import audit, auth
from workstation import models as m
from workstation.errors import DatabaseUnavailable, LeaseLost, NotFound, NoWorkAvailable, PermissionDenied
from workstation.store import Store, redact

log = logging.getLogger(__name__)

DEFAULT_LEASE = dt.timedelta(minutes=30)
# A claim that lost a race (a unique constraint fired, a deadlock was broken) is tried again.
_CLAIM_ATTEMPTS = 5
_RETRY_SQLSTATES = {"40001", "40P01", "55P03", "23505"}

_tasks = cast(Table, m.Task.__table__)
_units = cast(Table, m.WorkUnit.__table__)
_holds = cast(Table, m.Hold.__table__)
_docs = cast(Table, m.Document.__table__)
_batches = cast(Table, m.Batch.__table__)
_templates = cast(Table, m.Template.__table__)
_users = cast(Table, m.User.__table__)
_events = cast(Table, m.AuditEvent.__table__)

# How often (seconds) a claiming process chains the audit events claims appended unchained.
AUDIT_CHAIN_EVERY = 2.0
_chain_guard = threading.Lock()
_chained_at = -AUDIT_CHAIN_EVERY


@dataclass(frozen=True)
class WorkOffer:
    """Work one keyer may take: open tasks of one batch and pass."""

    batch_id: uuid.UUID
    batch_name: str
    template_name: str
    template_title: str
    pass_no: int
    documents_left: int
    priority: int
    oldest: dt.datetime


@dataclass(frozen=True)
class Claim:
    """A unit of work as handed to a keyer; plain values, safe to pass between threads."""

    unit_id: uuid.UUID
    batch_id: uuid.UUID
    pass_no: int
    keyer_id: uuid.UUID
    lease_expires_at: dt.datetime
    document_ids: tuple[uuid.UUID, ...]


# --- transactions ------------------------------------------------------------------------------


@contextmanager
def write_transaction(store: Store) -> Iterator[Session]:
    """A transaction that intends to write, with the write lock taken up front on SQLite.

    A deferred SQLite transaction that reads first and writes later can fail when another
    connection wrote in between; `BEGIN IMMEDIATE` waits for the lock (busy timeout) instead,
    and makes read-then-update sequences atomic. PostgreSQL needs nothing special here.
    """
    with store.transaction() as s:
        if store.dialect == "sqlite":
            s.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield s


@contextmanager
def write_connection(store: Store) -> Iterator[Connection]:
    """`write_transaction` on a plain connection, for Core-only work on the hot path."""
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def is_offline_error(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached (rather than a bug or a conflict)."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError):
        return _sqlstate(exc) not in _RETRY_SQLSTATES and "database is locked" not in str(exc.orig)
    return False


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", "") or "")


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    return _sqlstate(exc) in _RETRY_SQLSTATES


def _unavailable(store: Store) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"The central database at {redact(store.url)} cannot be reached.",
        "Check the network and that the server is running; keying goes on with the work you hold.",
    )


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else m.utcnow()


# --- leases ------------------------------------------------------------------------------------


def _sweep(conn: Connection | Session, dialect: str, now: dt.datetime) -> int:
    """Expire units whose lease ran out; their tasks that are not done go back to the queue."""
    query = select(_units.c.id).where(_units.c.state == "active", _units.c.lease_expires_at < now)
    if dialect == "postgresql":
        # A unit being pushed or swept by someone else right now is theirs to finish.
        query = query.with_for_update(skip_locked=True)
    expired = list(conn.scalars(query))
    if not expired:
        return 0
    conn.execute(
        update(_tasks)
        .where(_tasks.c.unit_id.in_(expired), _tasks.c.state != "done")
        .values(state="open", keyer_id=None, unit_id=None)
    )
    conn.execute(update(_units).where(_units.c.id.in_(expired)).values(state="expired"))
    log.info("expired %d work unit(s) whose lease ran out", len(expired))
    return len(expired)


def expire_leases(central: Store, *, now: dt.datetime | None = None) -> int:
    """Sweep expired leases now; returns how many units expired."""
    try:
        with write_connection(central) as conn:
            return _sweep(conn, central.dialect, _now(now))
    except OperationalError as exc:
        if is_offline_error(exc):
            raise _unavailable(central) from exc
        raise


def _sweep_if_needed(central: Store, now: dt.datetime) -> None:
    """Sweep only when something is due, so listing work stays a read most of the time."""
    with central.transaction() as s:
        due = s.scalar(
            select(_units.c.id).where(_units.c.state == "active", _units.c.lease_expires_at < now).limit(1)
        )
    if due is not None:
        expire_leases(central, now=now)


def renew(
    central: Store, unit_id: uuid.UUID, keyer_id: uuid.UUID, *,
    lease: dt.timedelta = DEFAULT_LEASE, now: dt.datetime | None = None,
) -> dt.datetime:
    """Extend a unit's lease; `LeaseLost` if it already ran out or is not this keyer's."""
    now = _now(now)
    expires = now + lease
    try:
        with write_transaction(central) as s:
            result = cast(CursorResult[Any], s.execute(
                update(_units)
                .where(
                    _units.c.id == unit_id,
                    _units.c.keyer_id == keyer_id,
                    _units.c.state == "active",
                    _units.c.lease_expires_at >= now,
                )
                .values(lease_expires_at=expires)
            ))
    except OperationalError as exc:
        if is_offline_error(exc):
            raise _unavailable(central) from exc
        raise
    if result.rowcount != 1:
        raise LeaseLost(
            "Your hold on this work ran out and its documents went back to the queue.",
            "What you finished is kept and will still be sent; claim new work to go on.",
        )
    return expires


def release(central: Store, unit_id: uuid.UUID, keyer_id: uuid.UUID, *, now: dt.datetime | None = None) -> None:
    """Give back a unit's documents that are not done yet, at once, as if the lease ran out.

    Everything not done centrally returns to the queue, so push the finished part first. A unit
    that is no longer active is left alone (releasing twice is harmless).
    """
    now = _now(now)
    with write_transaction(central) as s:
        query = select(_units.c.keyer_id, _units.c.state).where(_units.c.id == unit_id)
        if central.dialect == "postgresql":
            query = query.with_for_update()
        row = s.execute(query).one_or_none()
        if row is None or row.keyer_id != keyer_id:
            raise LeaseLost("This work unit is not yours to give back.", "Claim work of your own.")
        if row.state != "active":
            return
        s.execute(
            update(_tasks)
            .where(_tasks.c.unit_id == unit_id, _tasks.c.state != "done")
            .values(state="open", keyer_id=None, unit_id=None)
        )
        s.execute(
            update(_units).where(_units.c.id == unit_id).values(state="expired", lease_expires_at=now, finished_at=now)
        )
        _audit(s, "work.release", keyer_id, str(unit_id), {})


# --- offers ------------------------------------------------------------------------------------


def _claimable(keyer: Any) -> ColumnElement[bool]:
    """The condition that an open task is one this keyer (a value or a bind parameter) may take."""
    other = _tasks.alias("other_task")
    keyed_or_held = exists().where(other.c.document_id == _tasks.c.document_id, other.c.keyer_id == keyer)
    handed_other_pass = exists().where(
        _holds.c.document_id == _tasks.c.document_id,
        _holds.c.keyer_id == keyer,
        _holds.c.pass_no != _tasks.c.pass_no,
    )
    return and_(_tasks.c.state == "open", ~keyed_or_held, ~handed_other_pass)


def _offers_query(keyer_id: uuid.UUID, batch_id: uuid.UUID | None, pass_no: int | None) -> Select[Any]:
    priority = func.max(_batches.c.priority + _tasks.c.priority).label("priority")
    oldest = func.min(_tasks.c.created_at).label("oldest")
    query = (
        select(
            _tasks.c.batch_id, _batches.c.name, _templates.c.name.label("template_name"), _templates.c.title,
            _tasks.c.pass_no, func.count().label("left"), priority, oldest,
        )
        .join(_batches, _batches.c.id == _tasks.c.batch_id)
        .join(_templates, _templates.c.id == _batches.c.template_id)
        .where(_claimable(keyer_id), _batches.c.state == "open")
        .group_by(_tasks.c.batch_id, _batches.c.name, _templates.c.name, _templates.c.title, _tasks.c.pass_no)
        .order_by(priority.desc(), oldest, _tasks.c.pass_no, _batches.c.name)
    )
    if batch_id is not None:
        query = query.where(_tasks.c.batch_id == batch_id)
    if pass_no is not None:
        query = query.where(_tasks.c.pass_no == pass_no)
    return query


def _offers(conn: Connection | Session, keyer_id: uuid.UUID, batch_id: uuid.UUID | None = None,
            pass_no: int | None = None) -> list[WorkOffer]:
    offers = []
    for row in conn.execute(_offers_query(keyer_id, batch_id, pass_no)):
        oldest = row.oldest
        if isinstance(oldest, str):  # SQLite may hand an aggregate back as text
            oldest = dt.datetime.fromisoformat(oldest)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.timezone.utc)
        offers.append(WorkOffer(
            batch_id=row.batch_id, batch_name=row.name, template_name=row.template_name,
            template_title=row.title, pass_no=row.pass_no, documents_left=row.left,
            priority=int(row.priority or 0), oldest=oldest,
        ))
    return offers


def available_work(central: Store, keyer_id: uuid.UUID, *, now: dt.datetime | None = None) -> list[WorkOffer]:
    """What this keyer may claim now, best first (priority, then the oldest waiting)."""
    try:
        _sweep_if_needed(central, _now(now))
        with central.transaction() as s:
            auth.require_user(s, keyer_id, "work.claim")
            return _offers(s, keyer_id)
    except OperationalError as exc:
        if is_offline_error(exc):
            raise _unavailable(central) from exc
        raise


# --- claiming ----------------------------------------------------------------------------------

# Who may be handed work (the claim statement checks it in SQL, the careful path in Python).
CLAIMING_ROLES = auth.roles_for("work.claim")
# The claim is the hot path (hundreds of stations at shift start): its statements are built once,
# run on a plain connection, and the pick walks ix_tasks_queue in queue order, stopping after the
# documents it needs instead of sorting the whole queue.

_SWEEP_DUE = exists().where(_units.c.state == "active", _units.c.lease_expires_at < bindparam("b_now"))
# Written as ORDER BY ... LIMIT 1 rather than max(): the plan is a backward step in
# ix_tasks_queue even when the statistics are stale (a batch imported a minute ago).
_TOP_PRIORITY = (
    select(_tasks.c.priority)
    .where(_tasks.c.batch_id == bindparam("b_batch"), _tasks.c.pass_no == bindparam("b_pass"),
           _tasks.c.state == "open")
    .order_by(_tasks.c.priority.desc())
    .limit(1)
)
_NEXT_PRIORITY = _TOP_PRIORITY.where(_tasks.c.priority < bindparam("b_below"))
# The audit log's append lock in shared mode, as a one-time filter: PostgreSQL takes it before the
# statement locks any row, so a chained append waiting for it never waits on rows we hold. (The
# lock sits in a FROM subquery: PostgreSQL drops the select list of an EXISTS unevaluated.)
_AUDIT_GATE = exists(
    select(literal(1)).select_from(select(audit.UNCHAINED_LOCK.label("locked")).subquery("audit_lock"))
)
# One round trip: is the keyer active, is a sweep due, where does the queue start; on PostgreSQL
# also the audit gate and the per-keyer advisory lock (claims of one keyer from two stations run
# one after the other).
_OPENING = {
    (dialect, with_top): select(
        _users.c.active,
        _users.c.username,
        _users.c.role,
        _SWEEP_DUE.label("sweep_due"),
        *([_TOP_PRIORITY.scalar_subquery().label("top")] if with_top else []),
        *([audit.UNCHAINED_LOCK.label("audit_locked"),
           func.pg_advisory_xact_lock(bindparam("b_lock", type_=BigInteger)).label("locked")]
          if dialect == "postgresql" else []),
    ).where(_users.c.id == bindparam("b_keyer"))
    for dialect in ("postgresql", "sqlite") for with_top in (True, False)
}
_PICK = (
    select(_tasks.c.id, _tasks.c.document_id, _docs.c.seq)
    .join(_docs, _docs.c.id == _tasks.c.document_id)
    .where(
        _tasks.c.batch_id == bindparam("b_batch"), _tasks.c.pass_no == bindparam("b_pass"),
        _tasks.c.priority == bindparam("b_priority"), _claimable(bindparam("b_keyer")),
    )
    .order_by(_tasks.c.created_at)
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True, of=_tasks)
)
_TAKE = (
    update(_tasks)
    .where(_tasks.c.id.in_(bindparam("b_ids", expanding=True)), _tasks.c.state == "open")
    .values(state="claimed", keyer_id=bindparam("b_keyer"), unit_id=bindparam("b_unit"))
)
_NEW_UNIT = _units.insert()


def _advisory_key(keyer_id: uuid.UUID) -> int:
    value = keyer_id.int & 0xFFFF_FFFF_FFFF_FFFF
    return value - (1 << 64) if value >= (1 << 63) else value


def _pick_tasks(conn: Connection, keyer_id: uuid.UUID, batch_id: uuid.UUID, pass_no: int, limit: int,
                top: int | None) -> list[Any]:
    """Lock up to `limit` open tasks of one batch and pass this keyer may take, in queue order:
    the highest priority first, the oldest first within it."""
    params: dict[str, Any] = {"b_batch": batch_id, "b_pass": pass_no, "b_keyer": keyer_id}
    picked: list[Any] = []
    while top is not None and len(picked) < limit:
        picked += conn.execute(_PICK, {**params, "b_priority": top, "b_limit": limit - len(picked)}).all()
        if len(picked) < limit:
            top = conn.scalar(_NEXT_PRIORITY, {**params, "b_below": top})
    return picked


def _pg_claim_statement(*, new_unit: bool, fast: bool = False) -> Select[Any]:
    """PostgreSQL: pick, lock and take tasks, make the unit and the holds in ONE statement.

    `picked` locks open tasks in queue order, skipping rows other claimers hold; the unit row is
    inserted only when something was picked (foreign keys are checked at the end of the
    statement, so the tasks may point at it). Without `new_unit` it adds to a unit made by an
    earlier statement of the same claim (the next priority group).

    `fast` is the whole claim in one round trip for the usual case: it finds the top priority
    itself, takes only for an active keyer, appends the claim's audit event (unchained, see
    `workstation.audit`) and reports whether a lease sweep is due.
    """
    if fast:
        top: Any = _TOP_PRIORITY.scalar_subquery()
        keyer_ok: Any = exists().where(_users.c.id == bindparam("b_keyer"), _users.c.active.is_(True),
                                       _users.c.role.in_(CLAIMING_ROLES))
    else:
        top, keyer_ok = bindparam("b_priority"), literal(True)
    picked = (
        select(_tasks.c.id, _tasks.c.document_id)
        .where(
            _tasks.c.batch_id == bindparam("b_batch"), _tasks.c.pass_no == bindparam("b_pass"),
            _tasks.c.priority == top, _claimable(bindparam("b_keyer")), keyer_ok, _AUDIT_GATE,
        )
        .order_by(_tasks.c.created_at)
        .limit(bindparam("b_limit"))
        .with_for_update(skip_locked=True, of=_tasks)
        .cte("picked")
    )
    take = (
        update(_tasks)
        .where(_tasks.c.id == picked.c.id, _tasks.c.state == "open")
        .values(state="claimed", keyer_id=bindparam("b_keyer"), unit_id=bindparam("b_unit"))
        .returning(_tasks.c.document_id, _tasks.c.priority)
        .cte("take")
    )
    holds = (
        pg_insert(_holds)
        .from_select(
            ["document_id", "keyer_id", "pass_no", "created_at"],
            select(picked.c.document_id, bindparam("b_keyer", type_=_holds.c.keyer_id.type),
                   bindparam("b_pass", type_=_holds.c.pass_no.type),
                   bindparam("b_now", type_=_holds.c.created_at.type)),
        )
        .on_conflict_do_nothing(index_elements=["document_id", "keyer_id"])
        .returning(_holds.c.document_id)
        .cte("new_holds")
    )
    query = select(take.c.document_id, take.c.priority, _docs.c.seq).join(_docs, _docs.c.id == take.c.document_id)
    if fast:
        query = query.add_columns(_SWEEP_DUE.label("sweep_due"))
    if new_unit:
        unit = (
            _units.insert()
            .from_select(
                ["id", "batch_id", "pass_no", "keyer_id", "state", "claimed_at", "lease_expires_at"],
                select(
                    bindparam("b_unit", type_=_units.c.id.type), bindparam("b_batch", type_=_units.c.batch_id.type),
                    bindparam("b_pass", type_=_units.c.pass_no.type),
                    bindparam("b_keyer", type_=_units.c.keyer_id.type),
                    literal("active", type_=_units.c.state.type), bindparam("b_now", type_=_units.c.claimed_at.type),
                    bindparam("b_expires", type_=_units.c.lease_expires_at.type),
                ).where(exists(select(picked.c.id))),
            )
            .returning(_units.c.id)
            .cte("new_unit")
        )
        query = query.add_cte(unit)
    if fast:
        details = func.json_build_object(
            literal_column("'batch_id'"), sql_cast(bindparam("b_batch_text"), Text),
            literal_column("'documents'"), select(func.count()).select_from(picked).scalar_subquery(),
            literal_column("'pass_no'"), sql_cast(bindparam("b_pass"), Integer),
        )
        event = (
            _events.insert()
            .from_select(
                ["id", "at", "user_id", "username", "action", "subject", "details", "prev_hash", "hash"],
                select(
                    bindparam("b_event", type_=_events.c.id.type), bindparam("b_now", type_=_events.c.at.type),
                    _users.c.id, _users.c.username, literal("work.claim", type_=_events.c.action.type),
                    bindparam("b_subject", type_=_events.c.subject.type), details,
                    literal("", type_=_events.c.prev_hash.type), literal("", type_=_events.c.hash.type),
                ).where(_users.c.id == bindparam("b_keyer"), exists(select(picked.c.id))),
            )
            .returning(_events.c.seq)
            .cte("claim_event")
        )
        query = query.add_cte(event)
    return query.add_cte(holds)


_PG_CLAIM_FIRST = _pg_claim_statement(new_unit=True)
_PG_CLAIM_MORE = _pg_claim_statement(new_unit=False)
_PG_CLAIM_FAST = _pg_claim_statement(new_unit=True, fast=True)


def _claim_in_one_statement(
    central: Store, keyer_id: uuid.UUID, batch_id: uuid.UUID, pass_no: int, limit: int,
    lease: dt.timedelta, now: dt.datetime,
) -> Claim | None:
    """PostgreSQL, batch and pass named (the usual claim): one statement, one round trip.

    A single statement is atomic on its own, so it runs in autocommit: the tasks, the unit, the
    holds and the audit event commit together, with no BEGIN/COMMIT round trips. Claims of one
    keyer from two stations are not serialised here; the unique (document, keyer) constraints
    catch a clash. None means: take the careful path, which also says why nothing was there (an
    unknown or disabled user, no work) and settles a lost race.
    """
    unit_id = m.new_id()
    expires = now + lease
    params = {"b_keyer": keyer_id, "b_batch": batch_id, "b_pass": pass_no, "b_unit": unit_id,
              "b_now": now, "b_expires": expires, "b_limit": limit, "b_event": m.new_id(),
              "b_subject": str(unit_id), "b_batch_text": str(batch_id)}
    try:
        with central.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            taken = conn.execute(_PG_CLAIM_FAST, params).all()
    except DBAPIError as exc:
        if is_offline_error(exc) or not _retryable(exc):
            raise
        return None
    if not taken:
        return None
    if taken[0].sweep_due:
        expire_leases(central, now=now)
    more: list[Any] = []
    if len(taken) < limit:  # the top priority ran out: the next one may fill the unit
        with write_connection(central) as conn:
            top = taken[0].priority
            while len(taken) + len(more) < limit:
                top = conn.scalar(_NEXT_PRIORITY, {**params, "b_below": top})
                if top is None:
                    break
                more += conn.execute(_PG_CLAIM_MORE, {**params, "b_priority": top,
                                                      "b_limit": limit - len(taken) - len(more)}).all()
            if more:  # its own event: what this transaction added to the unit
                _audit(conn, "work.claim", keyer_id, str(unit_id),
                       {"batch_id": str(batch_id), "pass_no": pass_no, "documents": len(more)}, unchained=True)
    rows = sorted([*taken, *more], key=lambda row: row.seq)
    return Claim(unit_id, batch_id, pass_no, keyer_id, expires, tuple(row.document_id for row in rows))


def _chain_audit_if_due(central: Store) -> None:
    """Chain the audit events claims appended unchained, at most every AUDIT_CHAIN_EVERY seconds
    per process (one thread does it; the others go on claiming)."""
    global _chained_at
    if time.monotonic() - _chained_at < AUDIT_CHAIN_EVERY or not _chain_guard.acquire(blocking=False):
        return
    try:
        if time.monotonic() - _chained_at < AUDIT_CHAIN_EVERY:
            return
        chained = audit.chain_pending(central.engine)
        log.debug("chained %d audit event(s) appended by claims", chained)
    except DBAPIError as exc:  # the claim itself is committed; a later claim tries again
        log.warning("could not chain the audit log's newest events: %s", exc.__class__.__name__)
    finally:
        _chained_at = time.monotonic()
        _chain_guard.release()


def _take_pg(conn: Connection, params: dict[str, Any], limit: int, top: int | None) -> list[Any]:
    taken: list[Any] = []
    while top is not None and len(taken) < limit:
        statement = _PG_CLAIM_MORE if taken else _PG_CLAIM_FIRST
        taken += conn.execute(statement, {**params, "b_priority": top, "b_limit": limit - len(taken)}).all()
        if len(taken) < limit:
            top = conn.scalar(_NEXT_PRIORITY, {**params, "b_below": top})
    return taken


def _take_generic(conn: Connection, params: dict[str, Any], limit: int, top: int | None) -> list[Any]:
    """SQLite (already holding the write lock): pick, then write, statement by statement."""
    picked = _pick_tasks(conn, params["b_keyer"], params["b_batch"], params["b_pass"], limit, top)
    if not picked:
        return []
    conn.execute(_NEW_UNIT, {
        "id": params["b_unit"], "batch_id": params["b_batch"], "pass_no": params["b_pass"],
        "keyer_id": params["b_keyer"], "state": "active", "claimed_at": params["b_now"],
        "lease_expires_at": params["b_expires"], "finished_at": None,
    })
    taken = conn.execute(_TAKE, {"b_ids": [row.id for row in picked], "b_keyer": params["b_keyer"],
                                 "b_unit": params["b_unit"]}).rowcount
    if taken != len(picked):  # cannot happen under the write lock; never hand out a task twice
        raise _LostRace()
    conn.execute(
        upsert_insert(conn.dialect.name, _holds).on_conflict_do_nothing(index_elements=["document_id", "keyer_id"]),
        [{"document_id": row.document_id, "keyer_id": params["b_keyer"], "pass_no": params["b_pass"],
          "created_at": params["b_now"]} for row in picked],
    )
    return picked


def _claim_once(
    conn: Connection, keyer_id: uuid.UUID, batch_id: uuid.UUID | None, pass_no: int | None,
    limit: int, lease: dt.timedelta, now: dt.datetime,
) -> Claim | None:
    dialect = conn.dialect.name
    explicit = batch_id is not None and pass_no is not None
    unit_id = m.new_id()
    expires = now + lease
    opening = _OPENING[("postgresql" if dialect == "postgresql" else "sqlite", explicit)]
    params: dict[str, Any] = {"b_keyer": keyer_id, "b_now": now}
    if explicit:
        params.update(b_batch=batch_id, b_pass=pass_no)
    if dialect == "postgresql":
        params["b_lock"] = _advisory_key(keyer_id)
    first = conn.execute(opening, params).one_or_none()
    if first is None:
        raise NotFound(f"User {keyer_id} is not in the central database.", "Log in again.")
    if not first.active:
        raise PermissionDenied("This account is disabled.", "Ask a supervisor to enable it.")
    auth.require(auth.Actor(keyer_id, first.username, first.role, ""), "work.claim")
    swept = _sweep(conn, dialect, now) if first.sweep_due else 0

    if explicit and not swept:
        candidates = [(batch_id, pass_no, first.top)]
    elif explicit:
        top = conn.scalar(_TOP_PRIORITY, {"b_batch": batch_id, "b_pass": pass_no})
        candidates = [(batch_id, pass_no, top)]
    else:
        candidates = [
            (o.batch_id, o.pass_no, conn.scalar(_TOP_PRIORITY, {"b_batch": o.batch_id, "b_pass": o.pass_no}))
            for o in _offers(conn, keyer_id, batch_id, pass_no)
        ]
    take = _take_pg if dialect == "postgresql" else _take_generic
    for cand_batch, cand_pass, top in candidates:
        call = {"b_keyer": keyer_id, "b_batch": cand_batch, "b_pass": cand_pass, "b_unit": unit_id,
                "b_now": now, "b_expires": expires}
        taken = take(conn, call, limit, top)
        if taken:
            break
    else:
        return None
    assert cand_batch is not None and cand_pass is not None
    return _claimed(conn, keyer_id, cand_batch, cand_pass, unit_id, expires, taken)


def _claimed(conn: Connection, keyer_id: uuid.UUID, batch_id: uuid.UUID, pass_no: int, unit_id: uuid.UUID,
             expires: dt.datetime, taken: Sequence[Any]) -> Claim:
    document_ids = tuple(row.document_id for row in sorted(taken, key=lambda row: row.seq))
    _audit(conn, "work.claim", keyer_id, str(unit_id),
           {"batch_id": str(batch_id), "pass_no": pass_no, "documents": len(document_ids)}, unchained=True)
    return Claim(unit_id, batch_id, pass_no, keyer_id, expires, document_ids)


class _LostRace(Exception):
    """Internal: another claimer got there first; the claim is tried again."""


def claim(
    central: Store, keyer_id: uuid.UUID, *, batch_id: uuid.UUID | None = None, pass_no: int | None = None,
    max_documents: int = 25, lease: dt.timedelta = DEFAULT_LEASE, now: dt.datetime | None = None,
) -> Claim:
    """Claim up to `max_documents` open tasks of one batch and pass in one short transaction.

    Without `batch_id`/`pass_no` the best offer is taken (see `available_work`). The documents
    come back in batch order. Raises `NoWorkAvailable` when there is nothing this keyer may take.
    """
    if max_documents < 1:
        raise ValueError("max_documents must be at least 1")
    if pass_no is not None and pass_no not in (m.PASS_FIRST, m.PASS_SECOND, m.PASS_THIRD):
        raise ValueError(f"no such pass: {pass_no}")
    now = _now(now)
    result: Claim | None = None
    if central.dialect == "postgresql" and batch_id is not None and pass_no is not None:
        try:
            result = _claim_in_one_statement(central, keyer_id, batch_id, pass_no, max_documents, lease, now)
        except DBAPIError as exc:
            if is_offline_error(exc):
                raise _unavailable(central) from exc
            raise
        if result is not None:
            _chain_audit_if_due(central)
            return result
    for attempt in range(1, _CLAIM_ATTEMPTS + 1):
        try:
            with write_connection(central) as conn:
                result = _claim_once(conn, keyer_id, batch_id, pass_no, max_documents, lease, now)
            break
        except _LostRace:
            log.debug("claim lost a race (attempt %d)", attempt)
        except DBAPIError as exc:
            if is_offline_error(exc):
                raise _unavailable(central) from exc
            if not _retryable(exc) or attempt == _CLAIM_ATTEMPTS:
                raise
            log.debug("claim conflicted (attempt %d): %s", attempt, exc.__class__.__name__)
    if result is None:
        where = ""
        if batch_id is not None:
            where += " in this batch"
        if pass_no is not None:
            where += f" in pass {pass_no}"
        raise NoWorkAvailable(
            f"There is no work you can take{where} right now.",
            "Documents you keyed or held in one pass are never offered to you in another. "
            "Try again later or ask a supervisor for more work.",
        )
    log.debug("claimed unit %s: %d document(s), pass %d", result.unit_id, len(result.document_ids), result.pass_no)
    if central.dialect == "postgresql":
        _chain_audit_if_due(central)
    return result


def claim_by_unit(central: Store, unit_id: uuid.UUID) -> Claim:
    """The claim behind an existing unit (for a pull that was interrupted)."""
    with central.transaction() as s:
        unit = s.execute(select(_units).where(_units.c.id == unit_id)).one_or_none()
        if unit is None:
            raise NotFound(f"Work unit {unit_id} is not in the central database.", "Claim new work.")
        docs = s.scalars(
            select(_tasks.c.document_id)
            .join(_docs, _docs.c.id == _tasks.c.document_id)
            .where(_tasks.c.unit_id == unit_id)
            .order_by(_docs.c.seq)
        ).all()
    return Claim(unit.id, unit.batch_id, unit.pass_no, unit.keyer_id, unit.lease_expires_at, tuple(docs))


# --- shared helpers ----------------------------------------------------------------------------


def upsert_insert(dialect: str, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT, for the dialects the workstation supports."""
    return pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)


def _audit(conn: Connection | Session, action: str, actor: uuid.UUID, subject: str,
           details: dict[str, object], *, unchained: bool = False) -> None:
    """Record in the audit log, in the caller's transaction; `unchained` for claims, which hold
    the append lock in shared mode (see `workstation.audit`)."""
    append = audit.record_unchained if unchained else audit.record
    if isinstance(conn, Session):
        append(conn, action, actor=actor, subject=subject, details=details)
        return
    with Session(bind=conn) as s:  # joins the claim's transaction; commits with it
        append(s, action, actor=actor, subject=subject, details=details)
        s.flush()
