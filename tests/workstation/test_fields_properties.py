"""Properties of the field types that must hold for any input, checked with hypothesis.

Comparison relies on `normalize` being idempotent (a stored key must compare like the value it
came from), and on `prepare` not changing a value it already prepared (a keyer leaving a field
twice must not alter it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from workstation.fields import (
    Issue,
    export_value,
    luhn_check_digit,
    luhn_valid,
    normalize,
    npi_check_digit,
    npi_valid,
    prepare,
    validate,
)
from workstation.models import FLAGS
from workstation.resources import sample_template_paths
from workstation.templates import FieldSpec, load_template


def _spec(**kw: object) -> FieldSpec:
    return FieldSpec(key="f", label="F", **kw)  # type: ignore[arg-type]


def _sample_specs() -> list[FieldSpec]:
    specs: list[FieldSpec] = []
    for path in sample_template_paths():
        template = load_template(path)
        specs.extend(template.fields)
        for section in template.sections:
            specs.extend(section.fields)
    return specs


SPECS: list[FieldSpec] = [
    *[_spec(type="text", case=case) for case in ("keep", "upper", "lower")],
    *[_spec(type="name", case=case) for case in ("keep", "upper", "lower")],
    _spec(type="digits"),
    _spec(type="digits", mask="999-99-9999", fixed_length=True),
    _spec(type="text", mask="AA-9x9", case="upper"),
    _spec(type="text", mask="X.X X", case="lower"),
    _spec(type="integer", min=Decimal(1), max=Decimal(99)),
    *[_spec(type=kind, decimals=places) for kind in ("decimal", "money") for places in (0, 2, 6)],
    *[_spec(type="date", date_format=fmt) for fmt in ("MM/DD/YYYY", "DD/MM/YYYY", "MM/DD/YY", "YYYY-MM-DD",
                                                       "YYYY-DD-MM", "YY.MM.DD", "DDMMYYYY")],
    _spec(type="choice", choices=("M", "F", "U"), case="upper"),
    _spec(type="choice", choices=("a  b", "ß", "Ǆ", "1"), case="upper"),
    _spec(type="choice", choices=("Ab", "aB", " x "), case="keep"),
    _spec(type="choice", choices=("İ", "K"), case="lower"),
    _spec(type="checkbox"),
    _spec(type="digits", length=10, fixed_length=True, check_digit="npi"),
    _spec(type="digits", check_digit="luhn", pattern=r"\d+"),
    *_sample_specs(),
]

# Text that looks like keyed data as well as anything at all (control characters, combining
# marks, odd whitespace, case-changing letters such as ß, ŉ, İ and final sigma).
_interesting = st.sampled_from(
    list("0123456789,.$-+/ ()xXyYnN\t\r\n\x00\u00a0\u2028\u200b\ufeff")
    + ["ß", "ŉ", "İ", "ς", "ǰ", "Ǆ", "\u0301", "\u0345", "ﬀ", "Ⅻ", "١", "²", "YES", "TRUE", "2024", "12"]
)
TEXT = st.one_of(
    st.text(),
    st.lists(_interesting, max_size=12).map("".join),
    st.from_regex(r"[ 0-9$,.\-]{0,12}", fullmatch=True),
    st.from_regex(r"\s*[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-][0-9]{2,4}\s*", fullmatch=True),
)
FLAG = st.sampled_from(FLAGS)


@settings(max_examples=400)
@given(field=st.sampled_from(SPECS), value=TEXT, flag=FLAG)
@example(field=_spec(type="date", date_format="YYYY-DD-MM"), value="2024-03-07", flag="")
@example(field=_spec(type="text", case="upper"), value=" \x00x", flag="")
@example(field=_spec(type="money"), value="-0", flag="")
def test_normalize_is_idempotent(field: FieldSpec, value: str, flag: str) -> None:
    key = normalize(field, value, flag)
    assert normalize(field, key) == key


@settings(max_examples=400)
@given(field=st.sampled_from(SPECS), value=TEXT)
@example(field=_spec(type="text", mask="AA-9x9", case="upper"), value="ab1x2")
def test_prepare_is_idempotent(field: FieldSpec, value: str) -> None:
    once = prepare(field, value)
    assert prepare(field, once) == once
    assert "\x00" not in once and "\n" not in once and "\t" not in once
    assert once == once.strip()


@given(field=st.sampled_from(SPECS), a=TEXT, b=TEXT, fa=FLAG, fb=FLAG)
def test_agreement_is_symmetric_and_reflexive(field: FieldSpec, a: str, b: str, fa: str, fb: str) -> None:
    ka, kb = normalize(field, a, fa), normalize(field, b, fb)
    assert (ka == kb) == (kb == ka)
    assert normalize(field, a, fa) == ka  # same input, same key (no hidden state)
    if fa and fb:
        assert (ka == kb) == (fa == fb)


@given(field=st.sampled_from(SPECS), value=TEXT, flag=FLAG)
def test_validate_never_fails_and_flags_silence_it(field: FieldSpec, value: str, flag: str) -> None:
    prepared = prepare(field, value)
    issues = validate(field, prepared, flag)
    assert all(isinstance(i, Issue) and i.code and i.message.endswith(".") for i in issues)
    if flag:
        assert issues == ()


@given(field=st.sampled_from(SPECS), value=TEXT)
def test_an_exported_value_compares_like_the_keyed_value(field: FieldSpec, value: str) -> None:
    prepared = prepare(field, value)
    exported = export_value(field, prepared)
    assert normalize(field, exported) == normalize(field, prepared)
    assert "\x00" not in exported


@given(st.text(alphabet="0123456789", max_size=30))
def test_luhn_check_digit_always_completes_a_valid_number(partial: str) -> None:
    number = partial + luhn_check_digit(partial)
    assert luhn_valid(number)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20), st.data())
def test_luhn_catches_every_single_digit_error(partial: str, data: st.DataObject) -> None:
    number = partial + luhn_check_digit(partial)
    at = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[at]]))
    assert not luhn_valid(number[:at] + wrong + number[at + 1:])


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_npi_check_digit_always_makes_a_valid_npi(first9: str) -> None:
    npi = first9 + npi_check_digit(first9)
    assert npi_valid(npi)
    field = _spec(type="digits", length=10, fixed_length=True, check_digit="npi")
    assert validate(field, npi) == ()
    wrong = str((int(npi[-1]) + 1) % 10)
    assert not npi_valid(first9 + wrong)
    assert [i.code for i in validate(field, first9 + wrong)] == ["check_digit"]


DATE_FORMATS = {
    "MM/DD/YYYY": lambda d, sep, pad: f"{d.month:{pad}}{sep}{d.day:{pad}}{sep}{d.year:04d}",
    "DD/MM/YYYY": lambda d, sep, pad: f"{d.day:{pad}}{sep}{d.month:{pad}}{sep}{d.year:04d}",
    "YYYY-MM-DD": lambda d, sep, pad: f"{d.year:04d}{sep}{d.month:{pad}}{sep}{d.day:{pad}}",
}


@given(
    day=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    fmt=st.sampled_from(sorted(DATE_FORMATS)),
    sep=st.sampled_from("/-."),
    pad=st.sampled_from(["d", "02d"]),
)
def test_every_real_date_keyed_any_way_normalises_to_iso(day: dt.date, fmt: str, sep: str, pad: str) -> None:
    field = _spec(type="date", date_format=fmt)
    keyed = DATE_FORMATS[fmt](day, sep, pad)
    assert validate(field, keyed) == ()
    assert normalize(field, keyed) == day.isoformat()
    assert export_value(field, keyed) == day.isoformat()


@given(
    day=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2049, 12, 31)),
)
def test_two_digit_years_pivot_at_fifty(day: dt.date) -> None:
    field = _spec(type="date", date_format="MM/DD/YY")
    assert normalize(field, f"{day.month}/{day.day}/{day.year % 100:02d}") == day.isoformat()


@given(
    amount=st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False),
    commas=st.booleans(),
    dollar=st.booleans(),
)
def test_money_keyed_any_way_normalises_to_the_amount(amount: Decimal, commas: bool, dollar: bool) -> None:
    field = _spec(type="money")
    keyed = f"{abs(amount):,.2f}" if commas else f"{abs(amount):.2f}"
    keyed = ("-" if amount < 0 else "") + ("$" if dollar else "") + keyed
    expected = f"{amount.quantize(Decimal('0.01')):.2f}"
    if expected.startswith("-") and Decimal(expected) == 0:
        expected = expected[1:]
    assert validate(field, keyed) == ()
    assert normalize(field, keyed) == expected
    assert Decimal(normalize(field, keyed)) == amount


@given(number=st.integers(min_value=-(10**15), max_value=10**15), zeros=st.integers(0, 3), commas=st.booleans())
def test_integers_keyed_any_way_normalise_to_the_number(number: int, zeros: int, commas: bool) -> None:
    field = _spec(type="integer")
    digits = f"{abs(number):,}" if commas else "0" * zeros + str(abs(number))
    keyed = ("-" if number < 0 else "") + digits
    assert validate(field, keyed) == ()
    assert normalize(field, keyed) == str(number)
