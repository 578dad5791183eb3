"""Claiming and sync against loopback PostgreSQL.

* claims_per_s_pg: 32 stations (threads, each its own engine) claim one task at a time from one
  batch until nothing is left; `double_claims` counts tasks handed out twice and documents a
  keyer got in two passes (must be 0).
* push_batch_s: pushing one finished unit of 1,000 documents x 30 fields (outbox -> central,
  one transaction, then the local purge). Baseline: the naive way (ORM add + commit per value)
  on a tenth of the data, scaled x10.
* pull_batch_s: pulling a claimed unit of 100 documents whose pages are 300-dpi G4 TIFFs.

Each figure gets its own fresh schema, dropped afterwards. `BENCH_WORK_ONLY=claims` (or `push`,
`pull`, comma-separated) measures only those figures; the default measures all three.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from sqlalchemy import create_engine, insert, text
from sqlalchemy.exc import OperationalError

from workstation import catalog, sync, work
from workstation import models as m
from workstation.errors import NoWorkAvailable
from workstation.resources import resource_path
from workstation.store import Store, open_central, open_local
from workstation.templates import load_template

PG_URL = os.environ.get("WORKSTATION_TEST_PG_URL", "postgresql+psycopg://localhost/test")

CLAIMERS = 32
CLAIM_DOCUMENTS = 3000
PUSH_DOCUMENTS = 1000
PUSH_FIELDS = 30
PULL_DOCUMENTS = 100


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new schema, dropped on exit."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def pg_reachable() -> bool:
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


# --- seeding (bulk, so the benchmark spends its time on what it measures) ----------------------


def seed(central: Store, documents: int, keyers: int,
         image_for: Callable[[int], bytes] | None = None) -> tuple[uuid.UUID, list[uuid.UUID]]:
    template = load_template(resource_path("templates", "rebate.toml"))
    now = m.utcnow()
    with central.transaction() as s:
        tpl = catalog.register_template(s, template)
        users = [{"id": m.new_id(), "username": f"keyer{i:03d}-{uuid.uuid4().hex[:6]}", "display_name": "",
                  "role": "keyer", "password_hash": "x", "active": True, "failed_logins": 0, "created_at": now}
                 for i in range(keyers)]
        s.execute(insert(m.User.__table__), users)
        batch_id = m.new_id()
        s.execute(insert(m.Batch.__table__).values(id=batch_id, name=f"bench-{batch_id.hex[:6]}", template_id=tpl.id,
                                                    priority=0, state="open", created_at=now))
        docs = [{"id": m.new_id(), "batch_id": batch_id, "seq": i + 1, "source_name": f"scan{i:05d}.tif",
                 "state": "keying", "created_at": now} for i in range(documents)]
        s.execute(insert(m.Document.__table__), docs)
        if image_for is not None:
            images: list[dict[str, Any]] = []
            pages: list[dict[str, Any]] = []
            for i, doc in enumerate(docs):
                data = image_for(i)
                sha = hashlib.sha256(data).hexdigest()
                images.append({"sha256": sha, "media_type": "image/tiff", "width": 2550, "height": 3300,
                               "dpi": 300, "data": data})
                pages.append({"id": m.new_id(), "document_id": doc["id"], "page_no": 1, "image_sha256": sha})
            s.execute(insert(m.Image.__table__), images)
            s.execute(insert(m.Page.__table__), pages)
        tasks = [{"id": m.new_id(), "batch_id": batch_id, "document_id": doc["id"], "pass_no": p, "state": "open",
                  "priority": 0, "created_at": now} for doc in docs for p in (1, 2)]
        s.execute(insert(m.Task.__table__), tasks)
    return batch_id, [u["id"] for u in users]


# --- claims ------------------------------------------------------------------------------------


def bench_claims(report: Any) -> None:
    with fresh_schema() as url:
        central = open_central(url, create=True)
        batch_id, keyers = seed(central, CLAIM_DOCUMENTS, CLAIMERS)
        central.dispose()
        claims: list[work.Claim] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        barrier = threading.Barrier(CLAIMERS + 1)

        def station(keyer: uuid.UUID) -> None:
            store = Store(url, pool_size=1, max_overflow=2)
            mine: list[work.Claim] = []
            try:
                with store.engine.connect() as conn:  # connect before the clock starts
                    conn.execute(text("select 1"))
                barrier.wait()
                for pass_no in (1, 2):
                    while True:
                        try:
                            mine.append(work.claim(store, keyer, batch_id=batch_id, pass_no=pass_no, max_documents=1))
                        except NoWorkAvailable:
                            break
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                with lock:
                    claims.extend(mine)
                store.dispose()

        threads = [threading.Thread(target=station, args=(k,)) for k in keyers]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise errors[0]
        given = Counter((doc, c.pass_no) for c in claims for doc in c.document_ids)
        passes: dict[tuple[uuid.UUID, uuid.UUID], set[int]] = defaultdict(set)
        for c in claims:
            for doc in c.document_ids:
                passes[(c.keyer_id, doc)].add(c.pass_no)
        double = sum(n - 1 for n in given.values() if n > 1) + sum(1 for p in passes.values() if len(p) > 1)
        report.figure("claims_per_s_pg", len(claims) / elapsed, "claims/s", target=">= 1000",
                      claims=len(claims), claimers=CLAIMERS, double_claims=double,
                      unclaimed=CLAIM_DOCUMENTS * 2 - len(given))


# --- push --------------------------------------------------------------------------------------


def _keyed_unit(central: Store, local: Store, documents: int, fields: int) -> work.Claim:
    """Claim and pull a unit, then write its keyed entries and values locally as keying would."""
    salt = uuid.uuid4().bytes
    batch_id, (keyer,) = seed(central, documents, 1, image_for=lambda i: salt + b"page %d" % i)
    claimed = work.claim(central, keyer, batch_id=batch_id, pass_no=1, max_documents=documents)
    sync.pull(central, local, claimed)
    now = m.utcnow()
    entries = [{"id": m.new_id(), "document_id": d, "pass_no": 1, "keyer_id": keyer, "unit_id": claimed.unit_id,
                "started_at": now, "finished_at": now, "cursor_path": ""} for d in claimed.document_ids]
    rng = random.Random(7)
    values = [{"id": m.new_id(), "entry_id": e["id"], "keyer_id": keyer, "field_path": f"field_{f:02d}",
               "value": "".join(rng.choice("ABCDEFGHIJ0123456789 ") for _ in range(rng.randint(3, 20))),
               "flag": "", "overridden": False, "keystrokes": 14, "active_ms": 2100, "pause_ms": 0,
               "started_at": now, "saved_at": now}
              for e in entries for f in range(fields)]
    with local.transaction() as s:
        s.execute(insert(m.Entry.__table__), entries)
        s.execute(insert(m.FieldValue.__table__), values)
        s.execute(insert(m.OutboxItem.__table__).values(id=m.new_id(), kind="unit_finished", unit_id=claimed.unit_id,
                                                         payload={}, created_at=now, attempts=0, last_error=""))
    return claimed


def _naive_push(local: Store, central: Store, unit_id: uuid.UUID) -> None:
    """The way not to do it: one ORM object and one commit per row."""
    payload = sync.build_payload(local, unit_id)
    with central.session() as s:
        for entry in payload["entries"]:
            s.add(m.Entry(**entry))
            s.commit()
        for value in payload["values"]:
            s.add(m.FieldValue(**value, keyer_id=payload["keyer_id"]))
            s.commit()


def bench_push(report: Any, workdir: Path) -> None:
    with fresh_schema() as url:
        central = open_central(url, create=True)
        local = open_local(f"sqlite:///{workdir / 'push-local.sqlite'}")
        claimed = _keyed_unit(central, local, PUSH_DOCUMENTS, PUSH_FIELDS)
        started = time.perf_counter()
        result = sync.push_pending(local, central)
        elapsed = time.perf_counter() - started
        assert result.sent == 1, result

        small_local = open_local(f"sqlite:///{workdir / 'push-naive.sqlite'}")
        small = _keyed_unit(central, small_local, PUSH_DOCUMENTS // 10, PUSH_FIELDS)
        started = time.perf_counter()
        _naive_push(small_local, central, small.unit_id)
        naive = (time.perf_counter() - started) * 10
        report.figure("push_batch_s", elapsed, "s", target="<= 2", baseline=naive, ratio=naive / elapsed,
                      values=PUSH_DOCUMENTS * PUSH_FIELDS)
        local.dispose()
        small_local.dispose()
        central.dispose()
        del claimed


# --- pull --------------------------------------------------------------------------------------


def g4_page(seed: int) -> bytes:
    """A 300-dpi letter page of text lines and boxes, CCITT G4 compressed (about 60-80 KB)."""
    rng = random.Random(seed)
    image = PILImage.new("1", (2550, 3300), 1)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=34)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    y = 150
    while y < 3150:
        words = (
            "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 10))) for _ in range(rng.randint(5, 16))
        )
        draw.text((150, y), " ".join(words), font=font, fill=0)
        y += rng.choice((48, 48, 60, 90))
    for _ in range(12):
        x0, y0 = rng.randint(100, 2000), rng.randint(100, 3000)
        draw.rectangle((x0, y0, x0 + rng.randint(100, 500), y0 + rng.randint(40, 80)), outline=0, width=3)
    out = io.BytesIO()
    image.save(out, "TIFF", compression="group4", dpi=(300, 300))
    return out.getvalue()


def bench_pull(report: Any, workdir: Path) -> None:
    pages = [g4_page(i) for i in range(PULL_DOCUMENTS)]
    with fresh_schema() as url:
        central = open_central(url, create=True)
        batch_id, (keyer,) = seed(central, PULL_DOCUMENTS, 1, image_for=lambda i: pages[i])
        claimed = work.claim(central, keyer, batch_id=batch_id, pass_no=1, max_documents=PULL_DOCUMENTS)
        local = open_local(f"sqlite:///{workdir / 'pull-local.sqlite'}")
        started = time.perf_counter()
        result = sync.pull(central, local, claimed)
        elapsed = time.perf_counter() - started
        assert result.images_copied == PULL_DOCUMENTS, result
        report.figure("pull_batch_s", elapsed, "s", target="<= 1", documents=PULL_DOCUMENTS,
                      image_kb=round(sum(map(len, pages)) / len(pages) / 1024))
        local.dispose()
        central.dispose()


def run(report: Any) -> None:
    if not pg_reachable():
        print(f"# bench_work: PostgreSQL at {PG_URL} is unreachable; skipped", flush=True)
        return
    only = {part.strip() for part in os.environ.get("BENCH_WORK_ONLY", "").split(",") if part.strip()}
    if not only or "claims" in only:
        bench_claims(report)
    if not only or "push" in only:
        bench_push(report, report.workdir)
    if not only or "pull" in only:
        bench_pull(report, report.workdir)
