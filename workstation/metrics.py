"""Productivity and accuracy figures, computed in the database with set-based SQL.

Definitions (DESIGN.md "Metric definitions"), the same wherever a number is shown:

* Keystrokes: every key press in a field (gross), summed from `FieldValue.keystrokes`.
* Characters: the length of the values saved (net).
* Active time: time on fields minus idle gaps longer than the idle threshold (the keying session
  stores both parts per field: `active_ms` and `pause_ms`).
* KPH = keystrokes / active hours; fields/hour and documents/hour likewise over active hours.
* Accuracy = share of a keyer's scored fields whose value equals the final value (`final_match`,
  set when the document became final). Fields of documents not final yet are not scored.
* Errors = scored fields that do not match; errors per 1,000 keystrokes = errors / keystrokes x 1000.
* Blame (census practice): pass 1 and pass 2 only disagree on disputed fields; a dispute resolved
  to A leaves B's value not matching the final value, so B's `final_match` is false. Errors a
  keyer made in pass 1 are counted as "as keyer", in pass 2 as "as verifier", in pass 3 as
  "as third key".

Every query aggregates in SQL (GROUP BY) and returns a few rows per keyer, hour or field: no
Python loop over stored values. Hour and day buckets are in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import Session

from workstation import models as m

ERROR_CLASSES = ("substitution", "transposition", "omission", "insertion", "other")
_ROW_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Filters:
    """What to count: a period of `saved_at` (from inclusive, to exclusive), a keyer, a template."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    keyer_id: uuid.UUID | None = None
    template_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Figures:
    """Counts and the rates derived from them; rates are None when their base is zero."""

    documents: int = 0
    fields: int = 0
    keystrokes: int = 0
    characters: int = 0
    active_ms: int = 0
    pause_ms: int = 0
    scored: int = 0
    errors: int = 0

    @property
    def active_hours(self) -> float:
        return self.active_ms / 3_600_000

    @property
    def kph(self) -> float | None:
        return self.keystrokes / self.active_hours if self.active_ms else None

    @property
    def fields_per_hour(self) -> float | None:
        return self.fields / self.active_hours if self.active_ms else None

    @property
    def documents_per_hour(self) -> float | None:
        return self.documents / self.active_hours if self.active_ms else None

    @property
    def accuracy(self) -> float | None:
        return (self.scored - self.errors) / self.scored if self.scored else None

    @property
    def errors_per_1000_keystrokes(self) -> float | None:
        return 1000 * self.errors / self.keystrokes if self.keystrokes else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents, "fields": self.fields, "keystrokes": self.keystrokes,
            "characters": self.characters, "active_hours": round(self.active_hours, 4),
            "pause_hours": round(self.pause_ms / 3_600_000, 4), "kph": _round(self.kph),
            "fields_per_hour": _round(self.fields_per_hour), "documents_per_hour": _round(self.documents_per_hour),
            "scored": self.scored, "errors": self.errors, "accuracy": _round(self.accuracy, 5),
            "errors_per_1000_keystrokes": _round(self.errors_per_1000_keystrokes, 3),
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class KeyerFigures:
    keyer_id: uuid.UUID
    username: str
    figures: Figures
    errors_by_class: dict[str, int] = field(default_factory=dict)
    blamed_as_keyer: int = 0
    blamed_as_verifier: int = 0
    blamed_as_third: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "keyer": self.username, **self.figures.as_dict(), "errors_by_class": dict(self.errors_by_class),
            "blame": {"as_keyer": self.blamed_as_keyer, "as_verifier": self.blamed_as_verifier,
                      "as_third_key": self.blamed_as_third},
        }


@dataclass(frozen=True)
class HourFigures:
    hour: dt.datetime
    figures: Figures


@dataclass(frozen=True)
class FieldErrors:
    template: str
    field: str  # line-item rows folded together: lines[*].cpt
    scored: int
    errors: int

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.scored if self.scored else None


@dataclass(frozen=True)
class BatchProgress:
    batch_id: uuid.UUID
    name: str
    template: str
    created_at: dt.datetime
    documents: int
    pass1_left: int
    pass2_left: int
    third_key_left: int
    in_qa: int
    final: int

    @property
    def done_share(self) -> float:
        return self.final / self.documents if self.documents else 0.0


# --- query building ---------------------------------------------------------------------------

_fv = m.FieldValue
_en = m.Entry


