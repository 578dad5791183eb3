"""Seed a local store the way a pull leaves it, so keying can be tested without sync.

A pull copies a claimed unit's template, batch, documents, pages and images into the station's
local SQLite store, with the unit (active, leased) and its tasks (claimed by the keyer). It never
copies another pass's values; neither does this helper.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from workstation import catalog
from workstation import models as m
from workstation.resources import resource_path
from workstation.store import Store
from workstation.templates import FormTemplate, load_template


@dataclass(frozen=True)
class SeededUnit:
    unit_id: uuid.UUID
    keyer_id: uuid.UUID
    batch_id: uuid.UUID
    pass_no: int
    template: FormTemplate
    document_ids: tuple[uuid.UUID, ...]


def tiny_png(seed: int) -> bytes:
    """A valid 2x2 grey PNG whose bytes (and so SHA-256) differ per seed."""
    shade = seed % 256
    raw = b"".join(b"\x00" + bytes([shade, (seed >> 8) % 256]) for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def sample_template(name: str) -> FormTemplate:
    return load_template(resource_path("templates", f"{name}.toml"))


def seed_unit(
    local: Store,
    template: str | FormTemplate = "cms1500",
    *,
    documents: int = 2,
    pass_no: int = 1,
    field_paths: Sequence[Sequence[str] | None] | None = None,
    username: str = "keyer1",
    unit_state: str = "active",
    batch_name: str | None = None,
) -> SeededUnit:
    """One batch of `documents` documents, claimed as one unit by a keyer, in `local`.

    `field_paths[i]` is the task's list of paths for document i (pass 3 lists only disputed
    fields); None keys every field.
    """
    tpl = sample_template(template) if isinstance(template, str) else template
    now = dt.datetime.now(dt.timezone.utc)
    with local.transaction() as s:
        keyer = s.scalars(select(m.User).where(m.User.username == username)).one_or_none()
        if keyer is None:
            keyer = m.User(username=username, display_name=username.title(), role="keyer", password_hash="x")
            s.add(keyer)
        row = catalog.register_template(s, tpl)
        batch = m.Batch(name=batch_name or f"batch-{uuid.uuid4().hex[:8]}", template_id=row.id)
        s.add(batch)
        s.flush()
        unit = m.WorkUnit(
            batch_id=batch.id, pass_no=pass_no, keyer_id=keyer.id, state=unit_state,
            lease_expires_at=now + dt.timedelta(hours=8),
        )
        s.add(unit)
        s.flush()
        doc_ids: list[uuid.UUID] = []
        for index in range(documents):
            doc = m.Document(batch_id=batch.id, seq=index + 1, source_name=f"scan_{index + 1:04d}.tif")
            s.add(doc)
            s.flush()
            for page_no in range(1, tpl.pages + 1):
                data = tiny_png(zlib.crc32(f"{batch.name}/{index}/{page_no}".encode()))
                sha = hashlib.sha256(data).hexdigest()
                if s.get(m.Image, sha) is None:
                    s.add(m.Image(sha256=sha, media_type="image/png", width=2, height=2, dpi=200, data=data))
                    s.flush()
                s.add(m.Page(document_id=doc.id, page_no=page_no, image_sha256=sha))
            paths = field_paths[index] if field_paths is not None else None
            s.add(m.Task(
                batch_id=batch.id, document_id=doc.id, pass_no=pass_no, state="claimed",
                keyer_id=keyer.id, unit_id=unit.id, field_paths=list(paths) if paths is not None else None,
            ))
            doc_ids.append(doc.id)
        s.flush()
        return SeededUnit(unit.id, keyer.id, batch.id, pass_no, tpl, tuple(doc_ids))
