from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget

from ui import keys
from ui.formview import FormWidget, describe
from workstation.fields import Issue
from workstation.templates import FormTemplate


@pytest.fixture
def form(qtbot, cms1500: FormTemplate) -> FormWidget:
    widget = FormWidget(cms1500)
    qtbot.addWidget(widget)
    widget.resize(520, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.mark.parametrize("name", ["cms1500", "rebate", "survey"])
def test_one_line_edit_per_field_path(qtbot, templates: dict[str, FormTemplate], name: str) -> None:
    template = templates[name]
    form = FormWidget(template)
    qtbot.addWidget(form)
    expected = template.field_paths()
    assert form.paths() == expected
    edits = form.findChildren(QLineEdit, "fieldEdit")
    assert len([e for e in edits if e.isVisibleTo(form)]) == len(expected)
    for path in expected:
        edit = form.line_edit(path)
        assert edit.maxLength() >= 10_000  # the core decides about length, not the box
        assert edit.toolTip()  # help text, or what kind of value it takes


def test_typing_emits_text_edited_with_the_path(qtbot, form: FormWidget) -> None:
    form.focus_path("patient_last_name")
    received: list[tuple[str, str]] = []
    form.text_edited.connect(lambda path, text: received.append((path, text)))
    qtbot.keyClicks(form.line_edit("patient_last_name"), "O'BR")
    assert received[-1] == ("patient_last_name", "O'BR")
    assert [text for _, text in received] == ["O", "O'", "O'B", "O'BR"]


def test_key_presses_are_reported_before_the_text_and_actions_are_not(qtbot, form: FormWidget) -> None:
    form.focus_path("patient_city")
    edit = form.line_edit("patient_city")
    events: list[str] = []
    form.key_pressed.connect(lambda path: events.append(f"key {path}"))
    form.text_edited.connect(lambda path, text: events.append(f"text {text}"))
    qtbot.keyClicks(edit, "ab")
    qtbot.keyClick(edit, Qt.Key.Key_Left)  # moves the cursor: a key press, no text change
    qtbot.keyClick(edit, Qt.Key.Key_Shift)  # a modifier alone is not a keystroke
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # an action, reported as action_triggered only
    assert events == ["key patient_city", "text a", "key patient_city", "text ab", "key patient_city"]


def test_long_text_is_not_cut(qtbot, form: FormWidget) -> None:
    long = "X" * 300
    form.set_field_state("patient_sex", long)
    assert form.text("patient_sex") == long


@pytest.mark.parametrize(
    ("key", "modifiers", "action"),
    [
        (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, keys.NEXT_FIELD),
        (Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier, keys.NEXT_FIELD),
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier, keys.NEXT_FIELD),
        (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier, keys.PREVIOUS_FIELD),
        (Qt.Key.Key_F2, Qt.KeyboardModifier.NoModifier, keys.DUP),
        (Qt.Key.Key_F3, Qt.KeyboardModifier.NoModifier, keys.ILLEGIBLE),
        (Qt.Key.Key_F4, Qt.KeyboardModifier.NoModifier, keys.BLANK),
        (Qt.Key.Key_Insert, Qt.KeyboardModifier.ControlModifier, keys.ADD_ROW),
        (Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier, keys.REMOVE_ROW),
    ],
)
def test_field_keys_become_actions_and_do_not_move_focus(qtbot, form: FormWidget, key, modifiers, action) -> None:
    form.focus_path("lines[1].cpt")
    form.set_field_state("lines[1].cpt", "99213")
    edit = form.line_edit("lines[1].cpt")
    with qtbot.waitSignal(form.action_triggered) as blocker:
        qtbot.keyClick(edit, key, modifiers)
    assert blocker.args == [action, "lines[1].cpt"]
    assert QApplication.focusWidget() is edit  # the session, not the form, moves on
    assert edit.text() == "99213"  # Ctrl+Del did not delete a word


def test_plain_keys_are_typed_not_actions(qtbot, form: FormWidget) -> None:
    form.focus_path("insured_id")
    with qtbot.assertNotEmitted(form.action_triggered):
        qtbot.keyClicks(form.line_edit("insured_id"), "AB 12-=")
    assert form.text("insured_id") == "AB 12-="


