"""The accounts table of the Administration page: one thin model over the core's `UserRow`s.

A thin model (house rule 7): a list of row snapshots from `auth.list_users`, four columns, a
model reset when new rows come. Sorting goes through a `QSortFilterProxyModel` on `SortRole`
(case-insensitive text). A lock is shown only while it lasts: `now` is when the rows were read.
Times are this computer's (it is a desktop) and say so; the state's tooltip adds the date and
UTC, which `workstation users list` prints.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from workstation.auth import UserRow, account_state, clock, lock_end
from workstation.models import utcnow

SortRole = Qt.ItemDataRole.UserRole + 1  # lower-cased text, for sorting
UsernameRole = Qt.ItemDataRole.UserRole + 2  # the row's user name, in every column

USERNAME, DISPLAY_NAME, ROLE, STATE = range(4)
HEADERS = ("User name", "Display name", "Role", "State")

LOCAL_TIME = "local time"
_STATE_COLOURS = {"disabled": QColor("#8a919c"), "locked": QColor("#b45309")}

AnyIndex = QModelIndex | QPersistentModelIndex
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def state_tooltip(row: UserRow, now: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """The state cell's tooltip: while a lockout lasts, when it ends with its date, here and in UTC."""
    if not row.active:
        return "Disabled: this account cannot log in. Enable gives it back."
    end = lock_end(row, now)
    if end is None:
        return "Active: this account may log in."
    return (f"Locked after too many wrong passwords until {clock(end, tz)} {LOCAL_TIME} "
            f"({clock(end, dt.timezone.utc)} UTC). Reset password unlocks it now.")


class UsersTableModel(QAbstractTableModel):
    """Shows the accounts `auth.list_users` returned; `set_rows` replaces them (a model reset).

    Signals: the standard model signals only.
    """

    def __init__(self, parent: QObject | None = None, *, tz: dt.tzinfo | None = None) -> None:
        """`tz`: the time zone times are shown in; None is this computer's."""
        super().__init__(parent)
        self._tz = tz
        self._rows: list[UserRow] = []
        self._texts: list[tuple[str, str, str, str]] = []
        self._tooltips: list[str] = []

    def set_rows(self, rows: Sequence[UserRow], now: dt.datetime | None = None) -> None:
        now = now or utcnow()
        self.beginResetModel()
        self._rows = list(rows)
        self._texts = [(r.username, r.display_name, r.role, account_state(r, now, self._tz, LOCAL_TIME))
                       for r in self._rows]
        self._tooltips = [state_tooltip(r, now, self._tz) for r in self._rows]
        self.endResetModel()

    @property
    def rows(self) -> tuple[UserRow, ...]:
        return tuple(self._rows)

    def row_of(self, username: str) -> int:
        """The source row of `username`, -1 when it is not shown."""
        for i, row in enumerate(self._rows):
            if row.username == username:
                return i
        return -1

    def user(self, username: str) -> UserRow | None:
        i = self.row_of(username)
        return self._rows[i] if i >= 0 else None

    def state_of(self, username: str) -> str:
        i = self.row_of(username)
        return self._texts[i][STATE] if i >= 0 else ""

    # --- Qt overrides ----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        return 0 if parent.isValid() else len(HEADERS)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        text = self._texts[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == STATE:
            return self._tooltips[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text
        if role == SortRole:
            return text.casefold()
        if role == UsernameRole:
            return self._rows[index.row()].username
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATE:
            return _STATE_COLOURS.get(text.split(" ", 1)[0])
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt override)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None
