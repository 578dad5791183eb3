"""The central database commands and the rule that its password lives only in keyring."""

from __future__ import annotations

import io
from pathlib import Path

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from tests.conftest import PG_URL, MemoryKeyring, require_pg
from workstation import secrets
from workstation.cli import main
from workstation.errors import CredentialError
from workstation.migrate import current_revision, head_revision
from workstation.store import Store


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
    assert "Logging in to" in err and "Traceback" not in err
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
