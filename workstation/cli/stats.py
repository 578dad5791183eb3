"""`workstation stats`: the same productivity and accuracy figures the dashboard shows.

With them, like the dashboard, the open page problem reports (F8; see `workstation.page_problems`),
a count and one line each, newest first, so a supervisor without the desktop sees them too.
They are left out with `--keyer` (one keyer's figures, as the keyer sees them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import select

from workstation import metrics
from workstation import models as m
from workstation.cli.context import CliContext
from workstation.cli.users import acting, add_acting_option
from workstation.errors import KnownError, NotFound
from workstation.page_problems import PageProblemRow


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("stats", help="keyer speed and accuracy, batch progress, open page problems")
    parser.add_argument("--keyer", help="only this keyer (user name)")
    parser.add_argument("--from", dest="start", type=_date, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--to", dest="end", type=_date, help="last day, YYYY-MM-DD (UTC), inclusive")
    parser.add_argument("--template", help="only batches of this template (name)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_acting_option(parser)
    parser.set_defaults(func=run)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from exc


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.start and args.end and args.start > args.end:
        raise KnownError("--from is after --to.", "Give the first day first.")
    start, end = metrics.day_range(args.start, args.end)
    central = ctx.central()
    with central.session() as s:
        keyer_id = None
        if args.keyer:
            keyer_id = s.scalar(select(m.User.id).where(m.User.username == args.keyer))
            if keyer_id is None:
                raise NotFound(f"There is no user named {args.keyer!r}.", "`workstation users list` shows the users.")
        if args.template and s.scalar(select(m.Template.id).where(m.Template.name == args.template).limit(1)) is None:
            raise NotFound(f"There is no template named {args.template!r}.")
    filters = metrics.Filters(start=start, end=end, keyer_id=keyer_id, template=args.template)
    # The same service, and so the same numbers, as the supervisor's dashboard.
    board = metrics.load_dashboard(central, acting(args, ctx), filters, batches=not args.keyer)
    keyers, team, classes, batches, problems = (board.keyers, board.team, board.errors_by_class, board.batches,
                                                board.page_problems)
    fields = board.errors_by_field[:10]
    if args.json:
        print(json.dumps({
            "team": team.as_dict(),
            "keyers": [k.as_dict() for k in keyers],
            "errors_by_class": classes,
            "errors_by_field": [{"template": f.template, "field": f.field, "scored": f.scored, "errors": f.errors} for f in fields],
            "batches": [{"batch": b.name, "template": b.template, "documents": b.documents, "pass1_left": b.pass1_left,
                         "pass2_left": b.pass2_left, "third_key_left": b.third_key_left, "in_qa": b.in_qa,
                         "final": b.final} for b in batches],
            "page_problems": [problem_dict(p) for p in problems],
        }, indent=2))
        return 0
    print(f"{'keyer':<16}{'docs':>7}{'fields':>8}{'keys':>9}{'act h':>7}{'KPH':>8}{'acc %':>8}{'err/1k':>8}{'as keyer':>9}{'as verif':>9}")
    for k in keyers:
        f = k.figures
        print(f"{k.username:<16}{f.documents:>7}{f.fields:>8}{f.keystrokes:>9}{f.active_hours:>7.2f}"
              f"{_num(f.kph, 0):>8}{_num(None if f.accuracy is None else 100 * f.accuracy, 2):>8}"
              f"{_num(f.errors_per_1000_keystrokes, 2):>8}{k.blamed_as_keyer:>9}{k.blamed_as_verifier:>9}")
    print(f"{'team':<16}{team.documents:>7}{team.fields:>8}{team.keystrokes:>9}{team.active_hours:>7.2f}"
          f"{_num(team.kph, 0):>8}{_num(None if team.accuracy is None else 100 * team.accuracy, 2):>8}"
          f"{_num(team.errors_per_1000_keystrokes, 2):>8}")
    print("errors by class: " + ", ".join(f"{name} {count}" for name, count in classes.items()))
    if fields and fields[0].errors:
        print("fields with most errors: " + ", ".join(f"{f.template}.{f.field} {f.errors}" for f in fields if f.errors))
    for b in batches:
        print(f"batch {b.name} ({b.template}): {b.documents} documents, pass 1 left {b.pass1_left}, pass 2 left "
              f"{b.pass2_left}, third key {b.third_key_left}, QA {b.in_qa}, final {b.final}")
    if not args.keyer:
        _print_problems(problems)
    return 0


def _print_problems(problems: Sequence[PageProblemRow]) -> None:
    """The open page problems: a count, then one line each (the dashboard's table, as text)."""
    capped = " (the newest; more are open)" if len(problems) >= metrics.DASHBOARD_PAGE_PROBLEMS else ""
    print(f"page problems: {len(problems)} open{capped}" if problems else "page problems: none open")
    for p in problems:
        print(f"  {problem_line(p)}")


def problem_line(p: PageProblemRow) -> str:
    """A report on one line: when, batch, document, page, reason, who reported it, the detail."""
    detail = f" ({' '.join(p.detail.split())})" if p.detail.strip() else ""
    return (f"{p.reported_at:%Y-%m-%d %H:%M} UTC  {p.batch}  {p.document} page {p.page_no}: {p.reason_text}, "
            f"reported by {p.keyer}{detail}")


def problem_dict(p: PageProblemRow) -> dict[str, object]:
    """A report as JSON (`workstation stats --json`, `workstation page-problems list --json`)."""
    return {"id": str(p.id), "batch": p.batch, "document": p.document, "page": p.page_no, "reason": p.reason,
            "keyer": p.keyer, "reported_at": p.reported_at.isoformat(), "detail": p.detail}


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
