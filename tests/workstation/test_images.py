"""Reading scans into their storage encoding, decoding stored pages, snippets."""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps, TiffImagePlugin

from tests.workstation import imagefiles as files
from workstation import images
from workstation.errors import ImageError
from workstation.images import DecodedPage, PageImage, UnreadableImage, crop, decode_page, read_pages, zone_box
from workstation.templates import Zone

SMALL = (620, 877)  # A4 at 75 dpi: fast, still form-like


def pixels(image: Image.Image) -> bytes:
    return image.convert("L").tobytes()


def opened(page: PageImage) -> Image.Image:
    return Image.open(io.BytesIO(page.data))


# --- storage encoding ---------------------------------------------------------------------------


def test_multi_page_g4_tiff_is_split_into_lossless_single_page_g4_tiffs(tmp_path: Path) -> None:
    sources = [files.form_page(seed, SMALL) for seed in (1, 2, 3)]
    path = files.write(tmp_path / "claim.tif", files.tiff_bytes(sources, dpi=300))

    pages = read_pages(path)

    assert len(pages) == 3
    for page, source in zip(pages, sources):
        assert (page.media_type, page.width, page.height, page.dpi) == ("image/tiff", *SMALL, 300)
        assert page.sha256 == hashlib.sha256(page.data).hexdigest()
        stored = opened(page)
        assert getattr(stored, "n_frames", 1) == 1
        assert stored.mode == "1"
        assert stored.info["compression"] == "group4"
        assert round(stored.info["dpi"][0]) == 300
        assert decode_page(page.data, page.media_type).pixels == pixels(source)  # lossless, in order
        # Split, not re-encoded: the page's compressed strips are copied from the file.
        offsets, counts = stored.tag_v2[273], stored.tag_v2[279]
        for start, length in zip(offsets, counts):
            assert page.data[start : start + length] in path.read_bytes()


def test_min_is_white_g4_pages_keep_their_look(tmp_path: Path) -> None:
    page = files.form_page(9, SMALL)
    # Scanners often write G4 with PhotometricInterpretation 0 (a 0 bit is white): relabel the
    # strips of the inverted page, which Pillow writes with a 0 bit as black.
    inverted = ImageOps.invert(page.convert("L")).convert("1")
    source = files.tiff_bytes([inverted])
    with Image.open(io.BytesIO(source)) as written:
        tags = {**dict(written.tag_v2), 262: 0}
    path = files.write(tmp_path / "scanner.tif", images._split_g4(*SMALL, tags, source, 300))

    (stored,) = read_pages(path)

    assert opened(stored).tag_v2[262] == 0
    assert decode_page(stored.data, stored.media_type).pixels == pixels(page)


@pytest.mark.parametrize("compression", ["raw", "packbits", "tiff_lzw"])
def test_bilevel_tiff_in_another_compression_is_stored_as_g4(tmp_path: Path, compression: str) -> None:
    source = files.form_page(4, SMALL)
    path = files.write(tmp_path / "page.tiff", files.tiff_bytes([source], compression=compression, dpi=200))

    (page,) = read_pages(path)

    assert opened(page).info["compression"] == "group4"
    assert page.dpi == 200
    assert decode_page(page.data, page.media_type).pixels == pixels(source)


def test_grayscale_tiff_page_is_stored_as_grayscale_jpeg_and_two_level_page_as_g4(tmp_path: Path) -> None:
    gray = files.form_page(5, SMALL, mode="L")
    two_level = files.form_page(6, SMALL).convert("L")  # only 0 and 255, though stored as gray
    path = files.write(tmp_path / "mixed.tif", files.tiff_bytes([gray, two_level], compression="tiff_lzw"))

    first, second = read_pages(path)

    assert first.media_type == "image/jpeg"
    assert opened(first).mode == "L"
    decoded = decode_page(first.data, first.media_type)
    assert abs(sum(decoded.pixels) / len(decoded.pixels) - sum(pixels(gray)) / len(pixels(gray))) < 2
    assert second.media_type == "image/tiff"
    assert opened(second).info["compression"] == "group4"
    assert decode_page(second.data, second.media_type).pixels == pixels(two_level)


