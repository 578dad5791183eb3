"""The entries of a disputed field side by side: one row per entry, differences highlighted.

The character-level diff comes from the core (`workstation.compare.char_diff`, each entry
against the first, in `Candidate.diff`); this module only paints it. Keyed text is data, never
markup: every piece is escaped before it goes into a rich-text label.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from ui.qss import set_style_property
from workstation.qa import Candidate

GAP = "\u2038"  # where another entry has characters this one lacks

# Diff colours: the same on every entry, readable on white (see style.qss, QA station).
_CHANGED = "background-color:#fde68a;color:#7c2d12;"
_GAP = "color:#b42318;font-weight:700;"


def _changed_positions(candidates: Sequence[Candidate]) -> set[int]:
    """Positions in the first entry's value that some other entry keyed differently; a gap
    before position p is stored as -p-1."""
    marked: set[int] = set()
    for other in candidates[1:]:
        position = 0
        for op in other.diff:
            if op.kind in ("replace", "delete"):
                marked.update(range(position, position + len(op.a)))
            elif op.kind == "insert":
                marked.add(-position - 1)
            position += len(op.a)
    return marked


def _text(value: str) -> str:
    return html.escape(value, quote=False).replace(" ", "&nbsp;")


def diff_html(candidates: Sequence[Candidate], index: int) -> str:
    """Entry `index`'s value as rich text, the characters that differ highlighted."""
    candidate = candidates[index]
    if candidate.flag:
        return f'<i style="color:#78350f">[{_text(candidate.flag)}]</i>'
    if not candidate.value:
        return '<i style="color:#8a919c">(empty)</i>'
    parts: list[str] = []
    if index == 0:
        marked = _changed_positions(candidates)
        for position, char in enumerate(candidate.value):
            if -position - 1 in marked:
                parts.append(f'<span style="{_GAP}">{GAP}</span>')
            parts.append(f'<span style="{_CHANGED}">{_text(char)}</span>' if position in marked else _text(char))
        if -len(candidate.value) - 1 in marked:
            parts.append(f'<span style="{_GAP}">{GAP}</span>')
        return "".join(parts)
    for op in candidate.diff:
        if op.kind == "equal":
            parts.append(_text(op.b))
        elif op.kind == "delete":
            parts.append(f'<span style="{_GAP}">{GAP}</span>')
        elif op.b:
            parts.append(f'<span style="{_CHANGED}">{_text(op.b)}</span>')
    return "".join(parts)


class CandidateRowWidget(QFrame):
    """One entry of the disputed field: its key, pass, value (diff highlighted) and keyer.

    Signals: none (it only displays).
    """

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("qaCandidate")
        self.setProperty("chosen", False)
        self.key = QLabel(str(number))
        self.key.setObjectName("qaKey")
        self.key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pass_label = QLabel()
        self.pass_label.setObjectName("qaPass")
        # One width for "Pass 1" and "Third key", so the values line up for reading across.
        self.pass_label.setMinimumWidth(self.pass_label.fontMetrics().horizontalAdvance("Third key") + 6)
        self.value = QLabel()
        self.value.setObjectName("qaValue")
        self.value.setTextFormat(Qt.TextFormat.RichText)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.keyer = QLabel()
        self.keyer.setObjectName("qaKeyer")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(10)
        layout.addWidget(self.key)
        layout.addWidget(self.pass_label)
        layout.addWidget(self.value, 1)
        layout.addWidget(self.keyer)

    def show_candidate(self, candidates: Sequence[Candidate], index: int, *, note: str = "") -> None:
        candidate = candidates[index]
        self.pass_label.setText("Third key" if candidate.pass_no == 3 else f"Pass {candidate.pass_no}")
        text = diff_html(candidates, index)
        if note:
            text += f'&nbsp;&nbsp;<span style="color:#6b7280;font-size:11px">{_text(note)}</span>'
        self.value.setText(text)
        self.keyer.setText(candidate.keyer)
        self.keyer.setVisible(bool(candidate.keyer))

    def set_chosen(self, chosen: bool) -> None:
        set_style_property(self, "chosen", chosen)
