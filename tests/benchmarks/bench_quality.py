"""Data quality of blind double entry, measured by `workstation simulate` against ground truth.

* residual_errors_per_1000_fields: final values that differ from the truth, per 1,000 final
  fields, over at least 200,000 fields (target <= 0.05).
* keyings_per_field: fields keyed in all passes (1, 2 and third keys) per final field
  (target <= 2.1).

The error model is the simulator's default (workstation/simulate.py): 0.37% of fields wrong per
keyer, split substitution 50 / transposition 20 / omission 20 / insertion 10, and 1 field in
20,000 ambiguous, misread the same way by each keyer with probability 50%. The demo's three
templates in equal document counts (claims with line items, rebates, two-page surveys) make
about 68 fields per document triple; 3,400 documents per template give about 208,000 fields.
Pages are one blank form per template (draw=False): simulated keyers read the truth.
"""

from __future__ import annotations

import os
import time

from tests.benchmarks.__main__ import Report
from workstation.demo.workspace import build_demo
from workstation.paths import Workspace
from workstation.simulate import Simulation
from workstation.store import open_central

DOCUMENTS_PER_TEMPLATE = int(os.environ.get("BENCH_QUALITY_DOCUMENTS", "3400"))


def run(report: Report) -> None:
    ws = Workspace(report.workdir / "quality").ensure()
    started = time.perf_counter()
    build_demo(ws, seed=11, documents=DOCUMENTS_PER_TEMPLATE, draw=False)
    built = time.perf_counter()
    central = open_central(ws.embedded_central_url)
    sim = Simulation(ws, central, keyers=8, seed=11)
    result = sim.run()
    finished = time.perf_counter()
    central.dispose()
    for line in result.lines():
        print(f"# {line}")
    report.figure("residual_errors_per_1000_fields", result.residual_per_1000, "per_1000", target="<= 0.05",
                  fields=result.fields_final, residual=result.residual_errors, errors_made=result.errors_made,
                  ambiguous=result.ambiguous_fields, third_keys=result.third_keys, qa=result.qa_decisions)
    report.figure("keyings_per_field", result.keyings_per_field, "keyings", target="<= 2.1",
                  keyings=result.keyings, build_s=round(built - started, 1), simulate_s=round(finished - built, 1))
