from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QColor

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


def test_a_crop_a_little_too_tall_is_trimmed_not_shrunk(qtbot) -> None:
    """The zone fits the snippet at 1:1, its padding does not: the scan's own pixels are shown,
    the whole zone, with the padding cut evenly, not a shrunken (blurred) copy."""
    width, height = 1000, 400
    pixels = bytearray(b"\xff" * (width * height))
    for y in range(100, 140):  # a black block of 200x40 at (300, 100) with one white pixel column
        pixels[y * width + 300 : y * width + 500] = b"\x00" * 200
        pixels[y * width + 400] = 0xFF
    page = PreparedPage.from_pixels(width, height, bytes(pixels))
    widget = SnippetWidget(height=52)
    qtbot.addWidget(widget)
    widget.resize(500, 52)
    widget.set_page(page)
    widget.set_zone(Zone(1, 0.3, 0.25, 0.2, 0.1))  # the block; padded by 10 px all round: 220x60
    inner = widget.contentsRect().size()
    assert 40 <= inner.height() < 60  # the zone fits, its padding does not
    image = widget.snippet_image()
    assert image is not None
    assert (image.width(), image.height()) == (220, inner.height())
    dark = sum(1 for y in range(image.height()) for x in range(image.width()) if image.pixelColor(x, y).value() < 128)
    assert dark == 199 * 40  # every pixel of the zone, none lost, none smeared
    top = (image.height() - 40) // 2
    assert image.pixelColor(110, top + 20).value() == 255  # the white column, still one sharp pixel
    assert image.pixelColor(109, top + 20).value() == 0


def test_the_snippet_paints_all_of_its_box_border_included(qtbot) -> None:
    """It paints every pixel itself (nothing is painted behind it): the style sheet's blue
    border on all four sides, white around a snippet narrower than the box, also after a wider
    one was shown."""
    widget = SnippetWidget(height=120)
    qtbot.addWidget(widget)
    widget.resize(500, 120)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_page(_page_with_black_square())
    widget.set_zone(Zone(1, 0.0, 0.0, 1.0, 0.5))  # as wide as the box
    widget.repaint()
    widget.set_zone(Zone(1, 0.25, 0.25, 0.1, 0.1))  # the small block, magnified, narrower
    shot = widget.grab().toImage()
    blue = QColor("#2563eb")
    middle_x, middle_y = shot.width() // 2, shot.height() // 2
    for x, y in ((0, middle_y), (shot.width() - 1, middle_y), (middle_x, 0), (middle_x, shot.height() - 1), (0, 0)):
        assert shot.pixelColor(x, y) == blue, (x, y)
    assert shot.pixelColor(4, middle_y) == QColor("#ffffff")  # left of the narrower snippet
    assert shot.pixelColor(middle_x, middle_y).value() < 30  # the block


def test_a_snippet_made_ahead_is_shown_without_being_made_again(qtbot, monkeypatch) -> None:
    widget = SnippetWidget(height=120)
    qtbot.addWidget(widget)
    widget.resize(500, 120)
    page = _page_with_black_square()
    widget.set_page(page)
    made: list[Zone] = []
    make = SnippetWidget._make
    monkeypatch.setattr(SnippetWidget, "_make", lambda self, zone, inner, ratio: made.append(zone) or make(self, zone, inner, ratio))
    here, there = Zone(1, 0.25, 0.25, 0.1, 0.1), Zone(1, 0.0, 0.0, 0.5, 0.2)
    widget.set_zone(here)
    first = widget.snippet_image()
    widget.prepare(there)  # while the keyer types in `here`
    assert made == [here, there]
    widget.set_zone(there)
    assert widget.snippet_image() is not None and made == [here, there]  # shown, not made again
    widget.set_zone(here)  # and back (Shift+Tab)
    assert widget.snippet_image() is first and made == [here, there]
    widget.set_page(_page_with_black_square())  # another page: made again from it
    widget.set_zone(here)
    widget.snippet_image()
    assert made == [here, there, here]
