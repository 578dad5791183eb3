"""Reading a claimed unit out of the local store, and committing keyed fields to it.

A keyed field is durable when the keyer leaves it: `save` commits one `SaveJob` in one short
transaction of its own (WAL + synchronous=FULL, see workstation.store), so a crash or a power cut
loses at most the field being typed. A job is a frozen dataclass holding plain values, so the UI
can hand it to its single writer thread; `save` opens its own session and is safe there.

Blindness: everything here reads and writes only this keyer's own entries of the unit's
documents. The local store never holds another pass's values, and nothing here would read them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Connection, Table, bindparam, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from workstation import auth, catalog
from workstation import models as m
from workstation.errors import KnownError, LeaseLost, NotFound
from workstation.keying.records import DocumentInfo
from workstation.store import Store
from workstation.templates import FormTemplate

log = logging.getLogger(__name__)

UNIT_FINISHED_KIND = "unit_finished"


class SaveFailed(KnownError):
    """The local store refused a write (disk full, file locked, removed)."""


@dataclass(frozen=True)
class ValueRow:
    """One field's stored value with its figures (absolute totals, not increments)."""

    id: uuid.UUID
    field_path: str
    value: str
    flag: str
    overridden: bool
    keystrokes: int
    active_ms: int
    pause_ms: int
    started_at: dt.datetime
    saved_at: dt.datetime


@dataclass(frozen=True)
class NewEntry:
    """An entry to create if it is not there yet (opening a document)."""

    document_id: uuid.UUID
    pass_no: int
    unit_id: uuid.UUID
    started_at: dt.datetime


@dataclass(frozen=True)
class UnitFinish:
    """Finish the unit and queue it for the push, in the same transaction."""

    unit_id: uuid.UUID
    outbox_id: uuid.UUID
    finished_at: dt.datetime


@dataclass(frozen=True)
class SaveJob:
    """Everything one write to one entry needs; applied by `save` in one transaction.

    Order inside the transaction: create the entry (if `new_entry`), delete `delete_paths`,
    upsert `values` by (entry, field_path), set the entry's cursor, finish the entry (if
    `finished_at`), finish the unit and write its outbox item (if `finish_unit`).
    """

    entry_id: uuid.UUID
    keyer_id: uuid.UUID
    cursor_path: str
    values: tuple[ValueRow, ...] = ()
    delete_paths: tuple[str, ...] = ()
    new_entry: NewEntry | None = None
    finished_at: dt.datetime | None = None
    finish_unit: UnitFinish | None = None


_entries = cast(Table, m.Entry.__table__)
_values = cast(Table, m.FieldValue.__table__)
_units = cast(Table, m.WorkUnit.__table__)
_outbox = cast(Table, m.OutboxItem.__table__)

_VALUE_COLUMNS = (
    "id", "entry_id", "keyer_id", "field_path", "value", "flag", "overridden",
    "keystrokes", "active_ms", "pause_ms", "started_at", "saved_at",
)
# Built once: SQLAlchemy caches the compiled form, so a save costs one round trip per statement.
_upsert = sqlite_insert(_values).values({name: bindparam(name) for name in _VALUE_COLUMNS})
_UPSERT_VALUE = _upsert.on_conflict_do_update(
    index_elements=[_values.c.entry_id, _values.c.field_path],
    # The row keeps its id and started_at (first time the field was entered).
    set_={name: _upsert.excluded[name] for name in (
        "keyer_id", "value", "flag", "overridden", "keystrokes", "active_ms", "pause_ms", "saved_at",
    )},
)
_DELETE_VALUE = _values.delete().where(
    _values.c.entry_id == bindparam("b_entry"), _values.c.field_path == bindparam("b_path")
)
_SET_CURSOR = update(_entries).where(_entries.c.id == bindparam("b_entry")).values(cursor_path=bindparam("b_cursor"))
_FINISH_ENTRY = (
    update(_entries)
    .where(_entries.c.id == bindparam("b_entry"), _entries.c.finished_at.is_(None))
    .values(finished_at=bindparam("b_at", type_=_entries.c.finished_at.type))
)
_NEW_ENTRY = sqlite_insert(_entries).values(
    {name: bindparam(name) for name in ("id", "document_id", "pass_no", "keyer_id", "unit_id", "started_at", "cursor_path")}
).on_conflict_do_nothing()


