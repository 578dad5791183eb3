"""The summary tables behind the dashboard, kept equal to a recomputation from the stored rows.

Why: a refresh over a month of a floor would aggregate a million field values; the summaries
hold one row per keyer, UTC hour, template and pass (`KeyerHourStats`), one per keyer, hour,
template and field path (`FieldHourStats`) and that summed over keyers (`TeamFieldHourStats`),
so a refresh aggregates thousands of rows.

How they stay exact: whatever writes or scores the values of some entries calls
`entries_changed(s, entry_ids)` in the same transaction. That is `workstation.resolve`:
`documents_updated`, which the central side of a push (`workstation.sync.apply_unit`) calls
right after inserting the unit's entries and values, and `finalize_document`, which scoring
after a QA decision goes through. It finds the keyer-hours those entries touch and recomputes
every summary row of them from the raw rows (DELETE, then INSERT ... SELECT ... GROUP BY; the
team sums move by the difference between the keyer's new and old counts). Recomputing instead
of adding deltas makes it idempotent: a replayed push, a second scoring or a late filler value
leave the summaries equal to what a full `rebuild` gives. It relies on one property of the
central rows: a value's `saved_at` and an entry's `finished_at` never change once stored (pushes
insert rows once; scoring only sets `final_match` and `error_class`, or adds values), so the
hours to recompute are found from the rows as they are now.

Attribution: a value counts in the hour of its `saved_at`, a document (a finished entry) in the
hour of the entry's `finished_at`, both in UTC.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, Table, and_, case, cast, delete, extract, func, insert
from sqlalchemy import literal_column, or_, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workstation import models as m

log = logging.getLogger(__name__)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# Keyer-hours closer than this are recomputed as one range (one statement instead of several).
_MERGE_GAP_HOURS = 4
_CHUNK = 500
# Keyer-hour ranges recomputed by one set of statements (a push touches a few; a bulk load many).
_RANGES_PER_STATEMENT = 64
# The first key of the two-key PostgreSQL advisory locks that serialise a keyer's recomputation.
_LOCK_SPACE = 0x524F4C4C  # "ROLL"

# The error classes `workstation.compare.classify_error` gives, and their summary columns.
CLASS_COLUMNS = {
    "substitution": "substitutions",
    "transposition": "transpositions",
    "omission": "omissions",
    "insertion": "insertions",
    "other": "other_errors",
}
COUNT_COLUMNS = ("documents", "fields", "keystrokes", "characters", "active_ms", "pause_ms", "scored", "errors",
                 *CLASS_COLUMNS.values())
_NAMED_CLASSES = {name: column for name, column in CLASS_COLUMNS.items() if name != "other"}
_ROW_COLUMNS = COUNT_COLUMNS[:-1]  # other_errors is what the named classes leave of errors

_fv = m.FieldValue.__table__
_en = m.Entry.__table__
_doc = m.Document.__table__
_bat = m.Batch.__table__
_kh: Table = m.KeyerHourStats.__table__  # type: ignore[assignment]
_fh: Table = m.FieldHourStats.__table__  # type: ignore[assignment]
_tf: Table = m.TeamFieldHourStats.__table__  # type: ignore[assignment]
_FH_COLUMNS = ["keyer_id", "hour", "template_id", "field_path", "scored", "errors"]


def hour_number(moment: dt.datetime) -> int:
    """The summary tables' hour of an aware datetime: whole hours since 1970-01-01 UTC."""
    return int((moment - EPOCH).total_seconds() // 3600)


def hour_start(hour: int) -> dt.datetime:
    return EPOCH + dt.timedelta(hours=hour)


def hour_of(column: Any, dialect: str) -> ColumnElement[int]:
    """SQL for `hour_number` of a UTC timestamp column, the same on SQLite and PostgreSQL."""
    if dialect == "postgresql":
        # extract(epoch) of a timestamptz does not depend on the session's time zone.
        return cast(func.floor(extract("epoch", column) / literal_column("3600")), Integer)
    # SQLite keeps UTC as text, 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime('%s') reads it as UTC but
    # rounds to milliseconds (23:59:59.9999 would become the next hour), so the fraction is cut
    # off first. Integer division floors (times are after 1970).
    whole_seconds = func.substr(column, literal_column("1"), literal_column("19"))
    seconds = cast(func.strftime(literal_column("'%s'"), whole_seconds), Integer)
    return seconds.op("/", return_type=Integer)(literal_column("3600"))


def _dialect(s: Session) -> str:
    bind = s.get_bind()
    return bind.dialect.name


# --- the recomputation, as SQL ------------------------------------------------------------------


def _zero() -> ColumnElement[int]:
    return literal_column("0", Integer)


def _one() -> ColumnElement[int]:
    return literal_column("1", Integer)


def _keyer_hour_rows(dialect: str, value_where: ColumnElement[bool] | None,
                     entry_where: ColumnElement[bool] | None) -> Select[Any]:
    """`KeyerHourStats` rows computed from values and finished entries matching the conditions."""
    wrong = _fv.c.final_match.is_(False)
    class_cases = [
        case((and_(wrong, _fv.c.error_class == literal_column(f"'{name}'")), _one()), else_=_zero()).label(column)
        for name, column in _NAMED_CLASSES.items()
    ]
    from_values = (
        select(
            _fv.c.keyer_id.label("keyer_id"), hour_of(_fv.c.saved_at, dialect).label("hour"),
            _bat.c.template_id.label("template_id"), _en.c.pass_no.label("pass_no"),
            _zero().label("documents"), _one().label("fields"), _fv.c.keystrokes.label("keystrokes"),
            func.length(_fv.c.value).label("characters"), _fv.c.active_ms.label("active_ms"),
            _fv.c.pause_ms.label("pause_ms"),
            case((_fv.c.final_match.is_not(None), _one()), else_=_zero()).label("scored"),
            case((wrong, _one()), else_=_zero()).label("errors"),
            *class_cases,
        )
        .select_from(_fv.join(_en, _en.c.id == _fv.c.entry_id).join(_doc, _doc.c.id == _en.c.document_id)
                     .join(_bat, _bat.c.id == _doc.c.batch_id))
    )
    if value_where is not None:
        from_values = from_values.where(value_where)
    from_entries = (
        select(
            _en.c.keyer_id, hour_of(_en.c.finished_at, dialect), _bat.c.template_id, _en.c.pass_no,
            _one(), *(_zero() for _ in _ROW_COLUMNS[1:]),
        )
        .select_from(_en.join(_doc, _doc.c.id == _en.c.document_id).join(_bat, _bat.c.id == _doc.c.batch_id))
        .where(_en.c.finished_at.is_not(None))
    )
    if entry_where is not None:
        from_entries = from_entries.where(entry_where)
    rows = union_all(from_values, from_entries).subquery("contributions")
    keys = [rows.c.keyer_id, rows.c.hour, rows.c.template_id, rows.c.pass_no]
    # An error of no named class (or of a class this code does not know) counts as "other".
    other = func.sum(rows.c.errors) - sum((func.sum(rows.c[c]) for c in _NAMED_CLASSES.values()), _zero())
    return select(*keys, *(func.sum(rows.c[name]).label(name) for name in _ROW_COLUMNS),
                  other.label("other_errors")).group_by(*keys)


def _field_hour_rows(dialect: str, value_where: ColumnElement[bool] | None) -> Select[Any]:
    """`FieldHourStats` rows: scored values and errors per keyer, hour, template and path."""
    scored = (
        select(
            _fv.c.keyer_id.label("keyer_id"), hour_of(_fv.c.saved_at, dialect).label("hour"),
            _bat.c.template_id.label("template_id"), _fv.c.field_path.label("field_path"),
            case((_fv.c.final_match.is_(False), _one()), else_=_zero()).label("wrong"),
        )
        .select_from(_fv.join(_en, _en.c.id == _fv.c.entry_id).join(_doc, _doc.c.id == _en.c.document_id)
                     .join(_bat, _bat.c.id == _doc.c.batch_id))
        .where(_fv.c.final_match.is_not(None))
    )
    if value_where is not None:
        scored = scored.where(value_where)
    rows = scored.subquery("scored_values")
    keys = [rows.c.keyer_id, rows.c.hour, rows.c.template_id, rows.c.field_path]
    return select(*keys, func.count().label("scored"), func.sum(rows.c.wrong).label("errors")).group_by(*keys)


# --- maintenance ---------------------------------------------------------------------------------


def entries_changed(s: Session, entry_ids: Iterable[uuid.UUID]) -> int:
    """Recompute the summary rows of every keyer-hour the values and finish of these entries fall in.

    Call it in the transaction that inserted or scored their rows; returns the number of
    keyer-hour ranges recomputed.
    """
    ids = list(dict.fromkeys(entry_ids))
    if not ids:
        return 0
    s.flush()
    dialect = _dialect(s)
    hours: dict[uuid.UUID, set[int]] = defaultdict(set)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        touched = union_all(
            select(_fv.c.keyer_id, hour_of(_fv.c.saved_at, dialect).label("hour")).where(_fv.c.entry_id.in_(chunk)),
            select(_en.c.keyer_id, hour_of(_en.c.finished_at, dialect).label("hour"))
            .where(_en.c.id.in_(chunk), _en.c.finished_at.is_not(None)),
        ).subquery()
        for keyer_id, hour in s.execute(select(touched.c.keyer_id, touched.c.hour).distinct()):
            hours[keyer_id].add(int(hour))
    ranges = [(keyer_id, lo, hi) for keyer_id, found in hours.items() for lo, hi in _ranges(found)]
    if dialect == "postgresql":
        _lock_keyers(s, hours)
    for start in range(0, len(ranges), _RANGES_PER_STATEMENT):
        _recompute(s, dialect, ranges[start:start + _RANGES_PER_STATEMENT])
    return len(ranges)


def _ranges(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted hours merged into inclusive (first, last) ranges when they are close together."""
    result: list[list[int]] = []
    for hour in sorted(hours):
        if result and hour - result[-1][1] <= _MERGE_GAP_HOURS:
            result[-1][1] = hour
        else:
            result.append([hour, hour])
    return [(lo, hi) for lo, hi in result]


def _recompute(s: Session, dialect: str, ranges: list[tuple[uuid.UUID, int, int]]) -> None:
    """Replace the summary rows of these (keyer, first hour, last hour) ranges with what the raw rows say.

    The ranges never overlap (one keyer's are merged, keyers differ), so one statement per table
    serves them all: the conditions are OR-ed, each an index range on (keyer_id, time).
    """
    def each(make: Any) -> ColumnElement[bool]:
        return or_(*(make(keyer_id, first, last) for keyer_id, first, last in ranges))

    value_where = each(lambda k, a, b: and_(_fv.c.keyer_id == k, _fv.c.saved_at >= hour_start(a),
                                            _fv.c.saved_at < hour_start(b + 1)))
    entry_where = each(lambda k, a, b: and_(_en.c.keyer_id == k, _en.c.finished_at >= hour_start(a),
                                            _en.c.finished_at < hour_start(b + 1)))
    kh_where = each(lambda k, a, b: and_(_kh.c.keyer_id == k, _kh.c.hour >= a, _kh.c.hour <= b))
    fh_where = each(lambda k, a, b: and_(_fh.c.keyer_id == k, _fh.c.hour >= a, _fh.c.hour <= b))
    _update_team(s, dialect, value_where, fh_where)
    s.execute(delete(_kh).where(kh_where))
    s.execute(delete(_fh).where(fh_where))
    kh_columns = ["keyer_id", "hour", "template_id", "pass_no", *COUNT_COLUMNS]
    s.execute(insert(_kh).from_select(kh_columns, _keyer_hour_rows(dialect, value_where, entry_where)))
    s.execute(insert(_fh).from_select(_FH_COLUMNS, _field_hour_rows(dialect, value_where)))
    hours = or_(*(and_(_tf.c.hour >= a, _tf.c.hour <= b) for _k, a, b in ranges))
    s.execute(delete(_tf).where(hours, _tf.c.scored == 0, _tf.c.errors == 0))


def _update_team(s: Session, dialect: str, value_where: ColumnElement[bool], fh_where: ColumnElement[bool]) -> None:
    """Move the team sums by (new keyer rows from the raw values) - (the keyer rows stored now).

    One upsert, its rows in key order and only those that change: concurrent pushes on
    PostgreSQL then lock shared team rows in one order (no deadlock) and add commuting deltas.
    """
    new = _field_hour_rows(dialect, value_where).subquery("new_rows")
    old = select(_fh.c.hour, _fh.c.template_id, _fh.c.field_path, (-_fh.c.scored).label("scored"),
                 (-_fh.c.errors).label("errors")).where(fh_where)
    changes = union_all(select(new.c.hour, new.c.template_id, new.c.field_path, new.c.scored, new.c.errors), old)
    rows = changes.subquery("changes")
    keys = [rows.c.hour, rows.c.template_id, rows.c.field_path]
    scored, errors = func.sum(rows.c.scored), func.sum(rows.c.errors)
    delta = (select(*keys, scored.label("scored"), errors.label("errors")).group_by(*keys)
             .having(or_(scored != 0, errors != 0)).order_by(*keys))
    upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(_tf)
    stmt = upsert.from_select(["hour", "template_id", "field_path", "scored", "errors"], delta)
    stmt = stmt.on_conflict_do_update(
        index_elements=["hour", "template_id", "field_path"],
        set_={"scored": _tf.c.scored + stmt.excluded.scored, "errors": _tf.c.errors + stmt.excluded.errors},
    )
    s.execute(stmt)


def _lock_keyers(s: Session, keyer_ids: Iterable[uuid.UUID]) -> None:
    """PostgreSQL: one recomputation per keyer at a time (held to the end of the transaction).

    Two pushes may recompute the same keyer's hours (both finalise documents that keyer keyed);
    without the lock the second would delete rows it cannot see yet and insert duplicates.
    Locks are taken in id order. SQLite writers are serialised already (BEGIN IMMEDIATE).
    """
    for keyer_id in sorted(keyer_ids):
        key = int.from_bytes(keyer_id.bytes[:4], "big", signed=True)
        s.execute(select(func.pg_advisory_xact_lock(literal_column(str(_LOCK_SPACE)), literal_column(str(key)))))


def _team_rows() -> Select[Any]:
    keys = [_fh.c.hour, _fh.c.template_id, _fh.c.field_path]
    return select(*keys, func.sum(_fh.c.scored).label("scored"), func.sum(_fh.c.errors).label("errors")).group_by(*keys)


def rebuild(s: Session) -> None:
    """Recompute the summary tables from every stored row (a repair; normal upkeep is incremental)."""
    s.flush()
    dialect = _dialect(s)
    for table in (_kh, _fh, _tf):
        s.execute(delete(table))
    s.execute(insert(_kh).from_select(["keyer_id", "hour", "template_id", "pass_no", *COUNT_COLUMNS],
                                      _keyer_hour_rows(dialect, None, None)))
    s.execute(insert(_fh).from_select(_FH_COLUMNS, _field_hour_rows(dialect, None)))
    s.execute(insert(_tf).from_select(["hour", "template_id", "field_path", "scored", "errors"], _team_rows()))
    log.info("summary tables rebuilt")


Snapshot = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def recomputed(s: Session) -> Snapshot:
    """What the three tables should hold, computed from the raw rows now, sorted (for checks)."""
    s.flush()
    dialect = _dialect(s)
    keyer_rows = sorted(tuple(r) for r in s.execute(_keyer_hour_rows(dialect, None, None)))
    field_rows = sorted(tuple(r) for r in s.execute(_field_hour_rows(dialect, None)))
    team: dict[tuple[Any, ...], list[int]] = {}
    for _keyer, hour, template_id, path, scored, errors in field_rows:
        sums = team.setdefault((hour, template_id, path), [0, 0])
        sums[0] += scored
        sums[1] += errors
    team_rows = sorted((*key, scored, errors) for key, (scored, errors) in team.items())
    return keyer_rows, field_rows, team_rows


def stored(s: Session) -> Snapshot:
    """What the three tables hold, in the column order of `recomputed`, sorted."""
    s.flush()
    keyer_rows = sorted(tuple(r) for r in s.execute(
        select(_kh.c.keyer_id, _kh.c.hour, _kh.c.template_id, _kh.c.pass_no, *(_kh.c[c] for c in COUNT_COLUMNS))))
    field_rows = sorted(tuple(r) for r in s.execute(select(*(_fh.c[c] for c in _FH_COLUMNS))))
    team_rows = sorted(tuple(r) for r in s.execute(
        select(_tf.c.hour, _tf.c.template_id, _tf.c.field_path, _tf.c.scored, _tf.c.errors)))
    return keyer_rows, field_rows, team_rows
