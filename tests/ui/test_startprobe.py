"""WORKSTATION_EXIT_AT_LOGIN=1 (the startup benchmark's probe) reports the login dialog and exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ui import startprobe


def _start_app(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", WORKSTATION_DATA_DIR=str(tmp_path / "ws"), **extra)
    return subprocess.run([sys.executable, "-m", "workstation.cli"], env=env, capture_output=True, text=True, timeout=120)


def test_the_probe_prints_once_the_login_dialog_is_shown_then_the_app_exits(tmp_path: Path) -> None:
    result = _start_app(tmp_path, **{startprobe.VARIABLE: "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [startprobe.MARKER]
