"""Creating and upgrading the central schema with Alembic, configured in code (no ini file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
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
