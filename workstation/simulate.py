"""Simulated keyers: they claim, key, push and adjudicate through the same services as people.

Each simulated keyer has a station of its own (a local store under `<workspace>/sim-stations/`),
claims units from the central database, keys every field of every document with a
`KeyingSession` reading the demo's ground truth, and pushes the finished unit; the central side
compares, makes third-key work and QA disputes exactly as for people. A simulated QA lead settles
the QA queue through `workstation.qa`. Time is simulated: every keyer has a clock that moves with
each key press, so the figures the sessions store (keystrokes, active and pause time, saved_at)
build a realistic history for the dashboards, spread over working days.

The error model (`ErrorModel`, the defaults are those of the benchmark):

* Each keyer errs on a field independently with probability `field_error_rate` (0.37%: ten times
  the single-entry error rate published for careful keyers, so that errors are countable). An
  error is a substitution (50%: one character replaced by a neighbour of the same kind), a
  transposition (20%: two adjacent different characters swapped), an omission (20%: one
  character left out) or an insertion (10%: one character added). A field with an empty value can
  only get an insertion.
* One field in `1 / ambiguous_rate` (20,000) is ambiguous on the scan: there is one wrong reading
  of it, and each keyer (and the QA lead) independently reads that same wrong value with
  probability `ambiguous_misread` (50%).
* Keyers key what they read and confirm validation warnings (the error model is the keyers' only
  safeguard being tested here is double entry, not validation).
* The QA lead picks the entry that matches what the lead reads on the scan, or types it.

Speed: a keyer has a rate in keystrokes per hour (drawn between `kph_range`), a second or so of
reading per field, an occasional pause longer than the idle threshold, and a shift of
`hours_per_day`, after which the clock moves to the next working day.

The quality figures compare final values with the ground truth: residual errors per 1,000 final
fields, and keyings per field (fields keyed in all passes / final fields).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
import shutil
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import event, func, select

from workstation import auth, qa
from workstation import models as m
from workstation.catalog import template_for_batch
from workstation.compare import same
from workstation.demo.data import TruthDocument, load_truth
from workstation.errors import KnownError, NoWorkAvailable
from workstation.keying import KeyingSession, SaveJob
from workstation.keying.persist import save_many
from workstation.paths import Workspace
from workstation.store import Store, open_local
from workstation.sync import claim_and_pull, push_pending
from workstation.templates import FormTemplate, parse_path

log = logging.getLogger(__name__)

ERROR_CLASSES = ("substitution", "transposition", "omission", "insertion")


@dataclass(frozen=True)
class ErrorModel:
    field_error_rate: float = 0.0037
    class_weights: tuple[float, float, float, float] = (0.5, 0.2, 0.2, 0.1)
    ambiguous_rate: float = 1 / 20_000
    ambiguous_misread: float = 0.5


@dataclass
class SimClock:
    """A keyer's own time: monotonic seconds for the session, and the wall clock they imply."""

    start: dt.datetime
    seconds: float = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def wall(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.seconds)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


@dataclass
class SimKeyer:
    user_id: m.uuid.UUID
    username: str
    kph: float
    rng: random.Random
    clock: SimClock
    local: Store
    shift_start: float = 0.0  # clock seconds when the current shift began
    fields: int = 0
    errors: int = 0


@dataclass
class SimulationReport:
    keyers: int
    units: int = 0
    documents_final: int = 0
    fields_final: int = 0
    keyings: int = 0
    errors_made: int = 0
    ambiguous_fields: int = 0
    third_keys: int = 0
    qa_decisions: int = 0
    residual_errors: int = 0
    days: int = 0
    by_class: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_CLASSES, 0))

    @property
    def residual_per_1000(self) -> float:
        return 1000 * self.residual_errors / self.fields_final if self.fields_final else 0.0

    @property
    def keyings_per_field(self) -> float:
        return self.keyings / self.fields_final if self.fields_final else 0.0

    def lines(self) -> list[str]:
        classes = ", ".join(f"{k} {v}" for k, v in self.by_class.items())
        return [
            f"keyers: {self.keyers}, units: {self.units}, working days: {self.days}",
            f"documents final: {self.documents_final}, fields final: {self.fields_final}",
            f"keyings: {self.keyings} ({self.keyings_per_field:.4f} per field); third keys: {self.third_keys}; "
            f"QA decisions: {self.qa_decisions}",
            f"keying errors made: {self.errors_made} ({classes}); ambiguous fields: {self.ambiguous_fields}",
            f"residual errors in final values: {self.residual_errors} "
            f"({self.residual_per_1000:.4f} per 1,000 fields)",
        ]


