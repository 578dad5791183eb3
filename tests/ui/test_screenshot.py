"""A picture of the keying station built from the shell's widgets, to look at after a change.

The layout here is what the keying window is expected to be: the scan on the left, the
current field's snippet above the form on the right, the status bar below. The test asserts
what the picture must show; /tmp/ui_shell.png keeps a copy for a person to look at.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from tests.ui.synthetic import SAMPLE_VALUES, draw_form_page
from ui.formview import FormWidget
from ui.helpoverlay import HelpOverlayWidget
from ui.pageimage import PreparedPage
from ui.pageview import PageViewWidget
from ui.snippet import SnippetWidget
from ui.statusbar import SAVED, StatusBarWidget
from workstation.fields import Issue
from workstation.templates import FormTemplate

COPY = Path(tempfile.gettempdir(), "ui_shell.png")


class KeyingMockWindow(QMainWindow):
    """The widgets arranged as the keying window will arrange them."""

    def __init__(self, template: FormTemplate, page: PreparedPage) -> None:
        super().__init__()
        self.page_view = PageViewWidget()
        self.snippet = SnippetWidget()
        self.form = FormWidget(template, rows={"lines": 2})
        self.status = StatusBarWidget()
        caption = QLabel("CURRENT FIELD")
        caption.setObjectName("snippetCaption")

        right = QWidget()
        right.setObjectName("keyingSide")
        side = QVBoxLayout(right)
        side.setContentsMargins(10, 4, 10, 10)
        side.setSpacing(0)
        side.addWidget(caption)
        side.addWidget(self.snippet)
        side.addSpacing(10)
        side.addWidget(self.form, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.page_view)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([820, 560])
        self.setCentralWidget(splitter)
        self.setStatusBar(self.status)
        self.help_overlay = HelpOverlayWidget(self)

        self.page_view.set_page(page)
        self.snippet.set_page(page)


def _fill(window: KeyingMockWindow, template: FormTemplate) -> str:
    """Key the first fields as a keyer would have, stop in the middle of the first line item."""
    form = window.form
    done = ["insured_id", "patient_last_name", "patient_first_name", "patient_dob", "patient_sex",
            "patient_address", "patient_city", "patient_state", "patient_zip", "diagnosis_1"]
    for path in done:
        form.set_field_state(path, SAMPLE_VALUES[path], "", (), saved=True)
    form.set_field_state("diagnosis_2", "", "illegible", (), saved=True)
    form.set_field_state("lines[1].service_date", "02/14/24", "", (), saved=True)
    form.set_field_state("lines[1].place", "1", "", (Issue("fixed_length", "Needs exactly 2 characters."),), saved=True, overridden=True)
    current = "lines[1].cpt"
    form.set_field_state(current, "992", "", (Issue("fixed_length", "Needs exactly 5 characters (3 so far)."),), saved=False)
    zone = template.zone(current)
    window.page_view.show_zone(zone)
    window.snippet.set_zone(zone)
    form.focus_path(current)
    status = window.status
    status.set_document(3, 25)
    status.set_page(1, 1)
    status.set_rate(11840)
    status.set_fields_today(412)
    status.set_save_state(SAVED)
    status.set_connection(False, 2)
    return current


def test_keying_station_screenshot(qtbot, tmp_path: Path, cms1500: FormTemplate) -> None:
    page = PreparedPage.from_page(draw_form_page(cms1500, 2550, 3300))
    window = KeyingMockWindow(cms1500, page)
    qtbot.addWidget(window)
    window.resize(1440, 900)
    window.show()
    qtbot.waitExposed(window)
    current = _fill(window, cms1500)
    window.page_view.fit_width()
    window.page_view.show_zone(cms1500.zone(current))
    qtbot.wait(50)

    shot = window.grab()
    target = tmp_path / "ui_shell.png"
    assert shot.save(str(target))
    shutil.copyfile(target, COPY)

    image = shot.toImage()
    assert (image.width(), image.height()) == (round(1440 * shot.devicePixelRatio()), round(900 * shot.devicePixelRatio()))
    # The zone is centred in the page view, and the snippet shows something dark (ink).
    zone_rect = window.page_view.zone_rect(cms1500.zone(current))
    centre = window.page_view.mapFromScene(zone_rect.center())
    assert window.page_view.viewport().rect().contains(centre)
    snippet = window.snippet.snippet_image()
    assert snippet is not None and snippet.width() > 200
    darkest = min(snippet.pixelColor(x, y).value() for x in range(0, snippet.width(), 3) for y in range(0, snippet.height(), 3))
    assert darkest < 100
    assert window.form.current_path == current

    window.help_overlay.open_overlay()
    qtbot.wait(20)
    help_shot = window.grab()
    assert help_shot.save(str(tmp_path / "ui_help.png"))
    shutil.copyfile(tmp_path / "ui_help.png", COPY.with_name("ui_help.png"))
    window.help_overlay.close_overlay()
    assert window.form.line_edit(current).hasFocus()
