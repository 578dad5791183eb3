"""What a keying session hands out: frozen snapshots a window or the simulator can hold on to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from workstation.fields import Issue
from workstation.templates import FieldSpec, Zone


@dataclass(frozen=True)
class DocumentInfo:
    """One document of the unit, in keying order."""

    id: uuid.UUID
    seq: int
    source_name: str
    page_shas: tuple[str, ...]  # page images in page order (page 1 first)
    field_paths: tuple[str, ...] | None  # pass 3: only these paths; None: every field


@dataclass(frozen=True)
class FieldState:
    """The current state of one field of the current document."""

    path: str
    spec: FieldSpec
    section: str  # "" for a top-level field
    row: int  # 1-based row within `section`; 0 for a top-level field
    text: str  # live text while the field is edited; the prepared value once saved
    flag: str  # models.FLAG_*
    issues: tuple[Issue, ...]  # validation of the text as it would be saved now
    overridden: bool  # the saved value failed validation and the keyer confirmed it
    saved: bool  # a value for this path is in the local store
    keystrokes: int  # all key presses in this field, saved and not yet saved
    zone: Zone | None  # where it sits on the scan (shifted for later rows)
    warned: bool  # the last Enter was refused with `issues`; Enter again accepts

    @property
    def auto_advance_at(self) -> int | None:
        """The text length at which the form moves on by itself (fixed-length fields)."""
        return self.spec.auto_advance_at


@dataclass(frozen=True)
class Move:
    """The result of a command that leaves (or tries to leave) the current field."""

    moved: bool  # the cursor is on another field now
    path: str  # the current field after the command
    saved: str | None = None  # the path that was written, if any
    issues: tuple[Issue, ...] = ()  # refused: why; accepted with confirm: what was overridden
    overridden: bool = False  # the saved value failed validation and was confirmed
    document_done: bool = False  # the last field of the document was accepted

    @property
    def warned(self) -> bool:
        """Enter was refused: the value has issues; a second Enter (or confirm) accepts it."""
        return not self.moved and self.saved is None and bool(self.issues)


@dataclass(frozen=True)
class DocumentDone:
    """The result of finishing a document."""

    document_id: uuid.UUID
    doc_index: int
    missing: tuple[str, ...]  # keyable paths with no saved value (finished anyway: warn, never trap)
    next_index: int | None  # the document opened next; None when the unit is finished
    unit_finished: bool


@dataclass(frozen=True)
class KeyerFigures:
    """The keyer's own numbers for today, for the status bar."""

    keystrokes: int
    fields: int
    documents: int
    active_seconds: float

    @property
    def keystrokes_per_hour(self) -> float:
        """KPH = keystrokes / active hours (0 before any active time)."""
        if self.active_seconds <= 0:
            return 0.0
        return self.keystrokes * 3600.0 / self.active_seconds
