"""Decoded pages for the keying view, ready before they are needed.

Decoding a 300-dpi page takes a few milliseconds to tens of them, more than a keyer may wait
between two documents. `PageCacheModel` reads page images from the station's local store and
decodes them off the GUI thread (through the one background helper), keeps the last few, and is
told which pages come next so they are decoded while the keyer still keys the current document.
With prefetch off (the benchmark's comparison) a page is decoded on the GUI thread on demand.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal
from sqlalchemy import select

from ui.pageimage import PreparedPage
from ui.runner import run_in_background
from workstation import models as m
from workstation.images import decode_page
from workstation.store import Store

log = logging.getLogger(__name__)


def load_prepared(local: Store, sha256: str) -> PreparedPage:
    """Read one page image from the local store and make it display-ready (any thread)."""
    with local.session() as s:
        row = s.execute(select(m.Image.data, m.Image.media_type).where(m.Image.sha256 == sha256)).first()
    if row is None:
        raise LookupError(f"page image {sha256[:12]} is not on this station")
    decoded = decode_page(row.data, row.media_type)
    return PreparedPage.from_page(decoded)


class PageCacheModel(QObject):
    """Prepared pages by SHA-256, decoded in the background, the most recent `capacity` kept.

    Signals:
        page_ready(sha256): a requested page is decoded and in the cache.
        page_failed(sha256, message): a page could not be read or decoded.
    """

    page_ready = Signal(str)
    page_failed = Signal(str, str)

    def __init__(self, local: Store, *, capacity: int = 8, prefetch: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._local = local
        self._capacity = capacity
        self.prefetch_enabled = prefetch
        self._pages: OrderedDict[str, PreparedPage] = OrderedDict()
        self._loading: set[str] = set()
        self.failures: dict[str, str] = {}

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
            page = load_prepared(self._local, sha256)
            self._keep(sha256, page)
        return page

    def request(self, sha256s: Iterable[str]) -> None:
        """Decode these pages in the background unless they are cached or under way."""
        for sha in sha256s:
            if sha in self._pages or sha in self._loading:
                continue
            self._loading.add(sha)
            run_in_background(lambda sha=sha: load_prepared(self._local, sha),
                              lambda page, sha=sha: self._on_loaded(sha, page),
                              lambda exc, sha=sha: self._on_failed(sha, exc), owner=self)

    def prefetch(self, sha256s: Iterable[str]) -> None:
        """Pages the keyer will need soon; ignored when prefetch is off."""
        if self.prefetch_enabled:
            self.request(sha256s)

    def is_loading(self, sha256: str) -> bool:
        return sha256 in self._loading

    def clear(self) -> None:
        self._pages.clear()

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
