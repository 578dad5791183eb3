from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from ui import keys
from ui.helpoverlay import HelpOverlayWidget


def _press(key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> QKeyEvent:
    return QKeyEvent(QEvent.Type.KeyPress, key, modifiers)


def test_every_action_is_bound_once() -> None:
    actions = [b.action for b in keys.BINDINGS]
    assert len(actions) == len(set(actions))
    combos: dict[str, str] = {}
    for binding in keys.BINDINGS:
        for text in binding.keys:
            assert text not in combos, f"{text} bound to {combos.get(text)} and {binding.action}"
            combos[text] = binding.action


def test_keymap_matches_keypad_enter_backtab_and_shifted_symbols() -> None:
    field = keys.KeyMap(keys.FIELD)
    assert field.action_for(_press(Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)) == keys.NEXT_FIELD
    assert field.action_for(_press(Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)) == keys.PREVIOUS_FIELD
    assert field.action_for(_press(Qt.Key.Key_F3)) == keys.ILLEGIBLE
    assert field.action_for(_press(Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)) is None
    assert field.action_for(_press(Qt.Key.Key_A)) is None
    assert field.action_for(_press(Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)) is None  # window scope
    window = keys.KeyMap(keys.WINDOW)
    shifted_plus = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    assert window.action_for(_press(Qt.Key.Key_Plus, shifted_plus)) == keys.ZOOM_IN
    assert window.action_for(_press(Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)) == keys.ZOOM_OUT
    assert window.action_for(_press(Qt.Key.Key_Return)) is None


def test_make_actions_binds_only_the_handled_actions(qtbot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    called: list[str] = []
    actions = keys.make_actions(host, {keys.ZOOM_IN: lambda: called.append("in"), keys.ROTATE: lambda: called.append("rot")})
    assert set(actions) == {keys.ZOOM_IN, keys.ROTATE}
    assert [s.toString() for s in actions[keys.ZOOM_IN].shortcuts()] == ["Ctrl+=", "Ctrl++"]
    actions[keys.ROTATE].trigger()
    assert called == ["rot"]


def test_help_overlay_lists_every_binding_and_closes_on_any_key(qtbot) -> None:
    from PySide6.QtWidgets import QLabel, QLineEdit

    host = QWidget()
    qtbot.addWidget(host)
    host.resize(900, 700)
    edit = QLineEdit(host)
    host.show()
    qtbot.waitExposed(host)
    edit.setFocus()
    overlay = HelpOverlayWidget(host)
    texts = {label.text() for label in overlay.findChildren(QLabel)}
    for group, rows in keys.help_rows():
        assert group in texts
        for shown, label in rows:
            assert shown in texts and label in texts
    overlay.toggle()
    assert overlay.isVisible() and overlay.geometry() == host.rect()
    qtbot.waitUntil(overlay.hasFocus)
    qtbot.keyClick(overlay, Qt.Key.Key_Shift)  # a modifier alone does not close it
    assert overlay.isVisible()
    with qtbot.waitSignal(overlay.closed):
        qtbot.keyClick(overlay, Qt.Key.Key_Space)
    assert not overlay.isVisible()
    qtbot.waitUntil(edit.hasFocus)  # focus back where the keyer was
