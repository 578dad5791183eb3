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


def _other_scan(seed: int) -> bytes:
    return imagefiles.tiff_bytes([imagefiles.form_page(seed, size=(1240, 1754))])


def _decoder_holds() -> set[str]:
    return set(PageDecoder.shared()._executor.submit(pagedecode.blocks_held).result(timeout=60))


def test_a_page_let_go_of_gives_its_block_to_the_next_page_with_that_pages_pixels(local: Store, g4_scan: bytes) -> None:
    """A new block cost the decoder 5-90 ms of kernel time per page; a block nothing reads any
    more is written again, and the view keeps its mapping of it (nothing new is mapped)."""
    first, second = _store_page(local, g4_scan), _store_page(local, _other_scan(21), "other.tif")
    decoder = PageDecoder.shared()
    page = decoder.prepare(local, first, display_width=500)
    block = page.keep._block
    del page
    gc.collect()
    again = decoder.prepare(local, second, display_width=500)
    assert again.keep._block is block  # the same block, the same mapping
    here = load_prepared(local, second)
    assert _pixels(again.image) == _pixels(here.image)  # the second page's pixels, not the first's
    assert {level.width() for _scale, level in again.levels} == {310, 500, 620}


def _rss_shmem_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("RssShmem:")))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux can drop a mapping's pages and keep them")
def test_resting_spare_blocks_leaves_this_process_memory_and_they_are_still_written_again(
        local: Store, g4_scan: bytes) -> None:
    first, second = _store_page(local, g4_scan), _store_page(local, _other_scan(23), "other.tif")
    decoder = PageDecoder.shared()
    page = decoder.prepare(local, first, display_width=500)
    block = page.keep._block
    assert len(_pixels(page.image)) == 1240 * 1754  # read: the full page is resident here
    del page
    gc.collect()
    resident = _rss_shmem_kb()
    assert pagedecode.rest_spare_blocks() >= 1
    assert resident - _rss_shmem_kb() >= 1240 * 1754 // 1024 - 64
    again = decoder.prepare(local, second, display_width=500)
    assert again.keep._block is block
    assert _pixels(again.image) == _pixels(load_prepared(local, second).image)


def test_a_block_an_image_still_reads_is_not_written_again(local: Store, g4_scan: bytes) -> None:
    first, second = _store_page(local, g4_scan), _store_page(local, _other_scan(22), "other.tif")
    decoder = PageDecoder.shared()
    page = decoder.prepare(local, first)
    block, image = page.keep._block, QImage(page.image)  # a copy shares the pixels, as the view's would
    seen = hashlib.sha256(_pixels(image)).digest()
    del page
    gc.collect()
    assert any(held is block for held, _views in pagedecode._lingering)
    other = decoder.prepare(local, second)
    assert other.keep._block is not block
    assert hashlib.sha256(_pixels(image)).digest() == seen  # still the first page
    del image, other
    gc.collect()  # the second page let go of tries the first block again: now nothing reads it
    assert not any(held is block for held, _views in pagedecode._lingering)
    assert block._mmap is not None and block._buf is None  # spare, mapped, to be written again


def test_beyond_the_spare_blocks_let_go_blocks_are_closed_here_and_in_the_decoder(local: Store, g4_scan: bytes) -> None:
    shas = [_store_page(local, _other_scan(30 + n), f"s{n}.tif") for n in range(pagedecode.SPARE_BLOCKS + 2)]
    decoder = PageDecoder.shared()
    pages = [decoder.prepare(local, sha) for sha in shas]
    blocks = [page.keep._block for page in pages]
    names = {block.name for block in blocks}
    assert names <= _decoder_holds()
    del pages
    gc.collect()
    assert pagedecode.wait_for_page_memory(5.0)
    closed = [block for block in blocks if block._mmap is None]
    assert len(closed) == 2 and all(block._mmap is not None for block in blocks if block not in closed)
    deadline = time.monotonic() + 10  # the decoder is told on the page-memory thread
    while time.monotonic() < deadline and {block.name for block in closed} & _decoder_holds():
        time.sleep(0.05)
    held = _decoder_holds()
    assert not {block.name for block in closed} & held  # closed there too: the memory is free
    assert {block.name for block in blocks if block not in closed} <= held  # the spare ones stay


def _forget_decoder_blocks_made_here() -> None:
    """The decoder's state after a test that ran the decoder's side in this process."""
    for name in list(pagedecode._made):
        block = pagedecode._made.pop(name)
        block.close()
        block.unlink()
    pagedecode._spare.clear()
    pagedecode._fresh.clear()


