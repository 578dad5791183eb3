"""Users, roles, passwords and the checks every service makes on the acting user.

Roles: keyer (keys work), qa (settles disputes), supervisor (watches figures and batches), admin
(everything, including users). A service that reads or changes data takes an `Actor` and calls
`require_role` first; the UI hiding a menu is a convenience, not the control.

What each role may do is one table, `PERMISSIONS` (an action name -> the roles that may do it;
admin may do everything). Services call `require(actor, action)`; a service that is handed a user
id instead of an `Actor` calls `require_user(session, user_id, action)`, which reads the role
from the database, so a forged id with a made-up role gets nowhere.

Headless commands act as an account (`--as NAME` and its password) or, without one, as the
machine's `operator(...)`: whoever runs them holds the central database's credentials, which give
every right at the database level anyway; they are audited under their OS user name.

Passwords are stored as argon2id hashes. After `MAX_FAILURES` wrong passwords in a row an account
is locked for `LOCKOUT` (both configurable per call, the station passes the settings). Every
login, failure, lockout and user change is written to the audit log; a password never is.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from workstation import audit
from workstation import models as m
from workstation.errors import AuthError, DatabaseUnavailable, KnownError, NotFound, PermissionDenied
from workstation.store import Store

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
# The rules `check_password_rules` enforces, said once for a form that asks for a new password.
PASSWORD_RULES = f"At least {MIN_PASSWORD_LENGTH} characters, with no space at the start or end."
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
_hasher = PasswordHasher()

# Who may do what. Admin may do everything, so it is not listed; () means admin only.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "work.claim": ("keyer", "qa"),  # list offers, claim, pull, key, push
    "qa.review": ("qa",),  # the QA queue, decisions, undo
    "dashboard": ("supervisor",),  # figures per keyer, field, hour; batch progress
    "export": ("supervisor",),  # final values and the per-entry audit export of a batch
    "import": (),  # new batches
    "templates": (),  # registering template versions
    "users.list": ("supervisor",),
    "users.manage": (),  # add, change role, enable/disable, reset others' passwords
    "audit.export": ("supervisor",),  # the audit log as CSV
    "page_problems": ("qa", "supervisor"),  # keyers' reports of missing or unreadable pages
    "page_problems.close": ("qa", "supervisor"),  # closing such a report with a note on what was done
}
# The actor of a headless command run without --as (see `operator`).
OPERATOR_ID = uuid.UUID(int=0)


@dataclass(frozen=True)
class Actor:
    """Who is acting: the logged-in user as every service sees them."""

    id: uuid.UUID
    username: str
    role: str
    display_name: str = ""

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def has_role(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


def require_role(actor: Actor, *roles: str) -> None:
    """Refuse unless the actor has one of `roles` (admin may do everything)."""
    if not actor.has_role(*roles):
        wanted = " or ".join(roles) if roles else "admin"
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not do this; it needs the {wanted} role.",
            "Ask an administrator if your role should change.",
        )


def roles_for(action: str) -> tuple[str, ...]:
    """Every role that may do `action`, admin included (KeyError for an unknown action)."""
    return (*PERMISSIONS[action], "admin")


def allowed(actor: Actor, action: str) -> bool:
    return actor.has_role(*PERMISSIONS[action])


def require(actor: Actor, action: str) -> None:
    """Refuse unless the actor's role may do `action` (see `PERMISSIONS`)."""
    require_role(actor, *PERMISSIONS[action])


def require_user(s: Session, user_id: uuid.UUID, action: str) -> Actor:
    """`require` for services handed a user id: the role and state are read from `s`."""
    user = s.get(m.User, user_id)
    if user is None:
        raise NotFound("That user does not exist.", "Log in again.")
    if not user.active:
        raise PermissionDenied(f"The account {user.username} is disabled.", "Ask an administrator to enable it.")
    actor = _actor(user)
    require(actor, action)
    return actor


def operator(os_user: str) -> Actor:
    """The actor of a headless command run without an account (`os:NAME` in the audit log)."""
    return Actor(OPERATOR_ID, os_user[:64], "admin", "operator")


