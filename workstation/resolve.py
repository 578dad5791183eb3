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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from workstation import models as m
from workstation import rollups
from workstation.catalog import template_by_id
from workstation.compare import EMPTY, classify_error, compare_entries, ordered_paths, same
from workstation.fields import normalize
from workstation.templates import FormTemplate

log = logging.getLogger(__name__)


def documents_updated(s: Session, document_ids: Iterable[uuid.UUID]) -> None:
    """Move each document as far along the pipeline as its finished entries allow.

    Then recompute the summaries of every entry of these documents: their values may just have
    arrived (a push) or been scored. Documents are handled a chunk at a time with a few
    set-based statements per chunk (a push of a thousand documents' second pass compares a
    thousand documents inside the push transaction).
    """
    ids = list(dict.fromkeys(document_ids))
    for start in range(0, len(ids), _CHUNK):
        _advance(s, ids[start:start + _CHUNK])
    _refresh_summaries(s, ids)


def _refresh_summaries(s: Session, document_ids: list[uuid.UUID]) -> None:
    if document_ids:
        entry_ids = s.scalars(select(m.Entry.id).where(m.Entry.document_id.in_(document_ids))).all()
        rollups.entries_changed(s, entry_ids)


def finalize_document(s: Session, document_id: uuid.UUID) -> bool:
    """Make the document final and score its entries, if every field has a final value."""
    final = bool(_finalize_many(s, [document_id]))
    if final:
        _refresh_summaries(s, [document_id])
    return final


def _scores(template: FormTemplate, values: dict[str, tuple[str, str]],
            finals: dict[str, tuple[str, str]]) -> dict[str, tuple[bool, str | None]]:
    """path -> (final_match, error_class) for an entry's values against the final values."""
    out: dict[str, tuple[bool, str | None]] = {}
    for path, (value, flag) in values.items():
        final = finals.get(path)
        if final is None:
            continue
        spec = template.spec(path)
        if same(spec, value, flag, final[0], final[1]):
            out[path] = (True, None)
        else:
            out[path] = (False, classify_error(normalize(spec, value, flag), normalize(spec, final[0], final[1])))
    return out


def _missing_paths(pass_no: int, keyed: Iterable[str], finals: dict[str, tuple[str, str]]) -> list[str]:
    """Paths pass 1 or 2 never keyed whose final value is not empty (a forgotten row): they get
    an empty value, scored as an omission."""
    if pass_no not in (m.PASS_FIRST, m.PASS_SECOND):
        return []
    have = set(keyed)
    return [path for path, (value, flag) in finals.items() if path not in have and (value or flag)]


# --- many documents at once, with Core statements ----------------------------------------------

_CHUNK = 500
_docs = cast(Table, m.Document.__table__)
_batches = cast(Table, m.Batch.__table__)
_en = cast(Table, m.Entry.__table__)
_fv = cast(Table, m.FieldValue.__table__)
_res = cast(Table, m.Resolution.__table__)
_disp = cast(Table, m.Dispute.__table__)
_tasks = cast(Table, m.Task.__table__)

_SET_DISPUTE = update(_disp).where(_disp.c.id == bindparam("b_id")).values(
    state=bindparam("b_state"), stage=bindparam("b_stage"))
_SET_SCORE = update(_fv).where(_fv.c.id == bindparam("b_id")).values(
    final_match=bindparam("b_match"), error_class=bindparam("b_class"))
_SET_STATE = update(_docs).where(_docs.c.id == bindparam("b_id")).values(
    state=bindparam("b_state"), finished_at=bindparam("b_at", type_=_docs.c.finished_at.type))


@dataclass
class _EntryRow:
    id: uuid.UUID
    pass_no: int
    keyer_id: uuid.UUID
    finished_at: Any
    values: dict[str, tuple[uuid.UUID, str, str]] = field(default_factory=dict)  # path -> (id, text, flag)

    def texts(self) -> dict[str, tuple[str, str]]:
        return {path: (text, flag) for path, (_id, text, flag) in self.values.items()}


@dataclass
class _Writes:
    resolutions: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    dispute_updates: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    fillers: list[dict[str, Any]] = field(default_factory=list)


