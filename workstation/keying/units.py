"""The work a keyer holds on this station: claimed units not finished yet, and where each resumes.

After a crash, a power cut or a logout, the keyer's home offers these units first. Where keying
resumes is worked out by a `KeyingSession` opened with a writer that discards (so looking writes
nothing): the home says exactly what opening the unit will do. Needs the local store only, so
it works with the central database out of reach.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from workstation import models as m
from workstation.errors import KnownError
from workstation.keying.persist import SaveJob, load_unit
from workstation.keying.session import KeyingSession
from workstation.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldUnit:
    """One claimed, unfinished unit of this keyer in the local store."""

    unit_id: uuid.UUID
    batch_id: uuid.UUID
    batch_name: str
    template_title: str
    pass_no: int
    documents: int
    finished: int  # documents of the unit finished already
    started: bool  # something was keyed in it (an interrupted unit, not one just claimed)
    resume_index: int  # 0-based document keying resumes at
    resume_source: str  # that document's file name
    resume_path: str  # and field
    resume_label: str  # the field's label, for the keyer
    claimed_at: dt.datetime


def _discard(job: SaveJob) -> None:
    """A writer that writes nothing: the session is only asked where it would resume."""


def held_units(local: Store, keyer_id: uuid.UUID) -> list[HeldUnit]:
    """This keyer's active units on this station, the most recently claimed first.

    A unit whose local copy cannot be opened (no documents, a damaged task list) is left out and
    logged; opening it would say why.
    """
    with local.transaction() as s:
        rows = s.execute(
            select(m.WorkUnit.id, m.WorkUnit.batch_id, m.WorkUnit.claimed_at, m.Batch.name)
            .join(m.Batch, m.Batch.id == m.WorkUnit.batch_id)
            .where(m.WorkUnit.keyer_id == keyer_id, m.WorkUnit.state == "active")
            .order_by(m.WorkUnit.claimed_at.desc())
        ).all()
    held: list[HeldUnit] = []
    for row in rows:
        try:
            snapshot = load_unit(local, row.id, keyer_id)
            session = KeyingSession(local, snapshot, keyer_id, writer=_discard)
        except KnownError as exc:
            log.warning("held unit %s cannot be opened: %s", row.id, exc)
            continue
        doc = session.document
        held.append(HeldUnit(
            unit_id=row.id,
            batch_id=row.batch_id,
            batch_name=row.name,
            template_title=session.template.title,
            pass_no=session.pass_no,
            documents=len(session.documents),
            finished=sum(1 for i in range(len(session.documents)) if session.is_finished(i)),
            started=bool(snapshot.entries),
            resume_index=session.doc_index,
            resume_source=doc.source_name or f"document {doc.seq}",
            resume_path=session.path,
            resume_label=session.field().spec.label,
            claimed_at=row.claimed_at,
        ))
    return held