def test_jpeg_and_png_files_are_stored_as_their_original_bytes(tmp_path: Path) -> None:
    gray = files.form_page(7, SMALL, mode="L")
    jpeg = files.write(tmp_path / "scan.JPG", files.image_bytes(gray.convert("RGB"), "JPEG", quality=80, dpi=(240, 240)))
    png = files.write(tmp_path / "scan.png", files.image_bytes(gray, "PNG"))

    (from_jpeg,) = read_pages(jpeg)
    (from_png,) = read_pages(png)

    assert (from_jpeg.media_type, from_jpeg.data, from_jpeg.dpi) == ("image/jpeg", jpeg.read_bytes(), 240)
    assert from_jpeg.sha256 == hashlib.sha256(jpeg.read_bytes()).hexdigest()
    assert (from_png.media_type, from_png.data) == ("image/png", png.read_bytes())
    assert from_png.dpi == images.DEFAULT_DPI  # the PNG says nothing about its resolution
    assert (from_png.width, from_png.height) == SMALL


def test_pdf_pages_are_rendered_at_200_dpi_in_order(tmp_path: Path) -> None:
    first = Image.new("L", (600, 800), 255)
    ImageDraw.Draw(first).rectangle((0, 0, 299, 799), fill=0)  # left half black
    second = Image.new("L", (600, 800), 255)
    ImageDraw.Draw(second).rectangle((300, 0, 599, 799), fill=0)  # right half black
    path = files.write(tmp_path / "fax.pdf", files.pdf_bytes([first, second], resolution=100))

    pages = read_pages(path)

    assert len(pages) == 2
    for page in pages:
        assert page.dpi == images.PDF_DPI
        assert (page.width, page.height) == (1200, 1600)  # 6 x 8 inches at 200 dpi
    left = decode_page(pages[0].data, pages[0].media_type)
    right = decode_page(pages[1].data, pages[1].media_type)
    row = 800 * left.width
    assert left.pixels[row + 100] < 64 and left.pixels[row + 1100] > 192
    assert right.pixels[row + 100] > 192 and right.pixels[row + 1100] < 64


def test_an_oversized_pdf_page_is_rendered_smaller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "PDF_MAX_PIXELS", 1_000_000)
    poster = Image.new("L", (300, 200), 128)
    path = files.write(tmp_path / "poster.pdf", files.pdf_bytes([poster], resolution=20))  # 15 x 10 inches

    (page,) = read_pages(path)

    assert page.width * page.height <= 1_010_000  # the cap, give or take rounding to whole pixels
    assert page.width == pytest.approx(1225, abs=3) and page.dpi == pytest.approx(82, abs=1)


