"""Productivity and accuracy figures, from the summary tables, with exact definitions.

Definitions (DESIGN.md "Metric definitions"), the same wherever a number is shown (the dashboard,
`workstation stats`, the tests):

* Keystrokes: every key press in a field (gross), summed from `FieldValue.keystrokes`.
* Characters: the length of the values saved (net).
* Active time: time on fields minus idle gaps longer than the idle threshold (the keying session
  stores both parts per field: `active_ms` and `pause_ms`; the gap is pause).
* Fields: values saved. Documents: entries finished (a third key counts as one too).
* KPH = keystrokes / active hours; fields/hour and documents/hour likewise over active hours.
* Accuracy = share of a keyer's scored fields whose value equals the final value (`final_match`,
  set when the document became final). Fields of documents not final yet are not scored.
* Errors = scored fields that do not match; errors per 1,000 keystrokes = errors / keystrokes x 1000.
* Blame (census practice): a dispute resolved to A leaves B's value not matching the final value,
  so it is B's error, and resolved to neither it is an error for both. Errors a keyer made in
  pass 1 are counted "as keyer", in pass 2 "as verifier", in pass 3 "as third key".
* Error classes: `workstation.compare.classify_error` of the keyed against the final value.

Periods are whole UTC hours, half-open (from inclusive, to exclusive): a value counts in the hour
it was saved, a document in the hour its entry was finished. The figures are read from the
summary tables `workstation.rollups` keeps equal to the raw rows; every query aggregates in SQL
over a few thousand summary rows and returns a few rows per keyer, hour or field.

`load_dashboard` is the service the dashboard and `workstation stats` call; it checks the role:
a supervisor or admin sees everyone, anyone else only their own figures.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from workstation import auth
from workstation import models as m
from workstation.page_problems import PageProblemRow, list_problems
from workstation.errors import PermissionDenied
from workstation.rollups import CLASS_COLUMNS, hour_number, hour_start
from workstation.store import Store, central_schema_checked

ERROR_CLASSES = tuple(CLASS_COLUMNS)  # substitution, transposition, omission, insertion, other
_ROW_INDEX = re.compile(r"\[\d+\]")
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Filters:
    """What to count: a period of whole UTC hours (from inclusive, to exclusive), a keyer, a template.

    `template` is a template name (every version of it counts).
    """

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    keyer_id: uuid.UUID | None = None
    template: str | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            moment = getattr(self, name)
            if moment is None:
                continue
            if moment.tzinfo is None:
                raise ValueError(f"Filters.{name} must be an aware datetime")
            if moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) != moment:
                raise ValueError(f"Filters.{name} must be a whole UTC hour (the figures are kept per hour)")

    @property
    def first_hour(self) -> int | None:
        return None if self.start is None else hour_number(self.start)

    @property
    def end_hour(self) -> int | None:
        return None if self.end is None else hour_number(self.end)


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
    display_name: str = ""

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

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.created_at


# --- query building ---------------------------------------------------------------------------

_kh = m.KeyerHourStats
_fh = m.FieldHourStats
_tf = m.TeamFieldHourStats
_FIGURE_COLUMNS = ("documents", "fields", "keystrokes", "characters", "active_ms", "pause_ms", "scored", "errors")


def _sum(column: Any, label: str) -> ColumnElement[int]:
    return func.coalesce(func.sum(column), 0).label(label)


def _aggregates() -> list[ColumnElement[int]]:
    """The columns every figure query shares; names match `Figures` fields."""
    return [_sum(getattr(_kh, name), name) for name in _FIGURE_COLUMNS]


def _conditions(table: Any, filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.first_hour is not None:
        conditions.append(table.hour >= filters.first_hour)
    if filters.end_hour is not None:
        conditions.append(table.hour < filters.end_hour)
    if filters.keyer_id is not None:
        conditions.append(table.keyer_id == filters.keyer_id)
    if filters.template is not None:
        conditions.append(table.template_id.in_(select(m.Template.id).where(m.Template.name == filters.template)))
    return conditions


def _filtered(query: Select[Any], table: Any, filters: Filters) -> Select[Any]:
    conditions = _conditions(table, filters)
    return query.where(and_(*conditions)) if conditions else query


def _figures(row: Any) -> Figures:
    return Figures(**{name: int(getattr(row, name)) for name in _FIGURE_COLUMNS})


# --- the figures ------------------------------------------------------------------------------


def team_figures(s: Session, filters: Filters = Filters()) -> Figures:
    return _figures(s.execute(_filtered(select(*_aggregates()), _kh, filters)).one())


def keyer_figures(s: Session, filters: Filters = Filters()) -> list[KeyerFigures]:
    """One row per keyer who worked in the period, busiest first."""
    blame = [_sum(case((_kh.pass_no == n, _kh.errors), else_=0), f"blame{n}") for n in (1, 2, 3)]
    by_class = [_sum(getattr(_kh, column), f"class_{name}") for name, column in CLASS_COLUMNS.items()]
    # Summed per keyer first, then joined to the users: the join runs once per keyer, not per row.
    sums = _filtered(select(_kh.keyer_id, *_aggregates(), *blame, *by_class).group_by(_kh.keyer_id), _kh, filters).subquery()
    query = select(sums, m.User.username, m.User.display_name).join(m.User, m.User.id == sums.c.keyer_id)
    result = [
        KeyerFigures(
            keyer_id=row.keyer_id,
            username=row.username,
            figures=_figures(row),
            errors_by_class={name: int(getattr(row, f"class_{name}")) for name in ERROR_CLASSES},
            blamed_as_keyer=int(row.blame1),
            blamed_as_verifier=int(row.blame2),
            blamed_as_third=int(row.blame3),
            display_name=row.display_name or "",
        )
        for row in s.execute(query).all()
    ]
    result.sort(key=lambda k: (-k.figures.keystrokes, k.username))
    return result


def hourly_figures(s: Session, filters: Filters = Filters()) -> list[HourFigures]:
    """KPH and accuracy per hour (UTC) for one keyer (filters.keyer_id) or the whole team."""
    query = select(_kh.hour, *_aggregates()).group_by(_kh.hour).order_by(_kh.hour)
    return [HourFigures(hour_start(int(row.hour)), _figures(row)) for row in s.execute(_filtered(query, _kh, filters))]


def errors_by_field(s: Session, filters: Filters = Filters()) -> list[FieldErrors]:
    """Which fields cause the most errors; rows of a line-item section are folded together."""
    # The team's sums have no keyer column: a filter on one keyer reads that keyer's rows.
    table = _fh if filters.keyer_id is not None else _tf
    query = (
        select(m.Template.name.label("template"), table.field_path, _sum(table.scored, "scored"),
               _sum(table.errors, "errors"))
        .join(m.Template, m.Template.id == table.template_id)
        .group_by(m.Template.name, table.field_path)
    )
    folded: dict[tuple[str, str], list[int]] = {}
    for row in s.execute(_filtered(query, table, filters)).all():  # one row per distinct field path
        key = (row.template, _ROW_INDEX.sub("[*]", row.field_path))
        counts = folded.setdefault(key, [0, 0])
        counts[0] += int(row.scored)
        counts[1] += int(row.errors)
    result = [FieldErrors(t, f, scored, errors) for (t, f), (scored, errors) in folded.items()]
    result.sort(key=lambda e: (-e.errors, -e.scored, e.template, e.field))
    return result


def errors_by_class(s: Session, filters: Filters = Filters()) -> dict[str, int]:
    query = select(*(_sum(getattr(_kh, column), name) for name, column in CLASS_COLUMNS.items()))
    row = s.execute(_filtered(query, _kh, filters)).one()
    return {name: int(getattr(row, name)) for name in ERROR_CLASSES}


def batch_progress(s: Session, *, include_final: bool = False) -> list[BatchProgress]:
    """Each batch's pipeline: documents waiting for pass 1, pass 2, third key, QA, and final."""
    shown = select(m.Batch.id)
    if not include_final:
        shown = shown.where(m.Batch.state == "open")
    task_left = lambda n: func.count(func.distinct(case((and_(m.Task.pass_no == n, m.Task.state != "done"), m.Task.document_id))))  # noqa: E731
    tasks = (
        select(m.Task.batch_id, task_left(1).label("p1"), task_left(2).label("p2"), task_left(3).label("p3"))
        .where(m.Task.batch_id.in_(shown), m.Task.state != "done")
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
            func.count().label("documents"),
            _sum(case((m.Document.state == "final", 1), else_=0), "final"),
        )
        .where(m.Document.batch_id.in_(shown))
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
        .where(m.Batch.id.in_(shown))
        .order_by(m.Batch.created_at, m.Batch.name)
    )
    return [
        BatchProgress(
            batch_id=row.id, name=row.name, template=row.template, created_at=row.created_at,
            documents=int(row.documents), pass1_left=int(row.p1), pass2_left=int(row.p2),
            third_key_left=int(row.p3), in_qa=int(row.qa), final=int(row.final),
        )
        for row in s.execute(query).all()
    ]


