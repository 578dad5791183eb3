"""Page images: reading scans for import, decoding stored pages for display, snippets.

Everything here returns plain bytes and frozen dataclasses, never Qt objects, so the UI can
decode the next documents' pages on a worker thread and wrap the bytes on the GUI thread.

How pages are stored (one `PageImage` per page, content-addressed by the SHA-256 of the stored
bytes, so the same page imported twice is stored once):

* Bilevel pages (TIFF mode "1": CCITT G4, G3, PackBits, uncompressed...) become single-page
  CCITT G4 TIFFs with their dpi. G4 is lossless, about 100 KB for a 300-dpi A4 form, and the
  fastest format to decode. A page that already is G4 is split out of its file by copying its
  compressed strips into a new single-page TIFF (no decode and re-encode: importing a G4 batch
  costs one validating decode per page); other bilevel compressions are re-encoded.
* JPEG and PNG files are stored as their original bytes (their first frame is the page): no
  generation loss, and the customer's file can be recovered byte for byte.
* Multi-page TIFFs are split per page, in order. Reduced-resolution subfiles (thumbnails some
  scanners append) are not pages and are dropped.
* Continuous-tone TIFF pages (grayscale or colour) and PDF pages are stored as grayscale: G4
  when the page has only pure black and white, else JPEG quality 90. The workstation shows
  pages in grayscale, a grayscale JPEG is a tenth of the size of a lossless one for a scanned
  page and decodes several times faster; at quality 90 the artefacts are far below what
  matters for reading print or handwriting.
* PDF pages are rendered with pdfium at 200 dpi in grayscale. That keeps 8-point print about
  22 pixels tall (plenty for keying and for the magnified snippet) while a page is half the
  pixels of a 300-dpi scan, so it decodes well inside one frame. pdfium is not thread-safe, so
  all PDF work is serialised by a lock.
* Pages whose horizontal and vertical resolution differ (fax "normal" mode, 204 x 98 dpi) are
  resampled to square pixels at their horizontal dpi, so zones in page fractions stay true.
* dpi comes from the file; 300 when it is absent or implausible.

A file that cannot be read raises `UnreadableImage` (an `ImageError`) whose message names the
file and whose `reason` says why: empty, truncated, corrupt or unsupported.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from workstation.errors import ImageError
from workstation.templates import Zone

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg", ".pdf")

MEDIA_TIFF = "image/tiff"
MEDIA_PNG = "image/png"
MEDIA_JPEG = "image/jpeg"
MEDIA_TYPES = (MEDIA_TIFF, MEDIA_PNG, MEDIA_JPEG)

DEFAULT_DPI = 300
PDF_DPI = 200
JPEG_QUALITY = 90
# A PDF page larger than this many pixels at PDF_DPI (a poster, a drawing) is rendered smaller.
PDF_MAX_PIXELS = 40_000_000

# Pillow gives a freed image's memory back and takes fresh, zeroed, not yet mapped memory for
# the next page; for a 300-dpi page that was about 40% of a JPEG decode. Keeping a few freed
# blocks (16 MB each) for reuse removes that cost for every page after the first. A value set
# through PILLOW_BLOCKS_MAX is left alone.
_BLOCKS_KEPT = 4
try:
    if Image.core.get_blocks_max() == 0:  # type: ignore[attr-defined]
        Image.core.set_blocks_max(_BLOCKS_KEPT)  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - a Pillow without the block cache
    pass

_DECODE_FORMATS = {MEDIA_TIFF: ["TIFF"], MEDIA_PNG: ["PNG"], MEDIA_JPEG: ["JPEG", "MPO"]}
_FILE_FORMATS = {"TIFF", "PNG", "JPEG", "MPO"}
_pdfium_lock = threading.Lock()


@dataclass(frozen=True)
class PageImage:
    """One page as it is stored in the `images` table."""

    sha256: str
    media_type: str
    width: int
    height: int
    dpi: int
    data: bytes

    def __repr__(self) -> str:  # the bytes are long and say nothing
        return f"PageImage({self.sha256[:12]}, {self.media_type}, {self.width}x{self.height}, {self.dpi} dpi)"


@dataclass(frozen=True)
class DecodedPage:
    """A page ready for the screen: 8-bit grayscale, row-major, `width` bytes per row."""

    width: int
    height: int
    pixels: bytes

    def __repr__(self) -> str:
        return f"DecodedPage({self.width}x{self.height})"


class UnreadableImage(ImageError):
    """A scan file that cannot be imported; `reason` is the short why, for import reports."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(
            f"{name}: {reason}.",
            "Rescan or re-export the file, or leave it out of the import.",
        )
        self.name = name
        self.reason = reason