def test_focus_path_highlights_and_shows_help(qtbot, form: FormWidget) -> None:
    form.focus_path("patient_dob")
    assert QApplication.focusWidget() is form.line_edit("patient_dob")
    assert form.current_path == "patient_dob"
    assert "Box 3" in form.help_line.text() and "MM/DD/YYYY" in form.help_line.text()
    frame = form.line_edit("patient_dob").parentWidget()
    assert frame.current is True
    # What the keyer sees: the row tinted, the bar at its left edge.
    shot = form.grab().toImage()
    middle = frame.height() // 2
    assert shot.pixelColor(frame.mapTo(form, QPoint(1, middle))) == QColor("#2563eb")
    assert shot.pixelColor(frame.mapTo(form, QPoint(5, 1))) == QColor("#e8f0fe")
    form.focus_path("billing_npi")
    assert frame.current is False
    assert form.line_edit("billing_npi").parentWidget().current is True
    shot = form.grab().toImage()
    assert shot.pixelColor(frame.mapTo(form, QPoint(1, middle))) != QColor("#2563eb")
    assert shot.pixelColor(frame.mapTo(form, QPoint(5, 1))) != QColor("#e8f0fe")


def test_focus_path_scrolls_the_field_into_view(qtbot, cms1500: FormTemplate) -> None:
    form = FormWidget(cms1500, rows={"lines": 6})
    qtbot.addWidget(form)
    form.resize(520, 300)
    form.show()
    qtbot.waitExposed(form)
    last = "signature_date"
    edit = form.line_edit(last)

    def visible() -> bool:
        viewport = form._scroll.viewport()
        top_left = edit.mapTo(viewport, edit.rect().topLeft())
        return viewport.rect().contains(top_left) and viewport.rect().contains(edit.mapTo(viewport, edit.rect().bottomRight()))

    assert not visible()
    form.focus_path(last)
    qtbot.waitUntil(visible)


def test_mouse_focus_reports_field_focused(qtbot, form: FormWidget) -> None:
    form.focus_path("insured_id")
    with qtbot.waitSignal(form.field_focused) as blocker:
        qtbot.mouseClick(form.line_edit("patient_zip"), Qt.MouseButton.LeftButton)
    assert blocker.args == ["patient_zip"]
    assert form.current_path == "patient_zip"


def test_focus_path_itself_does_not_report_field_focused(qtbot, form: FormWidget) -> None:
    with qtbot.assertNotEmitted(form.field_focused):
        form.focus_path("patient_zip")
        form.focus_path("insured_id")


def test_field_state_shows_flag_issues_saved_and_override(qtbot, form: FormWidget) -> None:
    form.set_field_state(
        "billing_npi",
        "1234567890",
        "",
        (Issue("check_digit", "The NPI check digit does not match."),),
        saved=False,
    )
    row = form.line_edit("billing_npi").parentWidget()
    message = row.findChild(QLabel, "fieldMessage")
    assert message.isVisibleTo(form) and "check digit" in message.text()
    form.set_field_state("billing_npi", "1234567893", "", (), saved=True)
    assert not message.isVisibleTo(form)
    assert form.field_state("billing_npi")["saved"] is True
    badge = row.findChild(QLabel, "flagBadge")
    form.set_field_state("diagnosis_2", "", "illegible", (), saved=True)
    diag_badge = form.line_edit("diagnosis_2").parentWidget().findChild(QLabel, "flagBadge")
    assert diag_badge.isVisibleTo(form) and diag_badge.text() == "ILLEGIBLE"
    assert not badge.isVisibleTo(form)
    form.set_field_state("diagnosis_2", "", "blank")
    assert diag_badge.text() == "BLANK"
    form.set_field_state("patient_zip", "6270", "", ("Five digits.",), overridden=True)
    override = form.line_edit("patient_zip").parentWidget().findChild(QLabel, "overrideBadge")
    assert override.isVisibleTo(form)
    assert form.field_state("patient_zip") == {
        "text": "6270", "flag": "", "issues": "Five digits.", "saved": False, "overridden": True,
    }


