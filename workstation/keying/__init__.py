"""Keying: one keyer keys the documents of one claimed work unit, in the station's local store.

`KeyingSession` is a plain object (no Qt): the keying window wraps it and the simulator drives
it, and neither adds domain logic. A test can key whole documents with it alone.

    session = KeyingSession.open(local, unit_id, keyer_id)      # resumes saved work
    session.keystroke(); session.set_text("SMITH")              # every key press; the live text
    move = session.advance()                                    # Enter/Tab
    if move.warned: ...                                         # issues shown; Enter again accepts
    if move.document_done: session.finish_document()

API (all commands act on the current document and field; `session.path`, `session.doc_index`):

- `KeyingSession.open(local, unit_id, keyer_id, *, idle_threshold_s=30.0, clock=time.monotonic,
  wallclock=models.utcnow, writer=None)`. Raises LeaseLost when the unit is not active on this
  station or is someone else's, KnownError when a document has nothing to key.
- `template`, `pass_no`, `documents` (DocumentInfo: id, seq, source_name, page_shas in page
  order, field_paths: the pass-3 task's list or None), `document`, `unit_finished`.
- `paths()`: the current document's keyable paths in order (line-item rows as currently added;
  pass 3: only the task's paths). `field(path=None) -> FieldState` (text, flag, issues,
  overridden, saved, keystrokes, zone, warned, `spec.auto_advance_at` / `auto_advance_at`).
  `rows(section)`, `can_add_row`, `can_remove_row`, `missing()`, `is_finished(i)`.
- `keystroke(now=None)`: count one key press in the field (text keys, Backspace, paste...).
- `set_text(text) -> issues`: the live text; validated, not saved. Text clears a flag.
- `advance(*, confirm=False, auto=False) -> Move`: prepare + validate; a value with issues is
  refused once (`Move.warned`), accepted on the next Enter with the text unchanged or with
  `confirm=True`, then saved `overridden`. `auto=True` is the form's auto-advance on a full
  fixed-length field (no key press counted). After the last field, `Move.document_done`.
- `back() -> Move`: Shift+Tab; saves the field as it stands (no validation), goes back.
- `dup() -> str | None`: the field takes the previous document's saved value and flag for the
  same path (None: nothing to repeat). Enter then accepts it.
- `mark_illegible()`, `mark_blank() -> Move`: flag the field (text cleared), save, go on.
- `add_row(section) -> path`, `remove_row(section, row)`: line items within min/max rows
  (RowLimit otherwise, and always in pass 3); removing a row deletes its saved values and moves
  later rows' saved values up one row.
- `finish_document() -> DocumentDone`: saves the field, sets the entry's finished_at, opens the
  next unfinished document. The last one also finishes the unit and writes
  OutboxItem(kind="unit_finished", payload={"unit_id": ...}) in the same transaction.
  Missing fields are reported in `DocumentDone.missing`, never enforced (warn, never trap).
- `go_to(doc_index, path=None)`: save the field, jump (default: where that document was left).
- `save_current()`: write the field being typed without leaving it (closing, screen lock).
- `figures() -> KeyerFigures`: today's keystrokes, fields saved, documents finished, active
  seconds and keystrokes per active hour, the field being typed included.

Counting: `keystroke()` counts text-editing keys; the command keys count themselves (Enter,
Shift+Tab, dup, illegible, blank, add/remove row: one key press each, on the field being left);
`finish_document`, `go_to` and auto-advance count none.

Time: per field, the time between entering and leaving it is split at the key presses; a gap
longer than `idle_threshold_s` counts, whole, as pause, the rest as active time (DESIGN.md
"Metric definitions"). Times come from the injected `clock`, wall timestamps from `wallclock`.

Storage: leaving a field commits it to the local store at once, in its own short transaction
(upsert of FieldValue by (entry, field_path): prepared value, flag, overridden, keystrokes,
active_ms, pause_ms accumulated over visits, started_at of the first visit, saved_at), and moves
the entry's cursor_path to the field now current, so `open` resumes at that document and field.
Opening a document creates its Entry. Each write is a frozen `SaveJob` handed to `writer`
(default: `save(local, job)` at once, on the calling thread); a UI passes its writer thread's
submit function instead. With the default writer a failed write raises and changes nothing in
the session, so leaving the field again retries it.

Resume: the unfinished document worked on last, at its cursor, with every saved value; finished
documents stay finished. Values are never truncated: text goes through `fields.prepare`, which
cleans pasted tabs, line breaks and control characters; what is too long is kept and warned.

Held work: `held_units(local, keyer_id)` lists the keyer's active units on this station with
the document and field each would resume at (the keyer's home offers them after a crash).

Blindness: the session reads only this keyer's entries in the local store (which never holds
another pass's values); dup reads this keyer's previous document of the unit.
"""

from workstation.keying.layout import RowLimit
from workstation.keying.persist import SaveFailed, SaveJob, UNIT_FINISHED_KIND, ValueRow, save
from workstation.keying.records import DocumentDone, DocumentInfo, FieldState, KeyerFigures, Move
from workstation.keying.session import KeyingSession
from workstation.keying.units import HeldUnit, held_units

__all__ = [
    "DocumentDone",
    "DocumentInfo",
    "FieldState",
    "HeldUnit",
    "KeyerFigures",
    "KeyingSession",
    "Move",
    "RowLimit",
    "SaveFailed",
    "SaveJob",
    "UNIT_FINISHED_KIND",
    "ValueRow",
    "held_units",
    "save",
]