class _Bad(Exception):
    """Internal: why a file is unreadable, before the file's name is attached."""


# --- reading files for import ------------------------------------------------------------------


def read_pages(path: Path) -> list[PageImage]:
    """The pages of one scan file, in order, in their storage encoding.

    Raises `UnreadableImage` naming the file when it is empty, truncated, corrupt or of an
    unsupported type; a file either yields all its pages or none.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kind = f"'{suffix}'" if suffix else "without a suffix"
        raise UnreadableImage(path.name, f"unsupported file type {kind} (supported: {' '.join(SUPPORTED_SUFFIXES)})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableImage(path.name, f"cannot be read ({exc.strerror or exc})") from exc
    return pages_from_bytes(data, path.name)


def pages_from_bytes(data: bytes, name: str) -> list[PageImage]:
    """`read_pages` for a file already in memory; `name` is used in error messages."""
    if not data:
        raise UnreadableImage(name, "empty file (0 bytes)")
    try:
        if data.startswith(b"%PDF-"):
            pages = _pdf_pages(data)
        else:
            pages = _image_pages(data)
    except _Bad as exc:
        raise UnreadableImage(name, str(exc)) from exc
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - decoders fail in many ways on bad input; none may crash an import
        log.debug("reading %s failed", name, exc_info=True)
        raise UnreadableImage(name, _describe(exc)) from exc
    if not pages:
        raise UnreadableImage(name, "the file contains no pages")
    return pages


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, Image.DecompressionBombError):
        return f"unsupported: the image is too large ({text})"
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return f"truncated ({text})"
    return f"corrupt ({text})"


def _image_pages(data: bytes) -> list[PageImage]:
    if data[:4] in _TIFF_MAGIC:
        _check_tiff_structure(data)
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise _Bad("corrupt or not an image (no TIFF, PNG, JPEG or PDF header)") from exc
    with im:
        if im.format not in _FILE_FORMATS:
            raise _Bad(f"unsupported image format {im.format}")
        if im.format == "TIFF":
            return _tiff_pages(im, data)
        return [_original_page(im, data)]


def _original_page(im: Image.Image, data: bytes) -> PageImage:
    """A JPEG or PNG kept as it is, after a decode proves every byte of it is readable."""
    media = MEDIA_PNG if im.format == "PNG" else MEDIA_JPEG
    dpi = _dpi(im)[0]
    if media == MEDIA_JPEG:
        width, height = _display_size(im)  # EXIF sits before the image data in a JPEG
        # Entropy decoding covers the whole file; skipping the full-size inverse DCT makes
        # the check several times cheaper than a real decode.
        im.draft("L", (max(1, im.width // 8), max(1, im.height // 8)))
        im.load()
    else:
        im.load()
        width, height = _display_size(im)  # a PNG may carry its EXIF after the pixels
    return _page(media, width, height, dpi, data)


def _display_size(im: Image.Image) -> tuple[int, int]:
    if _orientation(im) in (5, 6, 7, 8):  # EXIF: a quarter turn
        return im.height, im.width
    return im.width, im.height


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - broken EXIF means no orientation, not a broken page
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _dpi(im: Image.Image) -> tuple[int, int]:
    raw = im.info.get("dpi")
    try:
        x, y = (float(raw[0]), float(raw[1])) if raw else (0.0, 0.0)
    except (TypeError, ValueError, IndexError):
        x = y = 0.0
    if not (50 <= x <= 5000):
        return DEFAULT_DPI, DEFAULT_DPI
    if not (25 <= y <= 5000):
        y = x
    return round(x), round(y)


def _page(media: str, width: int, height: int, dpi: int, data: bytes) -> PageImage:
    return PageImage(hashlib.sha256(data).hexdigest(), media, width, height, dpi, data)


# --- TIFF --------------------------------------------------------------------------------------

_TAG_SUBFILE_TYPE = 254
_TAG_COMPRESSION = 259
_TAG_PHOTOMETRIC = 262
_TAG_FILL_ORDER = 266
_TAG_STRIP_OFFSETS = 273
_TAG_ROWS_PER_STRIP = 278
_TAG_STRIP_BYTE_COUNTS = 279
_TAG_T6_OPTIONS = 293
_TAG_TILE_OFFSETS = 324
_TAG_TILE_BYTE_COUNTS = 325
_G4 = 4
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
# Bytes per value of each TIFF field type (BYTE ASCII SHORT LONG RATIONAL ... LONG8 SLONG8 IFD8).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}


def _check_tiff_structure(data: bytes) -> None:
    """Walk the chain of image directories and make sure each lies inside the file.

    Pillow reads a directory cut off by the end of the file as an empty one (with a warning),
    which would import a truncated multi-page scan as a shorter document. This walk makes a
    truncated file a reported error instead.
    """
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        raise _Bad("truncated (the TIFF header is incomplete)")
    version = struct.unpack_from(order + "H", data, 2)[0]
    big = version == 43
    if big:
        if len(data) < 16:
            raise _Bad("truncated (the TIFF header is incomplete)")
        offset = struct.unpack_from(order + "Q", data, 8)[0]
        count_fmt, entry_size, offset_fmt, inline = "Q", 20, "Q", 8
    else:
        offset = struct.unpack_from(order + "I", data, 4)[0]
        count_fmt, entry_size, offset_fmt, inline = "H", 12, "I", 4
    count_size = struct.calcsize(count_fmt)
    offset_size = struct.calcsize(offset_fmt)
    seen: set[int] = set()
    number = 0
    while offset and offset not in seen:
        seen.add(offset)
        number += 1
        if offset + count_size > len(data):
            raise _Bad(f"truncated (the file ends before page {number}'s directory)")
        entries = struct.unpack_from(order + count_fmt, data, offset)[0]
        end = offset + count_size + entries * entry_size
        if end + offset_size > len(data):
            raise _Bad(f"truncated (the file ends inside page {number}'s directory)")
        for index in range(entries):
            at = offset + count_size + index * entry_size
            if big:
                _tag, kind, count = struct.unpack_from(order + "HHQ", data, at)
                value_at = at + 12
            else:
                _tag, kind, count = struct.unpack_from(order + "HHI", data, at)
                value_at = at + 8
            size = _TYPE_SIZES.get(kind, 1) * count
            if size > inline:
                where = struct.unpack_from(order + offset_fmt, data, value_at)[0]
                if where + size > len(data):
                    raise _Bad(f"truncated (the file ends inside page {number}'s tags)")
        offset = struct.unpack_from(order + offset_fmt, data, end)[0]


def _tiff_pages(im: Image.Image, data: bytes) -> list[PageImage]:
    pages: list[PageImage] = []
    frames = getattr(im, "n_frames", 1)
    for index in range(frames):
        im.seek(index)
        tags = im.tag_v2  # type: ignore[attr-defined]
        if int(tags.get(_TAG_SUBFILE_TYPE, 0)) & 1:
            continue  # a reduced-resolution copy of another page
        _check_image_data(tags, data, index + 1)
        pages.append(_tiff_page(im, data))
    return pages


def _check_image_data(tags: object, data: bytes, number: int) -> None:
    get = tags.get  # type: ignore[attr-defined]
    offsets = get(_TAG_STRIP_OFFSETS) or get(_TAG_TILE_OFFSETS)
    counts = get(_TAG_STRIP_BYTE_COUNTS) or get(_TAG_TILE_BYTE_COUNTS)
    if offsets is None or counts is None:
        raise _Bad(f"corrupt (page {number} has no image data)")
    offsets, counts = _as_tuple(offsets), _as_tuple(counts)
    if len(offsets) != len(counts):
        raise _Bad(f"corrupt (page {number}'s strip table is inconsistent)")
    for start, length in zip(offsets, counts):
        if start + length > len(data):
            raise _Bad(f"truncated (the file ends inside page {number}'s image data)")


def _as_tuple(value: object) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),)  # type: ignore[call-overload]


def _tiff_page(im: Image.Image, data: bytes) -> PageImage:
    xdpi, ydpi = _dpi(im)
    square = abs(xdpi - ydpi) <= 0.02 * max(xdpi, ydpi)
    tags = im.tag_v2  # type: ignore[attr-defined]
    if im.mode == "1" and square and tags.get(_TAG_COMPRESSION) == _G4 and _TAG_STRIP_OFFSETS in tags:
        stored = _split_g4(im.width, im.height, tags, data, xdpi)
        # Decoding the new file proves the copied strips are a readable page.
        check = Image.open(io.BytesIO(stored), formats=["TIFF"])
        check.load()
        if check.size != im.size or check.mode != "1":
            raise _Bad("corrupt (a G4 page does not decode to its stated size)")
        return _page(MEDIA_TIFF, im.width, im.height, xdpi, stored)
    im.load()
    page = im if square else _square_pixels(im, xdpi, ydpi)
    return _store_rendered(page, xdpi)


def _square_pixels(im: Image.Image, xdpi: int, ydpi: int) -> Image.Image:
    """Resample a page with unequal resolutions to square pixels at its horizontal dpi."""
    height = max(1, round(im.height * xdpi / ydpi))
    if im.mode == "1":
        stretched = im.convert("L").resize((im.width, height), Image.Resampling.BILINEAR)
        return stretched.convert("1", dither=Image.Dither.NONE)
    return _to_gray(im).resize((im.width, height), Image.Resampling.BILINEAR)


def _store_rendered(im: Image.Image, dpi: int) -> PageImage:
    """A decoded page in its storage encoding: G4 when it is pure black and white, else JPEG."""
    if im.mode == "1":
        return _page(MEDIA_TIFF, im.width, im.height, dpi, _encode_g4(im, dpi))
    gray = _to_gray(im)
    histogram = gray.histogram()
    if sum(histogram[1:255]) == 0:
        bilevel = gray.convert("1", dither=Image.Dither.NONE)
        return _page(MEDIA_TIFF, gray.width, gray.height, dpi, _encode_g4(bilevel, dpi))
    out = io.BytesIO()
    gray.save(out, "JPEG", quality=JPEG_QUALITY, dpi=(dpi, dpi))
    return _page(MEDIA_JPEG, gray.width, gray.height, dpi, out.getvalue())


def _encode_g4(im: Image.Image, dpi: int) -> bytes:
    out = io.BytesIO()
    im.save(out, "TIFF", compression="group4", dpi=(dpi, dpi))
    return out.getvalue()


def _split_g4(width: int, height: int, tags: object, data: bytes, dpi: int) -> bytes:
    """A single-page G4 TIFF holding a copy of one page's compressed strips."""
    get = tags.get  # type: ignore[attr-defined]
    offsets = _as_tuple(get(_TAG_STRIP_OFFSETS))
    counts = _as_tuple(get(_TAG_STRIP_BYTE_COUNTS))
    rows_per_strip = int(get(_TAG_ROWS_PER_STRIP, height) or height)
    photometric = int(get(_TAG_PHOTOMETRIC, 0))
    fill_order = int(get(_TAG_FILL_ORDER, 1))
    t6_options = int(get(_TAG_T6_OPTIONS, 0))

    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    new_offsets: list[int] = []
    for start, length in zip(offsets, counts):
        new_offsets.append(len(out))
        out += data[start : start + length]
    if len(out) % 2:
        out += b"\x00"
    short, long_, rational = 3, 4, 5
    entries: list[tuple[int, int, list[int] | list[tuple[int, int]]]] = [
        (256, long_, [width]),
        (257, long_, [height]),
        (258, short, [1]),
        (259, short, [_G4]),
        (262, short, [photometric]),
    ]
    if fill_order != 1:
        entries.append((266, short, [fill_order]))
    entries += [
        (273, long_, new_offsets),
        (277, short, [1]),
        (278, long_, [min(rows_per_strip, height)]),
        (279, long_, list(counts)),
        (282, rational, [(dpi, 1)]),
        (283, rational, [(dpi, 1)]),
    ]
    if t6_options:
        entries.append((293, long_, [t6_options]))
    entries.append((296, short, [2]))  # resolution unit: inch

    ifd_at = len(out)
    extra_at = ifd_at + 2 + 12 * len(entries) + 4
    ifd = bytearray(struct.pack("<H", len(entries)))
    extra = bytearray()
    for tag, kind, values in entries:
        if kind == rational:
            payload = b"".join(struct.pack("<II", *v) for v in values)  # type: ignore[misc]
        else:
            payload = struct.pack("<" + ("H" if kind == short else "I") * len(values), *values)
        if len(payload) <= 4:
            ifd += struct.pack("<HHI", tag, kind, len(values)) + payload.ljust(4, b"\x00")
        else:
            ifd += struct.pack("<HHII", tag, kind, len(values), extra_at + len(extra))
            extra += payload
    ifd += b"\x00\x00\x00\x00"  # no next directory
    struct.pack_into("<I", out, 4, ifd_at)
    return bytes(out + ifd + extra)


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_pages(data: bytes) -> list[PageImage]:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    with _pdfium_lock:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            message = str(exc)
            if "password" in message.lower():
                raise _Bad("the PDF is password-protected") from exc
            raise _Bad(f"corrupt PDF ({message})") from exc
        count = len(pdf)
    try:
        pages: list[PageImage] = []
        for index in range(count):
            with _pdfium_lock:
                image, dpi = _render_pdf_page(pdf, index)
            # Encoding needs no pdfium: outside the lock, other threads render meanwhile, and
            # only the compact encoded pages are kept, however long the PDF.
            pages.append(_store_rendered(image, dpi))
        return pages
    finally:
        with _pdfium_lock:
            pdf.close()


