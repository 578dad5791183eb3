"""The installation self-test runs in a clean process and names every check."""

from __future__ import annotations

import os
import subprocess
import sys


def test_self_test_passes_and_reports_each_check() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-m", "workstation.cli", "--self-test"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for check in ("imports", "resources", "template", "page decode", "local store", "qt", "keyring"):
        assert any(line.startswith(f"ok   {check}:") for line in lines), f"{check} missing: {result.stdout}"
    assert lines[-1].startswith("self-test passed")


def test_headless_commands_do_not_load_qt() -> None:
    code = (
        "import sys\n"
        "from workstation.cli import main\n"
        "main(['central', 'status'])\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules), 'Qt was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
