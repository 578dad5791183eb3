"""What is keyed stays in the data: never in log files or the audit log; masked where shown.

The probe keys recognisable values (an SQL fragment, a sensitive number, a 10,000-character
paste, control characters) through the real services: import, claim, key, push, QA, export.
Then the log files and every audit event are searched for them. The local store and settings
are searched for the central database password after `central login`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import MemoryKeyring
from tests.workstation import imagefiles as files
from workstation import auth, export, qa
from workstation import models as m
from workstation.cli import main
from workstation.errors import KnownError
from workstation.importer import import_paths
from workstation.keying import KeyingSession
from workstation.logsetup import configure_logging
from workstation.paths import Workspace
from workstation.privacy import MASK_CHAR, mask, may_see, shown
from workstation.store import Store, open_central, open_local
from workstation.sync import claim_and_pull, push_pending
from workstation.templates import FormTemplate, load_template

PROBE_TEMPLATE = """\
[template]
name = "privacy_probe"
version = 1
title = "Privacy probe"
pages = 1
mismatch_policy = "qa"

[[fields]]
key = "name"
type = "text"
length = 40
case = "keep"

[[fields]]
key = "ssn"
label = "Social security number"
type = "digits"
length = 9
sensitive = true

[[fields]]
key = "note"
type = "text"
length = 60
case = "keep"

[[fields]]
key = "remark"
type = "text"
length = 40
case = "keep"
"""

SQL = "Robert'); DROP TABLE users;--"
SSN_1, SSN_2 = "918273645", "918273640"
PASTE = "PASTE-MARKER " + "q" * 9987  # 10,000 characters into a 60-character field
CONTROL = "bell\x07and\x00nul MARKER-TWO"
QA_TYPED = "QA-TYPED-NOTE-7731"
# Both passes paste the same long text (so it is not disputed: QA's character diff of a 10,000-
# character value is slow, see the report), and disagree on the SSN and the remark.
KEYED = {1: {"name": SQL, "ssn": SSN_1, "note": PASTE, "remark": "plain remark"},
         2: {"name": SQL, "ssn": SSN_2, "note": PASTE, "remark": CONTROL}}
# What must never be found in a log file or the audit log.
NEEDLES = ("DROP TABLE users", SSN_1, SSN_2, "PASTE-MARKER", "MARKER-TWO", QA_TYPED)


@pytest.fixture
def probe_template(tmp_path: Path) -> FormTemplate:
    path = tmp_path / "privacy_probe.toml"
    path.write_text(PROBE_TEMPLATE, encoding="utf-8")
    return load_template(path)


@pytest.fixture
def logged(ws: Workspace) -> Iterator[Path]:
    """Logging into the workspace's log file at DEBUG, as verbose as it gets."""
    configure_logging(ws.log_dir)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield ws.log_dir
    root.setLevel(level)


def key_everything(local: Store, unit_id: uuid.UUID, keyer_id: uuid.UUID, values: dict[str, str]) -> None:
    session = KeyingSession.open(local, unit_id, keyer_id)
    while not session.unit_finished:
        while True:
            text = values.get(session.path, "")
            for _ in text[:20]:
                session.keystroke()
            session.set_text(text)
            if session.advance(confirm=True).document_done:
                break
        session.finish_document()


def test_keyed_values_reach_no_log_file_and_no_audit_event(
        tmp_path: Path, probe_template: FormTemplate, logged: Path) -> None:
    central = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    root = auth.create_user(central, None, "root", "admin", "root-password")
    users = {name: auth.create_user(central, root, name, role, f"{name}-password")
             for name, role in (("k1", "keyer"), ("k2", "keyer"), ("lead", "qa"), ("sup", "supervisor"))}
    for name in users:
        auth.authenticate(central, name, f"{name}-password")
    scans = tmp_path / "scans"
    odd_name = os.fsdecode(b"scan_\xff\xfe.png")  # not UTF-8: Linux hands it over as surrogates
    files.write(scans / odd_name, files.image_bytes(files.form_page(1, (300, 400), mode="L"), "PNG"))
    report = import_paths(central, probe_template, "P1", [scans], by=root)
    assert report.documents == 1

    for pass_no, keyer in ((1, users["k1"]), (2, users["k2"])):
        station = open_local(f"sqlite:///{tmp_path / f'station{pass_no}.sqlite'}")
        claim, _ = claim_and_pull(central, station, keyer.id, batch_id=report.batch_id, pass_no=pass_no)
        key_everything(station, claim.unit_id, keyer.id, KEYED[pass_no])
        assert push_pending(station, central).sent == 1
        station.dispose()

    lead = users["lead"]
    disputes = {item.field_path: item for item in qa.qa_queue(central, lead)}
    assert set(disputes) == {"ssn", "remark"} and disputes["ssn"].sensitive
    first = next(c for c in disputes["ssn"].candidates if c.pass_no == 1)
    qa.decide(central, lead, disputes["ssn"].dispute_id, entry_id=first.entry_id, reason="image_clear")
    qa.decide(central, lead, disputes["remark"].dispute_id, value=QA_TYPED, reason="keyer_typo")

    sup = users["sup"]
    with central.transaction() as s:
        export.export_batch(s, "P1", "csv", tmp_path / "final.csv", by=sup)
        export.export_audit(s, "P1", tmp_path / "entries.csv", by=sup)
        export.export_audit(s, "P1", tmp_path / "entries-admin.csv", by=root)

    # A database error's message would carry the statement's parameters: they are hidden.
    try:
        with central.transaction() as s:
            s.execute(insert(m.User).values(id=uuid.uuid4(), username=SSN_1, role="nope", password_hash="x"))
    except IntegrityError:
        logging.getLogger("tests.privacy").exception("an insert failed")

    # Stored verbatim, never executed; control characters gone; the long paste whole.
    with central.session() as s:
        stored = {(pass_no, path): value for pass_no, path, value in s.execute(
            select(m.Entry.pass_no, m.FieldValue.field_path, m.FieldValue.value)
            .join(m.Entry, m.Entry.id == m.FieldValue.entry_id))}
        assert s.scalar(select(func.count()).select_from(m.User)) == 5
        source = s.scalars(select(m.Document.source_name)).one()
        events = s.scalars(select(m.AuditEvent)).all()
    assert stored[(1, "name")] == SQL and stored[(1, "note")] == PASTE
    assert stored[(2, "note")] == PASTE and stored[(2, "remark")] == "bellandnul MARKER-TWO"
    assert source == "scan_\ufffd\ufffd.png"

    # Final values go to the client in clear; the per-entry export masks the SSN for a supervisor.
    assert SSN_1 in (tmp_path / "final.csv").read_text(encoding="utf-8")
    entries = (tmp_path / "entries.csv").read_text(encoding="utf-8")
    assert SSN_1 not in entries and SSN_2 not in entries and mask(SSN_1) in entries
    assert SSN_1 in (tmp_path / "entries-admin.csv").read_text(encoding="utf-8")

    actions = {e.action for e in events}
    assert {"login", "user.create", "batch.create", "batch.import", "template.register", "work.claim",
            "work.push", "qa_decision", "export", "export.audit"} <= actions
    audit_text = "\n".join(f"{e.username} {e.action} {e.subject} {json.dumps(e.details)}" for e in events)
    log_text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logged.iterdir() if p.is_file())
    assert "an insert failed" in log_text and "pulled unit" in log_text  # the log was written
    for needle in NEEDLES:
        assert needle not in audit_text, f"{needle!r} in the audit log"
        assert needle not in log_text, f"{needle!r} in the log file"
    central.dispose()


