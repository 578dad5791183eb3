"""The workspace's settings file (TOML). Secrets never go here: they live in keyring."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from workstation.errors import KnownError

if TYPE_CHECKING:
    from workstation.paths import Workspace


@dataclass(frozen=True)
class Settings:
    central_url: str = ""
    idle_threshold_s: float = 30.0
    lease_minutes: float = 30.0
    lock_after_minutes: float = 10.0  # the station locks after this long without input (0: never)
    login_max_failures: int = 5  # wrong passwords in a row that lock an account...
    lockout_minutes: float = 15.0  # ...for this long
    purge_after_push: bool = True
    station_name: str = ""
    # Tiny teams: a QA lead may decide documents they keyed (each such decision is flagged in the audit).
    qa_allow_own_entries: bool = False
    # Headless commands run without --as act as the machine's operator (admin rights): right for
    # an administrator's machine. Set false on keyers' desktops, whose credential store holds the
    # central database password, so every command there must name an account and its password.
    operator_commands: bool = True


def load_settings(ws: "Workspace") -> Settings:
    path = ws.settings_file
    if not path.exists():
        return Settings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise KnownError(
            f"The settings file {path} cannot be read: {exc}.",
            "Fix or delete it; the defaults will be used.",
        ) from exc
    known = {f.name for f in fields(Settings)}
    return replace(Settings(), **{k: v for k, v in raw.items() if k in known})


def save_settings(ws: "Workspace", settings: Settings) -> None:
    lines = []
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, float)):
            text = repr(value)
        else:
            text = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines.append(f"{f.name} = {text}")
    tmp = ws.settings_file.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(ws.settings_file)