def _advance(s: Session, ids: list[uuid.UUID]) -> None:
    """`documents_updated` for one chunk: compare, apply third keys, finalize, score."""
    s.flush()  # the ORM's pending rows first: what follows reads and writes with Core
    docs, entries = _load(s, ids)
    to_compare = [d for d in docs if docs[d].state == "keying" and {1, 2} <= entries[d].keys()]
    to_third = [d for d in docs if docs[d].state == "resolving" and 3 in entries[d]]
    if not to_compare and not to_third:
        return
    _load_values(s, (e for d in (*to_compare, *to_third) for e in entries[d].values()))
    now = m.utcnow()
    writes = _Writes()
    settled = [d for d in to_compare if _plan_compare(s, docs[d], entries[d], writes, now)]
    if to_third:
        settled += _plan_third_keys(s, docs, entries, to_third, writes, now)
    _write(s, writes)
    _finalize_many(s, settled)
    s.expire_all()  # ORM objects read earlier in this transaction must not hide the new states


def _load(s: Session, doc_ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, Any], dict[uuid.UUID, dict[int, _EntryRow]]]:
    """The documents (not final yet) and their finished entries, without values."""
    docs = {d.id: d for d in s.execute(
        select(_docs.c.id, _docs.c.batch_id, _docs.c.state, _batches.c.template_id, _batches.c.priority)
        .join(_batches, _batches.c.id == _docs.c.batch_id).where(_docs.c.id.in_(doc_ids))) if d.state != "final"}
    entries: dict[uuid.UUID, dict[int, _EntryRow]] = defaultdict(dict)
    if docs:
        for row in s.execute(select(_en.c.id, _en.c.document_id, _en.c.pass_no, _en.c.keyer_id, _en.c.finished_at)
                             .where(_en.c.document_id.in_(list(docs)), _en.c.finished_at.is_not(None))):
            entries[row.document_id][row.pass_no] = _EntryRow(row.id, row.pass_no, row.keyer_id, row.finished_at)
    return docs, entries


def _load_values(s: Session, entries: Iterable[_EntryRow]) -> None:
    by_id = {e.id: e for e in entries}
    ids = list(by_id)
    for start in range(0, len(ids), _CHUNK):
        for row in s.execute(select(_fv.c.entry_id, _fv.c.id, _fv.c.field_path, _fv.c.value, _fv.c.flag)
                             .where(_fv.c.entry_id.in_(ids[start:start + _CHUNK]))):
            by_id[row.entry_id].values[row.field_path] = (row.id, row.value, row.flag)


