"""UI fixtures: the styled application, QSettings in the test's folder, a fake actor, pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from tests.ui.synthetic import SyntheticPage, draw_form_page
from ui import runner
from ui.app import make_application
from workstation.resources import sample_template_paths
from workstation.templates import FormTemplate, load_template


@dataclass(frozen=True)
class FakeActor:
    username: str
    role: str
    display_name: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)


@pytest.fixture(autouse=True)
def styled_app(qapp: QApplication, tmp_path: Path) -> Iterator[QApplication]:
    """The test QApplication set up like the real one, with QSettings kept in tmp_path."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    app = make_application()
    yield app
    runner.wait_for_background(10_000)


@pytest.fixture
def keyer() -> FakeActor:
    return FakeActor("asha", "keyer", "Asha Rao")


@pytest.fixture(scope="session")
def templates() -> dict[str, FormTemplate]:
    return {path.stem: load_template(path) for path in sample_template_paths()}


@pytest.fixture(scope="session")
def cms1500(templates: dict[str, FormTemplate]) -> FormTemplate:
    return templates["cms1500"]


@pytest.fixture(scope="session")
def claim_page(cms1500: FormTemplate) -> SyntheticPage:
    return draw_form_page(cms1500, 1275, 1650)
