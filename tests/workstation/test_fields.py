"""Field types: what a keyed value becomes, what is wrong with it, how it compares and exports.

Table-driven per type. Specs are built directly (as the loader would) and the sample templates
are loaded to check that every field they define works end to end.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

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
from workstation.resources import sample_template_paths
from workstation.templates import FieldSpec, load_template, parse_template


def spec(**kw: object) -> FieldSpec:
    kw.setdefault("key", "f")
    kw.setdefault("label", "F")
    return FieldSpec(**kw)  # type: ignore[arg-type]


def codes(issues: tuple[Issue, ...]) -> list[str]:
    return [i.code for i in issues]


TEXT_UPPER = spec(type="text", case="upper", length=48)
TEXT_KEEP = spec(type="text", length=200)
NAME = spec(type="name", case="upper", length=30)
DIGITS5 = spec(type="digits", length=5, fixed_length=True)
SSN = spec(type="digits", mask="999-99-9999", fixed_length=True)
INTEGER = spec(type="integer", min=Decimal(1), max=Decimal(99))
MONEY = spec(type="money", min=Decimal(0), max=Decimal("999999.99"))
DECIMAL0 = spec(type="decimal", decimals=0)
DATE_US = spec(type="date", date_format="MM/DD/YYYY")
DATE_EU = spec(type="date", date_format="DD/MM/YYYY")
DATE_YY = spec(type="date", date_format="MM/DD/YY")
SEX = spec(type="choice", choices=("M", "F", "U"), case="upper", length=1, fixed_length=True)
LIKERT = spec(type="choice", choices=("1", "2", "3", "4", "5"))
CHECK = spec(type="checkbox")
NPI = spec(type="digits", length=10, fixed_length=True, check_digit="npi")
LUHN8 = spec(type="digits", length=8, fixed_length=True, check_digit="luhn")


# --- prepare ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        (TEXT_KEEP, "  hello  ", "hello"),
        (TEXT_KEEP, "line one\r\nline two\tend", "line one line two end"),
        (TEXT_KEEP, "a\n\n\nb", "a b"),
        (TEXT_KEEP, "keep  two spaces", "keep  two spaces"),
        (TEXT_KEEP, "Mixed Case", "Mixed Case"),
        (TEXT_KEEP, "nbsp\u00a0here", "nbsp here"),
        (TEXT_KEEP, "zero\u200bwidth\ufeff", "zerowidth"),
        (TEXT_KEEP, "bell\x07 and nul\x00", "bell and nul"),
        (TEXT_KEEP, "cafe\u0301", "caf\u00e9"),  # decomposed e + acute -> NFC
        (TEXT_UPPER, "123 main st", "123 MAIN ST"),
        (spec(type="text", case="lower"), "John@Example.COM", "john@example.com"),
        (NAME, "o'brien", "O'BRIEN"),
        (NAME, "\tmüller-lüdenscheidt\n", "MÜLLER-LÜDENSCHEIDT"),
        (NAME, "дмитрий", "ДМИТРИЙ"),
        (NAME, "王小明", "王小明"),
        (NAME, "हिन्दी", "हिन्दी"),
        (spec(type="name", case="keep"), "van der Berg", "van der Berg"),
        (SSN, "123456789", "123-45-6789"),
        (SSN, "123-45-6789", "123-45-6789"),
        (SSN, "12345678", "12345678"),  # wrong slot count: left for validate to flag
        (SSN, "1234567890", "1234567890"),
        (spec(type="text", mask="AA-999", case="upper"), "ab123", "AB-123"),
        (spec(type="text", mask="99x99", case="upper"), "1234", "12X34"),  # literal in the field's case
        (TEXT_KEEP, "", ""),
        (TEXT_KEEP, " \t\r\n ", ""),
    ],
)
def test_prepare(field: FieldSpec, raw: str, expected: str) -> None:
    assert prepare(field, raw) == expected
    assert prepare(field, expected) == expected


def test_prepare_never_truncates_a_long_value() -> None:
    raw = "x" * 10_000
    value = prepare(spec(type="text", length=20), raw)
    assert value == raw
    issues = validate(spec(type="text", length=20), value)
    assert codes(issues) == ["length"]
    assert "at most 20 characters, got 10000" in issues[0].message


def test_prepare_keeps_a_long_pasted_value_with_line_breaks() -> None:
    raw = ("word " * 2_000 + "\n") * 5
    value = prepare(TEXT_KEEP, raw)
    assert len(value) > 10_000
    assert "\n" not in value and value == value.strip()
    assert value.count("word") == 10_000


# --- validate: common rules ---------------------------------------------------------------------


def test_flags_silence_every_issue() -> None:
    required = spec(type="date", required=True)
    assert validate(required, "", "illegible") == ()
    assert validate(required, "", "blank") == ()
    assert validate(required, "nonsense", "illegible") == ()


def test_empty_required_and_optional() -> None:
    assert codes(validate(spec(required=True), "")) == ["required"]
    for kind in ("text", "name", "digits", "integer", "money", "date", "checkbox"):
        assert validate(spec(type=kind), "") == ()
    assert validate(SEX, "") == ()


@pytest.mark.parametrize(
    ("field", "value", "expected_codes", "message_part"),
    [
        (DIGITS5, "1234", ["fixed_length"], "Expected 5 digits, got 4."),
        (NPI, "123456789", ["fixed_length"], "Expected 10 digits, got 9."),
        (DIGITS5, "123456", ["length"], "at most 5 digits, got 6"),
        (spec(type="text", length=3), "abcd", ["length"], "at most 3 characters, got 4"),
        (spec(type="text", length=1, fixed_length=True), "", [], ""),
        (spec(type="text", length=1, fixed_length=True), "ab", ["length"], "at most 1 character, got 2"),
        (SSN, "123-45-678", ["fixed_length"], "Expected the form 999-99-9999"),
        (SSN, "123-45-67890", ["length"], "at most 11 characters"),
        (SSN, "123 45 6789", ["mask", "type"], "position 4 should be '-'"),
        (spec(type="text", mask="AA-999"), "A1-234", ["mask"], "position 2 should be a letter, not '1'"),
        (spec(type="text", mask="AA-999"), "AB-234", [], ""),
        (spec(type="text", mask="AA-999"), "AB-2", ["mask"], "Expected the form AA-999"),
        (spec(type="text", pattern=r"[A-Z]{2}"), "A1", ["pattern"], "[A-Z]{2}"),
        (spec(type="text", pattern=r"[A-Z]{2}"), "AB", [], ""),
        (spec(type="text", pattern=r"[A-Z]{2}"), "ABC", ["pattern"], ""),  # fullmatch, not search
    ],
)
def test_shape_rules(field: FieldSpec, value: str, expected_codes: list[str], message_part: str) -> None:
    issues = validate(field, value)
    assert codes(issues) == expected_codes
    if message_part:
        assert message_part in issues[0].message


def test_messages_are_one_plain_sentence() -> None:
    for field, value in [(DIGITS5, "12a"), (MONEY, "12.345"), (DATE_US, "02/30/2024"), (SEX, "Q"),
                         (INTEGER, "120"), (NPI, "1234567890"), (NAME, "J0HN"), (CHECK, "MAYBE")]:
        for issue in validate(field, value):
            assert issue.message.endswith("."), issue
            assert "\n" not in issue.message
            assert issue.message[0].isupper() or issue.message[0] == "'", issue


# --- per type -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected_codes"),
    [
        ("O'BRIEN", []),
        ("MARY-JANE", []),
        ("ST. JOHN", []),
        ("VAN DER BERG", []),
        ("ДМИТРИЙ", []),
        ("王小明", []),
        ("हिन्दी", []),  # combining vowel signs are part of the letters
        ("MÜLLER", []),
        ("J0HN", ["type"]),
        ("SMITH, JOHN", ["type"]),
        ("A" * 31, ["length"]),
    ],
)
def test_validate_name(value: str, expected_codes: list[str]) -> None:
    assert codes(validate(NAME, value)) == expected_codes


@pytest.mark.parametrize(
    ("field", "value", "expected_codes"),
    [
        (DIGITS5, "01234", []),
        (DIGITS5, "0123A", ["type"]),
        (DIGITS5, "12 34", ["type"]),
        (DIGITS5, "١٢٣٤٥", ["type"]),  # Arabic-Indic digits are not 0-9
        (SSN, "123-45-6789", []),
        (spec(type="digits"), "12-3", ["type"]),  # a dash is only allowed as a mask literal
    ],
)
def test_validate_digits(field: FieldSpec, value: str, expected_codes: list[str]) -> None:
    assert codes(validate(field, value)) == expected_codes


@pytest.mark.parametrize(
    ("value", "expected_codes"),
    [
        ("12", []),
        ("1", []),
        ("99", []),
        ("0012", []),
        ("0", ["range"]),
        ("100", ["range"]),
        ("-5", ["range"]),
        ("1.5", ["type"]),
        ("12a", ["type"]),
        ("1,2", ["type"]),
    ],
)
def test_validate_integer(value: str, expected_codes: list[str]) -> None:
    assert codes(validate(INTEGER, value)) == expected_codes


def test_validate_integer_thousands_and_one_sided_ranges() -> None:
    field = spec(type="integer")
    assert validate(field, "1,200") == ()
    assert validate(field, "-1,200,300") == ()
    assert codes(validate(field, "12,00")) == ["type"]
    at_least = validate(spec(type="integer", min=Decimal(16)), "15")
    assert codes(at_least) == ["range"] and "at least 16" in at_least[0].message
    at_most = validate(spec(type="integer", max=Decimal(99)), "100")
    assert codes(at_most) == ["range"] and "at most 99" in at_most[0].message


@pytest.mark.parametrize(
    ("value", "expected_codes"),
    [
        ("1,200.00", []),
        ("$1200", []),
        ("$ 1200", []),
        ("1200.5", []),
        ("1200.", []),
        (".5", []),
        ("0", []),
        ("999,999.99", []),
        ("12.345", ["type"]),  # 3 decimals where 2 are allowed
        ("1,000,000.00", ["range"]),
        ("-3", ["range"]),
        ("$-3", ["range"]),
        ("1.2.3", ["type"]),
        ("12,00", ["type"]),
        ("$", ["type"]),
        ("abc", ["type"]),
        ("--3", ["type"]),
    ],
)
def test_validate_money(value: str, expected_codes: list[str]) -> None:
    assert codes(validate(MONEY, value)) == expected_codes


def test_validate_decimal_places_message_and_unbounded_negatives() -> None:
    issues = validate(MONEY, "12.345")
    assert "at most 2 decimal places" in issues[0].message
    assert validate(spec(type="decimal"), "-3") == ()
    assert codes(validate(DECIMAL0, "12.5")) == ["type"]
    assert "no decimal places" in validate(DECIMAL0, "12.5")[0].message
    assert validate(spec(type="money", min=Decimal("0.01")), "0.00")[0].message == (
        "Must be at least 0.01; got 0.00."
    )


@pytest.mark.parametrize(
    ("field", "value", "expected_codes"),
    [
        (DATE_US, "03/07/2024", []),
        (DATE_US, "3/7/2024", []),
        (DATE_US, "3-7-2024", []),
        (DATE_US, "3.7.2024", []),
        (DATE_US, "03072024", []),
        (DATE_US, "02/29/2024", []),  # leap year
        (DATE_US, "02/29/2023", ["date"]),
        (DATE_US, "02/29/1900", ["date"]),  # not a leap year
        (DATE_US, "02/29/2000", []),
        (DATE_US, "02/30/2024", ["date"]),
        (DATE_US, "04/31/2024", ["date"]),
        (DATE_US, "13/01/2024", ["date"]),
        (DATE_US, "00/10/2024", ["date"]),
        (DATE_US, "01/00/2024", ["date"]),
        (DATE_US, "01/01/0000", ["date"]),
        (DATE_US, "3/7/24", ["date"]),  # two-digit year where four are expected
        (DATE_US, "3/7-2024", ["date"]),  # mixed separators
        (DATE_US, "2024-03-07", ["date"]),  # not the form's layout
        (DATE_US, "March 7", ["date"]),
        (DATE_EU, "31/12/2024", []),
        (DATE_EU, "12/31/2024", ["date"]),
        (DATE_YY, "3/7/24", []),
        (DATE_YY, "03/07/2024", []),
        (DATE_YY, "030724", []),
        (spec(type="date", date_format="YYYY-MM-DD"), "2024-3-7", []),
    ],
)
def test_validate_date(field: FieldSpec, value: str, expected_codes: list[str]) -> None:
    assert codes(validate(field, value)) == expected_codes


def test_date_messages_name_the_format_or_the_impossible_date() -> None:
    assert validate(DATE_US, "02/30/2024")[0].message == "There is no such date as 02/30/2024 (MM/DD/YYYY)."
    assert "MM/DD/YYYY" in validate(DATE_US, "hello")[0].message


@pytest.mark.parametrize(
    ("field", "value", "expected_codes"),
    [
        (SEX, "M", []),
        (SEX, "m", []),  # an upper-case field compares codes without regard to case
        (SEX, "Q", ["choice"]),
        (LIKERT, "3", []),
        (LIKERT, "6", ["choice"]),
        (spec(type="choice", choices=("Ab", "cd")), "ab", ["choice"]),  # case "keep": exact
        (spec(type="choice", choices=("Ab", "cd")), "Ab", []),
    ],
)
def test_validate_choice(field: FieldSpec, value: str, expected_codes: list[str]) -> None:
    assert codes(validate(field, value)) == expected_codes


def test_choice_message_lists_codes_and_shortens_long_lists() -> None:
    assert validate(SEX, "Q")[0].message == "'Q' is not one of the codes: M, F, U."
    states = spec(type="choice", choices=tuple(f"S{i}" for i in range(51)), case="upper")
    message = validate(states, "ZZ")[0].message
    assert "(51 codes)" in message and len(message) < 120


@pytest.mark.parametrize(
    ("value", "ok"),
    [("X", True), ("x", True), ("Y", True), ("YES", True), ("yes", True), ("1", True), ("TRUE", True),
     ("N", True), ("NO", True), ("0", True), ("FALSE", True), ("MAYBE", False), ("2", False)],
)
def test_validate_checkbox(value: str, ok: bool) -> None:
    assert codes(validate(CHECK, value)) == ([] if ok else ["type"])


# --- check digits -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["79927398713", "4111111111111111", "4539148803436467", "0", "18", "12345674"])
def test_luhn_valid_numbers(number: str) -> None:
    assert luhn_valid(number)
    assert luhn_check_digit(number[:-1]) == number[-1]


@pytest.mark.parametrize("number", ["79927398710", "4111111111111112", "", "12a4", "7992739871x"])
def test_luhn_invalid_numbers(number: str) -> None:
    assert not luhn_valid(number)


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_npi_valid_numbers(npi: str) -> None:
    assert npi_valid(npi)
    assert npi_check_digit(npi[:9]) == npi[-1]


@pytest.mark.parametrize("npi", ["1234567890", "1234567839", "123456789", "12345678933", "12345678a3", ""])
def test_npi_invalid_numbers(npi: str) -> None:
    assert not npi_valid(npi)


def test_check_digit_helpers_reject_non_digits() -> None:
    with pytest.raises(ValueError):
        npi_check_digit("12345678")
    with pytest.raises(ValueError):
        luhn_check_digit("12a")


@pytest.mark.parametrize(
    ("field", "value", "expected_codes"),
    [
        (NPI, "1234567893", []),
        (NPI, "1234567890", ["check_digit"]),
        (NPI, "1234567839", ["check_digit"]),  # swapped digits
        (NPI, "123456789", ["fixed_length"]),  # no check-digit noise on a short value
        (NPI, "12345678a3", ["type"]),
        (spec(type="digits", check_digit="npi"), "123456789", ["check_digit"]),
        (LUHN8, "12345674", []),
        (LUHN8, "12345675", ["check_digit"]),
        (spec(type="digits", mask="9999-9999", check_digit="luhn"), "1234-5674", []),
        (spec(type="digits", mask="9999-9999", check_digit="luhn"), "1234-5675", ["check_digit"]),
    ],
)
def test_validate_check_digits(field: FieldSpec, value: str, expected_codes: list[str]) -> None:
    assert codes(validate(field, value)) == expected_codes


def test_check_digit_message_names_the_expected_digit() -> None:
    message = validate(NPI, "1234567890")[0].message
    assert "NPI" in message and "should be 3" in message


# --- normalize ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        (TEXT_UPPER, "123 MAIN ST", "123  main st "),
        (TEXT_KEEP, "a  b", " a b"),
        (TEXT_KEEP, "line\none", "line one"),
        (NAME, "O'BRIEN", "o'brien"),
        (NAME, "MARY  ANN", "Mary Ann"),
        (NAME, "STRASSE", "straße"),  # casefold
        (NAME, "caf\u00e9", "CAFE\u0301"),  # NFC
        (DIGITS5, "01234", "01234"),
        (SSN, "123-45-6789", "123456789"),
        (spec(type="digits"), "555 123-4567", "5551234567"),
        (INTEGER, "0012", "12"),
        (spec(type="integer"), "1,200", "1200"),
        (spec(type="integer"), "-0", "0"),
        (spec(type="integer"), "+5", "5"),
        (MONEY, "1,200.00", "1200"),
        (MONEY, "1200", "$1200.0"),
        (MONEY, "$1,200", "1200.00"),
        (MONEY, ".5", "0.50"),
        (MONEY, "-0", "0"),
        (DECIMAL0, "12", "12.0"),
        (DATE_US, "3/7/2024", "03/07/2024"),
        (DATE_US, "03-07-2024", "03072024"),
        (DATE_EU, "7/3/2024", "07/03/2024"),
        (DATE_YY, "3/7/24", "03/07/2024"),
        (SEX, "m", "M"),
        (CHECK, "X", "yes"),
        (CHECK, "", "no"),
        (CHECK, "TRUE", "1"),
        (TEXT_KEEP, "same bad", "same  bad"),
        (DATE_US, "02/30/2024", "02/30/2024 "),  # identical bad values still agree
        (MONEY, "12.345", "12.3450"),
    ],
)
def test_normalize_agrees(field: FieldSpec, a: str, b: str) -> None:
    assert normalize(field, a) == normalize(field, b)


@pytest.mark.parametrize(
    ("field", "a", "b"),
    [
        (TEXT_KEEP, "Smith", "smith"),  # case "keep" is case-sensitive
        (NAME, "O'BRIEN", "OBRIEN"),
        (DIGITS5, "01234", "1234"),  # leading zeros matter in a digit string
        (spec(type="integer"), "12", "21"),
        (MONEY, "12.345", "12.35"),  # never rounded into agreement
        (MONEY, "12.34", "12.35"),
        (spec(type="digits"), "12.5", "125"),  # only spaces, dashes and mask literals are dropped
        (MONEY, "-3", "3"),
        (DATE_US, "3/7/2024", "7/3/2024"),
        (DATE_YY, "3/7/49", "3/7/1949"),
        (SEX, "M", "F"),
        (CHECK, "X", ""),
        (CHECK, "MAYBE", "X"),
    ],
)
def test_normalize_disagrees(field: FieldSpec, a: str, b: str) -> None:
    assert normalize(field, a) != normalize(field, b)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (TEXT_UPPER, " 123  Main\tSt ", "123 main st"),
        (TEXT_KEEP, " Key  as\nwritten ", "Key as written"),
        (NAME, "Mary  ANN", "mary ann"),
        (SSN, "123-45-6789", "123456789"),
        (DIGITS5, "0123A", "0123A"),  # not digits: falls back to the text
        (INTEGER, "0012", "12"),
        (spec(type="integer"), "-1,200", "-1200"),
        (MONEY, "1,200.00", "1200.00"),
        (MONEY, "1200", "1200.00"),
        (MONEY, "$1200.0", "1200.00"),
        (MONEY, "12.345", "12.345"),
        (MONEY, "-.5", "-0.50"),
        (MONEY, "abc  def", "abc def"),
        (DECIMAL0, "1,200", "1200"),
        (spec(type="decimal", decimals=3), "1.5", "1.500"),
        (DATE_US, "3/7/2024", "2024-03-07"),
        (DATE_EU, "3/7/2024", "2024-07-03"),
        (DATE_YY, "1/2/00", "2000-01-02"),
        (DATE_YY, "1/2/49", "2049-01-02"),
        (DATE_YY, "1/2/50", "1950-01-02"),
        (DATE_YY, "1/2/99", "1999-01-02"),
        (DATE_US, "2024-03-07", "2024-03-07"),  # already ISO: that date
        (DATE_US, "02/30/2024", "02/30/2024"),
        (SEX, "f", "F"),
        (SEX, "q", "q"),
        (LIKERT, "3", "3"),
        (CHECK, "yes", "X"),
        (CHECK, "false", ""),
        (CHECK, "maybe", "maybe"),
        (TEXT_KEEP, "", ""),
        (TEXT_KEEP, "   ", ""),
    ],
)
def test_normalize_values(field: FieldSpec, value: str, expected: str) -> None:
    assert normalize(field, value) == expected
    assert normalize(field, expected) == expected


def test_normalize_flags_are_tokens_that_differ_from_values() -> None:
    for field in (TEXT_KEEP, MONEY, DATE_US, CHECK):
        illegible = normalize(field, "", "illegible")
        blank = normalize(field, "anything", "blank")
        assert illegible == "\x00ILLEGIBLE" and blank == "\x00BLANK"
        assert normalize(field, illegible) == illegible
        assert normalize(field, blank) == blank
        assert illegible != normalize(field, "ILLEGIBLE")
        assert blank != normalize(field, "")
    with pytest.raises(ValueError):
        normalize(TEXT_KEEP, "x", "smudged")


def test_equal_specs_built_separately_normalise_alike() -> None:
    a = spec(type="money", decimals=3)
    b = spec(type="money", decimals=3)
    assert a is not b
    assert normalize(a, "1") == normalize(b, "1") == "1.000"
    assert normalize(spec(type="money", decimals=1), "1") == "1.0"


# --- export -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (TEXT_UPPER, " 123  main st ", "123 MAIN ST"),
        (TEXT_KEEP, "Key  as\nwritten", "Key as written"),
        (NAME, "o'brien", "O'BRIEN"),  # case applied, not case-folded
        (NAME, "MÜLLER", "MÜLLER"),
        (SSN, "123-45-6789", "123456789"),
        (DIGITS5, "01234", "01234"),
        (INTEGER, "0012", "12"),
        (spec(type="integer"), "1,200", "1200"),
        (MONEY, "1,200.00", "1200.00"),
        (MONEY, "$1200", "1200.00"),
        (MONEY, "12.345", "12.345"),
        (DATE_US, "3/7/2024", "2024-03-07"),
        (DATE_EU, "31/12/2024", "2024-12-31"),
        (DATE_YY, "12/31/99", "1999-12-31"),
        (DATE_US, "02/30/2024", "02/30/2024"),  # kept as keyed rather than lost
        (SEX, "m", "M"),
        (SEX, "q", "Q"),
        (CHECK, "yes", "X"),
        (CHECK, "N", ""),
        (CHECK, "", ""),
    ],
)
def test_export_value(field: FieldSpec, value: str, expected: str) -> None:
    assert export_value(field, value) == expected


def test_export_flags_are_empty() -> None:
    assert export_value(MONEY, "12", "illegible") == ""
    assert export_value(TEXT_KEEP, "x", "blank") == ""


def test_export_choice_code_keeps_the_template_spelling() -> None:
    field = spec(type="choice", choices=("Yes", "No"), case="upper")
    assert export_value(field, "YES") == "Yes"
    assert normalize(field, "yes") == "Yes"


# --- sample templates ---------------------------------------------------------------------------

# A good and a bad value for every field type the sample templates use, by (template, field key).
GOOD_AND_BAD: dict[str, tuple[str, str]] = {
    "insured_id": ("ABC123456", "AB-1"),
    "patient_last_name": ("O'Brien", "Smith2"),
    "patient_first_name": ("José", "J0se"),
    "patient_dob": ("3/7/1961", "02/30/1961"),
    "patient_sex": ("f", "Q"),
    "patient_address": ("12 Elm St", ""),
    "patient_city": ("Springfield", ""),
    "patient_state": ("il", "ZZ"),
    "patient_zip": ("62704", "6270"),
    "diagnosis_1": ("j06.9", "J0"),
    "diagnosis_2": ("E11.9", "11E"),
    "total_charge": ("1,200.00", "12.345"),
    "billing_npi": ("1234567893", "1234567890"),
    "federal_tax_id": ("123456789", "12-3456789"),
    "signature_date": ("12/31/2024", "13/31/2024"),
    "service_date": ("3/7/24", "3/7/2024x"),
    "place": ("11", "1"),
    "cpt": ("99213", "9921"),
    "modifier": ("25", "255"),
    "pointer": ("ab", "C"),
    "charge": ("$125", "125.555"),
    "units": ("1", "0"),
    "first_name": ("Ann", "Ann1"),
    "last_name": ("Lee", "Lee!"),
    "street": ("1 Main St", ""),
    "city": ("Austin", ""),
    "state": ("tx", "T1"),
    "zip": ("73301", "7330A"),
    "email": ("Ann@Example.com", "ann@example"),
    "phone": ("5125550100", "512555010"),
    "product_code": ("rb100", "RB999"),
    "purchase_date": ("1/15/2025", "1/32/2025"),
    "purchase_amount": ("49.99", "0"),
    "store_name": ("Best Buy", ""),
    "receipt_number": ("R-1234", "R 1234"),
    "serial_number": ("SN12345", ""),
    "card_last4": ("1234", "12345"),
    "opt_in": ("x", "maybe"),
    "respondent_id": ("12345674", "12345675"),
    "visit_date": ("31/1/2025", "1/31/2025"),
    "age": ("42", "15"),
    "gender": ("x", "Z"),
    "q1": ("5", "6"), "q2": ("4", "0"), "q3": ("3", "33"), "q4": ("2", "x"), "q5": ("1", ""),
    "q6": ("5", "5.0"),
    "recommend": ("YES", "?"),
    "visits_per_year": ("3", "100"),
    "comments": ("Very good\nservice!", "x" * 201),
}


def _sample_fields() -> list[tuple[str, FieldSpec]]:
    out = []
    for path in sample_template_paths():
        template = load_template(path)
        for field in template.fields:
            out.append((template.name, field))
        for section in template.sections:
            for field in section.fields:
                out.append((template.name, field))
    return out


SAMPLE_FIELDS = _sample_fields()


def test_the_samples_use_every_field_type_and_check_digit() -> None:
    types = {field.type for _, field in SAMPLE_FIELDS}
    assert types >= {"text", "name", "digits", "integer", "money", "date", "choice", "checkbox"}
    assert {field.check_digit for _, field in SAMPLE_FIELDS} >= {"luhn", "npi"}


@pytest.mark.parametrize(("template", "field"), SAMPLE_FIELDS, ids=[f"{t}.{f.key}" for t, f in SAMPLE_FIELDS])
def test_sample_template_field(template: str, field: FieldSpec) -> None:
    good, bad = GOOD_AND_BAD[field.key]
    value = prepare(field, good)
    assert validate(field, value) == (), (field.key, value)
    key = normalize(field, value)
    assert normalize(field, key) == key
    assert normalize(field, prepare(field, f"  {good}  ")) == key
    exported = export_value(field, value)
    assert normalize(field, exported) == key  # the export compares like what was keyed
    prepared_bad = prepare(field, bad)
    bad_issues = validate(field, prepared_bad)
    if prepared_bad or field.required:
        assert bad_issues, (field.key, prepared_bad)
    else:
        assert bad_issues == ()


def test_sample_exports_are_clean() -> None:
    by_key = {field.key: field for _, field in SAMPLE_FIELDS}
    assert export_value(by_key["total_charge"], "1,200") == "1200.00"
    assert export_value(by_key["patient_dob"], "3/7/1961") == "1961-03-07"
    assert export_value(by_key["service_date"], "3/7/24") == "2024-03-07"
    assert export_value(by_key["visit_date"], "31/1/2025") == "2025-01-31"
    assert export_value(by_key["patient_last_name"], prepare(by_key["patient_last_name"], "o'brien")) == "O'BRIEN"
    assert export_value(by_key["email"], prepare(by_key["email"], "Ann@Example.COM")) == "ann@example.com"
    assert export_value(by_key["opt_in"], "y") == "X"
    assert export_value(by_key["patient_sex"], "f") == "F"


def test_a_template_with_a_mask_and_decimals_works_through_the_loader() -> None:
    template = parse_template(
        """
        [template]
        name = "masked"
        [[fields]]
        key = "ssn"
        type = "digits"
        mask = "999-99-9999"
        fixed_length = true
        [[fields]]
        key = "rate"
        type = "decimal"
        decimals = 3
        min = 0
        max = 1
        """
    )
    ssn, rate = template.fields
    assert prepare(ssn, "123456789") == "123-45-6789"
    assert validate(ssn, "123-45-6789") == ()
    assert export_value(ssn, "123-45-6789") == "123456789"
    assert normalize(rate, "0.5") == normalize(rate, ".500") == "0.500"
    assert codes(validate(rate, "1.5")) == ["range"]
    assert codes(validate(rate, "0.1234")) == ["type"]
