"""Field comparison, character diffs and the error taxonomy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.workstation.centralseed import sample_template
from workstation.compare import DiffOp, char_diff, classify_error, compare_entries, same

CLAIM = sample_template("cms1500")
SURVEY = sample_template("survey")


@pytest.mark.parametrize(
    ("path", "a", "b"),
    [
        ("patient_dob", ("3/7/1961", ""), ("03/07/1961", "")),
        ("total_charge", ("1,200.00", ""), ("1200", "")),
        ("patient_last_name", ("o'brien  marsh", ""), ("O'BRIEN MARSH", "")),
        ("patient_city", ("", "illegible"), ("", "illegible")),
    ],
)
def test_format_only_differences_agree(path: str, a: tuple[str, str], b: tuple[str, str]) -> None:
    spec = CLAIM.spec(path)
    assert same(spec, *a, *b)
    assert same(spec, *b, *a)


def test_marks_and_values_do_not_agree() -> None:
    spec = CLAIM.spec("patient_city")
    assert not same(spec, "", "illegible", "", "blank")
    assert not same(spec, "", "blank", "", "")
    assert not same(spec, "SPRINGFIELD", "", "", "illegible")


def test_line_items_are_compared_row_by_row_and_a_missing_row_is_a_mismatch() -> None:
    a = {"lines[1].cpt": ("99213", ""), "lines[2].cpt": ("36415", ""), "lines[1].units": ("1", "")}
    b = {"lines[1].cpt": ("99213", ""), "lines[1].units": ("1", "")}
    result = compare_entries(CLAIM, a, b)
    assert "lines[2].cpt" in result.disputed
    assert "lines[1].cpt" not in result.disputed
    assert result.agreed["lines[1].cpt"] == ("99213", "")
    # Empty fields of a row only one entry has agree (both empty).
    assert "lines[2].modifier" in result.agreed


def test_disputed_paths_come_in_form_order() -> None:
    a = {"q3": ("1", ""), "age": ("43", ""), "q1": ("2", "")}
    b = {"q3": ("2", ""), "age": ("34", ""), "q1": ("3", "")}
    assert compare_entries(SURVEY, a, b).disputed == ("age", "q1", "q3")


@pytest.mark.parametrize(
    ("keyed", "final", "kind"),
    [
        ("SMTIH", "SMITH", "transposition"),
        ("SMYTH", "SMITH", "substitution"),
        ("SMTH", "SMITH", "omission"),
        ("SMIITH", "SMITH", "insertion"),
        ("", "SMITH", "omission"),
        ("JONES", "SMITH", "other"),
        ("SMIHT", "SMITH", "transposition"),
        ("MSITH", "SMITH", "transposition"),
    ],
)
def test_errors_are_classified(keyed: str, final: str, kind: str) -> None:
    assert classify_error(keyed, final) == kind


def test_char_diff_marks_where_values_differ() -> None:
    ops = char_diff("SMTIH", "SMITH")
    assert "".join(op.a for op in ops) == "SMTIH" and "".join(op.b for op in ops) == "SMITH"
    assert ops[0] == DiffOp("equal", "SM", "SM") and ops[-1] == DiffOp("equal", "H", "H")
    ops = char_diff("1200.00", "1250.00")
    assert "".join(op.a for op in ops) == "1200.00" and "".join(op.b for op in ops) == "1250.00"
    assert [(op.kind, op.a, op.b) for op in ops if op.kind != "equal"] == [("replace", "0", "5")]
    assert char_diff("SAME", "SAME") == (DiffOp("equal", "SAME", "SAME"),)


TEXT = st.text(alphabet="ABCDEFGHIJ0123456789", min_size=2, max_size=12)


@given(TEXT, st.data())
def test_a_single_generated_edit_is_classified_as_that_edit(final: str, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["substitution", "transposition", "omission", "insertion"]))
    i = data.draw(st.integers(0, len(final) - 1))
    if kind == "substitution":
        keyed = final[:i] + ("Z" if final[i] != "Z" else "Y") + final[i + 1 :]
    elif kind == "transposition":
        i = min(i, len(final) - 2)
        if final[i] == final[i + 1]:
            return
        keyed = final[:i] + final[i + 1] + final[i] + final[i + 2 :]
    elif kind == "omission":
        keyed = final[:i] + final[i + 1 :]
    else:
        keyed = final[:i] + "Z" + final[i:]
    assert classify_error(keyed, final) == kind


VALUES = st.tuples(st.text(max_size=12), st.sampled_from(["", "illegible", "blank"]))


@given(VALUES, VALUES, st.sampled_from(CLAIM.field_paths({"lines": 1})))
def test_same_is_symmetric_and_reflexive(a: tuple[str, str], b: tuple[str, str], path: str) -> None:
    spec = CLAIM.spec(path)
    assert same(spec, *a, *a)
    assert same(spec, *a, *b) == same(spec, *b, *a)


@given(st.dictionaries(st.sampled_from(SURVEY.field_paths()), VALUES), st.dictionaries(st.sampled_from(SURVEY.field_paths()), VALUES))
def test_comparison_is_symmetric(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> None:
    assert compare_entries(SURVEY, a, b).disputed == compare_entries(SURVEY, b, a).disputed


@given(st.text(max_size=30), st.text(max_size=30))
def test_char_diff_runs_spell_out_both_values(a: str, b: str) -> None:
    ops = char_diff(a, b)
    assert "".join(op.a for op in ops) == a and "".join(op.b for op in ops) == b
    assert all(op.a == op.b for op in ops if op.kind == "equal")
    assert all(op.a != op.b for op in ops if op.kind != "equal")


def test_a_long_paste_is_diffed_around_its_common_start_and_end() -> None:
    from workstation.compare import DIFF_WINDOW

    pasted = "x" * 10_000
    ops = char_diff(pasted, pasted[:-1] + "y")
    assert ops == (DiffOp("equal", pasted[:-1], pasted[:-1]), DiffOp("replace", "x", "y"))
    wide_a = "A" + "0123456789" * (DIFF_WINDOW // 5) + "Z"
    wide_b = "A" + "9876543210" * (DIFF_WINDOW // 5) + "Z"
    ops = char_diff(wide_a, wide_b)  # a middle wider than the window: one run, not a quadratic diff
    assert [op.kind for op in ops] == ["equal", "replace", "equal"]
    assert ops[1] == DiffOp("replace", wide_a[1:-1], wide_b[1:-1])
