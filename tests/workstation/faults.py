"""Fault injection for pushes: the central side fails at one chosen statement."""

from __future__ import annotations

from sqlalchemy import event

from workstation import sync
from workstation.store import Store


def push_cut_at(local: Store, central: Store, k: int) -> tuple[sync.PushReport, bool]:
    """Push what is pending with the central side's k-th statement raising; returns the push's
    report and whether statement k was reached (False: the push ran through uncut)."""
    seen = 0

    def fail_at_k(conn: object, cursor: object, statement: str, *args: object) -> None:
        nonlocal seen
        seen += 1
        if seen == k:
            raise RuntimeError(f"injected failure at statement {k}")

    event.listen(central.engine, "before_cursor_execute", fail_at_k)
    try:
        report = sync.push_pending(local, central)
    finally:
        event.remove(central.engine, "before_cursor_execute", fail_at_k)
    return report, seen >= k
