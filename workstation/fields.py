"""Field types: the one place that knows how a keyed value is prepared, checked, compared, exported.

Everything that touches a keyed value goes through here, so the keying form, the comparison of
two passes, QA and the export cannot disagree about what a value means:

- `prepare(spec, raw)`: what the field holds once the keyer leaves it (Unicode NFC, pasted tabs and
  line breaks turned into spaces, stripped, case applied, mask literals inserted). Never truncates.
- `validate(spec, value, flag)`: issues to warn about while keying. Warnings only; the keyer may
  always go on (validation warns but never traps).
- `normalize(spec, value, flag)`: the comparison key. Two keyings agree iff their keys are equal.
  Idempotent, and cheap: the per-spec work is done once and cached (see `_compiled`).
- `export_value(spec, value, flag)`: the clean value written to CSV / JSON Lines.

Rules worth knowing:

- Flags: a field marked illegible or blank compares as the tokens "\\x00ILLEGIBLE" / "\\x00BLANK"
  (a keyed value can never start with NUL: `prepare` drops control characters) and exports as "".
- Dates compare and export as ISO "YYYY-MM-DD". A two-digit year 00-49 means 20xx and 50-99
  means 19xx. Day and month may be keyed with one digit, with any of / - . as the separator (the
  same one twice) or with none ("03072024"). A value that is already an ISO date counts as that
  date whatever the field's format (so normalising twice changes nothing).
- Numbers compare canonically: integers without leading zeros or thousands commas; decimal and
  money values with exactly `decimals` places ("1,200.00" == "$1200" -> "1200.00"). A value with
  more places than allowed keeps its extra significant digits ("12.345" stays "12.345"), so a
  keying difference in the third decimal is never rounded away.
- Digit strings compare as their digits: spaces, dashes and the mask's literals are dropped
  ("123-45-6789" == "123456789"); leading zeros count. Names compare case-folded; text
  case-folded only when the field's case is upper or lower. Choices compare as their code.
- A value that does not parse for its type compares as its whitespace-collapsed text (case folded
  where the field's case is upper/lower), so two identical bad keyings still agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from workstation.models import FLAG_BLANK, FLAG_ILLEGIBLE
from workstation.templates import FieldSpec

__all__ = [
    "Issue",
    "prepare",
    "validate",
    "normalize",
    "export_value",
    "flag_token",
    "luhn_valid",
    "luhn_check_digit",
    "npi_valid",
    "npi_check_digit",
    "CHECKED_WORDS",
    "UNCHECKED_WORDS",
]


@dataclass(frozen=True)
class Issue:
    """One thing wrong with a keyed value, with a sentence the keyer can act on.

    `code` is one of: required, length, fixed_length, type, range, pattern, choice, check_digit,
    date, mask.
    """

    code: str
    message: str


CHECKED_WORDS = frozenset({"X", "Y", "YES", "1", "TRUE"})
UNCHECKED_WORDS = frozenset({"", "N", "NO", "0", "FALSE"})

_FLAG_TOKENS = {FLAG_ILLEGIBLE: "\x00ILLEGIBLE", FLAG_BLANK: "\x00BLANK"}

# --- shared helpers ---------------------------------------------------------------------------

# Whitespace other than the plain space (tab, CR, LF, VT, FF, NEL, NBSP, U+2028...) -> one space.
_ODD_SPACE_RE = re.compile(r"[^\S ]+")
# Control characters left after that, and invisible characters pasted from the web/Word.
_INVISIBLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
_INVISIBLE_PROBE = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]|[^\\S ]")
# Half of a surrogate pair (a broken clipboard): no database or file can hold it; it becomes
# U+FFFD, visible to the keyer, instead of failing the save.
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _nfc(text: str) -> str:
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _collapse(text: str) -> str:
    """Whitespace runs become one space; leading and trailing whitespace goes."""
    return " ".join(text.split())


def _stable(step: Callable[[str], str], text: str) -> str:
    """Apply `step` until it changes nothing (case mapping and NFC can each undo the other)."""
    for _ in range(8):
        nxt = step(text)
        if nxt == text:
            return text
        text = nxt
    return text


def _fold_step(text: str) -> str:
    return _nfc(_collapse(text).casefold())


def _keep_step(text: str) -> str:
    return _nfc(_collapse(text))


def _fold_text(text: str) -> str:
    """Comparison text for a case-insensitive field: collapsed, NFC, case-folded."""
    collapsed = _collapse(text)
    if collapsed.isascii():
        return collapsed.lower()
    return _stable(_fold_step, collapsed)


def _keep_text(text: str) -> str:
    """Comparison text for a case-sensitive field: collapsed, NFC."""
    collapsed = _collapse(text)
    if collapsed.isascii():
        return collapsed
    return _stable(_keep_step, collapsed)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _show(value: str, limit: int = 24) -> str:
    """A keyed value quoted for a message, shortened when long."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "\u2026")