def _aggregates() -> list[Any]:
    """The columns every figure query shares; names match `Figures` fields."""
    return [
        func.count(func.distinct(_fv.entry_id)).label("documents"),
        func.count(_fv.id).label("fields"),
        func.coalesce(func.sum(_fv.keystrokes), 0).label("keystrokes"),
        func.coalesce(func.sum(func.length(_fv.value)), 0).label("characters"),
        func.coalesce(func.sum(_fv.active_ms), 0).label("active_ms"),
        func.coalesce(func.sum(_fv.pause_ms), 0).label("pause_ms"),
        func.count(_fv.final_match).label("scored"),
        func.coalesce(func.sum(case((_fv.final_match == literal(False), 1), else_=0)), 0).label("errors"),
    ]


def _filtered(query: Select[Any], filters: Filters) -> Select[Any]:
    conditions = []
    if filters.start is not None:
        conditions.append(_fv.saved_at >= filters.start)
    if filters.end is not None:
        conditions.append(_fv.saved_at < filters.end)
    if filters.keyer_id is not None:
        conditions.append(_fv.keyer_id == filters.keyer_id)
    if filters.template_id is not None:
        query = query.join(m.Document, m.Document.id == _en.document_id).join(m.Batch, m.Batch.id == m.Document.batch_id)
        conditions.append(m.Batch.template_id == filters.template_id)
    return query.where(and_(*conditions)) if conditions else query


def _figures(row: Any) -> Figures:
    return Figures(
        documents=int(row.documents), fields=int(row.fields), keystrokes=int(row.keystrokes),
        characters=int(row.characters), active_ms=int(row.active_ms), pause_ms=int(row.pause_ms),
        scored=int(row.scored), errors=int(row.errors),
    )


def _hour_bucket(s: Session) -> Any:
    if s.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", _fv.saved_at)
    return func.strftime("%Y-%m-%d %H:00:00", _fv.saved_at)


def _as_hour(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)


# --- the figures ------------------------------------------------------------------------------


def team_figures(s: Session, filters: Filters = Filters()) -> Figures:
    query = _filtered(select(*_aggregates()).select_from(_fv).join(_en, _en.id == _fv.entry_id), filters)
    return _figures(s.execute(query).one())


def keyer_figures(s: Session, filters: Filters = Filters()) -> list[KeyerFigures]:
    """One row per keyer who saved fields in the period, busiest first."""
    blame = [
        func.coalesce(func.sum(case((and_(_fv.final_match == literal(False), _en.pass_no == n), 1), else_=0)), 0).label(f"blame{n}")
        for n in (1, 2, 3)
    ]
    by_class = [
        func.coalesce(func.sum(case((_fv.error_class == name, 1), else_=0)), 0).label(f"class_{name}")
        for name in ERROR_CLASSES
    ]
    query = (
        select(_fv.keyer_id, m.User.username, *_aggregates(), *blame, *by_class)
        .select_from(_fv)
        .join(_en, _en.id == _fv.entry_id)
        .join(m.User, m.User.id == _fv.keyer_id)
        .group_by(_fv.keyer_id, m.User.username)
    )
    rows = s.execute(_filtered(query, filters)).all()
    result = [
        KeyerFigures(
            keyer_id=row.keyer_id,
            username=row.username,
            figures=_figures(row),
            errors_by_class={name: int(getattr(row, f"class_{name}")) for name in ERROR_CLASSES},
            blamed_as_keyer=int(row.blame1),
            blamed_as_verifier=int(row.blame2),
            blamed_as_third=int(row.blame3),
        )
        for row in rows
    ]
    result.sort(key=lambda k: (-k.figures.keystrokes, k.username))
    return result


def hourly_figures(s: Session, filters: Filters = Filters()) -> list[HourFigures]:
    """KPH and accuracy per hour (UTC) for one keyer (filters.keyer_id) or the whole team."""
    bucket = _hour_bucket(s).label("hour")
    query = (
        select(bucket, *_aggregates())
        .select_from(_fv)
        .join(_en, _en.id == _fv.entry_id)
        .group_by(bucket)
        .order_by(bucket)
    )
    return [HourFigures(_as_hour(row.hour), _figures(row)) for row in s.execute(_filtered(query, filters)).all()]


