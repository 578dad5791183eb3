"""Style-sheet state: a dynamic property a selector in resources/style.qss reads."""

from __future__ import annotations

from PySide6.QtCore import Property
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget


def set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Set `name` on `widget` and re-apply the style sheet to it (Qt does not when a dynamic
    property changes); nothing happens when the value is the same."""
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def colour_property(key: str) -> Property:
    """A QColor Qt property the style sheet sets (`qproperty-<name>: #rrggbb`), for a widget
    that paints itself: kept in the widget's `_colours[key]`, and the widget repaints."""

    def get(widget: QWidget) -> QColor:
        return widget._colours[key]  # type: ignore[attr-defined, no-any-return]

    def put(widget: QWidget, colour: QColor) -> None:
        widget._colours[key] = QColor(colour)  # type: ignore[attr-defined]
        widget.update()

    return Property(QColor, get, put)
