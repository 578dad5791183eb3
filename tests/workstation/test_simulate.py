"""The simulator: its error model, and a run through the real services that ends in final values."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest
from sqlalchemy import func, select

from workstation import audit
from workstation import models as m
from workstation.demo.data import TruthDocument
from workstation.demo.workspace import build_demo
from workstation.paths import Workspace
from workstation.simulate import ERROR_CLASSES, ErrorModel, Reader, Simulation, make_error
from workstation.store import open_central


def test_each_error_class_makes_the_edit_it_names() -> None:
    rng = random.Random(1)
    for _ in range(200):
        value = "".join(rng.choice("ABC123") for _ in range(rng.randint(2, 9)))
        sub, kind = make_error(rng, value, "substitution")
        assert kind == "substitution" and len(sub) == len(value) and sum(a != b for a, b in zip(sub, value)) == 1
        om, _ = make_error(rng, value, "omission")
        assert len(om) == len(value) - 1
        ins, _ = make_error(rng, value, "insertion")
        assert len(ins) == len(value) + 1
        tr, kind = make_error(rng, value, "transposition")
        if kind == "transposition":
            diff = [i for i, (a, b) in enumerate(zip(tr, value)) if a != b]
            assert len(diff) == 2 and diff[1] == diff[0] + 1 and sorted(tr) == sorted(value)
    assert make_error(rng, "", "omission") == ("X", "insertion")
    assert make_error(rng, "X", "substitution") == ("", "omission")


def test_ambiguous_fields_come_at_the_modelled_rate_and_are_misread_the_same_way() -> None:
    reader = Reader(ErrorModel(ambiguous_rate=0.01), seed=4)
    docs = [TruthDocument(i, f"D{i}", {"f": "HELLO"}) for i in range(20_000)]
    wrong = [reader.wrong_reading(d, "f") for d in docs]
    share = sum(w is not None for w in wrong) / len(docs)
    assert 0.008 < share < 0.012
    doc = docs[next(i for i, w in enumerate(wrong) if w is not None)]
    readings = Counter(reader.read(random.Random(n), doc, "f") for n in range(400))
    assert set(readings) == {"HELLO", reader.wrong_reading(doc, "f")}
    assert 150 < readings["HELLO"] < 250


def test_a_simulation_keys_every_demo_document_to_final_through_the_services(ws: Workspace) -> None:
    build_demo(ws, seed=2, documents=6)
    central = open_central(ws.embedded_central_url)
    start = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.timezone.utc)
    # A high error rate so that third keys and QA decisions happen in a small run.
    sim = Simulation(ws, central, keyers=4, seed=2, model=ErrorModel(field_error_rate=0.08), start=start,
                     unit_size=3)
    report = sim.run()
    with central.session() as s:
        docs = s.scalar(select(func.count()).select_from(m.Document))
        assert report.documents_final == docs == 18
        assert s.scalar(select(func.count()).select_from(m.Batch).where(m.Batch.state != "final")) == 0
        # Nobody keyed two passes of a document.
        pairs = s.execute(select(m.Entry.document_id, m.Entry.keyer_id)).all()
        assert len(pairs) == len(set(pairs))
        hows = Counter(s.scalars(select(m.Resolution.how)))
        assert hows["agreed"] > 0 and hows["third_key"] + hows["qa"] > 0
        # The history is spread over simulated time with active and pause time recorded.
        first, last = s.execute(select(func.min(m.FieldValue.saved_at), func.max(m.FieldValue.saved_at))).one()
        assert first >= start and last > first
        assert s.scalar(select(func.sum(m.FieldValue.active_ms))) > 0
        keyed = s.scalar(select(func.count()).select_from(m.FieldValue).where(m.FieldValue.keystrokes > 0))
        classes = set(s.scalars(select(m.FieldValue.error_class).where(m.FieldValue.error_class.is_not(None))))
        assert audit.verify(s).ok
    assert keyed == report.keyings
    assert report.errors_made > 0 and classes and classes <= set(ERROR_CLASSES) | {"other"}
    assert report.qa_decisions > 0 or report.third_keys > 0
    assert 2.0 <= report.keyings_per_field < 2.5
    # With no ambiguous fields, a disagreement is always caught: what is final is the truth.
    assert report.ambiguous_fields == 0 and report.residual_errors == 0
    central.dispose()


def test_simulate_command_prints_the_quality_figures(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from workstation.cli import main

    build_demo(ws, seed=2, documents=2)
    assert main(["simulate", "--keyers", "3"]) == 0
    out = capsys.readouterr().out
    assert "residual errors in final values: 0" in out and "per field" in out
    assert main(["simulate", "--keyers", "2"]) == 2
