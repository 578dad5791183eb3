"""The magnified zone of the current field, shown right above the form.

The keyer reads the value here instead of hunting on the page. The crop comes from the
full-resolution page (not a display level), is scaled once per field and widget size, in the
screen's physical pixels (so 125%/150% scaling does not blur it), and painted 1:1: the text is
as sharp as the scan allows. A crop a little too large for the widget whose zone itself fits is
not shrunk but trimmed, its padding cut evenly: the scan's own pixels, sharper than any scaling
and no work on the key that moves to the field (smooth scaling was a fifth of moving on).
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QSizePolicy, QStyle, QStyleOption, QWidget

from ui.pageimage import PreparedPage
from workstation.templates import Zone

PADDING = 0.25  # of the zone's height, around it
MAX_MAGNIFICATION = 4.0


MADE_KEPT = 4  # snippets kept made: the field shown, the next, and the way back


def _trimmed(crop: QSize, zone: QRect, room: QSize) -> QRect:
    """The part of a crop, at most `room` large, centred on the zone as far as the crop allows:
    the padding is what is cut."""
    width, height = min(room.width(), crop.width()), min(room.height(), crop.height())
    left = min(max(zone.center().x() - width // 2, 0), crop.width() - width)
    top = min(max(zone.center().y() - height // 2, 0), crop.height() - height)
    return QRect(left, top, width, height)


class SnippetWidget(QFrame):
    """Shows one zone of one page, as large as fits the widget (at most 4x), centred.

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None, *, height: int = 130) -> None:
        super().__init__(parent)
        self.setObjectName("snippet")
        self._page: PreparedPage | None = None
        self._zone: Zone | None = None
        self._message = ""
        # Snippets made, by (zone, box size, pixel ratio), for this page: the one shown and the
        # next field's, made ahead (`prepare`) while the keyer types.
        self._made: OrderedDict[tuple[Zone, int, int, float], QImage | None] = OrderedDict()
        # A fixed height: the form below must not jump up and down from field to field, and
        # a relayout of the form on every field would cost more than the snippet itself.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(height)
        # It paints all of itself (a fill first, whatever the style sheet draws over it): the
        # side panel behind it need not be painted first on every field change.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def set_page(self, page: PreparedPage | None) -> None:
        """The page later zones are cut from; clears the current snippet."""
        self._page = page
        self._made.clear()
        self.set_zone(None)

    def set_zone(self, zone: Zone | None, *, message: str = "") -> None:
        """Show the zone of the page; without a zone, `message` (or nothing) is shown."""
        self._zone = zone
        self._message = message
        self.update()

    def prepare(self, zone: Zone | None) -> None:
        """Make the snippet of a zone of this page now, so that showing it later (the next
        field) is a copy: for idle moments, between keys."""
        if zone is not None and self._page is not None:
            self._image_for(zone)

    @property
    def zone(self) -> Zone | None:
        return self._zone

    def snippet_image(self) -> QImage | None:
        """The image as painted (scaled to the current width); also for tests and screenshots."""
        if self._zone is None or self._page is None:
            return None
        return self._image_for(self._zone)

    def _image_for(self, zone: Zone) -> QImage | None:
        inner = self.contentsRect().size()
        ratio = self.devicePixelRatioF()
        key = (zone, inner.width(), inner.height(), ratio)
        if key in self._made:
            self._made.move_to_end(key)
            return self._made[key]
        image = self._make(zone, inner, ratio)
        self._made[key] = image
        while len(self._made) > MADE_KEPT:
            self._made.popitem(last=False)
        return image

    def _make(self, zone: Zone, inner: QSize, ratio: float) -> QImage | None:
        """The zone cut out of the full-resolution page with its padding, as large as fits."""
        page = self._page
        assert page is not None
        left, top, right, bottom = zone.to_pixels(page.width, page.height)
        pad = round((bottom - top) * PADDING)
        padded = QRect(left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad)
        crop = page.crop(padded)
        if crop.isNull():
            return None
        # Where the zone sits in the crop (the crop is clipped at the page's edges).
        in_crop = QRect(left, top, right - left, bottom - top).translated(-max(padded.left(), 0), -max(padded.top(), 0))
        # In the screen's pixels: how much the padded crop can be enlarged to fit (at most 4x).
        room = QSize(max(1, round(inner.width() * ratio)), max(1, round(inner.height() * ratio)))
        scale = min(room.width() / crop.width(), room.height() / crop.height(), MAX_MAGNIFICATION * ratio)
        # In the screen's format (RGB32): painted by a plain copy, not converted on every paint.
        if scale < 1 and in_crop.width() <= room.width() and in_crop.height() <= room.height():
            image = crop.copy(_trimmed(crop.size(), in_crop, room)).convertToFormat(QImage.Format.Format_RGB32)
        else:
            size = QSize(max(1, round(crop.width() * scale)), max(1, round(crop.height() * scale)))
            image = crop.convertToFormat(QImage.Format.Format_RGB32).scaled(
                size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
        image.setDevicePixelRatio(ratio)
        return image

    # --- Qt overrides --------------------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(400, self.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        # Opaque (see __init__), so Qt leaves the styled background to the widget: a fill, then
        # the style sheet's background and border.
        painter.fillRect(event.rect(), self.palette().color(QPalette.ColorRole.Base))
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)
        inner = self.contentsRect()
        image = self.snippet_image()
        if image is None:
            if self._message:
                painter.setPen(QColor(0x6B, 0x72, 0x80))
                painter.drawText(inner, Qt.AlignmentFlag.AlignCenter, self._message)
            painter.end()
            return
        shown = image.deviceIndependentSize()
        x = inner.left() + (inner.width() - shown.width()) / 2
        y = inner.top() + (inner.height() - shown.height()) / 2
        painter.drawImage(QPointF(x, y), image)
        painter.end()
