"""Form templates: TOML files loaded into frozen dataclasses.

A template describes one form: its fields in keying order, repeating sections (line items), where
each field sits on the scan (a zone in page fractions) and what happens to a mismatch. The format:

    [template]
    name = "rebate"             # identifier, letters/digits/underscore
    version = 1
    title = "Mail-in rebate form"
    pages = 1
    mismatch_policy = "third_key"   # or "qa"

    [[fields]]
    key = "last_name"
    label = "Last name"
    type = "name"               # text name digits integer decimal money date choice checkbox
    length = 30                 # maximum length (characters)
    fixed_length = false        # true: exactly `length`, the keying form auto-advances when full
    mask = ""                   # 9 = digit, A = letter, X = any; other characters are literals
    case = "upper"              # upper | lower | keep
    required = true
    pattern = ""                # a regular expression the whole value must match
    min = 0                     # range, for integer/decimal/money (dates: "MM/DD/YYYY" text)
    max = 100
    choices = ["A", "B"]        # code list for `choice`; or a table { A = "Apple", B = "Banana" }
    check_digit = "npi"         # "" | luhn | npi
    format = "MM/DD/YYYY"       # date format: MM DD YYYY YY in any order with / - . separators
    decimals = 2                # decimal/money
    help = "As printed in box 2"
    sensitive = false           # masked outside keying (SSN, card numbers)
    zone = { page = 1, x = 0.10, y = 0.20, w = 0.35, h = 0.03 }

    [[sections]]                # a repeating group: line items
    key = "lines"
    label = "Service lines"
    after = "total_charge"      # placed after this field in the form; default: at the end
    min_rows = 1
    max_rows = 6
    row_step = 0.034            # page fraction between rows; zones below are for row 1
    [[sections.fields]]
    key = "cpt"
    ...

A field inside a section is addressed by the path `section[row].key`, rows counted from 1
(`lines[2].cpt`); a top-level field by its key. A broken template raises `TemplateError` naming
the file, the line and the field.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from workstation.errors import TemplateError

FIELD_TYPES = ("text", "name", "digits", "integer", "decimal", "money", "date", "choice", "checkbox")
CASES = ("upper", "lower", "keep")
POLICIES = ("third_key", "qa")
CHECK_DIGITS = ("", "luhn", "npi")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PATH_RE = re.compile(r"^(?:(?P<section>[a-z][a-z0-9_]*)\[(?P<row>[1-9][0-9]*)\]\.)?(?P<key>[a-z][a-z0-9_]*)$")
_DATE_TOKENS = re.compile(r"YYYY|YY|MM|DD")


@dataclass(frozen=True)
class Zone:
    """A rectangle on a page in fractions of the page's width and height (0..1)."""

    page: int
    x: float
    y: float
    w: float
    h: float

    def shifted(self, dy: float) -> "Zone":
        return Zone(self.page, self.x, self.y + dy, self.w, self.h)

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels of a page of the given size."""
        return (
            round(self.x * width),
            round(self.y * height),
            round((self.x + self.w) * width),
            round((self.y + self.h) * height),
        )


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str = "text"
    length: int | None = None
    fixed_length: bool = False
    mask: str = ""
    case: str = "keep"
    required: bool = False
    pattern: str = ""
    min: Decimal | None = None
    max: Decimal | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[tuple[str, str], ...] = ()
    check_digit: str = ""
    date_format: str = "MM/DD/YYYY"
    decimals: int = 2
    help: str = ""
    sensitive: bool = False
    zone: Zone | None = None
    line: int = 0

    @property
    def max_length(self) -> int | None:
        """The longest value the field accepts: `length`, or the mask's length."""
        if self.length is not None:
            return self.length
        if self.mask:
            return len(self.mask)
        return None

    @property
    def auto_advance_at(self) -> int | None:
        """The length at which keying moves on by itself, for fixed-length fields."""
        if self.fixed_length:
            return self.max_length
        return None


