"""The question asked before a page problem report is closed: what was done about it?

The dialog names the report and asks for a short note ("rescanned", "paper pulled"); Enter
closes the report, Esc cancels. It only asks: the dashboard hands the note to the core
(`page_problems.close_problem`, off the GUI thread), which checks who may close, the note and
whether the report is still open, and shows a refusal as the core's sentence.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from workstation.page_problems import NOTE_LENGTH, PageProblemRow


class CloseProblemDialog(QDialog):
    """Asks for the note that closes one report; `ask` returns it (None when cancelled).

    Close report stays disabled while the note is blank, so Enter cannot send an empty one.

    Signals: the standard dialog signals only.
    """

    def __init__(self, problem: PageProblemRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemDialog")
        self.setWindowTitle("Close a page problem report")
        self.problem = problem

        heading = QLabel(f"Close the report on {problem.where}")
        heading.setObjectName("problemTitle")
        heading.setWordWrap(True)
        detail = f" ({problem.detail})" if problem.detail else ""
        when = problem.reported_at.strftime("%Y-%m-%d %H:%M")
        self.intro_label = QLabel(f"{problem.keyer} reported it {problem.reason_text} on {when} UTC{detail}. "
                                  "Once closed it leaves the open list; the note stays with the report.")
        self.intro_label.setObjectName("problemIntro")
        self.intro_label.setWordWrap(True)
        self.note_edit = QLineEdit()
        self.note_edit.setObjectName("problemNote")
        self.note_edit.setMaxLength(NOTE_LENGTH)
        self.note_edit.setPlaceholderText('What was done, e.g. "rescanned" or "paper pulled"')
        self.note_edit.setAccessibleName("Closing note")
        note_label = QLabel("&Note")
        note_label.setBuddy(self.note_edit)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.close_button.setText("Close report")
        self.close_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.note_edit.textChanged.connect(self._on_note_edit_text_changed)
        self._on_note_edit_text_changed(self.note_edit.text())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        for widget in (heading, self.intro_label, note_label, self.note_edit, buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(480)
        self.note_edit.setFocus()

    @property
    def note(self) -> str:
        return self.note_edit.text().strip()

    def _on_note_edit_text_changed(self, _text: str) -> None:
        self.close_button.setEnabled(bool(self.note))

    @classmethod
    def ask(cls, problem: PageProblemRow, parent: QWidget | None = None) -> str | None:
        """The closing note for `problem`, or None when cancelled (tests replace this)."""
        dialog = cls(problem, parent)
        try:
            return dialog.note if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()
