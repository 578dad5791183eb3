"""Accounts: argon2 hashes, login, lockout after repeated failures, admin-only user changes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from workstation import auth
from workstation import models as m
from workstation.errors import AuthError, KnownError, NotFound, PermissionDenied
from workstation.store import Store


@pytest.fixture
def admin(central: Store) -> auth.Actor:
    return auth.create_user(central, None, "root", "admin", "correct horse")


def actions(central: Store) -> list[str]:
    with central.session() as s:
        return list(s.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.seq)))


def test_passwords_are_stored_as_argon2_hashes_and_checked(central: Store, admin: auth.Actor) -> None:
    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass", display_name="Asha R")
    with central.session() as s:
        stored = s.scalars(select(m.User.password_hash).where(m.User.username == "asha")).one()
    assert stored.startswith("$argon2id$") and "s3cret-pass" not in stored
    actor = auth.authenticate(central, "asha", "s3cret-pass")
    assert (actor.username, actor.role, actor.display_name) == ("asha", "keyer", "Asha R")
    with pytest.raises(AuthError, match="user name or password is wrong"):
        auth.authenticate(central, "asha", "s3cret-Pass")
    with pytest.raises(AuthError, match="user name or password is wrong"):
        auth.authenticate(central, "nobody", "s3cret-pass")
    assert actions(central)[-3:] == ["login", "login.failed", "login.failed"]


def test_five_failures_lock_the_account_for_fifteen_minutes(central: Store, admin: auth.Actor) -> None:
    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    t0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    for _ in range(4):
        with pytest.raises(AuthError, match="wrong"):
            auth.authenticate(central, "asha", "nope-nope", now=t0)
    with pytest.raises(AuthError, match="locked for 15 minutes"):
        auth.authenticate(central, "asha", "nope-nope", now=t0)
    # Even the right password is refused while locked, and says how long is left.
    with pytest.raises(AuthError, match="locked for 11 more minute"):
        auth.authenticate(central, "asha", "s3cret-pass", now=t0 + dt.timedelta(minutes=4, seconds=30))
    assert auth.authenticate(central, "asha", "s3cret-pass", now=t0 + dt.timedelta(minutes=15, seconds=1))
    assert "user.locked" in actions(central)


def test_lockout_threshold_and_duration_are_configurable(central: Store, admin: auth.Actor) -> None:
    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    t0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    with pytest.raises(AuthError, match="locked for 2 minutes"):
        auth.authenticate(central, "asha", "x", now=t0, max_failures=1, lockout=dt.timedelta(minutes=2))
    assert auth.authenticate(central, "asha", "s3cret-pass", now=t0 + dt.timedelta(minutes=3))


def test_a_successful_login_resets_the_failure_count(central: Store, admin: auth.Actor) -> None:
    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    for _ in range(3):
        with pytest.raises(AuthError):
            auth.authenticate(central, "asha", "wrong-one")
    auth.authenticate(central, "asha", "s3cret-pass")
    for _ in range(4):
        with pytest.raises(AuthError, match="wrong"):
            auth.authenticate(central, "asha", "wrong-one")


def test_only_admins_manage_users(central: Store, admin: auth.Actor) -> None:
    keyer = auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    supervisor = auth.create_user(central, admin, "sam", "supervisor", "s3cret-pass")
    for actor in (keyer, supervisor):
        with pytest.raises(PermissionDenied):
            auth.create_user(central, actor, "x1", "keyer", "s3cret-pass")
        with pytest.raises(PermissionDenied):
            auth.set_role(central, actor, "asha", "admin")
        with pytest.raises(PermissionDenied):
            auth.set_active(central, actor, "asha", False)
    with pytest.raises(PermissionDenied):
        auth.set_password(central, keyer, "sam", "another-pass")
    with pytest.raises(PermissionDenied):
        auth.list_users(central, keyer)
    for role in ("keyer", "admin"):  # without an acting admin, once an admin exists
        with pytest.raises(PermissionDenied, match="Only an administrator"):
            auth.create_user(central, None, "late", role, "s3cret-pass")
    assert [u.username for u in auth.list_users(central, supervisor)] == ["asha", "root", "sam"]


def test_admin_resets_passwords_and_unlocks(central: Store, admin: auth.Actor) -> None:
    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    for _ in range(5):
        with pytest.raises(AuthError):
            auth.authenticate(central, "asha", "wrong-one")
    auth.set_password(central, admin, "asha", "fresh-password")
    assert auth.authenticate(central, "asha", "fresh-password").username == "asha"
    with pytest.raises(KnownError, match="too short"):
        auth.set_password(central, admin, "asha", "short")
    keyer = auth.authenticate(central, "asha", "fresh-password")
    auth.set_password(central, keyer, "asha", "my-own-choice")  # a user changes their own
    assert auth.authenticate(central, "asha", "my-own-choice")


def test_the_password_rules_sentence_says_what_the_check_enforces() -> None:
    assert f"{auth.MIN_PASSWORD_LENGTH} characters" in auth.PASSWORD_RULES and "space" in auth.PASSWORD_RULES
    auth.check_password_rules("x" * auth.MIN_PASSWORD_LENGTH)
    for bad in ("x" * (auth.MIN_PASSWORD_LENGTH - 1), " " + "x" * auth.MIN_PASSWORD_LENGTH):
        with pytest.raises(KnownError):
            auth.check_password_rules(bad)


def test_disabled_accounts_cannot_log_in_and_roles_change(central: Store, admin: auth.Actor) -> None:
    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    auth.set_active(central, admin, "asha", False)
    with pytest.raises(AuthError, match="disabled"):
        auth.authenticate(central, "asha", "s3cret-pass")
    auth.set_active(central, admin, "asha", True)
    auth.set_role(central, admin, "asha", "qa")
    assert auth.authenticate(central, "asha", "s3cret-pass").role == "qa"
    with pytest.raises(KnownError, match="admin role from yourself"):
        auth.set_role(central, admin, "root", "keyer")
    with pytest.raises(NotFound):
        auth.set_role(central, admin, "ghost", "keyer")
    assert {"user.disable", "user.enable", "user.role"} <= set(actions(central))


def test_bad_user_names_and_roles_are_refused_with_a_reason(central: Store, admin: auth.Actor) -> None:
    with pytest.raises(KnownError, match="not allowed"):
        auth.create_user(central, admin, "a b'; drop table users;--", "keyer", "s3cret-pass")
    with pytest.raises(KnownError, match="Unknown role"):
        auth.create_user(central, admin, "asha", "boss", "s3cret-pass")
    with pytest.raises(KnownError, match="exists already"):
        auth.create_user(central, admin, "root", "keyer", "s3cret-pass")


def test_no_password_reaches_the_audit_log(central: Store, admin: auth.Actor) -> None:
    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    with pytest.raises(AuthError):
        auth.authenticate(central, "asha", "typo-s3cret")
    auth.set_password(central, admin, "asha", "fresh-password")
    with central.session() as s:
        dump = " ".join(f"{e.subject} {e.details}" for e in s.scalars(select(m.AuditEvent)))
    for secret in ("s3cret-pass", "typo-s3cret", "fresh-password", "correct horse"):
        assert secret not in dump


def test_the_first_account_of_an_empty_database_must_be_an_admin(central: Store) -> None:
    with pytest.raises(PermissionDenied, match="first account"):
        auth.create_user(central, None, "asha", "keyer", "s3cret-pass")
    assert auth.create_user(central, None, "root", "admin", "s3cret-pass").role == "admin"


def test_users_cli_adds_lists_and_refuses_without_an_admin(
        central: Store, central_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from workstation.cli import main

    monkeypatch.setenv("WORKSTATION_NEW_PASSWORD", "first-admin-pw")
    assert main(["--central", central_url, "users", "add", "root", "--role", "admin"]) == 0
    monkeypatch.setenv("WORKSTATION_NEW_PASSWORD", "keyer-pass-1")
    assert main(["--central", central_url, "users", "add", "asha", "--role", "keyer"]) == 2
    assert "needs an administrator" in capsys.readouterr().err
    monkeypatch.setenv("WORKSTATION_PASSWORD", "first-admin-pw")
    assert main(["--central", central_url, "users", "--as", "root", "add", "asha", "--role", "keyer",
                 "--name", "Asha R"]) == 0
    assert main(["--central", central_url, "users", "--as", "root", "list"]) == 0
    listing = capsys.readouterr().out
    assert "asha" in listing and "Asha R" in listing and "keyer-pass-1" not in listing
    monkeypatch.setenv("WORKSTATION_PASSWORD", "wrong-admin-pw")
    assert main(["--central", central_url, "users", "--as", "root", "disable", "asha"]) == 2
    assert "wrong" in capsys.readouterr().err


def test_unlocking_a_station_takes_the_same_users_password_and_counts_failures(
        central: Store, admin: auth.Actor) -> None:
    asha = auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    t0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)
    auth.unlock(central, asha, "s3cret-pass", now=t0)
    with pytest.raises(AuthError, match="wrong"):
        auth.unlock(central, asha, "correct horse", now=t0)  # another user's password does not unlock
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong"):
            auth.unlock(central, asha, "nope-nope", now=t0)
    with pytest.raises(AuthError, match="locked for 15 minutes"):
        auth.unlock(central, asha, "nope-nope", now=t0)  # the fifth wrong one in a row locks
    with pytest.raises(AuthError, match="locked"):
        auth.authenticate(central, "asha", "s3cret-pass", now=t0)  # for the login too
    assert actions(central).count("station.unlock") == 1
    assert actions(central)[-3:] == ["login.failed", "user.locked", "login.failed"]  # all audited


def test_headless_commands_act_as_the_operator(central: Store) -> None:
    operator = auth.operator("os:jo")
    assert auth.allowed(operator, "import") and operator.id == auth.OPERATOR_ID
    auth.create_user(central, None, "root", "admin", "correct horse")
    auth.create_user(central, operator, "asha", "keyer", "s3cret-pass")
    with central.session() as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.subject == "asha")).one()
    assert (event.action, event.username, event.user_id) == ("user.create", "os:jo", None)


def test_an_offline_station_unlocks_against_the_account_it_pulled(central: Store, admin: auth.Actor,
                                                                  local: Store) -> None:
    from workstation.errors import DatabaseUnavailable

    asha = auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")

    def unreachable() -> Store:
        raise DatabaseUnavailable("The central database cannot be reached.")

    with pytest.raises(DatabaseUnavailable, match="holds no copy of your account"):
        auth.unlock_station(unreachable, lambda: local, asha, "s3cret-pass")
    with central.session() as s:  # what a pull copies: the keyer's row, hash included
        row = s.get(m.User, asha.id)
        copy = m.User(id=row.id, username=row.username, display_name=row.display_name, role=row.role,
                      password_hash=row.password_hash)
    with local.transaction() as s:
        s.add(copy)
    auth.unlock_station(unreachable, lambda: local, asha, "s3cret-pass")
    with pytest.raises(AuthError, match="wrong"):
        auth.unlock_station(unreachable, lambda: local, asha, "not-her-pass")
    auth.unlock_station(lambda: central, lambda: local, asha, "s3cret-pass")  # online: centrally
    assert actions(central)[-1] == "station.unlock"


def _unreachable() -> Store:
    from workstation.errors import DatabaseUnavailable

    raise DatabaseUnavailable("The central database at db.example cannot be reached.")


def test_a_keyer_logs_in_offline_against_the_account_their_station_pulled(
        central: Store, local: Store, admin: auth.Actor) -> None:
    from workstation import sync, work
    from workstation.errors import DatabaseUnavailable
    from tests.workstation.centralseed import seed_batch

    asha = auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    auth.create_user(central, admin, "ravi", "keyer", "other-pass1")
    batch = seed_batch(central, documents=2)
    sync.pull(central, local, work.claim(central, asha.id, batch_id=batch.batch_id, pass_no=1))

    # Online, the central database decides, not the station's copy.
    assert auth.login_station(lambda: central, lambda: local, "asha", "s3cret-pass").id == asha.id
    # The link is down: asha's station holds her account, so she can log in and key what she holds.
    offline = auth.login_station(_unreachable, lambda: local, "asha", "s3cret-pass")
    assert (offline.id, offline.role) == (asha.id, "keyer")
    with pytest.raises(AuthError, match="user name or password is wrong"):
        auth.login_station(_unreachable, lambda: local, "asha", "wrong-pass")
    with local.session() as s:  # counted toward the lockout on the station, and audited there
        assert s.scalars(select(m.User.failed_logins).where(m.User.id == asha.id)).one() == 1
        assert {"login.offline", "login.failed"} <= set(s.scalars(select(m.AuditEvent.action)))
    # Ravi never claimed work here: no copy, so a plain sentence instead of a login.
    with pytest.raises(DatabaseUnavailable, match="holds no copy of this account"):
        auth.login_station(_unreachable, lambda: local, "ravi", "other-pass1")
    with pytest.raises(DatabaseUnavailable, match="holds no copy"):
        auth.login_station(_unreachable, None, "asha", "s3cret-pass")


def test_the_station_s_copies_of_accounts_catch_up_whenever_a_login_reaches_the_central_database(
        central: Store, local: Store, admin: auth.Actor) -> None:
    """A password changed or an account disabled at another station holds here too once anyone
    logs in here online, so the old password or a disabled account cannot log in offline later."""
    from workstation import sync, work
    from tests.workstation.centralseed import seed_batch

    asha = auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    auth.create_user(central, admin, "ravi", "keyer", "other-pass1")
    batch = seed_batch(central, documents=2)
    sync.pull(central, local, work.claim(central, asha.id, batch_id=batch.batch_id, pass_no=1))
    with local.transaction() as s:  # a stray copy of an account the central database no longer has
        s.add(m.User(username="ghost", role="keyer", password_hash=auth.hash_password("ghost-pass1")))

    auth.set_password(central, admin, "asha", "n3w-pass-word")  # at another station
    auth.login_station(lambda: central, lambda: local, "ravi", "other-pass1")  # someone else, online
    with pytest.raises(AuthError, match="user name or password is wrong"):
        auth.login_station(_unreachable, lambda: local, "asha", "s3cret-pass")
    assert auth.login_station(_unreachable, lambda: local, "asha", "n3w-pass-word").id == asha.id
    with pytest.raises(AuthError, match="disabled"):
        auth.login_station(_unreachable, lambda: local, "ghost", "ghost-pass1")

    auth.set_active(central, admin, "asha", False)
    with pytest.raises(AuthError, match="disabled"):  # online: refused, and the copy learns why
        auth.login_station(lambda: central, lambda: local, "asha", "n3w-pass-word")
    with pytest.raises(AuthError, match="disabled"):
        auth.login_station(_unreachable, lambda: local, "asha", "n3w-pass-word")


def test_a_copy_that_cannot_be_refreshed_does_not_stop_an_online_login(central: Store, admin: auth.Actor) -> None:
    asha = auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")

    def broken_local() -> Store:
        raise KnownError("The station's store cannot be opened.")

    assert auth.login_station(lambda: central, broken_local, "asha", "s3cret-pass").id == asha.id


def test_nobody_disables_themselves_or_the_last_active_admin(central: Store, admin: auth.Actor) -> None:
    operator = auth.operator("ops")  # a headless command without --as: not an account itself
    with pytest.raises(KnownError, match="^root is the last active administrator") as last:
        auth.set_active(central, operator, "root", False)
    assert last.value.hint == "Give another account the admin role first."
    with pytest.raises(KnownError, match="your own account"):
        auth.set_active(central, admin, "root", False)
    ada = auth.create_user(central, admin, "ada", "admin", "s3cret-pass")
    auth.set_active(central, operator, "root", False)  # ada is still there to manage the accounts
    with pytest.raises(KnownError, match="^ada is the last active administrator"):
        auth.set_active(central, operator, "ada", False)
    auth.set_active(central, ada, "root", True)
    auth.set_active(central, admin, "ada", False)
    assert {r.username: r.active for r in auth.list_users(central, admin)} == {"ada": False, "root": True}


def test_nobody_takes_the_admin_role_from_the_last_active_admin(central: Store, admin: auth.Actor) -> None:
    operator = auth.operator("ops")
    with pytest.raises(KnownError, match="^root is the last active administrator"):
        auth.set_role(central, operator, "root", "keyer")
    auth.create_user(central, admin, "ada", "admin", "s3cret-pass")
    auth.set_active(central, admin, "ada", False)  # a disabled admin manages nothing
    with pytest.raises(KnownError, match="^root is the last active administrator"):
        auth.set_role(central, operator, "root", "supervisor")
    auth.set_active(central, admin, "ada", True)
    auth.set_role(central, operator, "root", "supervisor")  # ada still manages the accounts
    assert {r.username: r.role for r in auth.list_users(central, auth.operator("ops"))} == {
        "ada": "admin", "root": "supervisor"}


def test_the_account_state_says_utc_and_the_date_when_a_lock_ends_on_another_day() -> None:
    now = dt.datetime(2026, 11, 2, 23, 50, tzinfo=dt.timezone.utc)

    def row(locked_until: dt.datetime | None, active: bool = True) -> auth.UserRow:
        return auth.UserRow("asha", "Asha", "keyer", active, locked_until, uuid.uuid4())

    def state(locked_until: dt.datetime | None, active: bool = True) -> str:
        return auth.account_state(row(locked_until, active), now)

    assert state(None) == "active" and state(now - dt.timedelta(minutes=1)) == "active"
    assert state(now + dt.timedelta(minutes=5)) == "locked until 23:55 UTC"
    assert state(now + dt.timedelta(minutes=15)) == "locked until 2026-11-03 00:05 UTC"  # past midnight
    assert state(now + dt.timedelta(minutes=15), active=False) == "disabled"
    here = dt.timezone(dt.timedelta(hours=-5))  # 18:50 there: the same lock ends on the same day
    there = auth.account_state(row(now + dt.timedelta(minutes=15)), now, here, "local time")
    assert there == "locked until 19:05 local time"


def test_users_list_shows_each_accounts_state_in_utc(central: Store, central_url: str, admin: auth.Actor,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from workstation.cli import main

    auth.create_user(central, admin, "asha", "keyer", "s3cret-pass")
    auth.create_user(central, admin, "omar", "keyer", "s3cret-pass")
    auth.set_active(central, admin, "omar", False)
    with pytest.raises(AuthError, match="locked"):
        auth.authenticate(central, "asha", "nope-nope", max_failures=1, lockout=dt.timedelta(days=2))
    locked_until = {r.username: r for r in auth.list_users(central, admin)}["asha"].locked_until
    assert locked_until is not None
    monkeypatch.setenv("WORKSTATION_PASSWORD", "correct horse")
    assert main(["--central", central_url, "users", "--as", "root", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["asha"].endswith(f"locked until {locked_until.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC")
    assert lines["omar"].endswith("  disabled") and lines["root"].endswith("  active")
