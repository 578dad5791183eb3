"""Run the benchmarks and print one BENCH line per figure (see tests/benchmarks/__init__.py)."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import tests.benchmarks as package

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    target: str = ""
    baseline: float | None = None
    ratio: float | None = None
    extra: dict[str, object] = field(default_factory=dict)
    met: bool | None = None

    def line(self) -> str:
        parts = [f"BENCH {self.name} {_fmt(self.value)} {self.unit}"]
        if self.target:
            parts.append(f"target {self.target}")
        if self.baseline is not None:
            parts.append(f"baseline {_fmt(self.baseline)}")
        if self.ratio is not None:
            parts.append(f"ratio {_fmt(self.ratio)}")
        for key, value in self.extra.items():
            parts.append(f"{key} {_fmt(value) if isinstance(value, float) else value}")
        return " ".join(parts)


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value else "0"


def _met(value: float, target: str) -> bool | None:
    target = target.strip()
    for op in ("<=", ">="):
        if target.startswith(op):
            bound = float(target[2:].strip().split()[0].replace(",", ""))
            return value <= bound if op == "<=" else value >= bound
    return None


class Report:
    """Collects figures; a benchmark module calls `figure` for each number it measured."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.figures: list[Figure] = []

    def figure(self, name: str, value: float, unit: str, *, target: str = "",
               baseline: float | None = None, ratio: float | None = None, **extra: object) -> Figure:
        fig = Figure(name, float(value), unit, target, baseline, ratio, dict(extra), _met(float(value), target))
        self.figures.append(fig)
        print(fig.line(), flush=True)
        return fig


_QT_NOISE = ("This plugin does not support propagateSizeHints()",)
_qt_quieted = False


def _quiet_qt() -> None:
    """Drop the offscreen platform's harmless warning, printed once per window shown (hundreds
    of lines in a run); every other Qt message still reaches stderr."""
    global _qt_quieted
    if _qt_quieted or "PySide6.QtCore" not in sys.modules:
        return
    from PySide6.QtCore import qInstallMessageHandler

    def handler(_mode: object, _context: object, message: str) -> None:
        if message not in _QT_NOISE:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)
    _qt_quieted = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("modules", nargs="*", help="benchmark module names (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    available = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.name.startswith("bench_"))
    chosen = args.modules or available
    unknown = [name for name in chosen if name not in available and f"bench_{name}" not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ws-bench-") as tmp:
        os.environ["WORKSTATION_DATA_DIR"] = str(Path(tmp) / "workspace")
        report = Report(Path(tmp))
        started = time.perf_counter()
        for name in chosen:
            module_name = name if name in available else f"bench_{name}"
            module = importlib.import_module(f"tests.benchmarks.{module_name}")
            _quiet_qt()
            workdir = Path(tmp) / module_name
            workdir.mkdir()
            report.workdir = workdir
            module.run(report)
        print(f"# {len(report.figures)} figures in {time.perf_counter() - started:.1f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in report.figures], indent=2), encoding="utf-8")
    missed = [f.name for f in report.figures if f.met is False]
    if missed:
        print(f"# targets missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
