"""Keying: how long committing one keyed field to the local store takes.

* field_save_ms: p99 of `keying.save` for a job that commits one field (the FieldValue upsert
  and the entry's cursor, one transaction) on an on-disk local store in WAL mode with
  synchronous=FULL, i.e. durable when it returns. Measured through a real KeyingSession keying
  claims (first visits insert, returns via Shift+Tab update), timed inside the writer hook.
  Extra: p50, and advance_p99_ms, the whole Enter (prepare, validate, save, move) as the GUI
  thread would wait for it with the synchronous default writer.
"""

from __future__ import annotations

import statistics
import time

from tests.benchmarks.__main__ import Report
from tests.workstation.localseed import seed_unit
from workstation.keying import KeyingSession, SaveJob, save
from workstation.store import open_local

DOCUMENTS = 60
WARMUP_SAVES = 50

_TEXT = {
    "insured_id": "AB123456", "patient_last_name": "Smith", "patient_first_name": "Mary",
    "patient_dob": "03/07/1980", "patient_sex": "F", "patient_address": "12 Main St",
    "patient_city": "Springfield", "patient_state": "IL", "patient_zip": "62704",
    "diagnosis_1": "J06.9", "diagnosis_2": "R05", "service_date": "03/01/24", "place": "11",
    "cpt": "99213", "modifier": "25", "pointer": "A", "charge": "125.00", "units": "1",
    "total_charge": "125.00", "billing_npi": "1234567893", "federal_tax_id": "123456789",
    "signature_date": "03/05/2024",
}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(report: Report) -> None:
    local = open_local(f"sqlite:///{report.workdir / 'local.sqlite'}")
    unit = seed_unit(local, "cms1500", documents=DOCUMENTS)
    save_ms: list[float] = []

    def timed_writer(job: SaveJob) -> None:
        started = time.perf_counter()
        save(local, job)
        if len(job.values) == 1 and not job.delete_paths and job.finish_unit is None:
            save_ms.append((time.perf_counter() - started) * 1000)

    session = KeyingSession.open(local, unit.unit_id, unit.keyer_id, writer=timed_writer)
    advance_ms: list[float] = []
    fields = 0
    while not session.unit_finished:
        key = session.path.rsplit(".", 1)[-1]
        text = _TEXT[key]
        for i in range(1, len(text) + 1):
            session.keystroke()
            session.set_text(text[:i])
        started = time.perf_counter()
        move = session.advance(confirm=True)
        advance_ms.append((time.perf_counter() - started) * 1000)
        fields += 1
        if fields % 7 == 0 and not move.document_done:  # a return visit: Shift+Tab, Enter
            session.back()
            session.advance(confirm=True)
        if move.document_done:
            session.finish_document()
    measured = save_ms[WARMUP_SAVES:]
    report.figure(
        "field_save_ms", _p(measured, 0.99), "ms", target="<= 2",
        p50=round(statistics.median(measured), 3), saves=len(measured),
        advance_p99_ms=round(_p(advance_ms[WARMUP_SAVES:], 0.99), 3),
    )
    local.dispose()
