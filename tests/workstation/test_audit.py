"""The audit log: a hash chain that detects edited and deleted events; CSV export; the CLI."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from tests.workstation.centralseed import add_user
from workstation import audit
from workstation import models as m
from workstation.cli import main
from workstation.store import Store


def write_events(central: Store, count: int) -> None:
    user = add_user(central, "asha")
    for i in range(count):
        with central.transaction() as s:
            audit.record(s, "work.claim", actor=user, subject=f"unit {i}", details={"documents": i})


def test_a_clean_chain_verifies(central: Store) -> None:
    write_events(central, 5)
    with central.session() as s:
        result = audit.verify(s)
        events = s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.seq)).all()
    assert result.ok and result.events == 5
    assert events[0].prev_hash == "" and all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    assert events[0].username == "asha"


def test_an_edited_event_is_detected(central: Store) -> None:
    write_events(central, 5)
    with central.transaction() as s:
        third = s.scalars(select(m.AuditEvent.seq).order_by(m.AuditEvent.seq).offset(2).limit(1)).one()
        s.execute(update(m.AuditEvent).where(m.AuditEvent.seq == third).values(details={"documents": 99}))
    with central.session() as s:
        result = audit.verify(s)
    assert not result.ok and result.broken_seq == third and "changed" in result.problem


def test_a_deleted_event_is_detected(central: Store) -> None:
    write_events(central, 5)
    with central.transaction() as s:
        second = s.scalars(select(m.AuditEvent.seq).order_by(m.AuditEvent.seq).offset(1).limit(1)).one()
        s.execute(delete(m.AuditEvent).where(m.AuditEvent.seq == second))
    with central.session() as s:
        result = audit.verify(s)
    assert not result.ok and "deleted" in result.problem and result.broken_seq is not None
    assert result.broken_seq > second


def test_an_event_rolls_back_with_the_change_it_describes(central: Store) -> None:
    with pytest.raises(RuntimeError), central.transaction() as s:
        audit.record(s, "export", subject="B1")
        raise RuntimeError("the export failed")
    with central.session() as s:
        assert s.scalars(select(m.AuditEvent)).all() == []


def test_details_refuse_long_text_that_could_be_a_keyed_value(central: Store) -> None:
    with pytest.raises(ValueError, match="codes, not values"), central.transaction() as s:
        audit.record(s, "qa_decision", details={"value": "x" * 500})


def test_concurrent_writers_keep_one_chain(central: Store) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                for attempt in range(20):
                    try:
                        with central.transaction() as s:
                            audit.record(s, "work.claim", subject=f"w{n}-{i}")
                        break
                    except Exception as exc:  # SQLite may answer busy: the writer tries again
                        if attempt == 19 or "locked" not in str(exc).lower() and "busy" not in str(exc).lower():
                            raise
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with central.session() as s:
        result = audit.verify(s)
    assert result.ok and result.events == 40


def test_cli_verify_and_export(central: Store, central_url: str, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    write_events(central, 3)
    assert main(["--central", central_url, "audit", "verify"]) == 0
    assert "3 events, chain intact" in capsys.readouterr().out
    out = tmp_path / "audit.csv"
    assert main(["--central", central_url, "audit", "export", "--out", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["subject"] for r in rows] == ["unit 0", "unit 1", "unit 2"]
    assert rows[1]["prev_hash"] == rows[0]["hash"]
    with central.transaction() as s:
        s.execute(delete(m.AuditEvent).where(m.AuditEvent.subject == "unit 1"))
    assert main(["--central", central_url, "audit", "verify"]) == 1
    assert "deleted" in capsys.readouterr().out


def test_cli_verify_names_an_edited_event(central: Store, central_url: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_events(central, 4)
    with central.transaction() as s:
        s.execute(update(m.AuditEvent).where(m.AuditEvent.subject == "unit 2").values(subject="unit 9"))
    assert main(["--central", central_url, "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "AUDIT LOG TAMPERED" in out and "was changed after it was written" in out


def test_audit_export_is_refused_to_a_keyer_and_recorded_for_others(
        central: Store, central_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from workstation import auth

    root = auth.create_user(central, None, "root", "admin", "root-password")
    auth.create_user(central, root, "kay", "keyer", "kay-password")
    monkeypatch.setenv("WORKSTATION_PASSWORD", "kay-password")
    out = tmp_path / "audit.csv"
    assert main(["--central", central_url, "audit", "export", "--out", str(out), "--as", "kay"]) == 2
    assert "may not" in capsys.readouterr().err and not out.exists()
    assert main(["--central", central_url, "audit", "export", "--out", str(out)]) == 0  # the machine's operator
    with central.session() as s:
        last = s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.seq.desc()).limit(1)).one()
        assert audit.verify(s).ok
    assert last.action == "audit.export" and last.username.startswith("os:") and last.user_id is None