def test_a_saved_field_shows_its_check_mark_at_the_right_edge(qtbot, form: FormWidget) -> None:
    def green_in(path: str) -> int:  # the mark's pixels: what the keyer sees
        frame = form.line_edit(path).parentWidget()
        cell = frame.mark_cell.geometry()
        shot = frame.grab(cell).toImage()
        return sum(1 for x in range(shot.width()) for y in range(shot.height())
                   if shot.pixelColor(x, y).green() > shot.pixelColor(x, y).red() + 60)

    assert green_in("billing_npi") == 0
    form.set_field_state("billing_npi", "1234567893", "", (), saved=True)
    assert green_in("billing_npi") > 6
    form.set_field_state("billing_npi", "1234567893", "", (), saved=False)  # typed in again
    assert green_in("billing_npi") == 0
    # The marks line up at the right edge, row under row.
    cells = {form.line_edit(path).parentWidget().mark_cell.geometry().right() for path in ("billing_npi", "insured_id")}
    assert len(cells) == 1 and cells.pop() > form.line_edit("billing_npi").geometry().right()


def test_set_field_state_keeps_the_cursor_where_the_keyer_is(qtbot, form: FormWidget) -> None:
    form.focus_path("patient_city")
    edit = form.line_edit("patient_city")
    qtbot.keyClicks(edit, "springfeld")
    edit.setCursorPosition(7)  # springf|eld
    qtbot.keyClicks(edit, "i")
    form.set_field_state("patient_city", edit.text().upper())  # the session upper-cases
    assert edit.text() == "SPRINGFIELD"
    assert edit.cursorPosition() == 8


def test_a_screen_reader_hears_each_value_box_by_its_label_and_line(qtbot, form: FormWidget) -> None:
    """The labels are painted, not QLabel buddies: each value box carries its own name, a line
    item's with its line number, renumbered when a line above it goes."""
    dob = form.line_edit("patient_dob")
    assert dob.accessibleName() == "3. Patient's birth date"
    assert "MM/DD/YYYY" in dob.accessibleDescription()
    form.add_row("lines", 2)
    form.add_row("lines", 3)
    assert form.line_edit("lines[3].cpt").accessibleName() == "24D. CPT/HCPCS, line 3"
    moved = form.line_edit("lines[3].cpt")
    form.remove_row("lines", 2)
    assert form.line_edit("lines[2].cpt") is moved and moved.accessibleName() == "24D. CPT/HCPCS, line 2"
    assert all(form.line_edit(path).accessibleName() for path in form.paths())


def test_rows_are_added_and_removed(qtbot, form: FormWidget) -> None:
    assert form.row_count("lines") == 1
    form.add_row("lines", 2)
    form.add_row("lines", 3)
    assert form.row_count("lines") == 3
    assert form.has_path("lines[3].units")
    form.set_field_state("lines[2].cpt", "99214")
    form.set_field_state("lines[3].cpt", "99215")
    form.remove_row("lines", 2)
    assert form.row_count("lines") == 2
    assert not form.has_path("lines[3].cpt")
    assert form.text("lines[2].cpt") == "99215"  # row 3 moved up and kept its text
    # Typing in a moved row reports its new path.
    with qtbot.waitSignal(form.text_edited) as blocker:
        qtbot.keyClicks(form.line_edit("lines[2].cpt"), "9")
    assert blocker.args[0] == "lines[2].cpt"
    # A removed row's widgets are reused, empty.
    form.add_row("lines", 3)
    assert form.text("lines[3].cpt") == ""
    assert form.paths() == form.template.field_paths({"lines": 3})
    with pytest.raises(ValueError):
        form.add_row("lines", 9)
    with pytest.raises(ValueError):
        form.remove_row("lines", 7)


def test_rows_added_in_the_middle_shift_the_rest_down(qtbot, form: FormWidget) -> None:
    form.set_field_state("lines[1].cpt", "11111")
    form.add_row("lines", 1)
    assert form.text("lines[1].cpt") == ""
    assert form.text("lines[2].cpt") == "11111"


def test_reset_empties_the_form_for_the_next_document(qtbot, form: FormWidget) -> None:
    form.add_row("lines", 2)
    form.set_field_state("insured_id", "ABC123", "", (), saved=True)
    form.set_field_state("lines[2].cpt", "99213")
    form.focus_path("lines[2].cpt")
    form.reset()
    assert form.row_count("lines") == 1
    assert form.text("insured_id") == ""
    assert form.field_state("insured_id")["saved"] is False
    assert form.current_path == ""
    form.reset({"lines": 3})
    assert form.row_count("lines") == 3


def test_unknown_paths_are_refused(form: FormWidget) -> None:
    with pytest.raises(KeyError, match="no field"):
        form.focus_path("lines[4].cpt")
    with pytest.raises(ValueError):
        form.set_field_state("Not A Path", "")


