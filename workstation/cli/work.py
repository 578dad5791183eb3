"""`workstation work list|claim|expire`: look at and take work from the headless side.

For administrators and tests; keyers claim work in the desktop application. `claim` copies the
unit into this station's local store, exactly as the desktop does.
"""

from __future__ import annotations

import argparse
import uuid

from sqlalchemy import select

from workstation import models as m
from workstation.catalog import batch_by_name
from workstation.cli.context import CliContext
from workstation.errors import NotFound
from workstation.store import Store
from workstation.sync import claim_and_pull
from workstation.work import available_work, expire_leases


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("work", help="list, claim or expire work units (administrators, tests)")
    actions = parser.add_subparsers(dest="work_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="what a user may claim now, best first")
    listing.add_argument("--user", required=True, help="user name")
    take = actions.add_parser("claim", help="claim a unit for a user and copy it to this station")
    take.add_argument("--user", required=True, help="user name")
    take.add_argument("--batch", help="batch name (default: the best offer)")
    take.add_argument("--pass", dest="pass_no", type=int, choices=(1, 2, 3), help="pass (default: the best offer)")
    take.add_argument("--max", dest="max_documents", type=int, default=25, help="documents at most (default 25)")
    actions.add_parser("expire", help="return the documents of units whose lease ran out to the queue")
    parser.set_defaults(func=run)


def _user_id(central: Store, username: str) -> uuid.UUID:
    with central.transaction() as s:
        user_id = s.scalar(select(m.User.id).where(m.User.username == username))
    if user_id is None:
        raise NotFound(f"There is no user named {username!r}.", "`workstation users` lists them.")
    return user_id


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    central = ctx.central()
    if args.work_command == "expire":
        print(f"{expire_leases(central)} unit(s) expired")
        return 0
    keyer = _user_id(central, args.user)
    if args.work_command == "list":
        offers = available_work(central, keyer)
        if not offers:
            print(f"no work for {args.user} right now")
        for offer in offers:
            print(f"{offer.batch_name}\tpass {offer.pass_no}\t{offer.documents_left} document(s)\t"
                  f"priority {offer.priority}\t{offer.template_title or offer.template_name}\t"
                  f"waiting since {offer.oldest:%Y-%m-%d %H:%M} UTC")
        return 0
    batch_id = None
    if args.batch:
        with central.transaction() as s:
            batch_id = batch_by_name(s, args.batch).id
    claimed, report = claim_and_pull(central, ctx.local(), keyer, batch_id=batch_id, pass_no=args.pass_no,
                                     max_documents=args.max_documents)
    print(f"claimed unit {claimed.unit_id}: pass {claimed.pass_no}, {report.documents} document(s), "
          f"lease until {claimed.lease_expires_at:%H:%M} UTC; {report.images_copied} image(s) copied, "
          f"{report.images_present} already here")
    return 0
