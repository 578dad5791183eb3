"""The keying view as a keyer drives it: the real widgets, offscreen, synthetic key events.

Key events go to the window as the platform sends them (the window hands each to the field with
the focus), and the station's idle lock watches them as it does at a station.

Scans: synthetic 300-dpi A4 form pages (boxes, labels, handwriting-like strokes, specks), as
CCITT G4 TIFF and as PDF (an A4 page holding a 300-dpi grayscale scan, rendered by the importer),
imported into an embedded central database; one page per document of the mail-in rebate form,
500 documents. Each keyer's station pulls its claims into a local store of its own. The figures
are measured in two child processes (what other benchmarks left in memory does not count):

* next_document_ms: p95, from the key press of a document's last Enter (or the last character of
  a full fixed-length field) until the next document's first page has been painted in the page
  view and its first field has the focus (the event loop run until both happened, asleep
  between events as the station's own event loop is, not spinning). With
  prefetch, as the station runs: 70 documents, pass 1. Baseline: the same on 50 other documents
  with prefetch off (each page decoded on the GUI thread when it is shown); ratio = baseline /
  figure.
* keystroke_ms: p99, from a character's key press until the field shows it (the key event and
  the event loop run until the line edit has repainted), validation and keyer statistics
  included, over the prefetch-on documents.
* gui_stall_ms: the largest lateness of a 1 ms timer while 100 documents are keyed with one key
  event every 4 ms from a timer (saving, decoding and statistics running meanwhile, as under a
  fast keyer). In the second child, which keys pass 2 of all 500 documents. Beside it:
  machine_paused_ms, the longest time in those units that no CPU of the machine ran anything
  (one real-time watcher per CPU, each woken every millisecond, all late at once: the virtual
  machine's host had stopped it, which this kind of machine does not count as steal), and
  less_paused_ms, the largest lateness with those pauses taken out of each tick. The figure
  itself is the lateness as measured, pauses and all.
* rss_mb_500_pages: resident memory of the second child (the application) plus its page decoder
  process, once it has keyed through the 500 documents (500 pages), unit after unit, each
  keying view closed as the home closes it. Extra: each part and the application's peak.

To stderr, for reading the figures: the slowest next documents with the GUI thread's own CPU
time, the worst stalls with their parts (the GUI thread's CPU time with what of it was garbage
collection and what the kernel's, its time runnable but waiting for a CPU, and the rest:
sleeping, or where it never slept, its CPU taken back by the host), and per measured unit the
host's steal and the time the GUI thread was ready to run but had no CPU (on a shared virtual
machine those move the figures from run to run).
"""

from __future__ import annotations

import gc
import io
import json
import os
import random
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from tests.benchmarks.__main__ import Report

try:
    import resource  # POSIX only; without it `_ThreadClock` reads the CPU time alone
except ImportError:
    resource = None  # type: ignore[assignment]

G4_DOCUMENTS = 350
PDF_DOCUMENTS = 150
BASE_PAGES = 6  # distinct drawings; each document's page is one of them with its own number and specks
# Two child processes key the same 500 documents: the first keys pass 1 of some of them for
# the speed figures (prefetch on, then off for the baseline), the second keys pass 2 of all of
# them for the stall and the memory figures (prefetch on, as the station runs), so the memory
# decoding on the GUI thread took in the baseline does not count. Units as
# (batch, documents, prefetch, what the unit measures), in the order keyed.
SPEED = (
    ("BENCH-G4", 40, True, "next"),
    ("BENCH-PDF", 30, True, "next"),
    ("BENCH-G4", 30, False, "baseline"),
    ("BENCH-PDF", 20, False, "baseline"),
)
MEMORY = (
    ("BENCH-G4", 60, True, "stall"),
    ("BENCH-PDF", 40, True, "stall"),
    ("BENCH-G4", 290, True, "keying"),
    ("BENCH-PDF", 110, True, "keying"),
)
PARTS = {"speed": (1, "benchkeyer1", SPEED), "memory": (2, "benchkeyer2", MEMORY)}
TYPIST_MS = 4
STALL_TARGET_MS = 16.0
VALUES = {
    "first_name": "ANN", "last_name": "LEE", "street": "1 MAIN ST", "city": "AUSTIN", "state": "TX",
    "zip": "73301", "email": "", "phone": "", "product_code": "RB100", "purchase_date": "01/02/2025",
    "purchase_amount": "9.99", "store_name": "TARGET", "receipt_number": "R-1", "serial_number": "SN1",
    "card_last4": "1234", "opt_in": "X",
}


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- scans -------------------------------------------------------------------------------------


