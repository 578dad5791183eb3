"""The keying station's key bindings, in one table.

The help overlay, the form's line edits and the window's shortcuts all read this table, so a
key shown in F1 is the key that works. Two scopes:

- ``field`` actions are caught by the form's line edits themselves (they must win over what a
  QLineEdit would do with the key, e.g. Tab or Ctrl+Del) and come out of `FormWidget` as
  ``action_triggered(action, path)``;
- ``window`` actions become QActions with window-wide shortcuts (`make_actions`), so they work
  wherever the focus is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QWidget

FIELD = "field"
WINDOW = "window"

# Action names: what the keying window connects to.
NEXT_FIELD = "next_field"
PREVIOUS_FIELD = "previous_field"
DUP = "dup"
ILLEGIBLE = "illegible"
BLANK = "blank"
ADD_ROW = "add_row"
REMOVE_ROW = "remove_row"
ZOOM_IN = "zoom_in"
ZOOM_OUT = "zoom_out"
FIT_WIDTH = "fit_width"
FIT_PAGE = "fit_page"
ROTATE = "rotate"
PAN_UP = "pan_up"
PAN_DOWN = "pan_down"
PAN_LEFT = "pan_left"
PAN_RIGHT = "pan_right"
NEXT_PAGE = "next_page"
PREVIOUS_PAGE = "previous_page"
REPORT_PAGE = "report_page"
HELP = "help"


@dataclass(frozen=True)
class KeyBinding:
    """One action, the keys that trigger it (portable QKeySequence text) and its help line."""

    action: str
    keys: tuple[str, ...]
    label: str
    group: str
    scope: str = WINDOW
    shown_keys: str = ""  # how F1 shows the keys, when it differs from `keys`

    @property
    def display(self) -> str:
        if self.shown_keys:
            return self.shown_keys
        return " / ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in self.keys)


BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding(NEXT_FIELD, ("Return", "Enter", "Tab"), "Next field (saves this one)", "Fields", FIELD, "Enter / Tab"),
    KeyBinding(PREVIOUS_FIELD, ("Shift+Tab",), "Previous field", "Fields", FIELD),
    KeyBinding(DUP, ("F2",), "Dup: repeat the previous document's value", "Fields", FIELD),
    KeyBinding(ILLEGIBLE, ("F3",), "Mark the field illegible", "Fields", FIELD),
    KeyBinding(BLANK, ("F4",), "Mark the field blank on the form", "Fields", FIELD),
    KeyBinding(ADD_ROW, ("Ctrl+Ins",), "Add a line item row", "Line items", FIELD),
    KeyBinding(REMOVE_ROW, ("Ctrl+Del",), "Remove this line item row", "Line items", FIELD),
    KeyBinding(ZOOM_IN, ("Ctrl+=", "Ctrl++"), "Zoom in (or Ctrl+mouse wheel)", "Image", WINDOW, "Ctrl+="),
    KeyBinding(ZOOM_OUT, ("Ctrl+-",), "Zoom out", "Image"),
    KeyBinding(FIT_WIDTH, ("Ctrl+1",), "Fit the page width", "Image"),
    KeyBinding(FIT_PAGE, ("Ctrl+2",), "Fit the whole page", "Image"),
    KeyBinding(ROTATE, ("Ctrl+R",), "Rotate the page 90° clockwise", "Image"),
    KeyBinding(PAN_UP, ("Alt+Up",), "Move the image up", "Image", WINDOW, "Alt+Arrows"),
    KeyBinding(PAN_DOWN, ("Alt+Down",), "Move the image down", "Image", WINDOW, "-"),
    KeyBinding(PAN_LEFT, ("Alt+Left",), "Move the image left", "Image", WINDOW, "-"),
    KeyBinding(PAN_RIGHT, ("Alt+Right",), "Move the image right", "Image", WINDOW, "-"),
    KeyBinding(NEXT_PAGE, ("PgDown",), "Next page of the document", "Pages"),
    KeyBinding(PREVIOUS_PAGE, ("PgUp",), "Previous page of the document", "Pages"),
    KeyBinding(REPORT_PAGE, ("F8",), "Report a page that is missing or unreadable", "Pages"),
    KeyBinding(HELP, ("F1",), "Show or hide this list of keys", "Help"),
)

_PAN_LABEL = "Move the image (pan)"


def binding(action: str) -> KeyBinding:
    for item in BINDINGS:
        if item.action == action:
            return item
    raise KeyError(action)


HelpGroups = list[tuple[str, list[tuple[str, str]]]]
"""What the F1 overlay lists: (group, [(keys as shown, what they do)]) in order."""


def help_rows() -> HelpGroups:
    """The keying station's keys: (group, [(keys, what it does)]) in table order, for the F1 overlay.

    The four pan actions share one line ("Alt+Arrows")."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for item in BINDINGS:
        if item.shown_keys == "-":
            continue
        label = _PAN_LABEL if item.action == PAN_UP else item.label
        groups.setdefault(item.group, []).append((item.display, label))
    return list(groups.items())


def _combination(sequence: str) -> QKeyCombination:
    combination: QKeyCombination = QKeySequence(sequence)[0]  # type: ignore[index]  # stubs lack []
    return combination


def _normalise(event: QKeyEvent) -> tuple[int, int]:
    """(key, modifiers) with the keypad flag dropped and Backtab spelled as Shift+Tab."""
    key = event.key()
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if key == Qt.Key.Key_Backtab:
        key = Qt.Key.Key_Tab
        mods |= Qt.KeyboardModifier.ShiftModifier
    return int(key), int(mods.value)


class KeyMap:
    """Looks up the action of a key press among the bindings of one scope.

    Built once; a lookup is one or two dict probes (it runs on every key press)."""

    def __init__(self, scope: str | None = None, bindings: tuple[KeyBinding, ...] = BINDINGS) -> None:
        self._table: dict[tuple[int, int], str] = {}
        for item in bindings:
            if scope is not None and item.scope != scope:
                continue
            for text in item.keys:
                combo = _combination(text)
                self._table[(int(combo.key()), int(combo.keyboardModifiers().value))] = item.action

    def action_for(self, event: QKeyEvent) -> str | None:
        key, mods = _normalise(event)
        found = self._table.get((key, mods))
        if found is None and mods & Qt.KeyboardModifier.ShiftModifier.value and 0x21 <= key <= 0x7E:
            # Symbols typed with Shift ("Ctrl++" on a US keyboard) arrive with Shift held.
            found = self._table.get((key, mods & ~Qt.KeyboardModifier.ShiftModifier.value))
        return found


def make_actions(
    parent: QWidget,
    handlers: Mapping[str, Callable[[], object]],
    *,
    context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
) -> dict[str, QAction]:
    """QActions with the table's shortcuts for the given window-scope actions, added to `parent`.

    Only actions named in `handlers` are made, so a window binds exactly what it handles."""
    actions: dict[str, QAction] = {}
    for item in BINDINGS:
        handler = handlers.get(item.action)
        if handler is None:
            continue
        action = QAction(item.label, parent)
        action.setShortcuts([QKeySequence(k) for k in item.keys])
        action.setShortcutContext(context)
        action.triggered.connect(lambda _checked=False, h=handler: h())
        parent.addAction(action)
        actions[item.action] = action
    return actions