def template_names(s: Session) -> list[str]:
    """Every template name, for a filter."""
    return list(s.scalars(select(m.Template.name).distinct().order_by(m.Template.name)))


def day_range(start: dt.date | None, end: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Whole UTC days from `start` to `end` inclusive, as the half-open datetime range Filters use."""
    lo = dt.datetime.combine(start, dt.time(), UTC) if start else None
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), UTC) if end else None
    return lo, hi


# --- the service the dashboard and `workstation stats` call -----------------------------------


@dataclass(frozen=True)
class Dashboard:
    """Everything one dashboard refresh shows; plain values, safe to hand to another thread."""

    filters: Filters
    team: Figures
    keyers: tuple[KeyerFigures, ...]
    hourly: tuple[HourFigures, ...]  # of `chart_keyer_id`, or of everyone in `keyers`
    chart_keyer_id: uuid.UUID | None
    errors_by_field: tuple[FieldErrors, ...]
    errors_by_class: dict[str, int]
    batches: tuple[BatchProgress, ...]
    templates: tuple[str, ...]
    refreshed_at: dt.datetime
    # Open page problem reports, newest first (at most DASHBOARD_PAGE_PROBLEMS; none for a keyer);
    # closed ones too when `closed_problems` (what was reported and what was done about it).
    page_problems: tuple[PageProblemRow, ...] = ()
    closed_problems: bool = False


# Open reports are a handful a day; the cap keeps a refresh quick if nobody deals with them.
DASHBOARD_PAGE_PROBLEMS = 500


def may_see_everyone(actor: auth.Actor) -> bool:
    return auth.allowed(actor, "dashboard")


def check_view(actor: auth.Actor, filters: Filters, chart_keyer_id: uuid.UUID | None = None) -> None:
    """Supervisors and admins see everyone; anyone else only their own figures (refused otherwise)."""
    if may_see_everyone(actor):
        return
    if filters.keyer_id != actor.id or chart_keyer_id not in (None, actor.id):
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may see only their own figures.",
            "The dashboard of the whole floor is for supervisors and administrators.",
        )


def load_dashboard(central: Store, actor: auth.Actor, filters: Filters = Filters(), *,
                   chart_keyer_id: uuid.UUID | None = None, batches: bool = True,
                   closed_problems: bool = False) -> Dashboard:
    """Run every query of one dashboard refresh; a keyer gets their own figures and no batches.

    Supervisors and admins also get the open page problem reports (`workstation.page_problems`),
    one more indexed statement, like the batches, outside the period and form filters: an open
    problem matters until its document is final, whenever it was reported. With
    `closed_problems`, the closed ones as well (newest first, at most DASHBOARD_PAGE_PROBLEMS).
    """
    check_view(actor, filters, chart_keyer_id)
    everyone = may_see_everyone(actor)
    chart_filters = Filters(filters.start, filters.end, chart_keyer_id or filters.keyer_id, filters.template)
    with central_schema_checked(central), central.session() as s:
        keyers = keyer_figures(s, filters)
        team = team_figures(s, filters)
        hourly = hourly_figures(s, chart_filters)
        fields = errors_by_field(s, filters)
        classes = errors_by_class(s, filters)
        progress = batch_progress(s) if batches and everyone else []
        problems = (list_problems(s, open_only=not closed_problems, limit=DASHBOARD_PAGE_PROBLEMS)
                    if batches and everyone and auth.allowed(actor, "page_problems") else [])
        templates = template_names(s)
    return Dashboard(
        filters=filters, team=team, keyers=tuple(keyers), hourly=tuple(hourly), chart_keyer_id=chart_filters.keyer_id,
        errors_by_field=tuple(fields), errors_by_class=classes, batches=tuple(progress), templates=tuple(templates),
        refreshed_at=m.utcnow(), page_problems=tuple(problems), closed_problems=closed_problems,
    )
