"""Finding bundled resources: from a source checkout, an installed copy, or a frozen build."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    """The `resources/` folder, wherever this copy of the program was started from."""
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    candidates.append(Path(sys.prefix) / "share" / "keying-workstation")
    for candidate in candidates:
        if (candidate / "templates").is_dir():
            return candidate
    raise FileNotFoundError(
        "The resources folder was not found; looked in " + ", ".join(map(str, candidates))
    )


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def sample_template_paths() -> list[Path]:
    return sorted(resource_path("templates").glob("*.toml"))
