"""Page images: importing a batch of G4 scans, decoding a page for display.

* import_pages_per_s: `import_paths` of 60 synthetic 300-dpi A4 G4 TIFF pages (form boxes,
  labels, handwriting-like strokes, skew and specks: about 50-60 KB a page, like real forms),
  one page per file and document (one transaction each, the slowest shape), into the embedded
  SQLite central database on disk (WAL, synchronous=FULL). Median of three imports, each into a
  fresh database so no page is deduplicated. Extra: the same on PostgreSQL when reachable.
* page_decode_ms_g4 / page_decode_ms_jpeg: median `decode_page` of a 300-dpi A4 page
  (2480 x 3508) to display-ready grayscale bytes at full size: a stored G4 page, and a grayscale
  scan stored as JPEG quality 90. Baseline: the obvious Pillow way
  (`Image.open(...).convert("L").tobytes()`) with Pillow's default memory settings. Extra
  figure: the JPEG decoded for a fit-width view (`max_width=1240`).
"""

from __future__ import annotations

import io
import os
import statistics
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.benchmarks.__main__ import Report
from tests.workstation import imagefiles
from workstation.auth import operator
from workstation.images import decode_page, pages_from_bytes
from workstation.importer import import_paths, resolve_template_arg
from workstation.store import open_central

PAGES = 60
IMPORT_RUNS = 3
DECODE_RUNS = 31
PG_URL = os.environ.get("WORKSTATION_TEST_PG_URL", "postgresql+psycopg://localhost/test")


def _median_ms(action: Callable[[], object], runs: int = DECODE_RUNS) -> float:
    action()  # warm up: first-call costs are not what a keyer waits for on every page
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _write_scans(folder: Path) -> None:
    for seed in range(PAGES):
        imagefiles.write(folder / f"scan{seed:04d}.tif", imagefiles.tiff_bytes([imagefiles.form_page(1000 + seed)]))


def _import_rate(url: str, scans: Path, run: int) -> float:
    central = open_central(url, create=True)
    try:
        started = time.perf_counter()
        result = import_paths(central, resolve_template_arg("cms1500"), f"bench-{run}", [scans], by=operator("bench"))
        elapsed = time.perf_counter() - started
    finally:
        central.dispose()
    assert result.pages == PAGES and not result.skipped, result
    return result.pages / elapsed


def _pg_rates(scans: Path) -> list[float] | None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except OperationalError:
        admin.dispose()
        return None
    rates = []
    try:
        for run in range(IMPORT_RUNS):
            schema = f"bench_img_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in PG_URL else "?"
            try:
                rates.append(_import_rate(f"{PG_URL}{sep}options=-csearch_path%3D{schema}", scans, run))
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
    return rates


def bench_import(report: Report) -> None:
    scans = report.workdir / "scans"
    _write_scans(scans)
    sizes = [p.stat().st_size for p in scans.iterdir()]
    rates = [_import_rate(f"sqlite:///{report.workdir / f'central{run}.sqlite'}", scans, run) for run in range(IMPORT_RUNS)]
    report.figure("import_pages_per_s", statistics.median(rates), "pages/s", target=">= 50",
                  kb_per_page=round(statistics.mean(sizes) / 1024))
    pg = _pg_rates(scans)
    if pg is not None:
        report.figure("import_pages_per_s_pg", statistics.median(pg), "pages/s", target=">= 50")


def _naive(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("L").tobytes()


def _naive_ms(data: bytes) -> float:
    """The baseline with Pillow as configured out of the box (no freed blocks kept)."""
    kept = Image.core.get_blocks_max()  # type: ignore[attr-defined]
    Image.core.set_blocks_max(0)  # type: ignore[attr-defined]
    try:
        return _median_ms(lambda: _naive(data))
    finally:
        Image.core.set_blocks_max(kept)  # type: ignore[attr-defined]


def bench_decode(report: Report) -> None:
    (g4,) = pages_from_bytes(imagefiles.tiff_bytes([imagefiles.form_page(7)]), "page.tif")
    scan = imagefiles.form_page(8, mode="L")
    (jpeg,) = pages_from_bytes(imagefiles.image_bytes(scan, "JPEG", quality=90, dpi=(300, 300)), "page.jpg")
    for name, page in (("g4", g4), ("jpeg", jpeg)):
        assert (page.width, page.height) == imagefiles.A4_300
        ours = _median_ms(partial(decode_page, page.data, page.media_type))
        naive = _naive_ms(page.data)
        report.figure(f"page_decode_ms_{name}", ours, "ms", target="<= 25", baseline=naive, ratio=naive / ours,
                      kb=round(len(page.data) / 1024))
    fit = _median_ms(lambda: decode_page(jpeg.data, jpeg.media_type, max_width=1240))
    report.figure("page_decode_ms_jpeg_fit", fit, "ms", target="<= 25", width=1240)


def run(report: Report) -> None:
    bench_decode(report)
    bench_import(report)
