"""resources/ is found from a frozen build, a source checkout and an installed copy, in that order."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from workstation import resources


def _resources_folder(root: Path) -> Path:
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "form.toml").write_text("", encoding="utf-8")
    (root / "style.qss").write_text("", encoding="utf-8")
    return root


def test_a_frozen_build_uses_the_bundled_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = _resources_folder(tmp_path / "_internal" / "resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    assert resources.resource_root() == bundled
    assert resources.resource_path("style.qss") == bundled / "style.qss"
    assert resources.sample_template_paths() == [bundled / "templates" / "form.toml"]


def test_a_source_checkout_uses_the_folder_beside_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    checkout = Path(resources.__file__).resolve().parent.parent
    assert resources.resource_root() == checkout / "resources"
    assert {p.stem for p in resources.sample_template_paths()} >= {"cms1500", "rebate", "survey"}


def test_an_installed_copy_uses_the_shared_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    # A wheel install: the package in site-packages, resources/ under <prefix>/share.
    monkeypatch.setattr(resources, "__file__", str(tmp_path / "site-packages" / "workstation" / "resources.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    shared = _resources_folder(tmp_path / "prefix" / "share" / "keying-workstation")
    assert resources.resource_root() == shared


def test_a_bundle_without_resources_is_an_error_naming_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "_internal"), raising=False)
    monkeypatch.setattr(resources, "__file__", str(tmp_path / "site-packages" / "workstation" / "resources.py"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    with pytest.raises(FileNotFoundError) as raised:
        resources.resource_root()
    assert str(tmp_path / "_internal" / "resources") in str(raised.value)
    assert str(tmp_path / "prefix" / "share" / "keying-workstation") in str(raised.value)
