"""F1: the list of keys, laid over the window it belongs to.

Each page lists its own keys from the same table its shortcuts are made from (the keying station's
from ui.keys, the QA station's from its action table), so the list cannot go stale; the main
window asks the page on screen (`help_groups()`) each time F1 opens it. Any key closes it again
and focus goes back where it was: the keyer never has to reach for the mouse.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QLayout, QVBoxLayout, QWidget

from ui import keys

DIM = QColor(17, 24, 39, 150)


class HelpOverlayWidget(QWidget):
    """A dimmed layer over its parent with a card listing every key by group.

    Signals:
        closed(): the overlay was hidden (by a key, a click or `close_overlay`).
    """

    closed = Signal()

    def __init__(self, parent: QWidget, groups: keys.HelpGroups | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._previous_focus: QWidget | None = None

        card = QFrame(self)
        card.setObjectName("helpCard")
        title = QLabel("Keys")
        title.setObjectName("helpTitle")
        hint = QLabel("Press any key to go back to work.")
        hint.setObjectName("helpHint")

        self._columns = QHBoxLayout()
        self._columns.setSpacing(32)
        self._groups: keys.HelpGroups = []
        self.set_groups(keys.help_rows() if groups is None else groups)

        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(28, 20, 28, 20)
        card_layout.setSpacing(12)
        card_layout.addWidget(title)
        card_layout.addLayout(self._columns)
        card_layout.addWidget(hint)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)

        parent.installEventFilter(self)
        self.hide()

    def set_groups(self, groups: keys.HelpGroups) -> None:
        """List these keys (two columns, split where they come out closest in height)."""
        if groups == self._groups:
            return
        self._groups = [(group, list(rows)) for group, rows in groups]
        while self._columns.count():
            item = self._columns.takeAt(0)
            layout = item.layout() if item is not None else None
            if layout is not None:
                _clear(layout)
                layout.deleteLater()
        for chunk in _two_columns(self._groups):
            grid = QGridLayout()
            grid.setHorizontalSpacing(16)
            grid.setVerticalSpacing(4)
            line = 0
            for group, rows in chunk:
                heading = QLabel(group)
                heading.setObjectName("helpGroup")
                grid.addWidget(heading, line, 0, 1, 2)
                line += 1
                for shown_keys, label in rows:
                    key_label = QLabel(shown_keys)
                    key_label.setObjectName("helpKey")
                    grid.addWidget(key_label, line, 0, Qt.AlignmentFlag.AlignRight)
                    grid.addWidget(QLabel(label), line, 1)
                    line += 1
            grid.setRowStretch(line, 1)
            self._columns.addLayout(grid)

    @property
    def groups(self) -> keys.HelpGroups:
        return self._groups

    def toggle(self) -> None:
        if self.isVisible():
            self.close_overlay()
        else:
            self.open_overlay()

    def open_overlay(self) -> None:
        """Cover the parent and take the focus (remembering where it was)."""
        parent = self.parentWidget()
        self._previous_focus = parent.focusWidget() if parent is not None else None
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def close_overlay(self) -> None:
        if not self.isVisible():
            return
        self.hide()
        if self._previous_focus is not None:
            self._previous_focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self._previous_focus = None
        self.closed.emit()

    # --- Qt overrides --------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        parent = self.parentWidget()
        if parent is not None and watched is parent and event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(parent.rect())
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta):
            return  # a modifier on its own is the start of a key, not "any key"
        event.accept()
        self.close_overlay()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        event.accept()
        self.close_overlay()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), DIM)
        painter.end()


def _clear(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.hide()  # at once: the deletion waits for the event loop
            widget.deleteLater()


def _two_columns(groups: keys.HelpGroups) -> tuple[keys.HelpGroups, keys.HelpGroups]:
    """Split the groups where the two columns come out closest in height."""
    sizes = [len(rows) + 1 for _, rows in groups]
    total = sum(sizes)
    best, best_gap, running = 0, total, 0
    for index, size in enumerate(sizes[:-1], start=1):
        running += size
        gap = abs(total - 2 * running)
        if gap < best_gap:
            best, best_gap = index, gap
    return groups[:best], groups[best:]
