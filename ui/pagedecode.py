"""Decoding pages in a process of its own; the pixels come back in shared memory, not copied.

Why a process: decoding a 300-dpi G4 page and making its display levels holds Python's GIL for
tens of milliseconds (libtiff, Pillow's packing, QImage scaling all run under it). On a thread,
that time is taken from the GUI thread: keys echo late and the next document waits. In a process
of its own the work runs on the other core, at a lower priority (`yield_to_the_application`), and
the GUI thread never waits for it; the pixels (full size plus the smaller levels) are written
into one shared-memory block that the keying view wraps in QImages without copying.

This module imports no Qt (the decoder process loads only Pillow, SQLAlchemy and the core).
`render` runs in the decoder process; `attach` runs in the application.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import sys
import threading
from dataclasses import dataclass
from multiprocessing.shared_memory import SharedMemory

from PIL import Image
from sqlalchemy import select

from workstation import models as m
from workstation.errors import ImageError
from workstation.images import decode_page
from workstation.store import Store

log = logging.getLogger(__name__)

# Display levels as (scale, reduction factor): a page viewed at 30% draws from the 50% level.
LEVELS = ((0.5, 2), (0.25, 4))

# A display level is resampled from a level at least this many times wider than it (see render).
DISPLAY_SOURCE_GAP = 1.5

# How far below normal the decoder runs on Linux and macOS (Windows: "below normal").
DECODER_NICENESS = 10

_stores: dict[str, Store] = {}  # in the decoder process: one engine per local store


@dataclass(frozen=True)
class SharedPage:
    """Where a decoded page lies in shared memory (picklable, crosses the process boundary).

    The block holds the full page first, then each level, rows without padding: 8-bit grayscale,
    except the display level, which is 32-bit (grey in each colour byte, as the screen takes it)
    so drawing it is a plain copy.
    `error` is set instead when the page could not be read or decoded."""

    name: str = ""
    width: int = 0
    height: int = 0
    levels: tuple[tuple[float, int, int, int, int], ...] = ()  # (scale, width, height, offset, bytes a pixel)
    error: str = ""


def _store(url: str) -> Store:
    store = _stores.get(url)
    if store is None:
        store = _stores[url] = Store(url)
    return store


def watch_parent() -> None:
    """Decoder process initialiser: end this process as soon as the application is gone (a crash
    or a kill never leaves a decoder behind), and give way to it (`yield_to_the_application`)."""
    yield_to_the_application()
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_and_exit() -> None:
        parent.join()  # returns when the application's end of the pipe closes
        os._exit(0)

    threading.Thread(target=wait_and_exit, name="parent-watch", daemon=True).start()


def yield_to_the_application() -> None:
    """Run this process below normal priority.

    The decoder works ahead of the keyer, with seconds to spare for each page, while the GUI
    thread must answer the next key or show the next document within milliseconds. When both
    want a core at the same moment (the next document's page is asked for just as a document
    opens, and the station has two cores or fewer), the GUI thread should get it."""
    try:
        if sys.platform == "win32":
            import ctypes

            below_normal = 0x00004000  # BELOW_NORMAL_PRIORITY_CLASS
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            if not kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), below_normal):
                raise ctypes.WinError(ctypes.get_last_error())
        else:
            os.nice(DECODER_NICENESS)
    except OSError as exc:  # it still decodes, only at the usual priority
        log.warning("the page decoder could not lower its priority: %s", exc)


def warm_up() -> bool:
    """Import what decoding needs, so the first page is not slow (runs in the decoder)."""
    return True


def render(local_url: str, sha256: str, display_width: int = 0, attached: tuple[str, ...] = ()) -> SharedPage:
    """Decoder process: read a page image from the local store, decode it, make the levels and
    write them all into a new shared-memory block (left for the application to unlink).

    `display_width` adds a level exactly that wide: the page as the view shows it fitted to its
    width, so drawing it needs no scaling. `attached` names blocks the application has opened
    since the last call (see `_let_go`)."""
    _release(attached)
    try:
        with _store(local_url).session() as s:
            row = s.execute(select(m.Image.data, m.Image.media_type).where(m.Image.sha256 == sha256)).first()
        if row is None:
            return SharedPage(error=f"The page image {sha256[:12]} is not on this station.")
        page = decode_page(row.data, row.media_type)
    except ImageError as exc:
        return SharedPage(error=exc.message)
    full = Image.frombuffer("L", (page.width, page.height), page.pixels, "raw", "L", 0, 1)
    parts: list[bytes | memoryview] = [memoryview(page.pixels)]
    levels: list[tuple[float, int, int, int, int]] = []
    offset = page.width * page.height
    made: list[Image.Image] = []
    for _scale, factor in LEVELS:
        if page.width >= factor * 2 and page.height >= factor * 2:
            made.append(full.reduce(factor))  # area average: sharp enough to read, fast to make
    if 0 < display_width < page.width:
        height = max(1, round(page.height * display_width / page.width))
        # Resampled from the smallest level still DISPLAY_SOURCE_GAP times wider: on an A4 scan
        # fitted to a keying view that is the half level, a third of the time of the full page
        # (the level of the decoder's busiest work) and, to the eye, the same picture.
        source = min((level for level in made if level.width >= display_width * DISPLAY_SOURCE_GAP),
                     key=lambda level: level.width, default=full)
        shown = source.resize((display_width, height), Image.Resampling.LANCZOS)
        made.append(shown.convert("RGBX"))  # R = G = B: the byte order of the screen's RGB32 holds
    for level in made:
        data = level.tobytes()
        depth = 4 if level.mode == "RGBX" else 1
        levels.append((level.width / page.width, level.width, level.height, offset, depth))
        parts.append(data)
        offset += len(data)
    block = SharedMemory(create=True, size=offset)
    try:
        _fill(block, parts)
        name = block.name
    finally:
        _let_go(block)
    return SharedPage(name, page.width, page.height, tuple(levels))


def _fill(block: SharedMemory, parts: list[bytes | memoryview], linux: bool = sys.platform.startswith("linux")) -> None:
    """Write the parts one after the other into a new block.

    On Linux through the block's file: the kernel copies into its pages in bulk, where a copy
    through the mapping stops at a page fault every 4 KB (a page with its levels is 15 MB, and
    that took half the time). Elsewhere (a macOS block cannot be written to, a Windows block
    has no file) through the mapping."""
    fd = getattr(block, "_fd", -1) if linux else -1
    position = 0
    for part in parts:
        view = memoryview(part).cast("B")
        if fd >= 0:
            done = 0
            while done < len(view):
                done += os.pwrite(fd, view[done:], position + done)
        else:
            block.buf[position:position + len(view)] = view
        position += len(view)


_held: dict[str, SharedMemory] = {}


def _let_go(block: SharedMemory, windows: bool = sys.platform == "win32") -> None:
    """Decoder process: close this process's handle on a block it made. Elsewhere the name
    lasts until the application unlinks it; on Windows a block with no open handle is gone at
    once, so it stays open until the application says it has opened it (the next call)."""
    if not windows:
        block.close()
        return
    _held[block.name] = block


def _release(names: tuple[str, ...]) -> None:
    for name in names:
        block = _held.pop(name, None)
        if block is not None:
            block.close()


class _Block(SharedMemory):
    """A block whose finaliser never raises: one still exported at exit is simply left."""

    def __del__(self) -> None:
        try:
            self.close()
        except (BufferError, OSError):
            pass

    def close_in_background(self) -> None:
        """Let go of this process's view of the block now (BufferError while it is exported);
        unmap it and close its file on the closer thread. That is what frees a page's memory,
        and it took the GUI thread 3 ms (munmap and the last close) whenever a page left the
        cache; both let go of the GIL."""
        if self._buf is not None:
            self._buf.release()
            self._buf = None
        mapping, fd = self._mmap, self._fd
        self._mmap, self._fd = None, -1
        global _closing_todo
        jobs = _closer()
        with _closing_lock:
            _closing_todo += 1
        jobs.put((mapping, fd))


_closing: queue.SimpleQueue[tuple[object, int]] | None = None
_closing_lock = threading.Lock()
_closing_done = threading.Condition(_closing_lock)
_closing_todo = 0  # blocks handed to the closer that it has not tried yet
CLOSE_RETRY_S = 1.0


def wait_for_page_memory(timeout_s: float = 5.0) -> bool:
    """Block until the closer has tried every block handed to it so far (shutdown, tests,
    measurements of memory); False on timeout. Blocks still viewed stay for later."""
    with _closing_done:
        return _closing_done.wait_for(lambda: _closing_todo == 0, timeout_s)


def _closer() -> queue.SimpleQueue[tuple[object, int]]:
    """The queue of the thread that unmaps and closes blocks, started on first use."""
    global _closing
    with _closing_lock:
        if _closing is None:
            _closing = queue.SimpleQueue()
            threading.Thread(target=_close_blocks, args=(_closing,), name="page-memory", daemon=True).start()
        return _closing


def _close_blocks(jobs: queue.SimpleQueue[tuple[object, int]]) -> None:
    """Unmap and close what the application let go of. A mapping still exported (a slice of it
    alive in an image) is tried again later: exports only go away, nothing new maps it."""
    global _closing_todo
    waiting: list[tuple[object, int]] = []
    while True:
        new = 0
        try:
            waiting.append(jobs.get(timeout=CLOSE_RETRY_S if waiting else None))
            new = 1
        except queue.Empty:
            pass
        still: list[tuple[object, int]] = []
        for mapping, fd in waiting:
            try:
                if mapping is not None:
                    mapping.close()  # type: ignore[attr-defined]
            except BufferError:
                still.append((mapping, fd))
                continue
            if fd >= 0:
                os.close(fd)
        waiting = still
        if new:
            with _closing_done:
                _closing_todo -= new
                _closing_done.notify_all()


class SharedPixels:
    """The application's mapping of one block: attached, unlinked at once (the memory lives
    while mapped), closed when the last image using it is gone."""

    def __init__(self, name: str) -> None:
        self._block = _Block(name=name)
        if sys.platform != "win32":
            self._block.unlink()  # nobody else opens it again; freed once unmapped
        self.buffer = self._block.buf

    def view(self, offset: int, size: int) -> memoryview:
        return self.buffer[offset:offset + size]

    def __del__(self) -> None:
        _close(self._block)


_lingering: list[_Block] = []


def _close(block: _Block) -> None:
    """Let go of a block (unmapped in the background); one whose view is still exported is
    retried with the next."""
    for old in list(_lingering):
        try:
            old.close_in_background()
        except BufferError:
            continue
        _lingering.remove(old)
    try:
        block.close_in_background()
    except BufferError:
        _lingering.append(block)
