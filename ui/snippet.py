"""The magnified zone of the current field, shown right above the form.

The keyer reads the value here instead of hunting on the page. The crop comes from the
full-resolution page (not a display level), is scaled once per field and widget size, in the
screen's physical pixels (so 125%/150% scaling does not blur it), and painted 1:1: the text is
as sharp as the scan allows. A crop a little too large for the widget whose zone itself fits is
not shrunk but trimmed, its padding cut evenly: the scan's own pixels, sharper than any scaling
and no work on the key that moves to the field (smooth scaling was a fifth of moving on).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QSizePolicy, QStyle, QStyleOption, QWidget

from ui.pageimage import PreparedPage
from workstation.templates import Zone

PADDING = 0.25  # of the zone's height, around it
MAX_MAGNIFICATION = 4.0


class SnippetWidget(QFrame):
    """Shows one zone of one page, as large as fits the widget (at most 4x), centred.

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None, *, height: int = 130) -> None:
        super().__init__(parent)
        self.setObjectName("snippet")
        self._page: PreparedPage | None = None
        self._zone: Zone | None = None
        self._crop: QImage | None = None
        self._zone_in_crop = QRect()
        self._scaled: QImage | None = None
        self._scaled_for = QSize()
        self._message = ""
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
        self.set_zone(None)

    def set_zone(self, zone: Zone | None, *, message: str = "") -> None:
        """Cut the zone out of the page; without a zone, `message` (or nothing) is shown."""
        self._zone = zone
        self._message = message
        self._crop = None
        self._scaled = None
        if zone is not None and self._page is not None:
            left, top, right, bottom = zone.to_pixels(self._page.width, self._page.height)
            pad = round((bottom - top) * PADDING)
            padded = QRect(left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad)
            self._crop = self._page.crop(padded)
            # Where the zone sits in the crop (the crop is clipped at the page's edges).
            self._zone_in_crop = QRect(left, top, right - left, bottom - top).translated(
                -max(padded.left(), 0), -max(padded.top(), 0))
            if self._crop.isNull():
                self._crop = None
        self.update()

    @property
    def zone(self) -> Zone | None:
        return self._zone

    def snippet_image(self) -> QImage | None:
        """The image as painted (scaled to the current width), for tests and screenshots."""
        return self._scaled_crop()

    def _scaled_crop(self) -> QImage | None:
        if self._crop is None:
            return None
        inner = self.contentsRect().size()
        ratio = self.devicePixelRatioF()
        if self._scaled is not None and self._scaled_for == inner and self._scaled.devicePixelRatio() == ratio:
            return self._scaled
        # In the screen's pixels: how much the padded crop can be enlarged to fit (at most 4x).
        room = QSize(max(1, round(inner.width() * ratio)), max(1, round(inner.height() * ratio)))
        scale = min(room.width() / self._crop.width(), room.height() / self._crop.height(),
                    MAX_MAGNIFICATION * ratio)
        zone = self._zone_in_crop
        # In the screen's format (RGB32): painted by a plain copy, not converted on every paint.
        if scale < 1 and zone.width() <= room.width() and zone.height() <= room.height():
            scaled = self._crop.copy(self._trimmed(room)).convertToFormat(QImage.Format.Format_RGB32)
        else:
            size = QSize(max(1, round(self._crop.width() * scale)), max(1, round(self._crop.height() * scale)))
            scaled = self._crop.convertToFormat(QImage.Format.Format_RGB32).scaled(
                size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
        scaled.setDevicePixelRatio(ratio)
        self._scaled = scaled
        self._scaled_for = inner
        return scaled

    def _trimmed(self, room: QSize) -> QRect:
        """The part of the crop, at most `room` large, centred on the zone as far as the crop
        allows: the padding is what is cut."""
        crop, zone = self._crop, self._zone_in_crop
        assert crop is not None
        width, height = min(room.width(), crop.width()), min(room.height(), crop.height())
        left = min(max(zone.center().x() - width // 2, 0), crop.width() - width)
        top = min(max(zone.center().y() - height // 2, 0), crop.height() - height)
        return QRect(left, top, width, height)

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
        image = self._scaled_crop()
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
