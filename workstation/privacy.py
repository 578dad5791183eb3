"""Masking sensitive values (`sensitive = true` in the template: SSN, tax id, card numbers).

Keyers see what they key. Everywhere else (the QA station, the supervisor's views, the per-entry
audit export) a sensitive field's value is shown masked unless the viewer's role needs it: only
an administrator sees it in clear (`may_see`). Masking keeps the value's length and its last
two characters, so a QA lead can still tell two entries apart without reading the number.

Values never go to log files or the audit log at all; this module is for what is *shown*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from workstation.templates import FieldSpec

MASK_CHAR = "\u2022"  # a bullet: clearly not a keyed character
KEEP_LAST = 2


class _HasRole(Protocol):
    role: str


def mask(text: str, *, keep: int = KEEP_LAST) -> str:
    """`text` with every character but the last `keep` replaced by a bullet.

    A value too short to keep anything back (at most twice `keep`) is masked whole.
    """
    if not text:
        return ""
    if keep <= 0 or len(text) <= 2 * keep:
        return MASK_CHAR * len(text)
    return MASK_CHAR * (len(text) - keep) + text[-keep:]


def may_see(viewer: _HasRole, spec: "FieldSpec") -> bool:
    """Whether `viewer` sees this field's values in clear outside keying."""
    return not spec.sensitive or viewer.role == "admin"


def shown(viewer: _HasRole, spec: "FieldSpec", text: str) -> str:
    """The value as `viewer` may see it: clear, or masked for a sensitive field."""
    return text if may_see(viewer, spec) else mask(text)
