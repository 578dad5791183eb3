"""The `workstation` command.

With no sub-command it opens the desktop application. Every sub-command is headless and lives in
its own module in this package; a module joins the command line by defining
`register(subparsers)`, which adds its parser and sets `func=run` on it. Modules are found at
run time, so adding a command never means editing a shared list.

Known errors (`KnownError`) are printed as a sentence and a hint, exit status 2; bugs keep
their traceback (they are bugs) and exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from workstation import __version__
from workstation.cli.context import CliContext
from workstation.errors import KnownError

# Modules in this package that are helpers, not commands.
_NOT_COMMANDS = {"__main__", "context", "progress"}

log = logging.getLogger(__name__)


def command_modules() -> list[str]:
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_COMMANDS]
    return [f"{__name__}.{name}" for name in sorted(names)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workstation",
        description="Keying Workstation: blind double-entry data keying. "
        "Without a command, opens the desktop application.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common_options(parser, None)
    parser.add_argument("--self-test", action="store_true", help="run the installation self-test and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        module = importlib.import_module(name)
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    # The workspace options work after the command too (`workstation demo --data-dir DIR`).
    for command_parser in sub.choices.values():
        _common_options(command_parser, argparse.SUPPRESS)
    return parser


def _common_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--data-dir", default=default,
                        help="workspace folder (default: $WORKSTATION_DATA_DIR or the user data folder)")
    parser.add_argument("--central", metavar="URL", default=default,
                        help="central database URL (default: $WORKSTATION_CENTRAL_URL, settings, or the embedded SQLite file)")
    parser.add_argument("-v", "--verbose", action="store_true", default=default if default is not None else False,
                        help="log debug messages to the terminal")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The parsed command line. Command modules are imported only when a command (or help) is
    asked for: opening the desktop application or `--self-test` then skips every command's
    dependencies (SQLAlchemy, Alembic, the simulator), which cuts the time to the login dialog
    several times (tests/benchmarks/bench_build.py, startup_to_login_ms)."""
    words = list(sys.argv[1:] if argv is None else argv)
    base = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    _common_options(base, None)
    base.add_argument("--self-test", action="store_true")
    try:
        args, rest = base.parse_known_args(words)
    except argparse.ArgumentError:
        rest = words  # the full parser reports it, with the usage
    if rest:
        return build_parser().parse_args(words)
    args.command = None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ctx = CliContext.from_args(args)
    try:
        if args.self_test:
            from workstation.selftest import run_self_test

            return run_self_test(ctx)
        if args.command is None:
            return ctx.open_gui()
        return int(args.func(args, ctx) or 0)
    except KnownError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"       {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
