"""A floor with history for the dashboard: `workstation simulate` over several days, then open work.

The simulated keyers finish every demo batch (several working days of short shifts), then two
new batches are imported from the same scans and partly keyed through the real services, so the
dashboard has keyers, hours, errors and open batches with progress to show.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from workstation import auth, sync
from workstation import models as m
from workstation.demo.workspace import build_demo
from workstation.importer import import_paths
from workstation.keying import KeyingSession
from workstation.paths import Workspace
from workstation.simulate import ErrorModel, Simulation
from workstation.store import Store, open_central, open_local
from workstation.templates import load_template
from workstation.resources import resource_path

UTC = dt.timezone.utc
START = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class Floor:
    central: Store
    first_day: dt.date
    last_day: dt.date
    keyers: int


class _Clock:
    def __init__(self, base: dt.datetime) -> None:
        self.base, self.t = base, 0.0

    def __call__(self) -> float:
        return self.t

    def wall(self) -> dt.datetime:
        return self.base + dt.timedelta(seconds=self.t)


def _key_documents(central: Store, local: Store, keyer_id: uuid.UUID, batch: str, pass_no: int, count: int,
                   start: dt.datetime) -> None:
    """Claim `count` documents of one pass and key every field "7" at a steady pace, then push."""
    with central.session() as s:
        batch_id = s.scalar(select(m.Batch.id).where(m.Batch.name == batch))
    clock = _Clock(start)
    claim, _ = sync.claim_and_pull(central, local, keyer_id, batch_id=batch_id, pass_no=pass_no, max_documents=count,
                                   now=clock.wall())
    session = KeyingSession.open(local, claim.unit_id, keyer_id, clock=clock, wallclock=clock.wall)
    while not session.unit_finished:
        while True:
            clock.t += 0.6
            session.keystroke()
            session.set_text("7")
            clock.t += 0.4
            if session.advance(confirm=True).document_done:
                break
        session.finish_document()
    sync.push_pending(local, central)


def build_floor(ws: Workspace, tmp: Path, *, documents: int = 24, keyers: int = 5, shift_hours: float = 0.15) -> Floor:
    build_demo(ws, seed=5, documents=documents)
    central = open_central(ws.embedded_central_url)
    sim = Simulation(ws, central, keyers=keyers, seed=5, model=ErrorModel(field_error_rate=0.02), start=START,
                     hours_per_day=shift_hours, unit_size=3)
    report = sim.run()
    last = START.date() + dt.timedelta(days=report.days + 3)
    operator = auth.operator("test")
    for name, template, folder in (("CLAIMS-0142", "cms1500", "CLAIMS-DEMO"), ("REBATES-0077", "rebate", "REBATES-DEMO")):
        import_paths(central, load_template(resource_path("templates", f"{template}.toml")), name,
                     [ws.scans_dir / folder], by=operator)
    with central.session() as s:
        ids = dict(s.execute(select(m.User.username, m.User.id).where(m.User.username.in_(["sim01", "sim02", "sim03"]))).all())
    stations = {name: open_local(f"sqlite:///{tmp / f'{name}-open.sqlite'}") for name in ids}
    morning = dt.datetime.combine(last, dt.time(9, 0), UTC)
    try:
        _key_documents(central, stations["sim01"], ids["sim01"], "CLAIMS-0142", 1, documents // 2, morning)
        _key_documents(central, stations["sim02"], ids["sim02"], "REBATES-0077", 1, documents - 2, morning)
        _key_documents(central, stations["sim03"], ids["sim03"], "REBATES-0077", 2, documents // 3, morning)
    finally:
        for store in stations.values():
            store.dispose()
    return Floor(central, START.date(), last, keyers)
