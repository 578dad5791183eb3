"""Buttons over the scan for the mouse: zoom, fit, rotate, pages.

Everything here is also on a key (ui.keys); the buttons never take the focus, so a click leaves
the keyer in the field they were typing in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

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
        self.where = QLabel()
        self.where.setObjectName("pageToolsWhere")
        for action, text in BUTTONS:
            handler = handlers.get(action)
            if handler is None:
                continue
            if action == keys.ZOOM_OUT:
                layout.addSpacing(12)
            if action == keys.REPORT_PAGE:
                layout.addStretch(1)
                layout.addWidget(self.where)
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
            layout.addStretch(1)
            layout.addWidget(self.where)

    def set_where(self, text: str) -> None:
        """A short note at the right: which document and page is shown."""
        if self.where.text() != text:
            self.where.setText(text)
