"""`dashboard_refresh_ms`: every dashboard query over 200 keyers x 30 days (>= 1,000,000 values).

Data is written in bulk straight into the schema (Core inserts), shaped like a real floor: each
keyer keys ~170 fields a day over 30 days, values scored against finals with ~0.4% errors. Each
day's rows are followed, in their transaction, by the summary upkeep a push or a scoring runs
(`rollups.entries_changed`), so the summary tables hold what production would hold. A refresh
is `metrics.load_dashboard` as a supervisor, exactly what the dashboard and `workstation stats`
run. Measured on the embedded SQLite central database and on loopback PostgreSQL. The floor's
keyers also reported a page problem (F8) on one document in 500, and some of those documents are
still open, so the page problems query has history to skip and open reports to show.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

from tests.benchmarks.__main__ import Report
from workstation import auth, metrics, rollups
from workstation import models as m
from workstation.store import Store, open_central

KEYERS = 200
DAYS = 30
DOCS_PER_KEYER_DAY = 10
FIELDS_PER_DOC = 17  # 200 x 30 x 10 x 17 = 1,020,000 values
PROBLEM_EVERY = 500  # documents per page problem report: 120 reports
OPEN_PROBLEM_EVERY = 4  # of which every 4th is on a document not final yet
PG_URL = "postgresql+psycopg://localhost/test"


def _fill(store: Store, seed: int = 7) -> int:
    rng = random.Random(seed)
    start = dt.datetime(2026, 10, 1, 8, tzinfo=dt.timezone.utc)
    with store.transaction() as s:
        tpl = m.Template(name="bench", version=1, source="", sha256="0" * 64)
        s.add(tpl)
        s.flush()
        batch = m.Batch(name="bench", template_id=tpl.id)
        s.add(batch)
        s.flush()
        template_id, batch_id = tpl.id, batch.id
    keyers = [{"id": uuid.uuid4(), "username": f"keyer{n:03d}", "role": "keyer", "password_hash": "-",
               "display_name": "", "active": True, "failed_logins": 0, "created_at": start} for n in range(KEYERS)]
    classes = metrics.ERROR_CLASSES
    total = 0
    with store.engine.begin() as conn:
        conn.execute(insert(m.User), keyers)
        seq = 0
        for day in range(DAYS):
            docs: list[dict[str, Any]] = []
            entries: list[dict[str, Any]] = []
            problems: list[dict[str, Any]] = []
            values: list[dict[str, Any]] = []
            for k in keyers:
                moment = start + dt.timedelta(days=day, minutes=rng.randint(0, 60))
                for _ in range(DOCS_PER_KEYER_DAY):
                    seq += 1
                    doc_id, entry_id = uuid.uuid4(), uuid.uuid4()
                    reported = seq % PROBLEM_EVERY == 0
                    still_open = reported and (seq // PROBLEM_EVERY) % OPEN_PROBLEM_EVERY == 0
                    docs.append({"id": doc_id, "batch_id": batch_id, "seq": seq, "source_name": "",
                                 "state": "resolving" if still_open else "final", "created_at": start})
                    if reported:
                        problems.append({"id": uuid.uuid4(), "document_id": doc_id, "page_no": 1,
                                         "image_sha256": "0" * 64, "reason": "unreadable", "detail": "",
                                         "keyer_id": k["id"], "unit_id": None, "reported_at": moment})
                    entries.append({"id": entry_id, "document_id": doc_id, "pass_no": 1, "keyer_id": k["id"],
                                    "started_at": moment, "finished_at": moment, "cursor_path": ""})
                    for f in range(FIELDS_PER_DOC):
                        moment += dt.timedelta(seconds=rng.randint(2, 9))
                        wrong = rng.random() < 0.004
                        values.append({
                            "id": uuid.uuid4(), "entry_id": entry_id, "keyer_id": k["id"], "field_path": f"f{f:02d}",
                            "value": "x" * rng.randint(1, 12), "flag": "", "overridden": False,
                            "keystrokes": rng.randint(1, 14), "active_ms": rng.randint(800, 6000), "pause_ms": 0,
                            "started_at": moment, "saved_at": moment, "final_match": not wrong,
                            "error_class": rng.choice(classes) if wrong else None,
                        })
            conn.execute(insert(m.Document), docs)
            conn.execute(insert(m.Entry), entries)
            if problems:
                conn.execute(insert(m.PageProblem), problems)
            for i in range(0, len(values), 20000):
                conn.execute(insert(m.FieldValue), values[i : i + 20000])
            with Session(bind=conn) as s:
                rollups.entries_changed(s, [e["id"] for e in entries])
            total += len(values)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    _ = template_id
    return total


SUPERVISOR = auth.Actor(uuid.uuid4(), "bench-supervisor", "supervisor")


def _refresh(store: Store) -> None:
    """Everything the dashboard shows for the last 30 days, as one refresh does: keyer, team and
    hourly figures, errors by field and by class, batch progress, open page problems."""
    end = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    filters = metrics.Filters(start=end - dt.timedelta(days=30), end=end)
    board = metrics.load_dashboard(store, SUPERVISOR, filters)
    assert len(board.keyers) == KEYERS and board.batches and board.hourly and board.errors_by_field
    assert len(board.page_problems) == KEYERS * DAYS * DOCS_PER_KEYER_DAY // PROBLEM_EVERY // OPEN_PROBLEM_EVERY


def _measure(report: Report, store: Store, label: str) -> None:
    started = time.perf_counter()
    values = _fill(store)
    fill_s = time.perf_counter() - started
    _refresh(store)  # warm the caches once, as a dashboard that is open refreshes repeatedly
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        _refresh(store)
        times.append((time.perf_counter() - t0) * 1000)
    report.figure(f"dashboard_refresh_ms_{label}", statistics.median(times), "ms", target="<= 200",
                  values=values, fill_s=round(fill_s, 1))


def run(report: Report) -> None:
    sqlite = open_central(f"sqlite:///{report.workdir / 'dash.sqlite'}", create=True)
    _measure(report, sqlite, "sqlite")
    sqlite.dispose()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        pg = open_central(f"{PG_URL}?options=-csearch_path%3D{schema}", create=True)
        _measure(report, pg, "postgresql")
        pg.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
