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


class _Page(QWidget):
    def __init__(self, groups: keys.HelpGroups) -> None:
        super().__init__()
        self._groups = groups

    def help_groups(self) -> keys.HelpGroups:
        return self._groups


def _overlay_texts(overlay: HelpOverlayWidget) -> set[str]:
    from PySide6.QtWidgets import QLabel

    return {label.text() for label in overlay.findChildren(QLabel) if not label.isHidden()}


def test_f1_lists_the_keys_of_the_page_on_screen(qtbot) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import FakeActor
    from ui.mainwindow import MainWindow

    window = MainWindow(FakeActor("lee", "qa"))  # type: ignore[arg-type]
    qtbot.addWidget(window)
    window.add_page("keying", _Page(keys.help_rows()), "Keying")
    window.add_page("qa", _Page([("Decide", [("1", "Choose entry 1")])]), "QA")
    window.add_page("plain", QWidget(), "Plain")
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)

    qtbot.keyClick(window, Qt.Key.Key_F1)
    overlay = window.help_overlay
    assert overlay.isVisible()
    texts = _overlay_texts(overlay)
    assert {"Image", "Rotate the page 90° clockwise", "Window", "Quit"} <= texts
    assert "Choose entry 1" not in texts
    assert sum(1 for group, rows in overlay.groups for shown, _ in rows if shown == "F1") == 1, "F1 listed twice"
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()

    window.show_page("qa")
    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: "Choose entry 1" in _overlay_texts(overlay))
    texts = _overlay_texts(overlay)
    assert "Decide" in texts and "Rotate the page 90° clockwise" not in texts and "Image" not in texts
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)

    window.show_page("plain")  # a page without keys of its own: the window's keys only
    window.toggle_help()
    assert [group for group, _rows in overlay.groups] == ["Window"]
