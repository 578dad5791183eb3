"""The keyer's own figures for today, kept up to date as fields are saved (the status bar)."""

from __future__ import annotations

import datetime as dt
import uuid

from workstation.keying.persist import ValueRow, day_totals
from workstation.keying.records import KeyerFigures
from workstation.store import Store


def day_start(now: dt.datetime) -> dt.datetime:
    """The start of the keyer's local calendar day, in UTC."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.timezone.utc)


class DayFigures:
    """What the store holds for today at start (or at midnight), plus what was saved since.

    Counting in memory keeps the status bar free of queries while keying; a field saved twice
    today counts once in `fields`, its keystrokes and time as they grow.
    """

    def __init__(self, local: Store, keyer_id: uuid.UUID, now: dt.datetime) -> None:
        self._local = local
        self._keyer_id = keyer_id
        self._load(now)

    def _load(self, now: dt.datetime) -> None:
        self.start = day_start(now)
        totals = day_totals(self._local, self._keyer_id, self.start)
        self.keystrokes = totals.keystrokes
        self.fields = totals.fields
        self.active_ms = totals.active_ms
        self.documents = totals.documents

    def roll_over(self, now: dt.datetime) -> None:
        """At the first call after midnight, start the new day from what the store holds."""
        if day_start(now) != self.start:
            self._load(now)

    def field_saved(self, prev: ValueRow | None, row: ValueRow) -> None:
        if day_start(row.saved_at) != self.start:
            self._load(row.saved_at)  # already written: the reload includes it
            return
        self.keystrokes += row.keystrokes - (prev.keystrokes if prev else 0)
        self.active_ms += row.active_ms - (prev.active_ms if prev else 0)
        if prev is None or prev.saved_at < self.start:
            self.fields += 1

    def document_finished(self) -> None:
        self.documents += 1

    def snapshot(self, live_keystrokes: int, live_active_s: float) -> KeyerFigures:
        return KeyerFigures(
            keystrokes=self.keystrokes + live_keystrokes,
            fields=self.fields,
            documents=self.documents,
            active_seconds=self.active_ms / 1000.0 + live_active_s,
        )