def _render_pdf_page(pdf: Any, index: int) -> tuple[Image.Image, int]:
    """One page as a grayscale image at PDF_DPI (less for a page too large), and its dpi."""
    page = pdf[index]
    try:
        width_pt, height_pt = page.get_size()
        scale = PDF_DPI / 72
        pixels = width_pt * height_pt * scale * scale
        if pixels > PDF_MAX_PIXELS:
            scale *= math.sqrt(PDF_MAX_PIXELS / pixels)
        bitmap = page.render(scale=scale, grayscale=True)
        try:
            # convert() copies: to_pil() shares the bitmap's memory, which close() frees.
            return bitmap.to_pil().convert("L"), max(1, round(scale * 72))
        finally:
            bitmap.close()
    finally:
        page.close()


# --- decoding for display ----------------------------------------------------------------------


def decode_page(data: bytes, media_type: str, *, max_width: int | None = None) -> DecodedPage:
    """A stored page as display-ready 8-bit grayscale.

    `max_width` is the most pixels across the caller will draw the page with. Where that saves
    time, detail beyond it is dropped: a JPEG is decoded at the smallest DCT scale (1/2, 1/4,
    1/8) that is still at least `max_width` wide. Other pages come back at full size (reducing
    them would cost more than it saves). Either way the result is never narrower than
    `max_width` unless the page is, so the caller scales down, never up; zones are page
    fractions and fit any returned size.
    """
    formats = _DECODE_FORMATS.get(media_type)
    if formats is None:
        raise ImageError(f"A stored page has the unsupported media type {media_type!r}.", "Re-import the batch.")
    try:
        im = Image.open(io.BytesIO(data), formats=formats)
        with im:
            if im.format in ("JPEG", "MPO"):
                size = None
                if max_width and im.width > max_width:
                    size = (max_width, max(1, im.height * max_width // im.width))
                # Decode the luma channel only, at the smallest DCT scale still wide enough.
                im.draft("L", size)
            im.load()
            oriented = _oriented(im)
            gray = oriented if oriented.mode in ("1", "L") else _to_gray(oriented)
            return DecodedPage(gray.width, gray.height, _gray_bytes(gray))
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged stored page must not crash the viewer
        log.warning("a stored %s page could not be decoded: %s", media_type, exc)
        raise ImageError(
            f"A stored page image ({media_type}) cannot be decoded: {_describe(exc)}.",
            "Re-import the document's scan; the stored copy is damaged.",
        ) from exc


def _oriented(im: Image.Image) -> Image.Image:
    if im.format in ("JPEG", "MPO", "PNG") and _orientation(im) != 1:
        return ImageOps.exif_transpose(im)
    return im


def _to_gray(im: Image.Image) -> Image.Image:
    """Any Pillow mode as "L": transparency over white, 16-bit scaled, colour as luma."""
    mode = im.mode
    if mode in ("L", "1"):
        return im.convert("L") if mode == "1" else im
    if mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        mode = im.mode
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    if mode.startswith("I") or mode == "F":
        wide = im.convert("I") if mode != "F" else im
        high = wide.getextrema()[1]
        if isinstance(high, (int, float)) and high > 255:
            wide = wide.point(lambda v: v * (255 / 65535))
        return wide.convert("L")
    if mode != "RGB":
        im = im.convert("RGB")
    return im.convert("L")


def _gray_bytes(im: Image.Image) -> bytes:
    """The pixels of an "L" or "1" image as one byte per pixel.

    `tobytes()` packs in 64 KB pieces and joins them, which costs a second copy of an 8.7 MB
    page; packing into one buffer of the right size halves that. Falls back to `tobytes` if
    Pillow's raw encoder ever changes.
    """
    size = im.width * im.height
    try:
        encoder = Image.core.raw_encoder(im.mode, "L")  # type: ignore[attr-defined]
        encoder.setimage(im.im, (0, 0, im.width, im.height))
        try:
            _consumed, status, data = encoder.encode(size)
        finally:
            encoder.cleanup()
        if status == 1 and len(data) == size:
            return bytes(data)
    except (AttributeError, TypeError, ValueError, OSError):
        pass
    return im.tobytes("raw", "L")


# --- snippets ----------------------------------------------------------------------------------


def crop(page: DecodedPage, box: tuple[int, int, int, int]) -> DecodedPage:
    """The pixels inside `box` = (left, top, right, bottom), clamped to the page."""
    left, top, right, bottom = box
    left = min(max(left, 0), page.width)
    right = min(max(right, left), page.width)
    top = min(max(top, 0), page.height)
    bottom = min(max(bottom, top), page.height)
    width, height = right - left, bottom - top
    if width == page.width and height == page.height:
        return page
    view = memoryview(page.pixels)
    stride = page.width
    rows = b"".join(view[(top + y) * stride + left : (top + y) * stride + right] for y in range(height))
    return DecodedPage(width, height, rows)


def zone_box(page_w: int, page_h: int, zone: Zone, margin: float = 0.01) -> tuple[int, int, int, int]:
    """The pixel box of a zone on a page of the given size, widened by `margin` and clamped.

    `margin` is a fraction of the page width added on every side, so the snippet shows the
    printed box's edges and a little context; the box always covers the whole zone.
    """
    pad = margin * page_w
    left = math.floor(zone.x * page_w - pad)
    top = math.floor(zone.y * page_h - pad)
    right = math.ceil((zone.x + zone.w) * page_w + pad)
    bottom = math.ceil((zone.y + zone.h) * page_h + pad)
    left = min(max(left, 0), max(page_w - 1, 0))
    top = min(max(top, 0), max(page_h - 1, 0))
    right = max(min(right, page_w), min(left + 1, page_w))
    bottom = max(min(bottom, page_h), min(top + 1, page_h))
    return left, top, right, bottom