def _numbered(base: Image.Image, number: int) -> Image.Image:
    page = base.copy()
    draw = ImageDraw.Draw(page)
    draw.text((1900, 130), f"No. {number:06d}", fill=0, font=ImageFont.load_default(size=48))
    rnd = random.Random(number)
    for _ in range(400):
        draw.point((rnd.randrange(page.width), rnd.randrange(page.height)), fill=0)
    return page


def _write_scans(folder: Path) -> tuple[Path, Path]:
    from tests.workstation import imagefiles

    g4_dir, pdf_dir = folder / "g4", folder / "pdf"
    g4_dir.mkdir(parents=True)
    pdf_dir.mkdir(parents=True)
    bilevel = [imagefiles.form_page(500 + i) for i in range(BASE_PAGES)]
    for n in range(G4_DOCUMENTS):
        page = _numbered(bilevel[n % BASE_PAGES], n)
        (g4_dir / f"scan{n:05d}.tif").write_bytes(imagefiles.tiff_bytes([page]))
    gray = [imagefiles.form_page(700 + i, mode="L") for i in range(BASE_PAGES)]
    for n in range(PDF_DOCUMENTS):
        out = io.BytesIO()
        _numbered(gray[n % BASE_PAGES], n).save(out, "PDF", resolution=300.0)
        (pdf_dir / f"scan{n:05d}.pdf").write_bytes(out.getvalue())
    return g4_dir, pdf_dir


def build_station(workdir: Path) -> None:
    """Central and local stores with the two batches imported and a keyer (the parent process
    does this; the measuring child only keys)."""
    from workstation import auth
    from workstation.importer import import_paths, resolve_template_arg
    from workstation.store import open_central

    g4_dir, pdf_dir = _write_scans(workdir / "scans")
    central = open_central(f"sqlite:///{workdir / 'central.sqlite'}", create=True)
    try:
        admin = auth.create_user(central, None, "benchadmin", "admin", "bench-admin-pw-1")
        for _pass, keyer, _plan in PARTS.values():
            auth.create_user(central, admin, keyer, "keyer", "bench-keyer-pw-1")
        template = resolve_template_arg("rebate")
        for name, folder in (("BENCH-G4", g4_dir), ("BENCH-PDF", pdf_dir)):
            result = import_paths(central, template, name, [folder], by=auth.operator("bench"))
            assert not result.skipped, result.skipped
    finally:
        central.dispose()


def _open_station(workdir: Path, keyer: str) -> tuple[Any, Any, Any, dict[str, Any]]:
    from sqlalchemy import select

    from workstation import models as m
    from workstation.store import open_central, open_local

    central = open_central(f"sqlite:///{workdir / 'central.sqlite'}")
    local = open_local(f"sqlite:///{workdir / f'local-{keyer}.sqlite'}")  # each keyer's own station
    with central.session() as s:
        keyer_id = s.scalars(select(m.User.id).where(m.User.username == keyer)).one()
        batches = {name: batch_id for name, batch_id in s.execute(select(m.Batch.name, m.Batch.id))}
    return central, local, keyer_id, batches


# --- driving the window --------------------------------------------------------------------------