def test_describe_tells_what_a_field_takes(cms1500: FormTemplate) -> None:
    sex = describe(cms1500.spec("patient_sex"))
    assert "M = Male" in sex and "exactly 1" in sex
    state = describe(cms1500.spec("patient_state"))
    assert "51 codes" in state and "required" in state
    units = describe(cms1500.spec("lines[1].units"))
    assert units.startswith("Whole number") and "1 to 99" in units


def test_the_current_fields_issues_float_under_it_and_go_into_its_row_when_left(qtbot, form: FormWidget) -> None:
    form.focus_path("patient_zip")
    frame = form.line_edit("patient_zip").parentWidget()
    message = frame.findChild(QLabel, "fieldMessage")
    height = frame.height()
    form.set_field_state("patient_zip", "627", "", ("Five digits.",))  # while typing
    QApplication.processEvents()
    assert form.callout_text == "Five digits." and not message.isVisibleTo(form)
    assert frame.height() == height  # a key press lays nothing out again
    assert form.field_state("patient_zip")["issues"] == "Five digits."
    form.focus_path("billing_npi")  # left with the issue (kept, overridden)
    assert form.callout_text == ""
    assert message.isVisibleTo(form) and message.text() == "Five digits."
    form.focus_path("patient_zip")
    form.set_field_state("patient_zip", "62704", "", ())  # corrected on a return visit
    assert form.callout_text == "" and not message.isVisibleTo(form)


def test_the_callout_coming_and_going_lays_nothing_out(qtbot, form: FormWidget) -> None:
    """Showing or hiding a child lays its parent out again, here the whole form column, on the
    key that makes a value valid (often the key that moves on): the callout is parked instead."""
    from tests.ui.events import EventCounter

    column = form.findChild(QWidget, "formColumn")
    form.focus_path("patient_zip")
    form.set_field_state("patient_zip", "6", "", ("Five digits.",))  # sized for this field's box once
    form.set_field_state("patient_zip", "", "", ())
    QApplication.processEvents()
    layouts = EventCounter(QEvent.Type.LayoutRequest).watch(column)
    for text, issues in (("6", ("Five digits.",)), ("62", ("Five digits.",)), ("62704", ()),
                         ("6270", ("Five digits.",)), ("62704", ())):
        form.set_field_state("patient_zip", text, "", issues)
        QApplication.processEvents()
        assert form.callout_text == (issues[0] if issues else "")
    assert layouts.count == 0
    form.set_field_state("patient_zip", "6", "", ("Five digits.",))
    callout = form.findChild(QLabel, "fieldCallout")
    edit = form.line_edit("patient_zip")
    assert callout.isVisible() and callout.geometry().top() > edit.mapTo(column, edit.rect().bottomLeft()).y() - 2
    assert column.rect().contains(callout.geometry())  # in sight under the field
    form.set_field_state("patient_zip", "62704", "", ())
    assert not column.rect().intersects(callout.geometry()) and callout.text() == ""  # out of sight, empty


def test_a_keys_echo_repaints_the_box_alone_and_the_rows_around_it_stay_right(qtbot, form: FormWidget) -> None:
    """The value boxes are opaque: typing repaints the box and nothing behind it, and a row's
    tint going or coming leaves no stale pixels around its (square) box."""
    from tests.ui.events import EventCounter

    first, second = "patient_last_name", "patient_first_name"
    form.focus_path(first)
    QApplication.processEvents()
    form.focus_path(second)
    QApplication.processEvents()
    edit = form.line_edit(second)
    row = edit.parentWidget()
    paints = EventCounter(QEvent.Type.Paint)
    for widget in (row, form.findChild(QWidget, "formColumn"), form):
        paints.watch(widget)
    qtbot.keyClicks(edit, "ANN")
    QApplication.processEvents()
    assert edit.text() == "ANN" and paints.count == 0

    # What the screen shows (the window's backing store), not a fresh rendering of it.
    shot = QApplication.primaryScreen().grabWindow(form.winId()).toImage()
    tint, white = QColor("#e8f0fe"), QColor("#ffffff")
    for path, focused in ((first, False), (second, True)):
        box = form.line_edit(path)
        corner = box.mapTo(form, QPoint(0, 0))
        outside = shot.pixelColor(corner.x() - 2, corner.y() - 2)
        assert outside == (tint if focused else white), path  # the row's background, up to the box
        assert shot.pixelColor(corner) == QColor("#2563eb" if focused else "#b8bfca"), path  # square


