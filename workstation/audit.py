"""The audit log: append-only, each event's hash chained to the one before it.

Every service that changes who may do what, or what happened to a piece of work, calls `record`
inside its own transaction, so the event commits (or rolls back) with the change it describes.
An event holds who, when, what and a subject; `details` hold counts, codes and identifiers, never
a keyed value (callers pass no values; `record` refuses long free text as a second guard).

The chain: `hash = sha256(prev_hash + canonical JSON of the event)`. Editing an event breaks its
own hash; deleting one breaks the next event's `prev_hash`. `verify` walks the chain and names
the first broken event. Appends are serialised so two writers never fork the chain: on
PostgreSQL by a transaction-scoped advisory lock, on SQLite by the database's single writer (the
event is inserted first, which takes the write lock, then chained to its predecessor).

Unchained appends (PostgreSQL): a chained append holds the lock until its commit, so appenders
queue for one disk flush each (a few hundred a second at most). The claim, the one hot path
(hundreds of stations at shift start), appends unchained instead: it holds the same advisory lock
in *shared* mode (`UNCHAINED_LOCK`, taken before the row gets its `seq`), so such appends run side
by side and share flushes, and writes the event with empty hashes, in its own transaction as ever.
`chain_pending` takes the lock exclusively for an instant, which waits for the appends in flight
to commit and so fixes a horizon below which every `seq` is settled, then chains the unchained
events up to it in `seq` order under a second lock (one chainer at a time) while appends go on.
`record` takes the append lock and then the chainer lock, and chains the whole tail before its own
event. The claimers call `chain_pending` every few seconds. Until then the newest events are not
yet tamper-evident; `verify` counts them as pending, and `workstation audit verify` chains first.

A chain alone cannot tell that its newest events were cut off; the count and last hash printed by
`workstation audit verify` are meant to be noted by the administrator (see the README).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, func, literal_column, select, text, update
from sqlalchemy.orm import Session

from workstation import models as m

if TYPE_CHECKING:
    from workstation.auth import Actor

# "KWAU" as an integer: the advisory lock that serialises appends on PostgreSQL.
_PG_LOCK_KEY = 0x4B574155
# "KWAV": one chainer of unchained events at a time (taken after _PG_LOCK_KEY, never before it).
_PG_CHAIN_KEY = 0x4B574156
# Evaluated by an unchained append before its INSERT (see the module docstring).
UNCHAINED_LOCK: ColumnElement[None] = func.pg_advisory_xact_lock_shared(literal_column(str(_PG_LOCK_KEY)))
# Details are short codes and counts; a long string here is most likely a keyed value.
_MAX_DETAIL_TEXT = 200
CSV_COLUMNS = ("seq", "id", "at", "user_id", "username", "action", "subject", "details", "prev_hash", "hash")


def _canonical(event: m.AuditEvent) -> bytes:
    body = {
        "id": str(event.id),
        "at": event.at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "user_id": str(event.user_id) if event.user_id else "",
        "username": event.username,
        "action": event.action,
        "subject": event.subject,
        "details": event.details or {},
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(prev_hash: str, event: m.AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + _canonical(event)).hexdigest()


def _check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, str) and len(value) > _MAX_DETAIL_TEXT:
            raise ValueError(f"audit detail {key!r} is {len(value)} characters; details hold codes, not values")
        if not isinstance(value, (str, int, float, bool, type(None))):
            raise ValueError(f"audit detail {key!r} must be a plain value, not {type(value).__name__}")
        clean[str(key)] = value
    return clean


def _who(s: Session, actor: Actor | uuid.UUID | None) -> tuple[uuid.UUID | None, str]:
    if actor is None:
        return None, ""
    if isinstance(actor, uuid.UUID):
        username = s.scalar(select(m.User.username).where(m.User.id == actor))
        return actor, username or ""
    if actor.id == uuid.UUID(int=0):  # auth.operator: a headless command run without an account
        return None, actor.username
    return actor.id, actor.username


def record(
    s: Session,
    action: str,
    *,
    actor: Actor | uuid.UUID | None = None,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
    username: str = "",
) -> m.AuditEvent:
    """Append one event in the caller's transaction. `username` names an actor with no account
    (a failed login for an unknown name)."""
    user_id, name = _who(s, actor)
    event = m.AuditEvent(
        id=m.new_id(), at=at or m.utcnow(), user_id=user_id, username=(name or username)[:64], action=action,
        subject=subject[:256], details=_check_details(details or {}), prev_hash="", hash="",
    )
    bind = s.get_bind()
    if bind.dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_KEY})
        prev, _ = _chain_tail(s)  # unchained appends committed before the lock was granted go first
        s.add(event)
        s.flush()
    else:
        s.add(event)
        s.flush()  # the insert takes SQLite's write lock: nobody appends between here and commit
        prev = s.scalar(select(m.AuditEvent.hash).where(m.AuditEvent.seq < event.seq)
                        .order_by(m.AuditEvent.seq.desc()).limit(1)) or ""
    digest = event_hash(prev, event)
    s.execute(update(m.AuditEvent).where(m.AuditEvent.seq == event.seq).values(prev_hash=prev, hash=digest),
              execution_options={"synchronize_session": False})
    event.prev_hash, event.hash = prev, digest
    return event


def record_unchained(
    s: Session,
    action: str,
    *,
    actor: Actor | uuid.UUID | None = None,
    subject: str = "",
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append one event in the caller's transaction without waiting for other appenders; it is
    chained later by `chain_pending`. Elsewhere than PostgreSQL the same as `record`."""
    if s.get_bind().dialect.name != "postgresql":
        record(s, action, actor=actor, subject=subject, details=details, at=at)
        return
    user_id, name = _who(s, actor)
    s.execute(select(UNCHAINED_LOCK))
    s.add(m.AuditEvent(
        id=m.new_id(), at=at or m.utcnow(), user_id=user_id, username=name[:64], action=action,
        subject=subject[:256], details=_check_details(details or {}), prev_hash="", hash="",
    ))
    s.flush()


