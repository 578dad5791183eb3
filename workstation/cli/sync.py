"""`workstation sync`: send this station's finished work to the central database now.

One round, headless: every finished unit and page problem report (F8) waiting in the outbox is
pushed (the same push the desktop's background worker runs), with a progress bar, then what
moved is printed, and what still waits is named by kind. Once the central database has a unit,
the station's copy of its keyed text and images is purged, unless `purge_after_push = false` in
the settings or `--keep-local`. Exit status 0 when nothing is left waiting; 3 when the central
database cannot be reached and work is still waiting (nothing is lost: it stays in the outbox);
2 when a unit or report was refused or the login was (the reason is printed).
"""

from __future__ import annotations

import argparse
import sys

from workstation.cli.context import CliContext
from workstation.cli.progress import ProgressBar
from workstation.errors import DatabaseUnavailable
from workstation.secrets import login_refused, refused_error
from workstation.settings import load_settings
from workstation.store import redact
from workstation.sync import Waiting, push_pending, waiting

EXIT_OFFLINE = 3
EXIT_REFUSED = 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("sync", help="send finished work to the central database now")
    parser.add_argument("--keep-local", action="store_true",
                        help="keep the keyed text and images on this station after sending (default: purge them)")
    parser.set_defaults(func=run)


def waiting_text(items: Waiting) -> str:
    """What waits, by kind: "2 finished unit(s) and 1 page problem report(s)"."""
    parts = [f"{count} {what}" for count, what in ((items.units, "finished unit(s)"),
                                                   (items.problems, "page problem report(s)"),
                                                   (items.other, "outbox item(s) of an unknown kind")) if count]
    if len(parts) < 2:
        return parts[0] if parts else "nothing"
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _offline(items: Waiting, reason: str) -> int:
    print(f"offline: {waiting_text(items)} wait to be sent; {reason}", file=sys.stderr)
    print("       Nothing is lost. Run `workstation sync` again when the central database is back.",
          file=sys.stderr)
    return EXIT_OFFLINE


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    local = ctx.local()
    before = waiting(local)
    if before.total == 0:
        print("nothing to send: every finished unit and page problem report is in the central database")
        return 0
    try:
        central = ctx.central()
    except DatabaseUnavailable as exc:
        if login_refused(exc):
            raise refused_error(ctx.central_url) from exc
        return _offline(before, exc.message)
    purge = load_settings(ctx.ws).purge_after_push and not args.keep_local
    report = push_pending(local, central, progress=ProgressBar("sending"), purge=purge)
    if report.sent:
        kept = "" if purge else "; their keyed text and images stay on this station"
        print(f"sent {report.sent} finished unit(s), {report.documents} document(s), to {redact(central.url)}{kept}")
    if report.problems:
        print(f"sent {report.problems} page problem report(s) to the supervisors")
    if report.discarded:
        print(f"{report.discarded} document(s) had been taken by another keyer after the lease ran out; "
              "their keying counts, not this station's")
    if report.login_refused:
        error = refused_error(central.url)
        print(f"error: {error.message}\n       {error.hint}", file=sys.stderr)
        return EXIT_REFUSED
    after = waiting(local)
    if report.offline:
        return _offline(after, f"the central database at {redact(central.url)} cannot be reached.")
    if report.failed:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"       waiting in the outbox: {waiting_text(after)}; the log file has the details.", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{waiting_text(after)} still waiting" if after.total else "nothing left to send")
    return 0
