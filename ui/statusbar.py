"""The keying window's status bar: where the keyer is, how fast, whether work is safe.

It only displays numbers it is given (speed and counts come from the core's metrics); parts
that have not been set yet stay hidden rather than showing zeros that are not true.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from ui.qss import set_style_property

SAVED = "saved"
SAVING = "saving"
FAILED = "failed"


def _label(name: str, tooltip: str) -> QLabel:
    label = QLabel()
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
        self.save_label = _label("statusSave", "Every field is saved on this computer when you leave it")
        self.connection_label = _label("statusConnection", "Connection to the central database")
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
        text = {SAVED: "Saved \u2713", SAVING: "Saving\u2026", FAILED: "Not saved!"}[state]
        _set_kind(self.save_label, state)
        self._show(self.save_label, text)

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
