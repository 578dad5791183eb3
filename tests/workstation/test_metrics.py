"""Metric definitions checked on hand-made data whose right answers are worked out by hand.

The rows are written straight into the schema, then the summary upkeep a push runs
(`rollups.entries_changed`) brings the summary tables up to date; every figure below is read
back through them. Runs on SQLite and PostgreSQL (the `central` fixture).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy.orm import Session

from workstation import auth, metrics, rollups
from workstation import models as m
from workstation.catalog import register_template
from workstation.cli import main
from workstation.errors import PermissionDenied
from workstation.resources import resource_path
from workstation.store import Store
from workstation.templates import load_template

UTC = dt.timezone.utc
HOUR_MS = 3_600_000


def at(hour: int, minute: int = 0, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


class Floor:
    """Documents keyed by alice (pass 1) and bob (pass 2); document 3 waits for its pass 2."""

    def __init__(self, s: Session, template_name: str = "rebate", users: tuple[m.User, m.User] | None = None) -> None:
        tpl = register_template(s, load_template(resource_path("templates", f"{template_name}.toml")))
        self.batch = m.Batch(name=f"b-{uuid.uuid4().hex[:6]}", template_id=tpl.id)
        self.alice, self.bob = users or (m.User(username="alice", role="keyer", password_hash="-", display_name="Alice A"),
                                         m.User(username="bob", role="keyer", password_hash="-"))
        s.add_all([self.batch, self.alice, self.bob])
        s.flush()
        self.docs = [m.Document(batch_id=self.batch.id, seq=n) for n in (1, 2, 3)]
        s.add_all(self.docs)
        s.flush()
        self.s = s
        self.entries: dict[tuple[int, str], m.Entry] = {}

    def entry(self, doc: int, user: m.User, pass_no: int, finished: dt.datetime) -> m.Entry:
        key = (doc, user.username)
        if key not in self.entries:
            entry = m.Entry(document_id=self.docs[doc - 1].id, pass_no=pass_no, keyer_id=user.id,
                            started_at=finished - dt.timedelta(minutes=5), finished_at=finished)
            self.s.add(entry)
            self.s.flush()
            self.entries[key] = entry
        return self.entries[key]

    def value(self, doc: int, user: m.User, pass_no: int, path: str, value: str, *, keys: int, active: int,
              pause: int = 0, saved: dt.datetime, match: bool | None, error_class: str | None = None,
              finished: dt.datetime | None = None) -> None:
        entry = self.entry(doc, user, pass_no, finished or saved)
        self.s.add(m.FieldValue(
            entry_id=entry.id, keyer_id=user.id, field_path=path, value=value, keystrokes=keys, active_ms=active,
            pause_ms=pause, saved_at=saved, final_match=match, error_class=error_class,
        ))

    def summarise(self) -> None:
        """What a push does after inserting rows: recompute the summaries of these entries."""
        self.s.flush()
        rollups.entries_changed(self.s, [e.id for e in self.entries.values()])


@pytest.fixture
def floor(central: Store) -> Floor:
    with central.transaction() as s:
        f = Floor(s)
        a, b = f.alice, f.bob
        # Document 1: the last name is disputed and resolved to bob's SMITH: alice erred as keyer.
        f.value(1, a, 1, "first_name", "JOHN", keys=5, active=2000, saved=at(9, 10), match=True, finished=at(9, 21))
        f.value(1, a, 1, "last_name", "SMTIH", keys=6, active=3000, pause=40000, saved=at(9, 20), match=False,
                error_class="transposition")
        f.value(1, b, 2, "first_name", "JOHN", keys=4, active=1000, saved=at(11, 0), match=True, finished=at(11, 2))
        f.value(1, b, 2, "last_name", "SMITH", keys=5, active=2000, saved=at(11, 1), match=True)
        # Document 2: first name resolved to alice's ANN: bob erred as verifier.
        f.value(2, a, 1, "first_name", "ANN", keys=3, active=1000, saved=at(10, 5), match=True, finished=at(10, 6))
        f.value(2, b, 2, "first_name", "ANNE", keys=4, active=1000, saved=at(11, 30), match=False,
                error_class="insertion", finished=at(11, 31))
        # Document 3: pass 2 not keyed yet, so not final, so not scored.
        f.value(3, a, 1, "city", "X", keys=1, active=500, saved=at(10, 30), match=None, finished=at(10, 31))
        s.add_all([
            m.Task(batch_id=f.batch.id, document_id=f.docs[0].id, pass_no=1, state="done", keyer_id=a.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[0].id, pass_no=2, state="done", keyer_id=b.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[1].id, pass_no=1, state="done", keyer_id=a.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[1].id, pass_no=2, state="done", keyer_id=b.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[2].id, pass_no=1, state="done", keyer_id=a.id),
            m.Task(batch_id=f.batch.id, document_id=f.docs[2].id, pass_no=2, state="open"),
            m.Dispute(document_id=f.docs[1].id, field_path="first_name", stage="qa", state="open"),
        ])
        f.docs[0].state = "final"
        f.docs[1].state = "resolving"
        f.summarise()
    return f


def test_keyer_figures_follow_the_definitions(central: Store, floor: Floor) -> None:
    with central.session() as s:
        by_name = {k.username: k for k in metrics.keyer_figures(s)}
    alice = by_name["alice"]
    f = alice.figures
    # Three finished entries, four values, 5+6+3+1 key presses, 4+5+3+1 characters saved.
    assert (f.documents, f.fields, f.keystrokes, f.characters) == (3, 4, 15, 13)
    # The 40 s idle gap is pause, not active time: 2000 + 3000 + 1000 + 500 ms active.
    assert (f.active_ms, f.pause_ms) == (6500, 40000)
    assert f.kph == pytest.approx(15 / (6500 / HOUR_MS))  # = 8307.7 keystrokes per active hour
    assert f.fields_per_hour == pytest.approx(4 / (6500 / HOUR_MS))
    assert f.documents_per_hour == pytest.approx(3 / (6500 / HOUR_MS))
    # Three scored fields (document 3 is not final), one wrong.
    assert (f.scored, f.errors) == (3, 1)
    assert f.accuracy == pytest.approx(2 / 3)
    assert f.errors_per_1000_keystrokes == pytest.approx(1000 / 15)
    assert alice.errors_by_class == {"substitution": 0, "transposition": 1, "omission": 0, "insertion": 0, "other": 0}
    assert (alice.blamed_as_keyer, alice.blamed_as_verifier, alice.blamed_as_third) == (1, 0, 0)
    assert alice.display_name == "Alice A"

    bob = by_name["bob"]
    assert (bob.figures.documents, bob.figures.keystrokes, bob.figures.active_ms, bob.figures.errors) == (2, 13, 4000, 1)
    assert bob.figures.accuracy == pytest.approx(2 / 3)
    assert (bob.blamed_as_keyer, bob.blamed_as_verifier) == (0, 1)
    assert bob.errors_by_class["insertion"] == 1
    # Busiest first.
    with central.session() as s:
        assert [k.username for k in metrics.keyer_figures(s)] == ["alice", "bob"]


def test_team_figures_are_the_sum_of_the_keyers(central: Store, floor: Floor) -> None:
    with central.session() as s:
        team = metrics.team_figures(s)
    assert (team.documents, team.keystrokes, team.fields, team.scored, team.errors) == (5, 28, 7, 6, 2)
    assert team.accuracy == pytest.approx(4 / 6)
    assert team.kph == pytest.approx(28 / (10500 / HOUR_MS))


def test_hourly_figures_bucket_values_by_saved_hour_and_documents_by_finish(central: Store, floor: Floor) -> None:
    with central.session() as s:
        hours = metrics.hourly_figures(s, metrics.Filters(keyer_id=floor.alice.id))
        team = metrics.hourly_figures(s)
    assert [(h.hour, h.figures.keystrokes, h.figures.active_ms, h.figures.documents) for h in hours] == [
        (at(9), 11, 5000, 1),
        (at(10), 4, 1500, 2),
    ]
    assert hours[0].figures.kph == pytest.approx(11 / (5000 / HOUR_MS))
    assert hours[0].figures.accuracy == pytest.approx(1 / 2)
    assert [(h.hour, h.figures.fields, h.figures.errors) for h in team] == [(at(9), 2, 1), (at(10), 2, 0), (at(11), 3, 1)]


def test_period_filter_is_half_open_and_in_whole_hours(central: Store, floor: Floor) -> None:
    with central.session() as s:
        early = metrics.team_figures(s, metrics.Filters(start=at(9), end=at(10)))
        late = metrics.team_figures(s, metrics.Filters(start=at(10)))
    assert (early.fields, early.documents) == (2, 1)
    assert (late.fields, late.documents) == (5, 4)
    with pytest.raises(ValueError, match="whole UTC hour"):
        metrics.Filters(start=at(9, 30))
    # A whole hour in another time zone is a whole UTC hour too.
    metrics.Filters(start=dt.datetime(2026, 3, 2, 14, tzinfo=dt.timezone(dt.timedelta(hours=5))))


def test_errors_by_class_and_field(central: Store, floor: Floor) -> None:
    with central.session() as s:
        classes = metrics.errors_by_class(s)
        fields = metrics.errors_by_field(s)
        bobs = metrics.errors_by_field(s, metrics.Filters(keyer_id=floor.bob.id))
    assert classes == {"substitution": 0, "transposition": 1, "omission": 0, "insertion": 1, "other": 0}
    assert [(e.template, e.field, e.scored, e.errors) for e in fields] == [
        ("rebate", "first_name", 4, 1),
        ("rebate", "last_name", 2, 1),
    ]
    assert fields[1].error_rate == pytest.approx(0.5)
    assert [(e.field, e.scored, e.errors) for e in bobs] == [("first_name", 2, 1), ("last_name", 1, 0)]


def test_an_error_of_no_known_class_counts_as_other(central: Store) -> None:
    with central.transaction() as s:
        f = Floor(s)
        f.value(1, f.alice, 1, "city", "BOSTNO", keys=6, active=900, saved=at(9), match=False, error_class=None)
        f.value(1, f.alice, 1, "street", "MAIN", keys=4, active=900, saved=at(9), match=False, error_class="other")
        f.summarise()
    with central.session() as s:
        assert metrics.errors_by_class(s)["other"] == 2
        (alice,) = metrics.keyer_figures(s)
    assert alice.errors_by_class["other"] == 2 and alice.figures.errors == 2


def test_template_filter_counts_every_version_of_that_name_only(central: Store, floor: Floor) -> None:
    with central.transaction() as s:
        alice, bob = s.get(m.User, floor.alice.id), s.get(m.User, floor.bob.id)
        assert alice is not None and bob is not None
        survey = Floor(s, "survey", users=(alice, bob))
        survey.value(1, alice, 1, "age", "41", keys=3, active=700, saved=at(12), match=True)
        survey.summarise()
    with central.session() as s:
        rebate = metrics.team_figures(s, metrics.Filters(template="rebate"))
        surveyed = metrics.team_figures(s, metrics.Filters(template="survey"))
        none = metrics.team_figures(s, metrics.Filters(template="cms1500"))
        assert metrics.template_names(s) == ["rebate", "survey"]
        assert [e.template for e in metrics.errors_by_field(s, metrics.Filters(template="survey"))] == ["survey"]
    assert (rebate.fields, surveyed.fields, none.fields) == (7, 1, 0)
    assert (surveyed.documents, surveyed.keystrokes) == (1, 3)


def test_line_item_rows_are_folded_into_one_field(central: Store) -> None:
    with central.transaction() as s:
        f = Floor(s, "cms1500")
        for row, match in ((1, False), (2, True), (3, False)):
            f.value(1, f.alice, 1, f"lines[{row}].cpt", "99213", keys=5, active=900, saved=at(9), match=match,
                    error_class=None if match else "substitution")
        f.summarise()
    with central.session() as s:
        fields = {(e.template, e.field): (e.scored, e.errors) for e in metrics.errors_by_field(s)}
    assert fields == {("cms1500", "lines[*].cpt"): (3, 2)}


def test_batch_progress_counts_each_stage(central: Store, floor: Floor) -> None:
    with central.session() as s:
        (progress,) = metrics.batch_progress(s)
    assert (progress.documents, progress.pass1_left, progress.pass2_left, progress.third_key_left,
            progress.in_qa, progress.final) == (3, 0, 1, 0, 1, 1)
    assert progress.done_share == pytest.approx(1 / 3)
    assert progress.age(progress.created_at + dt.timedelta(days=2)) == dt.timedelta(days=2)
    with central.transaction() as s:
        batch = s.get(m.Batch, floor.batch.id)
        assert batch is not None
        batch.state = "final"
    with central.session() as s:
        assert metrics.batch_progress(s) == []
        assert len(metrics.batch_progress(s, include_final=True)) == 1


# --- who may see what ----------------------------------------------------------------------------


def _actor(user: m.User) -> auth.Actor:
    return auth.Actor(user.id, user.username, user.role, user.display_name)


def test_a_supervisor_sees_the_whole_floor(central: Store, floor: Floor) -> None:
    boss = auth.Actor(uuid.uuid4(), "sue", "supervisor")
    board = metrics.load_dashboard(central, boss, metrics.Filters(start=at(0), end=at(0, day=3)))
    assert [k.username for k in board.keyers] == ["alice", "bob"]
    assert board.team.keystrokes == 28 and board.chart_keyer_id is None
    assert [h.hour for h in board.hourly] == [at(9), at(10), at(11)]
    assert len(board.batches) == 1 and board.templates == ("rebate",)
    chart = metrics.load_dashboard(central, boss, chart_keyer_id=floor.bob.id)
    assert chart.chart_keyer_id == floor.bob.id
    assert [h.figures.keystrokes for h in chart.hourly] == [13]
    assert len(chart.keyers) == 2  # the table still lists everyone


def test_a_keyer_sees_their_own_figures_and_nobody_elses(central: Store, floor: Floor) -> None:
    alice = _actor(floor.alice)
    own = metrics.load_dashboard(central, alice, metrics.Filters(keyer_id=alice.id))
    assert [k.username for k in own.keyers] == ["alice"]
    assert own.team.keystrokes == 15  # "team" is only themselves
    assert own.batches == ()
    assert {(e.field, e.errors) for e in own.errors_by_field} == {("first_name", 0), ("last_name", 1)}
    with pytest.raises(PermissionDenied, match="only their own"):
        metrics.load_dashboard(central, alice)
    with pytest.raises(PermissionDenied):
        metrics.load_dashboard(central, alice, metrics.Filters(keyer_id=floor.bob.id))
    with pytest.raises(PermissionDenied):
        metrics.load_dashboard(central, alice, metrics.Filters(keyer_id=alice.id), chart_keyer_id=floor.bob.id)
    qa_lead = auth.Actor(uuid.uuid4(), "lee", "qa")
    with pytest.raises(PermissionDenied):
        metrics.load_dashboard(central, qa_lead)


def test_stats_command_prints_the_same_numbers(central_url: str, central: Store, floor: Floor,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--central", central_url, "stats", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    board = metrics.load_dashboard(central, auth.Actor(uuid.uuid4(), "sue", "supervisor"))
    assert report["keyers"] == [k.as_dict() for k in board.keyers]
    assert report["team"] == board.team.as_dict()
    alice = next(k for k in report["keyers"] if k["keyer"] == "alice")
    assert (alice["keystrokes"], alice["documents"]) == (15, 3)
    assert alice["accuracy"] == pytest.approx(2 / 3, abs=1e-5)
    assert alice["blame"] == {"as_keyer": 1, "as_verifier": 0, "as_third_key": 0}
    assert report["team"]["errors"] == 2
    assert report["errors_by_class"]["transposition"] == 1
    assert report["batches"][0]["in_qa"] == 1
    assert main(["--central", central_url, "stats", "--keyer", "bob", "--from", "2026-03-02", "--to", "2026-03-02"]) == 0
    out = capsys.readouterr().out
    assert "bob" in out and "alice" not in out
    assert main(["--central", central_url, "stats", "--from", "2026-03-03", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["keyers"] == []
    assert main(["--central", central_url, "stats", "--keyer", "nobody"]) == 2
    assert "no user named" in capsys.readouterr().err
    assert main(["--central", central_url, "stats", "--template", "nothing"]) == 2
    assert "no template named" in capsys.readouterr().err
