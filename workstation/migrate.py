"""Creating and upgrading the central schema with Alembic, configured in code (no ini file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from workstation.errors import KnownError
    from workstation.store import Store

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(store: "Store") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = store.engine
    return cfg


def upgrade_central(store: "Store", revision: str = "head") -> None:
    command.upgrade(alembic_config(store), revision)


def current_revision(store: "Store") -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def schema_behind(store: Store) -> KnownError | None:
    """A sentence saying to upgrade when the central schema is an older revision of this
    version's migrations, else None (up to date, newer than this version, or not readable)."""
    from sqlalchemy.exc import SQLAlchemyError

    from workstation.errors import KnownError
    from workstation.store import redact

    try:
        current = current_revision(store)
    except SQLAlchemyError:
        return None
    scripts = ScriptDirectory(str(MIGRATIONS))
    head = scripts.get_current_head()
    if current is None or current == head or current not in {r.revision for r in scripts.walk_revisions()}:
        return None
    return KnownError(f"The central database at {redact(store.url)} has schema {current}; this version of the "
                      f"workstation needs {head}.", "An administrator runs `workstation central upgrade` once.")