class _Probe:
    """Counts paints of a widget (the page view's viewport, a line edit)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QEvent, QObject

        paint = QEvent.Type.Paint

        class Filter(QObject):
            count = 0

            def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 (Qt override)
                if event.type() == paint:
                    Filter.count += 1
                return False

        self._filter_type = Filter
        self.filter = Filter()

    @property
    def count(self) -> int:
        return self._filter_type.count


def _actions(widget: Any) -> Iterator[tuple[str, Callable[[], None]]]:
    """The key events that key the current document: ("char", send) per character and
    ("enter", send) where the field does not move on by itself."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    session = widget.session

    def window() -> Any:  # the keyer's window: it hands each key to the field with the focus
        return widget.windowHandle()

    start = session.doc_index
    for _ in range(len(session.paths()) + 2):
        if session.unit_finished or session.doc_index != start:
            return
        where = (session.doc_index, session.path)
        text = VALUES[session.path]
        for char in text:
            yield "char", lambda c=char: QTest.keyClick(window(), c)
        if (session.doc_index, session.path) == where and not session.unit_finished:
            yield "enter", lambda: QTest.keyClick(window(), Qt.Key.Key_Return)
    raise AssertionError(f"document {start} did not finish at {session.path}")


def _open(local: Any, unit_id: Any, keyer_id: Any, prefetch: bool) -> Any:
    from PySide6.QtWidgets import QApplication

    from ui.keying_window import KeyingWidget
    from ui.prefetch import PageCacheModel
    from workstation.keying import KeyingSession

    pages = PageCacheModel(local, prefetch=prefetch)
    widget = KeyingWidget(local, lambda writer: KeyingSession.open(local, unit_id, keyer_id, writer=writer), pages=pages)
    pages.setParent(widget)
    widget.resize(1400, 900)
    widget.show()
    widget.activateWindow()
    deadline = time.monotonic() + 30
    while widget.page_view.page is None and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.001)
    return widget


def _close(widget: Any) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    widget.close_session()
    widget.hide()
    widget.deleteLater()
    QApplication.processEvents()
    # processEvents() outside an event loop leaves deferred deletes alone; the home's event loop
    # would delete the closed view here.
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _shown(widget: Any, probe: _Probe, paints_before: int) -> bool:
    session = widget.session
    doc = session.document
    zone = session.field().zone
    sha = doc.page_shas[(zone.page if zone else 1) - 1]
    first = session.paths()[0]
    return (
        widget._shown_sha == sha and widget.page_view.page is not None and probe.count > paints_before
        and widget.form.current_path == first and widget.form.line_edit(first).hasFocus()
    )


def _key_synchronously(widget: Any, next_ms: list[float], key_ms: list[float] | None) -> list[tuple[float, float, int]]:
    """Key the whole unit, one event at a time, running the event loop after each; the slowest
    few next documents (ms, the GUI thread's own CPU ms meanwhile, the document finished)."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    probe = _Probe()
    waker = QTimer()
    waker.setSingleShot(True)
    widget.page_view.viewport().installEventFilter(probe.filter)
    session = widget.session
    slowest: list[tuple[float, float, int]] = []
    while not session.unit_finished:
        doc = session.doc_index
        for kind, send in _actions(widget):
            before = probe.count
            started, started_cpu = time.perf_counter(), time.thread_time()
            send()
            if session.unit_finished:
                break
            if session.doc_index != doc:  # this key finished the document
                # Waiting as the station's event loop waits: asleep until an event comes (a
                # page decoded, a paint), not spinning, which took a core from the decoder.
                deadline = started + 10
                waker.start(10_000)  # wakes the wait at the deadline should nothing else come
                while not _shown(widget, probe, before) and time.perf_counter() < deadline:
                    QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
                waker.stop()
                took = (time.perf_counter() - started) * 1000
                next_ms.append(took)
                slowest.append((round(took, 1), round((time.thread_time() - started_cpu) * 1000, 1), doc + 1))
                break
            QApplication.processEvents()  # the line edit repaints
            if kind == "char" and key_ms is not None:
                key_ms.append((time.perf_counter() - started) * 1000)
    widget.page_view.viewport().removeEventFilter(probe.filter)
    return sorted(slowest, reverse=True)[:5]


def _late_ms(start: float, end: float) -> float:
    """How much later than a 1 ms wait's end `end` came (time.perf_counter seconds in, ms out)."""
    return (end - start) * 1000 - 1.0


# A `_ThreadClock` reading: CPU time, time waiting for a CPU (s), times gone to sleep, and of the
# CPU time the kernel's part (s), and page faults; all but the first None where not known.
_Reading = tuple[float, float | None, int | None, float | None, int | None]


