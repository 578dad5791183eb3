"""The command context opens each store once, even when several threads ask at the same time."""

from __future__ import annotations

import threading

from workstation.cli.context import CliContext
from workstation.migrate import current_revision, head_revision
from workstation.paths import Workspace
from workstation.store import Store


def test_threads_opening_the_embedded_central_database_at_once_share_one_migrated_store(ws: Workspace) -> None:
    ctx = CliContext(ws=ws, central_url=ws.embedded_central_url)
    start = threading.Barrier(6)
    got: list[Store] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            got.append(ctx.central())
            got.append(ctx.local())
        except BaseException as exc:  # noqa: BLE001 - examined below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({id(store) for store in got}) == 2  # one central, one local
    assert current_revision(ctx.central()) == head_revision()
    ctx.close()
