"""The scan viewer: one page, the current field's zone highlighted, zoom, fit, rotate, pan.

The scene is built once: one page item, one zone rectangle. Showing another page swaps the
image inside the page item (no new scene, no QPixmap conversion of 8 million pixels); the page
item draws from the `PreparedPage` level that matches the zoom, so fit-width stays sharp and a
repaint stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QCoreApplication, QEvent, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QKeyEvent, QPainter, QPen, QResizeEvent, QTransform, QWheelEvent
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ui import keys
from ui.pageimage import PixelPage, PreparedPage
from workstation.templates import Zone

FitMode = Literal["width", "page", "free"]

ZOOM_STEP = 1.25
MIN_SCALE = 0.05
MAX_SCALE = 8.0
ZONE_COLOUR = QColor(37, 99, 235)  # the focus colour of style.qss
FIT_MARGIN = 8  # pixels of background left and right of a page fitted to the width
ZONE_PADDING = 0.15  # of the zone's height, around the zone, so strokes at its edge stay inside


class _PageItem(QGraphicsItem):
    """Draws a PreparedPage at the level of detail the view's scale needs.

    Only the exposed part is drawn. When the page has a level made for the view's scale (the
    decoder makes one for the fit-width size), that part is copied to the screen 1:1 with no
    scaling at all, which keeps a new page and a scroll to a few milliseconds; otherwise the
    nearest larger level is scaled smoothly."""

    def __init__(self) -> None:
        super().__init__()
        self._page: PreparedPage | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)

    def set_page(self, page: PreparedPage | None) -> None:
        self.prepareGeometryChange()
        self._page = page
        self.update()

    @property
    def page(self) -> PreparedPage | None:
        return self._page

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        if self._page is None:
            return QRectF()
        return QRectF(0, 0, self._page.width, self._page.height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        page = self._page
        if page is None:
            return
        # Screen pixels per page pixel, counting the monitor's scaling (125%, 150%).
        transform = painter.worldTransform()
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(transform)
        device = painter.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        image, level_scale = page.image_for_scale(scale * ratio)
        exposed = option.exposedRect.intersected(QRectF(0, 0, page.width, page.height))  # type: ignore[attr-defined]
        if exposed.isEmpty():
            return
        if (ratio == 1.0 and transform.type().value <= QTransform.TransformationType.TxScale.value
                and abs(level_scale - scale) <= 1e-6 * max(1.0, scale)):
            self._blit(painter, transform, image, level_scale, exposed)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 2.0)
        sx, sy = image.width() / page.width, image.height() / page.height
        source = QRectF(exposed.x() * sx, exposed.y() * sy, exposed.width() * sx, exposed.height() * sy)
        painter.drawImage(exposed, image, source)

    @staticmethod
    def _blit(painter: QPainter, transform: QTransform, image: QImage, scale: float, exposed: QRectF) -> None:
        """Copy the level's pixels under `exposed` to the screen without any transformation."""
        source = QRect(
            int(exposed.left() * scale), int(exposed.top() * scale),
            int(exposed.width() * scale) + 2, int(exposed.height() * scale) + 2,
        ).intersected(image.rect())
        origin = transform.map(QPointF(source.left() / scale, source.top() / scale))
        painter.save()
        painter.resetTransform()
        painter.drawImage(QPointF(round(origin.x()), round(origin.y())), image, QRectF(source))
        painter.restore()


