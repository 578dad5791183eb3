"""The dashboard's tables as plain rows and columns: one definition for the screen and the CSV files.

Why here and not in the UI: what a column means (its header, its unit, how it is rounded) is
part of the figures, and the same table is written to CSV by the dashboard's export. A `Table`
holds raw values (numbers stay numbers, None means "no base to divide by"); `cell_text` formats
one for a person, `write_csv` writes them for a spreadsheet.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workstation.metrics import ERROR_CLASSES, BatchProgress, Dashboard, FieldErrors, HourFigures, KeyerFigures
from workstation.page_problems import PageProblemRow

TEXT, COUNT, DECIMAL, PERCENT, HOURS, MOMENT, SHARE = "text", "count", "decimal", "percent", "hours", "moment", "share"


@dataclass(frozen=True)
class Column:
    """One column: its header (in full for CSV, `short` on screen), its kind of value, the digits shown."""

    key: str
    header: str
    kind: str = COUNT
    digits: int = 0
    short: str = ""

    @property
    def label(self) -> str:
        return self.short or self.header

    @property
    def numeric(self) -> bool:
        return self.kind not in (TEXT, MOMENT)


@dataclass(frozen=True)
class Table:
    """Rows of raw values under columns; `keys` identifies each row (e.g. a keyer's id)."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    keys: tuple[Any, ...] = ()

    def column(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)


def cell_text(column: Column, value: Any) -> str:
    """How a cell reads on screen: grouped thousands, fixed digits, percent signs, '-' for none."""
    if value is None:
        return "-"
    if column.kind == TEXT:
        return str(value)
    if column.kind == MOMENT:
        return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value)
    if column.kind in (PERCENT, SHARE):
        return f"{100 * value:,.{column.digits}f}%"
    return f"{value:,.{column.digits}f}"


def csv_value(column: Column, value: Any) -> str:
    """How a cell is written to CSV: no thousands separators, shares as fractions, ISO times."""
    if value is None:
        return ""
    if column.kind == MOMENT:
        return value.isoformat() if isinstance(value, dt.datetime) else str(value)
    if column.kind == TEXT:
        return str(value)
    if column.kind in (PERCENT, SHARE):
        return f"{value:.{column.digits + 4}f}"
    if column.kind == COUNT and column.digits == 0:
        return str(int(value))
    return f"{value:.{max(column.digits, 2)}f}"


