"""`workstation import` end to end: parse, import, progress, summary, exit status."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.workstation import imagefiles as files
from workstation import models as m
from workstation.cli import main
from workstation.paths import Workspace
from workstation.store import Store, open_central

SMALL = (620, 877)


def test_import_prints_a_summary_and_each_skipped_file(central: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files.mixed_folder(tmp_path / "scans", size=SMALL)

    status = main(["--central", central.url, "import", "--template", "cms1500", "--batch", "B-1",
                   "--priority", "5", str(tmp_path / "scans")])

    out, err = capsys.readouterr()
    assert status == 0
    assert "Batch B-1: 4 document(s), 7 page(s) imported; 7 new image(s), 0 already stored." in out
    assert "Skipped 4 file(s):" in out
    for line in ("e_empty.tif: empty", "f_cut.tif: truncated", "g_noise.png: corrupt", "h_notes.txt: unsupported"):
        assert f"  {line}" in out
    assert "Importing B-1" in err and "8/8" in err  # the progress bar
    with central.session() as s:
        batch = s.scalars(select(m.Batch).where(m.Batch.name == "B-1")).one()
        assert batch.priority == 5
        assert s.scalar(select(func.count()).select_from(m.Task).where(m.Task.batch_id == batch.id)) == 8


def test_import_uses_the_embedded_central_database_by_default(ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files.write(tmp_path / "in" / "page.tif", files.tiff_bytes([files.form_page(1, SMALL)]))

    assert main(["import", "--template", "rebate", "--batch", "first", str(tmp_path / "in")]) == 0

    assert "1 document(s), 1 page(s)" in capsys.readouterr().out
    store = open_central(ws.embedded_central_url)
    with store.session() as s:
        assert s.scalars(select(m.Batch.name)).all() == ["first"]
    store.dispose()


def test_import_of_nothing_readable_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files.write(tmp_path / "in" / "blank.png", b"")

    assert main(["import", "--template", "cms1500", "--batch", "none", str(tmp_path / "in")]) == 1

    out = capsys.readouterr().out
    assert "Nothing was imported" in out
    assert "blank.png: empty file" in out


def test_a_taken_batch_name_or_unknown_template_is_a_known_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files.write(tmp_path / "in" / "page.png", files.image_bytes(files.form_page(2, SMALL, mode="L"), "PNG"))
    assert main(["import", "--template", "cms1500", "--batch", "dup", str(tmp_path / "in")]) == 0
    capsys.readouterr()

    assert main(["import", "--template", "cms1500", "--batch", "dup", str(tmp_path / "in")]) == 2
    err = capsys.readouterr().err
    assert "error: A batch named 'dup' already exists." in err
    assert "Traceback" not in err

    assert main(["import", "--template", "nosuch", "--batch", "other", str(tmp_path / "in")]) == 2
    assert "no template file or sample template named 'nosuch'" in capsys.readouterr().err


def test_the_template_may_be_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = files.write(tmp_path / "form.toml", b"""
[template]
name = "tiny"
title = "Tiny form"

[[fields]]
key = "amount"
type = "money"
zone = { page = 1, x = 0.1, y = 0.1, w = 0.3, h = 0.05 }
""")
    files.write(tmp_path / "in" / "page.jpg", files.image_bytes(files.form_page(3, SMALL, mode="L"), "JPEG"))

    assert main(["import", "--template", str(template), "--batch", "tiny-1", str(tmp_path / "in")]) == 0
    assert "1 document(s)" in capsys.readouterr().out


def test_a_station_set_to_refuse_operator_commands_needs_an_account(
        ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from workstation import auth
    from workstation.settings import Settings, save_settings

    files.write(tmp_path / "in" / "page.tif", files.tiff_bytes([files.form_page(1, SMALL)]))
    save_settings(ws, Settings(operator_commands=False))  # a keyer's desktop

    assert main(["import", "--template", "rebate", "--batch", "sneaky", str(tmp_path / "in")]) == 2
    assert "must name the account" in capsys.readouterr().err
    assert main(["stats"]) == 2

    central = open_central(ws.embedded_central_url, create=True)
    auth.create_user(central, None, "boss", "admin", "a-long-password")
    central.dispose()
    monkeypatch.setenv("WORKSTATION_PASSWORD", "a-long-password")
    assert main(["import", "--as", "boss", "--template", "rebate", "--batch", "proper", str(tmp_path / "in")]) == 0
    store = open_central(ws.embedded_central_url)
    with store.session() as s:
        assert s.scalars(select(m.Batch.name)).all() == ["proper"]
    store.dispose()