# --- errors ------------------------------------------------------------------------------------

_NEIGHBOURS = {c: string.digits for c in string.digits} | {c: string.ascii_uppercase for c in string.ascii_uppercase} \
    | {c: string.ascii_lowercase for c in string.ascii_lowercase}


def _other_char(rng: random.Random, c: str) -> str:
    pool = _NEIGHBOURS.get(c, string.ascii_uppercase)
    choice = rng.choice(pool)
    while choice == c:
        choice = rng.choice(pool)
    return choice


def make_error(rng: random.Random, value: str, kind: str) -> tuple[str, str]:
    """`value` with one keying error of `kind`; returns (new value, the kind actually made)."""
    if value in ("", "X") and kind != "insertion":
        # An empty field or a ticked box: the only slips are ticking/typing or leaving it out.
        return ("" if value else "X"), ("omission" if value else "insertion")
    if not value:
        kind = "insertion"
    if kind == "transposition":
        pairs = [i for i in range(len(value) - 1) if value[i] != value[i + 1]]
        if not pairs:
            kind = "substitution"
        else:
            i = rng.choice(pairs)
            return value[:i] + value[i + 1] + value[i] + value[i + 2:], kind
    if kind == "substitution":
        i = rng.randrange(len(value))
        return value[:i] + _other_char(rng, value[i]) + value[i + 1:], kind
    if kind == "omission":
        i = rng.randrange(len(value))
        return value[:i] + value[i + 1:], kind
    i = rng.randrange(len(value) + 1)
    near = value[min(i, len(value) - 1)] if value else "A"
    return value[:i] + _other_char(rng, near) + value[i:], "insertion"


def _field_rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class Reader:
    """What a person reads on a document's scan: the truth, except for ambiguous fields."""

    def __init__(self, model: ErrorModel, seed: int) -> None:
        self.model = model
        self.seed = seed
        self.ambiguous: set[tuple[str, str]] = set()

    def wrong_reading(self, doc: TruthDocument, path: str) -> str | None:
        rng = _field_rng(self.seed, "ambiguous", doc.source_name, path)
        if rng.random() >= self.model.ambiguous_rate:
            return None
        self.ambiguous.add((doc.source_name, path))
        return make_error(rng, doc.values.get(path, ""), "substitution")[0]

    def read(self, rng: random.Random, doc: TruthDocument, path: str) -> str:
        truth = doc.values.get(path, "")
        wrong = self.wrong_reading(doc, path)
        if wrong is not None and rng.random() < self.model.ambiguous_misread:
            return wrong
        return truth


# --- the simulation ----------------------------------------------------------------------------


class DocumentWriter:
    """A simulated station's writer: a document's saves are committed together when it is left.

    The jobs and their order are exactly those a keyer's station commits one by one; a simulated
    station has no power to lose, so it commits them in one transaction per document, which is
    what lets a simulation of hundreds of thousands of fields run in minutes.
    """

    def __init__(self, local: Store) -> None:
        self._local = local
        self._jobs: list[SaveJob] = []

    def submit(self, job: SaveJob) -> None:
        self._jobs.append(job)
        if job.finished_at is not None or job.finish_unit is not None:
            self.flush()

    def flush(self) -> None:
        if self._jobs:
            jobs, self._jobs = self._jobs, []
            save_many(self._local, jobs)


