"""`workstation central init|upgrade|login|status`: the central database's schema and credentials."""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace

from sqlalchemy.exc import SQLAlchemyError

from workstation import secrets
from workstation.cli.context import CliContext
from workstation.errors import KnownError
from workstation.migrate import current_revision, head_revision, upgrade_central
from workstation.settings import load_settings, save_settings
from workstation.store import Store, redact
from workstation.work import is_offline_error


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("central", help="create, migrate and log in to the central database")
    actions = parser.add_subparsers(dest="central_command", metavar="ACTION", required=True)
    actions.add_parser("init", help="create the central schema (an empty database) or bring it to the newest version")
    actions.add_parser("upgrade", help="migrate the central schema to the newest version")
    actions.add_parser("status", help="show which central database is used and its schema version")
    login = actions.add_parser("login", help="remember a central database URL; its password goes to the OS credential store")
    login.add_argument("url", nargs="?", help="e.g. postgresql://keying@db.example/keying (default: the configured URL)")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    action = args.central_command
    if action == "login":
        return _login(args, ctx)
    url = secrets.with_password(ctx.central_url)
    store = _connect(url)
    try:
        if action == "init":
            _upgrade(store)
            print(f"central database ready at {redact(url)} (schema {current_revision(store)})")
        elif action == "upgrade":
            before = current_revision(store)
            _upgrade(store)
            print(f"central schema {before or 'empty'} -> {current_revision(store)}")
        else:
            revision = current_revision(store)
            state = "up to date" if revision == head_revision() else f"needs `workstation central upgrade` (newest is {head_revision()})"
            print(f"central database: {redact(url)}\nschema: {revision or 'none'} ({state})")
    finally:
        store.dispose()
    return 0


def _connect(url: str) -> Store:
    """A store whose server answered; unreachable or a refused login is a sentence, not a traceback."""
    store = Store(url)
    try:
        with store.engine.connect():
            pass
    except SQLAlchemyError as exc:
        store.dispose()
        raise secrets.connect_error(url, exc) from exc
    return store


def _upgrade(store: Store) -> None:
    try:
        upgrade_central(store)
    except SQLAlchemyError as exc:
        if is_offline_error(exc):
            raise secrets.connect_error(store.url, exc) from exc
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise KnownError(f"Migrating the central database failed: {exc.__class__.__name__}: {detail[0] if detail else ''}.",
                         "Check the database user's rights and the server log.") from exc


def _login(args: argparse.Namespace, ctx: CliContext) -> int:
    url = args.url or ctx.central_url
    bare, inline = secrets.split_password(url)
    if not secrets.needs_password(bare):
        raise KnownError(
            f"{redact(bare)} does not take a password here.",
            "Give a PostgreSQL URL with a user name, e.g. postgresql://keying@db.example/keying.",
        )
    password = inline
    if password is None:
        if args.password_stdin or not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(f"Password for {secrets.credential_key(bare)}: ")
    if not password:
        raise KnownError("No password was given.", "Type the database password, or pipe it with --password-stdin.")
    secrets.store_password(bare, password)
    # Check it works before remembering the URL; a wrong password or a server that cannot be
    # reached is a plain message, and the password is not kept.
    try:
        store = _connect(secrets.with_password(bare))
    except KnownError as exc:
        secrets.forget_password(bare)
        raise KnownError(f"Logging in failed. {exc.message}",
                         "The password was not kept. Check the user name, the password and the address, "
                         "then run `workstation central login` again.") from exc
    store.dispose()
    save_settings(ctx.ws, replace(load_settings(ctx.ws), central_url=bare))
    print(f"logged in: {redact(bare)} (password kept in {secrets.backend_name()})")
    return 0
