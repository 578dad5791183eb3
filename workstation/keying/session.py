"""The keying session: one keyer keying the documents of one claimed unit in the local store.

See the package docstring (workstation.keying) for the behaviour; this module holds the state
machine. It is used from one thread (the GUI thread or the simulator's); writes leave through
the `writer` hook as frozen `SaveJob`s.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from workstation import fields
from workstation import models as m
from workstation.errors import KnownError, LeaseLost
from workstation.fields import Issue
from workstation.keying.layout import DocumentLayout, renumber_rows
from workstation.keying.figures import DayFigures
from workstation.keying.persist import (
    NewEntry,
    SaveJob,
    UnitFinish,
    UnitSnapshot,
    ValueRow,
    load_unit,
    save,
)
from workstation.keying.records import DocumentDone, DocumentInfo, FieldState, KeyerFigures, Move
from workstation.keying.timing import FieldTimer
from workstation.store import Store
from workstation.templates import FieldSpec, FormTemplate, parse_path, row_path

log = logging.getLogger(__name__)

Clock = Callable[[], float]
WallClock = Callable[[], dt.datetime]
Writer = Callable[[SaveJob], None]


@dataclass
class _Doc:
    """One document's keying state: its layout, its entry and its saved values."""

    info: DocumentInfo
    layout: DocumentLayout
    entry_id: uuid.UUID
    entry_stored: bool
    finished: bool
    cursor: str  # as last written to the entry
    values: dict[str, ValueRow]  # saved values by path
    last_activity: dt.datetime | None  # for choosing where to resume


