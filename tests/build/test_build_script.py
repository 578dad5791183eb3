"""build/build.py: the Windows version resource carries the package version, and the installer
script, the spec and the build agree on names (they are only exercised on a Windows runner)."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from types import ModuleType

from workstation import __version__

ROOT = Path(__file__).resolve().parents[2]


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("workstation_build_script", ROOT / "build" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_version_resource_is_filled_from_the_package_version() -> None:
    build = _build_script()
    assert build.version() == __version__
    text = build.version_resource("2.13.4")
    tree = ast.parse(text, mode="eval")  # PyInstaller evaluates it as one Python expression
    assert isinstance(tree.body, ast.Call) and getattr(tree.body.func, "id", "") == "VSVersionInfo"
    assert "filevers=(2, 13, 4, 0)" in text and "prodvers=(2, 13, 4, 0)" in text
    assert "StringStruct('ProductVersion', '2.13.4')" in text


def test_installer_spec_and_build_name_the_same_files() -> None:
    build = _build_script()
    iss = (ROOT / "build" / "installer.iss").read_text(encoding="utf-8")
    spec = (ROOT / "workstation.spec").read_text(encoding="utf-8")
    assert r'Source: "..\dist\workstation\*"' in iss
    assert build.bundle_dir() == ROOT / "dist" / "workstation"
    for exe in ("workstation.exe", "workstation-cli.exe"):
        assert exe in iss
        assert f'_exe("{exe.removesuffix(".exe")}"' in spec
    output = re.search(r"OutputBaseFilename=(\S+)", iss)
    assert output and output[1] == "KeyingWorkstation-{#AppVersion}-setup"
