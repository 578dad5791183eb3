"""The QA lead's services: the queue of disputed fields and the decisions that settle them.

Only the qa and admin roles reach these services (checked here, not only in the UI). A QA lead
who keyed an entry of a document may not decide its disputes unless `allow_own` is given (for
tiny teams); such a decision is flagged in the audit log. Who keyed which entry is hidden by
default so the decision is about the image, not the person.

A decision picks an entry, types a value (prepared and validated like keying; the issues are
returned, the value accepted), or marks the field illegible, with a reason code. It becomes a
`Resolution(how="qa")`. With `finalize=False` the document stays open after its last decision,
so the lead can still undo while on that document; `close_document` then makes it final.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from workstation import audit
from workstation import models as m
from workstation.auth import Actor, require_role
from workstation.catalog import template_for_batch
from workstation.compare import EMPTY, DiffOp, char_diff
from workstation.errors import KnownError, NotFound, PermissionDenied
from workstation.fields import Issue, prepare, validate
from workstation.resolve import finalize_document
from workstation.store import Store
from workstation.templates import Zone

REASONS = ("image_clear", "keyer_typo", "format", "illegible", "other")
QA_ROLES = ("qa",)


@dataclass(frozen=True)
class Candidate:
    entry_id: uuid.UUID
    pass_no: int
    value: str
    flag: str
    keyer: str  # "" unless revealed
    diff: tuple[DiffOp, ...]  # against the first candidate


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


@dataclass(frozen=True)
class Decision:
    resolution_id: uuid.UUID
    document_final: bool
    issues: tuple[Issue, ...]


def qa_queue(central: Store, actor: Actor, *, batch_id: uuid.UUID | None = None, reveal: bool = False,
             limit: int = 500) -> list[DisputeItem]:
    """Open QA disputes, grouped by batch and document, oldest first."""
    require_role(actor, *QA_ROLES)
    with central.session() as s:
        query = (
            select(m.Dispute, m.Document, m.Batch)
            .join(m.Document, m.Document.id == m.Dispute.document_id)
            .join(m.Batch, m.Batch.id == m.Document.batch_id)
            .where(m.Dispute.stage == "qa", m.Dispute.state == "open")
            .order_by(m.Batch.created_at, m.Batch.name, m.Document.seq, m.Dispute.created_at)
            .limit(limit)
        )
        if batch_id is not None:
            query = query.where(m.Batch.id == batch_id)
        items = []
        for dispute, document, batch in s.execute(query).all():
            template = template_for_batch(s, batch.id)
            spec = template.spec(dispute.field_path)
            zone = template.zone(dispute.field_path)
            page = s.scalar(select(m.Page.image_sha256).where(m.Page.document_id == document.id,
                                                              m.Page.page_no == (zone.page if zone else 1)))
            items.append(DisputeItem(
                dispute_id=dispute.id, batch_id=batch.id, batch_name=batch.name, document_id=document.id,
                document_seq=document.seq, field_path=dispute.field_path, label=spec.label, type=spec.type,
                help=spec.help, sensitive=spec.sensitive, zone=zone, page_sha256=page,
                candidates=_candidates(s, document.id, dispute.field_path, reveal), created_at=dispute.created_at,
            ))
        return items


def _candidates(s, document_id: uuid.UUID, path: str, reveal: bool) -> tuple[Candidate, ...]:  # type: ignore[no-untyped-def]
    rows = s.execute(
        select(m.Entry.id, m.Entry.pass_no, m.User.username)
        .join(m.User, m.User.id == m.Entry.keyer_id)
        .where(m.Entry.document_id == document_id, m.Entry.finished_at.is_not(None))
        .order_by(m.Entry.pass_no)
    ).all()
    values = dict(
        ((entry_id, (value, flag)) for entry_id, value, flag in s.execute(
            select(m.FieldValue.entry_id, m.FieldValue.value, m.FieldValue.flag)
            .where(m.FieldValue.entry_id.in_([r[0] for r in rows]), m.FieldValue.field_path == path)
        ))
    )
    result: list[Candidate] = []
    first = ""
    for entry_id, pass_no, username in rows:
        if pass_no == 3 and entry_id not in values:
            continue  # the third key did not cover this field
        value, flag = values.get(entry_id, EMPTY)
        if not result:
            first = value
        result.append(Candidate(entry_id, pass_no, value, flag, username if reveal else "", char_diff(first, value)))
    return tuple(result)


def _check_not_own(s, actor: Actor, document_id: uuid.UUID, allow_own: bool) -> bool:  # type: ignore[no-untyped-def]
    own = s.scalar(select(m.Entry.id).where(m.Entry.document_id == document_id, m.Entry.keyer_id == actor.id)) is not None
    if own and not allow_own:
        raise PermissionDenied(
            f"{actor.username} keyed an entry of this document and cannot decide its disputes.",
            "Leave it to another QA lead (or allow own decisions for tiny teams).",
        )
    return own


def decide(central: Store, actor: Actor, dispute_id: uuid.UUID, *, entry_id: uuid.UUID | None = None,
           value: str | None = None, flag: str = "", reason: str = "image_clear", allow_own: bool = False,
           finalize: bool = True) -> Decision:
    require_role(actor, *QA_ROLES)
    if reason not in REASONS:
        raise KnownError(f"Unknown reason {reason!r}.", f"Use one of: {', '.join(REASONS)}.")
    if sum(x is not None for x in (entry_id, value)) + bool(flag) != 1:
        raise KnownError("A decision picks an entry, types a value, or marks the field: exactly one of them.")
    with central.transaction() as s:
        dispute = s.get(m.Dispute, dispute_id)
        if dispute is None or dispute.state != "open" or dispute.stage != "qa":
            raise NotFound("That disputed field is no longer open.", "Refresh the queue.")
        own = _check_not_own(s, actor, dispute.document_id, allow_own)
        document = s.get(m.Document, dispute.document_id)
        assert document is not None
        spec = template_for_batch(s, document.batch_id).spec(dispute.field_path)
        issues: tuple[Issue, ...] = ()
        if entry_id is not None:
            entry = s.get(m.Entry, entry_id)
            if entry is None or entry.document_id != dispute.document_id:
                raise NotFound("That entry does not belong to this document.")
            row = s.execute(select(m.FieldValue.value, m.FieldValue.flag).where(
                m.FieldValue.entry_id == entry_id, m.FieldValue.field_path == dispute.field_path)).first()
            final_value, final_flag = (row[0], row[1]) if row else EMPTY
            how = f"pick pass {entry.pass_no}"
        elif value is not None:
            final_value, final_flag = prepare(spec, value), ""
            issues = validate(spec, final_value)
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
                     details={"decision": how, "reason": reason, "own_entry": own, "issues": len(issues)})
        final = finalize_document(s, dispute.document_id) if finalize else False
        return Decision(resolution.id, final, issues)


def undo_last(central: Store, actor: Actor, document_id: uuid.UUID) -> str:
    """Take back the actor's latest decision on a document that is not final yet; returns its field."""
    require_role(actor, *QA_ROLES)
    with central.transaction() as s:
        document = s.get(m.Document, document_id)
        if document is None:
            raise NotFound("That document does not exist.")
        if document.state == "final":
            raise KnownError("The document is final; its decisions can no longer be undone here.",
                             "Ask an administrator to reopen it.")
        resolution = s.scalars(
            select(m.Resolution).where(m.Resolution.document_id == document_id, m.Resolution.how == "qa",
                                       m.Resolution.decided_by == actor.id)
            .order_by(m.Resolution.decided_at.desc()).limit(1)
        ).first()
        if resolution is None:
            raise KnownError("You have no decision on this document to undo.")
        dispute = s.scalars(select(m.Dispute).where(m.Dispute.document_id == document_id,
                                                    m.Dispute.field_path == resolution.field_path)).one()
        dispute.state = "open"
        path = resolution.field_path
        s.delete(resolution)
        audit.record(s, "qa_undo", actor=actor, subject=f"document {document_id} field {path}")
        return path


def close_document(central: Store, actor: Actor, document_id: uuid.UUID) -> bool:
    """Make a document final once every field is decided (after decisions with finalize=False)."""
    require_role(actor, *QA_ROLES)
    with central.transaction() as s:
        return finalize_document(s, document_id)
