"""Batch import: a folder of scans becomes a batch of documents that keyers can claim.

Each file is one document (a multi-page TIFF or PDF is one document with its pages in order).
Folders are walked recursively, files in natural sorted order (`scan2` before `scan10`), hidden
files and folders skipped. Files are read and re-encoded on a small thread pool, outside any
database transaction; each good document is then written in its own short transaction with its
images (only those not stored yet), its pages and two open tasks (passes 1 and 2), so a crash or
a lost connection never leaves half a document, and every stored document is keyable at once.

The batch row is written with the first good document: if no file can be imported, no empty
batch is left behind. A file that cannot be read is skipped and reported with its reason.

Only administrators import (`auth.require(by, "import")`); the import is audited. A file name
that is not valid UTF-8 (possible on Linux) is stored and reported with U+FFFD in place of the
bytes that cannot be decoded; the file itself is still read by its real path.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from workstation import audit, catalog
from workstation import models as m
from workstation.auth import Actor, require
from workstation.errors import DatabaseUnavailable, KnownError
from workstation.images import SUPPORTED_SUFFIXES, PageImage, UnreadableImage, read_pages
from workstation.resources import sample_template_paths
from workstation.store import Store
from workstation.templates import FormTemplate, load_template

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]

_NAME_MAX = 128  # models.Batch.name
_SOURCE_MAX = 512  # models.Document.source_name


@dataclass(frozen=True)
class ImportReport:
    """What an import did. `batch_id` is only stored when `documents` > 0."""

    batch_id: uuid.UUID
    batch_name: str
    documents: int
    pages: int
    images_new: int
    images_reused: int
    skipped: tuple[tuple[str, str], ...]  # (file name, reason)


@dataclass(frozen=True)
class ScanFile:
    """A file to import and the name it is reported and stored under."""

    path: Path
    name: str


@dataclass
class _Batch:
    """The batch being written; the row exists once `stored` is true."""

    id: uuid.UUID
    name: str
    priority: int
    template: FormTemplate
    by: Actor
    stored: bool = False
    documents: int = 0
    pages: int = 0
    images_new: int = 0
    images_reused: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def import_paths(
    central: Store,
    template: FormTemplate,
    batch_name: str,
    paths: Sequence[Path],
    *,
    by: Actor,
    priority: int = 0,
    progress: Progress | None = None,
) -> ImportReport:
    """Import scan files and folders as a new batch under `template`.

    Raises `KnownError` before anything is written when the batch name is taken or invalid, a
    path does not exist, no files are found, or the template clashes with a stored version.
    """
    require(by, "import")
    name = _check_batch_name(batch_name)
    files = collect_files(paths)
    if not files:
        raise KnownError(
            "There are no files to import in " + ", ".join(str(p) for p in paths) + ".",
            f"Give scan files or folders holding them ({' '.join(SUPPORTED_SUFFIXES)}).",
        )
    _preflight(central, template, name)
    batch = _Batch(uuid.uuid4(), name, priority, template, by)
    total = len(files)
    if progress:
        progress(0, total, "")
    with closing(_read_all(files)) as results:  # closing stops the readers if a write fails
        for done, (scan, outcome) in enumerate(results, start=1):
            if isinstance(outcome, UnreadableImage):
                batch.skipped.append((scan.name, outcome.reason))
                log.warning("skipped %s: %s", scan.name, outcome.reason)
            else:
                _store_document(central, batch, scan, outcome, done, total)
            if progress:
                progress(done, total, scan.name)
    log.info(
        "import of batch %s: %d documents, %d pages, %d new images, %d skipped files",
        name, batch.documents, batch.pages, batch.images_new, len(batch.skipped),
    )
    if batch.stored:
        _audit_import(central, batch)
    return ImportReport(
        batch_id=batch.id,
        batch_name=name,
        documents=batch.documents,
        pages=batch.pages,
        images_new=batch.images_new,
        images_reused=batch.images_reused,
        skipped=tuple(batch.skipped),
    )


def resolve_template_arg(arg: str) -> FormTemplate:
    """A template from a .toml path, or by the name of a bundled sample (e.g. "cms1500")."""
    path = Path(arg).expanduser()
    if path.suffix.lower() == ".toml" or path.is_file() or "/" in arg or os.sep in arg:
        return load_template(path)
    samples = {p.stem: p for p in sample_template_paths()}
    if arg in samples:
        return load_template(samples[arg])
    raise KnownError(
        f"There is no template file or sample template named {arg!r}.",
        f"Give the path of a .toml template, or one of the samples: {', '.join(sorted(samples))}.",
    )


# --- finding files -----------------------------------------------------------------------------


def collect_files(paths: Sequence[Path]) -> list[ScanFile]:
    """The files to import, in order: folders walked recursively, natural sort, no duplicates.

    A file named directly is taken whatever its type (an unsupported one is then reported);
    hidden files and folders inside a folder are left out.
    """
    found: list[ScanFile] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            candidates = [ScanFile(f, display_name(f.relative_to(path).as_posix())) for f in _walk(path)]
        elif path.is_file():
            candidates = [ScanFile(path, display_name(path.name))]
        else:
            raise KnownError(f"{display_name(str(path))} does not exist.", "Check the path of the scans to import.")
        for scan in candidates:
            key = scan.path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(scan)
    return found


def display_name(name: str) -> str:
    """A file name fit to store, log and print: undecodable bytes become U+FFFD.

    Python hands back bytes of a name that are not valid in the file system's encoding as lone
    surrogates, which no database driver, UTF-8 log file or terminal accepts.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", errors="replace")
    return name


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=_natural)
        for name in sorted((f for f in files if not f.startswith(".")), key=_natural):
            yield Path(folder) / name


