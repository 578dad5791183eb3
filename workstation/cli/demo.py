"""`workstation demo`: build a demo workspace (once) and open the app on it."""

from __future__ import annotations

import argparse

from workstation.cli.context import CliContext
from workstation.cli.progress import ProgressBar
from workstation.demo.workspace import build_demo, is_demo


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "demo", help="build a demo workspace (users, templates, three batches of scans) and open the app",
        description="Builds the demo into the workspace (--data-dir) the first time, printing every "
        "user's password once; later runs just open the app on it.")
    parser.add_argument("--no-gui", action="store_true", help="stop after building; do not open the app")
    parser.add_argument("--reset", action="store_true", help="throw the demo away and build it again")
    parser.add_argument("--seed", type=int, default=1, help="the same seed draws the same documents (default 1)")
    parser.add_argument("--documents", type=int, default=20, help="documents per batch (default 20)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if is_demo(ctx.ws) and not args.reset:
        print(f"Demo workspace {ctx.ws.root} is built already (its passwords were printed then; "
              "`workstation demo --reset` builds it again).")
    else:
        bars: dict[str, ProgressBar] = {}

        def progress(step: str, done: int, total: int) -> None:
            bars.setdefault(step, ProgressBar(step[:1].upper() + step[1:]))(done, total)

        demo = build_demo(ctx.ws, ctx.central_url, seed=args.seed, documents=args.documents,
                          reset_first=args.reset, progress=progress)
        print(f"\nDemo workspace: {ctx.ws.root}")
        print("Batches:")
        for batch in demo.batches:
            print(f"  {batch.name:<14} {batch.template:<8} {batch.documents:>4} documents, {batch.pages:>4} pages")
        print(f"Ground truth (for `workstation simulate`): {ctx.ws.truth_dir}")
        print("\nUsers (the passwords are shown only now; write them down):")
        width = max(len(u.username) for u in demo.users)
        for user in demo.users:
            print(f"  {user.username:<{width}}  {user.role:<10}  {user.password}")
        print(f"\nOpen the app: workstation --data-dir {ctx.ws.root}")
    if args.no_gui:
        return 0
    return ctx.open_gui()
