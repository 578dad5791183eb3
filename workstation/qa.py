"""The QA lead's services: the queue of disputed fields and the decisions that settle them.

Rules, checked here and not only in the UI:

* Only the qa and admin roles reach these services (`qa.review` in workstation.auth.PERMISSIONS):
  checked on the `Actor` first, then against the user's row in the same transaction, so a
  disabled account or a changed role takes effect at once and a made-up actor gets nowhere.
* A QA lead who keyed an entry of a document may not decide its disputes unless `allow_own` is
  given (for tiny teams: the workspace setting `qa_allow_own_entries`); such a decision is
  flagged in the audit log (`own_entry: true`).
* Who keyed which entry is hidden, so the decision is about the image, not the person. Only an
  administrator may see the names (`reveal=True`), and that is audited.
* A sensitive field (`sensitive = true` in the template: card numbers, SSNs) comes masked; the
  real values are read with `reveal_values`, which is audited.
* Every decision is recorded twice in one transaction: the `Resolution` (who, when, the chosen
  entry or the typed value or mark, the reason) and an audit event (who, when, how, the entry's
  id and pass, the reason, the own-entry flag). The audit log holds no keyed values (it must not
  hold PHI), so the value of a decision that was later undone is gone with its resolution.

A decision picks an entry, types a value (prepared and validated exactly like keying: the
issues are returned and the value is accepted, as keying warns but never traps), or marks the
field illegible or blank, with a reason code. With `finalize=False` the document stays open
after its last decision, so the lead can still undo while on it; `close_document` then makes it
final. A document left decided but open (the station was closed hard) is made final by the
next station that calls `close_decided_documents`.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from sqlalchemy import case, exists, func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from workstation import audit
from workstation import models as m
from workstation.auth import Actor, require, require_role, require_user
from workstation.catalog import template_for_batch
from workstation.compare import EMPTY, DiffOp, char_diff
from workstation.errors import DatabaseUnavailable, KnownError, NotFound, PermissionDenied
from workstation.fields import Issue, prepare, validate
from workstation.resolve import finalize_document
from workstation.store import Store, redact
from workstation.templates import FieldSpec, Zone, parse_path
from workstation.work import is_offline_error

REASONS = ("image_clear", "keyer_typo", "format", "illegible", "other")
DEFAULT_REASON = REASONS[0]
QA_ACTION = "qa.review"  # workstation.auth.PERMISSIONS: the qa role (and admin)
MASK_CHAR = "\u2022"
# A decided document nobody closed (the station was killed) is closed by others after this.
STALE_OPEN = dt.timedelta(minutes=15)
# Between two decisions, a longer gap is a pause and does not count as QA time.
IDLE_GAP = dt.timedelta(minutes=5)

# Document states as the batch view shows them.
STATE_KEYING = "keying"        # a pass is still being keyed
STATE_THIRD_KEY = "third key"  # waiting for the blind third keyer
STATE_DISPUTED = "disputed"    # QA fields open
STATE_DECIDED = "decided"      # every field decided, the document not closed yet
STATE_FINAL = "final"


@dataclass(frozen=True)
class Candidate:
    """One entry's value of a disputed field. `keyer` is "" unless an admin revealed names;
    `value` is masked for a sensitive field until revealed; `diff` is against the first."""

    entry_id: uuid.UUID
    pass_no: int
    value: str
    flag: str
    keyer: str
    diff: tuple[DiffOp, ...]


@dataclass(frozen=True)
class DisputeItem:
    dispute_id: uuid.UUID
    batch_id: uuid.UUID
    batch_name: str
    document_id: uuid.UUID
    document_seq: int
    field_path: str
    label: str
    type: str
    help: str
    sensitive: bool
    zone: Zone | None
    page_sha256: str | None
    candidates: tuple[Candidate, ...]
    created_at: dt.datetime
    spec: FieldSpec
    masked: bool = False     # candidate values are masked (sensitive, not revealed)
    own_entry: bool = False  # the acting lead keyed an entry of this document


@dataclass(frozen=True)
class Decision:
    resolution_id: uuid.UUID
    document_final: bool
    issues: tuple[Issue, ...]


@dataclass(frozen=True)
class TypedValue:
    """A value the lead typed, as it would be stored, and what the field's rules say about it."""

    value: str
    issues: tuple[Issue, ...]


