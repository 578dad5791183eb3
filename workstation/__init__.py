"""Keying Workstation core: everything that works without Qt.

The UI package (`ui`) builds on this; nothing here imports PySide6 or `ui`.
"""

__version__ = "0.1.0"
