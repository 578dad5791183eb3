"""`workstation stats`: the open page problem reports, for a supervisor without the desktop.

(The figures themselves are tested with the metrics, `test_metrics.py`.)
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.workstation.centralseed import add_user, seed_batch
from workstation import page_problems, sync
from workstation.auth import Actor
from workstation.cli import main
from workstation.store import Store


def _stats(central: Store, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["--central", central.url, "stats", *args]) == 0
    return capsys.readouterr().out


def test_stats_lists_the_open_page_problems_one_line_each(central: Store, local: Store,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert "page problems: none open" in _stats(central, capsys).splitlines()
    ann = add_user(central, "ann")
    sue = Actor(add_user(central, "sue", "supervisor"), "sue", "supervisor")
    seed_batch(central, documents=3, passes=(1,), name="CLAIMS-7")
    claim, _ = sync.claim_and_pull(central, local, ann, pass_no=1)
    details = ("", "The page image\ncould not be decoded.", "")
    first, second, third = (page_problems.report_page(local, ann, claim.unit_id, doc, 1, detail=detail).problem_id
                            for doc, detail in zip(claim.document_ids, details))
    assert sync.push_pending(local, central).problems == 3
    page_problems.close_problem(central, sue, third, "rescanned")  # closed: not listed

    lines = _stats(central, capsys).splitlines()
    listed = lines[lines.index("page problems: 2 open") + 1:]
    assert len(listed) == 2 and all(line.startswith("  ") and " UTC  CLAIMS-7  " in line for line in listed)
    assert {line.split(" UTC  CLAIMS-7  ")[1] for line in listed} == {
        "scan_0001.png page 1: missing, reported by Ann",
        "scan_0002.png page 1: missing, reported by Ann (The page image could not be decoded.)"}  # one line

    problems = json.loads(_stats(central, capsys, "--json"))["page_problems"]
    assert {(uuid.UUID(p["id"]), p["batch"], p["document"], p["page"], p["reason"], p["keyer"]) for p in problems} == {
        (first, "CLAIMS-7", "scan_0001.png", 1, "missing", "Ann"), (second, "CLAIMS-7", "scan_0002.png", 1, "missing", "Ann")}
    # One keyer's figures are what that keyer would see: no reports.
    assert "page problems" not in _stats(central, capsys, "--keyer", "ann")
