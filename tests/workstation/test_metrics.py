"""Metric definitions checked on hand-made data whose right answers are worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy.orm import Session

from workstation import metrics
from workstation import models as m
from workstation.catalog import register_template
from workstation.cli import main
from workstation.resources import resource_path
from workstation.store import Store
from workstation.templates import load_template

UTC = dt.timezone.utc


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


class Floor:
    """Two documents keyed by alice (pass 1) and bob (pass 2), a third still in progress."""

    def __init__(self, s: Session, template_name: str = "rebate") -> None:
        tpl = register_template(s, load_template(resource_path("templates", f"{template_name}.toml")))
        self.batch = m.Batch(name=f"b-{uuid.uuid4().hex[:6]}", template_id=tpl.id)
        self.alice = m.User(username="alice", role="keyer", password_hash="-")
        self.bob = m.User(username="bob", role="keyer", password_hash="-")
        s.add_all([self.batch, self.alice, self.bob])
        s.flush()
        self.docs = [m.Document(batch_id=self.batch.id, seq=n) for n in (1, 2, 3)]
        s.add_all(self.docs)
        s.flush()
        self.s = s
        self.entries: dict[tuple[int, str], m.Entry] = {}

    def entry(self, doc: int, user: m.User, pass_no: int) -> m.Entry:
        key = (doc, user.username)
        if key not in self.entries:
            entry = m.Entry(document_id=self.docs[doc - 1].id, pass_no=pass_no, keyer_id=user.id)
            self.s.add(entry)
            self.s.flush()
            self.entries[key] = entry
        return self.entries[key]

    def value(self, doc: int, user: m.User, pass_no: int, path: str, value: str, *, keys: int, active: int,
              pause: int = 0, saved: dt.datetime, match: bool | None, error_class: str | None = None) -> None:
        entry = self.entry(doc, user, pass_no)
        self.s.add(m.FieldValue(
            entry_id=entry.id, keyer_id=user.id, field_path=path, value=value, keystrokes=keys, active_ms=active,
            pause_ms=pause, saved_at=saved, final_match=match, error_class=error_class,
        ))


@pytest.fixture
def floor(central: Store) -> Floor:
    with central.transaction() as s:
        f = Floor(s)
        a, b = f.alice, f.bob
        # Document 1: the last name is disputed and resolved to bob's SMITH: alice erred as keyer.
        f.value(1, a, 1, "first_name", "JOHN", keys=5, active=2000, saved=at(9, 10), match=True)
        f.value(1, a, 1, "last_name", "SMTIH", keys=6, active=3000, pause=40000, saved=at(9, 20), match=False,
                error_class="transposition")
        f.value(1, b, 2, "first_name", "JOHN", keys=4, active=1000, saved=at(11, 0), match=True)
        f.value(1, b, 2, "last_name", "SMITH", keys=5, active=2000, saved=at(11, 1), match=True)
        # Document 2: first name resolved to alice's ANN: bob erred as verifier.
        f.value(2, a, 1, "first_name", "ANN", keys=3, active=1000, saved=at(10, 5), match=True)
        f.value(2, b, 2, "first_name", "ANNE", keys=4, active=1000, saved=at(11, 30), match=False,
                error_class="insertion")
        # Document 3: not final yet, so not scored.
        f.value(3, a, 1, "city", "X", keys=1, active=500, saved=at(10, 30), match=None)
        s.add_all([
            m.Task(batch_id=f.batch.id, document_id=f.docs[0].id, pass_no=1, state="done", keyer_id=a.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[0].id, pass_no=2, state="done", keyer_id=b.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[1].id, pass_no=1, state="done", keyer_id=a.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[1].id, pass_no=2, state="done", keyer_id=b.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[2].id, pass_no=1, state="claimed", keyer_id=a.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[2].id, pass_no=2, state="open"),
            m.Dispute(document_id=f.docs[1].id, field_path="first_name", stage="qa", state="open"),
        ])
        f.docs[0].state = "final"
    return f


def test_keyer_figures_follow_the_definitions(central: Store, floor: Floor) -> None:
    with central.session() as s:
        by_name = {k.username: k for k in metrics.keyer_figures(s)}
    alice = by_name["alice"]
    f = alice.figures
    assert (f.documents, f.fields, f.keystrokes, f.characters) == (3, 4, 15, 4 + 5 + 3 + 1)
    # The 40 s idle gap is pause, not active time.
    assert (f.active_ms, f.pause_ms) == (6500, 40000)
    assert f.kph == pytest.approx(15 / (6500 / 3_600_000))
    assert f.fields_per_hour == pytest.approx(4 / (6500 / 3_600_000))
    assert f.documents_per_hour == pytest.approx(3 / (6500 / 3_600_000))
    # Three scored fields (document 3 is not final), one wrong.
    assert (f.scored, f.errors) == (3, 1)
    assert f.accuracy == pytest.approx(2 / 3)
    assert f.errors_per_1000_keystrokes == pytest.approx(1000 / 15)
    assert alice.errors_by_class["transposition"] == 1
    assert (alice.blamed_as_keyer, alice.blamed_as_verifier) == (1, 0)

    bob = by_name["bob"]
    assert (bob.figures.keystrokes, bob.figures.active_ms, bob.figures.errors) == (13, 4000, 1)
    assert (bob.blamed_as_keyer, bob.blamed_as_verifier) == (0, 1)
    assert bob.errors_by_class["insertion"] == 1


def test_team_figures_are_the_sum_of_the_keyers(central: Store, floor: Floor) -> None:
    with central.session() as s:
        team = metrics.team_figures(s)
    assert (team.keystrokes, team.fields, team.scored, team.errors) == (28, 7, 6, 2)
    assert team.accuracy == pytest.approx(4 / 6)


def test_hourly_figures_bucket_by_hour(central: Store, floor: Floor) -> None:
    with central.session() as s:
        hours = metrics.hourly_figures(s, metrics.Filters(keyer_id=floor.alice.id))
    assert [(h.hour, h.figures.keystrokes, h.figures.active_ms) for h in hours] == [
        (at(9), 11, 5000),
        (at(10), 4, 1500),
    ]
    assert hours[0].figures.kph == pytest.approx(11 / (5000 / 3_600_000))


def test_period_filter_is_half_open(central: Store, floor: Floor) -> None:
    with central.session() as s:
        early = metrics.team_figures(s, metrics.Filters(start=at(9), end=at(10)))
        late = metrics.team_figures(s, metrics.Filters(start=at(10)))
    assert early.fields == 2
    assert late.fields == 5


def test_errors_by_class_and_field(central: Store, floor: Floor) -> None:
    with central.session() as s:
        classes = metrics.errors_by_class(s)
        fields = metrics.errors_by_field(s)
    assert classes == {"substitution": 0, "transposition": 1, "omission": 0, "insertion": 1, "other": 0}
    top = {(e.template, e.field): (e.scored, e.errors) for e in fields}
    assert top[("rebate", "last_name")] == (2, 1)
    assert top[("rebate", "first_name")] == (4, 1)


def test_line_item_rows_are_folded_into_one_field(central: Store) -> None:
    with central.transaction() as s:
        f = Floor(s, "cms1500")
        for row, match in ((1, False), (2, True), (3, False)):
            f.value(1, f.alice, 1, f"lines[{row}].cpt", "99213", keys=5, active=900, saved=at(9), match=match,
                    error_class=None if match else "substitution")
    with central.session() as s:
        fields = {(e.template, e.field): (e.scored, e.errors) for e in metrics.errors_by_field(s)}
    assert fields == {("cms1500", "lines[*].cpt"): (3, 2)}


def test_batch_progress_counts_each_stage(central: Store, floor: Floor) -> None:
    with central.session() as s:
        (progress,) = metrics.batch_progress(s)
    assert (progress.documents, progress.pass1_left, progress.pass2_left, progress.in_qa, progress.final) == (3, 1, 1, 1, 1)
    assert progress.done_share == pytest.approx(1 / 3)


def test_stats_command_prints_the_same_numbers(central_url: str, floor: Floor, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--central", central_url, "stats", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    alice = next(k for k in report["keyers"] if k["keyer"] == "alice")
    assert alice["keystrokes"] == 15
    assert alice["accuracy"] == pytest.approx(2 / 3, abs=1e-5)
    assert alice["blame"] == {"as_keyer": 1, "as_verifier": 0, "as_third_key": 0}
    assert report["team"]["errors"] == 2
    assert main(["--central", central_url, "stats", "--keyer", "bob", "--from", "2026-03-02", "--to", "2026-03-02"]) == 0
    out = capsys.readouterr().out
    assert "bob" in out and "alice" not in out
    assert main(["--central", central_url, "stats", "--keyer", "nobody"]) == 2
    assert "no user named" in capsys.readouterr().err
