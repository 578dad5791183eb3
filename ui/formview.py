"""The keying form: one row per field of a template, line items as groups of rows.

`FormWidget` is a view. It shows what the keying session says (`set_field_state`), reports
what the keyer typed (`text_edited`) and which key action they pressed (`action_triggered`),
and never decides anything itself: no validation, no case conversion, no moving to the next
field on Enter (the session chooses the next field and calls `focus_path`).

Per keystroke the only work is QLineEdit's own plus one signal emission; `set_field_state`
touches a widget only when its part of the state changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QPainter, QPaintEvent, QPalette, QResizeEvent, QStaticText, QTransform
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSpacerItem,
    QStyle,
    QStyleOption,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ui import keys
from ui.qss import StaysOpaque, colour_property
from workstation.templates import FieldSpec, FormTemplate, SectionSpec, parse_path, row_path

SAVED_MARK = "\u2713"  # check mark
LABEL_MIN_WIDTH = 110
FLAG_TEXT = {"illegible": "ILLEGIBLE", "blank": "BLANK"}
CALLOUT_PARKED = QPoint(-10_000, -10_000)  # where the field callout waits, out of sight, when empty
CALLOUT_MIN_WIDTH = 300  # the callout under a narrow box is still this wide
_FIELD_KEYMAP: keys.KeyMap | None = None
_MODIFIER_KEYS = frozenset(
    int(k) for k in (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta, Qt.Key.Key_AltGr, Qt.Key.Key_CapsLock)
)


def _field_keymap() -> keys.KeyMap:
    global _FIELD_KEYMAP
    if _FIELD_KEYMAP is None:
        _FIELD_KEYMAP = keys.KeyMap(keys.FIELD)
    return _FIELD_KEYMAP


class IssueLike(Protocol):
    """workstation.fields.Issue: a code and a sentence for the keyer."""

    code: str
    message: str


def _repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property used by a selector changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def describe(spec: FieldSpec) -> str:
    """The help line for a field: its help text, then what kind of value it takes."""
    facts: list[str] = []
    kind = {
        "date": f"date {spec.date_format}",
        "money": "amount",
        "decimal": f"number, {spec.decimals} decimals",
        "integer": "whole number",
        "digits": "digits",
        "choice": "code",
        "checkbox": "checkbox (X or blank)",
        "name": "name",
    }.get(spec.type)
    if kind:
        facts.append(kind)
    if spec.fixed_length and spec.max_length:
        facts.append(f"exactly {spec.max_length} characters")
    elif spec.max_length:
        facts.append(f"up to {spec.max_length} characters")
    if spec.min is not None and spec.max is not None:
        facts.append(f"{spec.min} to {spec.max}")
    if spec.choice_labels and len(spec.choice_labels) <= 8:
        facts.append(", ".join(f"{code} = {label}" for code, label in spec.choice_labels))
    elif spec.choices and len(spec.choices) <= 8:
        facts.append("codes " + ", ".join(spec.choices))
    elif spec.choices:
        facts.append(f"{len(spec.choices)} codes")
    facts.append("required" if spec.required else "optional")
    text = " \u00b7 ".join(facts)
    return f"{spec.help}  ({text})" if spec.help else text[:1].upper() + text[1:]


def _spoken_name(path: str, spec: FieldSpec) -> str:
    """A value box's accessible name: its label, and for a line item its line's number."""
    row = parse_path(path).row
    return f"{spec.label}, line {row}" if row else spec.label


def _placeholder(spec: FieldSpec) -> str:
    if spec.type == "date":
        return spec.date_format
    return spec.mask


def _width_in_chars(spec: FieldSpec) -> int | None:
    """How many characters the box should show; None: as wide as the form."""
    if spec.type == "date":
        return len(spec.date_format) + 1
    if spec.type in ("money", "decimal"):
        return 12
    if spec.type == "integer":
        return 8
    if spec.type == "checkbox":
        return 2
    if spec.type == "choice" and spec.choices:
        return max(4, max(len(c) for c in spec.choices) + 2)
    length = spec.max_length
    if length is None or length > 28:
        return None
    return max(3, length + 1)


class FieldLineEdit(StaysOpaque, QLineEdit):
    """The line edit of one field; knows its path and turns field keys into actions.

    Field keys (Enter, Tab, F2..F4, Ctrl+Ins/Del: see ui.keys) are caught in `event()`, before
    QLineEdit or focus chaining can act on them, and reported to the form. Its style sheet
    fills the whole box (square corners, style.qss), so it is opaque: a key's echo repaints
    the box alone, not its row and the six widgets behind it.

    Signals: none of its own; the form emits on its behalf (one connection per form, not per
    field).
    """

    def __init__(self, path: str, form: "FormWidget") -> None:
        super().__init__()
        self.path = path
        self._form = form
        self.setObjectName("fieldEdit")
        self.setFrame(True)
        self.setMaxLength(1_000_000)  # the core decides about length; never cut text here

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.KeyPress:
            action = _field_keymap().action_for(event)  # type: ignore[arg-type]
            if action is not None:
                event.accept()
                self._form._on_edit_action(self, action)
                return True
            if event.key() not in _MODIFIER_KEYS:  # type: ignore[attr-defined]
                self._form.key_pressed.emit(self.path)
        elif kind == QEvent.Type.ShortcutOverride:
            # Keep field keys from being taken by QLineEdit's own shortcuts (Ctrl+Ins = copy).
            if _field_keymap().action_for(event) is not None:  # type: ignore[arg-type]
                event.accept()
                return True
        return super().event(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusInEvent(event)
        if event.reason() != Qt.FocusReason.OtherFocusReason:
            self._form._on_edit_focused(self)


class HelpLineWidget(StaysOpaque, QFrame):
    """The help line under the form: up to two lines of wrapped text in a fixed height.

    Painted here rather than by a word-wrapped QLabel: a QLabel's new text makes the form's
    layout ask it for its height again, and the whole form is laid out and painted on every
    field change. This one only repaints itself; the style sheet fills it (QFrame#helpLine), so
    it is opaque and the form behind it is not repainted either.

    Signals: none.
    """

    PADDING_X, PADDING_Y = 14, 6

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpLine")
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.ensurePolished()
        self.setFixedHeight(2 * self.fontMetrics().lineSpacing() + 2 * self.PADDING_Y + 4)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name, for the callers)
        if text != self._text:
            self._text = text
            self.setToolTip(text)  # the whole text, when two lines do not hold it
            self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(200, self.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        # Opaque, so Qt leaves the styled background to the widget: without this the line
        # showed whatever the window's backing store held there (black).
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        area = self.contentsRect().adjusted(self.PADDING_X, self.PADDING_Y, -self.PADDING_X, -self.PADDING_Y)
        painter.drawText(area, int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         self._text)
        painter.end()


class RowLabel(QWidget):
    """A field's label: its text word-wrapped in the width the form gives labels.

    Painted here rather than by a QLabel: the row's highlight repaints the label of the row left
    and of the row entered on every field change, and a word-wrapped QLabel laid its text out
    and asked the style sheet again each time. The text is laid out once per width (a
    QStaticText); the colour comes from the style sheet (QWidget#fieldLabel's `color`).

    Signals: none.
    """

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldLabel")
        self._text = text
        self._static: QStaticText | None = None
        policy = QSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleName(text)

    def text(self) -> str:
        return self._text

    def _flags(self) -> int:
        return int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return self.fontMetrics().boundingRect(QRect(0, 0, max(1, width), 10_000), self._flags(), self._text).height()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self.width(), self.heightForWidth(self.width()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.sizeHint()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._static = None
            self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._static = None
            self.updateGeometry()  # wrapped in another width: another height

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        static = self._static
        if static is None:
            static = self._static = QStaticText(self._text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.setTextWidth(self.width())
            static.prepare(QTransform(), self.font())
        painter = QPainter(self)
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        top = max(0.0, (self.height() - static.size().height()) / 2)
        painter.drawStaticText(QPointF(0, top), static)
        painter.end()


class RowFrame(StaysOpaque, QFrame):
    """One field's row; the current row paints its own highlight, every row its saved mark.

    The highlight (a tinted background and a bar at the left edge) is painted here rather than
    chosen by a style-sheet selector on a property: re-applying the style sheet to the row and
    its label on every field change cost more than the rest of moving to the next field, and
    laid the form out again. The saved mark (a check at the right edge) is painted here rather
    than by a label of its own: every mark of the form changes on every new document, and a
    label more per row was a paint more each time. The colours still come from the style sheet
    (`qproperty-highlight`, `qproperty-marker`, `qproperty-savedMark` and `qproperty-background`
    on QFrame#fieldRow).

    It paints its whole rectangle (the background of what holds it, from the style sheet), so
    it is opaque: a row's repaint does not repaint the form column and the five widgets behind
    it first (that was half of a row's repaint, and a field change repaints two).

    Signals: none.
    """

    MARKER_WIDTH = 3
    MARK_SIZE = 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldRow")
        self._current = False
        self._saved = False
        self._colours = {"highlight": QColor("#e8f0fe"), "marker": QColor("#2563eb"), "saved_mark": QColor("#15803d"),
                         "background": QColor("#ffffff")}
        # Where the mark goes: a fixed cell at the row's right edge, so the marks line up.
        self.mark_cell = QSpacerItem(self.MARK_SIZE, self.MARK_SIZE, QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    highlight = colour_property("highlight")
    marker = colour_property("marker")
    savedMark = colour_property("saved_mark")  # noqa: N815 (a Qt property name, set from the style sheet)
    background = colour_property("background")

    @property
    def current(self) -> bool:
        return self._current

    def set_current(self, current: bool) -> None:
        if current != self._current:
            self._current = current
            self.update()

    @property
    def saved(self) -> bool:
        return self._saved

    def set_saved(self, saved: bool) -> None:
        if saved != self._saved:
            self._saved = saved
            self.update(self.mark_cell.geometry())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self._saved:
            if self.mark_cell.geometry().contains(event.pos()):  # type: ignore[attr-defined]
                QToolTip.showText(event.globalPos(), "Saved", self)  # type: ignore[attr-defined]
                return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        if self._current:
            painter.fillRect(event.rect(), self._colours["highlight"])
            painter.fillRect(QRect(0, 0, self.MARKER_WIDTH, self.height()), self._colours["marker"])
        else:
            painter.fillRect(event.rect(), self._colours["background"])
        if self._saved:
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(self._colours["saved_mark"])
            painter.drawText(self.mark_cell.geometry(), int(Qt.AlignmentFlag.AlignCenter), SAVED_MARK)
        painter.end()
        # Nothing else: the row has no frame of its own (style.qss), and asking the style to
        # draw nothing cost as much as the rest of a row's paint.


@dataclass
class _FieldRow:
    """The widgets of one field and the state last shown in them."""

    path: str
    spec: FieldSpec
    frame: RowFrame
    label: RowLabel
    edit: FieldLineEdit
    flag_badge: QLabel
    override_badge: QLabel
    message: QLabel
    help: str
    flag: str = ""
    overridden: bool = False
    issues_text: str = ""
    issues_in_row: bool = False  # shown in the row's own message line (not the callout)


@dataclass
class _RowBlock:
    """One line item: a header ("Line 2") and the section's fields."""

    frame: QFrame
    header: QLabel
    fields: list[_FieldRow]


@dataclass
class _SectionView:
    spec: SectionSpec
    box: QGroupBox
    layout: QVBoxLayout
    empty_label: QLabel
    blocks: list[_RowBlock] = field(default_factory=list)
    spare: list[_RowBlock] = field(default_factory=list)


class FormWidget(QWidget):
    """A keying form generated from a FormTemplate.

    Signals:
        key_pressed(path): a key was pressed in the field at `path` that is not a field action
            (letters, Backspace, arrows, paste...; not a modifier on its own). Emitted before
            the line edit handles the key, so before text_edited: for keystroke counting.
        text_edited(path, text): the keyer changed the text of a field (each keystroke).
        action_triggered(action, path): a field key was pressed in the field at `path`
            (action names in ui.keys: next_field, previous_field, dup, illegible, blank,
            add_row, remove_row).
        field_focused(path): the keyer moved into a field by mouse (keyboard moves go through
            action_triggered; the session answers with focus_path).
    """

    key_pressed = Signal(str)
    text_edited = Signal(str, str)
    action_triggered = Signal(str, str)
    field_focused = Signal(str)

    def __init__(self, template: FormTemplate, parent: QWidget | None = None, *, rows: Mapping[str, int] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("form")
        self._template = template
        self._rows: dict[str, _FieldRow] = {}
        self._sections: dict[str, _SectionView] = {}
        self._current: _FieldRow | None = None

        self._title = QLabel(template.title)
        self._title.setObjectName("formTitle")
        self._column = QWidget()
        self._column.setObjectName("formColumn")
        self._column_layout = QVBoxLayout(self._column)
        self._column_layout.setContentsMargins(8, 6, 8, 12)
        self._column_layout.setSpacing(2)

        self._scroll = QScrollArea()
        self._scroll.setObjectName("formScroll")
        self._scroll.setWidget(self._column)
        self._scroll.setWidgetResizable(True)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        # The current field's issues float under it while the keyer types: showing and hiding
        # a message inside the row would lay the whole form out again on a key press. So would
        # showing and hiding the callout itself (Qt lays out the parent of any child shown or
        # hidden): it stays shown, in a fixed size, and is parked out of sight when empty.
        self._callout = QLabel(self._column)
        self._callout.setObjectName("fieldCallout")
        self._callout.setWordWrap(True)
        self._callout.setTextFormat(Qt.TextFormat.PlainText)
        self._callout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._callout.ensurePolished()  # styled now, not on the first key press that shows it
        self._callout.setFixedSize(CALLOUT_MIN_WIDTH, self._callout.minimumSizeHint().height())
        self._callout_shown = False
        self._park_callout()

        self.help_line = HelpLineWidget()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._title)
        layout.addWidget(self._scroll, 1)
        layout.addWidget(self.help_line)

        self._label_natural = self._measure_label_width()
        self._label_width = self._label_natural
        rows = rows or {}
        for item in template.layout():
            if isinstance(item, FieldSpec):
                row = self._make_field_row(item.key, item)
                self._column_layout.addWidget(row.frame)
            else:
                self._make_section(item, rows.get(item.key, item.min_rows))
        self._column_layout.addStretch(1)

    # --- queries -------------------------------------------------------------------------------

    @property
    def template(self) -> FormTemplate:
        return self._template

    @property
    def current_path(self) -> str:
        return self._current.path if self._current is not None else ""

    def paths(self) -> list[str]:
        """Every field path shown, in form order."""
        rows = {key: len(view.blocks) for key, view in self._sections.items()}
        return self._template.field_paths(rows)

    def has_path(self, path: str) -> bool:
        return path in self._rows

    def line_edit(self, path: str) -> QLineEdit:
        return self._row(path).edit

    def text(self, path: str) -> str:
        return self._row(path).edit.text()

    def row_count(self, section: str) -> int:
        return len(self._section(section).blocks)

    def field_state(self, path: str) -> dict[str, object]:
        """What the row shows (for tests and the screenshot): text, flag, issues, saved, overridden."""
        row = self._row(path)
        return {
            "text": row.edit.text(),
            "flag": row.flag,
            "issues": row.issues_text,
            "saved": row.frame.saved,
            "overridden": row.overridden,
        }

    # --- state from the session ----------------------------------------------------------------

    def set_field_state(
        self,
        path: str,
        text: str,
        flag: str = "",
        issues: Iterable[IssueLike | str] = (),
        saved: bool = False,
        *,
        overridden: bool = False,
    ) -> None:
        """Show a field as the session has it. Only parts that changed are touched."""
        row = self._row(path)
        edit = row.edit
        if edit.text() != text:
            cursor = edit.cursorPosition()
            at_end = cursor == len(edit.text())
            edit.setText(text)
            edit.setCursorPosition(len(text) if at_end else min(cursor, len(text)))
        if flag != row.flag:
            row.flag = flag
            row.flag_badge.setText(FLAG_TEXT.get(flag, flag.upper()))
            row.flag_badge.setProperty("flag", flag)
            _repolish(row.flag_badge)
            row.flag_badge.setVisible(bool(flag))
        if overridden != row.overridden:
            row.overridden = overridden
            row.override_badge.setVisible(overridden)
        issues_text = "  \u00b7  ".join(i if isinstance(i, str) else i.message for i in issues)
        if issues_text != row.issues_text:
            row.issues_text = issues_text
            if row is self._current:
                self._show_in_callout(row)
            else:
                self._show_in_row(row)
        row.frame.set_saved(saved)

    def _show_in_row(self, row: _FieldRow) -> None:
        row.message.setText(row.issues_text)
        row.message.setVisible(bool(row.issues_text))
        row.issues_in_row = bool(row.issues_text)

    def _show_in_callout(self, row: _FieldRow) -> None:
        if row.issues_in_row:  # typing again in a field left with issues: they move up here
            row.message.setVisible(False)
            row.issues_in_row = False
        if not row.issues_text:
            self._park_callout()
            return
        self._callout.setText(row.issues_text)  # in its fixed size: no layout pass
        self._place_callout(row)
        if not self._callout_shown:
            self._callout_shown = True
            self._callout.raise_()

    def _park_callout(self) -> None:
        """Out of sight, and empty for screen readers; still shown (see __init__)."""
        self._callout_shown = False
        self._callout.setText("")
        self._callout.move(CALLOUT_PARKED)

    def _place_callout(self, row: _FieldRow) -> None:
        """Just under the field's box, as wide as the box (at least CALLOUT_MIN_WIDTH), over the next row."""
        corner = row.edit.mapTo(self._column, QPoint(0, row.edit.height()))
        width = max(CALLOUT_MIN_WIDTH, row.edit.width())
        width = max(120, min(width, self._column.width() - corner.x() - 8))
        height = self._callout.heightForWidth(width) if self._callout.hasHeightForWidth() else self._callout.sizeHint().height()
        height = max(height, self._callout.minimumSizeHint().height())
        # A fixed size: new text then repaints the callout and nothing else (no layout pass);
        # a new size lays the column out once (most fields' callouts are CALLOUT_MIN_WIDTH wide).
        if self._callout.size() != QSize(width, height):
            self._callout.setFixedSize(width, height)
        self._callout.move(corner.x(), corner.y() + 1)

    @property
    def callout_text(self) -> str:
        """The issues floating under the current field (empty when none are shown)."""
        return self._callout.text() if self._callout_shown else ""

    def set_keyable(self, paths: Iterable[str] | None) -> None:
        """Only these fields take input (a third key keys only the disputed ones); None: all.
        The others stay visible, greyed, so the keyer sees where on the form they are."""
        wanted = None if paths is None else set(paths)
        for path, row in self._rows.items():
            enabled = wanted is None or path in wanted
            if row.edit.isEnabled() != enabled:
                row.edit.setEnabled(enabled)

    def clear(self) -> None:
        """Empty every field (a new document); rows stay as they are."""
        for path in list(self._rows):
            self.set_field_state(path, "")

    def reset(self, rows: Mapping[str, int] | None = None) -> None:
        """Empty the form for a new document, with `rows[section]` line items (default min_rows).

        Row widgets are kept and reused, so the next document appears without building widgets."""
        rows = rows or {}
        for key, view in self._sections.items():
            wanted = rows.get(key, view.spec.min_rows)
            while len(view.blocks) > wanted:
                self.remove_row(key, len(view.blocks))
            while len(view.blocks) < wanted:
                self.add_row(key, len(view.blocks) + 1)
        self.clear()
        self._set_current(None)

    # --- focus ---------------------------------------------------------------------------------

    def focus_path(self, path: str) -> None:
        """Make `path` the current field: highlighted, focused, scrolled into view, help shown."""
        row = self._row(path)
        self._set_current(row)
        row.edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self._scroll_to(row.frame)

    def _scroll_to(self, frame: QFrame) -> None:
        """Bring a row into view, placing it a third down the view so the next few fields need
        no scrolling (scrolling repaints the whole form; moving the highlight does not)."""
        # A message shown or a row added just now has not been laid out yet: lay out first,
        # or the scroll goes to where the row used to be.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        bar = self._scroll.verticalScrollBar()
        view_height = self._scroll.viewport().height()
        top = frame.mapTo(self._column, QPoint(0, 0)).y()
        bottom = top + frame.height()
        margin = min(24, view_height // 6)
        shown_top, shown_bottom = bar.value(), bar.value() + view_height
        if top >= shown_top and bottom <= shown_bottom:
            # In view. Near an edge it scrolls on, to show what comes next, but only when that
            # shows a margin's worth more: a form a little taller than the view stays put.
            near_bottom = bottom > shown_bottom - margin and bar.maximum() - bar.value() >= margin
            near_top = top < shown_top + margin and bar.value() - bar.minimum() >= margin
            if not (near_bottom or near_top):
                return
        if frame.height() >= view_height - 2 * margin:
            bar.setValue(top - margin)
        else:
            bar.setValue(top - view_height // 3)

    def _set_current(self, row: _FieldRow | None) -> None:
        if row is self._current:
            return
        if self._current is not None:
            self._current.frame.set_current(False)
            if self._callout_shown:  # what floated under the field left stays with it
                self._park_callout()
                self._show_in_row(self._current)
        self._current = row
        if row is None:
            self.help_line.setText("")
            return
        row.frame.set_current(True)
        self.help_line.setText(row.help)

    # --- line items ----------------------------------------------------------------------------

    def add_row(self, section: str, row: int) -> None:
        """Show line item `row` (1-based) of `section`; later rows move down one number."""
        view = self._section(section)
        if not 1 <= row <= len(view.blocks) + 1:
            raise ValueError(f"{section} has {len(view.blocks)} rows; cannot add row {row}")
        block = view.spare.pop() if view.spare else self._make_block(view.spec, row)
        view.blocks.insert(row - 1, block)
        view.layout.insertWidget(row - 1, block.frame)
        self._renumber(view)
        for field_row in block.fields:
            self.set_field_state(field_row.path, "")
        block.frame.show()
        view.empty_label.setVisible(False)

    def remove_row(self, section: str, row: int) -> None:
        """Remove line item `row` (1-based); later rows move up one number and keep their text."""
        view = self._section(section)
        if not 1 <= row <= len(view.blocks):
            raise ValueError(f"{section} has no row {row}")
        block = view.blocks.pop(row - 1)
        if self._current is not None and self._current in block.fields:
            self._set_current(None)
        for field_row in block.fields:
            self._rows.pop(field_row.path, None)
        view.layout.removeWidget(block.frame)
        block.frame.hide()
        view.spare.append(block)
        self._renumber(view)
        view.empty_label.setVisible(not view.blocks)

    def _renumber(self, view: _SectionView) -> None:
        for field_row_list in (b.fields for b in view.blocks):
            for field_row in field_row_list:
                self._rows.pop(field_row.path, None)
        for number, block in enumerate(view.blocks, start=1):
            block.header.setText(f"Line {number}")
            for field_row in block.fields:
                field_row.path = row_path(view.spec.key, number, field_row.spec.key)
                field_row.edit.path = field_row.path
                field_row.edit.setAccessibleName(_spoken_name(field_row.path, field_row.spec))
                self._rows[field_row.path] = field_row
        count = len(view.blocks)
        view.box.setTitle(f"{view.spec.label}  ({count} of up to {view.spec.max_rows})")

    # --- building ------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        # Labels take at most 40% of a narrow form (wrapping onto two lines), so the value
        # boxes never get pushed out of sight.
        if self._current is not None and self._callout_shown:
            self._place_callout(self._current)
        width = max(LABEL_MIN_WIDTH, min(self._label_natural, int(event.size().width() * 0.4)))
        if width != self._label_width:
            self._label_width = width
            for row in self._rows.values():
                row.label.setFixedWidth(width)
            for view in self._sections.values():
                for block in view.spare:
                    for row in block.fields:
                        row.label.setFixedWidth(width)

    def _measure_label_width(self) -> int:
        probe = QLabel()
        probe.setObjectName("fieldLabel")
        probe.ensurePolished()
        metrics = probe.fontMetrics()
        specs = list(self._template.fields) + [f for s in self._template.sections for f in s.fields]
        widest = max((metrics.horizontalAdvance(s.label) for s in specs), default=120)
        return min(max(widest + 12, 140), 250)

    def _make_field_row(self, path: str, spec: FieldSpec) -> _FieldRow:
        frame = RowFrame()
        label = RowLabel(spec.label + (" *" if spec.required else ""))
        label.setFixedWidth(self._label_width)
        edit = FieldLineEdit(path, self)
        edit.setPlaceholderText(_placeholder(spec))
        help_text = describe(spec)
        edit.setToolTip(help_text)
        label.setToolTip(help_text)
        # The label is painted, not a QLabel buddy: a screen reader takes the name from here.
        edit.setAccessibleName(_spoken_name(path, spec))
        edit.setAccessibleDescription(help_text)
        chars = _width_in_chars(spec)
        edit.ensurePolished()
        char_width = edit.fontMetrics().horizontalAdvance("W")
        # As wide as the value's length where there is room; narrower (scrolling) where not.
        edit.setMinimumWidth(char_width * min(chars or 8, 8) + 22)
        if chars is not None:
            edit.setMaximumWidth(char_width * chars + 22)
        edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        flag_badge = QLabel()
        flag_badge.setObjectName("flagBadge")
        flag_badge.setVisible(False)
        override_badge = QLabel("OVERRIDDEN")
        override_badge.setObjectName("overrideBadge")
        override_badge.setToolTip("Kept although it does not pass the field's checks")
        override_badge.setVisible(False)
        message = QLabel()
        message.setObjectName("fieldMessage")
        message.setWordWrap(True)
        message.setVisible(False)
        for hidden in (flag_badge, override_badge, message):
            hidden.ensurePolished()  # styled while the form is built, not when first shown

        grid = QGridLayout(frame)
        grid.setContentsMargins(8, 3, 6, 3)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        grid.addWidget(label, 0, 0, Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(edit, 0, 1)
        grid.addWidget(flag_badge, 0, 2)
        grid.addWidget(override_badge, 0, 3)
        grid.addItem(frame.mark_cell, 0, 5)  # the saved marks line up at the right edge
        grid.addWidget(message, 1, 1, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(4, 1 if chars is not None else 0)

        edit.textEdited.connect(lambda text, e=edit: self.text_edited.emit(e.path, text))
        row = _FieldRow(path, spec, frame, label, edit, flag_badge, override_badge, message, help_text)
        self._rows[path] = row
        return row

    def _make_section(self, spec: SectionSpec, count: int) -> None:
        box = QGroupBox(spec.label)
        box.setObjectName("sectionBox")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 4)
        layout.setSpacing(6)
        empty = QLabel("No lines yet. Ctrl+Ins adds one.")
        empty.setObjectName("sectionEmpty")
        layout.addWidget(empty)
        view = _SectionView(spec, box, layout, empty)
        self._sections[spec.key] = view
        self._column_layout.addSpacing(6)
        self._column_layout.addWidget(box)
        self._column_layout.addSpacing(6)
        for number in range(1, count + 1):
            self.add_row(spec.key, number)
        empty.setVisible(count == 0)

    def _make_block(self, spec: SectionSpec, number: int) -> _RowBlock:
        frame = QFrame()
        frame.setObjectName("lineItem")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(0)
        header = QLabel(f"Line {number}")
        header.setObjectName("lineHeader")
        layout.addWidget(header)
        rows = []
        for field_spec in spec.fields:
            row = self._make_field_row(row_path(spec.key, number, field_spec.key), field_spec)
            layout.addWidget(row.frame)
            rows.append(row)
        return _RowBlock(frame, header, rows)

    # --- lookups and edit callbacks ------------------------------------------------------------

    def _row(self, path: str) -> _FieldRow:
        try:
            return self._rows[path]
        except KeyError:
            parse_path(path)  # a malformed path says so
            raise KeyError(f"the form shows no field {path}") from None

    def _section(self, key: str) -> _SectionView:
        try:
            return self._sections[key]
        except KeyError:
            raise KeyError(f"{self._template.name} has no section {key}") from None

    def _on_edit_action(self, edit: FieldLineEdit, action: str) -> None:
        self.action_triggered.emit(action, edit.path)

    def _on_edit_focused(self, edit: FieldLineEdit) -> None:
        row = self._rows.get(edit.path)
        if row is None or row is self._current:
            return
        self._set_current(row)
        self.field_focused.emit(edit.path)