def flag_token(flag: str) -> str:
    """The comparison key of a flagged field ("illegible" -> "\\x00ILLEGIBLE")."""
    try:
        return _FLAG_TOKENS[flag]
    except KeyError:
        raise ValueError(f"unknown field flag {flag!r}") from None


# --- check digits -----------------------------------------------------------------------------

_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _luhn_sum(digits: str, double_first: bool) -> int:
    """Luhn sum of `digits` read right to left; `double_first` doubles the rightmost digit."""
    total = 0
    double = double_first
    for char in reversed(digits):
        digit = ord(char) - 48
        total += _LUHN_DOUBLED[digit] if double else digit
        double = not double
    return total


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def luhn_valid(number: str) -> bool:
    """True if `number` (digits only, check digit last) passes the Luhn (mod 10) check."""
    if not number or not _is_ascii_digits(number):
        return False
    return _luhn_sum(number, double_first=False) % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit to append to `partial` so that the result passes the Luhn check."""
    if not _is_ascii_digits(partial) and partial != "":
        raise ValueError("luhn_check_digit needs digits only")
    return str((10 - _luhn_sum(partial, double_first=True) % 10) % 10)


# An NPI's check digit is the Luhn digit of the 9 digits prefixed with 80840 (ISO 7812 card
# issuer prefix for US health), per the CMS NPI check-digit standard.
_NPI_PREFIX = "80840"


def npi_valid(npi: str) -> bool:
    """True if `npi` is 10 digits whose last digit is the NPI (prefixed Luhn) check digit."""
    if len(npi) != 10 or not _is_ascii_digits(npi):
        return False
    return luhn_valid(_NPI_PREFIX + npi)


def npi_check_digit(first9: str) -> str:
    """The tenth digit that makes `first9` a valid NPI."""
    if len(first9) != 9 or not _is_ascii_digits(first9):
        raise ValueError("npi_check_digit needs exactly 9 digits")
    return luhn_check_digit(_NPI_PREFIX + first9)


# --- per-type parsers (value -> canonical string, or None when it does not parse) --------------

_INT_RE = re.compile(r"([-+]?)(\d{1,3}(?:,\d{3})+|\d+)", re.ASCII)
_NUMBER_RE = re.compile(
    r"(?P<s1>[-+]?)(?:\$ ?)?(?P<s2>[-+]?)(?P<int>\d{1,3}(?:,\d{3})+|\d*)(?:\.(?P<frac>\d*))?",
    re.ASCII,
)
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_DATE_TOKEN_RE = re.compile(r"YYYY|YY|MM|DD")
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MASK_SLOTS = "9AX"  # 9 = digit, A = letter, X = any character; anything else is a literal
_SEPARATORS = " -"  # dropped from a digits value, with the mask's literals


def _canonical_integer(text: str) -> str | None:
    if text.isdigit() and text.isascii():
        return text.lstrip("0") or "0"
    match = _INT_RE.fullmatch(text)
    if match is None:
        return None
    digits = match[2].replace(",", "").lstrip("0") or "0"
    return "-" + digits if match[1] == "-" and digits != "0" else digits


def _split_number(text: str) -> tuple[bool, str, str] | None:
    """(negative, integer digits, fraction digits) of a decimal/money value, or None."""
    if text.isascii():
        whole, dot, frac = text.partition(".")
        if whole.isdigit() and (frac.isdigit() or not frac):  # the common 1200 / 1200.50
            return False, whole, frac
    match = _NUMBER_RE.fullmatch(text)
    if match is None:
        return None
    s1, s2 = match["s1"], match["s2"]
    if s1 and s2:
        return None
    whole = match["int"]
    frac = match["frac"] or ""
    if not whole and not frac:
        return None
    return (s1 or s2) == "-", whole.replace(",", ""), frac


def _canonical_number(text: str, decimals: int) -> str | None:
    parts = _split_number(text)
    if parts is None:
        return None
    negative, whole, frac = parts
    whole = whole.lstrip("0") or "0"
    frac = frac.rstrip("0")
    if len(frac) < decimals:
        frac = frac + "0" * (decimals - len(frac))
    result = whole + "." + frac if frac else whole
    if negative and (whole != "0" or frac.strip("0")):
        return "-" + result
    return result


def _real_date(year: int, month: int, day: int) -> bool:
    if year < 1 or not 1 <= month <= 12 or day < 1:
        return False
    if month == 2 and _leap(year):
        return day <= 29
    return day <= _DAYS_IN_MONTH[month]


def _full_year(year: str) -> int:
    """Two-digit years: 00-49 -> 2000-2049, 50-99 -> 1950-1999."""
    value = int(year)
    if len(year) == 2:
        return value + (2000 if value < 50 else 1900)
    return value


@dataclass(frozen=True)
class _DateFormat:
    """A field's date format compiled once into two patterns with named groups y, m, d."""

    text: str
    separated: re.Pattern[str]  # 3/7/2024, 03-07-2024, 3.7.2024 (the same separator twice)
    compact: re.Pattern[str]  # 03072024

    @classmethod
    def of(cls, fmt: str) -> "_DateFormat":
        tokens = _DATE_TOKEN_RE.findall(fmt)
        if sorted(t[0] for t in tokens) != ["D", "M", "Y"]:  # the loader prevents this
            tokens, fmt = ["MM", "DD", "YYYY"], "MM/DD/YYYY"
        loose = {"MM": r"(?P<m>\d{1,2})", "DD": r"(?P<d>\d{1,2})", "YYYY": r"(?P<y>\d{4})", "YY": r"(?P<y>\d{2}|\d{4})"}
        tight = {"MM": r"(?P<m>\d{2})", "DD": r"(?P<d>\d{2})", "YYYY": r"(?P<y>\d{4})", "YY": r"(?P<y>\d{2}|\d{4})"}
        separated = loose[tokens[0]] + r"(?P<sep>[/.\-])" + loose[tokens[1]] + r"(?P=sep)" + loose[tokens[2]]
        compact = "".join(tight[t] for t in tokens)
        return cls(fmt, re.compile(separated, re.ASCII), re.compile(compact, re.ASCII))

    def parse(self, text: str) -> tuple[int, int, int] | None:
        """(year, month, day) as keyed in this format, not yet checked against the calendar."""
        match = self.separated.fullmatch(text) or self.compact.fullmatch(text)
        if match is None:
            return None
        year, month, day = match.group("y", "m", "d")
        return _full_year(year), int(month), int(day)

    def canonical(self, text: str) -> str | None:
        """ISO form of a real date keyed in this format (or already in ISO form), else None.

        The hot path of comparing dates: string lookups only, no int/date objects.
        """
        if len(text) == 10 and text[4] == "-" and _ISO_DATE_RE.fullmatch(text):
            month_day = _MONTH_DAY.get((text[5:7], text[8:10]))
            if month_day is not None and text[:4] != "0000" and (month_day != "02-29" or _leap(int(text[:4]))):
                return text
        match = self.separated.fullmatch(text) or self.compact.fullmatch(text)
        if match is None:
            return None
        year, month, day = match.group("y", "m", "d")
        month_day = _MONTH_DAY.get((month, day))
        if month_day is None:
            return None
        if len(year) == 2:
            year = ("20" if year < "50" else "19") + year
        elif year == "0000":
            return None
        if month_day == "02-29" and not _leap(int(year)):
            return None
        return year + "-" + month_day


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _month_day_table() -> dict[tuple[str, str], str]:
    """("3", "7") / ("03", "07") / ... -> "03-07" for every month and day that can exist."""
    table: dict[tuple[str, str], str] = {}
    for month in range(1, 13):
        for day in range(1, 30 if month == 2 else _DAYS_IN_MONTH[month] + 1):
            iso = f"{month:02d}-{day:02d}"
            for m in {str(month), f"{month:02d}"}:
                for d in {str(day), f"{day:02d}"}:
                    table[(m, d)] = iso
    return table