_DIGITS = re.compile(r"(\d+)")


def _natural(name: str) -> list[tuple[int, int | str]]:
    """Sort key that orders digit runs by value: scan2 before scan10."""
    return [(0, int(part)) if part.isdigit() else (1, part.casefold()) for part in _DIGITS.split(name) if part]


# --- reading (off the database, on a thread pool) ----------------------------------------------


def _read_all(files: Sequence[ScanFile]) -> Generator[tuple[ScanFile, list[PageImage] | UnreadableImage], None, None]:
    """Each file's pages (or why it is unreadable), in order, read a few files ahead.

    Decoding and re-encoding run in C with the GIL released, so a small pool keeps both cores
    busy while the calling thread writes to the database. Reading only a few files ahead bounds
    memory however large the batch is.
    """
    workers = max(1, min(4, os.cpu_count() or 1))
    ahead = 2 * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import-read") as pool:
        pending: deque[tuple[ScanFile, Future[list[PageImage] | UnreadableImage]]] = deque()
        queue = iter(files)
        try:
            for scan in queue:
                pending.append((scan, pool.submit(_read_one, scan)))
                if len(pending) >= ahead:
                    break
            while pending:
                scan, future = pending.popleft()
                following = next(queue, None)
                if following is not None:
                    pending.append((following, pool.submit(_read_one, following)))
                yield scan, future.result()
        finally:
            for _scan, future in pending:
                future.cancel()


def _read_one(scan: ScanFile) -> list[PageImage] | UnreadableImage:
    try:
        return read_pages(scan.path)
    except UnreadableImage as exc:
        return exc


# --- writing -----------------------------------------------------------------------------------


def _check_batch_name(batch_name: str) -> str:
    name = batch_name.strip()
    if not name:
        raise KnownError("The batch needs a name.", "Give one with --batch NAME.")
    if len(name) > _NAME_MAX:
        raise KnownError(f"The batch name is longer than {_NAME_MAX} characters.", "Choose a shorter name.")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in name):
        raise KnownError(f"The batch name {display_name(name)!r} holds control characters or bytes that are not text.",
                         "Use letters, digits, spaces and punctuation.")
    return name


def _name_taken(name: str) -> KnownError:
    return KnownError(
        f"A batch named {name!r} already exists.",
        "Batch names are unique: choose a new name for this import.",
    )


def _preflight(central: Store, template: FormTemplate, name: str) -> None:
    """Refuse a taken name or a clashing template before any file is read; writes nothing."""
    try:
        with central.session() as s, s.begin() as tx:
            if s.scalars(select(m.Batch.id).where(m.Batch.name == name)).first() is not None:
                raise _name_taken(name)
            catalog.register_template(s, template)  # raises if the version's text changed
            tx.rollback()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            "The central database cannot be reached.",
            "Check that it is running and the address is right, then import again.",
        ) from exc


