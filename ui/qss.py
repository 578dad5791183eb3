"""Style-sheet state: a dynamic property a selector in resources/style.qss reads."""

from __future__ import annotations

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