_MONTH_DAY = _month_day_table()


# --- per-spec compiled rules ------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    """Everything about one FieldSpec that can be worked out once, before any value arrives."""

    spec: FieldSpec
    normalize: Callable[[str], str]
    export: Callable[[str], str]
    date: _DateFormat | None
    pattern: re.Pattern[str] | None
    mask: tuple[tuple[bool, str], ...]  # per position: (is a slot, slot kind or literal in the field's case)
    mask_text: str  # the mask as shown to the keyer, literals in the field's case
    mask_slots: int
    mask_literals: str
    choice_lookup: dict[str, str]


def _choice_canon(spec: FieldSpec) -> Callable[[str], str]:
    return _keep_text if spec.case == "keep" else _fold_text


_Pair = tuple[Callable[[str], str], Callable[[str], str]]  # (normalise, export)


def _digits_pair(literals: str) -> _Pair:
    drop = str.maketrans("", "", _SEPARATORS + literals)

    def norm(value: str) -> str:
        if value.isdigit() and value.isascii():
            return value
        collapsed = _collapse(value)
        digits = collapsed.translate(drop)
        if digits and digits.isdigit() and digits.isascii():
            return digits
        return collapsed

    return norm, norm


def _integer_pair() -> _Pair:
    def norm(value: str) -> str:
        collapsed = _collapse(value)
        return _canonical_integer(collapsed) or collapsed

    return norm, norm


