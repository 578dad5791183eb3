"""From keyed entries to final values, in the central database.

Called inside the push transaction (`documents_updated`) and by QA decisions:

1. When pass 1 and pass 2 of a document are both in, it is compared field by field. Agreed
   fields become final at once (`Resolution.how = "agreed"`).
2. Mismatches follow the template's policy. `third_key`: a `Dispute(stage="third_key")` per field
   and one pass-3 `Task` listing only those field paths (never values), for a keyer who keyed
   neither pass (the schema's one-task-per-(document, keyer) rule enforces it). `qa`: a
   `Dispute(stage="qa")` per field.
3. When the third key is in, a value that is the same as pass 1's or pass 2's settles the field
   (`how = "third_key"`, the matching earlier entry recorded); otherwise the field goes to QA.
4. When every field has a final value, the document is final and every keyed value is scored
   (`FieldValue.final_match`, `error_class`). A path an entry never keyed (a forgotten line-item
   row) whose final value is not empty gets an empty, zero-keystroke value in that entry, scored
   as an omission, so a forgotten row counts against accuracy like any other missed field.
   The batch is final when all its documents are.
5. The dashboard's summary tables (`workstation.rollups`) are brought up to date for every entry
   of the documents handled, in the same transaction: `documents_updated` (the push calls it
   after inserting the unit's entries and values, so that covers the values just pushed) and
   `finalize_document` (QA decisions) recompute them once, after the scoring.

Everything is idempotent: a replayed push finds the document already compared and does nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from workstation import models as m
from workstation import rollups
from workstation.catalog import template_for_batch
from workstation.compare import EMPTY, Value, classify_error, compare_entries, ordered_paths, same
from workstation.fields import normalize

log = logging.getLogger(__name__)


def _entries(s: Session, document_id: uuid.UUID) -> dict[int, m.Entry]:
    rows = s.scalars(select(m.Entry).where(m.Entry.document_id == document_id, m.Entry.finished_at.is_not(None)))
    return {entry.pass_no: entry for entry in rows}


def _values(s: Session, entry_id: uuid.UUID) -> dict[str, Value]:
    rows = s.execute(select(m.FieldValue.field_path, m.FieldValue.value, m.FieldValue.flag).where(m.FieldValue.entry_id == entry_id))
    return {path: (value, flag) for path, value, flag in rows}


def documents_updated(s: Session, document_ids: Iterable[uuid.UUID]) -> None:
    """Move each document as far along the pipeline as its finished entries allow.

    Then recompute the summaries of every entry of these documents: their values may just have
    arrived (a push) or been scored.
    """
    ids = list(dict.fromkeys(document_ids))
    for document_id in ids:
        document = s.get(m.Document, document_id)
        if document is None or document.state == "final":
            continue
        entries = _entries(s, document_id)
        if document.state == "keying" and 1 in entries and 2 in entries:
            _compare(s, document_id)
        elif document.state == "resolving" and 3 in entries:
            _apply_third_key(s, document_id)
    _refresh_summaries(s, ids)


def _refresh_summaries(s: Session, document_ids: list[uuid.UUID]) -> None:
    if document_ids:
        entry_ids = s.scalars(select(m.Entry.id).where(m.Entry.document_id.in_(document_ids))).all()
        rollups.entries_changed(s, entry_ids)


def compare_document(s: Session, document_id: uuid.UUID) -> None:
    _compare(s, document_id)
    _refresh_summaries(s, [document_id])


def _compare(s: Session, document_id: uuid.UUID) -> None:
    document = s.get(m.Document, document_id)
    if document is None or document.state != "keying":
        return
    batch = s.get(m.Batch, document.batch_id)
    assert batch is not None
    template = template_for_batch(s, batch.id)
    entries = _entries(s, document_id)
    first, second = entries[1], entries[2]
    result = compare_entries(template, _values(s, first.id), _values(s, second.id))
    for path, (value, flag) in result.agreed.items():
        s.add(m.Resolution(document_id=document_id, field_path=path, value=value, flag=flag, how="agreed",
                           chosen_entry_id=first.id))
    if not result.disputed:
        s.flush()
        _finalize(s, document_id)
        return
    stage = "third_key" if template.mismatch_policy == "third_key" else "qa"
    for path in result.disputed:
        s.add(m.Dispute(document_id=document_id, field_path=path, stage=stage))
    if stage == "third_key":
        s.add(m.Task(batch_id=batch.id, document_id=document_id, pass_no=m.PASS_THIRD, field_paths=list(result.disputed),
                     priority=batch.priority))
    document.state = "resolving"
    s.flush()
    log.info("document %s: %d agreed, %d disputed (%s)", document_id, len(result.agreed), len(result.disputed), stage)


def apply_third_key(s: Session, document_id: uuid.UUID) -> None:
    _apply_third_key(s, document_id)
    _refresh_summaries(s, [document_id])


def _apply_third_key(s: Session, document_id: uuid.UUID) -> None:
    entries = _entries(s, document_id)
    if 3 not in entries:
        return
    disputes = s.scalars(
        select(m.Dispute).where(m.Dispute.document_id == document_id, m.Dispute.stage == "third_key", m.Dispute.state == "open")
    ).all()
    if not disputes:
        return
    document = s.get(m.Document, document_id)
    assert document is not None
    template = template_for_batch(s, document.batch_id)
    third, earlier = _values(s, entries[3].id), {n: _values(s, entries[n].id) for n in (1, 2)}
    for dispute in disputes:
        spec = template.spec(dispute.field_path)
        v3 = third.get(dispute.field_path, EMPTY)
        for pass_no in (1, 2):
            candidate = earlier[pass_no].get(dispute.field_path, EMPTY)
            if same(spec, v3[0], v3[1], candidate[0], candidate[1]):
                s.add(m.Resolution(document_id=document_id, field_path=dispute.field_path, value=candidate[0],
                                   flag=candidate[1], how="third_key", chosen_entry_id=entries[pass_no].id))
                dispute.state = "resolved"
                break
        else:
            dispute.stage = "qa"
    s.flush()
    _finalize(s, document_id)


def finalize_document(s: Session, document_id: uuid.UUID) -> bool:
    """Make the document final and score its entries, if every field has a final value."""
    final = _finalize(s, document_id)
    if final:
        _refresh_summaries(s, [document_id])
    return final


def _finalize(s: Session, document_id: uuid.UUID) -> bool:
    document = s.get(m.Document, document_id)
    if document is None or document.state == "final":
        return False
    open_disputes = s.scalar(
        select(func.count()).select_from(m.Dispute).where(m.Dispute.document_id == document_id, m.Dispute.state == "open")
    )
    if open_disputes:
        return False
    entries = _entries(s, document_id)
    if 1 not in entries or 2 not in entries:
        return False
    template = template_for_batch(s, document.batch_id)
    finals = {r.field_path: r for r in s.scalars(select(m.Resolution).where(m.Resolution.document_id == document_id))}
    keyed = {n: _values(s, entries[n].id) for n in (1, 2)}
    if any(path not in finals for path in ordered_paths(template, keyed[1], keyed[2])):
        return False
    _score(s, template, entries, finals)
    document.state = "final"
    document.finished_at = m.utcnow()
    s.flush()
    _finish_batch_if_done(s, document.batch_id)
    return True


def _score(s: Session, template, entries: dict[int, m.Entry], finals: dict[str, m.Resolution]) -> None:  # type: ignore[no-untyped-def]
    for pass_no, entry in entries.items():
        values = {fv.field_path: fv for fv in s.scalars(select(m.FieldValue).where(m.FieldValue.entry_id == entry.id))}
        if pass_no in (1, 2):
            for path, final in finals.items():
                if path not in values and (final.value or final.flag):
                    filler = m.FieldValue(entry_id=entry.id, keyer_id=entry.keyer_id, field_path=path, value="", flag="",
                                          started_at=entry.finished_at or m.utcnow(), saved_at=entry.finished_at or m.utcnow())
                    s.add(filler)
                    values[path] = filler
        for path, fv in values.items():
            final = finals.get(path)
            if final is None:
                continue
            spec = template.spec(path)
            if same(spec, fv.value, fv.flag, final.value, final.flag):
                fv.final_match, fv.error_class = True, None
            else:
                fv.final_match = False
                fv.error_class = classify_error(normalize(spec, fv.value, fv.flag), normalize(spec, final.value, final.flag))


def _finish_batch_if_done(s: Session, batch_id: uuid.UUID) -> None:
    left = s.scalar(
        select(func.count()).select_from(m.Document).where(m.Document.batch_id == batch_id, m.Document.state != "final")
    )
    if not left:
        s.execute(update(m.Batch).where(m.Batch.id == batch_id, m.Batch.state == "open").values(state="final", finished_at=m.utcnow()))
