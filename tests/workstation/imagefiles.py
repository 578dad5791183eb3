"""Scan files for tests and benchmarks: form-like pages and good and broken files of every type.

Pages look like scanned forms (printed boxes, labels, handwriting-like strokes) so that their
compressed sizes and decode times are those of real scans, not of blank paper.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

A4_300 = (2480, 3508)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789      "


def form_page(seed: int, size: tuple[int, int] = A4_300, mode: str = "1") -> Image.Image:
    """A form-like page: ruled boxes with printed labels and handwritten-looking entries.

    `mode` "1" gives a bilevel scan, "L" a grayscale scan with paper tone and sensor noise.
    Different seeds give different pages.
    """
    rnd = random.Random(seed)
    width, height = size
    scale = width / A4_300[0]
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    label_font = ImageFont.load_default(size=max(8, round(26 * scale)))
    title_font = ImageFont.load_default(size=max(10, round(60 * scale)))
    draw.text((round(160 * scale), round(120 * scale)), f"CLAIM FORM {seed:06d}", fill=0, font=title_font)
    y = round(260 * scale)
    row_h = round(150 * scale)
    margin = round(120 * scale)
    while y + row_h < height - margin:
        x = margin
        while x < width - margin - round(300 * scale):
            box_w = rnd.randint(round(300 * scale), round(900 * scale))
            right = min(x + box_w, width - margin)
            draw.rectangle((x, y, right, y + row_h), outline=0, width=max(1, round(3 * scale)))
            label = "".join(rnd.choice(_LETTERS) for _ in range(rnd.randint(6, 22))).strip() or "BOX"
            draw.text((x + round(10 * scale), y + round(8 * scale)), label, fill=0, font=label_font)
            if rnd.random() < 0.8:
                _handwriting(draw, rnd, x + round(20 * scale), y + round(60 * scale), right - round(30 * scale), scale)
            x = right
        y += row_h
    # A scan is never quite straight, and the glass leaves specks.
    page = page.rotate(rnd.uniform(-0.6, 0.6), resample=Image.Resampling.BILINEAR, fillcolor=255)
    if mode == "1":
        specks = ImageDraw.Draw(page)
        for _ in range(round(3000 * scale * scale)):
            specks.point((rnd.randrange(width), rnd.randrange(height)), fill=0)
        return page.convert("1", dither=Image.Dither.NONE)
    toned = page.point(lambda v: 40 + v * 200 // 255)  # ink is not black, paper not white
    noise = Image.effect_noise(size, 18).point(lambda v: v - 128)
    grain = Image.blend(toned, noise.convert("L"), 0.08)
    return grain.filter(ImageFilter.SMOOTH)


def _handwriting(draw: ImageDraw.ImageDraw, rnd: random.Random, left: int, top: int, right: int, scale: float) -> None:
    x = left
    letter_w = round(rnd.randint(28, 40) * scale)
    base = top + round(rnd.randint(10, 30) * scale)
    while x + letter_w < right and rnd.random() < 0.97:
        points = [(x + rnd.randint(0, letter_w), base + rnd.randint(-round(30 * scale), round(30 * scale))) for _ in range(4)]
        draw.line(points, fill=0, width=max(1, round(4 * scale)), joint="curve")
        x += letter_w + round(rnd.randint(2, 12) * scale)


def tiff_bytes(pages: Sequence[Image.Image], *, compression: str = "group4", dpi: int | tuple[int, int] = 300) -> bytes:
    """One TIFF holding `pages` in order (G4 for bilevel pages by default)."""
    resolution = (dpi, dpi) if isinstance(dpi, int) else dpi
    out = io.BytesIO()
    first, *rest = pages
    first.save(out, "TIFF", compression=compression, dpi=resolution, save_all=True, append_images=rest)
    return out.getvalue()


def image_bytes(page: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    page.save(out, fmt, **params)
    return out.getvalue()


def pdf_bytes(pages: Sequence[Image.Image], *, resolution: float = 150.0) -> bytes:
    """A PDF with one image per page, as Pillow writes it (a scanned-PDF look-alike)."""
    out = io.BytesIO()
    first, *rest = [p.convert("L") if p.mode == "1" else p for p in pages]
    first.save(out, "PDF", resolution=resolution, save_all=True, append_images=rest)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def mixed_folder(root: Path, *, size: tuple[int, int] = (620, 877)) -> dict[str, int]:
    """A scan folder with good and broken files; returns the good files' page counts by name.

    Broken: an empty file, a truncated TIFF, random bytes named .png, and a .txt note.
    """
    pages = [form_page(seed, size) for seed in range(1, 4)]
    gray = form_page(10, size, mode="L")
    write(root / "a_claim.tif", tiff_bytes(pages))
    write(root / "b_photo.png", image_bytes(gray, "PNG", dpi=(150, 150)))
    write(root / "c_scan.jpg", image_bytes(gray, "JPEG", quality=85, dpi=(200, 200)))
    write(root / "d_faxed.pdf", pdf_bytes([form_page(20, size), form_page(21, size)]))
    write(root / "e_empty.tif", b"")
    whole = tiff_bytes([form_page(s, size) for s in (30, 31)])
    write(root / "f_cut.tif", whole[: len(whole) // 2])
    write(root / "g_noise.png", random.Random(7).randbytes(5000))
    write(root / "h_notes.txt", b"batch notes\n")
    return {"a_claim.tif": 3, "b_photo.png": 1, "c_scan.jpg": 1, "d_faxed.pdf": 2}
