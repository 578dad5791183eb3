from __future__ import annotations

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
    bar.show()
    bar.set_save_state(SAVING)
    assert bar.save_label.text() == "Saving\u2026" and bar.save_label.property("kind") == SAVING
    bar.set_save_state(SAVED)
    assert bar.save_label.text() == "Saved \u2713"
    bar.set_save_state(FAILED)
    assert bar.save_label.property("kind") == FAILED
    bar.set_connection(False, 3)
    assert bar.connection_label.text() == "Offline \u00b7 3 to send"
    assert bar.connection_label.property("kind") == "offline"