@dataclass(frozen=True)
class BatchSummary:
    batch_id: uuid.UUID
    name: str
    documents: int
    final: int
    disputed_documents: int
    open_fields: int
    created_at: dt.datetime


@dataclass(frozen=True)
class DocumentRow:
    document_id: uuid.UUID
    seq: int
    state: str  # one of the STATE_* labels
    open_fields: int
    decided_fields: int


@dataclass(frozen=True)
class LeadFigures:
    """A QA lead's own output since `since`.

    `per_hour` is decisions per hour of QA time: the gaps between consecutive decisions, a gap
    longer than the idle threshold counting as a pause (None until two decisions are close
    enough together to time one)."""

    since: dt.datetime
    decisions: int
    active_seconds: float
    per_hour: float | None


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _offline_is_known(service: Callable[_P, _R]) -> Callable[_P, _R]:
    """A central database that cannot be reached is a sentence for the lead, not a traceback."""

    @functools.wraps(service)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return service(*args, **kwargs)
        except DBAPIError as exc:
            if not is_offline_error(exc):
                raise
            central = args[0] if args and isinstance(args[0], Store) else kwargs.get("central")
            where = f" at {redact(central.url)}" if isinstance(central, Store) else ""
            raise DatabaseUnavailable(
                f"The central database{where} cannot be reached; nothing was changed just now.",
                "Check the network and that the server is running, then try again.",
            ) from exc

    return wrapper


def mask(value: str) -> str:
    """A sensitive value as shown before it is revealed: one dot per character."""
    return MASK_CHAR * len(value)


def check_typed(spec: FieldSpec, raw: str) -> TypedValue:
    """Prepare and validate a typed value exactly as keying does (the UI shows the issues live)."""
    value = prepare(spec, raw)
    return TypedValue(value, validate(spec, value))


def _label(spec: FieldSpec, path: str) -> str:
    parsed = parse_path(path)
    return f"{spec.label} (line {parsed.row})" if parsed.section else spec.label


# --- the queue -------------------------------------------------------------------------------


@_offline_is_known
def qa_queue(central: Store, actor: Actor, *, batch_id: uuid.UUID | None = None, reveal: bool = False,
             limit: int = 500) -> list[DisputeItem]:
    """Open QA disputes, grouped by batch and document, oldest first.

    `reveal` adds the keyers' names (administrators only; audited)."""
    require(actor, QA_ACTION)
    if reveal:
        require_role(actor)  # admin
    with central.transaction() as s:
        current = require_user(s, actor.id, QA_ACTION)
        if reveal:
            require_role(current)
        query = (
            select(m.Dispute, m.Document.seq, m.Batch.id, m.Batch.name)
            .join(m.Document, m.Document.id == m.Dispute.document_id)
            .join(m.Batch, m.Batch.id == m.Document.batch_id)
            .where(m.Dispute.stage == "qa", m.Dispute.state == "open")
            .order_by(m.Batch.created_at, m.Batch.name, m.Document.seq, m.Dispute.created_at)
            .limit(limit)
        )
        if batch_id is not None:
            query = query.where(m.Batch.id == batch_id)
        rows = s.execute(query).all()
        if not rows:
            return []
        documents = list(dict.fromkeys(dispute.document_id for dispute, *_ in rows))
        templates = {bid: template_for_batch(s, bid) for bid in {row[2] for row in rows}}
        pages = _pages(s, documents)
        entries = _entries(s, documents)
        values = _values(s, [e[0] for es in entries.values() for e in es], {d.field_path for d, *_ in rows})
        items = []
        for dispute, seq, bid, batch_name in rows:
            template = templates[bid]
            spec = template.spec(dispute.field_path)
            zone = template.zone(dispute.field_path)
            doc_entries = entries.get(dispute.document_id, [])
            candidates = _candidates(doc_entries, values, dispute.field_path, reveal)
            masked = spec.sensitive
            if masked:
                candidates = _masked(candidates)
            items.append(DisputeItem(
                dispute_id=dispute.id, batch_id=bid, batch_name=batch_name, document_id=dispute.document_id,
                document_seq=seq, field_path=dispute.field_path, label=_label(spec, dispute.field_path),
                type=spec.type, help=spec.help, sensitive=spec.sensitive, zone=zone,
                page_sha256=pages.get((dispute.document_id, zone.page if zone else 1)),
                candidates=candidates, created_at=dispute.created_at, spec=spec, masked=masked,
                own_entry=any(keyer_id == actor.id for _, _, keyer_id, _ in doc_entries),
            ))
        if reveal:
            audit.record(s, "qa_reveal_keyers", actor=actor, subject="qa queue",
                         details={"fields": len(items), "batch": str(batch_id) if batch_id else ""})
        return items


