"""Comparing two keyings of a document, field by field (pure functions, no database).

Two values are the same when their field type's comparison keys are equal
(`workstation.fields.normalize`): a date keyed 3/7/2024 equals 03/07/2024, "1,200.00" equals
"1200", spacing and case follow the field's rules, and the illegible/blank marks compare as
marks. Identical raw text is the same without normalising: that is most fields, and it keeps
comparison fast.

Line items are compared row by row: a row that one entry has and the other lacks compares
against empty values, so a forgotten row is a mismatch wherever the row holds anything.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from workstation.fields import normalize
from workstation.templates import FieldSpec, FormTemplate, parse_path

Value = tuple[str, str]  # (text, flag)
EMPTY: Value = ("", "")
ERROR_CLASSES = ("substitution", "transposition", "omission", "insertion", "other")


def same(spec: FieldSpec, a_value: str, a_flag: str, b_value: str, b_flag: str) -> bool:
    if a_value == b_value and a_flag == b_flag:
        return True
    return normalize(spec, a_value, a_flag) == normalize(spec, b_value, b_flag)


@dataclass(frozen=True)
class ComparisonResult:
    """`agreed`: path -> the value to make final; `disputed`: paths in form order."""

    agreed: dict[str, Value]
    disputed: tuple[str, ...]


def ordered_paths(template: FormTemplate, *entries: Mapping[str, Value]) -> list[str]:
    """Every path any entry has, in form order, with as many rows as the longest entry."""
    rows: dict[str, int] = {}
    for entry in entries:
        for path in entry:
            parsed = parse_path(path)
            if parsed.section:
                rows[parsed.section] = max(rows.get(parsed.section, 0), parsed.row)
    for section in template.sections:
        rows[section.key] = max(rows.get(section.key, 0), section.min_rows)
    return template.field_paths(rows)


def compare_entries(template: FormTemplate, a: Mapping[str, Value], b: Mapping[str, Value]) -> ComparisonResult:
    agreed: dict[str, Value] = {}
    disputed: list[str] = []
    for path in ordered_paths(template, a, b):
        va = a.get(path, EMPTY)
        vb = b.get(path, EMPTY)
        if same(template.spec(path), va[0], va[1], vb[0], vb[1]):
            agreed[path] = va if path in a else vb
        else:
            disputed.append(path)
    return ComparisonResult(agreed, tuple(disputed))


@dataclass(frozen=True)
class DiffOp:
    """One run of a character-level diff: `a` and `b` are the runs' text in each value."""

    kind: str  # equal | replace | insert | delete
    a: str
    b: str


# Longest differing middle (after the common start and end) that is diffed character by
# character; SequenceMatcher is quadratic, and a 10,000-character paste took seconds.
DIFF_WINDOW = 400


def char_diff(a: str, b: str) -> tuple[DiffOp, ...]:
    """Where two values differ, character by character, for highlighting side by side.

    The common start and end are one `equal` run each; a differing middle longer than
    DIFF_WINDOW on either side is shown as one `replace` run rather than diffed.
    """
    start = 0
    limit = min(len(a), len(b))
    while start < limit and a[start] == b[start]:
        start += 1
    end = 0
    while end < limit - start and a[-1 - end] == b[-1 - end]:
        end += 1
    mid_a, mid_b = a[start:len(a) - end], b[start:len(b) - end]
    ops: list[DiffOp] = []
    if start:
        ops.append(DiffOp("equal", a[:start], b[:start]))
    if mid_a or mid_b:
        if not mid_a:
            ops.append(DiffOp("insert", "", mid_b))
        elif not mid_b:
            ops.append(DiffOp("delete", mid_a, ""))
        elif max(len(mid_a), len(mid_b)) > DIFF_WINDOW:
            ops.append(DiffOp("replace", mid_a, mid_b))
        else:
            matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
            ops.extend(DiffOp(tag, mid_a[i1:i2], mid_b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes())
    if end:
        ops.append(DiffOp("equal", a[len(a) - end:], b[len(b) - end:]))
    return tuple(ops)


def _drops_one(longer: str, shorter: str) -> bool:
    """True when deleting exactly one character of `longer` gives `shorter`."""
    if len(longer) != len(shorter) + 1:
        return False
    i = 0
    while i < len(shorter) and longer[i] == shorter[i]:
        i += 1
    return longer[i + 1 :] == shorter[i:]


def classify_error(keyed: str, final: str) -> str:
    """The class of a keying error, from comparison keys of the keyed and the final value.

    substitution: one character replaced; transposition: two adjacent characters swapped;
    omission: one character (or the whole value) left out; insertion: one character added;
    other: anything else (several edits, a mark where a value was).
    """
    if keyed == final:
        return ""
    if "\x00" in keyed or "\x00" in final:
        return "omission" if final and not keyed else "other"
    if not keyed:
        return "omission"
    if len(keyed) == len(final):
        diffs = [i for i, (x, y) in enumerate(zip(keyed, final)) if x != y]
        if len(diffs) == 1:
            return "substitution"
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1 and keyed[diffs[0]] == final[diffs[1]] and keyed[diffs[1]] == final[diffs[0]]:
            return "transposition"
        return "other"
    if _drops_one(final, keyed):
        return "omission"
    if _drops_one(keyed, final):
        return "insertion"
    return "other"