def errors_by_field(s: Session, filters: Filters = Filters()) -> list[FieldErrors]:
    """Which fields cause the most errors; rows of a line-item section are folded together."""
    query = (
        select(
            m.Template.name.label("template"),
            _fv.field_path,
            func.count(_fv.final_match).label("scored"),
            func.coalesce(func.sum(case((_fv.final_match == literal(False), 1), else_=0)), 0).label("errors"),
        )
        .select_from(_fv)
        .join(_en, _en.id == _fv.entry_id)
        .join(m.Document, m.Document.id == _en.document_id)
        .join(m.Batch, m.Batch.id == m.Document.batch_id)
        .join(m.Template, m.Template.id == m.Batch.template_id)
        .group_by(m.Template.name, _fv.field_path)
    )
    if filters.template_id is not None:
        query = query.where(m.Batch.template_id == filters.template_id)
        filters = Filters(filters.start, filters.end, filters.keyer_id, None)
    folded: dict[tuple[str, str], list[int]] = {}
    for row in s.execute(_filtered(query, filters)).all():  # one row per distinct field path
        key = (row.template, _ROW_INDEX.sub("[*]", row.field_path))
        counts = folded.setdefault(key, [0, 0])
        counts[0] += int(row.scored)
        counts[1] += int(row.errors)
    result = [FieldErrors(t, f, scored, errors) for (t, f), (scored, errors) in folded.items()]
    result.sort(key=lambda e: (-e.errors, e.template, e.field))
    return result


def errors_by_class(s: Session, filters: Filters = Filters()) -> dict[str, int]:
    query = (
        select(_fv.error_class, func.count(_fv.id))
        .select_from(_fv)
        .join(_en, _en.id == _fv.entry_id)
        .where(_fv.final_match == literal(False))
        .group_by(_fv.error_class)
    )
    counts = dict.fromkeys(ERROR_CLASSES, 0)
    for name, count in s.execute(_filtered(query, filters)).all():
        counts[name or "other"] = counts.get(name or "other", 0) + int(count)
    return counts


def batch_progress(s: Session, *, include_final: bool = False) -> list[BatchProgress]:
    """Each batch's pipeline: documents waiting for pass 1, pass 2, third key, QA, and final."""
    task_left = lambda n: func.count(func.distinct(case((and_(m.Task.pass_no == n, m.Task.state != "done"), m.Task.document_id))))  # noqa: E731
    tasks = (
        select(m.Task.batch_id, task_left(1).label("p1"), task_left(2).label("p2"), task_left(3).label("p3"))
        .group_by(m.Task.batch_id)
        .subquery()
    )
    qa_docs = (
        select(m.Document.batch_id, func.count(func.distinct(m.Dispute.document_id)).label("qa"))
        .join(m.Dispute, m.Dispute.document_id == m.Document.id)
        .where(m.Dispute.stage == "qa", m.Dispute.state == "open")
        .group_by(m.Document.batch_id)
        .subquery()
    )
    docs = (
        select(
            m.Document.batch_id,
            func.count(m.Document.id).label("documents"),
            func.coalesce(func.sum(case((m.Document.state == "final", 1), else_=0)), 0).label("final"),
        )
        .group_by(m.Document.batch_id)
        .subquery()
    )
    query = (
        select(
            m.Batch.id, m.Batch.name, m.Template.name.label("template"), m.Batch.created_at,
            func.coalesce(docs.c.documents, 0).label("documents"), func.coalesce(docs.c.final, 0).label("final"),
            func.coalesce(tasks.c.p1, 0).label("p1"), func.coalesce(tasks.c.p2, 0).label("p2"),
            func.coalesce(tasks.c.p3, 0).label("p3"), func.coalesce(qa_docs.c.qa, 0).label("qa"),
        )
        .join(m.Template, m.Template.id == m.Batch.template_id)
        .outerjoin(docs, docs.c.batch_id == m.Batch.id)
        .outerjoin(tasks, tasks.c.batch_id == m.Batch.id)
        .outerjoin(qa_docs, qa_docs.c.batch_id == m.Batch.id)
        .order_by(m.Batch.created_at, m.Batch.name)
    )
    if not include_final:
        query = query.where(m.Batch.state == "open")
    return [
        BatchProgress(
            batch_id=row.id, name=row.name, template=row.template, created_at=row.created_at,
            documents=int(row.documents), pass1_left=int(row.p1), pass2_left=int(row.p2),
            third_key_left=int(row.p3), in_qa=int(row.qa), final=int(row.final),
        )
        for row in s.execute(query).all()
    ]


def day_range(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Whole UTC days from `start` to `end` inclusive, as the half-open datetime range Filters use."""
    utc = dt.timezone.utc
    lo = dt.datetime.combine(start, dt.time(), utc) if start else None
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), utc) if end else None
    return lo, hi