def _number_pair(places: int) -> _Pair:
    def norm(value: str) -> str:
        if value.isdigit() and value.isascii():
            whole = value.lstrip("0") or "0"
            return whole + "." + "0" * places if places else whole
        collapsed = _collapse(value)
        return _canonical_number(collapsed, places) or collapsed

    return norm, norm


def _date_pair(fmt: _DateFormat) -> _Pair:
    def norm(value: str) -> str:
        collapsed = _collapse(value)
        return fmt.canonical(collapsed) or collapsed

    return norm, norm


def _choice_pair(spec: FieldSpec, lookup: dict[str, str], export_text: Callable[[str], str]) -> _Pair:
    canon = _choice_canon(spec)

    def norm(value: str) -> str:
        key = canon(value)
        return lookup.get(key, key)

    def export(value: str) -> str:
        code = lookup.get(canon(value))
        return code if code is not None else export_text(value)

    return norm, export


def _checkbox_norm(value: str) -> str:
    collapsed = _collapse(value)
    word = collapsed.upper()
    if word in CHECKED_WORDS:
        return "X"
    if word in UNCHECKED_WORDS:
        return ""
    return collapsed


def _build(spec: FieldSpec) -> _Rules:
    kind = spec.type
    mask = tuple((True, c) if c in _MASK_SLOTS else (False, _case_char(spec.case, c)) for c in spec.mask)
    mask_literals = "".join(sorted({c for slot, c in mask if not slot}))
    date = _DateFormat.of(spec.date_format) if kind == "date" else None
    canon = _choice_canon(spec)
    lookup: dict[str, str] = {}
    for code in spec.choices:
        lookup.setdefault(canon(code), code)

    def export_text(value: str) -> str:
        return _collapse(prepare(spec, value))

    pair: _Pair
    if kind == "name":
        pair = _fold_text, export_text
    elif kind == "digits":
        pair = _digits_pair(mask_literals)
    elif kind == "integer":
        pair = _integer_pair()
    elif kind in ("decimal", "money"):
        pair = _number_pair(spec.decimals)
    elif date is not None:
        pair = _date_pair(date)
    elif kind == "choice":
        pair = _choice_pair(spec, lookup, export_text)
    elif kind == "checkbox":
        pair = _checkbox_norm, _checkbox_norm
    else:  # text (and, defensively, any type the loader would have refused)
        pair = (_keep_text if spec.case == "keep" else _fold_text), export_text
    return _Rules(
        spec=spec,
        normalize=pair[0],
        export=pair[1],
        date=date,
        pattern=re.compile(spec.pattern) if spec.pattern else None,
        mask=mask,
        mask_text="".join(c for _, c in mask),
        mask_slots=sum(slot for slot, _ in mask),
        mask_literals=mask_literals,
        choice_lookup=lookup,
    )


