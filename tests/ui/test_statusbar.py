from __future__ import annotations

from PySide6.QtGui import QColor

from ui.statusbar import FAILED, SAVED, SAVING, StatusBarWidget


def test_parts_stay_hidden_until_set(qtbot) -> None:
    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    bar.show()
    labels = [bar.document_label, bar.page_label, bar.rate_label, bar.fields_label, bar.save_label, bar.connection_label]
    assert not any(label.isVisible() for label in labels)
    bar.set_connection(True)
    assert bar.connection_label.isVisible() and bar.connection_label.text() == "Online"
    assert not bar.rate_label.isVisible()


def test_status_texts(qtbot) -> None:
    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    bar.show()
    bar.set_document(3, 25)
    bar.set_page(2, 4)
    bar.set_rate(11839.6)
    bar.set_fields_today(1412)
    assert bar.document_label.text() == "Document 3 of 25"
    assert bar.page_label.text() == "Page 2 of 4"
    assert bar.rate_label.text() == "11,840 keys/h"
    assert bar.fields_label.text() == "1,412 fields today"
    bar.set_rate(None)
    assert not bar.rate_label.isVisible()


def test_save_state_and_connection(qtbot) -> None:
    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    bar.resize(900, 30)
    bar.show()
    label = bar.save_label

    def colours() -> set[str]:  # what is on screen: the text's colour among them
        shot = label.grab().toImage()
        return {shot.pixelColor(x, y).name() for x in range(shot.width()) for y in range(shot.height())}

    bar.set_save_state(SAVING)
    assert label.isVisible() and label.text() == "Saving\u2026" and label.state == SAVING
    assert "#6b7280" in colours() and "#15803d" not in colours()
    size = label.size()
    bar.set_save_state(SAVED)
    assert label.text() == "Saved \u2713" and "#15803d" in colours() and "#6b7280" not in colours()
    bar.set_save_state(FAILED)
    assert label.text() == "Not saved!" and {"#ffffff", "#b42318"} <= colours()
    # Its size never changes with its text (so the status bar is not laid out again).
    assert label.size() == size and label.minimumSize() == label.maximumSize()
    shot = label.grab().toImage()
    assert shot.pixelColor(3, shot.height() // 2) == QColor("#b42318")  # white on red
    bar.set_save_state(SAVED)
    shot = label.grab().toImage()
    assert shot.pixelColor(3, shot.height() // 2) != QColor("#b42318")
    bar.set_connection(False, 3)
    assert bar.connection_label.text() == "Offline \u00b7 3 to send"
    assert bar.connection_label.property("kind") == "offline"


def test_counts_that_change_on_every_field_do_not_lay_the_bar_out_again(qtbot) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from tests.ui.events import EventCounter

    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    bar.resize(900, 30)
    bar.show()
    bar.set_document(9, 25)
    bar.set_fields_today(98)
    bar.set_rate(9_500)
    qtbot.wait(50)  # shown and laid out

    layouts = EventCounter(QEvent.Type.LayoutRequest).watch(bar)
    label = bar.fields_label
    size = label.size()
    bar.set_fields_today(99)
    bar.set_rate(9_480)
    bar.set_document(8, 25)
    QApplication.processEvents()
    assert layouts.count == 0 and label.size() == size
    assert (label.text(), bar.rate_label.text(), bar.document_label.text()) == (
        "99 fields today", "9,480 keys/h", "Document 8 of 25")
    bar.set_fields_today(100)  # wider: the label grows, once, to show all of it
    QApplication.processEvents()
    assert label.width() > size.width() and label.width() >= label.sizeHint().width()
    assert layouts.count == 1
    bar.set_fields_today(7)  # narrower: the label keeps its width, nothing moves
    QApplication.processEvents()
    assert label.width() > size.width() and layouts.count == 1


def test_a_new_count_or_save_state_repaints_its_label_alone(qtbot) -> None:
    """The labels that change on every field paint their own background: the status bar (and
    the window behind it) are not repainted for them, and what shows is seamless."""
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtWidgets import QApplication

    from tests.ui.events import EventCounter

    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    bar.resize(900, 30)
    bar.show()
    qtbot.waitExposed(bar)
    bar.set_fields_today(888)  # as wide as the counts below get: the label keeps its size
    bar.set_save_state(SAVED)
    qtbot.wait(50)
    paints = EventCounter(QEvent.Type.Paint).watch(bar)
    for count in (99, 100, 101):
        bar.set_save_state(SAVING)
        QApplication.processEvents()
        bar.set_fields_today(count)
        bar.set_save_state(SAVED)
        QApplication.processEvents()
    assert paints.count == 0 and bar.fields_label.text() == "101 fields today"
    # What the screen shows: the labels' background is the bar's, up to their edges.
    shot = QApplication.primaryScreen().grabWindow(bar.winId()).toImage()
    behind = shot.pixelColor(2, bar.height() // 2)
    for label in (bar.fields_label, bar.save_label):
        corner = label.mapTo(bar, QPoint(1, 1))
        assert shot.pixelColor(corner) == behind, label.objectName()