def save(local: Store, job: SaveJob) -> None:
    """Commit `job` to the local store in one transaction of its own (safe on any thread).

    A Core connection rather than an ORM Session: the statements are prebuilt and cached, and
    skipping the Session machinery halves the CPU cost of a save (measured in bench_keying).
    """
    save_many(local, (job,))


def save_many(local: Store, jobs: Sequence[SaveJob]) -> None:
    """Commit `jobs` in order, all in one transaction: all of them or none.

    For writers that may hold back jobs (a simulated station has no power to lose and commits a
    document's fields together); a keyer's station commits each field on its own with `save`.
    """
    try:
        with local.engine.begin() as s:
            for job in jobs:
                _apply(s, job)
    except OperationalError as exc:
        log.error("saving to the local store failed: %s", exc.orig)
        raise SaveFailed(
            f"The keyed work could not be saved on this computer: {exc.orig}.",
            "Check free disk space; the value is still in the form, so leave the field again to retry.",
        ) from exc


def _apply(s: Connection, job: SaveJob) -> None:
    if job.new_entry is not None:
        e = job.new_entry
        s.execute(_NEW_ENTRY, {
            "id": job.entry_id, "document_id": e.document_id, "pass_no": e.pass_no,
            "keyer_id": job.keyer_id, "unit_id": e.unit_id, "started_at": e.started_at,
            "cursor_path": job.cursor_path,
        })
    if job.delete_paths:
        s.execute(_DELETE_VALUE, [{"b_entry": job.entry_id, "b_path": p} for p in job.delete_paths])
    if job.values:
        s.execute(_UPSERT_VALUE, [_value_params(job, row) for row in job.values])
    s.execute(_SET_CURSOR, {"b_entry": job.entry_id, "b_cursor": job.cursor_path})
    if job.finished_at is not None:
        s.execute(_FINISH_ENTRY, {"b_entry": job.entry_id, "b_at": job.finished_at})
    if job.finish_unit is not None:
        _finish_unit(s, job.finish_unit)


def _value_params(job: SaveJob, row: ValueRow) -> dict[str, object]:
    return {
        "id": row.id, "entry_id": job.entry_id, "keyer_id": job.keyer_id, "field_path": row.field_path,
        "value": row.value, "flag": row.flag, "overridden": row.overridden, "keystrokes": row.keystrokes,
        "active_ms": row.active_ms, "pause_ms": row.pause_ms, "started_at": row.started_at,
        "saved_at": row.saved_at,
    }


def _finish_unit(s: Connection, finish: UnitFinish) -> None:
    state = s.execute(select(_units.c.state).where(_units.c.id == finish.unit_id)).scalar_one_or_none()
    if state != "active":
        raise LeaseLost(
            "This work unit is no longer yours to finish "
            f"({'it is not on this station' if state is None else 'its state is ' + state}).",
            "Claim new work; what you keyed stays on this computer.",
        )
    s.execute(
        update(_units).where(_units.c.id == finish.unit_id).values(state="finished", finished_at=finish.finished_at)
    )
    s.execute(_outbox.insert().values(
        id=finish.outbox_id, kind=UNIT_FINISHED_KIND, unit_id=finish.unit_id,
        payload={"unit_id": str(finish.unit_id)}, created_at=finish.finished_at,
    ))


# --- loading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEntry:
    """This keyer's entry of one document, as the local store has it."""

    id: uuid.UUID
    document_id: uuid.UUID
    started_at: dt.datetime
    finished_at: dt.datetime | None
    cursor_path: str
    values: tuple[ValueRow, ...] = field(default=())


@dataclass(frozen=True)
class UnitSnapshot:
    unit_id: uuid.UUID
    pass_no: int
    template: FormTemplate
    documents: tuple[DocumentInfo, ...]
    entries: dict[uuid.UUID, StoredEntry]  # by document id


