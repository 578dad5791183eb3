"""`workstation page-problems list|close`: a supervisor without the desktop sees and closes reports."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from tests.workstation.centralseed import seed_batch
from workstation import auth, page_problems, sync
from workstation import models as m
from workstation.cli import main
from workstation.store import Store


def _reported(central: Store, local: Store) -> list[uuid.UUID]:
    """Three reports by a keyer, pushed to the central database; a supervisor and a keyer who can log in."""
    root = auth.create_user(central, None, "root", "admin", "root-password")
    ann = auth.create_user(central, root, "ann", "keyer", "ann-password")
    auth.create_user(central, root, "sue", "supervisor", "sue-password")
    seed_batch(central, documents=3, passes=(1,), name="CLAIMS-7")
    claim, _ = sync.claim_and_pull(central, local, ann.id, pass_no=1)
    details = ("", "torn\ncorner", "")
    ids = [page_problems.report_page(local, ann.id, claim.unit_id, doc, 1, detail=detail).problem_id
           for doc, detail in zip(claim.document_ids, details)]
    assert sync.push_pending(local, central).problems == 3
    return ids


def _run(central: Store, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--central", central.url, "page-problems", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_supervisor_lists_the_reports_by_id_and_closes_one_by_its_ids_start(
        central: Store, local: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    first, second, third = _reported(central, local)
    code, out, _ = _run(central, capsys, "list")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "page problems: 3 open"
    assert {line.split("  ")[0] for line in lines[1:]} == {str(first), str(second), str(third)}
    (torn,) = [line for line in lines if line.startswith(str(second))]
    assert torn.endswith("CLAIMS-7  scan_0002.png page 1: missing, reported by ann (torn corner)")

    monkeypatch.setenv("WORKSTATION_PASSWORD", "sue-password")
    code, out, _ = _run(central, capsys, "close", str(second)[:8], "--note", "  rescanned \n today ", "--as", "sue")
    assert code == 0 and out.strip() == "closed the report on page 1 of scan_0002.png (batch CLAIMS-7): rescanned today"
    with central.session() as s:
        row = s.get(m.PageProblem, second)
        assert row.close_note == "rescanned today" and row.closed_at is not None
        sue_id = s.scalar(select(m.User.id).where(m.User.username == "sue"))
        assert row.closed_by == sue_id
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "page.report_closed")).one()
        assert event.username == "sue"

    code, out, _ = _run(central, capsys, "list")
    assert out.splitlines()[0] == "page problems: 2 open" and str(second) not in out
    code, out, _ = _run(central, capsys, "list", "--closed")
    (closed,) = [line for line in out.splitlines() if line.startswith(str(second))]
    assert closed.endswith(" by sue: rescanned today") and "; closed " in closed
    rows = {r["id"]: r for r in json.loads(_run(central, capsys, "list", "--closed", "--json")[1])}
    assert (rows[str(second)]["state"], rows[str(second)]["close_note"], rows[str(first)]["state"]) == (
        "closed", "rescanned today", "open")

    # Closed already: refused, naming who closed it; nothing changes.
    code, _, err = _run(central, capsys, "close", str(second), "--note", "again", "--as", "sue")
    assert code != 0 and "closed already, by sue" in err
    with central.session() as s:
        assert s.get(m.PageProblem, second).close_note == "rescanned today"


def test_closing_needs_an_account_that_may_close_and_an_id_that_names_one_report(
        central: Store, local: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    first, *_ = _reported(central, local)
    code, _, err = _run(central, capsys, "close", str(first), "--note", "rescanned")
    assert code != 0 and "needs the account of the supervisor or QA lead" in err and "--as NAME" in err
    monkeypatch.setenv("WORKSTATION_PASSWORD", "ann-password")
    code, _, err = _run(central, capsys, "close", str(first), "--note", "rescanned", "--as", "ann")
    assert code != 0 and "may not do this" in err
    monkeypatch.setenv("WORKSTATION_PASSWORD", "sue-password")
    code, _, err = _run(central, capsys, "close", str(first)[:5], "--note", "rescanned", "--as", "sue")
    assert code != 0 and "too short to name a report" in err
    code, _, err = _run(central, capsys, "close", "ffffffff", "--note", "rescanned", "--as", "sue")
    assert code != 0 and "No page problem report's id starts with 'ffffffff'" in err
    code, _, err = _run(central, capsys, "close", str(first), "--note", "   ", "--as", "sue")
    assert code != 0 and "A closing note is needed" in err
    with central.session() as s:
        assert s.get(m.PageProblem, first).closed_at is None
