"""`workstation export`: a batch's final values as CSV or JSON Lines, optionally the audit export."""

from __future__ import annotations

import argparse
from pathlib import Path

from workstation.cli.context import CliContext
from workstation.cli.users import acting, add_acting_option
from workstation.export import FORMATS, export_audit, export_batch


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("export", help="write a batch's final values")
    parser.add_argument("--batch", required=True, help="batch name")
    parser.add_argument("--format", choices=FORMATS, default="csv")
    parser.add_argument("--out", required=True, type=Path, help="file to write")
    parser.add_argument("--partial", action="store_true", help="export the final documents of an unfinished batch")
    parser.add_argument("--audit", action="store_true",
                        help="also write every entry (who, pass, keystrokes, time, how decided) to OUT.audit.csv")
    add_acting_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    by = acting(args, ctx)
    with ctx.central().transaction() as s:
        report = export_batch(s, args.batch, args.format, args.out, by=by, partial=args.partial)
        audit_rows = None
        if args.audit:
            audit_path = args.out.with_name(args.out.name + ".audit.csv")
            audit_rows = export_audit(s, args.batch, audit_path, by=by)
    print(f"exported {report.documents} documents of {args.batch} to {report.path}")
    if audit_rows is not None:
        print(f"audit export: {audit_rows} keyed values to {audit_path}")
    return 0
