"""Ground truth for demo documents: plausible values for every field of a template.

Values are drawn from a seeded `random.Random`, so the same seed gives the same documents, and
are written the way a careful keyer keys them (the prepared form: upper case where the field
says so, dates in the field's format, money with its decimals), so a value keyed exactly as
printed compares equal to the truth. Every value passes the field's own validation; a test
checks that for thousands of documents.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from workstation.fields import luhn_check_digit, npi_check_digit
from workstation.templates import FieldSpec, FormTemplate, SectionSpec, row_path

FIRST_NAMES = (
    "JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID", "ELIZABETH",
    "WILLIAM", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA", "THOMAS", "KAREN", "CARLOS", "NGOC",
    "ANA", "LUIS", "MEI", "PRIYA", "OLUWASEUN", "FATIMA", "DMITRI", "SIOBHAN", "JOSE", "MARIA", "ZOE",
    "ANNE-MARIE", "JEAN-PAUL", "KATHLEEN", "TREVOR", "LATOYA", "DESHAWN", "HIROSHI", "INGRID", "RAMON",
)
LAST_NAMES = (
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ", "MARTINEZ",
    "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR", "MOORE", "JACKSON", "NGUYEN",
    "O'BRIEN", "MCALLISTER", "DE LA CRUZ", "VAN DYKE", "SMITH-JONES", "D'AMICO", "OKAFOR", "PATEL", "KOWALSKI",
    "SCHMIDT", "YAMAMOTO", "FITZGERALD", "ABERNATHY", "LEE", "KIM", "CHEN", "MULLER", "IVANOVA", "ST JOHN",
)
STREETS = (
    "MAIN ST", "OAK AVE", "MAPLE DR", "CEDAR LN", "WINDING CREEK RD", "PARK BLVD", "LAKEVIEW TER",
    "HIGHLAND AVE", "MILL POND RD", "SUNSET CT", "WASHINGTON ST", "ELM ST", "RIVER RD", "CHURCH ST",
)
CITIES = (
    ("SPRINGFIELD", "IL"), ("COLUMBUS", "OH"), ("AUSTIN", "TX"), ("FRESNO", "CA"), ("TAMPA", "FL"),
    ("MADISON", "WI"), ("BOISE", "ID"), ("RALEIGH", "NC"), ("TUCSON", "AZ"), ("ALBANY", "NY"),
    ("PORTLAND", "OR"), ("DAYTON", "OH"), ("AURORA", "CO"), ("PROVO", "UT"), ("ERIE", "PA"),
    ("SAVANNAH", "GA"), ("LOWELL", "MA"), ("RENO", "NV"), ("OMAHA", "NE"), ("BANGOR", "ME"),
)
STORES = ("BEST BUY", "WALMART", "TARGET", "COSTCO", "FRY'S", "MICRO CENTER", "OFFICE DEPOT", "STAPLES")
DIAGNOSES = ("J06.9", "R05.9", "E11.9", "I10", "M54.5", "K21.9", "J45.909", "N39.0", "Z00.00", "F41.1",
             "E78.5", "M25.561", "R51.9", "L03.115", "H10.33")
CPT_CODES = ("99213", "99214", "99203", "93000", "85025", "80053", "71046", "36415", "90471", "97110",
             "J3420", "G0439")
MODIFIERS = ("25", "59", "76", "LT", "RT", "GT")
COMMENTS = (
    "STAFF WERE FRIENDLY", "WAIT WAS TOO LONG", "PARKING IS HARD TO FIND", "VERY CLEAN",
    "DOCTOR EXPLAINED EVERYTHING", "PHONE LINE ALWAYS BUSY", "WILL COME BACK", "",
)
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com", "mail.net")


@dataclass
class TruthDocument:
    """What is printed on one demo document: its field values and its line-item row counts."""

    seq: int
    source_name: str
    values: dict[str, str]
    rows: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "source_name": self.source_name, "rows": self.rows,
                           "values": self.values}, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> "TruthDocument":
        raw = json.loads(line)
        return cls(raw["seq"], raw["source_name"], raw["values"], raw.get("rows", {}))


def _date(rng: random.Random, fmt: str, start: dt.date, end: dt.date) -> str:
    day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    return (fmt.replace("YYYY", f"{day.year:04d}").replace("YY", f"{day.year % 100:02d}")
            .replace("MM", f"{day.month:02d}").replace("DD", f"{day.day:02d}"))


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


class _Values:
    """Plausible values by field key, with a fallback by field type."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng = rng
        self.today = today
        self.city, self.state = rng.choice(CITIES)
        self.first = rng.choice(FIRST_NAMES)
        self.last = rng.choice(LAST_NAMES)

    def value(self, spec: FieldSpec) -> str:
        rng, key = self.rng, spec.key
        special = getattr(self, "_" + key, None)
        if special is not None:
            return str(special(spec))
        if spec.type == "name":
            return self.first if "first" in key else self.last
        if spec.type == "date":
            return _date(rng, spec.date_format, self.today - dt.timedelta(days=400), self.today)
        if spec.type == "choice":
            return rng.choice(spec.choices)
        if spec.type == "checkbox":
            return "X" if rng.random() < 0.4 else ""
        if spec.type == "digits":
            n = spec.max_length or 6
            return _digits(rng, n) if spec.fixed_length else _digits(rng, rng.randint(1, n))
        if spec.type == "integer":
            low, high = int(spec.min or 0), int(min(spec.max or 99, 99))
            return str(rng.randint(low, high))
        if spec.type == "money":
            high = float(min(spec.max or 999, 999))
            return f"{rng.uniform(float(spec.min or 0) + 1, high):.{spec.decimals}f}"
        return "".join(rng.choice(string.ascii_uppercase) for _ in range(min(spec.max_length or 8, 8)))

    # -- by key -----------------------------------------------------------------------------
    def _insured_id(self, spec: FieldSpec) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase) for _ in range(3)) + _digits(self.rng, 7)

    def _patient_dob(self, spec: FieldSpec) -> str:
        return _date(self.rng, spec.date_format, dt.date(1935, 1, 1), dt.date(2015, 12, 31))

    def _patient_sex(self, spec: FieldSpec) -> str:
        return self.rng.choice("MMMFFFFU")

    def _street(self, spec: FieldSpec) -> str:
        number = self.rng.randint(1, 9999)
        apt = f" APT {self.rng.randint(1, 40)}" if self.rng.random() < 0.2 else ""
        return f"{number} {self.rng.choice(STREETS)}{apt}"

    _patient_address = _street

    def _city(self, spec: FieldSpec) -> str:
        return self.city

    _patient_city = _city

    def _state(self, spec: FieldSpec) -> str:
        return self.state

    _patient_state = _state

    def _zip(self, spec: FieldSpec) -> str:
        return _digits(self.rng, 5)

    _patient_zip = _zip

    def _diagnosis_1(self, spec: FieldSpec) -> str:
        return self.rng.choice(DIAGNOSES)

    def _diagnosis_2(self, spec: FieldSpec) -> str:
        return self.rng.choice(DIAGNOSES) if self.rng.random() < 0.6 else ""

    def _place(self, spec: FieldSpec) -> str:
        return self.rng.choice(("11", "11", "11", "22", "21", "02"))

    def _cpt(self, spec: FieldSpec) -> str:
        return self.rng.choice(CPT_CODES)

    def _modifier(self, spec: FieldSpec) -> str:
        return self.rng.choice(MODIFIERS) if self.rng.random() < 0.3 else ""

    def _pointer(self, spec: FieldSpec) -> str:
        return self.rng.choice(("A", "A", "B", "AB"))

    def _charge(self, spec: FieldSpec) -> str:
        return f"{self.rng.choice((45, 75, 110, 145, 180, 220, 310, 19.5, 62.25)) * self.rng.choice((1, 1, 1, 2)):.2f}"

    def _units(self, spec: FieldSpec) -> str:
        return str(self.rng.choice((1, 1, 1, 1, 2, 3)))

    def _billing_npi(self, spec: FieldSpec) -> str:
        first9 = self.rng.choice("12") + _digits(self.rng, 8)
        return first9 + npi_check_digit(first9)

    def _federal_tax_id(self, spec: FieldSpec) -> str:
        return _digits(self.rng, 9)

    def _email(self, spec: FieldSpec) -> str:
        if self.rng.random() < 0.25:
            return ""
        user = (self.first[0] + self.last).lower().replace("'", "").replace(" ", "").replace("-", "")
        return f"{user}{self.rng.randint(1, 99)}@{self.rng.choice(EMAIL_DOMAINS)}"

    def _phone(self, spec: FieldSpec) -> str:
        return str(self.rng.randint(201, 989)) + _digits(self.rng, 7)

    def _purchase_amount(self, spec: FieldSpec) -> str:
        return f"{self.rng.choice((49.99, 89.99, 129.0, 249.5, 399.99, 599.0, 1199.99)):.2f}"

    def _store_name(self, spec: FieldSpec) -> str:
        return self.rng.choice(STORES)

    def _receipt_number(self, spec: FieldSpec) -> str:
        return f"{_digits(self.rng, 4)}-{_digits(self.rng, 6)}"

    def _serial_number(self, spec: FieldSpec) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase) for _ in range(2)) + _digits(self.rng, 10)

    def _card_last4(self, spec: FieldSpec) -> str:
        return _digits(self.rng, 4)

    def _respondent_id(self, spec: FieldSpec) -> str:
        first7 = _digits(self.rng, 7)
        return first7 + luhn_check_digit(first7)

    def _age(self, spec: FieldSpec) -> str:
        return str(self.rng.randint(18, 92))

    def _visits_per_year(self, spec: FieldSpec) -> str:
        return str(self.rng.choice((0, 1, 1, 2, 2, 3, 4, 6, 12)))

    def _comments(self, spec: FieldSpec) -> str:
        return self.rng.choice(COMMENTS)