class Simulation:
    def __init__(self, ws: Workspace, central: Store, *, keyers: int = 6, seed: int = 1,
                 model: ErrorModel = ErrorModel(), start: dt.datetime | None = None, hours_per_day: float = 7.5,
                 kph_range: tuple[float, float] = (7_000, 13_000), unit_size: int = 10,
                 truth: dict[str, TruthDocument] | None = None, fast_stations: bool = True,
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.ws, self.central, self.seed, self.model = ws, central, seed, model
        self.rng = random.Random(seed)
        self.reader = Reader(model, seed)
        self.hours_per_day = hours_per_day
        self.unit_size = unit_size
        self.truth = truth if truth is not None else load_all_truth(ws)
        self.progress = progress
        self.report = SimulationReport(keyers=keyers)
        self.start = start or (dt.datetime.now(dt.timezone.utc).replace(hour=8, minute=0, second=0, microsecond=0)
                               - dt.timedelta(days=14))
        self.stations_dir = ws.root / "sim-stations"
        shutil.rmtree(self.stations_dir, ignore_errors=True)
        self.stations_dir.mkdir(parents=True)
        self.keyers = [self._keyer(i, kph_range, fast_stations) for i in range(1, keyers + 1)]
        self.qa_lead = self._user("simqa", "qa")
        self._templates: dict[m.uuid.UUID, FormTemplate] = {}

    # -- set-up -----------------------------------------------------------------------------
    def _admin(self) -> auth.Actor:
        with self.central.session() as s:
            admin = s.scalars(select(m.User).where(m.User.role == "admin", m.User.active.is_(True))
                              .order_by(m.User.created_at)).first()
            if admin is not None:
                return auth.Actor(admin.id, admin.username, admin.role, admin.display_name)
        return auth.create_user(self.central, None, "simadmin", "admin", _random_password(self.rng))

    def _user(self, username: str, role: str) -> auth.Actor:
        with self.central.session() as s:
            user = s.scalars(select(m.User).where(m.User.username == username)).first()
            if user is not None:
                return auth.Actor(user.id, user.username, user.role, user.display_name)
        return auth.create_user(self.central, self._admin(), username, role, _random_password(self.rng),
                                display_name=f"Simulated {username[3:]}")

    def _keyer(self, i: int, kph_range: tuple[float, float], fast: bool) -> SimKeyer:
        actor = self._user(f"sim{i:02d}", "keyer")
        local = open_local(f"sqlite:///{self.stations_dir / f'{actor.username}.sqlite'}")
        if fast:
            # A simulated station has no power to lose: skip the fsync per field that a real one
            # needs, so a large simulation runs in minutes (the writes themselves are the same).
            event.listen(local.engine, "connect", lambda conn, _r: conn.execute("PRAGMA synchronous=OFF"))
            local.engine.dispose()
        rng = random.Random(f"{self.seed}:keyer:{i}")
        clock = SimClock(self.start + dt.timedelta(minutes=rng.randint(0, 40)))
        return SimKeyer(actor.id, actor.username, rng.uniform(*kph_range), rng, clock, local)

    # -- running ----------------------------------------------------------------------------
    def run(self) -> SimulationReport:
        """Key until no keyer can claim anything and the QA queue is empty."""
        idle_rounds = 0
        while idle_rounds < 2:
            worked = False
            # The keyer whose clock is furthest behind goes next: the floor works in parallel.
            for keyer in sorted(self.keyers, key=lambda k: k.clock.seconds):
                if self._key_one_unit(keyer):
                    worked = True
                    break
            decided = self._adjudicate()
            idle_rounds = 0 if worked or decided else idle_rounds + 1
        self._measure()
        return self.report

    def _key_one_unit(self, keyer: SimKeyer) -> bool:
        try:
            claim, _pull = claim_and_pull(self.central, keyer.local, keyer.user_id, max_documents=self.unit_size,
                                          now=keyer.clock.wall())
        except NoWorkAvailable:
            return False
        writer = DocumentWriter(keyer.local)
        session = KeyingSession.open(keyer.local, claim.unit_id, keyer.user_id, clock=keyer.clock.monotonic,
                                     wallclock=keyer.clock.wall, writer=writer.submit)
        if session.pass_no == 3:
            self.report.third_keys += len(session.documents)
        while not session.unit_finished:
            self._key_document(keyer, session)
            self._maybe_end_shift(keyer)
        writer.flush()
        push_pending(keyer.local, self.central)
        self.report.units += 1
        if self.progress:
            self.progress(self.report.units, 0)
        return True

    def _key_document(self, keyer: SimKeyer, session: KeyingSession) -> None:
        doc = self.truth.get(session.document.source_name)
        if doc is None:
            raise KnownError(f"No ground truth for {session.document.source_name}.",
                             "Simulate works on demo batches (workstation demo) only.")
        rng = keyer.rng
        section_rows = dict(doc.rows)
        while True:
            path = session.path
            intended = self.reader.read(rng, doc, path)
            if rng.random() < self.model.field_error_rate:
                kind = rng.choices(ERROR_CLASSES, weights=self.model.class_weights)[0]
                intended, kind = make_error(rng, intended, kind)
                self.report.errors_made += 1
                self.report.by_class[kind] += 1
            self._type(keyer, session, intended)
            keyer.fields += 1
            self.report.keyings += 1
            parsed = parse_path(path)
            # At the end of the last row of a line-item table with more rows on the paper: add a row.
            if (session.pass_no != 3 and parsed.section and parsed.row == session.rows(parsed.section)
                    and session.rows(parsed.section) < section_rows.get(parsed.section, 0)
                    and _is_last_of_row(session.paths(), path, parsed.section, parsed.row)):
                session.add_row(parsed.section)
                continue
            move = session.advance(confirm=True)
            if move.document_done:
                break
        keyer.clock.advance(rng.uniform(1.0, 4.0))  # the next document's page comes up
        session.finish_document()

    def _type(self, keyer: SimKeyer, session: KeyingSession, text: str) -> None:
        rng, clock = keyer.rng, keyer.clock
        clock.advance(rng.uniform(0.3, 1.4))  # find the field on the scan, read it
        if rng.random() < 0.004:
            clock.advance(rng.uniform(35, 240))  # looks away, answers a question: a pause
        per_key = 3600.0 / keyer.kph
        for _ in text:
            clock.advance(per_key * rng.uniform(0.6, 1.4))
            session.keystroke()
        session.set_text(text)

    def _maybe_end_shift(self, keyer: SimKeyer) -> None:
        if keyer.clock.seconds - keyer.shift_start < self.hours_per_day * 3600:
            return
        wall = keyer.clock.wall()
        next_day = (wall + dt.timedelta(days=1)).replace(hour=8, minute=keyer.rng.randint(0, 40), second=0)
        while next_day.weekday() >= 5:  # weekends off
            next_day += dt.timedelta(days=1)
        keyer.clock.advance((next_day - wall).total_seconds())
        keyer.shift_start = keyer.clock.seconds

    def _adjudicate(self) -> int:
        lead = self.qa_lead
        decided = 0
        while True:
            items = qa.qa_queue(self.central, lead, reveal=False, limit=200)
            if not items:
                return decided
            for item in items:
                doc = self._truth_of(item.document_id)
                reading = self.reader.read(self.rng, doc, item.field_path)
                spec = self._template(item.batch_id).spec(item.field_path)
                pick = next((c.entry_id for c in item.candidates if same(spec, c.value, c.flag, reading, "")), None)
                if pick is not None:
                    qa.decide(self.central, lead, item.dispute_id, entry_id=pick, reason="image_clear")
                else:
                    qa.decide(self.central, lead, item.dispute_id, value=reading, reason="keyer_typo")
                decided += 1
                self.report.qa_decisions += 1

    def _template(self, batch_id: m.uuid.UUID) -> FormTemplate:
        if batch_id not in self._templates:
            with self.central.session() as s:
                self._templates[batch_id] = template_for_batch(s, batch_id)
        return self._templates[batch_id]

    def _truth_of(self, document_id: m.uuid.UUID) -> TruthDocument:
        with self.central.session() as s:
            name = s.scalar(select(m.Document.source_name).where(m.Document.id == document_id))
        return self.truth[name or ""]

    # -- measuring --------------------------------------------------------------------------
    def _measure(self) -> None:
        report = self.report
        with self.central.session() as s:
            rows = s.execute(
                select(m.Document.source_name, m.Document.batch_id, m.Resolution.field_path, m.Resolution.value,
                       m.Resolution.flag)
                .join(m.Resolution, m.Resolution.document_id == m.Document.id)
                .where(m.Document.state == "final")
            ).all()
            report.documents_final = s.scalar(
                select(func.count()).select_from(m.Document).where(m.Document.state == "final")) or 0
        for name, batch_id, path, value, flag in rows:
            doc = self.truth.get(name)
            if doc is None:
                continue
            report.fields_final += 1
            if not same(self._template(batch_id).spec(path), value, flag, doc.values.get(path, ""), ""):
                report.residual_errors += 1
        report.ambiguous_fields = len(self.reader.ambiguous)
        report.days = _days_spanned(self.keyers)


def _days_spanned(keyers: list[SimKeyer]) -> int:
    first = min(k.clock.start for k in keyers)
    last = max(k.clock.wall() for k in keyers)
    return (last.date() - first.date()).days + 1


def _is_last_of_row(paths: list[str], path: str, section: str, row: int) -> bool:
    prefix = f"{section}[{row}]."
    return [p for p in paths if p.startswith(prefix)][-1] == path


def _random_password(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20))


def load_all_truth(ws: Workspace) -> dict[str, TruthDocument]:
    """Every demo batch's ground truth, by document source name."""
    truth: dict[str, TruthDocument] = {}
    folder: Path = ws.truth_dir
    if not folder.is_dir():
        raise KnownError(f"There is no demo ground truth in {ws.root}.",
                         "Simulate runs on a demo workspace: build one with `workstation demo --no-gui` first.")
    for path in sorted(folder.glob("*.jsonl")):
        for doc in load_truth(path):
            truth[doc.source_name] = doc
    return truth