def _chain_tail(s: Session, upto: int | None = None) -> tuple[str, int]:
    """Chain the unchained newest events (up to `seq` `upto`) in `seq` order; returns the chain's
    last hash and how many events it chained.

    The caller holds the chainer lock, and every `seq` up to `upto` (or every one, when the caller
    holds the append lock exclusively) belongs to an append that committed or rolled back.
    Unchained events are always a tail: everything after the newest chained event (found by
    walking the primary key backwards).
    """
    table = m.AuditEvent.__table__
    anchor = select(table.c.seq).where(table.c.hash != "").order_by(table.c.seq.desc()).limit(1)
    query = (
        select(table.c.seq, table.c.id, table.c.at, table.c.user_id, table.c.username, table.c.action,
               table.c.subject, table.c.details, table.c.hash)
        .where(table.c.seq >= func.coalesce(anchor.scalar_subquery(), 0))
        .order_by(table.c.seq)
    )
    rows = s.execute(query if upto is None else query.where(table.c.seq <= upto)).all()
    prev = ""
    if rows and rows[0].hash:
        prev, rows = rows[0].hash, rows[1:]
    chained = []
    for row in rows:
        digest = event_hash(prev, row)  # type: ignore[arg-type]  # a row has the event's fields
        chained.append({"b_seq": row.seq, "b_prev": prev, "b_hash": digest})
        prev = digest
    if chained:  # PostgreSQL (the only dialect with unchained events): one statement for all
        s.execute(_CHAIN_UPDATE, {"seqs": [c["b_seq"] for c in chained], "prevs": [c["b_prev"] for c in chained],
                                  "hashes": [c["b_hash"] for c in chained]})
    return prev, len(chained)


_CHAIN_UPDATE = text(
    "UPDATE audit_events SET prev_hash = u.prev_hash, hash = u.hash"
    " FROM unnest(CAST(:seqs AS integer[]), CAST(:prevs AS varchar[]), CAST(:hashes AS varchar[]))"
    " AS u(seq, prev_hash, hash) WHERE audit_events.seq = u.seq"
)


def chain_pending(engine: Engine) -> int:
    """Chain the events appended unchained so far; returns how many it chained.

    Appends wait only for the instant the append lock is held (in a transaction of its own),
    not while the events are chained. Runs its own transactions.
    """
    if engine.dialect.name != "postgresql":
        return 0  # only PostgreSQL appends unchained
    table = m.AuditEvent.__table__
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        horizon = conn.scalar(select(func.max(table.c.seq)))
        if horizon is None:
            return 0
        # A statement of its own, so a transaction of its own: granted once every append that may
        # hold a `seq` up to the horizon has finished, and released at once.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    with Session(engine) as s, s.begin():
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_KEY})
        return _chain_tail(s, upto=horizon)[1]


@dataclass(frozen=True)
class Verification:
    events: int
    last_hash: str
    broken_seq: int | None = None
    problem: str = ""
    pending: int = 0  # newest events appended unchained, not chained yet

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def _events(s: Session, batch: int = 5000) -> Iterator[m.AuditEvent]:
    last = 0
    while True:
        rows = s.scalars(select(m.AuditEvent).where(m.AuditEvent.seq > last)
                         .order_by(m.AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        s.expunge_all()


def verify(s: Session) -> Verification:
    """Walk the chain from the first event; the first event that does not fit is named."""
    prev = ""
    count = 0
    pending = 0
    for event in _events(s):
        if event.hash == "" and event.prev_hash == "":  # appended unchained; chained later
            pending += 1
            continue
        count += 1
        if pending:
            return Verification(count, prev, event.seq,
                                f"event {event.seq} ({event.action}) is chained after events that are not: "
                                "an event's hashes were blanked")
        if event.prev_hash != prev:
            return Verification(count, prev, event.seq,
                                f"event {event.seq} ({event.action}) does not follow the event before it: "
                                "an event was deleted or reordered")
        if event_hash(prev, event) != event.hash:
            return Verification(count, prev, event.seq,
                                f"event {event.seq} ({event.action}) was changed after it was written")
        prev = event.hash
    return Verification(count, prev, pending=pending)


def export_csv(s: Session, out: Path, *, by: Actor) -> int:
    """Write every event to `out` as CSV (UTF-8); returns the number of events.

    The export itself is recorded (in `s`'s transaction) after the events it wrote.
    """
    from workstation.auth import require

    require(by, "audit.export")
    count = 0
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for event in _events(s):
            writer.writerow([
                event.seq, event.id, event.at.isoformat(), event.user_id or "", event.username, event.action,
                event.subject, json.dumps(event.details, sort_keys=True, ensure_ascii=False), event.prev_hash,
                event.hash,
            ])
            count += 1
    tmp.replace(out)
    record(s, "audit.export", actor=by, details={"events": count})
    return count
