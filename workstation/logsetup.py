"""Logging is configured once, at start: a rotating file in the workspace's log folder."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE_NAME = "workstation.log"
_configured: Path | None = None


def configure_logging(log_dir: Path, *, verbose: bool = False) -> Path:
    """Send log records to `log_dir/workstation.log` (rotated at 2 MB, 5 kept)."""
    global _configured
    log_file = log_dir / LOG_FILE_NAME
    if _configured == log_file:
        return log_file
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_workstation", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    file_handler._workstation = True  # type: ignore[attr-defined]
    root.addHandler(file_handler)
    if verbose:
        console = logging.StreamHandler()
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console._workstation = True  # type: ignore[attr-defined]
        root.addHandler(console)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    _configured = log_file
    return log_file


def current_log_file() -> Path | None:
    return _configured
