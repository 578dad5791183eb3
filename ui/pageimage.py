"""A decoded page made ready for the screen, without copying its pixels.

The core decodes scans to plain grayscale bytes (`workstation.images.DecodedPage`: width, height,
pixels). `PreparedPage` wraps those bytes in a QImage in place (no copy: it keeps a reference to
the bytes so they outlive the image) and adds smaller, smoothly scaled copies ("levels") so the
page view can draw a sharp page at fit-width without scaling 8 million pixels on every paint.

Only QImage is used (never QPixmap), which Qt allows off the GUI thread: prepare the next
documents' pages in `run_in_background` and hand the result to the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from ui.pagedecode import SharedPage

# Smaller copies kept for display; a page viewed at 40% draws from the 50% copy.
DEFAULT_LEVELS = (0.5, 0.25)


class PixelPage(Protocol):
    """Anything shaped like workstation.images.DecodedPage."""

    width: int
    height: int
    pixels: bytes


@dataclass(frozen=True, eq=False)
class PreparedPage:
    """A page image and its display levels; `image` shares memory with `pixels`."""

    width: int
    height: int
    image: QImage
    levels: tuple[tuple[float, QImage], ...] = ()
    pixels: bytes | bytearray | memoryview | None = field(default=None, repr=False)
    # Whatever else must outlive the images (the shared-memory mapping of a page decoded in the
    # decoder process). Last, so it is let go after the images.
    keep: object = field(default=None, repr=False)

    @classmethod
    def from_pixels(
        cls,
        width: int,
        height: int,
        pixels: bytes | bytearray | memoryview,
        *,
        levels: tuple[float, ...] = DEFAULT_LEVELS,
    ) -> "PreparedPage":
        """Wrap 8-bit grayscale rows (width bytes each) without copying them."""
        if width <= 0 or height <= 0:
            raise ValueError(f"page size {width}x{height} is empty")
        if len(pixels) < width * height:
            raise ValueError(f"{len(pixels)} bytes are too few for a {width}x{height} grayscale page")
        image = QImage(pixels, width, height, width, QImage.Format.Format_Grayscale8)
        return cls(width, height, image, _make_levels(image, levels), pixels)

    @classmethod
    def from_page(cls, page: PixelPage, *, levels: tuple[float, ...] = DEFAULT_LEVELS) -> "PreparedPage":
        return cls.from_pixels(page.width, page.height, page.pixels, levels=levels)

    @classmethod
    def from_image(cls, image: QImage, *, levels: tuple[float, ...] = DEFAULT_LEVELS) -> "PreparedPage":
        """From a QImage already in memory (it is converted to grayscale once)."""
        gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
        return cls(gray.width(), gray.height(), gray, _make_levels(gray, levels))

    @classmethod
    def from_shared(cls, shared: "SharedPage") -> "PreparedPage":
        """Wrap a page the decoder process left in shared memory (full size and levels), no copy."""
        from ui.pagedecode import SharedPixels

        mapping = SharedPixels(shared.name)
        width, height = shared.width, shared.height
        pixels = mapping.view(0, width * height)
        image = QImage(pixels, width, height, width, QImage.Format.Format_Grayscale8)
        levels = []
        for scale, level_w, level_h, offset, depth in shared.levels:
            view = mapping.view(offset, level_w * level_h * depth)
            kind = QImage.Format.Format_RGB32 if depth == 4 else QImage.Format.Format_Grayscale8
            levels.append((scale, QImage(view, level_w, level_h, level_w * depth, kind)))
        return cls(width, height, image, tuple(levels), pixels, keep=mapping)

    def image_for_scale(self, scale: float) -> tuple[QImage, float]:
        """The smallest level still at least as detailed as `scale` needs, and its scale."""
        best, best_scale = self.image, 1.0
        wanted = scale * (1 - 1e-9)  # a level made for exactly this scale counts despite rounding
        for level_scale, level in self.levels:
            if level_scale >= wanted and level_scale < best_scale:
                best, best_scale = level, level_scale
        return best, best_scale

    def crop(self, rect: QRect) -> QImage:
        """A copy of a rectangle of the full-resolution page (snippets); clipped to the page."""
        return self.image.copy(rect.intersected(self.image.rect()))


def _make_levels(image: QImage, scales: tuple[float, ...]) -> tuple[tuple[float, QImage], ...]:
    out: list[tuple[float, QImage]] = []
    source = image
    for scale in sorted(scales, reverse=True):
        width = max(1, round(image.width() * scale))
        height = max(1, round(image.height() * scale))
        if width >= image.width():
            continue
        # Halving from the previous level is cheaper and sharper than one big jump.
        level = source.scaled(width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
        out.append((scale, level))
        source = level
    return tuple(out)
