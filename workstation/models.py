"""The data model: one schema for the local store and the central database.

Primary keys are UUIDs made on the client, so rows keyed on a desktop keep their identity when
they are pushed to the central database and a replayed push is an idempotent upsert. Times are
UTC. The blindness rules live in the schema as well as in the services: one entry per
(document, pass), one entry per (document, keyer), one task per (document, pass) and one per
(document, keyer).

Work is organised in three layers:

* `Task`: one pass of one document that someone has to key (pass 3 = third key, holding only the
  disputed fields). Made when a batch is imported (passes 1 and 2) or when a comparison finds a
  mismatch under the `third_key` policy (pass 3).
* `WorkUnit`: a claim. A keyer claims a set of open tasks of one batch and pass with a lease.
* `Hold`: which pass of which document each keyer was ever handed (outlives expired leases).
* `Entry` / `FieldValue`: what one keyer keyed for one document, field by field.

Comparison produces `Resolution` rows (final values) and `Dispute` rows (fields still open, for
the third keyer or the QA lead).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("keyer", "qa", "supervisor", "admin")

# Flags a keyer can put on a field instead of (or beside) a value.
FLAG_NONE = ""
FLAG_ILLEGIBLE = "illegible"
FLAG_BLANK = "blank"
FLAGS = (FLAG_NONE, FLAG_ILLEGIBLE, FLAG_BLANK)

PASS_FIRST = 1
PASS_SECOND = 2
PASS_THIRD = 3


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware UTC datetimes; SQLite gives them back aware too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {
        dt.datetime: UTCDateTime,
        uuid.UUID: Uuid,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('keyer','qa','supervisor','admin')", name="ck_users_role"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Template(Base):
    """One immutable version of a form template; the TOML source is kept verbatim."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_templates_name_version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # open: being keyed/resolved; final: every document final; exported: final and written out.
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Image(Base):
    """A page image, stored once per content (SHA-256 of the stored bytes)."""

    __tablename__ = "images"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))  # image/tiff (G4), image/png, image/jpeg
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    dpi: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq", name="uq_documents_batch_seq"),
        # Batch progress counts a batch's documents by state from this index alone.
        Index("ix_documents_batch_state", "batch_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    source_name: Mapped[str] = mapped_column(String(512), default="")
    # keying: passes outstanding; resolving: both passes in, disputes open; final.
    state: Mapped[str] = mapped_column(String(16), default="keying")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Page(Base):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("document_id", "page_no", name="uq_pages_document_page"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), index=True)
    page_no: Mapped[int] = mapped_column(Integer)  # 1-based
    image_sha256: Mapped[str] = mapped_column(ForeignKey("images.sha256"))