class _ThreadClock:
    """The calling thread's CPU time, its time runnable but waiting for a CPU, how often it
    went to sleep of its own accord, the kernel's part of its CPU time and its page faults (a
    `_Reading`); all but the CPU time None where Linux's /proc and RUSAGE_THREAD are not there.
    Read each millisecond, they tell apart the parts of a stall: work (the program's or the
    kernel's on its behalf), waiting for a CPU, sleeping (the GIL, the event loop), and, where the
    thread neither slept nor waited, time the virtual machine's host ran something else on its
    CPU (a guest kernel that accounts steal, as Linux on KVM does, leaves it out of the CPU time)."""

    def __init__(self) -> None:
        try:
            self._usage: int | None = resource.RUSAGE_THREAD  # type: ignore[attr-defined]
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except (OSError, AttributeError):
            self._fd = self._usage = None

    def read(self) -> _Reading:
        cpu = time.thread_time()
        if self._fd is None or self._usage is None:
            return cpu, None, None, None, None
        waited_ns = int(os.pread(self._fd, 64, 0).split()[1])
        usage = resource.getrusage(self._usage)
        return cpu, waited_ns / 1e9, usage.ru_nvcsw, usage.ru_stime, usage.ru_minflt + usage.ru_majflt

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


class _GcClock:
    """Python's garbage collections: `spent_ms`, the milliseconds the thread that made the clock
    has spent collecting (a collection runs in whichever thread's allocation set it off, so only
    the ones on this thread count), and from `clear()` on each full collection's milliseconds on
    any thread (`full_ms`: one in the middle of keying stops the GUI thread for tens of
    milliseconds; the view collects when a unit opens instead). `close` takes the callback out."""

    def __init__(self) -> None:
        self.spent_ms = 0.0
        self.full_ms: list[float] = []
        self._thread = threading.get_ident()
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        took = (time.perf_counter() - self._started) * 1000
        if threading.get_ident() == self._thread:
            self.spent_ms += took
        if info["generation"] == 2:
            self.full_ms.append(took)

    def clear(self) -> None:
        self.full_ms.clear()

    def note(self) -> str:
        longest = f" (the longest {max(self.full_ms):.0f} ms)" if self.full_ms else ""
        return f"; full garbage collections while keying: {len(self.full_ms)}{longest}"

    def close(self) -> None:
        gc.callbacks.remove(self._on_gc)


class _Stall:
    """One late tick of the 1 ms timer, in ms: how late, and of the gap the GUI thread's CPU
    time, its time runnable but waiting for a CPU, how many times it went to sleep, and the rest
    (asleep, or where it never slept, the time the host took its CPU back); the last three are
    None where `_ThreadClock` cannot tell them. `frozen` is the part of the gap in which no CPU
    of the machine ran anything (`_FreezeWatch`), `one_paused` the most of it any one CPU did
    not (which CPU the GUI thread was on is not known), both set once the unit is keyed (0 where
    not watched). `gc` is how much of the gap the GUI thread spent collecting garbage, `kernel`
    how much of its CPU time was the kernel's (system calls, page faults: `faults`), both parts of
    its CPU time."""

    def __init__(self, late: float, gap: tuple[float, float], before: _Reading, after: _Reading, key: str,
                 gc_ms: float = 0.0) -> None:
        self.late, self.gap, self.key, self.gc = late, gap, key, gc_ms
        self.frozen = self.one_paused = 0.0
        self.cpu = (after[0] - before[0]) * 1000
        self.waited = self.rest = self.slept = self.kernel = self.faults = None
        if None not in before and None not in after:
            self.waited = (after[1] - before[1]) * 1000  # type: ignore[operator]
            self.slept = after[2] - before[2]  # type: ignore[operator]
            self.rest = (gap[1] - gap[0]) * 1000 - self.cpu - self.waited
            self.kernel = (after[3] - before[3]) * 1000  # type: ignore[operator]
            self.faults = after[4] - before[4]  # type: ignore[operator]

    def __repr__(self) -> str:
        parts = ""
        if self.kernel is not None and self.kernel >= 0.5:
            parts += f", of it in the kernel {self.kernel:.1f} ({self.faults} page faults)"
        parts += f", of it garbage collection {self.gc:.1f}" if self.gc >= 0.05 else ""
        parts += f", machine frozen {self.frozen:.1f}" if self.frozen else ""
        if self.one_paused > self.frozen + 0.5:
            parts += f", a CPU paused {self.one_paused:.1f}"
        if self.rest is None:
            return f"({self.late:.1f}, cpu {self.cpu:.1f}{parts}, {self.key!r})"
        rest = f"host {self.rest:.1f}" if self.slept == 0 else f"asleep {self.slept}x {self.rest:.1f}"
        return f"({self.late:.1f}: cpu {self.cpu:.1f}, waiting {self.waited:.1f}, {rest}{parts}, {self.key!r})"