# Keyed by id(spec) and checked by identity: hashing a FieldSpec (20 fields, a Decimal and a Zone
# inside) costs more than the normalisation itself. The entry holds the spec, so its id cannot be
# reused while cached; the cache is cleared when it grows past _CACHE_LIMIT distinct specs.
_CACHE: dict[int, _Rules] = {}
_CACHE_LIMIT = 4096


def _compiled(spec: FieldSpec) -> _Rules:
    rules = _CACHE.get(id(spec))
    if rules is not None and rules.spec is spec:
        return rules
    rules = _build(spec)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[id(spec)] = rules
    return rules


# --- prepare ----------------------------------------------------------------------------------


def _apply_case(case: str, text: str) -> str:
    if case == "upper":
        return text.upper()
    if case == "lower":
        return text.lower()
    return text


def _case_char(case: str, char: str) -> str:
    """A mask literal in the field's case (so a prepared value keeps its literals as they are)."""
    mapped = _apply_case(case, char)
    return mapped if len(mapped) == 1 else char


def _apply_mask(rules: _Rules, text: str) -> str:
    literals = rules.mask_literals
    slots = [c for c in text if c not in literals] if literals else list(text)
    if len(slots) != rules.mask_slots:
        return text
    pending = iter(slots)
    return "".join(next(pending) if slot else char for slot, char in rules.mask)


def prepare(spec: FieldSpec, raw: str) -> str:
    """What the field holds after the keyer typed or pasted `raw`.

    NFC; tabs, line breaks and other odd whitespace become spaces; control and invisible
    characters go; stripped; case applied; mask literals inserted when the value has exactly the
    mask's slot count. Too long stays too long: `validate` says so, nothing is cut off.
    """
    text = raw
    if not text.isascii() or _INVISIBLE_PROBE.search(text):
        text = _ODD_SPACE_RE.sub(" ", text)
        text = _INVISIBLE_RE.sub("", text)
        text = _LONE_SURROGATE_RE.sub("\ufffd", text)
    text = _nfc(text).strip()
    case = spec.case
    if case != "keep":
        if text.isascii():
            text = _apply_case(case, text)
        else:
            text = _stable(lambda t: _nfc(_apply_case(case, t)).strip(), text)
    if spec.mask and text:
        text = _apply_mask(_compiled(spec), text)
    return text


# --- validate ---------------------------------------------------------------------------------

