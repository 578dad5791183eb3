"""The installation self-test runs in a clean process, names every check, and reports failures."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from workstation import selftest

CHECK_NAMES = ("imports", "resources", "templates", "page decode", "local store", "central schema",
               "database drivers", "passwords", "qt", "ui", "keyring")


def test_self_test_passes_and_reports_each_check(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKSTATION_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "workstation.cli", "--self-test"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line[5:].split(":")[0] for line in lines[:-1]] == list(CHECK_NAMES)
    assert all(line.startswith("ok   ") for line in lines[:-1]), result.stdout
    assert "G4 TIFF" in result.stdout and "PDF (pdfium)" in result.stdout
    assert "postgresql+psycopg" in result.stdout
    assert lines[-1].startswith("self-test passed")


def test_a_failing_check_fails_the_run_without_hiding_the_others() -> None:
    def broken() -> str:
        raise ImportError("No module named 'psycopg_binary'")

    out = io.StringIO()
    status = selftest.run_self_test(out=out, checks=(("drivers", broken), ("after", lambda: "still ran")))
    lines = out.getvalue().splitlines()
    assert status == 1
    assert lines[0] == "FAIL drivers: ImportError: No module named 'psycopg_binary'"
    assert lines[1].startswith("ok   after: still ran")
    assert lines[2].startswith("self-test failed (1 of 2 checks)")


def test_a_windowed_executable_without_stdout_still_gets_an_exit_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    assert selftest.run_self_test(checks=(("fine", lambda: "yes"),)) == 0


def test_the_import_check_covers_modules_found_by_name_but_not_the_migrations() -> None:
    names = selftest.module_names("workstation")
    assert {"workstation.cli.central", "workstation.cli.demo", "workstation.demo.scans", "workstation.keying.session"} <= set(names)
    assert not [n for n in names if n.startswith("workstation.migrations") or n.endswith("__main__")]


def test_no_credential_store_fails_only_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(fail.Keyring())  # the conftest fixture restores the in-memory backend
    monkeypatch.setattr(sys, "platform", "linux")
    assert "no credential store here" in selftest._keyring()
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(RuntimeError, match="Credential Manager"):
        selftest._keyring()


def test_headless_commands_do_not_load_qt(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from workstation.cli import main\n"
        "main(['central', 'status'])\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt was imported'\n"
    )
    env = dict(os.environ, WORKSTATION_DATA_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