def _stall_report(batch: str, stalls: list[_Stall]) -> str:
    """The stderr lines for a unit's stalls: the worst few, and what those over the target were."""
    worst = sorted(stalls, key=lambda st: st.late, reverse=True)
    lines = [f"# {batch}: worst GUI stalls (ms late: the GUI thread's CPU, its waiting for a CPU, and the "
             f"rest: host where it never slept, else asleep n times; the key before): {worst[:5]}"]
    over = [st for st in worst if st.late > STALL_TARGET_MS]
    if over and all(st.rest is not None for st in over):
        hosted = [st for st in over if st.slept == 0]
        lines.append(
            f"# {batch}: {len(over)} stall(s) over {STALL_TARGET_MS:.0f} ms, {sum(st.late for st in over):.0f} ms "
            f"late in all: GUI CPU {sum(st.cpu for st in over):.0f} ms (garbage collection "
            f"{sum(st.gc for st in over):.0f} ms), waiting for a CPU "
            f"{sum(st.waited or 0.0 for st in over):.0f} ms, host {sum(st.rest or 0.0 for st in hosted):.0f} ms "
            f"({len(hosted)} of them never slept), asleep "
            f"{sum(st.rest or 0.0 for st in over if st.slept):.0f} ms; of all that, the whole machine paused "
            f"{sum(st.frozen for st in over):.0f} ms")
    return "\n".join(lines)


