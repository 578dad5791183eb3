"""Templates in the database: registered once per version, immutable, read back by id.

`add_template` is the service (administrators only, audited); `register_template` is the step
inside a caller's transaction that a service which has checked the role already (an import)
uses. Registering a new version is audited as "template.register" either way.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from workstation import audit
from workstation import models as m
from workstation.errors import KnownError, NotFound
from workstation.templates import FormTemplate, parse_template

if TYPE_CHECKING:
    from workstation.auth import Actor
    from workstation.store import Store

_cache: dict[uuid.UUID, FormTemplate] = {}
_cache_lock = threading.Lock()


def add_template(store: "Store", by: "Actor", template: FormTemplate) -> uuid.UUID:
    """Register a template version as an administrator; returns its id (the same for a repeat)."""
    from workstation.auth import require

    require(by, "templates")
    with store.transaction() as s:
        return register_template(s, template, by=by).id


def register_template(s: Session, template: FormTemplate, *, by: "Actor | None" = None) -> m.Template:
    """Store a template version; registering the same text again returns the stored row.

    A changed text under an existing name and version is refused: stored versions are
    immutable because entries were keyed against them. The caller has checked the role.
    """
    row = s.scalars(
        select(m.Template).where(m.Template.name == template.name, m.Template.version == template.version)
    ).one_or_none()
    if row is not None:
        if row.sha256 != template.sha256:
            raise KnownError(
                f"Template {template.name} version {template.version} is already stored with different content.",
                "Raise `version` in the [template] table to register a changed template.",
            )
        return row
    row = m.Template(
        name=template.name,
        version=template.version,
        title=template.title,
        source=template.source_text,
        sha256=template.sha256,
    )
    s.add(row)
    s.flush()
    audit.record(s, "template.register", actor=by, subject=f"{template.name} v{template.version}",
                 details={"sha256": template.sha256, "fields": len(template.field_paths())})
    return row


def template_by_id(s: Session, template_id: uuid.UUID) -> FormTemplate:
    with _cache_lock:
        cached = _cache.get(template_id)
    if cached is not None:
        return cached
    row = s.get(m.Template, template_id)
    if row is None:
        raise NotFound(f"Template {template_id} is not in this database.", "Pull the work again.")
    parsed = parse_template(row.source, f"{row.name} v{row.version} (stored)")
    with _cache_lock:
        _cache[template_id] = parsed
    return parsed


def template_for_batch(s: Session, batch_id: uuid.UUID) -> FormTemplate:
    batch = s.get(m.Batch, batch_id)
    if batch is None:
        raise NotFound(f"Batch {batch_id} is not in this database.")
    return template_by_id(s, batch.template_id)


def latest_template(s: Session, name: str) -> m.Template:
    row = s.scalars(
        select(m.Template).where(m.Template.name == name).order_by(m.Template.version.desc()).limit(1)
    ).first()
    if row is None:
        raise NotFound(f"No template named {name!r} is registered.", "Import a batch with --template FILE first.")
    return row


def batch_by_name(s: Session, name: str) -> m.Batch:
    batch = s.scalars(select(m.Batch).where(m.Batch.name == name)).one_or_none()
    if batch is None:
        raise NotFound(f"There is no batch named {name!r}.", "`workstation batches` lists the batches.")
    return batch
