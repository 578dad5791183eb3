"""Style-sheet state: a dynamic property a selector in resources/style.qss reads."""

from __future__ import annotations

from PySide6.QtCore import Property, QEvent, Qt
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


class StaysOpaque:
    """Mixin (before the Qt class) for a styled widget that paints all of its rectangle: it is
    opaque (WA_OpaquePaintEvent), so its repaint does not repaint the widgets behind it first.

    A style sheet's polish clears the attribute; it is set again after every polish and style
    change."""

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish or kind == QEvent.Type.StyleChange:
            handled: bool = super().event(event)  # type: ignore[misc]
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # type: ignore[attr-defined]
            return handled
        return super().event(event)  # type: ignore[misc, no-any-return]
