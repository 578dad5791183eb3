"""Pages for the keying view: decoded in the decoder process, handed over in shared memory."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.workstation import imagefiles
from ui import pagedecode, prefetch
from ui.pageimage import PreparedPage
from ui.prefetch import PageCacheModel, PageDecoder, load_prepared
from workstation import models as m
from workstation.errors import ImageError
from workstation.images import pages_from_bytes
from workstation.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _store_page(local: Store, data: bytes, name: str = "scan.tif") -> str:
    (page,) = pages_from_bytes(data, name)
    with local.transaction() as s:
        s.add(m.Image(sha256=page.sha256, media_type=page.media_type, width=page.width, height=page.height,
                      dpi=page.dpi, data=page.data))
    return page.sha256


def _pixels(image: QImage) -> bytes:
    return bytes(image.constBits())[: image.bytesPerLine() * image.height()]


@pytest.fixture(scope="module")
def g4_scan() -> bytes:
    return imagefiles.tiff_bytes([imagefiles.form_page(11, size=(1240, 1754))])


def test_the_decoder_process_gives_the_same_page_as_decoding_here_with_a_display_level(local: Store,
                                                                                         g4_scan: bytes) -> None:
    sha = _store_page(local, g4_scan)
    here = load_prepared(local, sha)
    there = PageDecoder.shared().prepare(local, sha, display_width=500)
    assert (there.width, there.height) == (here.width, here.height) == (1240, 1754)
    assert hashlib.sha256(_pixels(there.image)).digest() == hashlib.sha256(_pixels(here.image)).digest()
    widths = sorted(level.width() for _scale, level in there.levels)
    assert widths == [310, 500, 620]  # a quarter, the display width, a half
    image, scale = there.image_for_scale(500 / 1240)
    assert image.width() == 500 and scale == pytest.approx(500 / 1240)
    assert isinstance(there.keep, pagedecode.SharedPixels)


def test_the_display_level_is_the_page_fairly_resampled_and_every_level_lands_where_it_is_said(
        local: Store, g4_scan: bytes) -> None:
    """The display level is made from a smaller level where one is wide enough (a third of the
    decoder's time on an A4 page); it must still look like the whole page resampled, and the
    levels written one after another into the block must each be found at their offsets."""
    from PIL import Image, ImageChops

    sha = _store_page(local, g4_scan)
    page = PageDecoder.shared().prepare(local, sha, display_width=400)  # the half level (620) is wide enough
    with local.session() as s:
        full = Image.open(io.BytesIO(s.get(m.Image, sha).data)).convert("L")
    levels = {level.width(): level for _scale, level in page.levels}
    assert sorted(levels) == [310, 400, 620]
    shown = levels[400]
    assert shown.format() == QImage.Format.Format_RGB32
    gray = Image.frombytes("RGBX", (400, shown.height()), _pixels(shown)).getchannel("R")
    fair = full.resize((400, shown.height()), Image.Resampling.LANCZOS)  # bilinear: 3.0; box: 4.1
    histogram = ImageChops.difference(gray, fair).histogram()
    mean = sum(value * count for value, count in enumerate(histogram)) / sum(histogram)
    assert mean < 2.0, f"the display level is {mean:.2f} grey levels from the page resampled"
    for width, reduction in ((620, 2), (310, 4)):
        assert _pixels(levels[width]) == full.reduce(reduction).tobytes()


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has priority classes, not niceness")
def test_the_decoder_process_gives_way_to_the_application() -> None:
    decoder = PageDecoder()
    decoder.start()
    try:
        assert decoder._executor is not None
        niceness = decoder._executor.submit(os.nice, 0).result(timeout=60)
    finally:
        decoder.shutdown()
    assert niceness == min(os.nice(0) + pagedecode.DECODER_NICENESS, 19)


def test_a_damaged_or_missing_page_is_a_known_error_from_the_decoder(local: Store) -> None:
    sha = _store_page(local, imagefiles.tiff_bytes([imagefiles.form_page(12, size=(400, 560))]))
    with local.transaction() as s:
        s.get(m.Image, sha).data = b"II*\x00" + b"\x00" * 64
    decoder = PageDecoder.shared()
    with pytest.raises(ImageError, match="cannot be decoded"):
        decoder.prepare(local, sha)
    with pytest.raises(ImageError, match="not on this station"):
        decoder.prepare(local, "0" * 64)


def test_shared_memory_is_let_go_with_the_page(local: Store, g4_scan: bytes) -> None:
    sha = _store_page(local, g4_scan)
    page = PageDecoder.shared().prepare(local, sha)
    mapping = page.keep
    assert isinstance(mapping, pagedecode.SharedPixels)
    block = mapping._block
    del page, mapping
    gc.collect()
    assert block._mmap is None and block not in pagedecode._lingering  # unmapped, nothing left over


def test_a_pages_memory_is_unmapped_off_the_gui_thread_once_nothing_uses_it(monkeypatch, local: Store, g4_scan: bytes) -> None:
    """Unmapping a page and closing its file took the GUI thread 3 ms whenever a page left the
    cache; the closer thread does it, and not while a view of the memory is still alive."""
    closed: list[tuple[str, int]] = []

    class RecordingOs:
        def __getattr__(self, name: str) -> object:
            return getattr(os, name)

        def close(self, fd: int) -> None:
            closed.append((threading.current_thread().name, fd))
            os.close(fd)

    monkeypatch.setattr(pagedecode, "os", RecordingOs())
    monkeypatch.setattr(pagedecode, "CLOSE_RETRY_S", 0.05)
    sha = _store_page(local, g4_scan)
    page = PageDecoder.shared().prepare(local, sha)
    assert isinstance(page.keep, pagedecode.SharedPixels)
    block = page.keep._block
    mapping, fd = block._mmap, block._fd
    still_used = page.keep.view(0, 16)  # a view of the memory outlives the page (an image would)
    del page
    gc.collect()
    assert block._mmap is None  # let go of here
    time.sleep(0.3)
    assert not mapping.closed and ("page-memory", fd) not in closed  # the view still reads it
    assert len(bytes(still_used)) == 16  # and reads it
    still_used.release()
    deadline = time.monotonic() + 5
    while not mapping.closed and time.monotonic() < deadline:  # tried again by the closer
        time.sleep(0.01)
    assert mapping.closed and ("page-memory", fd) in closed
    assert all(thread == "page-memory" for thread, _fd in closed)  # never on this (the GUI) thread


def test_waiting_for_page_memory_returns_once_let_go_pages_are_unmapped(local: Store, g4_scan: bytes) -> None:
    sha = _store_page(local, g4_scan)
    pages = [PageDecoder.shared().prepare(local, sha) for _ in range(3)]
    mappings = [page.keep._block._mmap for page in pages]
    del pages
    gc.collect()
    assert pagedecode.wait_for_page_memory(5.0)
    assert all(mapping.closed for mapping in mappings)


def test_without_a_decoder_process_pages_are_decoded_on_the_thread(monkeypatch, local: Store, g4_scan: bytes) -> None:
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("no processes on this machine")

    monkeypatch.setattr(prefetch, "ProcessPoolExecutor", refuse)
    decoder = PageDecoder()
    sha = _store_page(local, g4_scan)
    page = decoder.prepare(local, sha, display_width=500)
    assert isinstance(page, PreparedPage) and page.keep is None and page.width == 1240


def test_the_cache_decodes_ahead_and_reports_failures(qtbot, local: Store, g4_scan: bytes) -> None:
    good = _store_page(local, g4_scan)
    cache = PageCacheModel(local, capacity=1)
    with qtbot.waitSignal(cache.page_ready, timeout=30_000) as ready:
        cache.prefetch([good])
    assert ready.args == [good] and cache.page(good) is not None
    with qtbot.waitSignal(cache.page_failed, timeout=30_000) as failed:
        cache.request(["f" * 64])
    assert failed.args[0] == "f" * 64 and "not on this station" in cache.failures["f" * 64]
    cache.request(["f" * 64])  # a failed page is not tried again and again
    assert not cache.is_loading("f" * 64)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="looks for the process in /proc")
def test_the_decoder_process_ends_when_the_application_is_killed(tmp_path: Path) -> None:
    script = (
        "import os, sys\n"
        "from ui.prefetch import PageDecoder\n"
        "decoder = PageDecoder.shared(); decoder.start()\n"
        "decoder._executor.submit(os.getpid).result()\n"
        "print(next(iter(decoder._executor._processes)), flush=True)\n"
        "os._exit(0)\n"  # no shutdown at all, as in a crash
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=60)
    pid = int(out.stdout.strip().splitlines()[-1])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.1)
    alive = Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    assert not alive, "the decoder outlived the application"


def test_on_windows_the_decoder_keeps_a_block_open_until_the_application_has_it() -> None:
    from multiprocessing.shared_memory import SharedMemory

    block = SharedMemory(create=True, size=64)
    try:
        pagedecode._let_go(block, windows=True)  # a Windows block with no open handle is gone
        assert pagedecode._held.get(block.name) is block and block._mmap is not None
        pagedecode._release((block.name,))  # the next request says the application opened it
        assert block.name not in pagedecode._held and block._mmap is None
    finally:
        block.unlink()


@pytest.mark.parametrize("linux", [True, False], ids=["through the file", "through the mapping"])
def test_a_block_is_filled_part_after_part_either_way(linux: bool) -> None:
    from multiprocessing.shared_memory import SharedMemory

    if linux and not sys.platform.startswith("linux"):
        pytest.skip("only Linux writes a block through its file")
    parts: list[bytes | memoryview] = [b"\x01" * 5000, memoryview(b"\x02" * 3), bytes(range(256)) * 40]
    block = SharedMemory(create=True, size=sum(len(part) for part in parts))
    try:
        pagedecode._fill(block, parts, linux=linux)
        assert bytes(block.buf) == b"".join(bytes(part) for part in parts)
    finally:
        block.close()
        block.unlink()
