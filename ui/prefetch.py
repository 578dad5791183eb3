"""Decoded pages for the keying view, ready before they are needed.

Decoding a 300-dpi page takes tens of milliseconds, more than a keyer may wait between two
documents, and under Python's GIL it would also take that time from the GUI thread. So
`PageCacheModel` has pages decoded in the decoder process (`ui.pagedecode`), keeps the last few,
and is told which pages come next, so they are ready while the keyer still keys the current
document. The pool thread that waits for the decoder only wraps the shared memory in QImages.
Where no decoder process can run, pages are decoded on a pool thread instead (slower keys while
it works, same results). With prefetch off (the benchmark's comparison) a page is decoded on the
GUI thread when it is shown.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from PySide6.QtCore import QObject, Signal
from sqlalchemy import select

from ui import pagedecode
from ui.pageimage import PreparedPage
from ui.runner import run_in_background
from workstation import models as m
from workstation.errors import ImageError
from workstation.images import decode_page
from workstation.store import Store

log = logging.getLogger(__name__)


def load_prepared(local: Store, sha256: str) -> PreparedPage:
    """Read one page image from the local store and make it display-ready, on this thread."""
    with local.session() as s:
        row = s.execute(select(m.Image.data, m.Image.media_type).where(m.Image.sha256 == sha256)).first()
    if row is None:
        raise ImageError(f"The page image {sha256[:12]} is not on this station.",
                         "Press F8 to report it; pull the work again later.")
    decoded = decode_page(row.data, row.media_type)
    return PreparedPage.from_page(decoded)


class PageDecoder:
    """The one decoder process of the application, started on first use.

    `prepare` blocks its (pool) thread until the page is decoded; it falls back to decoding on
    that thread when the process cannot start or has died.
    """

    _instance: "PageDecoder | None" = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False

    @classmethod
    def shared(cls) -> "PageDecoder":
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
                atexit.register(cls._instance.shutdown)
                # The application's decoder: blocks closed here are closed there at once.
                pagedecode.when_blocks_closed(cls._instance._retire_closed)
            return cls._instance

    def start(self) -> None:
        """Start the process now (it takes a second to import what it needs)."""
        with self._lock:
            if self._executor is not None or self._broken:
                return
            try:
                self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                     initializer=pagedecode.watch_parent)
                self._executor.submit(pagedecode.warm_up)
            except (OSError, RuntimeError, ValueError) as exc:  # no processes here: decode on threads
                log.warning("no page decoder process (%s); pages are decoded on threads", exc)
                self._broken = True
                self._executor = None

    def prepare(self, local: Store, sha256: str, display_width: int = 0) -> PreparedPage:
        """The page, decoded by the decoder process (any thread but the GUI thread), with a level
        `display_width` pixels wide when that is given."""
        self.start()
        executor = self._executor
        if executor is None:
            return load_prepared(local, sha256)
        spare, closed = pagedecode.lend_spare_blocks()
        try:
            shared = executor.submit(pagedecode.render, local.url, sha256, display_width, spare, closed).result()
        except BrokenProcessPool:
            log.warning("the page decoder process died; pages are decoded on threads from now on")
            with self._lock:
                self._broken = True
                self._executor = None
            pagedecode.drop_spare_blocks()
            return load_prepared(local, sha256)
        pagedecode.forget_spare_blocks(shared.retired)
        if shared.error:
            raise ImageError(shared.error, "Press F8 to report it; the form still works.")
        return PreparedPage.from_shared(shared)

    def _retire_closed(self) -> None:
        """Blocks closed here are closed in the decoder too, which frees their memory."""
        executor, closed = self._executor, pagedecode.closed_spare_blocks()
        if executor is None or not closed:
            return
        try:
            executor.submit(pagedecode.retire, closed)
        except RuntimeError:  # shut down, or died (BrokenProcessPool): its blocks went with it
            pass

    def shutdown(self) -> None:
        if pagedecode.blocks_closed_callback() == self._retire_closed:
            pagedecode.when_blocks_closed(None)
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


class PageCacheModel(QObject):
    """Prepared pages by SHA-256, decoded in the background, the most recent `capacity` kept.

    Signals:
        page_ready(sha256): a requested page is decoded and in the cache.
        page_failed(sha256, message): a page could not be read or decoded.
    """

    page_ready = Signal(str)
    page_failed = Signal(str, str)

    def __init__(self, local: Store, *, capacity: int = 8, prefetch: bool = True,
                 decoder: PageDecoder | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._local = local
        self._capacity = capacity
        self.prefetch_enabled = prefetch
        self._decoder = decoder or PageDecoder.shared()
        if prefetch:
            self._decoder.start()
        self._pages: OrderedDict[str, PreparedPage] = OrderedDict()
        self._loading: set[str] = set()
        self.failures: dict[str, str] = {}
        # The width pages are drawn at fitted to the view: decoded pages get a level that wide.
        self.display_width = 0

    def page(self, sha256: str) -> PreparedPage | None:
        """The page if it is decoded already (marked as recently used), else None."""
        page = self._pages.get(sha256)
        if page is not None:
            self._pages.move_to_end(sha256)
        return page

    def page_now(self, sha256: str) -> PreparedPage:
        """The page, decoding it on this thread if it is not ready (prefetch off, or a miss)."""
        page = self.page(sha256)
        if page is None:
            try:
                page = load_prepared(self._local, sha256)
            except ImageError as exc:
                self.failures[sha256] = exc.message
                raise
            self._keep(sha256, page)
        return page

    def request(self, sha256s: Iterable[str]) -> None:
        """Decode these pages in the background unless they are cached or under way."""
        local, decoder, width = self._local, self._decoder, self.display_width
        for sha in sha256s:
            cached = self._pages.get(sha)
            if (cached is not None and self._fits(cached)) or sha in self._loading or sha in self.failures:
                continue
            self._loading.add(sha)
            run_in_background(lambda sha=sha: decoder.prepare(local, sha, width),
                              lambda page, sha=sha: self._on_loaded(sha, page),
                              lambda exc, sha=sha: self._on_failed(sha, exc), owner=self)

    def prefetch(self, sha256s: Iterable[str]) -> None:
        """Pages the keyer will need soon; ignored when prefetch is off."""
        if self.prefetch_enabled:
            self.request(sha256s)

    def _fits(self, page: PreparedPage) -> bool:
        """Whether the page has a level for the display width (or needs none); a page decoded
        for another width is decoded again when asked for (it stays usable meanwhile)."""
        if self.display_width <= 0 or page.keep is None or page.width <= self.display_width:
            return True
        return any(level.width() == self.display_width for _scale, level in page.levels)

    def is_loading(self, sha256: str) -> bool:
        return sha256 in self._loading

    def clear(self) -> None:
        self._pages.clear()

    def retain(self, sha256s: Iterable[str]) -> None:
        """Let go of every cached page but these, now (a block let go of before the next
        request goes with it to the decoder to be written again, see ui.pagedecode)."""
        keep = set(sha256s)
        for sha in [sha for sha in self._pages if sha not in keep]:
            del self._pages[sha]

    def _keep(self, sha256: str, page: PreparedPage) -> None:
        self._pages[sha256] = page
        self._pages.move_to_end(sha256)
        while len(self._pages) > self._capacity:
            self._pages.popitem(last=False)

    def _on_loaded(self, sha256: str, page: PreparedPage) -> None:
        self._loading.discard(sha256)
        self._keep(sha256, page)
        self.page_ready.emit(sha256)

    def _on_failed(self, sha256: str, error: BaseException) -> None:
        self._loading.discard(sha256)
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        log.warning("page %s cannot be shown: %s", sha256[:12], message)
        self.failures[sha256] = message
        self.page_failed.emit(sha256, message)
