"""Counting the events a widget receives, for tests of what a change costs (a layout pass, a
paint) rather than what it shows."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject


class EventCounter(QObject):
    """Counts events of one type sent to the widgets it is installed on (`watch`)."""

    def __init__(self, kind: QEvent.Type) -> None:
        super().__init__()
        self.kind = kind
        self.count = 0

    def watch(self, widget: QObject) -> "EventCounter":
        widget.installEventFilter(self)
        return self

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == self.kind:
            self.count += 1
        return False
