"""`workstation --self-test`: can this installation (a frozen build included) run here?

A frozen build fails in ways a source checkout never does: a module found by name at run time
left out, a data file not bundled, a native library that does not load on this machine. Each
check exercises one of those paths for real (import every module, load every sample template,
decode a G4 TIFF and a PDF, save a field, run the Alembic migrations, load libpq, hash a
password, draw with Qt offscreen, name the keyring backend) and prints one line:

    ok   <check>: <what was found> (<ms> ms)
    FAIL <check>: <error>

then `self-test passed|failed ...`; exit status 0 only when every check passed. Runs headless
(Qt's offscreen platform plugin) and leaves nothing behind but temporary files it removes.
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from workstation.cli.context import CliContext

log = logging.getLogger(__name__)

# Packages whose modules are not imported by the check: Alembic runs the migration scripts
# itself (the "central schema" check), and a `__main__` module runs a program when imported.
_NOT_IMPORTED = ("workstation.migrations",)


def module_names(package: str) -> list[str]:
    """Every module of `package`, found the way the CLI and Alembic find theirs (by name)."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if info.name.startswith(_NOT_IMPORTED) or info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        names.append(info.name)
    return names


def _imports() -> str:
    names = module_names("workstation")
    for name in names:
        importlib.import_module(name)
    return f"{len(names)} modules of the core"


def _resources() -> str:
    from workstation.resources import resource_path, resource_root, sample_template_paths

    root = resource_root()
    templates = sample_template_paths()
    if not templates:
        raise RuntimeError(f"no templates in {root}")
    for part in ("style.qss", "icons/workstation.png", "icons/workstation.svg", "icons/workstation.ico"):
        if not resource_path(*part.split("/")).is_file():
            raise RuntimeError(f"{part} missing in {root}")
    return f"{root} ({len(templates)} templates, style sheet, icons)"


def _templates() -> str:
    from workstation.resources import sample_template_paths
    from workstation.templates import load_template

    loaded = [load_template(path) for path in sample_template_paths()]
    return ", ".join(f"{t.name} v{t.version} ({len(t.field_paths())} fields)" for t in loaded)


def _pages() -> str:
    from PIL import Image, ImageDraw

    from workstation.images import decode_page, pages_from_bytes

    # A strip of a form at 300 dpi: big enough for every decoder path, small enough to be quick.
    form = Image.new("1", (1200, 600), 1)
    ImageDraw.Draw(form).rectangle((100, 100, 600, 160), outline=0, width=3)
    tiff, pdf = io.BytesIO(), io.BytesIO()
    form.save(tiff, format="TIFF", compression="group4", dpi=(300, 300))
    form.convert("L").save(pdf, format="PDF", resolution=300)
    decoded = []
    for name, data in (("selftest.tif", tiff.getvalue()), ("selftest.pdf", pdf.getvalue())):
        (page,) = pages_from_bytes(data, name)
        shown = decode_page(page.data, page.media_type)
        if len(shown.pixels) != shown.width * shown.height or abs(shown.width / shown.height - 2) > 0.01:
            raise RuntimeError(f"{name} decoded to a wrong size ({shown.width}x{shown.height})")
        decoded.append(f"{shown.width}x{shown.height}")
    return f"G4 TIFF {decoded[0]} and PDF (pdfium) {decoded[1]} decoded"


def _local_store() -> str:
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
                saved = s.scalars(select(m.FieldValue.value)).all()
        finally:
            store.dispose()
    if saved != ["42"]:
        raise RuntimeError(f"the saved field was not read back (got {saved!r})")
    return "temporary SQLite store opened, one field saved and read back"


def _central_schema() -> str:
    from workstation.migrate import current_revision, head_revision
    from workstation.store import open_central

    # In memory: this checks Alembic, env.py and the migration scripts; the disk is the local
    # store's check.
    store = open_central("sqlite://", create=True)
    try:
        revision = current_revision(store)
    finally:
        store.dispose()
    head = head_revision()
    if revision != head:
        raise RuntimeError(f"the migrations stopped at {revision}, head is {head}")
    return f"Alembic migrated an in-memory central database to {head} (head)"


def _database_drivers() -> str:
    import psycopg
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://selftest@localhost/selftest")  # never connects
    try:
        dialect = f"{engine.dialect.name}+{engine.dialect.driver}"
    finally:
        engine.dispose()
    libpq = psycopg.pq.version()
    return (f"sqlite, {dialect} (psycopg {psycopg.__version__}, {psycopg.pq.__impl__} libpq "
            f"{libpq // 10000}.{libpq % 10000})")


def _passwords() -> str:
    from argon2 import PasswordHasher
    from argon2 import __version__ as argon2_version

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # cheap, same code path
    if not hasher.verify(hasher.hash("self-test"), "self-test"):
        raise RuntimeError("argon2 did not verify its own hash")
    return f"argon2id hash and verify (argon2-cffi {argon2_version})"


def _qt() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    probe = importlib.import_module("ui.selfcheck")
    return str(probe.check_qt())


def _ui() -> str:
    probe = importlib.import_module("ui.selfcheck")
    return str(probe.check_ui_modules())


def _keyring() -> str:
    from workstation.secrets import backend_name

    name = backend_name()
    if name.startswith("keyring.backends.fail."):
        if sys.platform == "win32":
            raise RuntimeError(f"{name}: the Windows Credential Manager backend is missing from this build")
        return f"{name} (no credential store here: `workstation central login` cannot save a password)"
    return name


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("imports", _imports),
    ("resources", _resources),
    ("templates", _templates),
    ("page decode", _pages),
    ("local store", _local_store),
    ("central schema", _central_schema),
    ("database drivers", _database_drivers),
    ("passwords", _passwords),
    ("qt", _qt),
    ("ui", _ui),
    ("keyring", _keyring),
)


def _results(checks: tuple[tuple[str, Callable[[], str]], ...], verbose: bool) -> Iterator[tuple[bool, str]]:
    for name, check in checks:
        started = time.perf_counter()
        try:
            detail = check()
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none hides the rest
            log.error("self-test check %s failed", name, exc_info=True)
            if verbose:
                traceback.print_exc()
            yield False, f"FAIL {name}: {exc.__class__.__name__}: {exc}"
            continue
        yield True, f"ok   {name}: {detail} ({(time.perf_counter() - started) * 1000:.0f} ms)"


def run_self_test(ctx: "CliContext | None" = None, out: TextIO | None = None,
                  checks: tuple[tuple[str, Callable[[], str]], ...] = CHECKS) -> int:
    """Run every check; 0 when all passed, 1 otherwise.

    A windowed Windows executable has no stdout: the lines then go to the log file only."""
    stream = out or sys.stdout or io.StringIO()
    failures = 0
    started = time.perf_counter()
    for passed, line in _results(checks, ctx is not None and ctx.verbose):
        failures += not passed
        log.info("self-test: %s", line)
        stream.write(line + "\n")
        stream.flush()
    verdict = "passed" if not failures else f"failed ({failures} of {len(checks)} checks)"
    stream.write(f"self-test {verdict} in {time.perf_counter() - started:.2f} s\n")
    stream.flush()
    return 0 if not failures else 1