_NAME_PUNCTUATION = frozenset(" -'.")


def _bad_name_char(value: str) -> str | None:
    for char in value:
        if char in _NAME_PUNCTUATION:
            continue
        if unicodedata.category(char)[0] not in "LM":  # letters and their combining marks
            return char
    return None


def _mask_mismatch(mask: tuple[tuple[bool, str], ...], value: str) -> int | None:
    """Index of the first position that does not fit the mask, or None."""
    for index, ((slot, want), char) in enumerate(zip(mask, value)):
        if not slot:
            ok = char == want
        elif want == "9":
            ok = "0" <= char <= "9"
        elif want == "A":
            ok = char.isalpha()
        else:
            ok = True
        if not ok:
            return index
    return None


def _describe_slot(slot: bool, want: str) -> str:
    if not slot:
        return repr(want)
    return {"9": "a digit", "A": "a letter"}.get(want, "any character")


def _range_issue(spec: FieldSpec, number: Decimal, shown: str) -> Issue | None:
    lo, hi = spec.min, spec.max
    if lo is not None and number < lo or hi is not None and number > hi:
        if lo is not None and hi is not None:
            return Issue("range", f"Must be between {lo:f} and {hi:f}; got {shown}.")
        if lo is not None:
            return Issue("range", f"Must be at least {lo:f}; got {shown}.")
        return Issue("range", f"Must be at most {hi:f}; got {shown}.")
    return None


def _choice_list(choices: tuple[str, ...], limit: int = 12) -> str:
    if len(choices) <= limit:
        return ", ".join(choices)
    return ", ".join(choices[:limit]) + f" \u2026 ({len(choices)} codes)"


