"""Fault injection: the central side fails at one chosen statement; a process killed hard."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event

from workstation import sync
from workstation.store import Store

_R = TypeVar("_R")


def cut_at(central: Store, k: int, op: Callable[[], _R]) -> tuple[_R | BaseException, bool]:
    """Run `op` with the central side's k-th statement raising; returns what `op` returned (or
    the exception it raised) and whether statement k was reached (False: `op` ran through uncut)."""
    seen = 0

    def fail_at_k(conn: object, cursor: object, statement: str, *args: object) -> None:
        nonlocal seen
        seen += 1
        if seen == k:
            raise RuntimeError(f"injected failure at statement {k}")

    event.listen(central.engine, "before_cursor_execute", fail_at_k)
    try:
        try:
            result: _R | BaseException = op()
        except Exception as exc:  # noqa: BLE001 - handed back for the test to look at
            result = exc
    finally:
        event.remove(central.engine, "before_cursor_execute", fail_at_k)
    return result, seen >= k


def push_cut_at(local: Store, central: Store, k: int) -> tuple[sync.PushReport, bool]:
    """Push what is pending with the central side's k-th statement raising (a push never raises)."""
    report, cut = cut_at(central, k, lambda: sync.push_pending(local, central))
    assert isinstance(report, sync.PushReport), report
    return report, cut


def hard_kill(child: subprocess.Popen[Any]) -> None:
    """Stop `child` as a power cut would as far as it can tell: at once, no clean-up, no atexit
    (SIGKILL; TerminateProcess on Windows), and check that this is how it ended."""
    child.kill()
    child.wait(timeout=30)
    killed = -signal.SIGKILL if hasattr(signal, "SIGKILL") else 1  # Popen.kill's exit code on Windows
    assert child.returncode == killed, f"the child ended by itself ({child.returncode}) before it was killed"