def _store_document(central: Store, batch: _Batch, scan: ScanFile, pages: list[PageImage], done: int, total: int) -> None:
    try:
        new = _write_document(central, batch, scan, pages)
    except IntegrityError as exc:
        if batch.stored:
            raise
        if _exists(central, batch.name):
            raise _name_taken(batch.name) from exc  # another import took the name meanwhile
        # Another import registered the same template version a moment ago: it is there now.
        new = _write_document(central, batch, scan, pages)
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"The central database stopped answering at file {done} of {total} ({scan.name}).",
            _partial_hint(batch),
        ) from exc
    batch.stored = True
    batch.documents += 1
    batch.pages += len(pages)
    batch.images_new += new
    batch.images_reused += len(pages) - new
    if len(pages) < batch.template.pages:
        log.warning("document %d has %d page(s); template %s has %d", batch.documents, len(pages),
                    batch.template.name, batch.template.pages)


def _write_document(central: Store, batch: _Batch, scan: ScanFile, pages: list[PageImage]) -> int:
    """One document with its new images, pages and two open tasks, in one transaction.

    Returns how many images were new.
    """
    with central.transaction() as s:
        if not batch.stored:
            template_row = catalog.register_template(s, batch.template, by=batch.by)
            s.add(m.Batch(id=batch.id, name=batch.name, template_id=template_row.id, priority=batch.priority))
            s.flush()
            audit.record(s, "batch.create", actor=batch.by, subject=batch.name,
                         details={"template": f"{batch.template.name} v{batch.template.version}"})
        new = _store_images(s, pages)
        document_id = m.new_id()
        now = m.utcnow()
        s.execute(insert(m.Document).values(
            id=document_id, batch_id=batch.id, seq=batch.documents + 1, source_name=scan.name[-_SOURCE_MAX:],
            state="keying", created_at=now,
        ))
        s.execute(insert(m.Page), [
            {"id": m.new_id(), "document_id": document_id, "page_no": number, "image_sha256": page.sha256}
            for number, page in enumerate(pages, start=1)
        ])
        s.execute(insert(m.Task), [
            {"id": m.new_id(), "batch_id": batch.id, "document_id": document_id, "pass_no": pass_no,
             "state": "open", "priority": batch.priority, "created_at": now}
            for pass_no in (m.PASS_FIRST, m.PASS_SECOND)
        ])
    return new


def _audit_import(central: Store, batch: _Batch) -> None:
    with central.transaction() as s:
        audit.record(s, "batch.import", actor=batch.by, subject=batch.name,
                     details={"documents": batch.documents, "pages": batch.pages, "skipped": len(batch.skipped)})


def _partial_hint(batch: _Batch) -> str:
    if not batch.stored:
        return "Nothing was stored; import again when the database is back."
    return (f"Batch {batch.name!r} holds the first {batch.documents} document(s); import the remaining "
            "files as a new batch when the database is back.")


def _exists(central: Store, name: str) -> bool:
    with central.session() as s:
        return s.scalars(select(m.Batch.id).where(m.Batch.name == name)).first() is not None


def _store_images(s: Session, pages: list[PageImage]) -> int:
    """Insert the images not stored yet; returns how many rows this call added."""
    unique = {page.sha256: page for page in pages}
    present = set(s.scalars(select(m.Image.sha256).where(m.Image.sha256.in_(list(unique)))))
    added = 0
    for sha, page in unique.items():
        if sha in present:
            continue
        values = {"sha256": sha, "media_type": page.media_type, "width": page.width, "height": page.height,
                  "dpi": page.dpi, "data": page.data}
        added += _insert_image(s, values)
    return added


def _insert_image(s: Session, values: dict[str, object]) -> int:
    """Insert one image row; 0 when another import stored the same content a moment ago."""
    dialect = s.get_bind().dialect.name
    statement: Insert
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(m.Image).on_conflict_do_nothing(index_elements=["sha256"])
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(m.Image).on_conflict_do_nothing(index_elements=["sha256"])
    else:
        s.execute(insert(m.Image).values(values))
        return 1
    # RETURNING says whether the row went in; rowcount is not reliable for ON CONFLICT everywhere.
    return len(s.execute(statement.values(values).returning(m.Image.sha256)).all())
