"""Secrets live only in the OS credential store (keyring): never in files, URLs on disk, or logs.

The central database URL is kept without its password (settings file, environment); the
password is stored in keyring under the URL's user, host, port and database, and joined to the
URL only in memory when the engine is made.
"""

from __future__ import annotations

import logging
import re

import keyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from workstation.errors import CredentialError, DatabaseUnavailable, KnownError
from workstation.store import redact

SERVICE = "KeyingWorkstation central database"
log = logging.getLogger(__name__)

# How a PostgreSQL server says no to who is connecting. libpq reports connection failures as
# text (psycopg gives no SQLSTATE for them), so the known phrasings are matched as well.
_REFUSED_SQLSTATES = {"28P01", "28000"}
_REFUSED_PHRASES = ("authentication failed", "no password supplied", "no pg_hba.conf entry")
_UNKNOWN_ROLE = re.compile(r'role "[^"]*" does not exist')


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise KnownError(f"{url!r} is not a database URL.", "Use e.g. postgresql://user@host/dbname.") from exc


def credential_key(url: str | URL) -> str:
    """The keyring entry name for a URL: user@host:port/database (no password)."""
    parsed = _parse(url) if isinstance(url, str) else url
    return f"{parsed.username or ''}@{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def needs_password(url: str) -> bool:
    parsed = _parse(url)
    return parsed.get_backend_name() == "postgresql" and parsed.password is None and bool(parsed.username)


def split_password(url: str) -> tuple[str, str | None]:
    """(the URL without its password, the password or None)."""
    parsed = _parse(url)
    password = parsed.password
    bare = parsed.set(password=None).render_as_string(hide_password=False)
    return bare, (str(password) if password is not None else None)


def backend_name() -> str:
    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _no_backend(exc: Exception) -> CredentialError:
    return CredentialError(
        f"No credential store is available on this machine ({exc}).",
        "On Windows the Credential Manager is used; on Linux install and unlock a Secret Service "
        "keyring (e.g. GNOME Keyring), then run `workstation central login` again.",
    )


def store_password(url: str, password: str) -> None:
    try:
        keyring.set_password(SERVICE, credential_key(url), password)
    except NoKeyringError as exc:
        raise _no_backend(exc) from exc
    except KeyringError as exc:
        raise CredentialError(f"The credential store refused to save the password: {exc}.", "Unlock it and try again.") from exc
    log.info("stored the central database password for %s in keyring", credential_key(url))


def forget_password(url: str) -> None:
    try:
        keyring.delete_password(SERVICE, credential_key(url))
    except PasswordDeleteError:
        pass
    except NoKeyringError as exc:
        raise _no_backend(exc) from exc


def with_password(url: str) -> str:
    """The URL ready for an engine: the keyring password joined in when one is needed."""
    if not needs_password(url):
        return url
    try:
        password = keyring.get_password(SERVICE, credential_key(url))
    except NoKeyringError as exc:
        raise _no_backend(exc) from exc
    except KeyringError as exc:
        raise CredentialError(f"The credential store cannot be read: {exc}.", "Unlock it and try again.") from exc
    if password is None:
        raise CredentialError(
            f"No password is stored for the central database {credential_key(url)}.",
            "Run `workstation central login` to store it in the credential store.",
        )
    return _parse(url).set(password=password).render_as_string(hide_password=False)


def login_refused(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) is the server refusing the user name or password.

    Such a failure is not "offline": retrying will not help until someone stores the right
    password, so callers say so instead of waiting for the network.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if str(getattr(current, "sqlstate", "") or "") in _REFUSED_SQLSTATES:
            return True
        wrapped = getattr(current, "orig", None)
        if wrapped is None:  # a SQLAlchemy wrapper's text holds the statement: read the driver's own
            text = str(current).lower()
            if any(phrase in text for phrase in _REFUSED_PHRASES) or _UNKNOWN_ROLE.search(text):
                return True
        current = wrapped or current.__cause__ or current.__context__
    return False


def refused_error(url: str | None) -> CredentialError:
    """The sentence for a refused login to the central database at `url` (if known)."""
    who = f" for {credential_key(url)}" if url else ""
    return CredentialError(
        f"The central database refused the user name or password{who}.",
        "Run `workstation central login` again with the right password.",
    )


def connect_error(url: str, exc: BaseException) -> KnownError:
    """What to tell a person when connecting to the central database at `url` failed with `exc`."""
    if login_refused(exc):
        return refused_error(url)
    detail = str(getattr(exc, "orig", None) or exc.__cause__ or exc).strip().splitlines()
    reason = f": {detail[0].rstrip('.')}" if detail and detail[0] else ""
    return DatabaseUnavailable(
        f"The central database at {redact(url)} cannot be reached{reason}.",
        "Check the address, the network and that the database server is running.",
    )
