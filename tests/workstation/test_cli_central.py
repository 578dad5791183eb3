"""The central database commands and the rule that its password lives only in keyring."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from tests.conftest import PG_URL, MemoryKeyring, require_pg
from tests.pgnet import PasswordRefusingServer
from tests.workstation.centralseed import add_user, seed_batch, write_finished_unit
from workstation import secrets
from workstation.cli import main
from workstation.errors import CredentialError
from workstation.migrate import current_revision, head_revision
from workstation.paths import Workspace
from workstation.settings import load_settings, save_settings
from workstation.store import Store
from workstation.sync import claim_and_pull, pending_count


def test_init_creates_the_central_schema_at_the_newest_revision(central_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--central", central_url, "central", "init"]) == 0
    assert "central database ready" in capsys.readouterr().out
    store = Store(central_url)
    assert current_revision(store) == head_revision()
    # A second init is harmless.
    assert main(["--central", central_url, "central", "init"]) == 0
    store.dispose()


def test_status_reports_an_unmigrated_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert main(["--central", url, "central", "status"]) == 0
    assert "schema: none" in capsys.readouterr().out


def test_login_keeps_the_password_in_keyring_only(
    data_dir: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    require_pg()
    url = PG_URL.replace("://", "://postgres@", 1) if "@" not in PG_URL else PG_URL
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-Passw0rd\n"))
    assert main(["central", "login", url, "--password-stdin"]) == 0
    assert "logged in" in capsys.readouterr().out
    assert list(memory_keyring.secrets.values()) == ["s3cret-Passw0rd"]
    settings = (data_dir / "settings.toml").read_text()
    assert "postgres@" in settings
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert b"s3cret-Passw0rd" not in path.read_bytes(), f"password written to {path}"
    # The stored password is joined to the URL in memory only.
    assert "s3cret-Passw0rd" in secrets.with_password(url)


def test_a_failed_login_is_a_sentence_and_forgets_the_password(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("whatever\n"))
    code = main(["central", "login", "postgresql://keyer@127.0.0.1:1/keying", "--password-stdin"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Logging in failed" in err and "cannot be reached" in err and "Traceback" not in err
    assert memory_keyring.secrets == {}


def test_a_missing_credential_says_how_to_store_it() -> None:
    with pytest.raises(CredentialError, match="workstation central login"):
        secrets.with_password("postgresql://keyer@db.example/keying")


def test_no_credential_store_at_all_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    keyring.set_keyring(FailKeyring())
    with pytest.raises(CredentialError, match="No credential store is available"):
        secrets.store_password("postgresql://keyer@db.example/keying", "pw")
    code = main(["--central", "postgresql://keyer@db.example/keying", "central", "status"])
    assert code == 2
    assert "No credential store is available" in capsys.readouterr().err


def test_urls_without_a_user_need_no_password() -> None:
    assert secrets.with_password("sqlite:///x.sqlite") == "sqlite:///x.sqlite"
    assert secrets.with_password("postgresql+psycopg://localhost/test") == "postgresql+psycopg://localhost/test"


def test_upgrade_migrates_an_empty_database_and_status_then_says_up_to_date(
    central_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--central", central_url, "central", "upgrade"]) == 0
    assert "central schema empty -> " in capsys.readouterr().out
    assert main(["--central", central_url, "central", "status"]) == 0
    assert f"schema: {head_revision()} (up to date)" in capsys.readouterr().out


@pytest.mark.parametrize("action", ["init", "upgrade", "status"])
def test_an_unreachable_central_database_is_a_sentence(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--central", "postgresql+psycopg://localhost:1/keying", "central", action]) == 2
    err = capsys.readouterr().err
    assert "The central database at postgresql+psycopg://localhost:1/keying cannot be reached" in err
    assert "Traceback" not in err


def test_the_configured_url_is_used_and_the_environment_overrides_it(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    configured, from_env = f"sqlite:///{tmp_path / 'configured.sqlite'}", f"sqlite:///{tmp_path / 'env.sqlite'}"
    save_settings(ws, replace(load_settings(ws), central_url=configured))
    assert main(["central", "status"]) == 0
    assert f"central database: {configured}" in capsys.readouterr().out
    monkeypatch.setenv("WORKSTATION_CENTRAL_URL", from_env)
    assert main(["central", "status"]) == 0
    assert f"central database: {from_env}" in capsys.readouterr().out
    assert main(["--central", configured, "central", "status"]) == 0
    assert f"central database: {configured}" in capsys.readouterr().out


def test_a_wrong_password_at_login_is_a_sentence_and_nothing_is_kept(
    ws: Workspace, refusing_server: PasswordRefusingServer, memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"postgresql://keyer@127.0.0.1:{refusing_server.port}/keying"
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong-pw\n"))
    assert main(["central", "login", url, "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert f"refused the user name or password for keyer@127.0.0.1:{refusing_server.port}/keying" in err
    assert "The password was not kept" in err and "Traceback" not in err and "wrong-pw" not in err
    assert refusing_server.passwords == ["wrong-pw"]  # it was tried, then forgotten
    assert memory_keyring.secrets == {}
    assert load_settings(ws).central_url == ""


def test_a_wrong_stored_password_is_named_by_every_command(
    central: Store, local: Store, refusing_server: PasswordRefusingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://keyer@127.0.0.1:{refusing_server.port}/keying"
    secrets.store_password(url, "stale-pw")
    _waiting_unit(central, local)
    for command in (["central", "status"], ["central", "upgrade"], ["sync"]):
        assert main(["--central", url, *command]) == 2, command
        err = capsys.readouterr().err
        assert "The central database refused the user name or password" in err, command
        assert "workstation central login" in err and "Traceback" not in err and "stale-pw" not in err
    assert pending_count(local) == 1


def test_sync_without_a_stored_password_says_how_to_store_it(
    central: Store, local: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    _waiting_unit(central, local)
    assert main(["--central", "postgresql://keyer@db.example/keying", "sync"]) == 2
    err = capsys.readouterr().err
    assert "No password is stored for the central database keyer@db.example:5432/keying" in err
    assert "workstation central login" in err and "Traceback" not in err
    assert pending_count(local) == 1


def _waiting_unit(central: Store, local: Store) -> None:
    """A finished unit in the station's outbox."""
    keyer = add_user(central, "ann")
    seed_batch(central, documents=1)
    unit, _ = claim_and_pull(central, local, keyer)
    write_finished_unit(local, unit.unit_id)
    assert pending_count(local) == 1
