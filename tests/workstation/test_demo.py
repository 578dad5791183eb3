"""The demo workspace: deterministic truth and scans, users for every role, batches, the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from workstation import auth
from workstation import models as m
from workstation.cli import main
from workstation.demo.data import truth_documents
from workstation.demo.scans import PAGE_H, PAGE_W, render_document
from workstation.demo.workspace import build_demo, demo_truth
from workstation.errors import KnownError
from workstation.fields import validate
from workstation.importer import resolve_template_arg
from workstation.keying import KeyingSession
from workstation.paths import Workspace
from workstation.store import open_central, open_local
from workstation.sync import claim_and_pull
from workstation.templates import parse_path

TEMPLATES = ("cms1500", "rebate", "survey")


@pytest.mark.parametrize("name", TEMPLATES)
def test_truth_is_deterministic_and_passes_the_templates_own_validation(name: str) -> None:
    template = resolve_template_arg(name)
    docs = list(truth_documents(template, 400, seed=5, prefix="T"))
    again = list(truth_documents(template, 400, seed=5, prefix="T"))
    other = list(truth_documents(template, 400, seed=6, prefix="T"))
    assert [d.values for d in docs] == [d.values for d in again]
    assert [d.values for d in docs] != [d.values for d in other]
    for doc in docs:
        assert set(doc.values) == set(template.field_paths(doc.rows))
        for path, value in doc.values.items():
            assert validate(template.spec(path), value) == (), (path, value)
    if name == "cms1500":  # line items vary, and the total is the sum of the lines
        assert len({d.rows["lines"] for d in docs}) > 1
        doc = docs[0]
        total = sum(float(doc.values[f"lines[{r}].charge"]) * int(doc.values[f"lines[{r}].units"])
                    for r in range(1, doc.rows["lines"] + 1))
        assert doc.values["total_charge"] == f"{total:.2f}"


def test_scans_are_300_dpi_g4_tiffs_with_a_page_per_form_page_and_deterministic() -> None:
    template = resolve_template_arg("survey")
    doc = next(truth_documents(template, 1, seed=1, prefix="S"))
    data = render_document(template, doc, seed=1)
    assert data == render_document(template, doc, seed=1)
    image = Image.open(io.BytesIO(data))
    assert image.n_frames == 2 and image.size == (PAGE_W, PAGE_H)
    assert image.info["compression"] == "group4" and round(image.info["dpi"][0]) == 300
    # Something is printed: a fair share of the page is ink, but most is paper.
    ink = image.convert("L").histogram()[0] / (PAGE_W * PAGE_H)
    assert 0.005 < ink < 0.2
    jpeg = render_document(resolve_template_arg("rebate"), next(truth_documents(resolve_template_arg("rebate"), 1,
                                                                                  seed=1, prefix="R")), seed=1, fmt="jpeg")
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"


@pytest.fixture
def demo(ws: Workspace):  # type: ignore[no-untyped-def]
    return build_demo(ws, seed=3, documents=2)


def test_the_demo_has_users_for_every_role_whose_passwords_work(ws: Workspace, demo) -> None:  # type: ignore[no-untyped-def]
    assert {u.role for u in demo.users} == set(m.ROLES)
    central = open_central(ws.embedded_central_url)
    for user in demo.users:
        assert auth.authenticate(central, user.username, user.password).role == user.role
    assert len({u.password for u in demo.users}) == len(demo.users)
    central.dispose()


def test_the_demo_has_three_batches_with_truth_kept_outside_the_databases(ws: Workspace, demo) -> None:  # type: ignore[no-untyped-def]
    assert [(b.name, b.documents) for b in demo.batches] == [("CLAIMS-DEMO", 2), ("REBATES-DEMO", 2),
                                                              ("SURVEYS-DEMO", 2)]
    assert [b.pages for b in demo.batches] == [2, 2, 4]
    central = open_central(ws.embedded_central_url)
    with central.session() as s:
        names = set(s.scalars(select(m.Document.source_name)))
        assert s.scalar(select(m.Template.name).where(m.Template.name == "cms1500")) == "cms1500"
    central.dispose()
    for batch in demo.batches:
        truth = demo_truth(ws, batch.name)
        assert set(truth) <= names and len(truth) == 2
        assert batch.truth_path.parent == ws.truth_dir
    marker = json.loads((ws.root / "demo.json").read_text())
    assert marker["seed"] == 3 and set(marker["batches"]) == {b.name for b in demo.batches}
    # The truth never reaches a database file.
    value = next(iter(demo_truth(ws, "CLAIMS-DEMO").values())).values["insured_id"]
    assert value.encode() not in ws.central_db.read_bytes()


def test_building_again_needs_reset(ws: Workspace, demo) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KnownError, match="demo --reset"):
        build_demo(ws, documents=1)
    rebuilt = build_demo(ws, documents=1, reset_first=True)
    assert [b.documents for b in rebuilt.batches] == [1, 1, 1]
    assert {u.password for u in rebuilt.users}.isdisjoint({u.password for u in demo.users})


def test_a_whole_demo_document_keyed_through_the_keying_object_is_all_in_the_store(ws: Workspace, demo) -> None:  # type: ignore[no-untyped-def]
    central = open_central(ws.embedded_central_url)
    keyer = next(u for u in demo.users if u.role == "keyer")
    actor = auth.authenticate(central, keyer.username, keyer.password)
    with central.session() as s:
        claims = s.scalar(select(m.Batch.id).where(m.Batch.name == "CLAIMS-DEMO"))
    local = open_local(ws.local_url)
    claim, _ = claim_and_pull(central, local, actor.id, batch_id=claims, pass_no=1)
    session = KeyingSession.open(local, claim.unit_id, actor.id)
    truth = demo_truth(ws, "CLAIMS-DEMO")[session.document.source_name]
    keyed: dict[str, str] = {}
    while True:
        path = session.path
        value = truth.values[path]
        for _ in value:
            session.keystroke()
        session.set_text(value)
        keyed[path] = value
        parsed = parse_path(path)
        if (parsed.section and parsed.row == session.rows(parsed.section) < truth.rows[parsed.section]
                and path.endswith(".units")):
            session.add_row(parsed.section)
            continue
        if session.advance(confirm=True).document_done:
            break
    document_id = session.document.id
    session.finish_document()
    local.dispose()
    # Re-open the store from the file: every field is there, as keyed.
    again = open_local(ws.local_url)
    with again.session() as s:
        entry = s.scalars(select(m.Entry).where(m.Entry.document_id == document_id)).one()
        stored = {fv.field_path: fv.value for fv in s.scalars(select(m.FieldValue).where(m.FieldValue.entry_id == entry.id))}
    assert entry.finished_at is not None
    assert stored == keyed == truth.values
    again.dispose()
    central.dispose()


def test_cli_builds_the_demo_and_prints_each_password_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "demo"
    assert main(["demo", "--no-gui", "--documents", "1", "--data-dir", str(target)]) == 0
    out = capsys.readouterr().out
    for username in ("admin", "super1", "qa1", "keyer1", "keyer4"):
        assert f"  {username} " in out
    assert "CLAIMS-DEMO" in out and "SURVEYS-DEMO" in out
    assert (target / "central.sqlite").is_file() and (target / "demo-truth" / "CLAIMS-DEMO.jsonl").is_file()
    assert main(["demo", "--no-gui", "--data-dir", str(target)]) == 0
    second = capsys.readouterr().out
    assert "built already" in second and "keyer1" not in second
