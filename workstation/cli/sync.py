"""`workstation sync`: send this station's finished work to the central database now.

One round, headless: every finished unit waiting in the outbox is pushed (the same push the
desktop's background worker runs), with a progress bar, then what moved is printed. Once the
central database has a unit, the station's copy of its keyed text and images is purged, unless
`purge_after_push = false` in the settings or `--keep-local`. Exit status 0 when nothing is
left waiting; 3 when the central database cannot be reached and work is still waiting (nothing
is lost: it stays in the outbox); 2 when a unit was refused or the login was (the reason is
printed).
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
from workstation.sync import pending_count, push_pending

EXIT_OFFLINE = 3
EXIT_REFUSED = 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("sync", help="send finished work to the central database now")
    parser.add_argument("--keep-local", action="store_true",
                        help="keep the keyed text and images on this station after sending (default: purge them)")
    parser.set_defaults(func=run)


def _offline(waiting: int, reason: str) -> int:
    print(f"offline: {waiting} finished unit(s) wait to be sent; {reason}", file=sys.stderr)
    print("       Nothing is lost. Run `workstation sync` again when the central database is back.",
          file=sys.stderr)
    return EXIT_OFFLINE


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    local = ctx.local()
    waiting = pending_count(local)
    if waiting == 0:
        print("nothing to send: every finished unit is in the central database")
        return 0
    try:
        central = ctx.central()
    except DatabaseUnavailable as exc:
        if login_refused(exc):
            raise refused_error(ctx.central_url) from exc
        return _offline(waiting, exc.message)
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
    if report.offline:
        return _offline(report.pending, f"the central database at {redact(central.url)} cannot be reached.")
    if report.failed:
        for error in report.errors:
            print(f"error: {error}", file=sys.stderr)
        print(f"       {report.failed} unit(s) were refused and wait in the outbox; "
              "the log file has the details.", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{report.pending} unit(s) still waiting" if report.pending else "nothing left to send")
    return 0
