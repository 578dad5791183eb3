"""Seed a central database the way an import leaves it, and finish units the way keying does.

Import (written separately) makes a batch of documents with pages and content-addressed images
and two open tasks per document (passes 1 and 2). Keying (also separate) writes finished entries,
field values and an outbox item into the local store. These helpers write the same rows directly
so work claiming and sync can be tested on their own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from PIL import Image as PILImage
from sqlalchemy import select

from workstation import catalog
from workstation import models as m
from workstation.resources import resource_path
from workstation.store import Store
from workstation.templates import FormTemplate, load_template


@dataclass(frozen=True)
class SeededBatch:
    batch_id: uuid.UUID
    template: FormTemplate
    document_ids: tuple[uuid.UUID, ...]


def png_bytes(seed: int, size: int = 8) -> bytes:
    """A small PNG whose bytes (so its SHA-256) differ per seed."""
    image = PILImage.new("L", (size, size), 128)
    for i in range(8):  # 64 bits of the seed in the first row
        image.putpixel((i, 0), (seed >> (8 * i)) & 0xFF)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def add_user(central: Store, username: str, role: str = "keyer") -> uuid.UUID:
    with central.transaction() as s:
        user = m.User(username=username, display_name=username.title(), role=role, password_hash="x")
        s.add(user)
        s.flush()
        return user.id


def add_users(central: Store, count: int, prefix: str = "keyer") -> list[uuid.UUID]:
    with central.transaction() as s:
        users = [m.User(username=f"{prefix}{i:03d}", role="keyer", password_hash="x") for i in range(count)]
        s.add_all(users)
        s.flush()
        return [u.id for u in users]


def sample_template(name: str = "rebate") -> FormTemplate:
    return load_template(resource_path("templates", f"{name}.toml"))


def seed_batch(
    central: Store,
    *,
    documents: int = 4,
    template: str = "rebate",
    name: str | None = None,
    priority: int = 0,
    created_at: dt.datetime | None = None,
    passes: Sequence[int] = (1, 2),
    image_for: Callable[[int, int], bytes] | None = None,
) -> SeededBatch:
    """A batch of `documents` documents, each page with an image, and open tasks for `passes`.

    `image_for(doc_index, page_no)` gives the page bytes; by default every page differs. Pages
    that return the same bytes share one image row, as import stores them.
    """
    tpl = sample_template(template)
    created = created_at or m.utcnow()
    salt = uuid.uuid4().int & 0xFFFF_FFFF_0000_0000
    image_for = image_for or (lambda doc, page: png_bytes(salt | (doc << 8) | page))
    with central.transaction() as s:
        row = catalog.register_template(s, tpl)
        batch = m.Batch(name=name or f"batch-{uuid.uuid4().hex[:8]}", template_id=row.id,
                        priority=priority, created_at=created)
        s.add(batch)
        s.flush()
        doc_ids: list[uuid.UUID] = []
        seen: set[str] = set()
        for index in range(documents):
            doc = m.Document(batch_id=batch.id, seq=index + 1, source_name=f"scan_{index + 1:04d}.png",
                             created_at=created)
            s.add(doc)
            s.flush()
            for page_no in range(1, tpl.pages + 1):
                data = image_for(index, page_no)
                sha = hashlib.sha256(data).hexdigest()
                if sha not in seen and s.get(m.Image, sha) is None:
                    s.add(m.Image(sha256=sha, media_type="image/png", width=8, height=8, dpi=300, data=data))
                    s.flush()
                seen.add(sha)
                s.add(m.Page(document_id=doc.id, page_no=page_no, image_sha256=sha))
            for pass_no in passes:
                s.add(m.Task(batch_id=batch.id, document_id=doc.id, pass_no=pass_no, created_at=created))
            doc_ids.append(doc.id)
        s.flush()
        return SeededBatch(batch.id, tpl, tuple(doc_ids))


def value_for(document_id: uuid.UUID, pass_no: int, path: str) -> str:
    """A recognisable keyed value: searching a database file for it finds any leak."""
    return f"V{pass_no}-{document_id.hex[:10]}-{path}".upper()


def write_finished_unit(
    local: Store,
    unit_id: uuid.UUID,
    *,
    documents: Iterable[uuid.UUID] | None = None,
    template: FormTemplate | None = None,
    fields: int | None = None,
    outbox: bool = True,
) -> list[uuid.UUID]:
    """Key a pulled unit locally as keying would: entries finished, values saved, outbox item.

    `documents` limits which of the unit's documents are keyed (the rest stay unkeyed);
    `fields` limits how many field paths are keyed per document. Returns the entry ids.
    """
    now = m.utcnow()
    with local.transaction() as s:
        unit = s.get(m.WorkUnit, unit_id)
        assert unit is not None, "pull the unit first"
        tasks = s.scalars(select(m.Task).where(m.Task.unit_id == unit_id)).all()
        if template is None:
            batch = s.get(m.Batch, unit.batch_id)
            assert batch is not None
            template = catalog.template_by_id(s, batch.template_id)
        paths = template.field_paths()
        if fields is not None:
            paths = paths[:fields]
        chosen = set(documents) if documents is not None else {t.document_id for t in tasks}
        entry_ids: list[uuid.UUID] = []
        values: list[dict[str, object]] = []
        for task in tasks:
            if task.document_id not in chosen:
                continue
            entry = m.Entry(document_id=task.document_id, pass_no=unit.pass_no, keyer_id=unit.keyer_id,
                            unit_id=unit_id, started_at=now, finished_at=now)
            s.add(entry)
            s.flush()
            entry_ids.append(entry.id)
            for path in task.field_paths or paths:
                values.append(dict(
                    id=m.new_id(), entry_id=entry.id, keyer_id=unit.keyer_id, field_path=path,
                    value=value_for(task.document_id, unit.pass_no, path), flag="", overridden=False,
                    keystrokes=12, active_ms=900, pause_ms=0, started_at=now, saved_at=now,
                ))
        if values:
            s.execute(m.FieldValue.__table__.insert(), values)
        unit.state = "finished"
        unit.finished_at = now
        if outbox:
            s.add(m.OutboxItem(kind="unit_finished", unit_id=unit_id))
        return entry_ids
