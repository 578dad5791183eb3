"""Where the workstation keeps its files.

Every command honours `WORKSTATION_DATA_DIR` (or `--data-dir`): then the local store, the
embedded central database, settings, logs and the demo's ground truth all live below that one
folder, so a test or a demo never touches the user's real workspace. Without it the platform's
folders are used: the user data folder for the databases, the user config folder for the
settings file and the user log folder for the logs (on Windows all three are under
%LOCALAPPDATA%\\KeyingWorkstation).
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
    # Set for the default workspace only: the platform's config and log folders.
    config_dir: Path | None = None
    logs_dir: Path | None = None

    @property
    def local_db(self) -> Path:
        return self.root / "local.sqlite"

    @property
    def central_db(self) -> Path:
        return self.root / "central.sqlite"

    @property
    def settings_file(self) -> Path:
        return (self.config_dir or self.root) / "settings.toml"

    @property
    def log_dir(self) -> Path:
        return self.logs_dir or self.root / "logs"

    @property
    def truth_dir(self) -> Path:
        """Ground truth of demo batches: kept beside, never inside, the databases."""
        return self.root / "demo-truth"

    @property
    def scans_dir(self) -> Path:
        return self.root / "demo-scans"

    def ensure(self) -> "Workspace":
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.settings_file.parent.mkdir(parents=True, exist_ok=True)
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
        return Workspace(Path(chosen).expanduser().resolve()).ensure()
    return Workspace(
        Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
        logs_dir=Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR)),
    ).ensure()


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
