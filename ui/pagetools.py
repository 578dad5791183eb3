"""Buttons over the scan for the mouse: zoom, fit, rotate, pages.

Everything here is also on a key (ui.keys); the buttons never take the focus, so a click leaves
the keyer in the field they were typing in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolButton, QWidget

from ui import keys

# (action, button text) in the order shown.
BUTTONS = (
    (keys.PREVIOUS_PAGE, "\u25c0 Page"),
    (keys.NEXT_PAGE, "Page \u25b6"),
    (keys.ZOOM_OUT, "\u2212"),
    (keys.ZOOM_IN, "+"),
    (keys.FIT_WIDTH, "Fit width"),
    (keys.FIT_PAGE, "Fit page"),
    (keys.ROTATE, "Rotate"),
    (keys.REPORT_PAGE, "Report page\u2026"),
)


class WhereLabel(QWidget):
    """Which document and page is shown, right-aligned, cut short with "…" where the strip has
    no room (the whole text in the tooltip).

    Its size never depends on its text: a label's new text (every document) laid the strip out
    again, and a long scan name made the window wider.

    Signals: none.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageToolsWhere")
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name)
        if text != self._text:
            self._text = text
            self.setToolTip(text)
            self.update()

    def shown_text(self) -> str:
        """The text as it fits (elided), as painted."""
        return self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideMiddle, self.width())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(160, self.fontMetrics().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, self.fontMetrics().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), self.shown_text())
        painter.end()


class PageToolsWidget(QWidget):
    """A thin strip of tool buttons calling the same handlers as the keys.

    Signals: none (each button calls its handler directly).
    """

    def __init__(self, handlers: Mapping[str, Callable[[], object]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageTools")
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.setSpacing(4)
        self.where = WhereLabel()
        for action, text in BUTTONS:
            handler = handlers.get(action)
            if handler is None:
                continue
            if action == keys.ZOOM_OUT:
                layout.addSpacing(12)
            if action == keys.REPORT_PAGE:
                layout.addWidget(self.where, 1)  # takes the room left, as a stretch did
                layout.addSpacing(8)
            button = QToolButton()
            button.setObjectName("pageToolButton")
            button.setText(text)
            binding = keys.binding(action)
            button.setToolTip(f"{binding.label} ({binding.display})")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _checked=False, h=handler: h())
            layout.addWidget(button)
            self.buttons[action] = button
        if keys.REPORT_PAGE not in self.buttons:
            layout.addWidget(self.where, 1)

    def set_where(self, text: str) -> None:
        """A short note at the right: which document and page is shown."""
        self.where.setText(text)