class WorkUnit(Base):
    """A claim: one keyer holds some open tasks of one batch and pass, under a lease."""

    __tablename__ = "work_units"
    __table_args__ = (
        CheckConstraint("pass_no IN (1, 2, 3)", name="ck_work_units_pass"),
        # Every claim sweeps expired leases first; this keeps that sweep an index lookup.
        Index("ix_work_units_state_lease", "state", "lease_expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"), index=True)
    pass_no: Mapped[int] = mapped_column(Integer)
    keyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    # active: leased; finished: every task keyed and pushed; expired: lease ran out.
    state: Mapped[str] = mapped_column(String(16), default="active")
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_expires_at: Mapped[dt.datetime] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Task(Base):
    """One pass of one document to be keyed. Pass 3 lists only the disputed fields."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("document_id", "pass_no", name="uq_tasks_document_pass"),
        # Nobody keys two passes of one document; NULL keyers (unclaimed) do not collide.
        UniqueConstraint("document_id", "keyer_id", name="uq_tasks_document_keyer"),
        CheckConstraint("pass_no IN (1, 2, 3)", name="ck_tasks_pass"),
        # The claim walks this index in queue order and stops after the documents it needs.
        Index("ix_tasks_queue", "batch_id", "pass_no", "state", "priority", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    pass_no: Mapped[int] = mapped_column(Integer)
    # open -> claimed -> done
    state: Mapped[str] = mapped_column(String(16), default="open")
    keyer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), default=None)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_units.id"), default=None, index=True)
    # For pass 3: the field paths to key. None means every field of the template.
    field_paths: Mapped[list[Any] | None] = mapped_column(default=None)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Hold(Base):
    """Which pass of a document a keyer was handed; kept when the task goes back to the queue.

    A task whose lease expired forgets its keyer, but that keyer has seen the document and may
    still push what they keyed offline. This row remembers them, so a claim never hands them
    another pass of the same document; the primary key makes that a schema rule too.
    """

    __tablename__ = "holds"
    __table_args__ = (CheckConstraint("pass_no IN (1, 2, 3)", name="ck_holds_pass"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    keyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    pass_no: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Entry(Base):
    """One keying of one document by one keyer."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("document_id", "pass_no", name="uq_entries_document_pass"),
        UniqueConstraint("document_id", "keyer_id", name="uq_entries_document_keyer"),
        CheckConstraint("pass_no IN (1, 2, 3)", name="ck_entries_pass"),
        # The summary tables recompute a keyer's documents per hour from this range.
        Index("ix_entries_keyer_finished", "keyer_id", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), index=True)
    pass_no: Mapped[int] = mapped_column(Integer)
    keyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_units.id"), default=None)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Where the keyer was, for resume after a crash: the path of the current field.
    cursor_path: Mapped[str] = mapped_column(String(128), default="")


class FieldValue(Base):
    """One field as keyed in one entry, with the figures the metrics are built from.

    `final_match` and `error_class` are filled in when the document becomes final: they are the
    scoring of this value against the final value (see `workstation.resolve`).
    """

    __tablename__ = "field_values"
    __table_args__ = (
        UniqueConstraint("entry_id", "field_path", name="uq_field_values_entry_path"),
        Index("ix_field_values_keyer_saved", "keyer_id", "saved_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("entries.id"))
    # Denormalised from the entry so metrics are one set-based query away.
    keyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    field_path: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text, default="")
    flag: Mapped[str] = mapped_column(String(16), default=FLAG_NONE)
    # True when the keyer confirmed a value that failed validation.
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    keystrokes: Mapped[int] = mapped_column(Integer, default=0)
    active_ms: Mapped[int] = mapped_column(Integer, default=0)
    pause_ms: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    final_match: Mapped[bool | None] = mapped_column(Boolean, default=None)
    error_class: Mapped[str | None] = mapped_column(String(16), default=None)


class KeyerHourStats(Base):
    """Summary of one keyer's work in one UTC hour on one template and pass (the dashboard's rows).

    Kept equal to a recomputation from `FieldValue` and `Entry` rows by `workstation.rollups`,
    in the transaction that changes them. `hour` counts hours since 1970-01-01 00:00 UTC. Values
    count in the hour they were saved, documents (finished entries) in the hour they were finished.
    """

    __tablename__ = "stats_keyer_hours"
    __table_args__ = (Index("ix_stats_keyer_hours_hour", "hour"),)

    keyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id"), primary_key=True)
    pass_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    fields: Mapped[int] = mapped_column(Integer, default=0)
    keystrokes: Mapped[int] = mapped_column(Integer, default=0)
    characters: Mapped[int] = mapped_column(Integer, default=0)
    active_ms: Mapped[int] = mapped_column(Integer, default=0)
    pause_ms: Mapped[int] = mapped_column(Integer, default=0)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    substitutions: Mapped[int] = mapped_column(Integer, default=0)
    transpositions: Mapped[int] = mapped_column(Integer, default=0)
    omissions: Mapped[int] = mapped_column(Integer, default=0)
    insertions: Mapped[int] = mapped_column(Integer, default=0)
    other_errors: Mapped[int] = mapped_column(Integer, default=0)


class FieldHourStats(Base):
    """Scored fields and errors of one keyer, hour, template and field path (errors by field).

    Maintained with `KeyerHourStats`; only paths with scored values have a row.
    """

    __tablename__ = "stats_field_hours"

    keyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id"), primary_key=True)
    field_path: Mapped[str] = mapped_column(String(128), primary_key=True)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


class TeamFieldHourStats(Base):
    """`FieldHourStats` summed over keyers: errors by field for the whole floor in few rows.

    Maintained with `FieldHourStats`: each recomputation of a keyer's rows takes their old
    counts out of these sums and puts the new ones in.
    """

    __tablename__ = "stats_team_field_hours"

    hour: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id"), primary_key=True)
    field_path: Mapped[str] = mapped_column(String(128), primary_key=True)
    scored: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)


