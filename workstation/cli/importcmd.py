"""`workstation import`: turn a folder of scans into a batch ready for keying.

(The module is not called `import` because that is a Python keyword.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workstation.cli.context import CliContext
from workstation.cli.progress import ProgressBar
from workstation.cli.users import acting, add_acting_option
from workstation.importer import ImportReport, import_paths, resolve_template_arg


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "import",
        help="import scans (TIFF, PNG, JPEG, PDF) as a new batch",
        description="Import scan files and folders as a new batch. Each file is one document; "
        "folders are searched recursively. Unreadable files are skipped and listed.",
    )
    parser.add_argument("--template", required=True, metavar="T",
                        help="a template .toml file, or the name of a sample template (e.g. cms1500)")
    parser.add_argument("--batch", required=True, metavar="NAME", help="name of the new batch (must be unused)")
    parser.add_argument("--priority", type=int, default=0, metavar="N",
                        help="queue priority; higher is keyed first (default 0)")
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="scan files or folders")
    add_acting_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    template = resolve_template_arg(args.template)
    central = ctx.central()
    report = import_paths(central, template, args.batch, args.paths, by=acting(args, ctx), priority=args.priority,
                          progress=ProgressBar(f"Importing {args.batch}"))
    print_report(report)
    return 0 if report.documents else 1


def print_report(report: ImportReport) -> None:
    if report.documents:
        print(f"Batch {report.batch_name}: {report.documents} document(s), {report.pages} page(s) imported; "
              f"{report.images_new} new image(s), {report.images_reused} already stored.")
    else:
        print(f"Nothing was imported; batch {report.batch_name} was not created.")
    if report.skipped:
        print(f"Skipped {len(report.skipped)} file(s):")
        for name, reason in report.skipped:
            print(f"  {name}: {reason}")