def _pages(s: Session, documents: Sequence[uuid.UUID]) -> dict[tuple[uuid.UUID, int], str]:
    rows = s.execute(select(m.Page.document_id, m.Page.page_no, m.Page.image_sha256)
                     .where(m.Page.document_id.in_(documents)))
    return {(doc, page_no): sha for doc, page_no, sha in rows}


def _entries(s: Session, documents: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[tuple[uuid.UUID, int, uuid.UUID, str]]]:
    """Finished entries per document, in pass order: (entry id, pass, keyer id, keyer name)."""
    rows = s.execute(
        select(m.Entry.document_id, m.Entry.id, m.Entry.pass_no, m.Entry.keyer_id, m.User.username)
        .join(m.User, m.User.id == m.Entry.keyer_id)
        .where(m.Entry.document_id.in_(documents), m.Entry.finished_at.is_not(None))
        .order_by(m.Entry.document_id, m.Entry.pass_no)
    )
    out: dict[uuid.UUID, list[tuple[uuid.UUID, int, uuid.UUID, str]]] = defaultdict(list)
    for doc, entry_id, pass_no, keyer_id, username in rows:
        out[doc].append((entry_id, pass_no, keyer_id, username))
    return out


def _values(s: Session, entry_ids: Sequence[uuid.UUID], paths: Iterable[str]) -> dict[tuple[uuid.UUID, str], tuple[str, str]]:
    if not entry_ids:
        return {}
    rows = s.execute(
        select(m.FieldValue.entry_id, m.FieldValue.field_path, m.FieldValue.value, m.FieldValue.flag)
        .where(m.FieldValue.entry_id.in_(entry_ids), m.FieldValue.field_path.in_(list(paths)))
    )
    return {(entry_id, path): (value, flag) for entry_id, path, value, flag in rows}


def _candidates(entries: Sequence[tuple[uuid.UUID, int, uuid.UUID, str]],
                values: dict[tuple[uuid.UUID, str], tuple[str, str]], path: str, reveal: bool) -> tuple[Candidate, ...]:
    result: list[Candidate] = []
    first = ""
    for entry_id, pass_no, _keyer_id, username in entries:
        if pass_no == m.PASS_THIRD and (entry_id, path) not in values:
            continue  # the third key did not cover this field
        value, flag = values.get((entry_id, path), EMPTY)
        if not result:
            first = value
        result.append(Candidate(entry_id, pass_no, value, flag, username if reveal else "", char_diff(first, value)))
    return tuple(result)