class KeyingSession:
    """Keys the documents of one claimed unit; see workstation.keying for the API."""

    def __init__(
        self,
        local: Store,
        snapshot: UnitSnapshot,
        keyer_id: uuid.UUID,
        *,
        idle_threshold_s: float = 30.0,
        clock: Clock = time.monotonic,
        wallclock: WallClock = m.utcnow,
        writer: Writer | None = None,
    ) -> None:
        self._local = local
        self._clock = clock
        self._wall = wallclock
        self._writer: Writer = writer if writer is not None else (lambda job: save(local, job))
        self.idle_threshold_s = idle_threshold_s
        self.unit_id = snapshot.unit_id
        self.keyer_id = keyer_id
        self.template: FormTemplate = snapshot.template
        self.pass_no: int = snapshot.pass_no
        self.documents: tuple[DocumentInfo, ...] = snapshot.documents
        self.unit_finished = False
        self._docs = [self._doc_state(info, snapshot) for info in snapshot.documents]
        self._day = DayFigures(local, keyer_id, self._wall())
        self.doc_index = self._resume_index()
        # Live state of the current field (set by _enter).
        self.path = ""
        self._text = ""
        self._flag = m.FLAG_NONE
        self._keys = 0  # key presses on this visit (typing and command keys)
        self._typed = 0  # of which typing (keystroke() calls)
        self._timer = FieldTimer(idle_threshold_s, clock())
        self._entered_at = self._wall()
        self._warned: tuple[str, str] | None = None
        self._open_document(self.doc_index, None, self._clock())

    @classmethod
    def open(
        cls,
        local: Store,
        unit_id: uuid.UUID,
        keyer_id: uuid.UUID,
        *,
        idle_threshold_s: float = 30.0,
        clock: Clock = time.monotonic,
        wallclock: WallClock = m.utcnow,
        writer: Writer | None = None,
    ) -> "KeyingSession":
        """Open (or resume) keying of `unit_id` by `keyer_id` in the local store."""
        snapshot = load_unit(local, unit_id, keyer_id)
        return cls(local, snapshot, keyer_id, idle_threshold_s=idle_threshold_s, clock=clock,
                   wallclock=wallclock, writer=writer)

    # --- setup -----------------------------------------------------------------------------

    def _doc_state(self, info: DocumentInfo, snapshot: UnitSnapshot) -> _Doc:
        stored = snapshot.entries.get(info.id)
        values = {v.field_path: v for v in stored.values} if stored else {}
        used = list(values)
        if stored and stored.cursor_path:
            used.append(stored.cursor_path)
        source = info.source_name or f"document {info.seq}"
        layout = DocumentLayout.build(self.template, info.field_paths, used, source)
        if not layout.paths():
            raise KnownError(
                f"{source} has no fields to key in this pass.",
                "Pull the work again; if it persists, tell the supervisor.",
            )
        last = max([stored.started_at, *(v.saved_at for v in stored.values)]) if stored else None
        return _Doc(
            info=info,
            layout=layout,
            entry_id=stored.id if stored else uuid.uuid4(),
            entry_stored=stored is not None,
            finished=bool(stored and stored.finished_at is not None),
            cursor=stored.cursor_path if stored else "",
            values=values,
            last_activity=last,
        )

    def _resume_index(self) -> int:
        """The unfinished document worked on last (the first unfinished one if none was)."""
        open_docs = [i for i, d in enumerate(self._docs) if not d.finished]
        if not open_docs:
            return len(self._docs) - 1
        touched = [i for i in open_docs if self._docs[i].last_activity is not None]
        if not touched:
            return open_docs[0]
        return max(touched, key=lambda i: (self._docs[i].last_activity, -i))

    # --- reading -----------------------------------------------------------------------------

    @property
    def document(self) -> DocumentInfo:
        return self.documents[self.doc_index]

    def paths(self) -> list[str]:
        """The current document's keyable paths in keying order."""
        return list(self._current.layout.paths())

    def is_finished(self, doc_index: int) -> bool:
        return self._docs[doc_index].finished

    def paths_with_content(self) -> tuple[str, ...]:
        """Keyable paths of the current document with anything to show: a saved value or flag,
        or the text or flag being keyed in the current field (a resumed document). The others
        are empty, which a view opening the document need not ask `field` about one by one."""
        doc = self._current
        return tuple(p for p in doc.layout.paths()
                     if p in doc.values or (p == self.path and (self._text or self._flag)))

    def missing(self) -> tuple[str, ...]:
        """Keyable paths of the current document with no saved value yet."""
        doc = self._current
        return tuple(p for p in doc.layout.paths() if p not in doc.values)

    def field(self, path: str | None = None) -> FieldState:
        """The state of `path` (default: the current field) in the current document."""
        doc = self._current
        path = path or self.path
        spec = doc.layout.spec(path)
        parsed = parse_path(path)
        saved = doc.values.get(path)
        if path == self.path:
            text, flag, keys = self._text, self._flag, self._keys + (saved.keystrokes if saved else 0)
            overridden = bool(saved and saved.overridden and saved.value == text and saved.flag == flag)
        else:
            text = saved.value if saved else ""
            flag = saved.flag if saved else m.FLAG_NONE
            keys = saved.keystrokes if saved else 0
            overridden = bool(saved and saved.overridden)
        return FieldState(
            path=path,
            spec=spec,
            section=parsed.section,
            row=parsed.row,
            text=text,
            flag=flag,
            issues=fields.validate(spec, fields.prepare(spec, text), flag),
            overridden=overridden,
            saved=saved is not None,
            keystrokes=keys,
            zone=self.template.zone(parsed),
            warned=path == self.path and self._warned == (self._text, self._flag),
        )

    def can_add_row(self, section: str) -> bool:
        return self._current.layout.can_add_row(section)

    def can_remove_row(self, section: str) -> bool:
        return self._current.layout.can_remove_row(section)

    def rows(self, section: str) -> int:
        """How many rows `section` has in the current document."""
        return self._current.layout.rows.get(section, 0)

    def figures(self) -> KeyerFigures:
        """Today's keystrokes, fields, documents and active time, the field being typed included."""
        self._day.roll_over(self._wall())
        return self._day.snapshot(self._keys, self._timer.live_active(self._clock()))

    # --- typing ------------------------------------------------------------------------------

    def keystroke(self, now: float | None = None) -> None:
        """Count one key press in the current field (at `now` on the session's clock)."""
        self._require_open()
        self._typed += 1
        self._count_key(self._clock() if now is None else now)

    def set_text(self, text: str) -> tuple[Issue, ...]:
        """The field's live text (as typed or pasted); returns its issues. Nothing is saved.

        Text in a field marked illegible or blank takes the mark away.
        """
        self._require_open()
        if text != self._text:
            self._warned = None
        self._text = text
        if text.strip():
            self._flag = m.FLAG_NONE
        spec = self._spec
        return fields.validate(spec, fields.prepare(spec, text), self._flag)

    # --- leaving a field ---------------------------------------------------------------------

    def advance(self, *, confirm: bool = False, auto: bool = False) -> Move:
        """Enter/Tab: accept the field and go to the next one.

        A value with issues is refused once (the Move carries the issues and `warned`); Enter
        again on the unchanged value, or `confirm=True`, accepts it and marks it `overridden`.
        `auto=True` is the form moving on by itself at `auto_advance_at`: no key press is
        counted for it. After the document's last field the Move has `document_done`.
        """
        self._require_open()
        now = self._clock()
        if not auto:
            self._count_key(now)
        spec = self._spec
        value = fields.prepare(spec, self._text) if not self._flag else ""
        issues = fields.validate(spec, value, self._flag)
        if issues and not confirm and self._warned != (self._text, self._flag):
            self._warned = (self._text, self._flag)
            return Move(moved=False, path=self.path, issues=issues)
        return self._accept(now, value, self._flag, bool(issues), issues)

    def mark_illegible(self) -> Move:
        """Mark the field illegible (its text goes), save it and go on."""
        return self._mark(m.FLAG_ILLEGIBLE)

    def mark_blank(self) -> Move:
        """Mark the field blank on the form (its text goes), save it and go on."""
        return self._mark(m.FLAG_BLANK)

    def _mark(self, flag: str) -> Move:
        self._require_open()
        now = self._clock()
        self._count_key(now)
        return self._accept(now, "", flag, False, ())

    def next_path(self) -> str | None:
        """The field that accepting the current one moves to; None on the document's last."""
        paths = self._current.layout.paths()
        index = paths.index(self.path)
        return paths[index + 1] if index < len(paths) - 1 else None

    def _accept(self, now: float, value: str, flag: str, overridden: bool, issues: tuple[Issue, ...]) -> Move:
        following = self.next_path()
        done = following is None
        target = following or self.path
        saved = self.path
        self._leave(now, target, value=value, flag=flag, overridden=overridden, accepted=True)
        return Move(
            moved=target != saved, path=target, saved=saved, issues=issues if overridden else (),
            overridden=overridden, document_done=done,
        )

    def back(self) -> Move:
        """Shift+Tab: save the field as it is (no validation) and go to the previous one."""
        self._require_open()
        now = self._clock()
        self._count_key(now)
        paths = self._current.layout.paths()
        index = paths.index(self.path)
        target = paths[max(index - 1, 0)]
        saved = self.path
        self._leave(now, target)
        return Move(moved=target != saved, path=target, saved=saved)

    def dup(self) -> str | None:
        """The dup key: the field takes the previous document's saved value (and mark) for the
        same path. Returns the text, or None when there is nothing to repeat. Not saved yet:
        Enter accepts it as usual."""
        self._require_open()
        self._count_key(self._clock())
        if self.doc_index == 0:
            return None
        previous = self._docs[self.doc_index - 1].values.get(self.path)
        if previous is None:
            return None
        self._warned = None
        self._text, self._flag = previous.value, previous.flag
        return previous.value

    def save_current(self) -> None:
        """Write the field being typed without leaving it (window closing, screen lock)."""
        self._require_open()
        now = self._clock()
        self._timer.tick(now)
        if not self._dirty():
            return
        text, flag = self._text, self._flag
        prev = self._current.values.get(self.path)
        row = self._settled(now, *self._as_saved())
        self._submit(SaveJob(self._current.entry_id, self.keyer_id, self.path, values=(row,)), row, prev)
        self._enter(self.path, now)
        self._text, self._flag = text, flag

    # --- line items --------------------------------------------------------------------------

    def add_row(self, section: str) -> str:
        """Add a row at the end of `section` and go to its first field (the current field is
        saved). Returns that field's path; RowLimit at the section's `max_rows`."""
        self._require_open()
        doc = self._current
        doc.layout.check_add(section)
        now = self._clock()
        self._count_key(now)
        new_row = doc.layout.rows[section] + 1
        target = row_path(section, new_row, self.template.section(section).fields[0].key)
        self._leave(now, target, before_enter=lambda: doc.layout.add_row(section))
        return target

    def remove_row(self, section: str, row: int) -> None:
        """Remove `row` of `section`: its saved values go, later rows' values move up one row.
        RowLimit at the section's `min_rows`."""
        self._require_open()
        doc = self._current
        doc.layout.check_remove(section, row)
        now = self._clock()
        self._count_key(now)
        current = parse_path(self.path)
        prev = doc.values.get(self.path)
        values = dict(doc.values)
        fresh: ValueRow | None = None
        if not (current.section == section and current.row == row) and self._dirty():
            fresh = self._settled(now, *self._as_saved())
            values[self.path] = fresh

        kept, deletes, upserts = renumber_rows(values, section, row, stored=doc.values.keys())
        if fresh is not None and kept.get(fresh.field_path) is fresh:  # not moved: written as is
            upserts = (*upserts, fresh)
        # Where the cursor lands: the same field one row up, or whatever moved into the spot.
        rows_after = dict(doc.layout.rows)
        rows_after[section] -= 1
        new_paths = DocumentLayout(self.template, rows_after).paths()
        if current.section != section or current.row < row:
            target = self.path
        elif current.row > row:
            target = row_path(section, current.row - 1, current.key)
        else:
            first = row_path(section, row, self.template.section(section).fields[0].key)
            target = new_paths[min(doc.layout.paths().index(first), len(new_paths) - 1)]
        job = SaveJob(doc.entry_id, self.keyer_id, target, values=upserts, delete_paths=deletes)
        self._writer(job)
        if fresh is not None:
            self._day.field_saved(prev, fresh)
        doc.layout.remove_row(section, row)
        doc.values = kept
        doc.cursor = target
        doc.last_activity = self._wall()
        self._enter(target, now)

    # --- documents ---------------------------------------------------------------------------

    def finish_document(self) -> DocumentDone:
        """Finish the current document (its field is saved) and open the next unfinished one.
        Finishing the last one finishes the unit and queues it for the push, in one transaction.
        """
        self._require_open()
        now = self._clock()
        self._timer.tick(now)
        doc = self._current
        prev = doc.values.get(self.path)
        row = self._settled(now, *self._as_saved()) if self._dirty() else None
        saved_paths = set(doc.values) | ({row.field_path} if row else set())
        missing = tuple(p for p in doc.layout.paths() if p not in saved_paths)
        after = [i for i in range(self.doc_index + 1, len(self._docs)) if not self._docs[i].finished]
        before = [i for i in range(self.doc_index) if not self._docs[i].finished]
        next_index: int | None = (after or before)[0] if after or before else None
        wall = self._wall()
        finish_unit = UnitFinish(self.unit_id, uuid.uuid4(), wall) if next_index is None else None
        job = SaveJob(
            doc.entry_id, self.keyer_id, self.path, values=(row,) if row else (),
            finished_at=None if doc.finished else wall, finish_unit=finish_unit,
        )
        self._submit(job, row, prev)
        if not doc.finished:
            self._day.document_finished()
        doc.finished = True
        done = DocumentDone(doc.info.id, self.doc_index, missing, next_index, finish_unit is not None)
        if next_index is None:
            self.unit_finished = True
            log.info("work unit %s finished; queued for sending", self.unit_id)
            self._enter(self.path, now)
        else:
            self._open_document(next_index, None, now)
        return done

    def go_to(self, doc_index: int, path: str | None = None) -> None:
        """Jump to a document of the unit (and a field of it; default: where it was left).
        The current field is saved first."""
        self._require_open()
        if not 0 <= doc_index < len(self._docs):
            raise ValueError(f"no document {doc_index} in this unit")
        target_doc = self._docs[doc_index]
        if path is not None and path not in target_doc.layout.paths():
            raise ValueError(f"{path!r} is not keyed in this document")
        now = self._clock()
        self._timer.tick(now)
        if doc_index == self.doc_index:
            self._leave(now, path or self.path)
            return
        if self._dirty():
            prev = self._current.values.get(self.path)
            row = self._settled(now, *self._as_saved())
            self._submit(SaveJob(self._current.entry_id, self.keyer_id, self.path, values=(row,)), row, prev)
        self._open_document(doc_index, path, now)

    # --- internals ---------------------------------------------------------------------------

    @property
    def _current(self) -> _Doc:
        return self._docs[self.doc_index]

    @property
    def _spec(self) -> FieldSpec:
        return self._current.layout.spec(self.path)

    def _require_open(self) -> None:
        if self.unit_finished:
            raise LeaseLost("This work unit is finished; nothing more can be keyed in it.", "Claim new work.")

    def _count_key(self, now: float) -> None:
        self._keys += 1
        self._timer.tick(now)

    def _dirty(self) -> bool:
        return self._needs_write(*self._as_saved())

    def _needs_write(self, value: str, flag: str, overridden: bool, *, accepted: bool = False) -> bool:
        """Whether leaving the field writes it. A field never saved is written when the keyer
        accepted it (Enter, a mark) or touched it (typed, has text or a mark): passing through
        an untouched field with Shift+Tab, a jump or a row key does not make it "keyed empty"."""
        saved = self._current.values.get(self.path)
        if saved is None:
            return accepted or bool(value or flag or self._typed)
        if self._keys:
            return True
        return (saved.value, saved.flag, saved.overridden) != (value, flag, overridden)

    def _as_saved(self) -> tuple[str, str, bool]:
        """(value, flag, overridden) for saving the field as it stands, without validation.
        A confirmed override survives only while the value is unchanged."""
        value = "" if self._flag else fields.prepare(self._spec, self._text)
        saved = self._current.values.get(self.path)
        overridden = bool(saved and saved.overridden and (saved.value, saved.flag) == (value, self._flag))
        return value, self._flag, overridden

    def _settled(self, now: float, value: str, flag: str, overridden: bool) -> ValueRow:
        """The current field's row with this visit's keys and time added to the saved totals."""
        self._timer.tick(now)
        prev = self._current.values.get(self.path)
        return ValueRow(
            id=prev.id if prev else uuid.uuid4(),
            field_path=self.path,
            value=value,
            flag=flag,
            overridden=overridden,
            keystrokes=(prev.keystrokes if prev else 0) + self._keys,
            active_ms=(prev.active_ms if prev else 0) + round(self._timer.active * 1000),
            pause_ms=(prev.pause_ms if prev else 0) + round(self._timer.pause * 1000),
            started_at=prev.started_at if prev else self._entered_at,
            saved_at=self._wall(),
        )

    def _leave(
        self,
        now: float,
        target: str,
        *,
        value: str | None = None,
        flag: str | None = None,
        overridden: bool = False,
        accepted: bool = False,
        before_enter: Callable[[], object] | None = None,
    ) -> None:
        """Save the current field (as given, or as it stands) with the cursor on `target`, then
        enter `target` in the same document."""
        doc = self._current
        if value is None or flag is None:
            value, flag, overridden = self._as_saved()
        prev = doc.values.get(self.path)
        write = self._needs_write(value, flag, overridden, accepted=accepted)
        row = self._settled(now, value, flag, overridden) if write else None
        if row is not None or target != doc.cursor:
            self._submit(SaveJob(doc.entry_id, self.keyer_id, target, values=(row,) if row else ()), row, prev)
        if before_enter is not None:
            before_enter()
        self._enter(target, now)

    def _submit(self, job: SaveJob, fresh: ValueRow | None = None, prev: ValueRow | None = None) -> None:
        """Hand `job` to the writer, then record it as saved (a failed write changes nothing).
        `fresh` is the current field's newly settled row (`prev` its row before), for today's
        figures."""
        self._writer(job)
        doc = self._doc_by_entry(job.entry_id)
        doc.entry_stored = True
        doc.cursor = job.cursor_path
        doc.last_activity = self._wall()
        if fresh is not None:
            self._day.field_saved(prev, fresh)
        for path in job.delete_paths:
            doc.values.pop(path, None)
        for value in job.values:
            doc.values[value.field_path] = value

    def _doc_by_entry(self, entry_id: uuid.UUID) -> _Doc:
        return next(d for d in self._docs if d.entry_id == entry_id)

    def _open_document(self, index: int, path: str | None, now: float) -> None:
        """Make document `index` current at `path` (default: its cursor, else its first field);
        its entry is created in the local store if it has none yet."""
        doc = self._docs[index]
        paths = doc.layout.paths()
        target = path or (doc.cursor if doc.cursor in paths else paths[0])
        self.doc_index = index
        if not doc.entry_stored:
            wall = self._wall()
            self._submit(SaveJob(
                doc.entry_id, self.keyer_id, target,
                new_entry=NewEntry(doc.info.id, self.pass_no, self.unit_id, wall),
            ))
        elif target != doc.cursor:
            self._submit(SaveJob(doc.entry_id, self.keyer_id, target))
        self._enter(target, now)

    def _enter(self, path: str, now: float) -> None:
        """Make `path` the current field, its live text the saved value."""
        saved = self._current.values.get(path)
        self.path = path
        self._text = saved.value if saved else ""
        self._flag = saved.flag if saved else m.FLAG_NONE
        self._keys = 0
        self._typed = 0
        self._timer = FieldTimer(self.idle_threshold_s, now)
        self._entered_at = self._wall()
        self._warned = None