class Dispute(Base):
    """A field whose passes disagree and that is not final yet."""

    __tablename__ = "disputes"
    __table_args__ = (
        UniqueConstraint("document_id", "field_path", name="uq_disputes_document_path"),
        Index("ix_disputes_stage_state", "stage", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    field_path: Mapped[str] = mapped_column(String(128))
    stage: Mapped[str] = mapped_column(String(16))  # third_key | qa
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Resolution(Base):
    """The final value of one field of one document, and how it was reached."""

    __tablename__ = "resolutions"
    __table_args__ = (
        UniqueConstraint("document_id", "field_path", name="uq_resolutions_document_path"),
        # A QA lead's own figures: their decisions in a period.
        Index("ix_resolutions_decided_by_at", "decided_by", "decided_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), index=True)
    field_path: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text, default="")
    flag: Mapped[str] = mapped_column(String(16), default=FLAG_NONE)
    how: Mapped[str] = mapped_column(String(16))  # agreed | third_key | qa
    chosen_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("entries.id"), default=None)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), default=None)
    reason: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PageProblem(Base):
    """A keyer's report that a page of a document is missing, unreadable or not this document's.

    Made on the station when the keyer presses F8 (client UUID, so the push is an idempotent
    insert) and sent to the central database as its own outbox item; supervisors read it there
    (`workstation.page_problems`). No foreign key to the image: the report may be about an image
    the station never had, and the purge after a push deletes images the report still names.
    A supervisor closes it centrally with a note: when, who and the note are set together.
    """

    __tablename__ = "page_problems"
    __table_args__ = (
        CheckConstraint("page_no >= 1", name="ck_page_problems_page"),
        CheckConstraint("reason IN ('unreadable','missing','wrong_document')", name="ck_page_problems_reason"),
        CheckConstraint("(closed_at IS NULL AND closed_by IS NULL AND close_note IS NULL)"
                        " OR (closed_at IS NOT NULL AND closed_by IS NOT NULL AND close_note IS NOT NULL)",
                        name="ck_page_problems_closed"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), index=True)
    page_no: Mapped[int] = mapped_column(Integer)  # 1-based; 1 for a document without pages
    image_sha256: Mapped[str] = mapped_column(String(64), default="")  # "" when it has no images
    reason: Mapped[str] = mapped_column(String(32))
    # What the station knew: the decoder's failure, or that the keyer found the page unreadable.
    detail: Mapped[str] = mapped_column(String(500), default="")
    keyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_units.id"), default=None)
    reported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set centrally when a supervisor closes the report (`page_problems.close_problem`); never on a
    # station, and never part of the push, so a station's older local store may lack them.
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", name="fk_page_problems_closed_by"),
                                                        default=None)
    close_note: Mapped[str | None] = mapped_column(String(200), default=None)  # what was done


class AuditEvent(Base):
    """Append-only log; each event's hash chains to the previous one."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    user_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class OutboxItem(Base):
    """Local only: what waits to be pushed to the central database.

    kind "unit_finished": a finished unit (`unit_id`); kind "page_problem": one `PageProblem`
    (`payload["problem_id"]`, `unit_id` left empty so nothing takes it for a finished unit).
    """

    __tablename__ = "outbox"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
