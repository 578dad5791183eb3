"""The keying window's status bar: where the keyer is, how fast, whether work is safe.

It only displays numbers it is given (speed and counts come from the core's metrics); parts
that have not been set yet stay hidden rather than showing zeros that are not true.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from ui.qss import StaysOpaque, colour_property, set_style_property

QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's largest widget size

SAVED = "saved"
SAVING = "saving"
FAILED = "failed"
SAVE_TEXT = {SAVED: "Saved \u2713", SAVING: "Saving\u2026", FAILED: "Not saved!"}


class _OpaqueLabel(StaysOpaque, QLabel):
    """A status bar label that paints its background itself (`qproperty-background`, the
    status bar's colour): opaque, so a new text repaints the label and not the status bar and
    the window behind it too (the save state changes twice a field, the counts once)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colours: dict[str, QColor] = {"background": QColor("#f7f8fa")}

    background = colour_property("background")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(event.rect(), self._colours["background"])
        painter.end()
        super().paintEvent(event)


class SaveStateLabel(_OpaqueLabel):
    """Whether the last field is saved: "Saved ✓" in green, "Saving…" in grey, "Not saved!" in
    white on red.

    It changes twice for every field the keyer leaves (saving, then saved a few milliseconds
    later), so it is made cheap to change: a fixed size, which its new text never lays the
    status bar out again for, and its text painted here in the state's colour rather than by
    re-applying the style sheet for a property. The colours come from the style sheet
    (`qproperty-savedColor`, `-savingColor`, `-failedColor`, `-failedBackground` on
    QLabel#statusSave).

    Signals: none.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusSave")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._state = ""
        self._colours.update({SAVED: QColor("#15803d"), SAVING: QColor("#6b7280"), FAILED: QColor("#ffffff"),
                              "failed_background": QColor("#b42318")})
        self._sized = False

    savedColor = colour_property(SAVED)  # noqa: N815 (Qt property names, set from the style sheet)
    savingColor = colour_property(SAVING)  # noqa: N815
    failedColor = colour_property(FAILED)  # noqa: N815
    failedBackground = colour_property("failed_background")  # noqa: N815

    @property
    def state(self) -> str:
        return self._state

    def set_state(self, state: str) -> None:
        if not self._sized:
            self._fix_size()
        if state == self._state:
            return
        self._state = state
        self.setText(SAVE_TEXT[state])
        self.update()

    def _fix_size(self) -> None:
        """As wide as the widest of its texts, so a new one lays nothing out again."""
        self.ensurePolished()
        shown = self.text()
        width = height = 0
        for text in SAVE_TEXT.values():
            self.setText(text)
            hint = self.sizeHint()
            width, height = max(width, hint.width()), max(height, hint.height())
        self.setText(shown)
        self.setFixedSize(width, height)
        self._sized = True

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._sized = False  # measured again for the new font on the next change

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(event.rect(), self._colours["background"])
        if self._state == FAILED:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._colours["failed_background"])
            painter.drawRoundedRect(self.rect(), 3, 3)
        painter.setPen(self._colours.get(self._state) or self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.text())
        painter.end()


class SteadyLabel(_OpaqueLabel):
    """A label that only ever grows: a new text no wider than the widest so far is painted in
    place, and the status bar is not laid out again for it.

    Fields today and keys/h change on every field the keyer leaves, the document number on
    every document; each new text used to lay the status bar out and paint it whole. Numbers
    also stop nudging their neighbours left and right.

    Signals: none.
    """

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        super().setText(text)
        hint = self.sizeHint()
        if hint.width() > self.minimumWidth() or hint.height() != self.minimumHeight():
            self.setFixedSize(max(hint.width(), self.minimumWidth()), hint.height())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.setMinimumSize(0, 0)  # measured again for the new font
            self.setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX)
            self.setText(self.text())


def _label(name: str, tooltip: str, *, steady: bool = True) -> QLabel:
    label = SteadyLabel() if steady else QLabel()
    label.setObjectName(name)
    label.setToolTip(tooltip)
    label.setVisible(False)
    return label


def _set_kind(label: QLabel, kind: str) -> None:
    set_style_property(label, "kind", kind)


class StatusBarWidget(QStatusBar):
    """Document n of N, page p of P, keystrokes/hour, fields today, save state, connection.

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyingStatusBar")
        self.setSizeGripEnabled(False)
        self.document_label = _label("statusDocument", "Document in this unit of work")
        self.page_label = _label("statusPage", "Page of this document")
        self.rate_label = _label("statusRate", "Keystrokes per hour of active keying (pauses excluded)")
        self.fields_label = _label("statusFields", "Fields you keyed today")
        self.save_label = SaveStateLabel()
        self.save_label.setToolTip("Every field is saved on this computer when you leave it")
        self.save_label.setVisible(False)
        # Styled by its kind (online, offline), which may change its size: a plain label.
        self.connection_label = _label("statusConnection", "Connection to the central database", steady=False)
        for widget in (self.document_label, self.page_label):
            self.addWidget(widget)
        for widget in (self.rate_label, self.fields_label, self.save_label, self.connection_label):
            self.addPermanentWidget(widget)

    def set_document(self, number: int, total: int) -> None:
        self._show(self.document_label, f"Document {number} of {total}")

    def set_page(self, number: int, total: int) -> None:
        self._show(self.page_label, f"Page {number} of {total}")

    def set_rate(self, keystrokes_per_hour: float | None) -> None:
        """Live speed; None hides it (not enough keying yet to say)."""
        if keystrokes_per_hour is None:
            self.rate_label.setVisible(False)
            return
        self._show(self.rate_label, f"{round(keystrokes_per_hour):,} keys/h")

    def set_fields_today(self, count: int) -> None:
        self._show(self.fields_label, f"{count:,} fields today")

    def set_save_state(self, state: str) -> None:
        """SAVED ("Saved ✓"), SAVING ("Saving…") or FAILED ("Not saved")."""
        self.save_label.set_state(state)
        if self.save_label.isHidden():
            self.save_label.show()

    def set_connection(self, online: bool, pending: int = 0) -> None:
        """Online/offline and how many finished units wait to be sent."""
        text = "Online" if online else "Offline"
        if pending:
            text += f" \u00b7 {pending} to send"
        _set_kind(self.connection_label, "online" if online else "offline")
        self._show(self.connection_label, text)

    @staticmethod
    def _show(label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)
        if label.isHidden():
            label.show()
