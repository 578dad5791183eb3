"""Active time and pause on one field, from the times of the keyer's key presses.

DESIGN.md "Metric definitions": active time is the time on the field minus the gaps between
key presses that are longer than the idle threshold; such a gap counts, whole, as pause. The
time from entering the field to the first key press and from the last key press to leaving it
are gaps like any other, so active + pause is exactly the time spent on the field.
"""

from __future__ import annotations


class FieldTimer:
    """Splits the time since `start` into active seconds and pause seconds."""

    __slots__ = ("threshold", "last", "active", "pause")

    def __init__(self, threshold_s: float, start: float) -> None:
        self.threshold = threshold_s
        self.last = start
        self.active = 0.0
        self.pause = 0.0

    def tick(self, now: float) -> None:
        """A key press (or leaving the field) at `now`; the gap since the last one is booked."""
        gap = now - self.last
        if gap <= 0:  # events that arrive out of order book nothing
            return
        if gap > self.threshold:
            self.pause += gap
        else:
            self.active += gap
        self.last = now

    def live_active(self, now: float) -> float:
        """Active seconds so far, counting the running gap while it is still under the threshold."""
        gap = now - self.last
        return self.active + (gap if 0 < gap <= self.threshold else 0.0)