def write_csv(table: Table, path: Path) -> Path:
    """Write the table with a header row (UTF-8 with a BOM, so spreadsheet programs read it right)."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([c.header for c in table.columns])
        for row in table.rows:
            writer.writerow([csv_value(c, v) for c, v in zip(table.columns, row, strict=True)])
    return path


def _table(name: str, title: str, columns: Sequence[Column], items: Iterable[Any],
           cells: Callable[[Any], tuple[Any, ...]], key: Callable[[Any], Any] | None = None) -> Table:
    items = list(items)
    return Table(name, title, tuple(columns), tuple(cells(i) for i in items),
                 tuple(key(i) for i in items) if key else ())


KEYER_COLUMNS = (
    Column("keyer", "Keyer", TEXT),
    Column("documents", "Documents", short="Docs"),
    Column("fields", "Fields"),
    Column("keystrokes", "Keystrokes", short="Keys"),
    Column("active_hours", "Active hours", HOURS, 2, "Active h"),
    Column("kph", "KPH", DECIMAL, 0),
    Column("documents_per_hour", "Documents per active hour", DECIMAL, 1, "Docs/h"),
    Column("accuracy", "Accuracy", PERCENT, 2),
    Column("errors", "Errors"),
    Column("errors_per_1000", "Errors per 1,000 keystrokes", DECIMAL, 2, "Err/1k keys"),
    Column("as_keyer", "Errors as keyer (pass 1)", short="As keyer"),
    Column("as_verifier", "Errors as verifier (pass 2)", short="As verifier"),
    Column("as_third", "Errors as third key", short="As 3rd key"),
)


def keyer_table(keyers: Iterable[KeyerFigures]) -> Table:
    def cells(k: KeyerFigures) -> tuple[Any, ...]:
        f = k.figures
        return (k.display_name or k.username, f.documents, f.fields, f.keystrokes, f.active_hours, f.kph,
                f.documents_per_hour, f.accuracy, f.errors, f.errors_per_1000_keystrokes, k.blamed_as_keyer,
                k.blamed_as_verifier, k.blamed_as_third)
    return _table("keyers", "Keyers", KEYER_COLUMNS, keyers, cells, key=lambda k: k.keyer_id)


HOUR_COLUMNS = (
    Column("hour", "Hour (UTC)", MOMENT),
    Column("documents", "Documents"),
    Column("fields", "Fields"),
    Column("keystrokes", "Keystrokes"),
    Column("active_hours", "Active hours", HOURS, 2),
    Column("kph", "KPH", DECIMAL, 0),
    Column("accuracy", "Accuracy", PERCENT, 2),
    Column("errors", "Errors"),
)


def hour_table(hours: Iterable[HourFigures]) -> Table:
    def cells(h: HourFigures) -> tuple[Any, ...]:
        f = h.figures
        return (h.hour, f.documents, f.fields, f.keystrokes, f.active_hours, f.kph, f.accuracy, f.errors)
    return _table("hourly", "Per hour", HOUR_COLUMNS, hours, cells, key=lambda h: h.hour)


FIELD_COLUMNS = (
    Column("template", "Template", TEXT),
    Column("field", "Field", TEXT),
    Column("scored", "Scored"),
    Column("errors", "Errors"),
    Column("error_rate", "Error rate", PERCENT, 2),
)


def field_table(fields: Iterable[FieldErrors]) -> Table:
    return _table("errors_by_field", "Errors by field", FIELD_COLUMNS, fields,
                  lambda e: (e.template, e.field, e.scored, e.errors, e.error_rate), key=lambda e: (e.template, e.field))


CLASS_COLUMNS = (Column("class", "Error class", TEXT), Column("errors", "Errors"), Column("share", "Share", SHARE, 1))


def class_table(counts: dict[str, int]) -> Table:
    total = sum(counts.values())
    names = [n for n in ERROR_CLASSES if n in counts] + [n for n in counts if n not in ERROR_CLASSES]
    return _table("errors_by_class", "Errors by class", CLASS_COLUMNS, names,
                  lambda n: (n, counts[n], counts[n] / total if total else None), key=lambda n: n)


BATCH_COLUMNS = (
    Column("batch", "Batch", TEXT),
    Column("template", "Template", TEXT),
    Column("documents", "Documents"),
    Column("pass1_left", "Pass 1 left"),
    Column("pass2_left", "Pass 2 left"),
    Column("third_key_left", "Third key left", short="3rd key left"),
    Column("in_qa", "In QA"),
    Column("final", "Final"),
    Column("done", "Done", SHARE, 0),
    Column("age_days", "Age (days)", DECIMAL, 1),
)


def batch_table(batches: Iterable[BatchProgress], now: dt.datetime) -> Table:
    def cells(b: BatchProgress) -> tuple[Any, ...]:
        return (b.name, b.template, b.documents, b.pass1_left, b.pass2_left, b.third_key_left, b.in_qa, b.final,
                b.done_share, b.age(now).total_seconds() / 86_400)
    return _table("batches", "Open batches", BATCH_COLUMNS, batches, cells, key=lambda b: b.batch_id)


PAGE_PROBLEM_COLUMNS = (
    Column("batch", "Batch", TEXT),
    Column("document", "Document", TEXT),
    Column("page", "Page"),
    Column("reason", "Reason", TEXT),
    Column("keyer", "Keyer", TEXT),
    Column("reported_at", "Reported (UTC)", MOMENT, short="When (UTC)"),
    Column("detail", "Detail", TEXT),
)


# With the closed reports too: what became of each.
PAGE_PROBLEM_HISTORY_COLUMNS = (
    *PAGE_PROBLEM_COLUMNS,
    Column("state", "State", TEXT),
    Column("closed_at", "Closed (UTC)", MOMENT),
    Column("closed_by", "Closed by", TEXT),
    Column("close_note", "What was done", TEXT),
)


def problem_state(p: PageProblemRow) -> str:
    """"open", "closed", or "document final" (closed by the document's finishing, with no note)."""
    if p.closed_at is not None:
        return "closed"
    return "open" if p.open else "document final"


def page_problem_table(problems: Iterable[PageProblemRow], *, closed: bool = False) -> Table:
    """The open reports; with `closed`, every report given, with what became of it."""
    def cells(p: PageProblemRow) -> tuple[Any, ...]:
        return (p.batch, p.document, p.page_no, p.reason_text, p.keyer, p.reported_at, p.detail)

    def history_cells(p: PageProblemRow) -> tuple[Any, ...]:
        return (*cells(p), problem_state(p), p.closed_at, p.closed_by, p.close_note)

    if closed:
        return _table("page_problems", "Page problems", PAGE_PROBLEM_HISTORY_COLUMNS, problems, history_cells,
                      key=lambda p: p.id)
    return _table("page_problems", "Page problems", PAGE_PROBLEM_COLUMNS, problems, cells, key=lambda p: p.id)


def dashboard_tables(board: Dashboard) -> dict[str, Table]:
    """Every table one dashboard refresh shows, by name (what "export all" writes)."""
    tables = (keyer_table(board.keyers), hour_table(board.hourly), field_table(board.errors_by_field),
              class_table(board.errors_by_class), batch_table(board.batches, board.refreshed_at),
              page_problem_table(board.page_problems, closed=board.closed_problems))
    return {t.name: t for t in tables}


def export_all(board: Dashboard, folder: Path, stamp: str = "") -> list[Path]:
    """Write every table of `board` into `folder` as `<name>[-stamp].csv`; returns the files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = f"-{stamp}" if stamp else ""
    return [write_csv(t, folder / f"{name}{suffix}.csv") for name, t in dashboard_tables(board).items()]