@dataclass(frozen=True)
class SectionSpec:
    key: str
    label: str
    fields: tuple[FieldSpec, ...]
    min_rows: int = 0
    max_rows: int = 10
    row_step: float = 0.0
    after: str = ""
    line: int = 0

    def field(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(key)


FormItem = FieldSpec | SectionSpec


@dataclass(frozen=True)
class FieldPath:
    """A parsed field path: `key` or `section[row].key`."""

    key: str
    section: str = ""
    row: int = 0

    def __str__(self) -> str:
        if self.section:
            return f"{self.section}[{self.row}].{self.key}"
        return self.key


def parse_path(path: str) -> FieldPath:
    match = _PATH_RE.match(path)
    if not match:
        raise ValueError(f"not a field path: {path!r}")
    if match["section"]:
        return FieldPath(match["key"], match["section"], int(match["row"]))
    return FieldPath(match["key"])


def row_path(section: str, row: int, key: str) -> str:
    return f"{section}[{row}].{key}"


@dataclass(frozen=True)
class FormTemplate:
    name: str
    version: int
    title: str
    pages: int
    mismatch_policy: str
    fields: tuple[FieldSpec, ...]
    sections: tuple[SectionSpec, ...] = ()
    source_name: str = ""
    source_text: str = field(default="", repr=False, compare=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source_text.encode("utf-8")).hexdigest()

    def layout(self) -> tuple[FormItem, ...]:
        """Fields and sections in the order the form shows and keys them."""
        items: list[FormItem] = []
        placed: set[str] = set()
        for spec in self.fields:
            items.append(spec)
            for section in self.sections:
                if section.after == spec.key:
                    items.append(section)
                    placed.add(section.key)
        items.extend(s for s in self.sections if s.key not in placed)
        return tuple(items)

    def section(self, key: str) -> SectionSpec:
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def field_paths(self, rows: dict[str, int] | None = None) -> list[str]:
        """Every field path in keying order, with `rows[section]` rows per section
        (default: the section's `min_rows`)."""
        rows = rows or {}
        paths: list[str] = []
        for item in self.layout():
            if isinstance(item, FieldSpec):
                paths.append(item.key)
            else:
                count = rows.get(item.key, item.min_rows)
                for row in range(1, count + 1):
                    paths.extend(row_path(item.key, row, spec.key) for spec in item.fields)
        return paths

    def spec(self, path: str | FieldPath) -> FieldSpec:
        """The field definition behind a path (any row of a section)."""
        parsed = parse_path(path) if isinstance(path, str) else path
        try:
            if parsed.section:
                return self.section(parsed.section).field(parsed.key)
            for spec in self.fields:
                if spec.key == parsed.key:
                    return spec
        except KeyError:
            pass
        raise KeyError(f"{self.name} has no field {path}")

    def zone(self, path: str | FieldPath) -> Zone | None:
        """Where the field sits on the scan, shifted down for later rows of a section."""
        parsed = parse_path(path) if isinstance(path, str) else path
        spec = self.spec(parsed)
        if spec.zone is None or not parsed.section:
            return spec.zone
        step = self.section(parsed.section).row_step
        return spec.zone.shifted(step * (parsed.row - 1))


# --- loading ---------------------------------------------------------------------------------


class _Locator:
    """Finds the source line of a field's `key = "..."` line, for error messages."""

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()

    def line_of_key(self, key: str, start: int = 0) -> int:
        pattern = re.compile(r'^\s*key\s*=\s*["\']' + re.escape(str(key)) + r'["\']')
        for number, line in enumerate(self._lines[start:], start=start + 1):
            if pattern.match(line):
                return number
        return 0

    def line_of(self, regex: str) -> int:
        pattern = re.compile(regex)
        for number, line in enumerate(self._lines, start=1):
            if pattern.search(line):
                return number
        return 0


class _Builder:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.where = _Locator(text)

    def fail(self, message: str, *, line: int = 0, field_key: str = "") -> TemplateError:
        parts = [self.source]
        if line:
            parts.append(f"line {line}")
        if field_key:
            parts.append(f"field '{field_key}'")
        return TemplateError(
            f"Template {', '.join(parts)}: {message}",
            "Fix the template file and load it again.",
        )

    def build(self) -> FormTemplate:
        try:
            raw = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib's message ends with "(at line N, column M)".
            match = re.search(r"line (\d+)", str(exc))
            raise self.fail(f"not valid TOML: {exc}", line=int(match[1]) if match else 0) from exc
        head = raw.get("template")
        if not isinstance(head, dict):
            raise self.fail("the [template] table is missing")
        head_line = self.where.line_of(r"^\s*\[template\]")
        unknown = set(head) - {"name", "version", "title", "pages", "mismatch_policy"}
        if unknown:
            raise self.fail(f"unknown [template] setting(s): {', '.join(sorted(unknown))}", line=head_line)
        name = head.get("name")
        if not isinstance(name, str) or not _KEY_RE.match(name):
            raise self.fail("template name must be lower-case letters, digits and _", line=head_line)
        version = head.get("version", 1)
        pages = head.get("pages", 1)
        if not isinstance(version, int) or version < 1:
            raise self.fail("version must be a positive integer", line=head_line)
        if not isinstance(pages, int) or pages < 1:
            raise self.fail("pages must be a positive integer", line=head_line)
        policy = head.get("mismatch_policy", "third_key")
        if policy not in POLICIES:
            raise self.fail(f"mismatch_policy must be one of {', '.join(POLICIES)}, not {policy!r}", line=head_line)

        unknown_top = set(raw) - {"template", "fields", "sections"}
        if unknown_top:
            raise self.fail(f"unknown table(s): {', '.join(sorted(unknown_top))}")
        raw_fields = raw.get("fields", [])
        raw_sections = raw.get("sections", [])
        if not isinstance(raw_fields, list) or not isinstance(raw_sections, list):
            raise self.fail("use [[fields]] and [[sections]] arrays of tables")
        fields = tuple(self.field(item, pages) for item in raw_fields)
        sections = tuple(self.section(item, pages, fields) for item in raw_sections)
        if not fields and not sections:
            raise self.fail("the template has no fields")
        seen: dict[str, int] = {}
        for key, line in [(f.key, f.line) for f in fields] + [(s.key, s.line) for s in sections]:
            if key in seen:
                raise self.fail(f"key used twice (first on line {seen[key]})", line=line, field_key=key)
            seen[key] = line
        return FormTemplate(
            name=name,
            version=version,
            title=str(head.get("title", name)),
            pages=pages,
            mismatch_policy=policy,
            fields=fields,
            sections=sections,
            source_name=self.source,
            source_text=self.text,
        )

    _FIELD_KEYS = {
        "key", "label", "type", "length", "fixed_length", "mask", "case", "required", "pattern",
        "min", "max", "choices", "check_digit", "format", "decimals", "help", "sensitive", "zone",
    }

    def field(self, raw: Any, pages: int, after_line: int = 0) -> FieldSpec:
        if not isinstance(raw, dict):
            raise self.fail("each [[fields]] entry must be a table")
        key = raw.get("key")
        line = self.where.line_of_key(key, after_line) if isinstance(key, str) else 0
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise self.fail(f"field key {key!r} must be lower-case letters, digits and _", line=line)

        def bad(message: str) -> TemplateError:
            return self.fail(message, line=line, field_key=key)

        unknown = set(raw) - self._FIELD_KEYS
        if unknown:
            raise bad(f"unknown setting(s) {', '.join(sorted(unknown))}")
        ftype = raw.get("type", "text")
        if ftype not in FIELD_TYPES:
            raise bad(f"type {ftype!r} is not one of {', '.join(FIELD_TYPES)}")
        length = raw.get("length")
        if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 1):
            raise bad("length must be a positive integer")
        mask = raw.get("mask", "")
        if not isinstance(mask, str):
            raise bad("mask must be text")
        fixed = raw.get("fixed_length", False)
        if not isinstance(fixed, bool):
            raise bad("fixed_length must be true or false")
        if fixed and length is None and not mask:
            raise bad("fixed_length needs a length or a mask")
        if mask and length is not None and length != len(mask):
            raise bad(f"length {length} does not match the mask's {len(mask)} characters")
        case = raw.get("case", "upper" if ftype == "name" else "keep")
        if case not in CASES:
            raise bad(f"case must be one of {', '.join(CASES)}")
        pattern = raw.get("pattern", "")
        if not isinstance(pattern, str):
            raise bad("pattern must be text")
        if pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise bad(f"pattern is not a valid regular expression: {exc}") from exc
        lo = self._number(raw, "min", bad) if ftype in ("integer", "decimal", "money") else None
        hi = self._number(raw, "max", bad) if ftype in ("integer", "decimal", "money") else None
        if lo is not None and hi is not None and lo > hi:
            raise bad("min is larger than max")
        choices: tuple[str, ...] = ()
        labels: tuple[tuple[str, str], ...] = ()
        raw_choices = raw.get("choices")
        if ftype == "choice":
            if isinstance(raw_choices, list) and raw_choices and all(isinstance(c, str) for c in raw_choices):
                choices = tuple(raw_choices)
            elif isinstance(raw_choices, dict) and raw_choices:
                choices = tuple(str(c) for c in raw_choices)
                labels = tuple((str(c), str(v)) for c, v in raw_choices.items())
            else:
                raise bad("a choice field needs a non-empty list or table of codes in `choices`")
        elif raw_choices is not None:
            raise bad("`choices` is only for fields of type choice")
        check = raw.get("check_digit", "")
        if check not in CHECK_DIGITS:
            raise bad(f"check_digit must be one of: luhn, npi (not {check!r})")
        date_format = raw.get("format", "MM/DD/YYYY")
        if not isinstance(date_format, str):
            raise bad("format must be text such as \"MM/DD/YYYY\"")
        if ftype == "date":
            tokens = _DATE_TOKENS.findall(date_format)
            if sorted(t[0] for t in tokens) != ["D", "M", "Y"] or _DATE_TOKENS.sub("", date_format).strip("/-. "):
                raise bad(f"date format {date_format!r} must use MM, DD and YYYY (or YY) with / - . separators")
        decimals = raw.get("decimals", 2)
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
            raise bad("decimals must be an integer from 0 to 6")
        zone = self._zone(raw.get("zone"), pages, bad)
        label = raw.get("label", key.replace("_", " ").capitalize())
        for flag in ("required", "sensitive"):
            if not isinstance(raw.get(flag, False), bool):
                raise bad(f"{flag} must be true or false")
        return FieldSpec(
            key=key,
            label=str(label),
            type=ftype,
            length=length,
            fixed_length=fixed,
            mask=mask,
            case=case,
            required=raw.get("required", False),
            pattern=pattern,
            min=lo,
            max=hi,
            choices=choices,
            choice_labels=labels,
            check_digit=check,
            date_format=date_format,
            decimals=decimals,
            help=str(raw.get("help", "")),
            sensitive=raw.get("sensitive", False),
            zone=zone,
            line=line,
        )

    @staticmethod
    def _number(raw: dict[str, Any], name: str, bad: Any) -> Decimal | None:
        value = raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad(f"{name} must be a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise bad(f"{name} must be a number") from exc
        if not number.is_finite():  # nan and inf cannot be compared with a keyed value
            raise bad(f"{name} must be a finite number")
        return number

    @staticmethod
    def _zone(raw: Any, pages: int, bad: Any) -> Zone | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or set(raw) - {"page", "x", "y", "w", "h"}:
            raise bad("zone must be a table { page, x, y, w, h }")
        try:
            zone = Zone(int(raw.get("page", 1)), float(raw["x"]), float(raw["y"]), float(raw["w"]), float(raw["h"]))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise bad("zone needs numbers x, y, w, h (fractions of the page)") from exc
        if not 1 <= zone.page <= pages:
            raise bad(f"zone page {zone.page} is outside the template's {pages} page(s)")
        if not (0 <= zone.x < 1 and 0 <= zone.y < 1 and 0 < zone.w <= 1 and 0 < zone.h <= 1):
            raise bad("zone x, y, w, h must be fractions of the page between 0 and 1")
        if zone.x + zone.w > 1.0001 or zone.y + zone.h > 1.0001:
            raise bad("zone reaches past the edge of the page")
        return zone

    def section(self, raw: Any, pages: int, fields: tuple[FieldSpec, ...]) -> SectionSpec:
        if not isinstance(raw, dict):
            raise self.fail("each [[sections]] entry must be a table")
        key = raw.get("key")
        line = self.where.line_of_key(key) if isinstance(key, str) else 0
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise self.fail(f"section key {key!r} must be lower-case letters, digits and _", line=line)
        unknown = set(raw) - {"key", "label", "fields", "min_rows", "max_rows", "row_step", "after"}
        if unknown:
            raise self.fail(f"unknown section setting(s) {', '.join(sorted(unknown))}", line=line, field_key=key)
        raw_fields = raw.get("fields")
        if not isinstance(raw_fields, list) or not raw_fields:
            raise self.fail("a section needs [[sections.fields]]", line=line, field_key=key)
        specs = tuple(self.field(item, pages, after_line=line) for item in raw_fields)
        keys = [s.key for s in specs]
        for spec in specs:
            if keys.count(spec.key) > 1:
                raise self.fail("key used twice in the section", line=spec.line, field_key=spec.key)
        min_rows = raw.get("min_rows", 0)
        max_rows = raw.get("max_rows", 10)
        if not isinstance(min_rows, int) or not isinstance(max_rows, int) or not 0 <= min_rows <= max_rows or max_rows < 1:
            raise self.fail("min_rows and max_rows must satisfy 0 <= min_rows <= max_rows, max_rows >= 1", line=line, field_key=key)
        after = raw.get("after", "")
        if after and after not in {f.key for f in fields}:
            raise self.fail(f"`after` names {after!r}, which is not a field", line=line, field_key=key)
        row_step = raw.get("row_step", 0.0)
        if not isinstance(row_step, (int, float)) or isinstance(row_step, bool) or not 0 <= row_step < 1:
            raise self.fail("row_step must be a non-negative fraction of the page", line=line, field_key=key)
        for spec in specs:
            if spec.zone is not None and spec.zone.y + spec.zone.h + row_step * (max_rows - 1) > 1.0001:
                raise self.fail("the last row's zone would fall off the page", line=spec.line, field_key=spec.key)
        return SectionSpec(
            key=key,
            label=str(raw.get("label", key.capitalize())),
            fields=specs,
            min_rows=min_rows,
            max_rows=max_rows,
            row_step=float(row_step),
            after=after,
            line=line,
        )


def parse_template(text: str, source: str = "<template>") -> FormTemplate:
    """Parse template TOML text; `source` names it in error messages."""
    return _Builder(text, source).build()


def load_template(path: str | Path) -> FormTemplate:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TemplateError(f"Template file {path} does not exist.", "Check the path.") from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(f"Template {path} is not UTF-8 text.", "Save it as UTF-8 TOML.") from exc
    except OSError as exc:
        raise TemplateError(f"Template {path} cannot be read: {exc.strerror}.", "Check the file.") from exc
    return parse_template(text, str(path))