def _key_on_timers(widget: Any, collector: _GcClock) -> tuple[float, list[_Stall], list[tuple[float, float]]]:
    """Key the unit with one key event every TYPIST_MS from a timer; the largest lateness of
    a 1 ms timer meanwhile, in ms, each tick more than 8 ms late with its parts and the key
    that came before it, and every tick's gap (time.perf_counter at the tick before and at it)."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    session = widget.session
    loop = QEventLoop()
    clock = _ThreadClock()
    lateness = [0.0]
    last = [time.perf_counter()]
    last_clock = [clock.read()]
    last_gc = [0.0]
    late_ticks: list[_Stall] = []
    gaps: list[tuple[float, float]] = []
    current = [""]

    def on_probe() -> None:
        now, read = time.perf_counter(), clock.read()
        late = _late_ms(last[0], now)
        lateness[0] = max(lateness[0], late)
        gaps.append((last[0], now))
        if late > 8:
            late_ticks.append(_Stall(late, (last[0], now), last_clock[0], read, current[0],
                                     collector.spent_ms - last_gc[0]))
        last[0], last_clock[0], last_gc[0] = now, read, collector.spent_ms

    def events() -> Iterator[Callable[[], None]]:
        while not session.unit_finished:
            for kind, send in _actions(widget):
                current[0] = f"doc {session.doc_index + 1} {session.path} {kind}"
                yield send

    pending = events()

    def on_typist() -> None:
        try:
            next(pending)()
        except StopIteration:
            loop.quit()

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(1)
    probe.timeout.connect(on_probe)
    typist = QTimer()
    typist.setTimerType(Qt.TimerType.PreciseTimer)
    typist.setInterval(TYPIST_MS)
    typist.timeout.connect(on_typist)
    last[0], last_clock[0], last_gc[0] = time.perf_counter(), clock.read(), collector.spent_ms
    probe.start()
    typist.start()
    loop.exec()
    probe.stop()
    typist.stop()
    clock.close()
    return lateness[0], late_ticks, gaps


# --- the machine's own pauses ------------------------------------------------------------------

WATCH_SLACK_MS = 1.0  # a watcher waking more than this late counts its CPU as having stopped
WATCH_MAX_CPUS = 16


def _watch(cpu: int) -> None:
    """A watcher process of `_FreezeWatch`: pinned to one CPU at real-time priority, asleep 1 ms
    at a time until its stdin closes, then prints as JSON each stretch it woke late for (when it
    should have woken, when it did; time.perf_counter, one clock for every process here)."""
    try:
        os.sched_setaffinity(0, {cpu})
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except OSError as exc:  # real-time scheduling needs root or CAP_SYS_NICE
        print(f"not watched: {exc}", flush=True)
        return
    print("ready", flush=True)
    late: list[tuple[float, float]] = []
    last = time.perf_counter()
    while True:
        closed, _, _ = select.select([sys.stdin], [], [], 0.001)
        now = time.perf_counter()
        if _late_ms(last, now) > WATCH_SLACK_MS:
            late.append((last + 0.001, now))
        last = now
        if closed:
            break
    print(json.dumps(late), flush=True)


class _FreezeWatch:
    """Watches for the times no CPU of this machine ran anything: one real-time watcher per CPU
    the station may run on, each waking every millisecond. A real-time thread wakes on time
    whatever the machine's programs are doing, so where every watcher woke late at once, the
    machine itself had stopped (a virtual machine's host had paused it; on this kind of virtual
    machine that is not counted as steal). `stop()` gives those stretches, or None where they
    could not be watched (not Linux, no real-time scheduling allowed: `why_not` says)."""

    def __init__(self) -> None:
        self.why_not = ""
        self._watchers: list[subprocess.Popen[str]] = []
        self.each: list[list[tuple[float, float]]] = []
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if not cpus or len(cpus) > WATCH_MAX_CPUS:
            self.why_not = f"{len(cpus)} CPUs to watch"
            return
        root = Path(__file__).resolve().parents[2]
        for cpu in cpus:
            self._watchers.append(subprocess.Popen(
                [sys.executable, "-m", "tests.benchmarks.bench_keying_ui", "watch", str(cpu)],
                cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for watcher in self._watchers:
            assert watcher.stdout is not None
            answer = watcher.stdout.readline().strip()
            if answer != "ready" and not self.why_not:
                self.why_not = answer or "a watcher did not start"

    def stop(self) -> list[tuple[float, float]] | None:
        """The stretches every CPU stopped at once; `each` then holds every CPU's own."""
        for watcher in self._watchers:
            out, _ = watcher.communicate("", timeout=30)
            self.each.append([(start, end) for start, end in json.loads(out)] if out.strip() else [])
        self._watchers.clear()
        return None if self.why_not else _together(self.each)


