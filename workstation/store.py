"""Engines and sessions for the local store and the central database.

Local store: SQLite in WAL mode with `synchronous=FULL` (a committed field survives a power cut)
and foreign keys on for every connection. Central database: any SQLAlchemy URL; the embedded
default is a SQLite file, PostgreSQL (psycopg 3) is the production database. The caller owns the
session and scopes it to one user action (`with store.session() as s, s.begin(): ...`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import DDL, Engine, create_engine, event, inspect
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.schema import CreateColumn

from workstation.errors import DatabaseUnavailable, KnownError
from workstation.models import Base

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 opens transactions itself; let SQLAlchemy's BEGIN handling drive them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with the house settings for its dialect.

    `hide_parameters`: a database error's message (and so a logged traceback) never carries the
    statement's parameters, which are keyed values.
    """
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # A server behind a network that drops packets must fail in seconds, not after the operating
    # system's TCP timeout: keying never waits on it, but `workstation sync` and a login would.
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    # Every checkout checks the connection first (one round trip): a station's connection sits
    # idle for minutes between claims and pushes, and a server restart or a network change may
    # have cut it. Checked: skipping the check for connections used under a second ago gave the
    # 32-claimer benchmark more claims per second, but real stations are never that busy, and a
    # connection cut right after use then failed the next action.
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, connect_args=connect_args, **kwargs)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is shown as-is minus nothing secret
        return url.split("@")[-1]


class Store:
    """One database (local or central) with its engine and session factory."""

    def __init__(self, url: str, *, engine: Engine | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = engine or make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self._sessions() as s, s.begin():
            yield s

    def create_schema(self) -> None:
        """Create every table that is missing, and the nullable columns an existing table lacks
        (the local store; tests of the central side)."""
        try:
            Base.metadata.create_all(self.engine)
            self._add_missing_columns()
        except OperationalError as exc:
            raise DatabaseUnavailable(
                f"The database at {redact(self.url)} cannot be reached: {exc.orig}.",
                "Check that it is running and the address is right.",
            ) from exc

    def _add_missing_columns(self) -> None:
        """Give an older store's tables the model's columns added since it was made.

        `create_all` never changes a table that exists, and the local store has no migrations,
        so a station's store made by an earlier version would lack a column added later (the
        central database gets it by an Alembic migration). New columns are nullable, so each is
        added in place, without the table constraints about it, which only the central side needs.
        """
        with self.engine.begin() as conn:
            inspector = inspect(conn)
            for table in Base.metadata.sorted_tables:
                if not inspector.has_table(table.name):
                    continue
                present = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in present:
                        continue
                    if not column.nullable or column.server_default is not None:
                        log.warning("%s lacks %s.%s, which cannot be added in place", redact(self.url),
                                    table.name, column.name)
                        continue
                    spec = CreateColumn(column).compile(dialect=self.engine.dialect)
                    name = self.engine.dialect.identifier_preparer.format_table(table)
                    conn.execute(DDL(f"ALTER TABLE {name} ADD COLUMN {spec}"))
                    log.info("added the column %s.%s to %s", table.name, column.name, redact(self.url))

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("documents")

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def central_schema_checked(central: Store) -> Iterator[None]:
    """Run central queries; a database error that comes from a schema older than this
    version's (a column or table a later migration adds) becomes a known error saying to run
    `workstation central upgrade`, instead of a bug. Other errors pass unchanged."""
    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        if exc.connection_invalidated:
            raise
        from workstation.migrate import schema_behind

        behind = schema_behind(central)
        if behind is None:
            raise
        raise behind from exc


def open_local(url: str) -> Store:
    """The station's local store, schema created on first use."""
    store = Store(url)
    store.create_schema()
    return store


def open_central(url: str, *, create: bool = False) -> Store:
    """The central database. With `create`, an empty database gets the current schema.

    Without it, a database that has no schema yet is a known error that says to run
    `workstation central init`.
    """
    store = Store(url)
    try:
        present = store.has_schema()
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(
            f"The central database at {redact(url)} cannot be reached.",
            "Check the network and that the server is running; keying goes on offline.",
        ) from exc
    if not present:
        if not create:
            raise KnownError(
                f"The central database at {redact(url)} has no schema yet.",
                "Run `workstation central init` (or `workstation demo`) first.",
            )
        from workstation.migrate import upgrade_central

        upgrade_central(store)
    return store
