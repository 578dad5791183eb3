from __future__ import annotations

from PySide6.QtCore import QRect

from tests.ui.synthetic import SyntheticPage
from ui.pageimage import PreparedPage
from ui.snippet import MAX_MAGNIFICATION, SnippetWidget
from workstation.templates import Zone


def _page_with_black_square() -> PreparedPage:
    """A white 400x200 page with a black 40x20 block at (100, 50)."""
    width, height = 400, 200
    pixels = bytearray(b"\xff" * (width * height))
    for y in range(50, 70):
        pixels[y * width + 100 : y * width + 140] = b"\x00" * 40
    return PreparedPage.from_pixels(width, height, bytes(pixels))


def test_snippet_magnifies_the_zone_to_the_width(qtbot) -> None:
    widget = SnippetWidget(height=120)
    qtbot.addWidget(widget)
    widget.resize(500, 120)
    widget.show()
    page = _page_with_black_square()
    widget.set_page(page)
    zone = Zone(1, 0.25, 0.25, 0.1, 0.1)  # exactly the black block
    widget.set_zone(zone)
    image = widget.snippet_image()
    assert image is not None
    # The crop (block + padding) is magnified up to the limit, never beyond.
    crop_width = 40 + 2 * round(20 * 0.25)
    assert image.deviceIndependentSize().width() <= crop_width * MAX_MAGNIFICATION + 1
    assert image.deviceIndependentSize().width() > crop_width * 2
    centre = image.pixelColor(image.width() // 2, image.height() // 2)
    corner = image.pixelColor(1, 1)
    assert centre.value() < 30 and corner.value() > 220  # the block in the middle, paper around
    assert widget.zone == zone


def test_snippet_is_painted_and_cleared(qtbot, claim_page: SyntheticPage, cms1500) -> None:
    widget = SnippetWidget()
    qtbot.addWidget(widget)
    widget.resize(500, 130)
    widget.show()
    widget.set_page(PreparedPage.from_page(claim_page))
    widget.set_zone(cms1500.zone("patient_zip"))
    shot = widget.grab().toImage()
    inner = widget.contentsRect()
    values = [shot.pixelColor(x, inner.center().y()).value() for x in range(inner.left(), inner.right(), 2)]
    assert min(values) < 100  # ink of the box and digits
    widget.set_zone(None, message="No zone for this field")
    assert widget.snippet_image() is None


def test_a_zone_off_the_page_edge_is_clipped(qtbot) -> None:
    widget = SnippetWidget()
    qtbot.addWidget(widget)
    widget.resize(300, 130)
    page = _page_with_black_square()
    widget.set_page(page)
    widget.set_zone(Zone(1, 0.0, 0.0, 0.2, 0.1))
    image = widget.snippet_image()
    assert image is not None and not image.isNull()
    assert page.crop(QRect(-10, -10, 30, 30)).size().width() == 20
