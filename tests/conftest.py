"""Shared fixtures: a temporary workspace per test, in-memory keyring, central databases.

Qt runs offscreen; these fixtures never import Qt themselves (UI fixtures live in tests/ui).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from workstation.paths import Workspace
from workstation.store import Store, open_central

if TYPE_CHECKING:
    from tests.pgnet import PasswordRefusingServer, TcpProxy

PG_URL = os.environ.get("WORKSTATION_TEST_PG_URL", "postgresql+psycopg://localhost/test")
REQUIRE_PG = os.environ.get("WORKSTATION_REQUIRE_PG") == "1"


class MemoryKeyring(KeyringBackend):
    """A keyring that forgets everything when the test ends."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own workspace; the user's real one is never touched."""
    root = tmp_path / "workspace"
    root.mkdir()
    monkeypatch.setenv("WORKSTATION_DATA_DIR", str(root))
    monkeypatch.delenv("WORKSTATION_CENTRAL_URL", raising=False)
    return root


@pytest.fixture
def ws(data_dir: Path) -> Workspace:
    return Workspace(data_dir).ensure()


_pg_checked: bool | None = None


def pg_available() -> bool:
    global _pg_checked
    if _pg_checked is None:
        try:
            engine = create_engine(PG_URL)
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            engine.dispose()
            _pg_checked = True
        except OperationalError:
            _pg_checked = False
    return _pg_checked


def require_pg() -> None:
    if pg_available():
        return
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL at {PG_URL} is unreachable and WORKSTATION_REQUIRE_PG=1")
    pytest.skip(f"PostgreSQL at {PG_URL} is unreachable")


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def central_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty central database URL: the embedded SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.sqlite'}"
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def central(central_url: str) -> Iterator[Store]:
    """A migrated central database on SQLite and on PostgreSQL."""
    store = open_central(central_url, create=True)
    yield store
    store.dispose()


@pytest.fixture
def local(ws: Workspace) -> Iterator[Store]:
    from workstation.store import open_local

    store = open_local(ws.local_url)
    yield store
    store.dispose()


@pytest.fixture
def pg_proxy(pg_schema_url: str) -> Iterator["TcpProxy"]:
    """A TCP proxy in front of the test PostgreSQL; `proxy.url` reaches a fresh schema through it.

    `proxy.stop()` takes the database away (port closed, live connections cut) and
    `proxy.start()` brings it back on the same port, so one URL goes down and comes back.
    """
    from sqlalchemy.engine import make_url

    from tests.pgnet import TcpProxy

    target = make_url(pg_schema_url)
    proxy = TcpProxy(target.host or "localhost", target.port or 5432)
    proxy.start()
    proxy.url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def refusing_server() -> Iterator["PasswordRefusingServer"]:
    """A server on loopback that asks for a password and refuses it, as PostgreSQL does."""
    from tests.pgnet import PasswordRefusingServer

    server = PasswordRefusingServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
