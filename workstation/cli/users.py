"""`workstation users`: add, list and change accounts (as an administrator).

Every change acts as an administrator who proves it with a password (`--as NAME`; the password is
asked on the terminal or read from WORKSTATION_PASSWORD for scripts). The very first account of a
central database is an administrator made without one.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from workstation import auth
from workstation.cli.context import CliContext
from workstation.errors import KnownError
from workstation.models import ROLES, utcnow


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("users", help="add, list and change user accounts")
    parser.add_argument("--as", dest="acting", metavar="NAME", help="the administrator making the change")
    actions = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add an account (its password is asked for)")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--name", default="", help="display name")
    actions.add_parser("list", help="list accounts")
    passwd = actions.add_parser("passwd", help="set a new password (unlocks the account)")
    passwd.add_argument("username")
    role = actions.add_parser("role", help="change an account's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    for name in ("disable", "enable"):
        actions.add_parser(name, help=f"{name} an account").add_argument("username")
    parser.set_defaults(func=run)


def _secret(prompt: str, env: str) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass(prompt)


def _new_password(username: str) -> str:
    password = _secret(f"New password for {username}: ", "WORKSTATION_NEW_PASSWORD")
    auth.check_password_rules(password)
    return password


def _acting(args: argparse.Namespace, ctx: CliContext) -> auth.Actor:
    if not args.acting:
        raise KnownError("This change needs an administrator.", "Add --as NAME (an admin account) before the action.")
    return acting(args, ctx)


def add_acting_option(parser: argparse.ArgumentParser) -> None:
    """`--as NAME` for a command that may act as an account (other commands use this too)."""
    parser.add_argument("--as", dest="acting", metavar="NAME",
                        help="act as this account (its password is asked for, or read from "
                             "WORKSTATION_PASSWORD); default: the machine's operator")


def acting(args: argparse.Namespace, ctx: CliContext) -> auth.Actor:
    """The account named by `--as` once its password is right; else the machine's operator."""
    if not getattr(args, "acting", None):
        from workstation.settings import load_settings

        if not load_settings(ctx.ws).operator_commands:
            raise KnownError("Commands on this computer must name the account they act as.",
                             "Add --as NAME (you will be asked for its password).")
        return auth.operator(ctx.os_user())
    password = _secret(f"Password for {args.acting}: ", "WORKSTATION_PASSWORD")
    return auth.authenticate(ctx.central(), args.acting, password)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    central = ctx.central()
    action = args.users_command
    if action == "add":
        by = None if args.acting is None and args.role == "admin" else _acting(args, ctx)
        actor = auth.create_user(central, by, args.username, args.role, _new_password(args.username),
                                 display_name=args.name)
        print(f"added {actor.username} ({actor.role})")
        return 0
    by = _acting(args, ctx)
    if action == "list":
        rows, now = auth.list_users(central, by), utcnow()
        width = max((len(r.username) for r in rows), default=8)
        for r in rows:  # the same states as the Administration page, in UTC
            print(f"{r.username:<{width}}  {r.role:<10}  {r.display_name:<24}  {auth.account_state(r, now)}")
    elif action == "passwd":
        auth.set_password(central, by, args.username, _new_password(args.username))
        print(f"password of {args.username} changed")
    elif action == "role":
        auth.set_role(central, by, args.username, args.role)
        print(f"{args.username} is now {args.role}")
    else:
        auth.set_active(central, by, args.username, action == "enable")
        print(f"{args.username} {action}d")
    return 0
