"""The installed Qt binding survives a day of keying's worth of calls.

PySide6 6.12.0 on CPython 3.11 drops a reference to None on every void Qt call (and to True on
every signal emission), so the process aborts after a few thousand calls; pyproject.toml keeps
it out. This test fails if a binding with that defect is ever installed again.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_many_void_qt_calls_and_signals_do_not_abort_the_program() -> None:
    script = textwrap.dedent(
        """
        import os
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QObject, Signal
        from PySide6.QtWidgets import QApplication, QLabel
        app = QApplication([])
        class Pinger(QObject):
            pinged = Signal()
        pinger = Pinger()
        label = QLabel()
        for i in range(200_000):
            label.setText("x")
            pinger.pinged.emit()
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
