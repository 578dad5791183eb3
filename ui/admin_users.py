"""The administrator's first page: the user accounts of the central database.

A table of accounts (user name, display name, role, state) and the changes the core offers:
add an account, reset a password (which unlocks the account), change a role, disable or enable.
Every call is a core service in `workstation.auth`, run off the GUI thread (`ui.runner`); the
core checks the role and refuses what it must (disabling yourself or the last active admin,
taking admin from yourself), and the page shows the refusal as its sentence. Disabling asks
first, unless the core's `disable_refusal` already says no. After each change the table is read
again.

Form templates, batches and exports stay with the `workstation` commands; the page says so.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.qss import set_style_property
from ui.account_dialogs import AddAccountDialog, DisableAccountDialog, PasswordDialog, RoleDialog
from ui.login import core_actor
from ui.runner import error_sentence, run_in_background
from ui.users_model import DISPLAY_NAME, ROLE, STATE, USERNAME, SortRole, UsernameRole, UsersTableModel
from workstation import auth
from workstation.errors import KnownError
from workstation.models import ROLES, utcnow
from workstation.store import Store

log = logging.getLogger(__name__)

CentralProvider = Callable[[], Store]
AnyDialog = TypeVar("AnyDialog", bound=QDialog)

TITLE = "Administration"
COMMANDS_NOTE = ("Form templates and batches come in with <code>workstation import</code>, final values go out "
                 "with <code>workstation export</code>; <code>workstation --help</code> lists all commands.")
BUG_TEXT = "The accounts could not be changed because of an error in the program; it was logged."


def _read_accounts(central: CentralProvider, actor: auth.Actor) -> tuple[list[auth.UserRow], dt.datetime]:
    """Background: the accounts, and when they were read (a lock is shown while it lasts)."""
    return auth.list_users(central(), actor), utcnow()


class AdminUsersWidget(QWidget):
    """The accounts table with Add, Reset password, Change role and Disable/Enable.

    Signals:
        refreshed(rows): the table now shows these `auth.UserRow`s.
        refresh_failed(message): the accounts could not be read; the page says why.
        account_changed(username): the core made a change to this account (a refresh follows).
        change_refused(message): the core refused a change made on the page; the page says why.
        dialog_opened(dialog): an account dialog or the Disable question was opened (tests and
            the window can reach it).
    """

    refreshed = Signal(list)
    refresh_failed = Signal(str)
    account_changed = Signal(str)
    change_refused = Signal(str)
    dialog_opened = Signal(object)

    def __init__(self, actor: object, central: CentralProvider, parent: QWidget | None = None, *,
                 roles: Sequence[str] = ROLES) -> None:
        super().__init__(parent)
        self.setObjectName("adminUsersPage")
        self.actor = core_actor(actor)
        self._central = central
        self._roles = tuple(roles)
        self._loading = False
        self._again = False
        self._changing = False
        self._shown_once = False
        self._read_error = False
        self.dialog: QDialog | None = None

        title = QLabel(TITLE)
        title.setObjectName("adminTitle")
        subtitle = QLabel("User accounts: who may log in, and with which role.")
        subtitle.setObjectName("adminSubtitle")
        self.message_label = QLabel()
        self.message_label.setObjectName("adminMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model = UsersTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SortRole)
        self.view = QTableView()
        self.view.setObjectName("adminUsers")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(USERNAME, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setTabKeyNavigation(False)  # Tab leaves the table for the buttons
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(28)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setMinimumSectionSize(90)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in (USERNAME, DISPLAY_NAME, ROLE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)  # the state column takes the rest
        self.view.setAccessibleName("User accounts")
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)

        self.add_button = QPushButton("&Add account…")
        self.add_button.setObjectName("adminAdd")
        self.add_button.setToolTip("Add an account (Ins)")
        self.add_button.clicked.connect(self.open_add_dialog)
        self.password_button = QPushButton("Reset &password…")
        self.password_button.setObjectName("adminPassword")
        self.password_button.setToolTip("Set a new password for the selected account; this also unlocks it")
        self.password_button.clicked.connect(self.open_password_dialog)
        self.role_button = QPushButton("Change &role…")
        self.role_button.setObjectName("adminRole")
        self.role_button.clicked.connect(self.open_role_dialog)
        self.active_button = QPushButton("&Disable")
        self.active_button.setObjectName("adminActive")
        self.active_button.clicked.connect(self.toggle_active)
        self.refresh_button = QPushButton("Refresh (F5)")
        self.refresh_button.setObjectName("adminRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (self.add_button, self.password_button, self.role_button, self.active_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)

        note = QLabel(COMMANDS_NOTE)
        note.setObjectName("adminNote")
        note.setTextFormat(Qt.TextFormat.RichText)
        note.setWordWrap(True)
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note_label = note

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 14)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addWidget(self.message_label)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addSpacing(4)
        layout.addWidget(note)

        self.setTabOrder(self.view, self.add_button)
        self.setTabOrder(self.add_button, self.password_button)
        self.setTabOrder(self.password_button, self.role_button)
        self.setTabOrder(self.role_button, self.active_button)
        self.setTabOrder(self.active_button, self.refresh_button)
        self.setFocusProxy(self.view)

        for keys, slot in (("F5", self.refresh), ("Ins", self.open_add_dialog)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.show_message("Reading the accounts…", error=False)
        self._update_buttons()

    # --- what the page shows -------------------------------------------------------------------

    @property
    def message(self) -> str:
        return self.message_label.text()

    @property
    def message_is_error(self) -> bool:
        return bool(self.message_label.property("error"))

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        set_style_property(self.message_label, "error", error and bool(text))

    def selected_username(self) -> str | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return str(rows[0].data(UsernameRole))

    def select_user(self, username: str) -> bool:
        """Select `username`'s row (False when it is not shown)."""
        source_row = self.model.row_of(username)
        if source_row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(source_row, USERNAME))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)
        return True

    def help_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """F1: the page's keys (the main window lists them with its own)."""
        return [("Accounts", [
            ("Ins", "Add an account"),
            ("Alt+P", "Reset the selected account's password (also unlocks it)"),
            ("Alt+R", "Change the selected account's role"),
            ("Alt+D / Alt+E", "Disable (asks first; Enter cancels) / enable the selected account"),
            ("F5", "Read the accounts again"),
            ("Tab", "Move between the table and the buttons"),
        ])]

    # --- reading --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the accounts again in the background (one read at a time; one more is queued)."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        central, actor = self._central, self.actor
        run_in_background(lambda: _read_accounts(central, actor), self._on_read_done, self._on_read_failed, owner=self)

    def _on_read_done(self, result: tuple[list[auth.UserRow], dt.datetime]) -> None:
        self._loading = False
        rows, now = result
        keep = self.selected_username()
        had_focus = self.view.hasFocus()
        self.model.set_rows(rows, now)
        if not (keep and self.select_user(keep)) and rows:
            self.select_user(self.proxy.index(0, USERNAME).data(UsernameRole))
        if had_focus:
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        if self._read_error or self.message == "Reading the accounts…":
            self.show_message("")
        self._read_error = False
        self._update_buttons()
        self.refreshed.emit(list(rows))
        if self._again:
            self._again = False
            self.refresh()

    def _on_read_failed(self, error: BaseException) -> None:
        self._loading = False
        self._again = False
        self._read_error = True
        message = error_sentence(error, "The accounts could not be read because of an error in the program; it was logged.")
        self.show_message(f"{message} (F5 tries again)" if isinstance(error, KnownError) else message, error=True)
        self._update_buttons()
        self.refresh_failed.emit(message)

    # --- changes ---------------------------------------------------------------------------------

    def open_add_dialog(self) -> AddAccountDialog | None:
        """The Add account dialog (window-modal); the table refreshes once it has added one."""
        if not self._can_change():
            return None
        central, actor = self._central, self.actor

        def add(username: str, display_name: str, role: str, password: str) -> None:
            auth.create_user(central(), actor, username, role, password, display_name=display_name)

        dialog = AddAccountDialog(add, self._roles, self)
        dialog.saved.connect(lambda name: self._on_changed(name, f"Added the account {name}."))
        return self._open(dialog)

    def open_password_dialog(self) -> PasswordDialog | None:
        """Reset the selected account's password (the core also unlocks it)."""
        username = self.selected_username()
        if username is None or not self._can_change():
            return None
        central, actor = self._central, self.actor

        def reset(name: str, password: str) -> None:
            auth.set_password(central(), actor, name, password)

        dialog = PasswordDialog(reset, username, self._who(username), self)
        dialog.saved.connect(lambda name: self._on_changed(name, f"{name} has a new password and is unlocked."))
        return self._open(dialog)

    def open_role_dialog(self) -> RoleDialog | None:
        """Change the selected account's role."""
        username = self.selected_username()
        row = self.model.user(username) if username else None
        if username is None or row is None or not self._can_change():
            return None
        central, actor = self._central, self.actor

        def change(name: str, role: str) -> None:
            auth.set_role(central(), actor, name, role)

        dialog = RoleDialog(change, username, self._who(username), row.role, self._roles, self)
        dialog.saved.connect(lambda name: self._on_changed(
            name, f"{name} now has the {dialog.role_combo.currentText()} role."))
        return self._open(dialog)

    def toggle_active(self) -> DisableAccountDialog | None:
        """Enable the selected account when it is disabled; else ask before disabling it (the
        question, window-modal, is returned), or say at once why the core would refuse."""
        username = self.selected_username()
        row = self.model.user(username) if username else None
        if username is None or row is None or not self._can_change():
            return None
        if not row.active:
            self._set_active(username, True)
            return None
        refusal = auth.disable_refusal(self.actor, row, self.model.rows)
        if refusal is not None:
            self._on_change_failed(refusal)
            return None
        dialog = DisableAccountDialog(username, self._who(username), self)
        dialog.confirmed.connect(lambda name: self._set_active(name, False))
        self._open(dialog)
        return dialog

    def _set_active(self, username: str, active: bool) -> None:
        central, actor = self._central, self.actor
        self._changing = True
        self._update_buttons()
        done = f"{username} is enabled and may log in." if active else f"{username} is disabled and can no longer log in."
        run_in_background(lambda: auth.set_active(central(), actor, username, active),
                          lambda _result: self._on_changed(username, done), self._on_change_failed, owner=self)

    def _open(self, dialog: AnyDialog) -> AnyDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()
        self.dialog_opened.emit(dialog)
        return dialog

    def _on_dialog_finished(self, _result: int) -> None:
        self.dialog = None
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_changed(self, username: str, text: str) -> None:
        self._changing = False
        self.show_message(text)
        self.account_changed.emit(username)
        self.refresh()

    def _on_change_failed(self, error: BaseException) -> None:
        self._changing = False
        message = error_sentence(error, BUG_TEXT)
        log.info("account change refused: %s", message)
        self.show_message(message, error=True)
        self._update_buttons()
        self.change_refused.emit(message)

    # --- helpers ---------------------------------------------------------------------------------

    def _can_change(self) -> bool:
        return not self._changing and self.dialog is None

    def _who(self, username: str) -> str:
        row = self.model.user(username)
        if row is None or not row.display_name or row.display_name == username:
            return username
        return f"{row.display_name} ({username})"

    def _update_buttons(self) -> None:
        username = self.selected_username()
        row = self.model.user(username) if username else None
        free = not self._changing
        self.add_button.setEnabled(free)
        for button in (self.password_button, self.role_button, self.active_button):
            button.setEnabled(free and row is not None)
        self.active_button.setText("&Enable" if row is not None and not row.active else "&Disable")

    def _on_selection_changed(self, *_args: object) -> None:
        self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()  # accounts may have changed meanwhile (another admin, `workstation users`)
        if not self._shown_once:
            self._shown_once = True
            self.view.setFocus(Qt.FocusReason.OtherFocusReason)


def make_admin_users(actor: object, ctx: object) -> AdminUsersWidget:
    """The page factory for ui/roles.py: ctx is the CliContext whose `central()` opens the database
    (on a pool thread; CliContext opens it once, under its own lock)."""
    return AdminUsersWidget(actor, getattr(ctx, "central"))
