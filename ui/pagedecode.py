"""Decoding pages in a process of its own; the pixels come back in shared memory, not copied.

Why a process: decoding a 300-dpi G4 page and making its display levels holds Python's GIL for
tens of milliseconds (libtiff, Pillow's packing, QImage scaling all run under it). On a thread,
that time is taken from the GUI thread: keys echo late and the next document waits. In a process
of its own the work runs on the other core, at a lower priority (`yield_to_the_application`), and
the GUI thread never waits for it; the pixels (full size plus the smaller levels) are written
into one shared-memory block that the keying view wraps in QImages without copying.

Blocks are used again. A block the keying view no longer reads (no image views it) is handed
back to the decoder with the next request, and the decoder writes a later page into it. A new
block is memory new to both processes: in the keying benchmark, writing a G4 page (15 MB with
its levels) into a new block took the decoder 30-100 ms, most of it in the kernel getting and
clearing the memory, and 3-8 ms into a block used before; the application also no longer maps,
unmaps and frees a block per page. The decoder keeps every block it made open until it gives
it up (`SPARE_BLOCKS`); the application keeps its mapping of a block it handed back, so a page
written there again is drawn with no new mapping.

This module imports no Qt (the decoder process loads only Pillow, SQLAlchemy and the core).
`render` runs in the decoder process; `SharedPixels` (and what it calls) in the application.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable
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

# How many blocks let go of by the keying view wait to be written into again; more are given up.
# While keying, a page leaves the cache as the next one is decoded, so one or two are enough;
# four carry a closed unit's cache over to the next unit's first pages.
SPARE_BLOCKS = 4
# A spare block is used for a page needing at least this share of its size (pages differ in size;
# a small page does not hold a large block).
SPARE_FILL = 0.5

# Blocks the decoder makes when it starts (`warm_up`): the keying view's cache (the previous,
# current and next two documents) and a page under way, each large enough for an A4 or Letter
# page at 300 dpi with its levels and a display level up to 1,000 pixels wide (17.4 MB).
WARM_BLOCKS = 4
WARM_BLOCK_BYTES = 18 << 20
# And the heap a G4 page's images take at once (40 MB), touched then freed back into the heap.
WARM_HEAP_CHUNKS = 3
WARM_HEAP_CHUNK = 16 << 20

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
    retired: tuple[str, ...] = ()  # spare blocks the decoder gave up: the application closes its mapping


def _store(url: str) -> Store:
    store = _stores.get(url)
    if store is None:
        store = _stores[url] = Store(url)
    return store


def watch_parent() -> None:
    """Decoder process initialiser: end this process as soon as the application is gone (a crash
    or a kill never leaves a decoder behind), and give way to it (`yield_to_the_application`)."""
    yield_to_the_application()
    keep_freed_memory()
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_and_exit() -> None:
        parent.join()  # returns when the application's end of the pipe closes
        os._exit(0)

    threading.Thread(target=wait_and_exit, name="parent-watch", daemon=True).start()


def keep_freed_memory(linux: bool = sys.platform.startswith("linux")) -> bool:
    """Decoder process: keep the memory of a page's images for the next page's (glibc).

    A G4 page's decoding and levels go through 25 MB of images. glibc maps large ones from the
    kernel and hands them back when freed, so each page faulted 1,800-6,500 new 4 KB pages in,
    at 15-20 microseconds each on a virtual machine whose host backs memory only when touched.
    Taken from and freed back into the heap instead, after the first pages none are new.
    False where this is not glibc (elsewhere the allocator is left as it is)."""
    if not linux:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        # M_MMAP_THRESHOLD (-3): blocks up to 32 MB (glibc's most) come from the heap;
        # M_TRIM_THRESHOLD (-1): freed heap is kept up to 256 MB before any is given back.
        return bool(libc.mallopt(-3, 32 << 20)) and bool(libc.mallopt(-1, 256 << 20))
    except (OSError, AttributeError):  # no glibc (musl, a static build)
        return False


def yield_to_the_application() -> None:
    """Run this process below normal priority.

    The decoder works ahead of the keyer, with seconds to spare for each page, while the GUI
    thread must answer the next key or show the next document within milliseconds. When both
    want a core at the same moment (the next document's page is asked for just as a document
    opens, and the station has two cores or fewer), the GUI thread should get it."""
    try:
        if sys.platform == "win32":
            below_normal = 0x00004000  # BELOW_NORMAL_PRIORITY_CLASS
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
            if not kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), below_normal):
                raise ctypes.WinError(ctypes.get_last_error())
        else:
            os.nice(DECODER_NICENESS)
    except OSError as exc:  # it still decodes, only at the usual priority
        log.warning("the page decoder could not lower its priority: %s", exc)


def warm_up(linux: bool = sys.platform.startswith("linux")) -> bool:
    """Decoder process, when it starts (the keyer's home shows; importing this module imported
    what decoding needs): make the first blocks, so the first documents keyed do not wait.

    A block is memory new to the process; made while a unit is keyed, each of the first few
    cost the decoder 30-100 ms on a virtual machine whose host backs memory only when touched,
    more than a fast keyer takes for a document. Made here, nobody waits. Linux only (there a
    block's file is written through, see `_fill`). True once done."""
    if not linux:
        return True
    if not _fresh:  # the first time: the heap a page's images are made in (see keep_freed_memory)
        touched = [b"\x01" * WARM_HEAP_CHUNK for _ in range(WARM_HEAP_CHUNKS)]
        del touched
    zeros = bytes(1 << 20)
    for _ in range(WARM_BLOCKS - len(_fresh)):
        block = SharedMemory(create=True, size=WARM_BLOCK_BYTES)
        try:
            # Written, not only allocated: tmpfs clears a page allocated by posix_fallocate on
            # its first write, and that first touch is the slow part (measured: 40-70 ms of
            # kernel time writing a page into a block made with posix_fallocate).
            for offset in range(0, WARM_BLOCK_BYTES, len(zeros)):
                os.pwrite(block._fd, zeros, offset)  # type: ignore[attr-defined]
        except OSError as exc:  # /dev/shm is small here (a container): pages get blocks as they come
            log.info("the page decoder made %d blocks ahead: %s", len(_fresh), exc)
            block.close()
            block.unlink()
            break
        _made[block.name] = block
        _fresh.append(block.name)
    return True


def render(local_url: str, sha256: str, display_width: int = 0, spare: tuple[str, ...] = (),
           closed: tuple[str, ...] = ()) -> SharedPage:
    """Decoder process: read a page image from the local store, decode it, make the levels and
    write them all into a shared-memory block, a spare one where one fits, else a new one.

    `display_width` adds a level exactly that wide: the page as the view shows it fitted to its
    width, so drawing it needs no scaling. `spare` names blocks the application has let go of
    since the last call (nothing reads them any more), `closed` blocks it has closed for good."""
    unknown = _take_back(spare, closed)
    try:
        with _store(local_url).session() as s:
            row = s.execute(select(m.Image.data, m.Image.media_type).where(m.Image.sha256 == sha256)).first()
        if row is None:
            missing = f"The page image {sha256[:12]} is not on this station."
            return SharedPage(error=missing, retired=unknown + _give_up_spares())
        page = decode_page(row.data, row.media_type)
    except ImageError as exc:
        return SharedPage(error=exc.message, retired=unknown + _give_up_spares())
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
    block, pool = _block_for(offset)
    try:
        _fill(block, parts)
    except BaseException:
        pool.append(block.name)  # nobody reads it: still good for the next page
        raise
    return SharedPage(block.name, page.width, page.height, tuple(levels), retired=unknown + _give_up_spares())


# In the decoder process: every block made here and not given up (a block on Windows lives only
# while a handle is open, and a spare one is written again), and which of them are spare, oldest first.
_made: dict[str, SharedMemory] = {}
_spare: list[str] = []
_fresh: list[str] = []  # made ahead by warm_up, never written, unknown to the application


def retire(names: tuple[str, ...]) -> None:
    """Decoder process: close blocks the application has closed for good."""
    for name in names:
        block = _made.pop(name, None)
        if block is not None:
            block.close()
        if name in _spare:
            _spare.remove(name)


def blocks_held() -> tuple[str, ...]:
    """Decoder process: the names of the blocks it holds open (tests, diagnostics)."""
    return tuple(_made)


def _take_back(spare: tuple[str, ...], closed: tuple[str, ...]) -> tuple[str, ...]:
    """Note the blocks the application let go of; the names of any not made here (another
    decoder's), for it to close its mapping."""
    retire(closed)
    _spare.extend(name for name in spare if name in _made and name not in _spare)
    return tuple(name for name in spare if name not in _made)


def _block_for(size: int) -> tuple[SharedMemory, list[str]]:
    """The smallest spare block that holds `size` bytes and is not far too large, else one made
    ahead (`warm_up`), else a new one; with the list to put it back in if writing it fails (a
    new one counts as made ahead: the application has not seen it). Blocks made ahead that do
    not fit a page are given up: this station's pages are of another size."""
    for pool in (_spare, _fresh):
        fitting = [name for name in pool if _fits(size, _made[name].size)]
        if fitting:
            name = min(fitting, key=lambda name: _made[name].size)
            pool.remove(name)
            return _made[name], pool
    while _fresh:
        unused = _made.pop(_fresh.pop())
        unused.close()
        unused.unlink()  # the application never saw it
    block = SharedMemory(create=True, size=size)
    _made[block.name] = block
    return block, _fresh


def _fits(size: int, block_size: int) -> bool:
    return size <= block_size and size >= block_size * SPARE_FILL


def _give_up_spares() -> tuple[str, ...]:
    """Close the oldest spare blocks beyond SPARE_BLOCKS; the names, for the application to close."""
    retired = []
    while len(_spare) > SPARE_BLOCKS:
        name = _spare.pop(0)
        _made.pop(name).close()
        retired.append(name)
    return tuple(retired)


def _fill(block: SharedMemory, parts: list[bytes | memoryview], linux: bool = sys.platform.startswith("linux")) -> None:
    """Write the parts one after the other into a block, from its start.

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


class _Block(SharedMemory):
    """A block whose finaliser never raises: one still exported at exit is simply left."""

    def __del__(self) -> None:
        try:
            self.close()
        except (BufferError, OSError):
            pass

    def release_view(self) -> None:
        """Let go of this process's view of the block; BufferError while a slice of it is still
        exported (an image reads it), and then nothing changed."""
        if self._buf is not None:
            self._buf.release()
            self._buf = None

    def view_again(self) -> None:
        """A spare block written again by the decoder: view the same mapping once more."""
        if self._buf is None:
            self._buf = memoryview(self._mmap)

    def close_in_background(self) -> None:
        """Let go of this process's view of the block now (BufferError while it is exported);
        unmap it and close its file on the closer thread. That is what frees a page's memory,
        and it took the GUI thread 3 ms (munmap and the last close) whenever a page left the
        cache; both let go of the GIL."""
        self.release_view()
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
        if _spares.on_closed is not None:
            _spares.on_closed()  # here, where no lock of ours or the pool's is held
        if new:
            with _closing_done:
                _closing_todo -= new
                _closing_done.notify_all()


class SharedPixels:
    """The application's mapping of one block: attached (unlinked at once, the memory lives while
    mapped) or, for a spare block the decoder wrote again, the mapping it already had.

    Handed back as spare when the last image using it is gone. Images are made from `view`s
    only, never from a slice of one: PySide's QImage keeps a reference to the view it reads
    (and no buffer export), so a view referenced from nowhere but here is read by nothing."""

    def __init__(self, name: str) -> None:
        block = _spares.take(name)
        if block is None:
            block = _Block(name=name)
            if sys.platform != "win32":
                block.unlink()  # nobody else opens it again; freed once unmapped and given up
        else:
            block.view_again()
        self._block = block
        self._views: list[memoryview] = []

    def view(self, offset: int, size: int) -> memoryview:
        view = self._block.buf[offset:offset + size]
        self._views.append(view)
        return view

    def __del__(self) -> None:
        if hasattr(self, "_views"):  # not when attaching failed
            _let_go(self._block, self._views)


def _read_elsewhere(views: list[memoryview]) -> bool:
    """Whether anything but this list still holds one of the views (an image, a page)."""
    return any(sys.getrefcount(views[index]) > 2 for index in range(len(views)))  # the list, the argument


class _SpareBlocks:
    """The application's side of reusing blocks; any thread (pages are let go of on the GUI
    thread and wrapped on pool threads).

    A block nothing views any more is `put` here. The next request hands it to the decoder
    (`lend`), which may write a page into it and send its name back (`take`, in SharedPixels),
    or give it up (`forget`). Beyond SPARE_BLOCKS not yet handed over, a block is closed here
    at once, and the decoder is told to close its side then (`on_closed`) or with the next
    request: of a closed unit's pages, only SPARE_BLOCKS (and those lent) stay in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, _Block] = {}  # let go of, not yet handed to the decoder
        self._lent: dict[str, _Block] = {}  # handed to the decoder, which may write it again
        self._closed: list[str] = []  # closed here, still open in the decoder
        # Called on the page-memory thread after it closed blocks: the decoder should close
        # those closed here (`take_closed`) as well.
        self.on_closed: Callable[[], None] | None = None

    def put(self, block: _Block) -> None:
        with self._lock:
            if len(self._waiting) < SPARE_BLOCKS:
                self._waiting[block.name] = block
                return
            self._closed.append(block.name)
        block.close_in_background()

    def lend(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """For the next request to the decoder: (spare blocks, blocks closed here)."""
        with self._lock:
            spare, closed = tuple(self._waiting), tuple(self._closed)
            self._lent.update(self._waiting)
            self._waiting.clear()
            self._closed.clear()
        return spare, closed

    def take_closed(self) -> tuple[str, ...]:
        """The blocks closed here, for the decoder to close (`retire`)."""
        with self._lock:
            closed, self._closed = tuple(self._closed), []
        return closed

    def take(self, name: str) -> _Block | None:
        with self._lock:
            return self._lent.pop(name, None)

    def forget(self, names: tuple[str, ...]) -> None:
        """Blocks the decoder gave up: close them here too."""
        with self._lock:
            blocks = [self._lent.pop(name) for name in names if name in self._lent]
        for block in blocks:
            block.close_in_background()

    def rest(self) -> int:
        """Take the spare blocks out of this process's resident memory (they stay allocated, to
        be written again): a closed unit's pages no longer count in the application's memory,
        and a page written there again is mapped in page by page as it is drawn (no new memory).
        Linux only (elsewhere nothing changes); how many blocks were rested."""
        dontneed = getattr(mmap, "MADV_DONTNEED", None)
        if dontneed is None or not sys.platform.startswith("linux"):
            return 0
        with self._lock:
            blocks = [*self._waiting.values(), *self._lent.values()]
            for block in blocks:  # neither is read here: the data stays in the block's file
                block._mmap.madvise(dontneed)  # type: ignore[union-attr]
        return len(blocks)

    def drop(self) -> None:
        """The decoder is gone (and its blocks with it): close every spare block."""
        with self._lock:
            blocks = [*self._waiting.values(), *self._lent.values()]
            self._waiting.clear()
            self._lent.clear()
            self._closed.clear()
        for block in blocks:
            block.close_in_background()


_spares = _SpareBlocks()
lend_spare_blocks = _spares.lend
forget_spare_blocks = _spares.forget
drop_spare_blocks = _spares.drop
closed_spare_blocks = _spares.take_closed
rest_spare_blocks = _spares.rest


def when_blocks_closed(callback: Callable[[], None] | None) -> None:
    """Have `callback` called (on the page-memory thread) after blocks were closed here."""
    _spares.on_closed = callback


def blocks_closed_callback() -> Callable[[], None] | None:
    return _spares.on_closed

_lingering: list[tuple[_Block, list[memoryview]]] = []
# Pages are let go of on the GUI thread and, now and then, on a pool thread; re-entrant, as a
# collection run inside `_let_go` may let go of another page on the same thread.
_lingering_lock = threading.RLock()


def _let_go(block: _Block, views: list[memoryview]) -> None:
    """A page's block nothing should read any more: spare once no image reads it; one still
    read is tried again with the next."""
    with _lingering_lock:
        for old in list(_lingering):
            if old in _lingering and _hand_back(*old):
                _lingering.remove(old)
        if not _hand_back(block, views):
            _lingering.append((block, views))


def _hand_back(block: _Block, views: list[memoryview]) -> bool:
    if _read_elsewhere(views):
        return False
    for view in views:
        view.release()
    views.clear()
    try:
        block.release_view()
    except BufferError:  # exported some other way than `view`: wait for that to go too
        return False
    _spares.put(block)
    return True