def _finalize_many(s: Session, doc_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Score and make final each of these documents that has a final value for every field and
    no open dispute; returns the ones made final. The batch is final when all its documents are."""
    if not doc_ids:
        return []
    s.flush()
    docs, entries = _load(s, doc_ids)
    busy = set(s.scalars(select(_disp.c.document_id).where(_disp.c.document_id.in_(list(docs)), _disp.c.state == "open")))
    ready = [d for d in docs if d not in busy and {1, 2} <= entries[d].keys()]
    if not ready:
        return []
    _load_values(s, (e for d in ready for e in entries[d].values()))
    finals: dict[uuid.UUID, dict[str, tuple[str, str]]] = defaultdict(dict)
    for row in s.execute(select(_res.c.document_id, _res.c.field_path, _res.c.value, _res.c.flag)
                         .where(_res.c.document_id.in_(ready))):
        finals[row.document_id][row.field_path] = (row.value, row.flag)
    now = m.utcnow()
    writes = _Writes()
    made = [d for d in ready
            if _plan_final(template_by_id(s, docs[d].template_id), d, entries[d], finals[d], writes, now)]
    _write(s, writes)
    for batch_id in {docs[d].batch_id for d in made}:
        _finish_batch_if_done(s, batch_id)
    s.expire_all()
    return made


def _resolution(doc_id: uuid.UUID, path: str, value: tuple[str, str], how: str, entry_id: uuid.UUID,
                now: Any) -> dict[str, Any]:
    return {"id": m.new_id(), "document_id": doc_id, "field_path": path, "value": value[0], "flag": value[1],
            "how": how, "chosen_entry_id": entry_id, "decided_by": None, "reason": "", "decided_at": now}


def _plan_compare(s: Session, doc: Any, entries: dict[int, _EntryRow], writes: _Writes, now: Any) -> bool:
    """Compare passes 1 and 2: True when every field agrees, else the disputes are planned."""
    template = template_by_id(s, doc.template_id)
    first, second = entries[1], entries[2]
    result = compare_entries(template, first.texts(), second.texts())
    for path, value in result.agreed.items():
        writes.resolutions.append(_resolution(doc.id, path, value, "agreed", first.id, now))
    if not result.disputed:
        return True
    stage = "third_key" if template.mismatch_policy == "third_key" else "qa"
    writes.disputes.extend({"id": m.new_id(), "document_id": doc.id, "field_path": path, "stage": stage,
                            "state": "open", "created_at": now} for path in result.disputed)
    if stage == "third_key":
        writes.tasks.append({"id": m.new_id(), "batch_id": doc.batch_id, "document_id": doc.id,
                             "pass_no": m.PASS_THIRD, "state": "open", "field_paths": list(result.disputed),
                             "priority": doc.priority, "created_at": now})
    writes.states.append({"b_id": doc.id, "b_state": "resolving", "b_at": None})
    log.info("document %s: %d agreed, %d disputed (%s)", doc.id, len(result.agreed), len(result.disputed), stage)
    return False


def _plan_third_keys(s: Session, docs: dict[uuid.UUID, Any], entries: dict[uuid.UUID, dict[int, _EntryRow]],
                     doc_ids: list[uuid.UUID], writes: _Writes, now: Any) -> list[uuid.UUID]:
    """Settle third-key disputes a third value matches; the rest go to QA. Returns the documents
    left with no open dispute."""
    open_disputes: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in s.execute(select(_disp.c.id, _disp.c.document_id, _disp.c.field_path, _disp.c.stage)
                         .where(_disp.c.document_id.in_(doc_ids), _disp.c.state == "open")):
        open_disputes[row.document_id].append(row)
    settled: list[uuid.UUID] = []
    for doc_id in doc_ids:
        rows = [d for d in open_disputes[doc_id] if d.stage == "third_key"]
        if not rows:
            continue
        template = template_by_id(s, docs[doc_id].template_id)
        third = entries[doc_id][3].texts()
        earlier = {n: entries[doc_id][n].texts() for n in (1, 2)}
        still_open = len(open_disputes[doc_id]) - len(rows)
        for dispute in rows:
            spec = template.spec(dispute.field_path)
            v3 = third.get(dispute.field_path, EMPTY)
            for pass_no in (1, 2):
                candidate = earlier[pass_no].get(dispute.field_path, EMPTY)
                if same(spec, v3[0], v3[1], candidate[0], candidate[1]):
                    writes.resolutions.append(_resolution(doc_id, dispute.field_path, candidate, "third_key",
                                                          entries[doc_id][pass_no].id, now))
                    writes.dispute_updates.append({"b_id": dispute.id, "b_state": "resolved", "b_stage": "third_key"})
                    break
            else:
                writes.dispute_updates.append({"b_id": dispute.id, "b_state": "open", "b_stage": "qa"})
                still_open += 1
        if not still_open:
            settled.append(doc_id)
    return settled


def _plan_final(template: FormTemplate, doc_id: uuid.UUID, entries: dict[int, _EntryRow],
                finals: dict[str, tuple[str, str]], writes: _Writes, now: Any) -> bool:
    """Score every entry against the final values and make the document final, when every
    field has one (True)."""
    if any(path not in finals for path in ordered_paths(template, entries[1].texts(), entries[2].texts())):
        return False
    for entry in entries.values():
        texts = entry.texts()
        for path in _missing_paths(entry.pass_no, texts, finals):
            at = entry.finished_at or now
            filler_id = m.new_id()
            writes.fillers.append({"id": filler_id, "entry_id": entry.id, "keyer_id": entry.keyer_id,
                                   "field_path": path, "value": "", "flag": "", "overridden": False,
                                   "keystrokes": 0, "active_ms": 0, "pause_ms": 0, "started_at": at, "saved_at": at})
            entry.values[path] = (filler_id, "", "")
            texts[path] = ("", "")
        for path, (match, error_class) in _scores(template, texts, finals).items():
            writes.scores.append({"b_id": entry.values[path][0], "b_match": match, "b_class": error_class})
    writes.states.append({"b_id": doc_id, "b_state": "final", "b_at": now})
    return True


def _write(s: Session, writes: _Writes) -> None:
    if writes.resolutions:
        s.execute(insert(_res), writes.resolutions)
    if writes.disputes:
        s.execute(insert(_disp), writes.disputes)
    if writes.dispute_updates:
        s.execute(_SET_DISPUTE, writes.dispute_updates)
    if writes.tasks:
        s.execute(insert(_tasks), writes.tasks)
    if writes.fillers:
        s.execute(insert(_fv), writes.fillers)
    if writes.scores:
        s.execute(_SET_SCORE, writes.scores)
    if writes.states:
        s.execute(_SET_STATE, writes.states)


def _finish_batch_if_done(s: Session, batch_id: uuid.UUID) -> None:
    left = s.scalar(
        select(func.count()).select_from(m.Document).where(m.Document.batch_id == batch_id, m.Document.state != "final")
    )
    if not left:
        s.execute(update(m.Batch).where(m.Batch.id == batch_id, m.Batch.state == "open").values(state="final", finished_at=m.utcnow()))
