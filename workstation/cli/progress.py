"""A terminal progress bar driven by the core's plain progress callbacks."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Call with (done, total, label); draws on a terminal, prints sparse lines otherwise."""

    def __init__(self, title: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.title = title
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._last = 0.0
        self._last_pct = -1

    def __call__(self, done: int, total: int, label: str = "") -> None:
        now = time.monotonic()
        pct = int(100 * done / total) if total else 100
        final = done >= total
        if self.tty:
            if not final and now - self._last < 0.05:
                return
            filled = int(self.width * pct / 100)
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r{self.title} [{bar}] {done}/{total} {label[:40]:<40}")
            if final:
                self.stream.write("\n")
            self.stream.flush()
        elif final or pct // 10 != self._last_pct // 10:
            self.stream.write(f"{self.title}: {done}/{total} ({pct}%)\n")
            self._last_pct = pct
        self._last = now
