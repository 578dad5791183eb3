"""`workstation page-problems list|close`: the pages keyers reported missing or unreadable (F8).

The dashboard's page problem table and its Close report button, for a supervisor or QA lead
without the desktop. `list` shows each report with its id (the open ones; `--closed` adds the
rest, with what became of them); `close ID --note TEXT --as NAME` closes one with a note on what
was done, in that account's name, through the same service as the dashboard
(`workstation.page_problems.close_problem`: the same checks, the same audit event).
"""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Callable

from workstation import page_problems
from workstation.cli.context import CliContext
from workstation.cli.stats import problem_dict, problem_line
from workstation.cli.users import acting, add_acting_option
from workstation.errors import KnownError, NotFound
from workstation.page_problems import PageProblemRow
from workstation.reports import problem_state

ID_PREFIX_MIN = 8  # characters of a report's id that name it on the command line


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("page-problems", help="list or close the page problems keyers reported (F8)")
    actions = parser.add_subparsers(dest="problems_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the reports, newest first, each with its id")
    listing.add_argument("--closed", action="store_true", help="the closed reports too, with what was done")
    listing.add_argument("--json", action="store_true", help="print JSON instead of lines")
    add_acting_option(listing)
    close = actions.add_parser("close", help="close a report with a note on what was done")
    close.add_argument("id", help=f"the report's id, or its first {ID_PREFIX_MIN} or more characters (see `list`)")
    close.add_argument("--note", required=True, help='what was done, in a few words, e.g. "rescanned"')
    add_acting_option(close)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.problems_command == "close":
        return _close(args, ctx)
    problems = page_problems.page_problems(ctx.central(), acting(args, ctx), open_only=not args.closed)
    if args.json:
        print(json.dumps([_as_dict(p) for p in problems], indent=2))
        return 0
    word = "reports" if args.closed else "open"
    print(f"page problems: {len(problems)} {word}" if problems else f"page problems: none {word}")
    for p in problems:
        print(_line(p))
    return 0


def _close(args: argparse.Namespace, ctx: CliContext) -> int:
    if not args.acting:  # the report names who closed it: an account, not the machine's operator
        raise KnownError("Closing a report needs the account of the supervisor or QA lead who closes it.",
                         "Add --as NAME (you will be asked for its password).")
    actor = acting(args, ctx)
    central = ctx.central()
    problem_id = _problem_id(args.id, lambda: page_problems.page_problems(central, actor, open_only=False))
    row = page_problems.close_problem(central, actor, problem_id, args.note)
    print(f"closed the report on {row.where}: {row.close_note}")
    return 0


def _problem_id(text: str, problems: Callable[[], list[PageProblemRow]]) -> uuid.UUID:
    """The report `text` names: its whole id, or the start of one that no other report shares
    (only then are the reports read)."""
    wanted = text.strip().lower()
    try:
        return uuid.UUID(wanted)
    except ValueError:
        pass
    if len(wanted) < ID_PREFIX_MIN:
        raise KnownError(f"{text!r} is too short to name a report.",
                         f"Give at least the first {ID_PREFIX_MIN} characters of its id "
                         "(`workstation page-problems list` shows them).")
    found = [p.id for p in problems() if str(p.id).startswith(wanted)]
    if not found:
        raise NotFound(f"No page problem report's id starts with {text!r}.",
                       "`workstation page-problems list --closed` shows every report with its id.")
    if len(found) > 1:
        raise KnownError(f"{len(found)} reports' ids start with {text!r}.", "Give more of the id.")
    return found[0]


def _line(p: PageProblemRow) -> str:
    line = f"{p.id}  {problem_line(p)}"
    state = problem_state(p)
    if state == "closed" and p.closed_at is not None:
        line += f"; closed {p.closed_at:%Y-%m-%d %H:%M} UTC by {p.closed_by}: {p.close_note}"
    elif state != "open":
        line += f"; {state}"
    return line


def _as_dict(p: PageProblemRow) -> dict[str, object]:
    return {**problem_dict(p), "state": problem_state(p),
            "closed_at": p.closed_at.isoformat() if p.closed_at else None,
            "closed_by": p.closed_by, "close_note": p.close_note}
