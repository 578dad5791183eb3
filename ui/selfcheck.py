"""The Qt parts of `workstation --self-test`: the platform plugin loads, widgets draw, and every
module of the desktop application imports (pages are found by name, so a frozen build can miss
one, or a Qt module such as QtCharts that only a page uses)."""

from __future__ import annotations

import importlib
import pkgutil


def check_qt() -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QLabel

    existing = QGuiApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([])
    label = QLabel("Keying Workstation")
    label.resize(QSize(240, 40))
    picture = label.grab()
    label.deleteLater()
    if picture.isNull() or picture.width() < 240:
        raise RuntimeError("a widget could not be drawn")
    return f"PySide6 {pyside_version}, platform {app.platformName()}, a widget drawn"


def check_ui_modules() -> str:
    import ui

    names = ["ui"] + [m.name for m in pkgutil.walk_packages(ui.__path__, "ui.") if not m.name.endswith(".__main__")]
    for name in names:
        importlib.import_module(name)
    return f"{len(names)} modules of the desktop application"