def _together(stretches: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Where every list of stretches (each in time order, none overlapping) has one at once."""
    together = stretches[0] if stretches else []
    for other in stretches[1:]:
        both, i, j = [], 0, 0
        while i < len(together) and j < len(other):
            start, end = max(together[i][0], other[j][0]), min(together[i][1], other[j][1])
            if end > start:
                both.append((start, end))
            if together[i][1] < other[j][1]:
                i += 1
            else:
                j += 1
        together = both
    return together


def _within(gaps: list[tuple[float, float]], stretches: list[tuple[float, float]]) -> list[float]:
    """For each gap (in time order, none overlapping), the ms of it covered by the stretches."""
    covered, j = [], 0
    for start, end in gaps:
        while j < len(stretches) and stretches[j][1] <= start:
            j += 1
        total, k = 0.0, j
        while k < len(stretches) and stretches[k][0] < end:
            total += min(end, stretches[k][1]) - max(start, stretches[k][0])
            k += 1
        covered.append(total * 1000)
    return covered


def _mark_pauses(late_ticks: list[_Stall], paused: list[tuple[float, float]],
                 each: list[list[tuple[float, float]]]) -> None:
    """Set each late tick's `frozen` (the whole machine paused) and `one_paused` (the most any
    one CPU did: the GUI's, or that of a thread it waited for)."""
    gaps = [tick.gap for tick in late_ticks]
    for tick, covered in zip(late_ticks, _within(gaps, paused)):
        tick.frozen = covered
    for own in each:
        for tick, covered in zip(late_ticks, _within(gaps, own)):
            tick.one_paused = max(tick.one_paused, covered)


def _rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """This process's largest resident memory so far. Not getrusage's ru_maxrss: Linux keeps
    that across exec, so a child started by a runner holding 400 MB reported the runner's."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _decoder_pids() -> list[int]:
    from ui.prefetch import PageDecoder

    executor = PageDecoder.shared()._executor
    return list(getattr(executor, "_processes", None) or {}) if executor is not None else []


def _machine_times() -> tuple[float, float, float] | None:
    """(CPU time stolen from this virtual machine by its host, all CPU time, the GUI thread's
    time waiting for a CPU while runnable), in seconds; None where Linux's /proc is not there.
    Printed with the figures: a host's neighbours show in them, and not in the code."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
        with open("/proc/thread-self/schedstat") as f:
            waited_ns = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    per_s = os.sysconf("SC_CLK_TCK")
    return ticks[7] / per_s if len(ticks) > 7 else 0.0, sum(ticks[:8]) / per_s, waited_ns / 1e9


def _machine_note(before: tuple[float, float, float] | None, seconds: float) -> str:
    after = _machine_times()
    if before is None or after is None:
        return "not measured here"
    stolen, total, waited = (a - b for a, b in zip(after, before))
    return (f"host steal {100 * stolen / max(total, 1e-9):.1f}% of the machine's CPU time, "
            f"GUI thread runnable but waiting for a CPU {1000 * waited:.0f} ms ({100 * waited / max(seconds, 1e-9):.1f}%)")


def measure(workdir: Path, part: str) -> dict[str, Any]:
    """A child process: key one part of the plan on the station the parent built."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, qInstallMessageHandler

    from ui.app import make_application
    from ui.lock import DEFAULT_LOCK_MINUTES, IdleWatcher
    from ui.pagedecode import wait_for_page_memory
    from ui.runner import wait_for_background
    from workstation.sync import claim_and_pull

    def quiet(kind: Any, context: Any, message: str) -> None:
        if "propagateSizeHints" not in message:  # the offscreen platform says so for every window
            sys.stderr.write(f"Qt: {message}\n")

    qInstallMessageHandler(quiet)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(workdir / "qsettings"))
    started = time.perf_counter()
    pass_no, keyer, plan = PARTS[part]
    central, local, keyer_id, batches = _open_station(workdir, keyer)
    make_application(["bench"])
    idle = IdleWatcher(int(DEFAULT_LOCK_MINUTES * 60_000))  # the station's lock watches every key
    idle.start()
    collections = _GcClock()
    next_on: list[float] = []
    next_off: list[float] = []
    keys: list[float] = []
    stalls: list[float] = []
    less_frozen: list[float] = []  # each stall unit's largest lateness less the machine's pauses in it
    frozen: list[float] = []  # each stall unit's longest pause of the whole machine
    pages = 0
    for batch, count, prefetch, purpose in plan:
        claim, _ = claim_and_pull(central, local, keyer_id, batch_id=batches[batch], pass_no=pass_no,
                                  max_documents=count)
        assert len(claim.document_ids) == count
        widget = _open(local, claim.unit_id, keyer_id, prefetch)
        machine, unit_started = _machine_times(), time.perf_counter()
        collections.clear()
        if purpose == "stall":
            watch = _FreezeWatch()
            try:
                stall, late_ticks, gaps = _key_on_timers(widget, collections)
            finally:
                paused = watch.stop()
            stalls.append(stall)
            if paused is not None:
                _mark_pauses(late_ticks, paused, watch.each)
                less_frozen.append(max((_late_ms(*gap) - covered for gap, covered in zip(gaps, _within(gaps, paused))),
                                       default=0.0))
                frozen.append(max(((end - start) * 1000 for start, end in paused), default=0.0))
            print(_stall_report(batch, late_ticks), file=sys.stderr)
            print(f"# {batch} (stall): " + (
                f"the whole machine paused {sum(1 for a, b in paused if b - a > 0.002)} time(s) for over 2 ms "
                f"(the longest {frozen[-1]:.1f} ms); the GUI's largest lateness less the pauses {less_frozen[-1]:.1f} ms"
                if paused is not None else f"the machine's pauses not watched ({watch.why_not})"), file=sys.stderr)
        else:
            target = next_off if purpose == "baseline" else next_on
            slowest = _key_synchronously(widget, target, keys if purpose == "next" else None)
            if purpose == "next":
                print(f"# {batch}: slowest next documents (ms, GUI thread CPU ms, document): {slowest}",
                      file=sys.stderr)
        if purpose != "keying":
            print(f"# {batch} ({purpose}): {_machine_note(machine, time.perf_counter() - unit_started)}"
                  f"{collections.note()}", file=sys.stderr)
        pages += sum(len(d.page_shas) for d in widget.session.documents)
        _close(widget)
        wait_for_background(30_000)
    gc.collect()
    # Pages let go of just now are unmapped by the page-memory thread a few milliseconds later
    # (as wait_for_background waits for the pool above): the figure is the station's memory.
    wait_for_page_memory()
    measured = {
        "next_on": next_on, "next_off": next_off, "keys": keys, "stalls": stalls, "pages": pages,
        "less_frozen": less_frozen if len(less_frozen) == len(stalls) else None,
        "frozen": frozen if len(frozen) == len(stalls) else None,
        "app_mb": _rss_mb(), "decoder_mb": sum(_rss_mb(pid) for pid in _decoder_pids()),
        "peak_mb": _peak_mb(),
        "keyed_s": time.perf_counter() - started,
    }
    idle.stop()
    central.dispose()
    local.dispose()
    return measured


def _child(workdir: Path, part: str) -> dict[str, Any]:
    out = workdir / f"keying_ui_{part}.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-m", "tests.benchmarks.bench_keying_ui", str(workdir), part, str(out)],
                   cwd=root, env=env, check=True)
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def run(report: Report) -> None:
    started = time.perf_counter()
    build_station(report.workdir)
    setup_s = time.perf_counter() - started
    speed = _child(report.workdir, "speed")
    memory = _child(report.workdir, "memory")
    on, off = _p(speed["next_on"], 0.95), _p(speed["next_off"], 0.95)
    report.figure("next_document_ms", on, "ms", target="<= 16", baseline=off, ratio=off / on,
                  documents=len(speed["next_on"]), p50=round(_p(speed["next_on"], 0.5), 2))
    report.figure("keystroke_ms", _p(speed["keys"], 0.99), "ms", target="<= 4", keys=len(speed["keys"]),
                  p50=round(_p(speed["keys"], 0.5), 3))
    # The figure is the GUI thread's lateness as measured; beside it, what of it the machine itself
    # took (every CPU stopped at once), so a run on a paused virtual machine can be read.
    paused: dict[str, object] = {"machine_paused": "not watched"}
    if memory["frozen"] is not None:
        paused = {"machine_paused_ms": max(memory["frozen"]), "less_paused_ms": max(memory["less_frozen"])}
    report.figure("gui_stall_ms", max(memory["stalls"]), "ms", target=f"<= {STALL_TARGET_MS:.0f}", documents=100,
                  typist_ms=TYPIST_MS, **paused)
    report.figure("rss_mb_500_pages", memory["app_mb"] + memory["decoder_mb"], "MB", target="<= 300",
                  pages=memory["pages"], app_mb=round(memory["app_mb"]), decoder_mb=round(memory["decoder_mb"]),
                  app_peak_mb=round(memory["peak_mb"]), setup_s=round(setup_s),
                  keyed_s=round(speed["keyed_s"] + memory["keyed_s"]))


if __name__ == "__main__":
    if sys.argv[1] == "watch":
        _watch(int(sys.argv[2]))
    else:
        result = measure(Path(sys.argv[1]), sys.argv[2])
        Path(sys.argv[3]).write_text(json.dumps(result), encoding="utf-8")
