"""Batch import into the central database (SQLite and PostgreSQL)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.workstation import imagefiles as files
from workstation import importer, work
from workstation import models as m
from workstation.auth import operator
from workstation.errors import KnownError, TemplateError
from workstation.images import decode_page
from workstation.importer import import_paths, resolve_template_arg
from workstation.resources import resource_path
from workstation.store import Store
from workstation.templates import FormTemplate

ADMIN = operator("os:test")

SMALL = (620, 877)


@pytest.fixture
def template() -> FormTemplate:
    return resolve_template_arg("cms1500")


def count(central: Store, model: type[m.Base]) -> int:
    with central.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_mixed_folder_imports_the_good_files_and_names_each_bad_one(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    good = files.mixed_folder(tmp_path / "scans", size=SMALL)

    report = import_paths(central, template, "March claims", [tmp_path / "scans"], by=ADMIN, priority=3)

    assert report.batch_name == "March claims"
    assert report.documents == 4
    assert report.pages == sum(good.values()) == 7
    assert (report.images_new, report.images_reused) == (7, 0)
    reasons = dict(report.skipped)
    assert list(reasons) == ["e_empty.tif", "f_cut.tif", "g_noise.png", "h_notes.txt"]
    assert "empty" in reasons["e_empty.tif"]
    assert "truncated" in reasons["f_cut.tif"]
    assert "corrupt" in reasons["g_noise.png"]
    assert "unsupported" in reasons["h_notes.txt"]

    with central.session() as s:
        batch = s.get(m.Batch, report.batch_id)
        assert batch is not None and batch.name == "March claims" and batch.priority == 3
        tpl = s.get(m.Template, batch.template_id)
        assert tpl is not None and (tpl.name, tpl.version) == ("cms1500", 1)
        docs = s.scalars(select(m.Document).where(m.Document.batch_id == batch.id).order_by(m.Document.seq)).all()
        assert [(d.seq, d.source_name) for d in docs] == [(i + 1, name) for i, name in enumerate(good)]
        for doc in docs:
            pages = s.scalars(select(m.Page).where(m.Page.document_id == doc.id).order_by(m.Page.page_no)).all()
            assert [p.page_no for p in pages] == list(range(1, good[doc.source_name] + 1))
            tasks = s.scalars(select(m.Task).where(m.Task.document_id == doc.id).order_by(m.Task.pass_no)).all()
            assert [(t.pass_no, t.state, t.priority, t.batch_id, t.keyer_id) for t in tasks] == [
                (1, "open", 3, batch.id, None), (2, "open", 3, batch.id, None)]
    assert count(central, m.Image) == 7


def test_pages_keep_their_order_and_content(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    sources = [files.form_page(seed, SMALL) for seed in (11, 12, 13)]
    files.write(tmp_path / "doc.tif", files.tiff_bytes(sources))

    report = import_paths(central, template, "ordered", [tmp_path / "doc.tif"], by=ADMIN)

    with central.session() as s:
        rows = s.execute(
            select(m.Page.page_no, m.Image.data, m.Image.media_type)
            .join(m.Image, m.Image.sha256 == m.Page.image_sha256)
            .join(m.Document, m.Document.id == m.Page.document_id)
            .where(m.Document.batch_id == report.batch_id)
            .order_by(m.Page.page_no)
        ).all()
    assert [row.page_no for row in rows] == [1, 2, 3]
    for row, source in zip(rows, sources):
        assert decode_page(row.data, row.media_type).pixels == source.convert("L").tobytes()


def test_the_same_page_is_stored_once(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    page = files.tiff_bytes([files.form_page(21, SMALL)])
    files.write(tmp_path / "scans" / "one.tif", page)
    files.write(tmp_path / "scans" / "two.tif", page)  # the same sheet scanned into two files

    first = import_paths(central, template, "first", [tmp_path / "scans"], by=ADMIN)
    again = import_paths(central, template, "again", [tmp_path / "scans" / "one.tif"], by=ADMIN)

    assert (first.documents, first.pages, first.images_new, first.images_reused) == (2, 2, 1, 1)
    assert (again.documents, again.images_new, again.images_reused) == (1, 0, 1)
    assert count(central, m.Image) == 1
    assert count(central, m.Page) == 3
    with central.session() as s:
        shas = set(s.scalars(select(m.Page.image_sha256)))
    assert len(shas) == 1


def test_a_taken_batch_name_is_refused_before_anything_is_written(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    files.write(tmp_path / "a.png", files.image_bytes(files.form_page(1, SMALL, mode="L"), "PNG"))
    files.write(tmp_path / "b.png", files.image_bytes(files.form_page(2, SMALL, mode="L"), "PNG"))
    import_paths(central, template, "weekly", [tmp_path / "a.png"], by=ADMIN)

    with pytest.raises(KnownError, match="already exists") as caught:
        import_paths(central, template, "weekly", [tmp_path / "b.png"], by=ADMIN)

    assert caught.value.hint
    assert count(central, m.Document) == 1
    assert count(central, m.Image) == 1


def test_no_importable_file_leaves_no_batch(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    files.write(tmp_path / "bad" / "empty.tif", b"")
    files.write(tmp_path / "bad" / "notes.txt", b"hello")

    report = import_paths(central, template, "nothing", [tmp_path / "bad"], by=ADMIN)

    assert report.documents == 0
    assert [name for name, _reason in report.skipped] == ["empty.tif", "notes.txt"]
    assert count(central, m.Batch) == 0
    assert count(central, m.Task) == 0
    # The name is still free.
    files.write(tmp_path / "ok" / "page.png", files.image_bytes(files.form_page(3, SMALL, mode="L"), "PNG"))
    assert import_paths(central, template, "nothing", [tmp_path / "ok"], by=ADMIN).documents == 1


def test_a_failure_while_writing_a_document_leaves_no_part_of_it(
    central: Store, template: FormTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for seed in (1, 2, 3):
        files.write(tmp_path / "scans" / f"scan{seed}.png", files.image_bytes(files.form_page(seed, SMALL, mode="L"), "PNG"))
    real = importer._store_images
    calls = {"n": 0}

    def failing_on_second(s, pages):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        added = real(s, pages)
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return added

    monkeypatch.setattr(importer, "_store_images", failing_on_second)

    with pytest.raises(RuntimeError, match="disk full"):
        import_paths(central, template, "interrupted", [tmp_path / "scans"], by=ADMIN)

    # Document 1 is complete; nothing of document 2 (not even its image) remains.
    assert count(central, m.Document) == 1
    assert count(central, m.Page) == 1
    assert count(central, m.Image) == 1
    assert count(central, m.Task) == 2


def test_folders_are_walked_recursively_in_natural_order(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    png = files.image_bytes(files.form_page(1, SMALL, mode="L"), "PNG")
    for name in ("scan10.png", "scan2.png", "sub/scan1.png", ".hidden/scan0.png", ".DS_Store", "Scan3.png"):
        files.write(tmp_path / "box" / name, png)
    progress: list[tuple[int, int, str]] = []

    report = import_paths(central, template, "walked", [tmp_path / "box"], by=ADMIN, progress=lambda *a: progress.append(a))

    with central.session() as s:
        names = s.scalars(select(m.Document.source_name).order_by(m.Document.seq)).all()
    assert names == ["scan2.png", "Scan3.png", "scan10.png", "sub/scan1.png"]
    assert report.skipped == ()
    assert progress[0] == (0, 4, "")
    assert progress[1:] == [(1, 4, "scan2.png"), (2, 4, "Scan3.png"), (3, 4, "scan10.png"), (4, 4, "sub/scan1.png")]


def test_missing_paths_and_empty_folders_are_known_errors(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    with pytest.raises(KnownError, match="does not exist"):
        import_paths(central, template, "x", [tmp_path / "nowhere"], by=ADMIN)
    (tmp_path / "empty").mkdir()
    with pytest.raises(KnownError, match="no files"):
        import_paths(central, template, "x", [tmp_path / "empty"], by=ADMIN)
    with pytest.raises(KnownError, match="needs a name"):
        import_paths(central, template, "  ", [tmp_path / "empty"], by=ADMIN)
    assert count(central, m.Batch) == 0


def test_imported_documents_can_be_claimed_in_order(central: Store, template: FormTemplate, tmp_path: Path) -> None:
    for seed in (1, 2, 3):
        files.write(tmp_path / "scans" / f"p{seed}.tif", files.tiff_bytes([files.form_page(seed, SMALL)]))
    report = import_paths(central, template, "keyable", [tmp_path / "scans"], by=ADMIN)
    with central.transaction() as s:
        keyer = m.User(username=f"k{uuid.uuid4().hex[:6]}", role="keyer", password_hash="x")
        s.add(keyer)
        s.flush()
        keyer_id = keyer.id

    claim = work.claim(central, keyer_id, batch_id=report.batch_id, pass_no=1, max_documents=10)

    with central.session() as s:
        names = [s.get(m.Document, d).source_name for d in claim.document_ids]  # type: ignore[union-attr]
    assert names == ["p1.tif", "p2.tif", "p3.tif"]


def test_resolve_template_arg_takes_a_path_or_a_sample_name(tmp_path: Path) -> None:
    assert resolve_template_arg("rebate").name == "rebate"
    copy = shutil.copy(resource_path("templates", "survey.toml"), tmp_path / "my form.toml")
    assert resolve_template_arg(str(copy)).name == "survey"
    with pytest.raises(KnownError, match="cms1500"):
        resolve_template_arg("no_such_form")
    with pytest.raises(TemplateError, match="does not exist"):
        resolve_template_arg(str(tmp_path / "missing.toml"))


def test_a_name_taken_by_a_concurrent_import_is_reported_not_crashed(
    central: Store, template: FormTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files.write(tmp_path / "a" / "page.png", files.image_bytes(files.form_page(1, SMALL, mode="L"), "PNG"))
    files.write(tmp_path / "b" / "page.png", files.image_bytes(files.form_page(2, SMALL, mode="L"), "PNG"))
    real_preflight = importer._preflight

    def preflight_then_lose_the_race(*args: object) -> None:
        real_preflight(*args)  # the name is free now...
        monkeypatch.setattr(importer, "_preflight", real_preflight)
        import_paths(central, template, "race", [tmp_path / "a"], by=ADMIN)  # ...and now another import has it

    monkeypatch.setattr(importer, "_preflight", preflight_then_lose_the_race)

    with pytest.raises(KnownError, match="already exists"):
        import_paths(central, template, "race", [tmp_path / "b"], by=ADMIN)

    assert count(central, m.Batch) == 1
    assert count(central, m.Document) == 1
