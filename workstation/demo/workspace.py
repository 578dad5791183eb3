"""Build a complete demo workspace: users for every role, the sample templates, three batches.

The scans are drawn (`demo.scans`) from generated ground truth (`demo.data`), written under the
workspace's `demo-scans/` folder and imported through the same importer as real scans. The truth
is kept aside in `demo-truth/<batch>.jsonl`, never in a database, for `workstation simulate` to
measure against. A marker file, `demo.json`, records what was built; building again needs
`reset=True`, which removes the demo's databases, scans and truth first.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workstation import auth
from workstation.demo.data import TruthDocument, load_truth, truth_documents, write_truth
from workstation.demo.scans import render_document, write_scans
from workstation.errors import KnownError
from workstation.importer import import_paths, resolve_template_arg
from workstation.paths import Workspace
from workstation.store import Store, open_central

log = logging.getLogger(__name__)

MARKER = "demo.json"
DEMO_USERS = (
    ("admin", "admin", "Ada Admin"),
    ("super1", "supervisor", "Sam Supervisor"),
    ("qa1", "qa", "Quinn QA"),
    ("keyer1", "keyer", "Asha Keyer"),
    ("keyer2", "keyer", "Ben Keyer"),
    ("keyer3", "keyer", "Chen Keyer"),
    ("keyer4", "keyer", "Dana Keyer"),
)
# (batch name, sample template, scan format, share of the documents)
DEMO_BATCHES = (
    ("CLAIMS-DEMO", "cms1500", "tiff", 1.0),
    ("REBATES-DEMO", "rebate", "jpeg", 1.0),
    ("SURVEYS-DEMO", "survey", "tiff", 1.0),
)
_WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "iris", "juniper", "kite",
          "lumen", "maple", "nova", "opal", "pine", "quartz", "raven", "sage", "tide", "umber", "vale", "willow",
          "yarrow", "zephyr", "coral", "dune", "fern", "glade", "heron", "lotus", "moss")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    display_name: str
    password: str


@dataclass(frozen=True)
class DemoBatch:
    name: str
    template: str
    documents: int
    pages: int
    truth_path: Path


@dataclass(frozen=True)
class DemoWorkspace:
    users: tuple[DemoUser, ...]
    batches: tuple[DemoBatch, ...]


def new_password() -> str:
    """Easy to read out and type, hard to guess: two words and four digits (about 32 bits)."""
    return f"{secrets.choice(_WORDS)}-{secrets.choice(_WORDS)}-{secrets.randbelow(10_000):04d}"


def is_demo(ws: Workspace) -> bool:
    return (ws.root / MARKER).is_file()


def reset(ws: Workspace) -> None:
    """Remove what a demo build made: its databases, scans, truth and marker."""
    for path in (ws.central_db, ws.local_db):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    for folder in (ws.truth_dir, ws.scans_dir):
        shutil.rmtree(folder, ignore_errors=True)
    (ws.root / MARKER).unlink(missing_ok=True)


def build_demo(ws: Workspace, central_url: str | None = None, *, seed: int = 1, documents: int = 20,
               reset_first: bool = False, progress: Progress | None = None, draw: bool = True) -> DemoWorkspace:
    """Build the demo into `ws` (and its central database); returns the users with their passwords.

    `draw=False` (large simulations, benchmarks) draws one blank form per template and gives it
    to every document, instead of drawing each document's values: simulated keyers read the
    ground truth, so only the page count matters to them.
    """
    ws.ensure()
    if is_demo(ws):
        if not reset_first:
            raise KnownError(f"{ws.root} holds a demo workspace already.",
                             "Open it with `workstation demo`, or rebuild it with `workstation demo --reset`.")
        reset(ws)
    if documents < 1 or documents > 20_000:
        raise KnownError(f"{documents} documents per batch is out of range.", "Give 1 to 20000.")
    central = open_central(central_url or ws.embedded_central_url, create=True)
    try:
        users = _users(central)
        batches = tuple(_batch(ws, central, name, template, fmt, max(1, round(documents * share)), seed, progress,
                               draw)
                        for name, template, fmt, share in DEMO_BATCHES)
    finally:
        central.dispose()
    marker = {"seed": seed, "built_at": dt.datetime.now(dt.timezone.utc).isoformat(),
              "batches": {b.name: {"template": b.template, "documents": b.documents, "truth": b.truth_path.name}
                          for b in batches}}
    (ws.root / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
    log.info("demo workspace built in %s: %d users, %d batches", ws.root, len(users), len(batches))
    return DemoWorkspace(users, batches)


def _users(central: Store) -> tuple[DemoUser, ...]:
    made: list[DemoUser] = []
    admin: auth.Actor | None = None
    for username, role, display_name in DEMO_USERS:
        password = new_password()
        actor = auth.create_user(central, admin, username, role, password, display_name=display_name)
        if admin is None:
            admin = actor
        made.append(DemoUser(username, role, display_name, password))
    return tuple(made)


def _batch(ws: Workspace, central: Store, name: str, template_name: str, fmt: str, count: int, seed: int,
           progress: Progress | None, draw: bool = True) -> DemoBatch:
    template = resolve_template_arg(template_name)
    docs = list(truth_documents(template, count, seed=seed, prefix=name))
    if fmt == "jpeg":
        docs = [TruthDocument(d.seq, str(Path(d.source_name).with_suffix(".jpg")), d.values, d.rows) for d in docs]
    folder = ws.scans_dir / name
    blank: bytes | None = None
    if not draw:
        folder.mkdir(parents=True, exist_ok=True)
        blank = render_document(template, TruthDocument(0, "blank", {}, {}), seed=seed, fmt=fmt)
    for i, doc in enumerate(docs, start=1):
        if blank is not None:
            (folder / doc.source_name).write_bytes(blank)
        else:
            write_scans(template, [doc], folder, seed=seed, fmt=fmt)
        if progress and (blank is None or i == len(docs)):
            progress(f"drawing {name}", i, len(docs))
    truth_path = ws.truth_dir / f"{name}.jsonl"
    write_truth(truth_path, docs)

    def imported(done: int, total: int, _name: str) -> None:
        if progress:
            progress(f"importing {name}", done, total)

    report = import_paths(central, template, name, [folder], by=auth.operator("demo"), progress=imported)
    if report.skipped:
        raise KnownError(f"The demo scans of {name} did not all import: {report.skipped[0][1]}.")
    return DemoBatch(name, template_name, report.documents, report.pages, truth_path)


def demo_truth(ws: Workspace, batch_name: str) -> dict[str, TruthDocument]:
    """The ground truth of a demo batch by the document's source file name."""
    path = ws.truth_dir / f"{batch_name}.jsonl"
    if not path.is_file():
        raise KnownError(f"There is no ground truth for batch {batch_name} in {ws.truth_dir}.",
                         "Only demo batches have ground truth; build one with `workstation demo --no-gui`.")
    return {doc.source_name: doc for doc in load_truth(path)}
