from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ui import crash
from workstation.errors import DatabaseUnavailable, KnownError
from workstation.logsetup import configure_logging


@pytest.fixture
def shown(monkeypatch) -> dict[str, list]:
    """Replace both dialogs' ask() and record what they were asked to show."""
    record: dict[str, list] = {"known": [], "crash": []}
    monkeypatch.setattr(crash.KnownErrorDialog, "ask", classmethod(lambda cls, error, parent=None: record["known"].append(error)))
    monkeypatch.setattr(
        crash.CrashDialog, "ask", classmethod(lambda cls, error, log_file, parent=None: record["crash"].append((error, log_file)))
    )
    return record


def _raise(error: BaseException) -> None:
    try:
        raise error
    except BaseException as exc:
        crash.handle_exception(type(exc), exc, exc.__traceback__)


def test_a_known_error_is_a_message_not_a_crash(shown) -> None:
    _raise(DatabaseUnavailable("The central database cannot be reached.", "Check the network cable."))
    assert len(shown["known"]) == 1 and shown["crash"] == []
    assert shown["known"][0].message == "The central database cannot be reached."


def test_a_bug_gets_the_crash_dialog_with_the_log_path(shown, data_dir: Path) -> None:
    log_file = configure_logging(data_dir / "logs")
    _raise(ValueError("unexpected"))
    assert shown["known"] == []
    error, reported = shown["crash"][0]
    assert isinstance(error, ValueError) and reported == log_file
    assert "ValueError: unexpected" in log_file.read_text(encoding="utf-8")


def test_known_error_dialog_text_is_the_sentence_and_hint(qtbot) -> None:
    dialog = crash.KnownErrorDialog(KnownError("Page 3 cannot be read.", "Ask for a rescan."))
    qtbot.addWidget(dialog)
    assert dialog.text() == "Page 3 cannot be read."
    assert dialog.informativeText() == "Ask for a rescan."
    assert dialog.detailedText() == ""


def test_crash_dialog_names_the_log_file_and_keeps_the_traceback_folded(qtbot, tmp_path: Path) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        error = exc
    dialog = crash.CrashDialog(error, tmp_path / "workstation.log")
    qtbot.addWidget(dialog)
    assert str(tmp_path / "workstation.log") in dialog.informativeText()
    assert "Traceback" not in dialog.text() and "Traceback" not in dialog.informativeText()
    assert "RuntimeError: boom" in dialog.detailedText()


def test_install_excepthook_installs_once(monkeypatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    crash.install_excepthook()
    assert sys.excepthook is crash.handle_exception
    crash.install_excepthook()
    assert sys.excepthook is crash.handle_exception

