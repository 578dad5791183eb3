"""`workstation audit verify|export`: check the audit log's hash chain, write it out as CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from workstation import audit
from workstation.cli.context import CliContext
from workstation.cli.users import acting, add_acting_option


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("audit", help="verify or export the audit log")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    actions.add_parser("verify", help="check that no event was edited or deleted (exit 1 if one was)")
    export = actions.add_parser("export", help="write every audit event to a CSV file")
    export.add_argument("--out", required=True, type=Path, help="CSV file to write")
    add_acting_option(export)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    central = ctx.central()
    if args.audit_command == "verify":
        audit.chain_pending(central.engine)  # claims' unchained newest events first, so all are checked
        with central.session() as s:
            result = audit.verify(s)
        if result.ok:
            print(f"{result.events} events, chain intact; last hash {result.last_hash or '-'}")
            print("Note the count and last hash: a later check showing fewer events means the newest were cut off.")
            return 0
        print(f"AUDIT LOG TAMPERED: {result.problem}.")
        print(f"{result.events - 1} events before it are intact.")
        return 1
    by = acting(args, ctx)
    audit.chain_pending(central.engine)  # so every exported event carries its hashes
    with central.transaction() as s:
        count = audit.export_csv(s, args.out, by=by)
    print(f"wrote {count} audit events to {args.out}")
    return 0
