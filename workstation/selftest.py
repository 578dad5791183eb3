"""`workstation --self-test`: can this installation (a frozen build included) run here?

One line per check, exit 0 only when every check passes. Runs headless: the Qt check uses the
offscreen platform plugin, so it also works on a build machine without a screen.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workstation.cli.context import CliContext

CORE_MODULES = (
    "workstation.models", "workstation.store", "workstation.templates", "workstation.fields",
    "workstation.images", "workstation.importer", "workstation.keying", "workstation.work",
    "workstation.sync", "workstation.compare", "workstation.resolve", "workstation.auth",
    "workstation.audit", "workstation.export", "workstation.migrate",
)


def _imports() -> str:
    for name in CORE_MODULES:
        importlib.import_module(name)
    return f"{len(CORE_MODULES)} core modules"


def _resources() -> str:
    from workstation.resources import resource_root, sample_template_paths

    root = resource_root()
    templates = sample_template_paths()
    if not templates:
        raise RuntimeError(f"no templates in {root}")
    if not (root / "style.qss").is_file():
        raise RuntimeError(f"style.qss missing in {root}")
    return f"{root} ({len(templates)} templates)"


def _template() -> str:
    from workstation.resources import sample_template_paths
    from workstation.templates import load_template

    template = load_template(sample_template_paths()[0])
    return f"{template.name} v{template.version}, {len(template.field_paths())} fields"


def _page() -> str:
    from PIL import Image, ImageDraw

    from workstation.images import decode_page

    page = Image.new("1", (1240, 1754), 1)
    ImageDraw.Draw(page).rectangle((100, 100, 600, 160), outline=0, width=3)
    buffer = io.BytesIO()
    page.save(buffer, format="TIFF", compression="group4", dpi=(150, 150))
    decoded = decode_page(buffer.getvalue(), "image/tiff")
    if len(decoded.pixels) != decoded.width * decoded.height:
        raise RuntimeError("decoded page has the wrong size")
    return f"G4 TIFF {decoded.width}x{decoded.height} decoded"


def _store() -> str:
    from sqlalchemy import select

    from workstation import models as m
    from workstation.store import open_local

    with tempfile.TemporaryDirectory(prefix="ws-selftest-") as tmp:
        store = open_local(f"sqlite:///{Path(tmp) / 'selftest.sqlite'}")
        try:
            with store.transaction() as s:
                user = m.User(username="selftest", role="keyer", password_hash="-")
                template = m.Template(name="selftest", version=1, source="", sha256="0" * 64)
                s.add_all([user, template])
                s.flush()
                batch = m.Batch(name="selftest", template_id=template.id)
                s.add(batch)
                s.flush()
                document = m.Document(batch_id=batch.id, seq=1)
                s.add(document)
                s.flush()
                entry = m.Entry(document_id=document.id, pass_no=1, keyer_id=user.id)
                s.add(entry)
                s.flush()
                s.add(m.FieldValue(entry_id=entry.id, keyer_id=user.id, field_path="x", value="42"))
            with store.session() as s:
                saved = len(s.scalars(select(m.FieldValue.id)).all())
        finally:
            store.dispose()
    if saved != 1:
        raise RuntimeError("the saved field was not found")
    return "temporary store opened, one field saved (WAL, synchronous=FULL)"


def _qt() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    probe = importlib.import_module("ui.selfcheck")
    return str(probe.check_qt())


def _keyring() -> str:
    from workstation.secrets import backend_name

    return backend_name()


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("imports", _imports),
    ("resources", _resources),
    ("template", _template),
    ("page decode", _page),
    ("local store", _store),
    ("qt", _qt),
    ("keyring", _keyring),
)


def run_self_test(ctx: "CliContext | None" = None, out: io.TextIOBase | None = None) -> int:
    stream = out or sys.stdout
    failures = 0
    started = time.perf_counter()
    for name, check in CHECKS:
        try:
            detail = check()
            stream.write(f"ok   {name}: {detail}\n")
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none hides the rest
            failures += 1
            stream.write(f"FAIL {name}: {exc.__class__.__name__}: {exc}\n")
            if ctx is not None and ctx.verbose:
                traceback.print_exc()
    stream.write(f"self-test {'passed' if not failures else f'failed ({failures})'} in {time.perf_counter() - started:.2f} s\n")
    stream.flush()
    return 0 if not failures else 1