def _actor(user: m.User) -> Actor:
    return Actor(user.id, user.username, user.role, user.display_name)


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KnownError(f"The password is too short ({len(password)} characters).",
                         f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if password != password.strip():
        raise KnownError("The password starts or ends with a space.", "Leave out leading and trailing spaces.")


def _password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _check_role(role: str) -> None:
    if role not in m.ROLES:
        raise KnownError(f"Unknown role {role!r}.", f"Use one of: {', '.join(m.ROLES)}.")


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise KnownError(f"The user name {username!r} is not allowed.",
                         "Use 1 to 64 letters, digits, dots, dashes or underscores.")
    return name


def create_user(store: Store, by: Actor | None, username: str, role: str, password: str, *,
                display_name: str = "") -> Actor:
    """A new account. Only an admin may create one, except the very first admin (`by=None`)."""
    name = _check_username(username)
    _check_role(role)
    hashed = hash_password(password)
    with store.transaction() as s:
        if by is None:
            if s.scalar(select(func.count()).select_from(m.User).where(m.User.role == "admin")):
                raise PermissionDenied("Only an administrator can add users.", "Log in as an admin.")
            if role != "admin":
                raise PermissionDenied("The first account must be an administrator.")
        else:
            require(by, "users.manage")
        if s.scalar(select(m.User.id).where(m.User.username == name)) is not None:
            raise KnownError(f"A user named {name} exists already.", "Pick another user name.")
        user = m.User(username=name, display_name=display_name or name, role=role, password_hash=hashed)
        s.add(user)
        s.flush()
        audit.record(s, "user.create", actor=by, subject=name, details={"role": role})
        return _actor(user)


def _user(s: Session, username: str) -> m.User:
    user = s.scalars(select(m.User).where(m.User.username == username.strip())).first()
    if user is None:
        raise NotFound(f"There is no user named {username}.", "Check the spelling; `workstation users list` shows them.")
    return user


def authenticate(store: Store, username: str, password: str, *, now: dt.datetime | None = None,
                 max_failures: int = MAX_FAILURES, lockout: dt.timedelta = LOCKOUT,
                 action: str = "login") -> Actor:
    """The actor for a right user name and password; `AuthError` with a plain message otherwise.

    Failures are counted (and committed) even though the call raises; the message never says
    whether the user name or the password was wrong. `action` names the success in the audit
    log ("login", or "station.unlock" when a locked station is unlocked).
    """
    now = now or m.utcnow()
    wrong = AuthError("The user name or password is wrong.", "Try again; the account locks after repeated failures.")
    failure: AuthError | None = None
    with store.transaction() as s:
        user = s.scalars(select(m.User).where(m.User.username == username.strip())).first()
        if user is None:
            audit.record(s, "login.failed", username=username.strip()[:64], details={"reason": "unknown user"})
            failure = wrong
        elif not user.active:
            audit.record(s, "login.failed", actor=user.id, details={"reason": "disabled"})
            failure = AuthError("This account is disabled.", "Ask an administrator to enable it.")
        elif user.locked_until is not None and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            audit.record(s, "login.failed", actor=user.id, details={"reason": "locked"})
            failure = AuthError(f"This account is locked for {minutes} more minute(s) after repeated failed logins.",
                                "Wait, or ask an administrator to unlock it.")
        elif not _password_matches(user.password_hash, password):
            user.failed_logins += 1
            details: dict[str, object] = {"reason": "wrong password", "failures": user.failed_logins}
            audit.record(s, "login.failed", actor=user.id, details=details)
            failure = wrong
            if user.failed_logins >= max_failures:
                user.locked_until = now + lockout
                user.failed_logins = 0
                audit.record(s, "user.locked", actor=user.id, subject=user.username,
                             details={"minutes": int(lockout.total_seconds() // 60)})
                failure = AuthError(
                    f"Too many wrong passwords: the account is locked for {int(lockout.total_seconds() // 60)} minutes.",
                    "Wait, or ask an administrator to unlock it.")
        else:
            user.failed_logins = 0
            user.locked_until = None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            audit.record(s, action, actor=user.id)
            return _actor(user)
    assert failure is not None
    raise failure


def unlock(store: Store, actor: Actor, password: str, *, now: dt.datetime | None = None,
           max_failures: int = MAX_FAILURES, lockout: dt.timedelta = LOCKOUT) -> None:
    """Unlocking a locked station: only the locked user's own password, counted like a login.

    Raises `AuthError` (wrong password, account locked or disabled meanwhile); a wrong password
    here counts toward the lockout exactly as at the login.
    """
    again = authenticate(store, actor.username, password, now=now, max_failures=max_failures,
                         lockout=lockout, action="station.unlock")
    if again.id != actor.id:  # the account was deleted and made again under the same name
        raise AuthError("This station is locked by another account.", "Log the locked session out.")


def unlock_station(central: Callable[[], Store], local: Callable[[], Store] | None, actor: Actor, password: str, *,
                   now: dt.datetime | None = None, max_failures: int = MAX_FAILURES,
                   lockout: dt.timedelta = LOCKOUT) -> None:
    """`unlock` against the central database; when it cannot be reached, against the copy of the
    account the station pulled with the work, so an offline keyer can go on keying.

    Failures checked offline count (and lock) in the station's copy.
    """
    try:
        store = central()
        with _copies_refreshed(store, local):
            unlock(store, actor, password, now=now, max_failures=max_failures, lockout=lockout)
        return
    except DatabaseUnavailable:
        pass
    except (OperationalError, InterfaceError):
        log.info("central database unreachable; checking the password against this station's copy")
    offline = DatabaseUnavailable(
        "The central database cannot be reached to check your password, and this station holds no "
        "copy of your account.", "Wait until it is back, or log this session out.")
    if local is None:
        raise offline
    store = local()
    with store.session() as s:
        if s.get(m.User, actor.id) is None:
            raise offline
    unlock(store, actor, password, now=now, max_failures=max_failures, lockout=lockout)


def login_station(central: Callable[[], Store], local: Callable[[], Store] | None, username: str, password: str, *,
                  now: dt.datetime | None = None, max_failures: int = MAX_FAILURES,
                  lockout: dt.timedelta = LOCKOUT) -> Actor:
    """A login at a station: against the central database; when it cannot be reached, against
    the copy of the account the station pulled with the keyer's work, so a keyer whose desktop
    restarted during an outage can go on keying the units it holds.

    Offline, failures count (and lock) in the station's copy and the login is audited there as
    "login.offline". Someone who never claimed work here has no copy and is told to wait.
    """
    try:
        store = central()
        with _copies_refreshed(store, local):
            return authenticate(store, username, password, now=now, max_failures=max_failures, lockout=lockout)
    except DatabaseUnavailable:
        pass
    except (OperationalError, InterfaceError):
        log.info("central database unreachable; checking the login against this station's copy")
    offline = DatabaseUnavailable(
        "The central database cannot be reached, and this station holds no copy of this account "
        "(only keyers who claimed work here can log in while it is down).",
        "Check the network, or wait until the central database is back, then log in again.")
    if local is None:
        raise offline
    store = local()
    with store.session() as s:
        if s.scalars(select(m.User.id).where(m.User.username == username.strip())).first() is None:
            raise offline
    actor = authenticate(store, username, password, now=now, max_failures=max_failures, lockout=lockout,
                         action="login.offline")
    log.info("user %s logged in offline, against this station's copy of the account", actor.username)
    return actor


_COPIED = ("username", "display_name", "role", "password_hash", "active", "failed_logins", "locked_until")


def refresh_account_copies(central: Store, local: Callable[[], Store] | None) -> None:
    """Bring the station's copies of accounts (pulled with each keyer's work) up to date from
    the central database, whenever a login or unlock here reached it, whoever's and whatever
    its outcome: a password changed, an account disabled or a role changed at another station
    then holds here too, should the central database go out of reach later. An account gone
    from the central database is disabled here. Never fails the login: a copy that cannot be
    refreshed now is refreshed at the next one (or the next pull)."""
    if local is None:
        return
    try:
        store = local()
        with store.session() as ls:
            ids = list(ls.scalars(select(m.User.id)))
        if not ids:
            return
        with central.session() as s:
            current = {u.id: {name: getattr(u, name) for name in _COPIED}
                       for u in s.scalars(select(m.User).where(m.User.id.in_(ids)))}
        with store.transaction() as ls:
            for copy in ls.scalars(select(m.User).where(m.User.id.in_(ids))):
                values = current.get(copy.id, {"active": False})
                for name, value in values.items():
                    if getattr(copy, name) != value:
                        setattr(copy, name, value)
    except (KnownError, SQLAlchemyError) as exc:
        log.warning("could not refresh this station's copies of accounts: %s", exc)


@contextmanager
def _copies_refreshed(central: Store, local: Callable[[], Store] | None) -> Iterator[None]:
    """`refresh_account_copies` once a login or unlock checked against `central` has an answer,
    a refusal too (it was reached); not when it could not be reached."""
    try:
        yield
    except AuthError:
        refresh_account_copies(central, local)
        raise
    refresh_account_copies(central, local)


def verify_password(store: Store, actor: Actor, password: str) -> bool:
    """`unlock` as a yes or no."""
    try:
        unlock(store, actor, password)
    except AuthError:
        return False
    return True


def set_password(store: Store, by: Actor, username: str, new_password: str) -> None:
    """An admin resets anyone's password; a user changes their own."""
    hashed = hash_password(new_password)
    with store.transaction() as s:
        user = _user(s, username)
        if user.id != by.id:
            require(by, "users.manage")
        user.password_hash = hashed
        user.failed_logins = 0
        user.locked_until = None
        audit.record(s, "user.password", actor=by, subject=user.username)


def set_role(store: Store, by: Actor, username: str, role: str) -> None:
    require(by, "users.manage")
    _check_role(role)
    with store.transaction() as s:
        user = _user(s, username)
        if user.id == by.id and role != "admin":
            raise KnownError("You cannot take the admin role from yourself.", "Ask another administrator.")
        if role != "admin" and user.role == "admin" and user.active and not s.scalar(
                select(func.count()).select_from(m.User).where(
                    m.User.role == "admin", m.User.active.is_(True), m.User.id != user.id)):
            raise KnownError(f"{user.username} is the last active administrator; without it nobody could "
                             "manage the accounts.", "Give another account the admin role first.")
        old, user.role = user.role, role
        audit.record(s, "user.role", actor=by, subject=user.username, details={"from": old, "to": role})


def set_active(store: Store, by: Actor, username: str, active: bool) -> None:
    """Enable or disable an account; `disable_refusal` says what may not be disabled."""
    require(by, "users.manage")
    with store.transaction() as s:
        user = _user(s, username)
        if not active:
            admins = s.scalars(select(m.User).where(m.User.role == "admin", m.User.active.is_(True)))
            refusal = disable_refusal(by, _row(user), [_row(a) for a in admins])
            if refusal is not None:
                raise refusal
        user.active = active
        if active:
            user.locked_until, user.failed_logins = None, 0
        audit.record(s, "user.enable" if active else "user.disable", actor=by, subject=user.username)


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    role: str
    active: bool
    locked_until: dt.datetime | None
    id: uuid.UUID


def _row(user: m.User) -> UserRow:
    return UserRow(user.username, user.display_name, user.role, user.active, user.locked_until, user.id)


def list_users(store: Store, by: Actor) -> list[UserRow]:
    require(by, "users.list")
    with store.session() as s:
        return [_row(u) for u in s.scalars(select(m.User).order_by(m.User.username))]


def disable_refusal(by: Actor, user: UserRow, accounts: Iterable[UserRow]) -> KnownError | None:
    """Why `by` may not disable `user`, or None when they may.

    Nobody disables their own account, and the last active administrator stays (someone must be
    able to manage the accounts). `accounts` is at least every active admin. The Administration
    page asks this before it asks for a confirmation; `set_active` asks it again in its transaction.
    """
    if user.id == by.id:
        return KnownError("You cannot disable your own account.")
    if user.active and user.role == "admin" and not any(
            a.active and a.role == "admin" and a.id != user.id for a in accounts):
        return KnownError(f"{user.username} is the last active administrator; without it nobody could "
                          "manage the accounts.", "Give another account the admin role first.")
    return None


def lock_end(user: UserRow, now: dt.datetime) -> dt.datetime | None:
    """When the lockout of an active account ends, or None when none is in force at `now`."""
    if user.active and user.locked_until is not None and user.locked_until > now:
        return user.locked_until
    return None


def clock(moment: dt.datetime, tz: dt.tzinfo | None, *, day_of: dt.datetime | None = None) -> str:
    """`moment` in `tz` (None: this computer's time zone) as "YYYY-MM-DD HH:MM", or only "HH:MM"
    when it falls on the same day as `day_of` there."""
    shown = moment.astimezone(tz)
    if day_of is not None and day_of.astimezone(tz).date() == shown.date():
        return f"{shown:%H:%M}"
    return f"{shown:%Y-%m-%d %H:%M}"


def account_state(user: UserRow, now: dt.datetime, tz: dt.tzinfo | None = dt.timezone.utc, zone: str = "UTC") -> str:
    """The state `workstation users list` and the Administration page show: "disabled", "active",
    or while a lockout lasts "locked until 14:05 UTC" (with the date when it ends on another
    day); `zone` names `tz` for the reader ("UTC", "local time")."""
    if not user.active:
        return "disabled"
    end = lock_end(user, now)
    if end is None:
        return "active"
    return f"locked until {clock(end, tz, day_of=now)} {zone}"


def get_actor(s: Session, user_id: uuid.UUID) -> Actor:
    user = s.get(m.User, user_id)
    if user is None or not user.active:
        raise NotFound("That user does not exist or is disabled.")
    return _actor(user)


def actor_by_name(s: Session, username: str) -> Actor:
    """Headless commands act as a named user (the CLI's `--as`)."""
    user = _user(s, username)
    if not user.active:
        raise AuthError(f"The account {user.username} is disabled.")
    return _actor(user)