class PageViewWidget(QGraphicsView):
    """Shows one page of a scan; keyboard and Ctrl+wheel zoom, fit width/page, rotation.

    The fit mode sticks: a new page, or a resized window, is fitted again the same way until the
    user zooms by hand. A page that cannot be shown is replaced by a sentence (`show_error`).

    Signals:
        zoom_changed(scale): the view's scale changed (1.0 = one image pixel per screen pixel).
        fit_width_changed(pixels): the width a page fitted to the view gets changed (resized).
    """

    zoom_changed = Signal(float)
    fit_width_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageView")
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._page_item = _PageItem()
        self._scene.addItem(self._page_item)
        self._zone_item = QGraphicsRectItem()
        pen = QPen(ZONE_COLOUR, 2.0)
        pen.setCosmetic(True)
        self._zone_item.setPen(pen)
        fill = QColor(ZONE_COLOUR)
        fill.setAlpha(40)
        self._zone_item.setBrush(QBrush(fill))
        self._zone_item.setZValue(1)
        self._zone_item.setVisible(False)
        self._scene.addItem(self._zone_item)
        self._zone: Zone | None = None

        self._scale = 1.0
        self._rotation = 0
        self._fit: FitMode = "width"
        self._keymap = keys.KeyMap(keys.WINDOW)

        self._placeholder = QLabel(self.viewport())
        self._placeholder.setObjectName("pagePlaceholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        self._placeholder.hide()

        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(QColor(0x5F, 0x66, 0x70))
        # The scene paints every pixel of the viewport (the background brush, then the page), so
        # the widgets behind it need not be painted first: without this, each new page filled
        # the view's area four times over (window, splitter, scan pane, view) before the page.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        # Never take the focus: a click or drag on the scan must leave the keyer in the field.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        # Always there: a scroll bar coming and going would change the fitted width, and pages
        # decoded ahead for the old width would no longer be drawn 1:1.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)

    # --- content -------------------------------------------------------------------------------

    def set_page(self, page: PreparedPage | PixelPage | None, *, rotation: int = 0) -> None:
        """Show a page. A plain (width, height, pixels) page is wrapped here without levels;
        prefer preparing it in the background with `PreparedPage.from_page`."""
        if page is not None and not isinstance(page, PreparedPage):
            page = PreparedPage.from_page(page, levels=())
        self._placeholder.hide()
        self._page_item.setVisible(page is not None)
        self._page_item.set_page(page)
        self._rotation = rotation % 360
        self._zone = None
        self._zone_item.setVisible(False)
        self._update_scene_rect()
        self._apply_fit()
        self.verticalScrollBar().setValue(self.verticalScrollBar().minimum())
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().minimum())

    @property
    def page(self) -> PreparedPage | None:
        return self._page_item.page

    def replace_page(self, page: PreparedPage) -> None:
        """The same page decoded again (with a level for the current size): swapped in place,
        zoom, scroll position and zone kept."""
        shown = self._page_item.page
        if shown is None or (shown.width, shown.height) != (page.width, page.height):
            self.set_page(page)
            return
        self._page_item.set_page(page)

    def show_error(self, message: str) -> None:
        """Replace the page with a sentence saying why it cannot be shown."""
        self._page_item.set_page(None)
        self._page_item.setVisible(False)
        self._zone = None
        self._zone_item.setVisible(False)
        self._placeholder.setText(f"This page cannot be shown.\n\n{message}")
        self._placeholder.setGeometry(self.viewport().rect())
        self._placeholder.show()
        self._update_scene_rect()

    @property
    def error_text(self) -> str:
        """The placeholder's sentence, empty while a page is shown."""
        return self._placeholder.text() if self._placeholder.isVisibleTo(self) else ""

    # --- zone ----------------------------------------------------------------------------------

    def set_zone(self, zone: Zone | None) -> None:
        """Highlight where the current field sits (page fractions), or nothing."""
        self._zone = zone
        rect = self.zone_rect(zone)
        if rect is None:
            self._zone_item.setVisible(False)
            return
        self._zone_item.setRect(rect)
        self._zone_item.setVisible(True)

    def settle(self) -> None:
        """Paint the scene's pending changes (a new page, a moved zone) now, with whatever else
        in the window is waiting to be painted.

        The scene passes item changes on in a queued call, which then paints the window. When
        the change was made outside a key handler (the second half of opening a document, on a
        timer), that call waits for the next turn of the event loop, and the page comes a frame
        later than it could. Only for that case; from a key handler it would paint in the
        middle of the handler."""
        QCoreApplication.sendPostedEvents(self.scene(), QEvent.Type.MetaCall)

    def show_zone(self, zone: Zone | None) -> None:
        """Highlight the zone and, unless it is well in view already, scroll so it is centred,
        keeping the zoom. (Scrolling repaints the whole view; most fields of a form fitted to
        the width are in view without it.)"""
        self.set_zone(zone)
        rect = self.zone_rect(zone)
        if rect is not None and not self._comfortably_visible(rect):
            self.centerOn(rect.center())

    def _comfortably_visible(self, rect: QRectF) -> bool:
        shown = self.mapFromScene(rect).boundingRect()
        area = self.viewport().rect()
        margin_y = min(60, area.height() // 8)
        margin_x = min(20, area.width() // 16)
        return area.adjusted(margin_x, margin_y, -margin_x, -margin_y).contains(shown)

    def fit_width_pixels(self) -> int:
        """How many device pixels wide a page is drawn when fitted to the width (decoders make a
        display level of this width, so a fitted page is drawn without scaling)."""
        return max(1, round((self.viewport().width() - 2 * FIT_MARGIN) * self.devicePixelRatioF()))

    def zone_rect(self, zone: Zone | None) -> QRectF | None:
        """The zone in page pixels, padded a little; None without a page or a zone."""
        page = self._page_item.page
        if zone is None or page is None:
            return None
        left, top, right, bottom = zone.to_pixels(page.width, page.height)
        pad = (bottom - top) * ZONE_PADDING
        return QRectF(left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad)

    @property
    def zone(self) -> Zone | None:
        return self._zone

    # --- zoom, fit, rotate, pan ----------------------------------------------------------------

    @property
    def scale_factor(self) -> float:
        return self._scale

    @property
    def rotation(self) -> int:
        return self._rotation

    @property
    def fit_mode(self) -> FitMode:
        return self._fit

    def zoom_in(self) -> None:
        self.set_scale(self._scale * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_scale(self._scale / ZOOM_STEP)

    def set_scale(self, scale: float) -> None:
        """Zoom to `scale` (leaves fit mode), keeping the view centre where it was."""
        self._fit = "free"
        self._set_transform(scale)

    def fit_width(self) -> None:
        self._fit = "width"
        self._apply_fit()

    def fit_page(self) -> None:
        self._fit = "page"
        self._apply_fit()

    def rotate_clockwise(self) -> None:
        """Turn the page a quarter turn; a fitted page is fitted again."""
        self._rotation = (self._rotation + 90) % 360
        if self._fit == "free":
            self._set_transform(self._scale)
        else:
            self._apply_fit()
        if self._zone is not None:
            self.show_zone(self._zone)

    def pan(self, dx: float, dy: float) -> None:
        """Scroll by fractions of the viewport (0.25 = a quarter of its width/height)."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx * self.viewport().width()))
        v.setValue(v.value() + round(dy * self.viewport().height()))

    def visible_page_rect(self) -> QRectF:
        """The part of the scene the viewport shows, in page pixels."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def _rotated_page_size(self) -> tuple[float, float]:
        page = self._page_item.page
        if page is None:
            return (1.0, 1.0)
        if self._rotation in (90, 270):
            return (float(page.height), float(page.width))
        return (float(page.width), float(page.height))

    def _apply_fit(self) -> None:
        if self._page_item.page is None or self._fit == "free":
            self._set_transform(self._scale)
            return
        width, height = self._rotated_page_size()
        viewport = self.viewport().rect()
        margin = float(FIT_MARGIN)
        sx = max(1.0, viewport.width() - 2 * margin) / width
        if self._fit == "width":
            scale = sx
        else:
            scale = min(sx, max(1.0, viewport.height() - 2 * margin) / height)
        self._set_transform(scale)

    def _set_transform(self, scale: float) -> None:
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        changed = abs(scale - self._scale) > 1e-9
        self._scale = scale
        self.setTransform(QTransform().rotate(self._rotation).scale(scale, scale))
        if changed:
            self.zoom_changed.emit(scale)

    def _update_scene_rect(self) -> None:
        page = self._page_item.page
        rect = QRectF(0, 0, page.width, page.height) if page is not None else QRectF(0, 0, 1, 1)
        self._scene.setSceneRect(rect)

    # --- Qt overrides --------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._placeholder.setGeometry(self.viewport().rect())
        if event.size().width() != event.oldSize().width():
            self.fit_width_changed.emit(self.fit_width_pixels())
        if self._fit != "free":
            self._apply_fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                anchor = self.transformationAnchor()
                self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
                self.set_scale(self._scale * (ZOOM_STEP**steps))
                self.setTransformationAnchor(anchor)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        handler = self.key_handlers().get(self._keymap.action_for(event) or "")
        if handler is not None:
            handler()
            event.accept()
            return
        super().keyPressEvent(event)

    def key_handlers(self) -> dict[str, Callable[[], object]]:
        """Action name -> slot, for this view's own keys and the window's shortcuts."""
        return {
            keys.ZOOM_IN: self.zoom_in,
            keys.ZOOM_OUT: self.zoom_out,
            keys.FIT_WIDTH: self.fit_width,
            keys.FIT_PAGE: self.fit_page,
            keys.ROTATE: self.rotate_clockwise,
            keys.PAN_UP: lambda: self.pan(0, -0.25),
            keys.PAN_DOWN: lambda: self.pan(0, 0.25),
            keys.PAN_LEFT: lambda: self.pan(-0.25, 0),
            keys.PAN_RIGHT: lambda: self.pan(0.25, 0),
        }