def test_the_decoder_writes_into_the_smallest_spare_that_fits_and_gives_up_the_oldest(monkeypatch) -> None:
    """The decoder's side, run here: a spare block is used for a page that fills at least half
    of it; more than SPARE_BLOCKS spare ones are closed, oldest first, and named back."""
    monkeypatch.setattr(pagedecode, "SPARE_BLOCKS", 2)
    made = [pagedecode._block_for(size)[0] for size in (4000, 10_000, 9000, 30_000)]
    pagedecode._fresh.clear()  # as if the application had them
    try:
        names = [block.name for block in made]
        pagedecode._take_back(tuple(names), ())
        assert pagedecode._block_for(8000)[0] is made[2]  # 9000 fits, and is smaller than 10,000
        assert pagedecode._block_for(12_000)[0].name not in names  # 30,000 is more than twice too large
        retired = pagedecode._give_up_spares()
        assert retired == (names[0],) and pagedecode._spare == [names[1], names[3]]
        assert made[0]._mmap is None and names[0] not in pagedecode.blocks_held()
        assert pagedecode._take_back(("psm_not_made_here",), ()) == ("psm_not_made_here",)
    finally:
        _forget_decoder_blocks_made_here()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="blocks are made ahead on Linux only")
def test_the_decoder_makes_its_first_blocks_when_it_starts_and_gives_up_those_that_do_not_fit() -> None:
    """The decoder's side, run here. Made while a unit is keyed, each of the first blocks
    cost 30-100 ms of the decoder's time on this machine; made at the start, nobody waits."""
    assert not pagedecode._made
    try:
        assert pagedecode.warm_up()
        ahead = list(pagedecode._fresh)
        assert len(ahead) == pagedecode.WARM_BLOCKS
        assert all(os.fstat(pagedecode._made[name]._fd).st_blocks * 512 >= pagedecode.WARM_BLOCK_BYTES
                   for name in ahead)  # the memory is there already
        page_size = 15_100_000  # an A4 G4 page at 300 dpi with its levels
        block, pool = pagedecode._block_for(page_size)
        assert block.name in ahead and pool is pagedecode._fresh and len(pagedecode._fresh) == len(ahead) - 1
        pagedecode.warm_up()  # at most WARM_BLOCKS waiting
        assert len(pagedecode._fresh) == pagedecode.WARM_BLOCKS
        small, _pool = pagedecode._block_for(2_000_000)  # pages of another size: the ones ahead go
        assert small.name not in ahead and not pagedecode._fresh
        assert set(pagedecode._made) == {block.name, small.name}
    finally:
        _forget_decoder_blocks_made_here()


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
    monkeypatch.setattr(pagedecode, "SPARE_BLOCKS", 0)  # every block let go of is closed
    sha = _store_page(local, g4_scan)
    page = PageDecoder.shared().prepare(local, sha)
    assert isinstance(page.keep, pagedecode.SharedPixels)
    block = page.keep._block
    mapping, fd = block._mmap, block._fd
    still_used = page.keep.view(0, 16)  # a view of the memory outlives the page (an image would)
    del page
    gc.collect()
    time.sleep(0.3)
    assert not mapping.closed and ("page-memory", fd) not in closed  # the view still reads it
    assert len(bytes(still_used)) == 16  # and reads it
    del still_used
    other = PageDecoder.shared().prepare(local, sha)
    del other  # the next page let go of tries the waiting one again
    gc.collect()
    assert pagedecode.wait_for_page_memory(5.0)
    assert mapping.closed and ("page-memory", fd) in closed
    assert all(thread == "page-memory" for thread, _fd in closed)  # never on this (the GUI) thread


def test_waiting_for_page_memory_returns_once_let_go_pages_are_unmapped(monkeypatch, local: Store,
                                                                        g4_scan: bytes) -> None:
    monkeypatch.setattr(pagedecode, "SPARE_BLOCKS", 0)
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


_FAULTS_PER_PAGE = """
import resource, sys
from PIL import Image
from tests.workstation import imagefiles
from ui import pagedecode
from workstation.images import decode_page
kept = pagedecode.keep_freed_memory() if sys.argv[1] != "default" else False
if sys.argv[1] == "warm":
    pagedecode.warm_up()
data = imagefiles.tiff_bytes([imagefiles.form_page(5)])
for _ in range(5 if sys.argv[1] != "warm" else 1):  # what the decoder allocates for a page
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    page = decode_page(data, "image/tiff")
    full = Image.frombuffer("L", (page.width, page.height), page.pixels, "raw", "L", 0, 1)
    half = full.reduce(2)
    parts = [half.tobytes(), full.reduce(4).tobytes(), half.resize((800, 1130), Image.Resampling.LANCZOS).tobytes()]
    del page, full, half, parts
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(kept, faults)
for name in list(pagedecode._made):
    pagedecode._made.pop(name).unlink()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_the_decoder_keeps_freed_image_memory_for_the_next_page() -> None:
    """Each page's images came as memory new to the process (about 1,800 page faults a page, each
    slow where a virtual machine's host backs memory only when touched); after the warm-up,
    not even the first page's do."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    results = {}
    for how in ("keep", "default", "warm"):
        out = subprocess.run([sys.executable, "-c", _FAULTS_PER_PAGE, how], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120, check=True)
        kept, faults = out.stdout.split()
        results[how] = (kept, int(faults))
    assert results["keep"][0] == "True" and results["keep"][1] < 200, results
    assert results["default"][1] > 1000, results  # what it was (about 1,800): the measure sees it
    assert results["warm"][1] < 500, results  # the first page, once the decoder warmed its heap up


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