def test_masking_keeps_the_length_and_the_last_two_characters(probe_template: FormTemplate) -> None:
    assert mask("123456789") == MASK_CHAR * 7 + "89"
    assert mask("1234") == MASK_CHAR * 4  # too short to give anything away
    assert mask("") == ""
    ssn, name = probe_template.spec("ssn"), probe_template.spec("name")
    lead = auth.Actor(uuid.uuid4(), "lead", "qa")
    admin = auth.Actor(uuid.uuid4(), "root", "admin")
    assert not may_see(lead, ssn) and may_see(admin, ssn) and may_see(lead, name)
    assert shown(lead, ssn, SSN_1) == mask(SSN_1) and shown(admin, ssn, SSN_1) == SSN_1
    assert shown(lead, name, "ANNA") == "ANNA"


def test_the_local_store_and_settings_hold_no_password_after_central_login(
        data_dir: Path, pg_schema_url: str, memory_keyring: MemoryKeyring, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = pg_schema_url.replace("://", "://postgres@", 1)
    db_password = "Station-Pw-5150"
    monkeypatch.setattr("sys.stdin", io.StringIO(db_password + "\n"))
    assert main(["central", "login", url, "--password-stdin"]) == 0
    assert main(["central", "init"]) == 0
    monkeypatch.setenv("WORKSTATION_NEW_PASSWORD", "Root-Pw-81818")
    assert main(["users", "add", "root", "--role", "admin"]) == 0
    monkeypatch.setenv("WORKSTATION_PASSWORD", "Root-Pw-81818")
    monkeypatch.setenv("WORKSTATION_NEW_PASSWORD", "Keyer-Pw-27272")
    assert main(["users", "--as", "root", "add", "kay", "--role", "keyer"]) == 0
    files.write(tmp_path / "in" / "a.png", files.image_bytes(files.form_page(2, (300, 400), mode="L"), "PNG"))
    assert main(["import", "--template", "rebate", "--batch", "S1", str(tmp_path / "in")]) == 0
    assert main(["work", "claim", "--user", "kay"]) == 0  # the station's local store gets the unit
    capsys.readouterr()

    assert list(memory_keyring.secrets.values()) == [db_password]
    written = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("local") for p in written) and any(p.name == "settings.toml" for p in written)
    for path in written:
        data = path.read_bytes()
        for secret in (db_password, "Root-Pw-81818", "Keyer-Pw-27272"):
            assert secret.encode() not in data, f"{secret} written to {path}"
    local = open_local(Workspace(data_dir).local_url)
    with local.session() as s:
        hashes = s.scalars(select(m.User.password_hash)).all()
    local.dispose()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)  # only hashes, pulled with the work


def test_a_batch_name_with_control_characters_or_undecodable_bytes_is_refused_with_a_reason(
        tmp_path: Path, probe_template: FormTemplate) -> None:
    central = open_central(f"sqlite:///{tmp_path / 'central.sqlite'}", create=True)
    files.write(tmp_path / "in" / "a.png", files.image_bytes(files.form_page(3, (300, 400), mode="L"), "PNG"))
    operator = auth.operator("os:test")
    for name in ("B1\x00; DROP TABLE batches", os.fsdecode(b"B\xff")):
        with pytest.raises(KnownError, match="control characters or bytes that are not text"):
            import_paths(central, probe_template, name, [tmp_path / "in"], by=operator)
    report = import_paths(central, probe_template, "B1'; DROP TABLE batches;--", [tmp_path / "in"], by=operator)
    with central.session() as s:
        assert s.scalars(select(m.Batch.name)).all() == ["B1'; DROP TABLE batches;--"]
    assert report.documents == 1
    central.dispose()
