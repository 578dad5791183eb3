"""Synthetic scans of demo documents that look like real scanned forms.

A page is drawn at 300 dpi on US letter: the form's title, a printed box with a small label for
every field zone of the template (so the zones the keying view outlines match the paper), and the
document's values inside the boxes in one of several typefaces per document (typewriter, italic
"hand", condensed print), each value a little off the baseline. Then what a scanner adds: a slight
skew, speckle, and binarisation to a G4 TIFF (or grayscale JPEG). Everything is seeded: the same
document and seed give the same bytes.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from workstation.demo.data import TruthDocument
from workstation.resources import resource_path
from workstation.templates import FormTemplate, Zone, row_path

DPI = 300
PAGE_W, PAGE_H = int(8.5 * DPI), 11 * DPI
_VALUE_FONTS = ("DejaVuSansMono.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansCondensed-Bold.ttf")


@cache
def _font(name: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if name is not None:
        path = resource_path("fonts", name)
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def _label_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return _font(None, size)  # Pillow's own sans serif: the printed form


def _page_fields(template: FormTemplate, page: int) -> list[tuple[str, str, Zone]]:
    """(path, label, zone) of every box on a page; a line-item table prints all its rows, with
    the labels once, as column heads over the first row."""
    out = []
    for item in template.layout():
        fields = getattr(item, "fields", None)
        if fields is None:
            boxes = [(item.key, item.label)]
        else:
            boxes = [(row_path(item.key, r, spec.key), spec.label if r == 1 else "")
                     for r in range(1, item.max_rows + 1) for spec in fields]
        for path, label in boxes:
            zone = template.zone(path)
            if zone is not None and zone.page == page:
                out.append((path, label, zone))
    return out


def draw_page(template: FormTemplate, doc: TruthDocument, page: int, rng: random.Random) -> Image.Image:
    """One clean page (grayscale, before the scanner's effects)."""
    image = Image.new("L", (PAGE_W, PAGE_H), 255)
    draw = ImageDraw.Draw(image)
    draw.text((int(PAGE_W * 0.06), int(PAGE_H * 0.045)), template.title.upper(), fill=0, font=_label_font(64))
    draw.text((int(PAGE_W * 0.06), int(PAGE_H * 0.075)), f"FORM {template.name.upper()}  PAGE {page} OF "
              f"{template.pages}  DOC {doc.seq:05d}", fill=60, font=_label_font(30))
    draw.line([(PAGE_W * 0.06, PAGE_H * 0.092), (PAGE_W * 0.94, PAGE_H * 0.092)], fill=0, width=5)
    face = rng.choice(_VALUE_FONTS)
    label_font = _label_font(26)
    for path, label, zone in _page_fields(template, page):
        x0, y0, x1, y1 = zone.to_pixels(PAGE_W, PAGE_H)
        w, h = x1 - x0, y1 - y0
        draw.rectangle([x0, y0, x0 + w, y0 + h], outline=0, width=3)
        if label:
            while len(label) > 4 and draw.textlength(label, font=label_font) > max(w, 160):
                label = label[:-2].rstrip() + "\u2026" if not label.endswith("\u2026") else label[:-2] + "\u2026"
            draw.text((x0 + 4, y0 - 30), label, fill=70, font=label_font)
        value = doc.values.get(path, "")
        if not value:
            continue
        spec = template.spec(path)
        if spec.type == "checkbox":
            pad = max(6, h // 6)
            draw.line([(x0 + pad, y0 + pad), (x0 + w - pad, y0 + h - pad)], fill=0, width=7)
            draw.line([(x0 + pad, y0 + h - pad), (x0 + w - pad, y0 + pad)], fill=0, width=7)
            continue
        size = int(h * rng.uniform(0.62, 0.74))
        font = _font(face, size)
        while size > 14 and draw.textlength(value, font=font) > w - 16:
            size -= 3
            font = _font(face, size)
        dx = rng.randint(8, 18)
        dy = rng.randint(-h // 10, h // 10)
        draw.text((x0 + dx, y0 + (h - size) // 2 + dy), value, fill=rng.randint(0, 40), font=font)
    return image


def scanner_effects(image: Image.Image, rng: random.Random) -> Image.Image:
    """Skew by up to a degree, add speckle and a few dust marks."""
    angle = rng.uniform(-0.9, 0.9)
    skewed = image.rotate(angle, resample=Image.Resampling.NEAREST, expand=False, fillcolor=255)
    draw = ImageDraw.Draw(skewed)
    for _ in range(rng.randint(250, 600)):
        x, y = rng.randrange(PAGE_W), rng.randrange(PAGE_H)
        r = rng.choice((1, 1, 1, 2, 2, 3))
        draw.ellipse([x, y, x + r, y + r], fill=rng.randint(0, 90))
    for _ in range(rng.randint(0, 3)):  # a hair or a fold line
        x, y = rng.randrange(PAGE_W), rng.randrange(PAGE_H)
        draw.line([(x, y), (x + rng.randint(-200, 200), y + rng.randint(-40, 40))], fill=80, width=2)
    return skewed


def render_document(template: FormTemplate, doc: TruthDocument, *, seed: int, fmt: str = "tiff") -> bytes:
    """The scan file of one document: a multi-page G4 TIFF, or (fmt="jpeg") a one-page JPEG."""
    rng = random.Random(f"{seed}:{template.name}:{doc.source_name}")
    pages = [scanner_effects(draw_page(template, doc, p, rng), rng) for p in range(1, template.pages + 1)]
    out = io.BytesIO()
    if fmt == "jpeg":
        if len(pages) != 1:
            raise ValueError("a JPEG holds one page; use tiff for multi-page forms")
        pages[0].save(out, "JPEG", quality=80, dpi=(DPI, DPI))
    else:
        bilevel = [p.point(lambda v: 255 if v > 150 else 0, mode="1") for p in pages]
        bilevel[0].save(out, "TIFF", compression="group4", dpi=(DPI, DPI), save_all=True,
                        append_images=bilevel[1:])
    return out.getvalue()


def write_scans(template: FormTemplate, documents: Sequence[TruthDocument], folder: Path, *, seed: int,
                fmt: str = "tiff") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for doc in documents:
        name = doc.source_name if fmt == "tiff" else Path(doc.source_name).with_suffix(".jpg").name
        path = folder / name
        path.write_bytes(render_document(template, doc, seed=seed, fmt=fmt))
        paths.append(path)
    return paths
