"""Starting the desktop application parses the command line without importing any command.

The desktop start reaches the login dialog several times sooner when the command modules (and
SQLAlchemy, Alembic, the simulator behind them) are not imported first; a command still gets
the full parser."""

from __future__ import annotations

import subprocess
import sys

import pytest

from workstation.cli import parse_args


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_desktop_start_imports_no_command_and_no_database_layer() -> None:
    result = _run(
        "import sys\n"
        "from workstation.cli import parse_args\n"
        "args = parse_args(['--data-dir', 'ws', '-v'])\n"
        "assert args.command is None and args.data_dir == 'ws' and args.verbose and not args.self_test\n"
        "loaded = [m for m in sys.modules if m.startswith(('sqlalchemy', 'alembic', 'workstation.cli.'))]\n"
        "assert loaded == ['workstation.cli.context'], loaded\n"
    )
    assert result.returncode == 0, result.stderr


def test_a_command_gets_the_full_parser() -> None:
    args = parse_args(["--data-dir", "ws", "users", "list"])
    assert args.command == "users" and callable(args.func) and args.data_dir == "ws"
    assert parse_args(["--self-test"]).self_test


def test_a_bad_option_is_reported_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        parse_args(["--data-dir"])
    assert raised.value.code == 2
    assert "usage: workstation" in capsys.readouterr().err
