"""Random input never crashes the template loader, the field rules or the keying session.

"Crash" means any exception that is not a `KnownError` (which the UI shows as a sentence). The
example counts are bounded so the whole module stays a few seconds long; hypothesis shrinks a
failure to a small reproducer and prints it.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.workstation.localseed import seed_unit
from workstation import fields
from workstation import models as m
from workstation.errors import KnownError, TemplateError
from workstation.keying import KeyingSession
from workstation.resources import sample_template_paths
from workstation.store import Store, open_local
from workstation.templates import FIELD_TYPES, FormTemplate, parse_template

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLES = {path.stem: path.read_text(encoding="utf-8") for path in sample_template_paths()}

# Text a keyer might type or paste: letters, digits, punctuation, SQL, control characters, odd
# Unicode (combining marks, right-to-left, zero-width, lone surrogates from a broken clipboard).
_ODD = ["'", '"', ";", "--", "\\", "%", "_", "\x00", "\x07", "\x1b", "\t", "\r\n", "\u200b", "\ufeff",
        "\u0301", "\u202e", "\ud800", "\udfff", "\U0001f600", "ß", "İ", "ﬁ", "١٢٣"]
keyed_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(_ODD + list("AZaz09 -./,$@")), max_size=30).map("".join),
    st.sampled_from(["'; DROP TABLE field_values;--", "1 OR 1=1", "Robert'); DELETE FROM users;--",
                     "${jndi:ldap://x}", "%s%s%n", "NULL", "\x00" * 5]),
    st.integers(min_value=1, max_value=10_000).map(lambda n: ("1234567890" * 1000)[:n]),
)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def _toml(doc: dict[str, Any]) -> str:
    lines = ["[template]"] + [f"{k} = {_toml_value(v)}" for k, v in doc["template"].items()]
    for item in doc["fields"]:
        lines += ["", "[[fields]]"] + [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    for section in doc["sections"]:
        lines += ["", "[[sections]]"] + [f"{k} = {_toml_value(v)}" for k, v in section.items() if k != "fields"]
        for item in section["fields"]:
            lines += ["[[sections.fields]]"] + [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


scalar = st.one_of(
    st.booleans(), st.integers(min_value=-3, max_value=40), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", "9999", "AAA-99", "XX", "MM/DD/YYYY", "YY.DD.MM", "[A-Z]+", "(",
                                           "luhn", "npi", "upper", "lower", "keep", "01/02/2024", "1,000.00"]),
)
value = st.one_of(scalar, st.lists(scalar, max_size=3), st.dictionaries(st.text(max_size=4), scalar, max_size=3))
zone = st.fixed_dictionaries({"page": st.integers(0, 3), "x": st.floats(-0.5, 1.5), "y": st.floats(-0.5, 1.5),
                              "w": st.floats(-0.1, 1.2), "h": st.floats(-0.1, 1.2)})
good_zone = st.fixed_dictionaries({"page": st.just(1), "x": st.floats(0, 0.5), "y": st.floats(0, 0.5),
                                   "w": st.floats(0.01, 0.5), "h": st.floats(0.01, 0.05)})
# Mostly sensible values, so that many generated templates load and their fields get exercised.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "label": st.text(max_size=20), "help": st.text(max_size=20),
    "length": st.integers(1, 40), "fixed_length": st.booleans(),
    "mask": st.sampled_from(["", "999-99-9999", "AA-9999", "XXXX", "9(9)", "99/99/9999"]),
    "case": st.sampled_from(["upper", "lower", "keep"]), "required": st.booleans(), "sensitive": st.booleans(),
    "pattern": st.sampled_from(["", "[A-Z]+", "\\d{3}", ".*", "[0-9-]+", "(a|b)*"]),
    "min": st.one_of(st.integers(-5, 5), st.floats(-5, 5), st.just("01/01/2000")),
    "max": st.one_of(st.integers(5, 5000), st.floats(5, 5000), st.just("12/31/2030")),
    "choices": st.one_of(st.lists(st.sampled_from(["A", "B", "RB100", "x y", "Ü"]), min_size=1, max_size=4),
                         st.dictionaries(st.sampled_from(["A", "B", "C1"]), st.text(max_size=6), min_size=1)),
    "check_digit": st.sampled_from(["", "luhn", "npi"]),
    "format": st.sampled_from(["MM/DD/YYYY", "DD.MM.YY", "YYYY-MM-DD", "MMDDYYYY"]),
    "decimals": st.integers(0, 6), "zone": good_zone,
}
field_key = st.one_of(st.sampled_from(["a", "b", "name", "amount", "when", "Bad Key", ""]),
                      st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True))


@st.composite
def field_table(draw: st.DrawFn) -> dict[str, Any]:
    wild = draw(st.integers(0, 4)) == 0  # one table in five gets any value for any setting
    key = draw(field_key) if wild else draw(st.from_regex(r"[a-z]{1,3}[0-9]{0,3}", fullmatch=True))
    types = [*FIELD_TYPES, "blob"] if wild else list(FIELD_TYPES)
    item: dict[str, Any] = {"key": key, "type": draw(st.sampled_from(types))}
    settings_ = [*PLAUSIBLE, "colour"] if wild else [s for s in PLAUSIBLE if s not in ("choices", "fixed_length")]
    for setting in draw(st.sets(st.sampled_from(settings_), max_size=5)):
        if wild:
            item[setting] = draw(zone if setting == "zone" else value)
        else:
            item[setting] = draw(PLAUSIBLE[setting])
    if not wild:
        if item["type"] == "choice":
            item["choices"] = draw(PLAUSIBLE["choices"])
        if "mask" in item:
            item.pop("length", None)
            item["fixed_length"] = bool(item["mask"]) and draw(st.booleans())
        if item["type"] not in ("date",):
            item.pop("format", None)
    return item


@st.composite
def template_doc(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 4)) == 0:
        head: dict[str, Any] = {"name": draw(st.sampled_from(["t", "Bad", ""])), "version": draw(scalar),
                                "pages": draw(scalar), "mismatch_policy": draw(scalar)}
    else:
        head = {"name": "t", "version": draw(st.integers(1, 3)), "pages": draw(st.integers(1, 2)),
                "mismatch_policy": draw(st.sampled_from(["qa", "third_key"]))}
    sections = []
    for _ in range(draw(st.integers(0, 1))):
        section: dict[str, Any] = {"key": draw(field_key), "fields": draw(st.lists(field_table(), min_size=1, max_size=2))}
        for setting, good in (("min_rows", st.integers(0, 2)), ("max_rows", st.integers(1, 6)),
                              ("row_step", st.floats(0, 0.05)), ("after", st.just(""))):
            if draw(st.booleans()):
                section[setting] = draw(st.one_of(good, good, good, scalar))
        sections.append(section)
    return {"template": head, "fields": draw(st.lists(field_table(), min_size=1, max_size=4)), "sections": sections}


def _exercise(template: FormTemplate, texts: list[str]) -> None:
    """Every field rule on every field of an accepted template: nothing may raise."""
    for path in template.field_paths():
        spec = template.spec(path)
        for raw in texts:
            prepared = fields.prepare(spec, raw)
            assert fields.prepare(spec, prepared) == prepared, (path, raw)  # idempotent
            fields.validate(spec, prepared)
            fields.export_value(spec, prepared, "")
            for flag in (m.FLAG_NONE, m.FLAG_ILLEGIBLE):
                fields.normalize(spec, prepared, flag)


@FAST
@given(st.text(max_size=400))
def test_any_text_is_a_template_or_a_template_error(text: str) -> None:
    try:
        parse_template(text, "fuzz.toml")
    except TemplateError:
        pass


@FAST
@given(template_doc(), st.lists(keyed_text, min_size=1, max_size=4))
def test_generated_templates_load_or_are_refused_and_their_fields_never_crash(doc: dict[str, Any],
                                                                              texts: list[str]) -> None:
    try:
        template = parse_template(_toml(doc), "fuzz.toml")
    except TemplateError as exc:
        assert "fuzz.toml" in exc.message
        return
    _exercise(template, texts)


@FAST
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_damaged_sample_templates_load_or_name_the_problem(name: str, data: st.DataObject) -> None:
    lines = SAMPLES[name].splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "twice", "value", "garble"]))
        if action == "drop":
            del lines[i]
        elif action == "twice":
            lines.insert(i, lines[i])
        elif action == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + _toml_value(data.draw(scalar))
        else:
            lines[i] = data.draw(st.text(max_size=20))
        if not lines:
            break
    try:
        template = parse_template("\n".join(lines), f"{name}.toml")
    except TemplateError:
        return
    _exercise(template, ["", "12/31/1999", "1,234.50", "A1", "x" * 300])


# --- the keying session ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_local(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'local.sqlite'}")
    yield store
    store.dispose()


command = st.one_of(
    st.tuples(st.just("type"), keyed_text),
    st.tuples(st.sampled_from(["enter", "confirm", "back", "dup", "illegible", "blank", "add_row",
                               "remove_row", "finish", "save", "go_first"]), st.none()),
)


def _run(session: KeyingSession, name: str, arg: Any) -> None:
    if name == "type":
        for _ in range(min(len(arg), 5)):
            session.keystroke()
        session.set_text(arg)
    elif name == "enter":
        session.advance()
    elif name == "confirm":
        session.advance(confirm=True)
    elif name == "back":
        session.back()
    elif name == "dup":
        session.dup()
    elif name == "illegible":
        session.mark_illegible()
    elif name == "blank":
        session.mark_blank()
    elif name in ("add_row", "remove_row"):
        sections = [s.key for s in session.template.sections]
        if sections:
            if name == "add_row":
                session.add_row(sections[0])
            elif session.rows(sections[0]):
                session.remove_row(sections[0], session.rows(sections[0]))
    elif name == "finish":
        session.finish_document()
    elif name == "save":
        session.save_current()
    else:
        session.go_to(0)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(SAMPLES)), st.lists(command, min_size=1, max_size=25))
def test_random_keying_never_crashes_and_what_was_saved_comes_back(local_store: Store, name: str,
                                                                   commands: list[tuple[str, Any]]) -> None:
    unit = seed_unit(local_store, name, documents=2, username=f"k{uuid.uuid4().hex[:8]}")
    session = KeyingSession.open(local_store, unit.unit_id, unit.keyer_id)
    for command_name, arg in commands:
        if session.unit_finished:
            break
        try:
            _run(session, command_name, arg)
        except KnownError:
            pass  # a refused command (row limits, ...) is a sentence for the keyer, not a crash
    if not session.unit_finished:
        session.save_current()
    with local_store.session() as s:
        stored = s.execute(
            select(m.FieldValue.field_path, m.FieldValue.value, m.Entry.document_id)
            .join(m.Entry, m.Entry.id == m.FieldValue.entry_id).where(m.Entry.unit_id == unit.unit_id)
        ).all()
    for path, saved, _doc in stored:
        spec = unit.template.spec(path)
        assert saved == fields.prepare(spec, saved), (path, saved)  # stored as prepared, never raw
        assert not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in saved), (path, saved)
    if session.unit_finished:
        return
    again = KeyingSession.open(local_store, unit.unit_id, unit.keyer_id)  # resume works
    by_path = {(doc, path): saved for path, saved, doc in stored}
    current = (again.document.id, again.path)
    if current in by_path:
        assert again.field().text == by_path[current]


def test_a_long_paste_is_kept_whole_and_sql_is_stored_as_text(tmp_path: Path) -> None:
    local = open_local(f"sqlite:///{tmp_path / 'local.sqlite'}")
    unit = seed_unit(local, "rebate", documents=1)
    session = KeyingSession.open(local, unit.unit_id, unit.keyer_id)
    sql = "O'Hara'); DROP TABLE field_values;--"
    assert session.path == "first_name"
    session.set_text(sql)
    assert session.advance(confirm=True).moved
    paste = "LONG " * 2000  # 10,000 characters into a 30-character field
    session.set_text(paste)
    move = session.advance()
    assert move.warned and any(issue.code == "length" for issue in move.issues)
    assert session.advance(confirm=True).moved  # warned, never trapped
    with local.session() as s:
        values = dict(s.execute(select(m.FieldValue.field_path, m.FieldValue.value)).all())
        assert s.scalar(select(m.FieldValue.id).limit(1)) is not None  # the table is still there
    assert values["first_name"] == sql.upper() or values["first_name"] == sql
    assert values["last_name"] == paste.strip().upper() and len(values["last_name"]) == 9_999
    local.dispose()


# --- what the fuzzing found, kept as plain regression tests --------------------------------------

_BASE = '[template]\nname = "t"\npages = 1\n\n[[fields]]\nkey = "a"\n'


@pytest.mark.parametrize(("setting", "message"), [
    ('type = "date"\nformat = false', "format must be text"),
    ('type = "integer"\nmin = nan\nmax = 5', "min must be a finite number"),
    ('type = "money"\nmax = inf', "max must be a finite number"),
    ("zone = { page = inf, x = 0.1, y = 0.1, w = 0.1, h = 0.1 }", "zone needs numbers"),
    ('type = "decimal"\ndecimals = true', "decimals must be an integer"),
])
def test_odd_settings_are_template_errors_not_crashes(setting: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(_BASE + setting + "\n", "odd.toml")


def test_a_row_step_that_is_not_a_fraction_is_refused() -> None:
    text = _BASE + '\n[[sections]]\nkey = "s"\nrow_step = nan\n[[sections.fields]]\nkey = "b"\n'
    with pytest.raises(TemplateError, match="row_step"):
        parse_template(text, "odd.toml")


def test_half_a_surrogate_pair_becomes_a_visible_replacement_character() -> None:
    spec = parse_template(_BASE, "t.toml").spec("a")
    assert fields.prepare(spec, "AB\ud800C") == "AB\ufffdC"
