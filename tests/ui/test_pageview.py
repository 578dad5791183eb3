from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from tests.ui.synthetic import SyntheticPage
from ui.pageimage import PreparedPage
from ui.pageview import PageViewWidget
from workstation.templates import FormTemplate, Zone


@pytest.fixture
def view(qtbot, claim_page: SyntheticPage) -> PageViewWidget:
    widget = PageViewWidget()
    qtbot.addWidget(widget)
    widget.resize(600, 500)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_page(PreparedPage.from_page(claim_page))
    return widget


def _zone_on_screen(view: PageViewWidget, zone: Zone) -> bool:
    rect = view.zone_rect(zone)
    assert rect is not None
    polygon = view.mapFromScene(rect)
    return view.viewport().rect().contains(polygon.boundingRect())


def test_prepared_page_wraps_the_bytes_without_copying(claim_page: SyntheticPage) -> None:
    page = PreparedPage.from_page(claim_page)
    assert (page.image.width(), page.image.height()) == (claim_page.width, claim_page.height)
    assert page.image.format() == QImage.Format.Format_Grayscale8
    assert page.pixels is claim_page.pixels
    assert page.image.pixelColor(0, 0).value() == claim_page.pixels[0]
    assert [round(scale, 2) for scale, _ in page.levels] == [0.5, 0.25]
    image, scale = page.image_for_scale(0.3)
    assert scale == 0.5 and image.width() == round(claim_page.width * 0.5)
    assert page.image_for_scale(0.8)[1] == 1.0


def test_too_few_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        PreparedPage.from_pixels(100, 100, b"\xff" * 99)


def test_starts_fitted_to_width(view: PageViewWidget, claim_page: SyntheticPage) -> None:
    assert view.fit_mode == "width"
    shown = view.mapFromScene(view.sceneRect()).boundingRect()
    assert abs(shown.width() - (view.viewport().width() - 16)) <= 2