def _masked(candidates: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    """The same candidates with dots for values; the diff then shows only length differences."""
    first = mask(candidates[0].value) if candidates else ""
    return tuple(Candidate(c.entry_id, c.pass_no, mask(c.value), c.flag, c.keyer, char_diff(first, mask(c.value)))
                 for c in candidates)


@_offline_is_known
def reveal_values(central: Store, actor: Actor, dispute_id: uuid.UUID) -> tuple[Candidate, ...]:
    """The real values of a (sensitive) disputed field, with the diff; the look is audited."""
    require(actor, QA_ACTION)
    with central.transaction() as s:
        require_user(s, actor.id, QA_ACTION)
        dispute = s.get(m.Dispute, dispute_id)
        if dispute is None or dispute.state != "open" or dispute.stage != "qa":
            raise NotFound("That disputed field is no longer open.", "Refresh the queue.")
        entries = _entries(s, [dispute.document_id]).get(dispute.document_id, [])
        values = _values(s, [e[0] for e in entries], [dispute.field_path])
        audit.record(s, "qa_reveal_value", actor=actor,
                     subject=f"document {dispute.document_id} field {dispute.field_path}")
        return _candidates(entries, values, dispute.field_path, reveal=False)


# --- deciding --------------------------------------------------------------------------------


def _check_not_own(s: Session, actor: Actor, document_id: uuid.UUID, allow_own: bool) -> bool:
    own = s.scalar(select(m.Entry.id).where(m.Entry.document_id == document_id, m.Entry.keyer_id == actor.id)) is not None
    if own and not allow_own:
        raise PermissionDenied(
            f"{actor.username} keyed an entry of this document and cannot decide its disputes.",
            "Leave it to another QA lead (or allow own decisions for tiny teams).",
        )
    return own


@_offline_is_known
def decide(central: Store, actor: Actor, dispute_id: uuid.UUID, *, entry_id: uuid.UUID | None = None,
           value: str | None = None, flag: str = "", reason: str = DEFAULT_REASON, allow_own: bool = False,
           finalize: bool = True) -> Decision:
    """Settle one disputed field: pick an entry, type a value, or mark it illegible/blank."""
    require(actor, QA_ACTION)
    if reason not in REASONS:
        raise KnownError(f"Unknown reason {reason!r}.", f"Use one of: {', '.join(REASONS)}.")
    if sum(x is not None for x in (entry_id, value)) + bool(flag) != 1:
        raise KnownError("A decision picks an entry, types a value, or marks the field: exactly one of them.")
    try:
        with central.transaction() as s:
            require_user(s, actor.id, QA_ACTION)
            return _decide(s, actor, dispute_id, entry_id, value, flag, reason, allow_own, finalize)
    except IntegrityError as exc:
        # Another lead's decision of the same field committed first (unique document + field).
        raise NotFound("Another QA lead decided that field a moment ago.", "Refresh the queue.") from exc


def _decide(s: Session, actor: Actor, dispute_id: uuid.UUID, entry_id: uuid.UUID | None, value: str | None,
            flag: str, reason: str, allow_own: bool, finalize: bool) -> Decision:
    dispute = s.get(m.Dispute, dispute_id)
    if dispute is None or dispute.state != "open" or dispute.stage != "qa":
        raise NotFound("That disputed field is no longer open.", "Refresh the queue.")
    own = _check_not_own(s, actor, dispute.document_id, allow_own)
    document = s.get(m.Document, dispute.document_id)
    assert document is not None
    spec = template_for_batch(s, document.batch_id).spec(dispute.field_path)
    issues: tuple[Issue, ...] = ()
    pass_no = 0
    if entry_id is not None:
        entry = s.get(m.Entry, entry_id)
        if entry is None or entry.document_id != dispute.document_id or entry.finished_at is None:
            raise NotFound("That entry does not belong to this document.")
        row = s.execute(select(m.FieldValue.value, m.FieldValue.flag).where(
            m.FieldValue.entry_id == entry_id, m.FieldValue.field_path == dispute.field_path)).first()
        final_value, final_flag = (row[0], row[1]) if row else EMPTY
        pass_no = entry.pass_no
        how = f"pick pass {entry.pass_no}"
    elif value is not None:
        typed = check_typed(spec, value)
        final_value, final_flag, issues = typed.value, "", typed.issues
        how = "typed"
    else:
        if flag not in (m.FLAG_ILLEGIBLE, m.FLAG_BLANK):
            raise KnownError(f"Unknown mark {flag!r}.", "Use illegible or blank.")
        final_value, final_flag = "", flag
        how = flag
    resolution = m.Resolution(document_id=dispute.document_id, field_path=dispute.field_path, value=final_value,
                              flag=final_flag, how="qa", chosen_entry_id=entry_id, decided_by=actor.id, reason=reason)
    s.add(resolution)
    dispute.state = "resolved"
    s.flush()
    audit.record(s, "qa_decision", actor=actor, subject=f"document {document.id} field {dispute.field_path}",
                 details={"decision": how, "reason": reason, "entry": str(entry_id) if entry_id else "",
                          "pass": pass_no, "resolution": str(resolution.id), "own_entry": own,
                          "issues": len(issues)})
    final = finalize_document(s, dispute.document_id) if finalize else False
    return Decision(resolution.id, final, issues)


@_offline_is_known
def undo_last(central: Store, actor: Actor, document_id: uuid.UUID, field_path: str | None = None) -> str:
    """Take back the actor's decision of `field_path` (default: their latest) on a document that
    is not final yet; returns the field reopened."""
    require(actor, QA_ACTION)
    with central.transaction() as s:
        require_user(s, actor.id, QA_ACTION)
        document = s.get(m.Document, document_id)
        if document is None:
            raise NotFound("That document does not exist.")
        if document.state == "final":
            raise KnownError("The document is final; its decisions can no longer be undone here.",
                             "Ask an administrator to reopen it.")
        query = select(m.Resolution).where(m.Resolution.document_id == document_id, m.Resolution.how == "qa",
                                           m.Resolution.decided_by == actor.id)
        if field_path is not None:
            query = query.where(m.Resolution.field_path == field_path)
        resolution = s.scalars(query.order_by(m.Resolution.decided_at.desc()).limit(1)).first()
        if resolution is None:
            raise KnownError("You have no decision on this document to undo.")
        dispute = s.scalars(select(m.Dispute).where(m.Dispute.document_id == document_id,
                                                    m.Dispute.field_path == resolution.field_path)).one()
        dispute.state = "open"
        path = resolution.field_path
        audit.record(s, "qa_undo", actor=actor, subject=f"document {document_id} field {path}",
                     details={"resolution": str(resolution.id), "reason": resolution.reason})
        s.delete(resolution)
        return path


@_offline_is_known
def close_document(central: Store, actor: Actor, document_id: uuid.UUID) -> bool:
    """Make a document final once every field is decided (after decisions with finalize=False)."""
    require(actor, QA_ACTION)
    with central.transaction() as s:
        require_user(s, actor.id, QA_ACTION)
        return finalize_document(s, document_id)


@_offline_is_known
def close_decided_documents(central: Store, actor: Actor, *, stale: dt.timedelta = STALE_OPEN,
                            now: dt.datetime | None = None) -> int:
    """Make final the documents left decided but open: the actor's own, and anyone's left
    longer than `stale` (a station closed hard before it closed them). Returns how many."""
    require(actor, QA_ACTION)
    cutoff = (now or m.utcnow()) - stale
    open_dispute = exists().where(m.Dispute.document_id == m.Document.id, m.Dispute.state == "open")
    qa_decided = exists().where(m.Resolution.document_id == m.Document.id, m.Resolution.how == "qa")
    with central.transaction() as s:
        require_user(s, actor.id, QA_ACTION)
        # Only documents waiting on nobody: few, so the per-document look below stays cheap.
        waiting = s.scalars(select(m.Document.id).where(m.Document.state == "resolving", ~open_dispute, qa_decided)).all()
        closed = 0
        for document_id in waiting:
            decisions = s.execute(select(m.Resolution.decided_by, m.Resolution.decided_at).where(
                m.Resolution.document_id == document_id, m.Resolution.how == "qa")).all()
            mine = any(by == actor.id for by, _ in decisions)
            if (mine or max(at for _, at in decisions) <= cutoff) and finalize_document(s, document_id):
                closed += 1
        return closed


# --- batches and figures ---------------------------------------------------------------------


@_offline_is_known
def qa_batches(central: Store, actor: Actor) -> list[BatchSummary]:
    """Open batches, oldest first, with how far their documents are."""
    require(actor, QA_ACTION)
    open_fields = (select(m.Document.batch_id, func.count().label("n"))
                   .join(m.Dispute, m.Dispute.document_id == m.Document.id)
                   .where(m.Dispute.stage == "qa", m.Dispute.state == "open")
                   .group_by(m.Document.batch_id).subquery())
    disputed_docs = (select(m.Document.batch_id, func.count(func.distinct(m.Document.id)).label("n"))
                     .join(m.Dispute, m.Dispute.document_id == m.Document.id)
                     .where(m.Dispute.stage == "qa", m.Dispute.state == "open")
                     .group_by(m.Document.batch_id).subquery())
    with central.session() as s:
        require_user(s, actor.id, QA_ACTION)
        rows = s.execute(
            select(m.Batch.id, m.Batch.name, m.Batch.created_at, func.count(m.Document.id),
                   func.sum(case((m.Document.state == "final", 1), else_=0)),
                   func.coalesce(func.max(disputed_docs.c.n), 0), func.coalesce(func.max(open_fields.c.n), 0))
            .join(m.Document, m.Document.batch_id == m.Batch.id)
            .outerjoin(open_fields, open_fields.c.batch_id == m.Batch.id)
            .outerjoin(disputed_docs, disputed_docs.c.batch_id == m.Batch.id)
            .where(m.Batch.state == "open")
            .group_by(m.Batch.id, m.Batch.name, m.Batch.created_at)
            .order_by(m.Batch.created_at, m.Batch.name)
        ).all()
        return [BatchSummary(bid, name, created_at=created, documents=int(docs), final=int(final or 0),
                             disputed_documents=int(disputed), open_fields=int(fields))
                for bid, name, created, docs, final, disputed, fields in rows]


@_offline_is_known
def batch_documents(central: Store, actor: Actor, batch_id: uuid.UUID, *, still_disputed: bool = False) -> list[DocumentRow]:
    """A batch's documents in order with their state; `still_disputed` keeps those with open
    QA fields only."""
    require(actor, QA_ACTION)
    with central.session() as s:
        require_user(s, actor.id, QA_ACTION)
        counts = s.execute(
            select(m.Dispute.document_id, m.Dispute.stage, m.Dispute.state, func.count())
            .join(m.Document, m.Document.id == m.Dispute.document_id)
            .where(m.Document.batch_id == batch_id)
            .group_by(m.Dispute.document_id, m.Dispute.stage, m.Dispute.state)
        ).all()
        by_doc: dict[uuid.UUID, dict[tuple[str, str], int]] = defaultdict(dict)
        for doc, stage, state, n in counts:
            by_doc[doc][(stage, state)] = int(n)
        decided = dict(s.execute(
            select(m.Resolution.document_id, func.count())
            .join(m.Document, m.Document.id == m.Resolution.document_id)
            .where(m.Document.batch_id == batch_id, m.Resolution.how == "qa")
            .group_by(m.Resolution.document_id)
        ).all())
        rows = []
        for doc_id, seq, state in s.execute(select(m.Document.id, m.Document.seq, m.Document.state)
                                            .where(m.Document.batch_id == batch_id).order_by(m.Document.seq)):
            tally = by_doc.get(doc_id, {})
            open_qa = tally.get(("qa", "open"), 0)
            if still_disputed and not open_qa:
                continue
            rows.append(DocumentRow(doc_id, seq, _state(state, open_qa, tally.get(("third_key", "open"), 0)),
                                    open_qa, int(decided.get(doc_id, 0))))
        return rows


def _state(state: str, open_qa: int, open_third: int) -> str:
    if state == "final":
        return STATE_FINAL
    if state == "keying":
        return STATE_KEYING
    if open_qa:
        return STATE_DISPUTED
    if open_third:
        return STATE_THIRD_KEY
    return STATE_DECIDED


def local_midnight(now: dt.datetime | None = None) -> dt.datetime:
    """The start of today on this computer's clock, in UTC (for "today's" figures)."""
    local = (now or m.utcnow()).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.timezone.utc)


@_offline_is_known
def lead_figures(central: Store, actor: Actor, *, since: dt.datetime | None = None,
                 idle_gap: dt.timedelta = IDLE_GAP) -> LeadFigures:
    """The actor's decisions since `since` (default: local midnight) and decisions per hour."""
    require(actor, QA_ACTION)
    since = since or local_midnight()
    with central.session() as s:
        require_user(s, actor.id, QA_ACTION)
        times = list(s.scalars(
            select(m.Resolution.decided_at)
            .where(m.Resolution.decided_by == actor.id, m.Resolution.how == "qa", m.Resolution.decided_at >= since)
            .order_by(m.Resolution.decided_at)
        ))
    limit = idle_gap.total_seconds()
    gaps = [g for g in ((b - a).total_seconds() for a, b in zip(times, times[1:])) if g <= limit]
    active = sum(gaps)
    per_hour = len(gaps) / (active / 3600) if gaps and active > 0 else None
    return LeadFigures(since, len(times), active, per_hour)