def load_unit(local: Store, unit_id: uuid.UUID, keyer_id: uuid.UUID) -> UnitSnapshot:
    """The unit's template, documents and this keyer's saved work, read in one transaction.

    Raises LeaseLost when the unit is not active or belongs to someone else, and KnownError
    when it has no documents on this station.
    """
    with local.transaction() as s:
        unit = s.get(m.WorkUnit, unit_id)
        if unit is None:
            raise NotFound(f"Work unit {unit_id} is not on this station.", "Claim work again.")
        if unit.keyer_id != keyer_id:
            raise LeaseLost("This work unit is held by another keyer.", "Claim your own work.")
        auth.require_user(s, keyer_id, "work.claim")  # the account as pulled with the work
        if unit.state != "active":
            if unit.state == "finished":
                message = "This work unit is finished already; it waits to be sent or was sent."
            else:
                message = f"The lease on this work unit is gone (state: {unit.state})."
            raise LeaseLost(message, "Claim new work.")
        template = catalog.template_for_batch(s, unit.batch_id)
        tasks = s.execute(
            select(m.Task.document_id, m.Task.field_paths, m.Document.seq, m.Document.source_name)
            .join(m.Document, m.Document.id == m.Task.document_id)
            .where(m.Task.unit_id == unit_id, m.Task.keyer_id == keyer_id, m.Task.pass_no == unit.pass_no)
            .order_by(m.Document.seq, m.Document.id)
        ).all()
        if not tasks:
            raise KnownError("This work unit has no documents on this station.", "Pull the work again.")
        doc_ids = [t.document_id for t in tasks]
        pages: dict[uuid.UUID, list[str]] = {d: [] for d in doc_ids}
        for doc_id, sha in s.execute(
            select(m.Page.document_id, m.Page.image_sha256)
            .where(m.Page.document_id.in_(doc_ids))
            .order_by(m.Page.document_id, m.Page.page_no)
        ):
            pages[doc_id].append(sha)
        entries = s.scalars(
            select(m.Entry).where(
                m.Entry.document_id.in_(doc_ids), m.Entry.keyer_id == keyer_id, m.Entry.pass_no == unit.pass_no
            )
        ).all()
        values: dict[uuid.UUID, list[ValueRow]] = {e.id: [] for e in entries}
        if entries:
            for v in s.scalars(select(m.FieldValue).where(m.FieldValue.entry_id.in_(list(values)))):
                values[v.entry_id].append(ValueRow(
                    v.id, v.field_path, v.value, v.flag, v.overridden, v.keystrokes, v.active_ms,
                    v.pause_ms, v.started_at, v.saved_at,
                ))
        documents = tuple(
            DocumentInfo(
                t.document_id, t.seq, t.source_name, tuple(pages[t.document_id]),
                tuple(t.field_paths) if t.field_paths is not None else None,
            )
            for t in tasks
        )
        stored = {
            e.document_id: StoredEntry(e.id, e.document_id, e.started_at, e.finished_at, e.cursor_path, tuple(values[e.id]))
            for e in entries
        }
        return UnitSnapshot(unit_id, unit.pass_no, template, documents, stored)


@dataclass(frozen=True)
class DayTotals:
    keystrokes: int = 0
    fields: int = 0
    active_ms: int = 0
    documents: int = 0


def day_totals(local: Store, keyer_id: uuid.UUID, since: dt.datetime) -> DayTotals:
    """This keyer's saved figures on this station since `since` (the start of the local day)."""
    with local.transaction() as s:
        keys, count, active = s.execute(
            select(
                func.coalesce(func.sum(m.FieldValue.keystrokes), 0),
                func.count(m.FieldValue.id),
                func.coalesce(func.sum(m.FieldValue.active_ms), 0),
            ).where(m.FieldValue.keyer_id == keyer_id, m.FieldValue.saved_at >= since)
        ).one()
        docs = s.execute(
            select(func.count(m.Entry.id)).where(m.Entry.keyer_id == keyer_id, m.Entry.finished_at >= since)
        ).scalar_one()
    return DayTotals(int(keys), int(count), int(active), int(docs))