def test_value_boxes_stay_opaque_when_restyled(qtbot, form: FormWidget) -> None:
    """A style sheet's polish clears WA_OpaquePaintEvent: it is set again after each."""
    edit = form.line_edit("patient_zip")
    assert edit.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    edit.setStyleSheet("QLineEdit { color: #111111; }")  # re-polished: a style change
    assert edit.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    assert form.help_line.testAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)


def test_the_help_line_paints_its_own_background_and_border(qtbot, form: FormWidget) -> None:
    """Opaque, so Qt leaves its styled background to it: what the screen shows is the style
    sheet's fill and top border, not whatever the backing store held (it was black)."""
    form.focus_path("patient_dob")
    QApplication.processEvents()
    line = form.help_line
    assert line.text()
    shot = QApplication.primaryScreen().grabWindow(form.winId()).toImage()
    top_left = line.mapTo(form, QPoint(0, 0))
    right = top_left.x() + line.width() - 4  # past the text, which starts at the left
    assert shot.pixelColor(right, top_left.y()) == QColor("#e3e6eb")  # the border at its top
    assert shot.pixelColor(right, top_left.y() + line.height() // 2) == QColor("#f7f8fa")
    assert shot.pixelColor(top_left.x() + 4, top_left.y() + line.height() - 3) == QColor("#f7f8fa")


def test_moving_on_repaints_the_two_rows_and_the_help_line_not_what_is_behind_them(qtbot, form: FormWidget) -> None:
    from tests.ui.events import EventCounter

    form.focus_path("patient_last_name")
    QApplication.processEvents()
    behind = EventCounter(QEvent.Type.Paint)
    for widget in (form, form.findChild(QWidget, "formColumn")):
        behind.watch(widget)
    rows = EventCounter(QEvent.Type.Paint)
    for path in ("patient_last_name", "patient_first_name"):
        rows.watch(form.line_edit(path).parentWidget())
    help_line = EventCounter(QEvent.Type.Paint).watch(form.help_line)
    form.focus_path("patient_first_name")
    QApplication.processEvents()
    assert behind.count == 0 and rows.count == 2 and help_line.count == 1
    # Opaque rows paint what they sit on: the form's white, a section box's grey.
    form.focus_path("lines[1].cpt")
    QApplication.processEvents()
    shot = QApplication.primaryScreen().grabWindow(form.winId()).toImage()
    above = form.paths()[form.paths().index("lines[1].cpt") - 1]  # in the same line, in sight
    for path, colour in (("patient_first_name", "#ffffff"), (above, "#fbfbfc")):
        row = form.line_edit(path).parentWidget()
        assert shot.pixelColor(row.mapTo(form, QPoint(6, 2))) == QColor(colour), path


def test_only_the_keyable_fields_take_input(qtbot, form: FormWidget) -> None:
    form.set_keyable(["patient_zip", "billing_npi"])
    assert form.line_edit("patient_zip").isEnabled() and form.line_edit("billing_npi").isEnabled()
    assert not form.line_edit("insured_id").isEnabled()
    form.set_keyable(None)
    assert form.line_edit("insured_id").isEnabled()


def test_a_long_label_wraps_and_its_row_grows_to_show_it(qtbot, cms1500: FormTemplate) -> None:
    form = FormWidget(cms1500)
    qtbot.addWidget(form)
    form.resize(300, 700)  # labels get their narrowest width
    form.show()
    qtbot.waitExposed(form)
    row = form._rows["billing_npi"]  # "33a. Billing provider NPI *"
    label = row.label
    line = label.fontMetrics().lineSpacing()
    assert label.fontMetrics().horizontalAdvance(label.text()) > label.width()  # it cannot fit on one line
    assert label.height() >= 2 * line - 2 and row.frame.height() >= label.height()
    shot = label.grab().toImage()

    def ink(top: int, bottom: int) -> int:
        return sum(1 for y in range(top, bottom) for x in range(shot.width()) if shot.pixelColor(x, y).value() < 140)

    half = shot.height() // 2
    assert ink(0, half) > 20 and ink(half, shot.height()) > 20  # both lines painted
    form.resize(520, 700)  # room again: one line, a shorter row
    qtbot.waitUntil(lambda: label.height() < 2 * line - 2, timeout=2000)
