"""Where a workspace keeps its files: one folder when named, the platform's folders otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from workstation import paths
from workstation.settings import Settings, load_settings, save_settings


def test_a_named_data_dir_holds_everything(data_dir: Path) -> None:
    ws = paths.workspace()
    assert ws.root == data_dir.resolve()
    assert ws.settings_file.parent == ws.root
    assert ws.log_dir == ws.root / "logs" and ws.log_dir.is_dir()
    assert ws.local_db.parent == ws.root and ws.central_db.parent == ws.root


def test_the_default_workspace_uses_the_platform_data_config_and_log_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.DATA_DIR_ENV)
    for kind in ("data", "config", "log"):
        monkeypatch.setattr(paths.platformdirs, f"user_{kind}_dir",
                            lambda app, author, kind=kind: str(tmp_path / kind / app))
    ws = paths.workspace()
    assert ws.root == tmp_path / "data" / paths.APP_NAME
    assert ws.settings_file == tmp_path / "config" / paths.APP_NAME / "settings.toml"
    assert ws.log_dir == tmp_path / "log" / paths.APP_NAME and ws.log_dir.is_dir()
    save_settings(ws, Settings(central_url="postgresql://keyer@db.example/central"))
    assert ws.settings_file.is_file() and not (ws.root / "settings.toml").exists()
    assert paths.central_url(paths.workspace()) == "postgresql://keyer@db.example/central"
    assert load_settings(ws).central_url.endswith("/central")
