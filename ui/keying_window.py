"""The keying view: the scan beside the form, driven by a `KeyingSession`.

This widget adds no domain logic (house rule 2): every key goes to the session, and the widget
shows what the session says. The session decides the next field, validates, counts keystrokes
and time, and hands each write to the station's writer thread, so the GUI thread never waits for
the disk. Pages come from a `PageCacheModel` that decodes the pages of the current and the next
documents while the keyer keys, so the next document is on screen at once.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QShowEvent
from PySide6.QtWidgets import QApplication, QLabel, QSplitter, QVBoxLayout, QWidget

from ui import keys, pagedecode
from ui.formview import FormWidget
from ui.pagetools import PageToolsWidget
from ui.pageview import PageViewWidget
from ui.prefetch import PageCacheModel
from ui.runner import WriterThread, tune_for_heads_down_work
from ui.snippet import SnippetWidget
from ui.statusbar import FAILED, SAVED, SAVING, StatusBarWidget
from workstation import page_problems
from workstation.errors import KnownError, LeaseLost
from workstation.keying import KeyingSession, Move, RowLimit, SaveJob, save
from workstation.store import Store
from workstation.templates import SectionSpec, parse_path

log = logging.getLogger(__name__)

SPLITTER_KEY = "keying/splitter"
RETRY_MS = 2000
PREFETCH_DOCUMENTS = 2  # how many documents ahead have their pages decoded
# After this long with no new field, the next field's snippet is made ahead (a keyer takes far
# longer between fields; made on the key that moves there, it was a fifth of that key's work).
SNIPPET_AHEAD_MS = 30
# A new document is 5-10 ms of painting; the writes of the one just finished wait for it.
NEW_DOCUMENT_WRITE_DELAY_S = 0.025
NOT_SAVED_TEXT = (
    "Your last field could not be saved on this computer. It is kept and saved again every few "
    "seconds; if this goes on, tell your supervisor (the disk may be full)."
)

SessionFactory = Callable[[Callable[[SaveJob], None]], KeyingSession]


class KeyingWidget(QWidget):
    """Keys one claimed unit, document after document.

    `session_factory(writer)` opens the KeyingSession with the widget's writer hook, so every
    save goes through the writer thread. `flush()` saves the field being typed and waits for the
    writes (screen lock, logout, closing).

    Signals:
        document_opened(index): a document is open: its values are in the form and its first
            field has the focus (its page follows a turn of the event loop later).
        document_finished(index): the keyer finished a document (saved through the writer).
        unit_finished(): the last document of the unit is finished; the unit is queued to send.
        field_saved(path): the writer committed a field to the local store.
        page_reported(sha256, reason): a page the keyer reported missing or unreadable (F8) is
            recorded in the local store and queued for the push; reason is its code.
    """

    document_opened = Signal(int)
    document_finished = Signal(int)
    unit_finished = Signal()
    field_saved = Signal(str)
    page_reported = Signal(str, str)

    def __init__(self, local: Store, session_factory: SessionFactory, *,
                 pages: PageCacheModel | None = None, writer: WriterThread | None = None,
                 status: StatusBarWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyingView")
        self._local = local
        self.writer = writer or WriterThread(self)
        self._own_writer = writer is None
        self._failed_jobs: list[SaveJob] = []
        self._jobs: dict[int, SaveJob] = {}
        self.writer.saved.connect(self._on_writer_saved)
        self.writer.failed.connect(self._on_writer_failed)
        self.writer.drained.connect(self._on_writer_drained)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(RETRY_MS)
        self._retry.timeout.connect(self._on_retry_timeout)
        self._prefetch_again = QTimer(self)
        self._prefetch_again.setSingleShot(True)
        self._prefetch_again.setInterval(0)
        self._prefetch_again.timeout.connect(self._on_prefetch_again_timeout)
        self._snippet_ahead = QTimer(self)
        self._snippet_ahead.setSingleShot(True)
        self._snippet_ahead.setInterval(SNIPPET_AHEAD_MS)
        self._snippet_ahead.timeout.connect(self._on_snippet_ahead_timeout)
        self.pages = pages or PageCacheModel(local, parent=self)
        self.pages.page_ready.connect(self._on_pages_page_ready)
        self.pages.page_failed.connect(self._on_pages_page_failed)
        self.status = status or StatusBarWidget()
        self.session = session_factory(self._submit)
        self._page_no = 0
        self._shown_sha = ""
        self._busy = False  # a command is being handled: a nested command waits
        self._closed = False
        self.reported: set[str] = set()
        self._reports: dict[int, tuple[str, str]] = {}  # writer job -> (image, "page N of NAME")

        self.page_view = PageViewWidget()
        self.tools = PageToolsWidget(self._page_handlers())
        self.snippet = SnippetWidget()
        self.form = FormWidget(self.session.template, rows=self._rows())
        self.message = QLabel()
        self.message.setObjectName("keyingMessage")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.hide()
        caption = QLabel("CURRENT FIELD")
        caption.setObjectName("snippetCaption")
        scan = QWidget()
        scan.setObjectName("keyingScan")
        scan_layout = QVBoxLayout(scan)
        scan_layout.setContentsMargins(0, 0, 0, 0)
        scan_layout.setSpacing(0)
        scan_layout.addWidget(self.tools)
        scan_layout.addWidget(self.page_view, 1)
        side = QWidget()
        side.setObjectName("keyingSide")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(10, 4, 10, 10)
        side_layout.setSpacing(0)
        side_layout.addWidget(caption)
        side_layout.addWidget(self.snippet)
        side_layout.addSpacing(10)
        side_layout.addWidget(self.message)
        side_layout.addWidget(self.form, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("keyingSplitter")
        self.splitter.addWidget(scan)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.splitter, 1)
        if status is None:
            layout.addWidget(self.status)
        self._restore_splitter()

        self.form.key_pressed.connect(self._on_form_key_pressed)
        self.form.text_edited.connect(self._on_form_text_edited)
        self.form.action_triggered.connect(self._on_form_action_triggered)
        self.form.field_focused.connect(self._on_form_field_focused)
        self.page_view.fit_width_changed.connect(self._on_page_view_fit_width_changed)
        self._actions: list[QAction] = list(keys.make_actions(self, self._page_handlers()).values())
        # The keyer's figures (fields today, keys/h) are shown once a second, not on every field
        # left: a count a second late goes unnoticed, and moving on is lighter by a status update.
        self._figures_timer = QTimer(self)
        self._figures_timer.setInterval(1000)
        self._figures_timer.timeout.connect(self._show_figures)
        self._figures_timer.start()
        self.status.set_save_state(SAVED)
        # The second half of opening a document (`_open_document`), on the next turn.
        self._page_timer = QTimer(self)
        self._page_timer.setSingleShot(True)
        self._page_timer.setInterval(0)
        self._page_timer.timeout.connect(self._show_document_page)
        self._open_document(page_now=True)
        self._show_figures()
        tune_for_heads_down_work()

    # --- setup ---------------------------------------------------------------------------------

    def _rows(self) -> dict[str, int]:
        return {item.key: self.session.rows(item.key) for item in self.session.template.layout()
                if isinstance(item, SectionSpec)}

    def _page_handlers(self) -> dict[str, Callable[[], object]]:
        handlers: dict[str, Callable[[], object]] = dict(self.page_view.key_handlers())
        handlers[keys.NEXT_PAGE] = lambda: self.show_page(self._page_no + 1)
        handlers[keys.PREVIOUS_PAGE] = lambda: self.show_page(self._page_no - 1)
        handlers[keys.REPORT_PAGE] = self.report_page
        return handlers

    def _restore_splitter(self) -> None:
        state = QSettings().value(SPLITTER_KEY)
        if state is not None:
            self.splitter.restoreState(state)
        else:
            self.splitter.setSizes([780, 520])

    def save_layout(self) -> None:
        QSettings().setValue(SPLITTER_KEY, self.splitter.saveState())

    # --- documents -----------------------------------------------------------------------------

    def _open_document(self, *, page_now: bool = False) -> None:
        """Show the session's current document: its saved values and its first field focused
        at once (keys typed from now on go to it), then its page.

        The page, the zone and the prefetch follow from a zero timer (`page_now` does them
        here), so the GUI thread does the work of a new document in two blocks of a few
        milliseconds each instead of one: the form's half and its paint, then, after the
        timers and input that came meanwhile, the page's half and its paint. (As a queued call
        the page's half ran in the same pass as the form's and the paint of both, which was
        the longest time the GUI stood still while keying: 7 ms of CPU on a quiet machine, over
        16 on a busy one.) The form is painted a few milliseconds before the page, with the
        previous page still beside it; both paints mostly fall within one frame of the screen.
        Where the platform's event loop delivers a zero timer as a posted event, the page's
        half runs in the same pass, before the paint, as before."""
        session = self.session
        self.form.reset(self._rows())
        self.form.set_keyable(session.paths() if session.document.field_paths is not None else None)
        for path in session.paths_with_content():
            state = session.field(path)
            issues = state.issues if state.overridden else ()
            self.form.set_field_state(path, state.text, state.flag, issues, state.saved,
                                      overridden=state.overridden)
        self._page_no = 0
        self._shown_sha = ""
        self.message.hide()
        if self.form.has_path(session.path):
            self.form.focus_path(session.path)
        self.status.set_document(session.doc_index + 1, len(session.documents))
        self.document_opened.emit(session.doc_index)
        if page_now:
            self._show_document_page()
        elif not self._page_timer.isActive():
            self._page_timer.start()

    def _show_document_page(self) -> None:
        """The second half of opening a document: its page, the zone, the prefetch."""
        if self._closed or self.session.unit_finished:
            return
        self._show_current()
        self._prefetch()
        # The page in this block, not a turn later: the scene passes its changes on in a queued call.
        self.page_view.settle()

    def _prefetch(self) -> None:
        """Decode the current document's other pages and the next documents' pages (once the
        view is shown: only then is the width known that pages are decoded for).

        The cache lets go of all but those and the previous document's pages first: a page
        let go of before the request gives the decoder its block to write the next page into
        (ui.pagedecode), where memory new to the process costs far more."""
        if not self.isVisible():
            return
        session = self.session
        index = session.doc_index
        wanted = list(session.document.page_shas)
        for info in session.documents[index + 1:index + 1 + PREFETCH_DOCUMENTS]:
            wanted.extend(info.page_shas)
        previous = session.documents[index - 1].page_shas if index > 0 else ()
        self.pages.retain([*previous, *wanted])
        self._remember_display_width()
        self.pages.prefetch(wanted)

    def show_page(self, page_no: int) -> None:
        """Show page `page_no` of the current document (ignored outside 1..pages)."""
        shas = self.session.document.page_shas
        if not shas:
            self._page_no = 1
            self.status.set_page(0, 0)
            self._show_failure("", "This document has no page images on this station.")
            return
        if not 1 <= page_no <= len(shas):
            return
        sha = shas[page_no - 1]
        if page_no == self._page_no and self._shown_sha == sha:
            return
        self._page_no = page_no
        self.status.set_page(page_no, len(shas))
        self._update_where()
        page = self.pages.page(sha)
        if page is None and sha in self.pages.failures:
            self._show_failure(sha, self.pages.failures[sha])
            return
        if page is None and not self.pages.prefetch_enabled:
            try:
                page = self.pages.page_now(sha)
            except Exception as exc:  # noqa: BLE001 - a bad page is shown as a sentence, never a crash
                self._show_failure(sha, self.pages.failures.get(sha) or str(exc))
                return
        if page is None:  # decoding in the background: shown when ready
            self._shown_sha = ""
            self.page_view.set_page(None)
            self.snippet.set_page(None)
            self.snippet.set_zone(None, message="Loading the page\u2026")
            # Not before the view is shown: until then its size, and so the width the page is
            # decoded for, is a guess; being shown requests it (showEvent, _prefetch).
            if self.isVisible():
                self._remember_display_width()
                self.pages.request([sha])
            return
        self._shown_sha = sha
        self.page_view.set_page(page)
        self.snippet.set_page(page)
        self._show_zone()

    def _show_failure(self, sha: str, reason: str) -> None:
        """A page that cannot be shown: the reason, and how to report it; the form goes on."""
        self._shown_sha = sha
        hint = ("Reported. Key what you can from the paper; mark the rest illegible (F3)."
                if sha in self.reported else
                "Press F8 to report it. You can still key the form; mark what you cannot read "
                "illegible (F3).")
        self.page_view.show_error(f"{reason}\n\n{hint}")
        self.snippet.set_page(None)
        self.snippet.set_zone(None, message="No image for this page")

    def _update_where(self) -> None:
        doc = self.session.document
        pages = len(doc.page_shas)
        name = doc.source_name or f"document {doc.seq}"
        self.tools.set_where(f"{name} \u00b7 page {self._page_no} of {pages}" if pages else name)

    def _show_current(self) -> None:
        """Focus the session's field; bring its page, zone and snippet into view."""
        path = self.session.path
        self.form.focus_path(path)
        zone = self.session.field(path).zone
        before = (self._page_no, self._shown_sha)
        self.show_page(zone.page if zone is not None else max(self._page_no, 1))
        if (self._page_no, self._shown_sha) == before:  # same page: only the zone moves
            self._show_zone()

    def _show_zone(self) -> None:
        if not self._shown_sha or self.page_view.page is None:
            return
        zone = self.session.field().zone
        if zone is not None and zone.page != self._page_no:
            zone = None
        self.page_view.show_zone(zone)
        self.snippet.set_zone(zone, message="" if zone else "This field has no zone on this page")
        self._snippet_ahead.start()

    def _on_snippet_ahead_timeout(self) -> None:
        """Make the next field's snippet while the keyer is still typing this one."""
        session = self.session
        if self._closed or session.unit_finished or not self._shown_sha:
            return
        following = session.next_path()
        # The zone alone (the template's), not the whole state of the field.
        zone = session.template.zone(following) if following is not None else None
        if zone is not None and zone.page == self._page_no:
            self.snippet.prepare(zone)

    def report_page(self) -> None:
        """F8: record that the page shown is missing or unreadable (`workstation.page_problems`).

        Written through the writer thread like a field, so the GUI thread never waits for the
        disk; the report goes to the central database with the next sync round."""
        session = self.session
        doc = session.document
        shas = doc.page_shas
        page_no = max(self._page_no, 1)
        sha = shas[page_no - 1] if shas and page_no <= len(shas) else ""
        detail = self.pages.failures.get(sha) or (
            "This document has no page images on this station." if not shas else "The keyer could not read the page.")
        local, keyer_id, unit_id, doc_id = self._local, session.keyer_id, session.unit_id, doc.id
        job_id = self.writer.submit(lambda: page_problems.report_page(
            local, keyer_id, unit_id, doc_id, page_no, image_sha256=sha, detail=detail))
        self._reports[job_id] = (sha, f"page {page_no} of {doc.source_name or 'this document'}")

    def _on_report_saved(self, sha: str, where: str, reported: page_problems.Reported) -> None:
        log.warning("page problem reported by keyer %s: %s (image %s): %s", self.session.keyer_id, where,
                    sha[:12] or "-", reported.reason)
        self.reported.add(sha)
        reason = page_problems.REASONS[reported.reason]
        done = "Reported" if reported.new else "Already reported"
        self._say(f"{done} {where} as {reason}: recorded on this computer, it reaches your supervisor with "
                  "the next sync. Key what you can read; mark the rest illegible (F3).")
        shas = self.session.document.page_shas
        if not shas or (sha in self.pages.failures and sha == self._shown_sha):
            self._show_failure(sha, self.pages.failures.get(sha, "") if shas
                               else "This document has no page images on this station.")
        self.page_reported.emit(sha, reported.reason)

    # --- keys from the form --------------------------------------------------------------------

    def _on_form_key_pressed(self, path: str) -> None:
        if path == self.session.path and not self.session.unit_finished:
            self.session.keystroke()

    def _on_form_text_edited(self, path: str, text: str) -> None:
        session = self.session
        if path != session.path or session.unit_finished:
            return
        issues = session.set_text(text)
        self.form.set_field_state(path, text, "", issues, False)
        limit = session.field(path).auto_advance_at
        if limit is not None and len(text) >= limit and not issues and not self._busy:
            self._run(lambda: self._apply(session.advance(auto=True)))

    def _on_form_field_focused(self, path: str) -> None:
        """A click into another field: the session moves there (the field left is saved)."""
        session = self.session
        if self._busy:  # focus moving while a command changes the form: the command focuses
            return
        if path == session.path or session.unit_finished or path not in session.paths():
            if self.form.has_path(session.path):
                self.form.focus_path(session.path)
            return
        left = session.path
        self._run(lambda: (session.go_to(session.doc_index, path), self._refresh_field(left), self._show_current()))

    def _on_form_action_triggered(self, action: str, path: str) -> None:
        session = self.session
        if self._busy or session.unit_finished:
            return
        self.message.hide()
        if action == keys.NEXT_FIELD:
            self._run(lambda: self._apply(session.advance()))
        elif action == keys.PREVIOUS_FIELD:
            self._run(lambda: self._apply(session.back()))
        elif action == keys.DUP:
            self._run(self._dup)
        elif action == keys.ILLEGIBLE:
            self._run(lambda: self._apply(session.mark_illegible()))
        elif action == keys.BLANK:
            self._run(lambda: self._apply(session.mark_blank()))
        elif action in (keys.ADD_ROW, keys.REMOVE_ROW):
            self._run(lambda: self._change_rows(action))

    def _run(self, command: Callable[[], object]) -> None:
        """Run one keying command; a known error becomes a sentence and a beep, never a trap."""
        self._busy = True
        try:
            command()
        except KnownError as exc:
            QApplication.beep()
            self._say(str(exc))
        finally:
            self._busy = False

    def _dup(self) -> None:
        session = self.session
        if session.dup() is None:
            QApplication.beep()
            self._say("Nothing to repeat: the previous document has no value here.")
            return
        state = session.field()
        self.form.set_field_state(session.path, state.text, state.flag, state.issues, False)

    def _change_rows(self, action: str) -> None:
        session = self.session
        parsed = parse_path(session.path)
        section = parsed.section or next(
            (item.key for item in session.template.layout() if isinstance(item, SectionSpec)), "")
        if not section:
            QApplication.beep()
            self._say("This form has no line items.")
            return
        try:
            if action == keys.ADD_ROW:
                left = session.path
                target = session.add_row(section)
                self.form.add_row(section, parse_path(target).row)
                self._refresh_field(left)
            else:
                row = parsed.row if parsed.section == section else session.rows(section)
                session.remove_row(section, row)
                self.form.remove_row(section, row)
                self._refresh_section(section)
        except RowLimit as exc:
            QApplication.beep()
            self._say(str(exc))
            return
        self._show_current()

    def _refresh_section(self, section: str) -> None:
        """After a row went, the rows below it moved up: show each row's value as saved."""
        for path in self.session.paths():
            if parse_path(path).section == section and path != self.session.path:
                self._refresh_field(path)
        state = self.session.field()
        self.form.set_field_state(state.path, state.text, state.flag, (), state.saved, overridden=state.overridden)

    def _apply(self, move: Move) -> None:
        session = self.session
        if move.warned:
            QApplication.beep()
            self.form.set_field_state(session.path, session.field().text, "", move.issues, False)
            return
        if move.saved:
            self._refresh_field(move.saved)
        if move.document_done:
            self._finish_document()
            return
        self._show_current()

    def _refresh_field(self, path: str) -> None:
        if not self.form.has_path(path):
            return
        state = self.session.field(path)
        issues = state.issues if state.overridden else ()
        self.form.set_field_state(path, state.text, state.flag, issues, state.saved, overridden=state.overridden)

    def _finish_document(self) -> None:
        session = self.session
        done = session.finish_document()
        if done.missing:
            log.info("document finished with %d field(s) left empty", len(done.missing))
        self.document_finished.emit(done.doc_index)
        if done.unit_finished:
            self._show_figures()
            self.unit_finished.emit()
            return
        # The document's last field and its end are written once the next one is on screen.
        self.writer.defer(NEW_DOCUMENT_WRITE_DELAY_S)
        self._open_document()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    # --- saving --------------------------------------------------------------------------------

    def _submit(self, job: SaveJob) -> None:
        local = self._local
        self.status.set_save_state(SAVING)
        job_id = self.writer.submit(lambda: (save(local, job), tuple(v.field_path for v in job.values))[1])
        self._jobs[job_id] = job

    def _on_writer_saved(self, job_id: int, paths: object) -> None:
        report = self._reports.pop(job_id, None)
        if report is not None and isinstance(paths, page_problems.Reported):
            self._on_report_saved(*report, paths)
            return
        self._jobs.pop(job_id, None)
        for path in paths if isinstance(paths, tuple) else ():
            self.field_saved.emit(path)

    def _on_writer_failed(self, job_id: int, error: object) -> None:
        report = self._reports.pop(job_id, None)
        if report is not None:
            log.warning("a page problem report could not be recorded: %s", error)
            QApplication.beep()
            why = str(error) if isinstance(error, KnownError) else "this computer could not save it"
            self._say(f"The report of {report[1]} was not recorded: {why}. Press F8 again; if it goes on, "
                      "tell your supervisor.")
            return
        job = self._jobs.pop(job_id, None)
        if isinstance(error, LeaseLost) and job is not None and job.finish_unit is not None:
            # The unit cannot be finished here any more; the keyed values still are saved.
            log.warning("finishing unit %s was refused: %s", job.finish_unit.unit_id, error)
            self._say(f"{error.message} What you keyed is saved on this computer. {error.hint}")
            self._submit(dataclasses.replace(job, finish_unit=None))
            return
        log.warning("a field could not be saved: %s", error)
        if job is not None:
            self._failed_jobs.append(job)
        self.status.set_save_state(FAILED)
        self._say(NOT_SAVED_TEXT)
        self._retry.start()

    def _on_retry_timeout(self) -> None:
        # A job writes absolute values (not increments), so writing it again is safe; the jobs
        # go again in the order they were made.
        jobs, self._failed_jobs = self._failed_jobs, []
        for job in jobs:
            self._submit(job)

    def _on_writer_drained(self) -> None:
        if self.writer.pending == 0 and not self._failed_jobs:
            self.status.set_save_state(SAVED)
            if self.message.isVisible() and self.message.text() == NOT_SAVED_TEXT:
                self.message.hide()

    @property
    def unsaved(self) -> int:
        """Writes submitted but not yet confirmed, plus writes waiting for a retry."""
        return self.writer.pending + len(self._failed_jobs)

    def flush(self, timeout_ms: int = 30_000) -> bool:
        """Save the field being typed and wait for every write; True when all are on disk.

        For the screen lock, logging out and closing. The field keeps its text and the keyer
        stays in it."""
        if not self.session.unit_finished and not self._closed:
            try:
                self.session.save_current()
            except KnownError as exc:
                log.warning("saving the current field failed: %s", exc)
        if self._failed_jobs:
            self._retry.stop()
            self._on_retry_timeout()
        self.writer.drain(timeout_ms)
        return self.unsaved == 0

    def close_session(self) -> None:
        """Save everything and stop the writer (idempotent): logging out, closing."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self.save_layout()
        self._figures_timer.stop()
        self._retry.stop()
        self._snippet_ahead.stop()
        if self._own_writer:
            self.writer.stop()
        # Let the page memory go now rather than whenever the garbage collector gets to this
        # widget's reference cycles.
        self.page_view.set_page(None)
        self.snippet.set_page(None)
        self.pages.clear()
        pagedecode.rest_spare_blocks()  # kept for the next unit, out of this process's memory

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.close_session()
        super().closeEvent(event)

    def _on_prefetch_again_timeout(self) -> None:
        if not self.session.unit_finished and not self._closed:
            self._prefetch()

    def _on_page_view_fit_width_changed(self, _pixels: int) -> None:
        self._remember_display_width()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._remember_display_width()
        if self.session.unit_finished:
            return
        self._prefetch_again.start()  # the pages wanted now, for the width the view has
        if self.form.has_path(self.session.path):
            self.form.focus_path(self.session.path)  # keys go to the field from the first one on

    def _remember_display_width(self) -> None:
        """Pages decoded from now on get a level for the page view's fit-width size; when that
        size changed (the window was shown or resized), the pages coming up are decoded again."""
        width = self.page_view.fit_width_pixels()
        if width == self.pages.display_width:
            return
        self.pages.display_width = width
        if self.isVisible() and not self.session.unit_finished:
            # After the layout has settled (a window being shown is resized a few times).
            self._prefetch_again.start()

    # --- pages ---------------------------------------------------------------------------------

    def _on_pages_page_ready(self, sha256: str) -> None:
        shas = self.session.document.page_shas
        if not (self._page_no and 0 < self._page_no <= len(shas) and shas[self._page_no - 1] == sha256):
            return
        if not self._shown_sha:  # it was being waited for
            wanted, self._page_no = self._page_no, 0
            self.show_page(wanted)
            return
        page = self.pages.page(sha256)
        if page is not None and self._shown_sha == sha256 and page is not self.page_view.page:
            self.page_view.replace_page(page)  # decoded again for the view's new size
            self.snippet.set_page(page)
            self._show_zone()

    def _on_pages_page_failed(self, sha256: str, message: str) -> None:
        shas = self.session.document.page_shas
        if self._page_no and 0 < self._page_no <= len(shas) and shas[self._page_no - 1] == sha256:
            self._show_failure(sha256, message)

    def _show_figures(self) -> None:
        figures = self.session.figures()
        self.status.set_fields_today(figures.fields)
        self.status.set_rate(figures.keystrokes_per_hour if figures.active_seconds >= 60 else None)
