"""Where the workstation keeps its files.

Every command honours `WORKSTATION_DATA_DIR` (or `--data-dir`); without it the platform's user
data folder is used. The local store, the embedded central database, settings, logs and the
demo's ground truth all live below that one folder, so a test or a demo never touches the
user's real workspace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "KeyingWorkstation"
APP_AUTHOR = "KeyingWorkstation"
DATA_DIR_ENV = "WORKSTATION_DATA_DIR"
CENTRAL_URL_ENV = "WORKSTATION_CENTRAL_URL"


@dataclass(frozen=True)
class Workspace:
    """The folder layout of one workspace."""

    root: Path

    @property
    def local_db(self) -> Path:
        return self.root / "local.sqlite"

    @property
    def central_db(self) -> Path:
        return self.root / "central.sqlite"

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.toml"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def truth_dir(self) -> Path:
        """Ground truth of demo batches: kept beside, never inside, the databases."""
        return self.root / "demo-truth"

    @property
    def scans_dir(self) -> Path:
        return self.root / "demo-scans"

    def ensure(self) -> "Workspace":
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        return self

    @property
    def embedded_central_url(self) -> str:
        return f"sqlite:///{self.central_db}"

    @property
    def local_url(self) -> str:
        return f"sqlite:///{self.local_db}"


def workspace(data_dir: str | os.PathLike[str] | None = None) -> Workspace:
    """The workspace named by the argument, the environment, or the platform default."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    if chosen:
        root = Path(chosen).expanduser().resolve()
    else:
        root = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    return Workspace(root).ensure()


def central_url(ws: Workspace, explicit: str | None = None) -> str:
    """The central database URL: flag, environment, settings file, else the embedded SQLite."""
    if explicit:
        return explicit
    env = os.environ.get(CENTRAL_URL_ENV)
    if env:
        return env
    from workstation.settings import load_settings

    configured = load_settings(ws).central_url
    return configured or ws.embedded_central_url
