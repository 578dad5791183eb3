"""The Qt part of `workstation --self-test`: the platform plugin loads and can draw."""

from __future__ import annotations


def check_qt() -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter

    app = QGuiApplication.instance() or QGuiApplication([])
    image = QImage(64, 64, QImage.Format.Format_Grayscale8)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.drawText(4, 40, "ok")
    painter.end()
    return f"PySide6 {pyside_version}, platform {app.platformName()}"
