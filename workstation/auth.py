"""Users, roles, passwords and the checks every service makes on the acting user.

Roles: keyer (keys work), qa (settles disputes), supervisor (watches figures and batches), admin
(everything, including users). A service that reads or changes data takes an `Actor` and calls
`require_role` first; the UI hiding a menu is a convenience, not the control.

Passwords are stored as argon2id hashes. After `MAX_FAILURES` wrong passwords in a row an account
is locked for `LOCKOUT` (both configurable per call, the station passes the settings). Every
login, failure, lockout and user change is written to the audit log; a password never is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workstation import audit
from workstation import models as m
from workstation.errors import AuthError, KnownError, NotFound, PermissionDenied
from workstation.store import Store

MIN_PASSWORD_LENGTH = 8
MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
_hasher = PasswordHasher()


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
            require_role(by, "admin")
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
                 max_failures: int = MAX_FAILURES, lockout: dt.timedelta = LOCKOUT) -> Actor:
    """The actor for a right user name and password; `AuthError` with a plain message otherwise.

    Failures are counted (and committed) even though the call raises; the message never says
    whether the user name or the password was wrong.
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
            audit.record(s, "login", actor=user.id)
            return _actor(user)
    assert failure is not None
    raise failure


def verify_password(store: Store, actor: Actor, password: str) -> bool:
    """Unlocking a locked station: the same user's password, counted like a login."""
    try:
        again = authenticate(store, actor.username, password)
    except AuthError:
        return False
    return again.id == actor.id


def set_password(store: Store, by: Actor, username: str, new_password: str) -> None:
    """An admin resets anyone's password; a user changes their own."""
    hashed = hash_password(new_password)
    with store.transaction() as s:
        user = _user(s, username)
        if user.id != by.id:
            require_role(by, "admin")
        user.password_hash = hashed
        user.failed_logins = 0
        user.locked_until = None
        audit.record(s, "user.password", actor=by, subject=user.username)


def set_role(store: Store, by: Actor, username: str, role: str) -> None:
    require_role(by, "admin")
    _check_role(role)
    with store.transaction() as s:
        user = _user(s, username)
        if user.id == by.id and role != "admin":
            raise KnownError("You cannot take the admin role from yourself.", "Ask another administrator.")
        old, user.role = user.role, role
        audit.record(s, "user.role", actor=by, subject=user.username, details={"from": old, "to": role})


def set_active(store: Store, by: Actor, username: str, active: bool) -> None:
    require_role(by, "admin")
    with store.transaction() as s:
        user = _user(s, username)
        if user.id == by.id and not active:
            raise KnownError("You cannot disable your own account.")
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


def list_users(store: Store, by: Actor) -> list[UserRow]:
    require_role(by, "supervisor", "admin")
    with store.session() as s:
        return [UserRow(u.username, u.display_name, u.role, u.active, u.locked_until)
                for u in s.scalars(select(m.User).order_by(m.User.username))]


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
