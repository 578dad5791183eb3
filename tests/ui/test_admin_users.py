"""The Administration page: accounts listed, added, reset, re-roled, disabled, and refusals said."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from ui import runner
from ui.account_dialogs import PASSWORDS_DIFFER, AddAccountDialog, DisableAccountDialog, PasswordDialog, RoleDialog
from ui.admin_users import AdminUsersWidget, make_admin_users
from ui.roles import build_window
from ui.users_model import ROLE, STATE, USERNAME, UsersTableModel
from workstation import auth
from workstation.cli.context import CliContext
from workstation.errors import AuthError, KnownError
from workstation.paths import Workspace
from workstation.store import Store


@pytest.fixture
def ctx(ws: Workspace) -> Iterator[CliContext]:
    context = CliContext(ws=ws, central_url=ws.embedded_central_url)
    yield context
    runner.wait_for_background(10_000)  # no read may still be using the database it closes
    context.close()


@pytest.fixture
def central(ctx: CliContext) -> Store:
    return ctx.central(create=True)


@pytest.fixture
def root(central: Store) -> auth.Actor:
    return auth.create_user(central, None, "root", "admin", "root-password", display_name="Rosa Admin")


@pytest.fixture
def asha(central: Store, root: auth.Actor) -> auth.Actor:
    return auth.create_user(central, root, "asha", "keyer", "asha-password", display_name="Asha Rao")


@pytest.fixture
def page(qtbot, ctx: CliContext, root: auth.Actor, asha: auth.Actor) -> AdminUsersWidget:  # type: ignore[no-untyped-def]
    widget = make_admin_users(root, ctx)
    qtbot.addWidget(widget)
    widget.resize(900, 520)
    with qtbot.waitSignal(widget.refreshed, timeout=15_000):
        widget.show()
    return widget


def cell(page: AdminUsersWidget, username: str, column: int) -> str:
    row = page.model.row_of(username)
    assert row >= 0, f"{username} is not in the table"
    return str(page.model.index(row, column).data())


def click_row(qtbot, page: AdminUsersWidget, username: str) -> None:  # type: ignore[no-untyped-def]
    index = page.proxy.mapFromSource(page.model.index(page.model.row_of(username), USERNAME))
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=page.view.visualRect(index).center())
    assert page.selected_username() == username


def type_into(qtbot, edit: QWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    edit.setFocus()
    qtbot.keyClicks(edit, text)


def accounts(central: Store, root: auth.Actor) -> dict[str, auth.UserRow]:
    return {row.username: row for row in auth.list_users(central, root)}


def test_an_added_account_is_listed_and_can_log_in(qtbot, page: AdminUsersWidget, central: Store, root: auth.Actor) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, AddAccountDialog) and dialog.isVisible()
    assert [dialog.role_combo.itemText(i) for i in range(dialog.role_combo.count())] == ["keyer", "qa", "supervisor", "admin"]
    type_into(qtbot, dialog.username_edit, "dana")
    type_into(qtbot, dialog.display_edit, "Dana Diaz")
    dialog.role_combo.setCurrentText("qa")
    type_into(qtbot, dialog.password_edit, "dana-secret-1")
    type_into(qtbot, dialog.repeat_edit, "dana-secret-1")
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        qtbot.keyClick(dialog.repeat_edit, Qt.Key.Key_Return)  # Enter saves
    assert page.dialog is None
    assert (cell(page, "dana", USERNAME), cell(page, "dana", 1), cell(page, "dana", ROLE), cell(page, "dana", STATE)) == (
        "dana", "Dana Diaz", "qa", "active")
    assert page.message == "Added the account dana." and not page.message_is_error
    dana = auth.authenticate(central, "dana", "dana-secret-1")
    assert (dana.role, dana.display_name) == ("qa", "Dana Diaz")


def test_a_too_short_password_shows_the_cores_message_and_adds_nothing(qtbot, page: AdminUsersWidget, central: Store,  # type: ignore[no-untyped-def]
                                                                        root: auth.Actor) -> None:
    dialog = page.open_add_dialog()
    assert isinstance(dialog, AddAccountDialog)
    assert dialog.rules_label.text() == auth.PASSWORD_RULES  # the rules are said before typing
    type_into(qtbot, dialog.username_edit, "dana")
    type_into(qtbot, dialog.password_edit, "short")
    type_into(qtbot, dialog.repeat_edit, "short")
    with qtbot.waitSignal(dialog.refused, timeout=15_000) as refused:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    with pytest.raises(KnownError) as core:
        auth.check_password_rules("short")
    assert refused.args == [str(core.value)] and dialog.message == str(core.value)
    assert "too short" in dialog.message and "Traceback" not in dialog.message
    assert dialog.isVisible() and page.dialog is dialog
    assert (dialog.username_edit.text(), dialog.password_edit.text(), dialog.repeat_edit.text()) == ("dana", "short", "short")
    assert dialog.save_button.isEnabled() and dialog.username_edit.isEnabled()
    assert "dana" not in accounts(central, root) and page.model.row_of("dana") == -1

    # Two different passwords are refused before the core is asked; the dialog keeps them too.
    dialog.password_edit.setText("long-enough-1")
    dialog.repeat_edit.setText("long-enough-2")
    with qtbot.waitSignal(dialog.refused) as refused:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert refused.args == [PASSWORDS_DIFFER] and dialog.isVisible()
    assert dialog.password_edit.text() == "long-enough-1"
    assert "dana" not in accounts(central, root)
    dialog.reject()
    assert page.dialog is None


def test_resetting_a_locked_accounts_password_unlocks_it(qtbot, page: AdminUsersWidget, central: Store,  # type: ignore[no-untyped-def]
                                                         root: auth.Actor) -> None:
    with pytest.raises(AuthError, match="locked"):
        auth.authenticate(central, "asha", "wrong-password", max_failures=1)
    locked_until = accounts(central, root)["asha"].locked_until
    assert locked_until is not None
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
    # This computer's time, said so (the date only shows when the lock ends on another day).
    state = cell(page, "asha", STATE)
    assert state.startswith("locked until ") and state.endswith(f"{locked_until.astimezone():%H:%M} local time")
    tooltip = page.model.index(page.model.row_of("asha"), STATE).data(Qt.ItemDataRole.ToolTipRole)
    assert f"until {locked_until.astimezone():%Y-%m-%d %H:%M} local time" in tooltip
    assert f"({locked_until.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC)" in tooltip

    click_row(qtbot, page, "asha")
    qtbot.mouseClick(page.password_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, PasswordDialog) and dialog.username == "asha" and "Asha Rao" in dialog.intro_label.text()
    type_into(qtbot, dialog.password_edit, "fresh-password")
    type_into(qtbot, dialog.repeat_edit, "fresh-password")
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        qtbot.keyClick(dialog.repeat_edit, Qt.Key.Key_Return)
    assert cell(page, "asha", STATE) == "active"
    assert accounts(central, root)["asha"].locked_until is None
    assert page.selected_username() == "asha"  # the selection survives the refresh
    assert auth.authenticate(central, "asha", "fresh-password").username == "asha"
    with pytest.raises(AuthError):
        auth.authenticate(central, "asha", "asha-password")


def test_a_role_is_changed_and_taking_admin_from_yourself_is_refused(qtbot, page: AdminUsersWidget, central: Store,  # type: ignore[no-untyped-def]
                                                                     root: auth.Actor) -> None:
    click_row(qtbot, page, "asha")
    qtbot.mouseClick(page.role_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert isinstance(dialog, RoleDialog) and dialog.role_combo.currentText() == "keyer"
    dialog.role_combo.setCurrentText("supervisor")
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert cell(page, "asha", ROLE) == "supervisor"
    assert accounts(central, root)["asha"].role == "supervisor"
    assert page.message == "asha now has the supervisor role."

    click_row(qtbot, page, "root")
    dialog = page.open_role_dialog()
    assert isinstance(dialog, RoleDialog) and dialog.role_combo.currentText() == "admin"
    dialog.role_combo.setCurrentText("keyer")
    with qtbot.waitSignal(dialog.refused, timeout=15_000) as refused:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert refused.args[0].startswith("You cannot take the admin role from yourself.")
    assert dialog.isVisible() and dialog.role_combo.currentText() == "keyer"
    assert accounts(central, root)["root"].role == "admin" and cell(page, "root", ROLE) == "admin"
    dialog.reject()


def closed(dialog: QWidget) -> bool:
    """The dialog is gone (deleted on close) or at least hidden."""
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def ask_to_disable(qtbot, page: AdminUsersWidget, username: str) -> DisableAccountDialog:  # type: ignore[no-untyped-def]
    """Select `username`, press Disable: the question, open and not answered yet."""
    click_row(qtbot, page, username)
    assert page.active_button.text() == "&Disable"
    with qtbot.waitSignal(page.dialog_opened) as opened:
        qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
    dialog = opened.args[0]
    assert isinstance(dialog, DisableAccountDialog) and dialog is page.dialog and dialog.isVisible()
    assert dialog.windowModality() == Qt.WindowModality.WindowModal
    return dialog


def test_disabling_asks_first_and_disable_in_the_question_disables(qtbot, page: AdminUsersWidget, central: Store,  # type: ignore[no-untyped-def]
                                                                   root: auth.Actor) -> None:
    dialog = ask_to_disable(qtbot, page, "asha")
    assert dialog.text() == "Disable asha?"
    assert dialog.informativeText().startswith("Asha Rao (asha) can no longer log in")
    assert "kept" in dialog.informativeText()
    assert dialog.defaultButton() is dialog.cancel_button and dialog.escapeButton() is dialog.cancel_button
    assert "&" not in dialog.disable_button.text()  # a second Alt+D by habit does not answer
    runner.wait_for_background(10_000)
    assert accounts(central, root)["asha"].active  # asking changes nothing

    # Keyboard only: the question opens on Cancel; Tab reaches Disable, Space presses it.
    assert dialog.focusWidget() is dialog.cancel_button
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.disable_button
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        qtbot.keyClick(dialog.disable_button, Qt.Key.Key_Space)
    assert page.dialog is None and closed(dialog)
    assert not accounts(central, root)["asha"].active
    assert cell(page, "asha", STATE) == "disabled"
    assert page.active_button.text() == "&Enable" and page.selected_username() == "asha"
    assert page.message == "asha is disabled and can no longer log in."
    with pytest.raises(AuthError, match="disabled"):
        auth.authenticate(central, "asha", "asha-password")

    # Enable asks nothing.
    with qtbot.assertNotEmitted(page.dialog_opened), qtbot.waitSignal(page.refreshed, timeout=15_000):
        qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
    assert page.dialog is None
    assert cell(page, "asha", STATE) == "active" and page.active_button.text() == "&Disable"
    assert auth.authenticate(central, "asha", "asha-password").username == "asha"


@pytest.mark.parametrize("answer", [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, "Cancel"])
def test_enter_escape_or_cancel_in_the_question_keeps_the_account(qtbot, page: AdminUsersWidget, central: Store,  # type: ignore[no-untyped-def]
                                                                  root: auth.Actor, answer: Qt.Key | str) -> None:
    dialog = ask_to_disable(qtbot, page, "asha")
    with qtbot.assertNotEmitted(page.account_changed), qtbot.assertNotEmitted(page.change_refused):
        if answer == "Cancel":
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        else:
            qtbot.keyClick(dialog, answer)  # Enter pressed by habit lands on the default, Cancel
        runner.wait_for_background(10_000)  # a change, had one started, would be in the store now
        QApplication.processEvents()  # and its result delivered
    assert page.dialog is None and closed(dialog)
    assert accounts(central, root)["asha"].active and cell(page, "asha", STATE) == "active"
    assert page.active_button.isEnabled() and page.active_button.text() == "&Disable"
    assert page.focusWidget() is page.view  # back in the table


def test_disabling_yourself_is_refused_with_a_sentence(qtbot, page: AdminUsersWidget, central: Store, root: auth.Actor) -> None:  # type: ignore[no-untyped-def]
    click_row(qtbot, page, "root")
    with qtbot.assertNotEmitted(page.dialog_opened), qtbot.waitSignal(page.change_refused, timeout=15_000) as refused:
        qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)  # no question: the core says no
    assert refused.args == ["You cannot disable your own account."]
    assert page.dialog is None
    assert page.message == "You cannot disable your own account." and page.message_is_error
    assert page.message_label.isVisible()
    assert accounts(central, root)["root"].active and cell(page, "root", STATE) == "active"
    assert page.active_button.isEnabled() and page.add_button.isEnabled()  # the page is usable again


def test_the_last_active_admin_is_not_disabled(qtbot, page: AdminUsersWidget, central: Store, root: auth.Actor) -> None:  # type: ignore[no-untyped-def]
    ada = auth.create_user(central, root, "ada", "admin", "ada-password")
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        page.refresh()
    auth.set_role(central, ada, "root", "keyer")  # meanwhile, elsewhere: ada is the only admin left
    last = "ada is the last active administrator; without it nobody could manage the accounts."

    # The table still shows root as admin, so the page asks; the core refuses in its transaction.
    dialog = ask_to_disable(qtbot, page, "ada")
    with qtbot.waitSignal(page.change_refused, timeout=15_000) as refused:
        qtbot.mouseClick(dialog.disable_button, Qt.MouseButton.LeftButton)
    assert refused.args[0].startswith(last) and page.message_is_error
    assert accounts(central, root)["ada"].active

    # Once the table shows it, the page says so at once and asks nothing.
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        page.refresh()
    assert cell(page, "root", ROLE) == "keyer"
    click_row(qtbot, page, "ada")
    with qtbot.assertNotEmitted(page.dialog_opened), qtbot.waitSignal(page.change_refused) as refused:
        qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
    assert refused.args[0].startswith(last) and page.message.startswith(last) and page.dialog is None
    assert accounts(central, root)["ada"].active and cell(page, "ada", STATE) == "active"


def user_row(username: str, *, locked_until: dt.datetime | None = None, active: bool = True) -> auth.UserRow:
    return auth.UserRow(username, username, "keyer", active, locked_until, uuid.uuid4())


def test_a_lock_says_local_time_and_its_date_when_it_ends_after_midnight(qtbot) -> None:  # type: ignore[no-untyped-def]
    here = dt.timezone(dt.timedelta(hours=1))  # this computer's time zone, one hour ahead of UTC
    now = dt.datetime(2026, 11, 2, 22, 50, tzinfo=dt.timezone.utc)  # 23:50 here
    model = UsersTableModel(tz=here)
    model.set_rows([
        user_row("ann", locked_until=dt.datetime(2026, 11, 2, 23, 5, tzinfo=dt.timezone.utc)),  # 00:05 tomorrow here
        user_row("ben", locked_until=dt.datetime(2026, 11, 2, 22, 58, tzinfo=dt.timezone.utc)),  # 23:58 today here
        user_row("cat", locked_until=dt.datetime(2026, 11, 2, 22, 0, tzinfo=dt.timezone.utc)),  # over already
        user_row("dan", locked_until=dt.datetime(2026, 11, 2, 23, 5, tzinfo=dt.timezone.utc), active=False),
    ], now)

    def tip(username: str) -> str:
        return str(model.index(model.row_of(username), STATE).data(Qt.ItemDataRole.ToolTipRole))

    assert model.state_of("ann") == "locked until 2026-11-03 00:05 local time"
    assert tip("ann") == ("Locked after too many wrong passwords until 2026-11-03 00:05 local time "
                          "(2026-11-02 23:05 UTC). Reset password unlocks it now.")
    assert model.state_of("ben") == "locked until 23:58 local time"
    assert "until 2026-11-02 23:58 local time (2026-11-02 22:58 UTC)" in tip("ben")
    assert (model.state_of("cat"), model.state_of("dan")) == ("active", "disabled")
    assert "locked" not in tip("cat").lower() and "cannot log in" in tip("dan")
    assert model.index(model.row_of("ann"), USERNAME).data(Qt.ItemDataRole.ToolTipRole) == "ann"


def test_the_accounts_model_passes_the_model_tester(qtmodeltester, page: AdminUsersWidget) -> None:  # type: ignore[no-untyped-def]
    assert page.model.rowCount() == 2
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.proxy)
    page.view.sortByColumn(USERNAME, Qt.SortOrder.DescendingOrder)
    assert [page.proxy.index(r, USERNAME).data() for r in range(2)] == ["root", "asha"]
    empty = UsersTableModel()
    qtmodeltester.check(empty)


def test_the_page_names_the_commands_for_templates_batches_and_exports(page: AdminUsersWidget) -> None:
    note = page.note_label.text()
    assert "workstation import" in note and "workstation export" in note and "workstation --help" in note


def test_tab_moves_from_the_table_through_the_buttons(page: AdminUsersWidget) -> None:
    chain: list[QWidget] = []
    widget = page.view.nextInFocusChain()
    while widget is not page.view and len(chain) < 50:
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and page.isAncestorOf(widget) and widget.isVisibleTo(page):
            chain.append(widget)
        widget = widget.nextInFocusChain()
    assert chain[:5] == [page.add_button, page.password_button, page.role_button, page.active_button, page.refresh_button]


def test_an_admin_gets_the_administration_page_first(qtbot, ctx: CliContext, root: auth.Actor) -> None:  # type: ignore[no-untyped-def]
    window = build_window(root, ctx)
    qtbot.addWidget(window)
    assert window.current_page_key == "admin"
    page = window.page("admin")
    assert isinstance(page, AdminUsersWidget)
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        window.show()
    assert page.model.row_of("root") >= 0 and page.message == ""
    assert "Accounts" in [group for group, _rows in window.help_groups()]  # F1 on this page lists its keys


def test_f1_lists_the_pages_keys(page: AdminUsersWidget) -> None:
    keys = {shown: label for _group, rows in page.help_groups() for shown, label in rows}
    assert "Ins" in keys and "F5" in keys and "password" in keys["Alt+P"]


def test_ins_opens_the_add_dialog_and_f5_reads_the_accounts_again(qtbot, page: AdminUsersWidget, central: Store,  # type: ignore[no-untyped-def]
                                                                   root: auth.Actor) -> None:
    auth.create_user(central, root, "omar", "keyer", "omar-password")  # e.g. with `workstation users add`
    page.view.setFocus()
    with qtbot.waitSignal(page.refreshed, timeout=15_000):
        qtbot.keyClick(page.view, Qt.Key.Key_F5)
    assert cell(page, "omar", ROLE) == "keyer"
    with qtbot.waitSignal(page.dialog_opened) as opened:
        qtbot.keyClick(page.view, Qt.Key.Key_Insert)
    assert isinstance(opened.args[0], AddAccountDialog) and page.dialog is opened.args[0]
    page.dialog.reject()