def test_a_repaint_of_the_page_paints_the_view_alone_with_its_background_beside_the_page(
        qtbot, claim_page: SyntheticPage) -> None:
    pane = QWidget()
    qtbot.addWidget(pane)
    view = PageViewWidget(pane)
    QVBoxLayout(pane).addWidget(view)
    pane.resize(600, 500)
    pane.show()
    qtbot.waitExposed(pane)
    view.set_page(PreparedPage.from_page(claim_page))
    QApplication.processEvents()
    painted: list[QObject] = []

    class Watch(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
            if event.type() == QEvent.Type.Paint:
                painted.append(watched)
            return False

    watch = Watch()
    for widget in (pane, view, view.viewport()):
        widget.installEventFilter(watch)
    view.viewport().update()
    QApplication.processEvents()
    assert painted == [view.viewport()]  # nothing painted behind it first
    shot = pane.grab().toImage()
    left = view.mapTo(pane, QPoint(2, view.viewport().height() // 2))
    assert shot.pixelColor(left) == QColor(0x5F, 0x66, 0x70)  # the margin beside the page


def test_zoom_keys_change_the_transform(qtbot, view: PageViewWidget) -> None:
    start = view.transform().m11()
    with qtbot.waitSignal(view.zoom_changed):
        qtbot.keyClick(view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.transform().m11() == pytest.approx(start * 1.25)
    assert view.fit_mode == "free"
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.transform().m11() == pytest.approx(start / 1.25)
    # Ctrl++ as typed on a US keyboard (Shift held) zooms in too.
    qtbot.keyClick(view, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert view.transform().m11() == pytest.approx(start)


def test_ctrl_wheel_zooms_and_plain_wheel_does_not(qtbot, view: PageViewWidget) -> None:
    from PySide6.QtGui import QWheelEvent

    start = view.scale_factor

    def wheel(modifiers: Qt.KeyboardModifier) -> None:
        centre = QPointF(view.viewport().rect().center())
        event = QWheelEvent(
            centre, view.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120),
            Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False,
        )
        view.wheelEvent(event)

    wheel(Qt.KeyboardModifier.NoModifier)
    assert view.scale_factor == start
    wheel(Qt.KeyboardModifier.ControlModifier)
    assert view.scale_factor == pytest.approx(start * 1.25)


def test_fit_page_shows_the_whole_page(qtbot, view: PageViewWidget) -> None:
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert view.fit_mode == "page"
    shown = view.mapFromScene(view.sceneRect()).boundingRect()
    assert view.viewport().rect().contains(shown)
    qtbot.keyClick(view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert view.fit_mode == "width"


def test_rotate_turns_the_page_a_quarter(qtbot, view: PageViewWidget, claim_page: SyntheticPage) -> None:
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert view.rotation == 90
    # Turned clockwise: the page's left edge is now at the top, its top edge on the right.
    left_edge = view.mapFromScene(QPointF(0, claim_page.height / 2))
    right_edge = view.mapFromScene(QPointF(claim_page.width, claim_page.height / 2))
    top_edge = view.mapFromScene(QPointF(claim_page.width / 2, 0))
    bottom_edge = view.mapFromScene(QPointF(claim_page.width / 2, claim_page.height))
    assert left_edge.y() < right_edge.y() and left_edge.x() == right_edge.x()
    assert top_edge.x() > bottom_edge.x()
    transform = view.transform()
    assert transform.m11() == pytest.approx(0, abs=1e-9) and transform.m12() > 0
    shown = view.mapFromScene(view.sceneRect()).boundingRect()
    assert abs(shown.width() - (view.viewport().width() - 16)) <= 2  # still fitted to width
    for _ in range(3):
        view.rotate_clockwise()
    assert view.rotation == 0


def test_show_zone_scrolls_the_zone_into_the_middle(view: PageViewWidget, cms1500: FormTemplate) -> None:
    view.set_scale(1.5)
    low = cms1500.zone("signature_date")
    assert low is not None
    assert not _zone_on_screen(view, low)
    view.show_zone(low)
    assert _zone_on_screen(view, low)
    assert view.scale_factor == pytest.approx(1.5)  # zoom kept
    centre = view.mapFromScene(view.zone_rect(low).center())
    middle = view.viewport().rect().center()
    assert abs(centre.y() - middle.y()) <= 2
    # A line-item zone further down the section, after rotation too.
    view.rotate_clockwise()
    row3 = cms1500.zone("lines[3].charge")
    view.show_zone(row3)
    assert _zone_on_screen(view, row3)


def test_zone_highlight_follows_the_page_size(view: PageViewWidget, claim_page: SyntheticPage) -> None:
    zone = Zone(1, 0.5, 0.5, 0.25, 0.1)
    view.set_zone(zone)
    rect = view.zone_rect(zone)
    assert rect.center().x() == pytest.approx(claim_page.width * 0.625, abs=1)
    assert rect.center().y() == pytest.approx(claim_page.height * 0.55, abs=1)
    assert view.zone == zone
    view.set_zone(None)
    assert view.zone is None


def test_show_error_replaces_the_page_with_a_sentence(view: PageViewWidget, claim_page: SyntheticPage) -> None:
    view.show_error("The file scan_0042.tif is damaged.")
    assert "scan_0042.tif is damaged" in view.error_text
    assert view.page is None
    view.set_page(PreparedPage.from_page(claim_page))
    assert view.error_text == ""
    assert view.page is not None


def test_a_new_page_reuses_the_scene(view: PageViewWidget, claim_page: SyntheticPage) -> None:
    scene = view.scene()
    items = set(scene.items())
    view.set_page(claim_page)  # a plain (width, height, pixels) page works too
    view.set_page(PreparedPage.from_page(claim_page))
    assert view.scene() is scene
    assert set(scene.items()) == items


def test_painting_a_page_draws_its_pixels(view: PageViewWidget) -> None:
    dark = PreparedPage.from_pixels(200, 100, b"\x00" * 20_000)
    view.set_page(dark)
    view.fit_page()
    grab = view.grab().toImage()
    centre = view.mapFromScene(QPointF(100, 50))
    assert grab.pixelColor(centre).value() < 20


def test_a_level_made_for_the_fitted_width_is_drawn_as_it_is(qtbot) -> None:
    """The decoder's display level is copied to the screen unscaled; any other scale draws from
    the other levels. Told apart here by giving the display level its own grey."""
    view = PageViewWidget()
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.show()
    qtbot.waitExposed(view)
    width, height = 2000, 2800
    full = QImage(width, height, QImage.Format.Format_Grayscale8)
    full.fill(200)
    display_width = view.fit_width_pixels()
    display = QImage(display_width, round(height * display_width / width), QImage.Format.Format_Grayscale8)
    display.fill(90)
    half = full.scaled(width // 2, height // 2)
    page = PreparedPage(width, height, full, ((0.5, half), (display_width / width, display)))
    view.set_page(page)
    assert view.transform().m11() == pytest.approx(display_width / width)
    middle = view.viewport().rect().center()
    assert view.viewport().grab().toImage().pixelColor(middle).value() == 90  # the display level, 1:1
    view.zoom_in()
    assert view.viewport().grab().toImage().pixelColor(middle).value() == 200  # scaled from the half level


def test_the_page_tools_say_where_without_laying_the_strip_out_again(qtbot) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from tests.ui.events import EventCounter

    from ui import keys
    from ui.pagetools import PageToolsWidget

    tools = PageToolsWidget({keys.ZOOM_IN: lambda: None, keys.REPORT_PAGE: lambda: None})
    qtbot.addWidget(tools)
    tools.resize(420, 32)
    tools.show()
    tools.set_where("scan00001.tif \u00b7 page 1 of 1")
    qtbot.wait(50)

    layouts = EventCounter(QEvent.Type.LayoutRequest).watch(tools)
    where = tools.where
    tools.set_where("a-much-longer-scan-name-from-the-import-folder-000002.tif \u00b7 page 2 of 3")
    QApplication.processEvents()
    assert layouts.count == 0  # a new document's name moves nothing
    assert where.toolTip() == where.text() and where.text().endswith("page 2 of 3")
    shown = where.shown_text()
    assert "\u2026" in shown and shown.endswith("of 3")  # cut in the middle, the page still said
    assert where.fontMetrics().horizontalAdvance(shown) <= where.width()
    assert tools.width() == 420 and where.geometry().right() < tools.buttons[keys.REPORT_PAGE].geometry().left()