def test_fax_resolution_pages_get_square_pixels(tmp_path: Path) -> None:
    source = Image.new("1", (400, 250), 1)
    ImageDraw.Draw(source).rectangle((0, 0, 399, 124), fill=0)  # top half black
    path = files.write(tmp_path / "fax.tif", files.tiff_bytes([source], dpi=(204, 98)))

    (page,) = read_pages(path)

    assert (page.width, page.height, page.dpi) == (400, round(250 * 204 / 98), 204)
    decoded = decode_page(page.data, page.media_type)
    assert decoded.pixels[decoded.width * (decoded.height // 4)] == 0
    assert decoded.pixels[decoded.width * (3 * decoded.height // 4)] == 255


def test_thumbnail_subfiles_are_not_pages(tmp_path: Path) -> None:
    page = files.form_page(8, SMALL)
    thumbnail = page.resize((62, 88))
    path = tmp_path / "scan.tif"
    with TiffImagePlugin.AppendingTiffWriter(str(path), True) as tiff:
        page.save(tiff, "TIFF", compression="group4")
        tiff.newFrame()
        thumbnail.save(tiff, "TIFF", tiffinfo={254: 1})  # NewSubfileType: reduced resolution
    with Image.open(path) as written:
        assert written.n_frames == 2

    pages = read_pages(path)

    assert [(p.width, p.height) for p in pages] == [SMALL]


def test_exif_orientation_is_applied_to_size_and_pixels(tmp_path: Path) -> None:
    source = Image.new("L", (300, 200), 255)
    ImageDraw.Draw(source).rectangle((0, 0, 149, 199), fill=0)  # left half black
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90 degrees clockwise to show
    path = files.write(tmp_path / "phone.jpg", files.image_bytes(source, "JPEG", quality=95, exif=exif))

    (page,) = read_pages(path)
    decoded = decode_page(page.data, page.media_type)

    assert (page.width, page.height) == (200, 300)
    assert (decoded.width, decoded.height) == (200, 300)
    # Turned clockwise, the black left half is now the top half.
    assert decoded.pixels[decoded.width * 10 + 10] < 64 and decoded.pixels[decoded.width * 10 + 190] < 64
    assert decoded.pixels[decoded.width * 290 + 10] > 192 and decoded.pixels[decoded.width * 290 + 190] > 192


# --- unreadable files ----------------------------------------------------------------------------


def _truncated_jpeg() -> bytes:
    whole = files.image_bytes(files.form_page(9, SMALL, mode="L"), "JPEG", quality=85)
    return whole[: len(whole) // 2]


def _truncated_png() -> bytes:
    whole = files.image_bytes(files.form_page(9, SMALL, mode="L"), "PNG")
    return whole[: len(whole) // 2]


def _truncated_tiff() -> bytes:
    whole = files.tiff_bytes([files.form_page(s, SMALL) for s in (1, 2, 3)])
    return whole[: len(whole) * 2 // 3]


@pytest.mark.parametrize(
    ("name", "make", "word"),
    [
        ("empty.tif", lambda: b"", "empty"),
        ("cut.tif", _truncated_tiff, "truncated"),
        ("cut.jpg", _truncated_jpeg, "truncated"),
        ("cut.png", _truncated_png, "truncated"),
        ("noise.png", lambda: random.Random(3).randbytes(4000), "corrupt"),
        ("broken.pdf", lambda: b"%PDF-1.4\n" + random.Random(4).randbytes(500), "corrupt"),
        ("notes.txt", lambda: b"some notes", "unsupported"),
        ("noext", lambda: b"II*\x00", "unsupported"),
        ("anim.png", lambda: files.image_bytes(Image.new("L", (20, 20)), "GIF"), "unsupported"),
    ],
)
def test_unreadable_files_raise_an_error_naming_file_and_reason(tmp_path: Path, name: str, make, word: str) -> None:  # type: ignore[no-untyped-def]
    path = files.write(tmp_path / name, make())

    with pytest.raises(UnreadableImage) as caught:
        read_pages(path)

    assert caught.value.name == name
    assert word in caught.value.reason
    assert name in caught.value.message
    assert isinstance(caught.value, ImageError)


def test_a_tiff_cut_inside_a_later_page_fails_as_a_whole(tmp_path: Path) -> None:
    whole = files.tiff_bytes([files.form_page(s, SMALL) for s in (1, 2, 3)])
    for cut in range(len(whole) // 3, len(whole) - 16, len(whole) // 17):
        with pytest.raises(UnreadableImage, match="truncated"):
            images.pages_from_bytes(whole[:cut], "cut.tif")


# --- decoding for display -----------------------------------------------------------------------


def _boxed(mode: str, size: tuple[int, int] = (400, 300)) -> Image.Image:
    """White page, black box at (100, 50)-(199, 149)."""
    image = Image.new("L", size, 255)
    ImageDraw.Draw(image).rectangle((100, 50, 199, 149), fill=0)
    return image.convert(mode)


def _assert_boxed(page: DecodedPage, size: tuple[int, int] = (400, 300)) -> None:
    assert (page.width, page.height) == size
    assert isinstance(page.pixels, bytes)
    assert len(page.pixels) == size[0] * size[1]
    assert page.pixels[100 * size[0] + 150] < 40  # inside the box
    assert page.pixels[20 * size[0] + 20] > 215  # paper


@pytest.mark.parametrize(
    ("media_type", "data"),
    [
        ("image/tiff", lambda: files.tiff_bytes([_boxed("1")])),
        ("image/png", lambda: files.image_bytes(_boxed("L"), "PNG")),
        ("image/png", lambda: files.image_bytes(_boxed("RGB"), "PNG")),
        ("image/png", lambda: files.image_bytes(_boxed("P"), "PNG")),
        ("image/png", lambda: files.image_bytes(_boxed("1"), "PNG")),
        ("image/jpeg", lambda: files.image_bytes(_boxed("L"), "JPEG", quality=90)),
        ("image/jpeg", lambda: files.image_bytes(_boxed("RGB"), "JPEG", quality=90)),
        ("image/jpeg", lambda: files.image_bytes(_boxed("CMYK"), "JPEG", quality=90)),
    ],
)
def test_decode_gives_grayscale_bytes_of_the_page_size(media_type: str, data) -> None:  # type: ignore[no-untyped-def]
    _assert_boxed(decode_page(data(), media_type))


def test_decode_puts_transparent_pixels_on_white_paper() -> None:
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))  # transparent black
    ImageDraw.Draw(image).rectangle((100, 50, 199, 149), fill=(0, 0, 0, 255))
    _assert_boxed(decode_page(files.image_bytes(image, "PNG"), "image/png"))


def test_decode_scales_16_bit_grayscale() -> None:
    image = Image.new("I;16", (40, 30), 65535)
    ImageDraw.Draw(image).rectangle((10, 10, 19, 19), fill=32768)
    page = decode_page(files.image_bytes(image, "PNG"), "image/png")
    assert page.pixels[0] == 255
    assert page.pixels[15 * 40 + 15] in (127, 128)


def test_jpeg_decoded_for_a_narrow_view_is_smaller_but_at_least_as_wide_as_asked() -> None:
    data = files.image_bytes(_boxed("L", (2400, 1800)), "JPEG", quality=90)
    page = decode_page(data, "image/jpeg", max_width=1000)
    assert (page.width, page.height) == (1200, 900)  # DCT scale 1/2
    assert len(page.pixels) == 1200 * 900
    assert decode_page(data, "image/jpeg", max_width=5000).width == 2400


def test_g4_page_decoded_for_a_narrow_view_keeps_its_size() -> None:
    page = decode_page(files.tiff_bytes([_boxed("1")]), "image/tiff", max_width=100)
    _assert_boxed(page)


def test_decode_of_damaged_data_or_unknown_type_raises_image_error() -> None:
    with pytest.raises(ImageError, match="cannot be decoded"):
        decode_page(b"II*\x00garbage", "image/tiff")
    with pytest.raises(ImageError, match="cannot be decoded"):
        decode_page(files.image_bytes(_boxed("L"), "PNG"), "image/jpeg")
    with pytest.raises(ImageError, match="media type"):
        decode_page(b"", "image/gif")


# --- snippets -----------------------------------------------------------------------------------


def _numbered(width: int, height: int) -> DecodedPage:
    return DecodedPage(width, height, bytes((x + 10 * y) % 256 for y in range(height) for x in range(width)))


def test_crop_copies_the_rows_of_the_box() -> None:
    page = _numbered(8, 6)
    piece = crop(page, (2, 1, 5, 4))
    assert (piece.width, piece.height) == (3, 3)
    assert piece.pixels == bytes([12, 13, 14, 22, 23, 24, 32, 33, 34])


def test_crop_is_clamped_to_the_page() -> None:
    page = _numbered(8, 6)
    piece = crop(page, (-5, 4, 3, 99))
    assert (piece.width, piece.height) == (3, 2)
    assert piece.pixels == bytes([40, 41, 42, 50, 51, 52])
    assert crop(page, (0, 0, 8, 6)) == page
    empty = crop(page, (20, 20, 30, 30))
    assert (empty.width, empty.height, empty.pixels) == (0, 0, b"")


def test_zone_box_covers_the_zone_with_a_margin_and_stays_on_the_page() -> None:
    zone = Zone(page=1, x=0.25, y=0.5, w=0.5, h=0.1)
    assert zone_box(1000, 2000, zone, margin=0) == (250, 1000, 750, 1200)
    assert zone_box(1000, 2000, zone) == (240, 990, 760, 1210)  # 1% of the width on every side
    corner = Zone(page=1, x=0.0, y=0.95, w=0.2, h=0.05)
    assert zone_box(1000, 2000, corner, margin=0.05) == (0, 1850, 250, 2000)


def test_zone_box_gives_at_least_one_pixel() -> None:
    left, top, right, bottom = zone_box(10, 10, Zone(page=1, x=0.99, y=0.99, w=0.001, h=0.001), margin=0)
    assert right - left >= 1 and bottom - top >= 1
    assert 0 <= left < right <= 10 and 0 <= top < bottom <= 10



@pytest.mark.parametrize("mode", ["1", "L"])
def test_fast_pixel_packing_matches_pillows_own(mode: str) -> None:
    image = files.form_page(5, (333, 471)).convert(mode)  # odd width: no row padding slips in
    assert images._gray_bytes(image) == image.tobytes("raw", "L")
