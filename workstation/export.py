"""Writing a batch's final values (CSV or JSON Lines), and an audit export with every entry.

Final values are exported clean (`fields.export_value`: dates ISO, money canonical, codes as
the template spells them). A field marked illegible or blank on the paper exports an empty value
and its mark in the `flags` column (CSV: `path=mark;...`) or object (JSON Lines). Line items are
`lines[1].cpt ...` columns up to the most rows any document of the batch has (CSV) or a list of
row objects (JSON Lines). A batch with documents not yet final is refused unless `partial`.

Exports are for supervisors and administrators (`auth.require(by, "export")`), and every export
is written to the audit log in the caller's transaction. Final values go out in clear (they are
the product); the per-entry audit export masks sensitive fields for anyone but an administrator.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workstation import audit
from workstation import models as m
from workstation.auth import Actor, require
from workstation.catalog import batch_by_name, template_for_batch
from workstation.compare import ordered_paths
from workstation.errors import KnownError
from workstation.fields import export_value
from workstation.privacy import shown
from workstation.templates import parse_path

FORMATS = ("csv", "jsonl")


@dataclass(frozen=True)
class ExportReport:
    batch: str
    documents: int
    path: Path


def export_batch(s: Session, batch_name: str, fmt: str, out: Path, *, by: Actor,
                 partial: bool = False) -> ExportReport:
    """Write the batch's final values to `out` (replaced only once complete)."""
    require(by, "export")
    if fmt not in FORMATS:
        raise KnownError(f"Unknown export format {fmt!r}.", "Use csv or jsonl.")
    batch = batch_by_name(s, batch_name)
    template = template_for_batch(s, batch.id)
    documents = s.scalars(select(m.Document).where(m.Document.batch_id == batch.id).order_by(m.Document.seq)).all()
    unfinished = sum(1 for d in documents if d.state != "final")
    if unfinished and not partial:
        raise KnownError(
            f"Batch {batch_name} has {unfinished} of {len(documents)} documents not final yet.",
            "Finish keying and QA first, or pass --partial to export only the final documents.",
        )
    finals: dict[uuid.UUID, dict[str, tuple[str, str]]] = defaultdict(dict)
    rows = s.execute(
        select(m.Resolution.document_id, m.Resolution.field_path, m.Resolution.value, m.Resolution.flag)
        .join(m.Document, m.Document.id == m.Resolution.document_id)
        .where(m.Document.batch_id == batch.id, m.Document.state == "final")
    )
    for document_id, path, value, flag in rows:
        finals[document_id][path] = (value, flag)
    final_docs = [d for d in documents if d.state == "final"]
    columns = ordered_paths(template, *finals.values()) if finals else template.field_paths()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        if fmt == "csv":
            writer = csv.writer(handle)
            writer.writerow(["seq", "source_name", *columns, "flags"])
            for doc in final_docs:
                values = finals[doc.id]
                cells = [export_value(template.spec(p), *values.get(p, ("", ""))) for p in columns]
                flags = ";".join(f"{p}={values[p][1]}" for p in columns if p in values and values[p][1])
                writer.writerow([doc.seq, doc.source_name, *cells, flags])
        else:
            for doc in final_docs:
                handle.write(json.dumps(_json_record(template, doc, finals[doc.id]), ensure_ascii=False) + "\n")
    tmp.replace(out)
    audit.record(s, "export", actor=by, subject=batch.name,
                 details={"format": fmt, "documents": len(final_docs), "not_final": unfinished})
    return ExportReport(batch_name, len(final_docs), out)


def _json_record(template: Any, doc: m.Document, values: dict[str, tuple[str, str]]) -> dict[str, Any]:
    record: dict[str, Any] = {"seq": doc.seq, "source_name": doc.source_name}
    flags: dict[str, str] = {}
    sections: dict[str, dict[int, dict[str, str]]] = defaultdict(dict)
    for path in ordered_paths(template, values):
        value, flag = values.get(path, ("", ""))
        parsed = parse_path(path)
        clean = export_value(template.spec(path), value, flag)
        if parsed.section:
            sections[parsed.section].setdefault(parsed.row, {})[parsed.key] = clean
        else:
            record[path] = clean
        if flag:
            flags[path] = flag
    for section, rows in sections.items():
        record[section] = [rows[r] for r in sorted(rows)]
    record["flags"] = flags
    return record


def export_audit(s: Session, batch_name: str, out: Path, *, by: Actor) -> int:
    """Every keyed value of the batch: who, which pass, keystrokes, time, and how it was decided."""
    require(by, "export")
    batch = batch_by_name(s, batch_name)
    template = template_for_batch(s, batch.id)
    keyer = m.User.__table__.alias("keyer")
    decider = m.User.__table__.alias("decider")
    query = (
        select(
            m.Document.seq, m.Document.source_name, m.Entry.pass_no, keyer.c.username, m.FieldValue.field_path,
            m.FieldValue.value, m.FieldValue.flag, m.FieldValue.overridden, m.FieldValue.keystrokes,
            m.FieldValue.active_ms, m.FieldValue.pause_ms, m.FieldValue.saved_at, m.FieldValue.final_match,
            m.FieldValue.error_class, m.Resolution.how, func.coalesce(decider.c.username, ""), m.Resolution.reason,
        )
        .select_from(m.FieldValue)
        .join(m.Entry, m.Entry.id == m.FieldValue.entry_id)
        .join(m.Document, m.Document.id == m.Entry.document_id)
        .join(keyer, keyer.c.id == m.Entry.keyer_id)
        .outerjoin(m.Resolution, (m.Resolution.document_id == m.Document.id) & (m.Resolution.field_path == m.FieldValue.field_path))
        .outerjoin(decider, decider.c.id == m.Resolution.decided_by)
        .where(m.Document.batch_id == batch.id)
        .order_by(m.Document.seq, m.Entry.pass_no, m.FieldValue.field_path)
    )
    count = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["seq", "source_name", "pass", "keyer", "field", "value", "flag", "overridden", "keystrokes",
                         "active_ms", "pause_ms", "saved_at", "matches_final", "error_class", "decided", "decided_by", "reason"])
        for row in s.execute(query):
            values = list(row)
            values[5] = _shown_value(by, template, values[4], values[5])
            values[11] = values[11].isoformat() if values[11] else ""
            writer.writerow(values)
            count += 1
    tmp.replace(out)
    audit.record(s, "export.audit", actor=by, subject=batch.name, details={"values": count})
    return count


def _shown_value(by: Actor, template: Any, path: str, value: str) -> str:
    try:
        spec = template.spec(path)
    except KeyError:  # a path the template no longer knows: treat it as sensitive
        return shown(by, _UNKNOWN_FIELD, value)
    return shown(by, spec, value)


class _UnknownField:
    sensitive = True


_UNKNOWN_FIELD: Any = _UnknownField()