def validate(spec: FieldSpec, value: str, flag: str = "") -> tuple[Issue, ...]:
    """Issues with a prepared value, each a sentence naming what is wrong and what is expected.

    A field marked illegible or blank has no issues; an empty field only if it is required.
    """
    if flag:
        return ()
    if value == "":
        if spec.required:
            return (Issue("required", "This field is required; key it, or mark it blank or illegible."),)
        return ()
    rules = _compiled(spec)
    kind = spec.type
    issues: list[Issue] = []
    shape_ok = True  # a check digit is only worth checking on a value of the right shape

    mask = rules.mask_text
    unit = "digit" if kind == "digits" and not rules.mask_literals else "character"
    limit = spec.max_length
    size = len(value)
    if limit is not None and size > limit:
        issues.append(Issue("length", f"Too long: at most {_plural(limit, unit)}, got {size}."))
        shape_ok = False
    elif spec.fixed_length and limit is not None and size < limit:
        expected = f"the form {mask} ({_plural(limit, unit)})" if mask else _plural(limit, unit)
        issues.append(Issue("fixed_length", f"Expected {expected}, got {size}."))
        shape_ok = False
    if mask and shape_ok:
        if size != len(mask):
            issues.append(Issue("mask", f"Expected the form {mask} ({len(mask)} characters), got {size}."))
            shape_ok = False
        else:
            at = _mask_mismatch(rules.mask, value)
            if at is not None:
                issues.append(Issue(
                    "mask",
                    f"Expected the form {mask}: position {at + 1} should be "
                    f"{_describe_slot(*rules.mask[at])}, not {value[at]!r}.",
                ))
                shape_ok = False

    if kind == "name":
        bad = _bad_name_char(value)
        if bad is not None:
            issues.append(Issue(
                "type", f"A name may hold only letters, spaces, hyphens, apostrophes and full stops, not {bad!r}."
            ))
    elif kind == "digits":
        allowed = rules.mask_literals
        bad = next((c for c in value if not ("0" <= c <= "9" or c in allowed)), None)
        if bad is not None:
            issues.append(Issue("type", f"Only digits 0-9 are allowed here, not {bad!r}."))
            shape_ok = False
    elif kind == "integer":
        canonical = _canonical_integer(value)
        if canonical is None:
            issues.append(Issue("type", f"Expected a whole number such as 12 or 1,200; got {_show(value)}."))
        else:
            found = _range_issue(spec, Decimal(canonical), value)
            if found:
                issues.append(found)
    elif kind in ("decimal", "money"):
        parts = _split_number(value)
        example = "1,200.00" if spec.decimals == 2 else "12"
        if parts is None:
            issues.append(Issue("type", f"Expected an amount such as {example}; got {_show(value)}."))
        else:
            negative, whole, frac = parts
            if len(frac) > spec.decimals:
                places = _plural(spec.decimals, "decimal place")
                allowed_text = f"at most {places}" if spec.decimals else "no decimal places"
                issues.append(Issue("type", f"Expected {allowed_text}; got {len(frac)} in {_show(value)}."))
            number = Decimal(("-" if negative else "") + (whole or "0") + ("." + frac if frac else ""))
            found = _range_issue(spec, number, value)
            if found:
                issues.append(found)
    elif kind == "date":
        assert rules.date is not None
        parsed = rules.date.parse(value)
        if parsed is None:
            issues.append(Issue("date", f"Expected a date as {rules.date.text}; got {_show(value)}."))
        elif not _real_date(*parsed):
            issues.append(Issue("date", f"There is no such date as {value} ({rules.date.text})."))
    elif kind == "choice":
        if _choice_canon(spec)(value) not in rules.choice_lookup:
            issues.append(Issue("choice", f"{_show(value)} is not one of the codes: {_choice_list(spec.choices)}."))
    elif kind == "checkbox":
        if value.upper() not in CHECKED_WORDS and value.upper() not in UNCHECKED_WORDS:
            issues.append(Issue("type", f"Key X for a ticked box or leave it empty; got {_show(value)}."))

    if rules.pattern is not None and rules.pattern.fullmatch(value) is None:
        issues.append(Issue("pattern", f"{_show(value)} does not have the expected form ({spec.pattern})."))
        shape_ok = False

    if spec.check_digit and shape_ok:
        digits = value.translate({ord(c): None for c in rules.mask_literals}) if rules.mask_literals else value
        if spec.check_digit == "npi":
            if len(digits) != 10 or not _is_ascii_digits(digits):
                issues.append(Issue("check_digit", f"An NPI is 10 digits; got {_show(value)}."))
            elif not npi_valid(digits):
                issues.append(Issue(
                    "check_digit",
                    f"Not a valid NPI: the last digit should be {npi_check_digit(digits[:9])}; "
                    "check for a mistyped or swapped digit.",
                ))
        elif spec.check_digit == "luhn":
            if not _is_ascii_digits(digits):
                issues.append(Issue("check_digit", f"A check-digit number has digits only; got {_show(value)}."))
            elif not luhn_valid(digits):
                issues.append(Issue(
                    "check_digit",
                    f"The check digit does not match (the last digit should be {luhn_check_digit(digits[:-1])}); "
                    "check for a mistyped or swapped digit.",
                ))
    return tuple(issues)


# --- normalize and export ---------------------------------------------------------------------


def normalize(spec: FieldSpec, value: str, flag: str = "") -> str:
    """The comparison key of a keyed value: two keyings agree iff their keys are equal.

    Idempotent: a key normalises to itself (flag tokens start with NUL and are returned as-is).
    """
    if flag:
        return flag_token(flag)
    if not value:
        return ""
    if value[0] == "\x00":
        return value
    rules = _CACHE.get(id(spec))
    if rules is None or rules.spec is not spec:
        rules = _compiled(spec)
    return rules.normalize(value)


def export_value(spec: FieldSpec, value: str, flag: str = "") -> str:
    """The clean exported value: ISO dates, canonical numbers, digits only, choice codes, "X"/""
    for checkboxes, prepared text for text and names. Flagged fields export as ""."""
    if flag or not value:
        return ""
    return _compiled(spec).export(value)