def truth_documents(template: FormTemplate, count: int, *, seed: int, prefix: str,
                    today: dt.date = dt.date(2026, 11, 2)) -> Iterator[TruthDocument]:
    """`count` documents for `template`, the same for the same seed."""
    rng = random.Random(f"{seed}:{template.name}:{prefix}")
    for seq in range(1, count + 1):
        values = _Values(rng, today)
        out: dict[str, str] = {}
        rows: dict[str, int] = {}
        for item in template.layout():
            if isinstance(item, SectionSpec):
                n = rng.randint(item.min_rows, min(item.max_rows, item.min_rows + 3))
                rows[item.key] = n
                for row in range(1, n + 1):
                    for spec in item.fields:
                        out[row_path(item.key, row, spec.key)] = values.value(spec)
            else:
                out[item.key] = values.value(item)
        _fix_totals(template, out, rows)
        yield TruthDocument(seq, f"{prefix}-{seq:05d}.tif", out, rows)


def _fix_totals(template: FormTemplate, values: dict[str, str], rows: dict[str, int]) -> None:
    """A claim's total is the sum of its line charges, as on a real form."""
    if "total_charge" in values and "lines" in rows:
        total = sum(float(values[row_path("lines", r, "charge")]) * int(values[row_path("lines", r, "units")])
                    for r in range(1, rows["lines"] + 1))
        values["total_charge"] = f"{total:.2f}"


def write_truth(path: Path, documents: list[TruthDocument]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text("".join(d.to_json() + "\n" for d in documents), encoding="utf-8")
    tmp.replace(path)


def load_truth(path: Path) -> list[TruthDocument]:
    with path.open(encoding="utf-8") as handle:
        return [TruthDocument.from_json(line) for line in handle if line.strip()]
