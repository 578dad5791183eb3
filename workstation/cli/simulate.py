"""`workstation simulate`: simulated keyers key the demo batches; prints the data-quality figures."""

from __future__ import annotations

import argparse
import sys

from workstation.cli.context import CliContext
from workstation.simulate import ErrorModel, Simulation


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "simulate", help="simulated keyers key the demo batches through the real services",
        description="Fills a demo workspace with keying history (several keyers over working days) and "
        "measures data quality: residual errors of final values against the ground truth, and keyings per field.")
    parser.add_argument("--keyers", type=int, default=6, help="simulated keyers (default 6)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=ErrorModel.field_error_rate,
                        help="chance a keyer errs on a field (default 0.0037)")
    parser.add_argument("--hours-per-day", type=float, default=7.5, help="shift length in simulated hours")
    parser.add_argument("--unit-size", type=int, default=10, help="documents per claimed unit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.keyers < 3:
        print("error: double entry with third keys needs at least 3 keyers; give --keyers 3 or more.")
        return 2
    model = ErrorModel(field_error_rate=args.error_rate)
    sim = Simulation(ctx.ws, ctx.central(), keyers=args.keyers, seed=args.seed, model=model,
                     hours_per_day=args.hours_per_day, unit_size=args.unit_size,
                     progress=_progress if sys.stdout.isatty() else None)
    report = sim.run()
    if sys.stdout.isatty():
        print()
    for line in report.lines():
        print(line)
    return 0


def _progress(units: int, _total: int) -> None:
    print(f"\rsimulated units: {units}", end="", flush=True)
