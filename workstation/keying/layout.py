"""Which fields of one document are keyed, in which order.

A first or second pass keys every field, with as many rows of each repeating section as the
keyer has added (at least the section's `min_rows`). A third key keys only the task's listed
paths, in form order, and its rows are fixed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from workstation.errors import KnownError
from workstation.keying.persist import ValueRow
from workstation.templates import FieldSpec, FormTemplate, parse_path, row_path


class RowLimit(KnownError):
    """A line item cannot be added or removed: the section's row limits, or a third key."""


class DocumentLayout:
    """The keyable paths of one document (rows as currently added, or a fixed list)."""

    def __init__(self, template: FormTemplate, rows: dict[str, int], fixed: tuple[str, ...] | None = None) -> None:
        self.template = template
        self.rows = dict(rows)
        self.fixed = fixed
        self._paths: list[str] | None = None

    @classmethod
    def build(
        cls, template: FormTemplate, listed: tuple[str, ...] | None, used_paths: Iterable[str], source: str
    ) -> "DocumentLayout":
        """The layout of a document from its task's list (or None) and the paths already used
        (saved values and the resume cursor), so a resumed document gets back its added rows.

        `source` names the document in the error raised for a path the template does not have.
        """
        if listed is not None:
            wanted: set[str] = set()
            rows: dict[str, int] = {}
            for path in listed:
                cls._check(template, path, source)
                parsed = parse_path(path)
                if parsed.section:
                    rows[parsed.section] = max(rows.get(parsed.section, 0), parsed.row)
                wanted.add(str(parsed))
            ordered = tuple(p for p in template.field_paths(rows) if p in wanted)
            return cls(template, rows, fixed=ordered)
        rows = {s.key: s.min_rows for s in template.sections}
        for path in used_paths:
            try:
                parsed = parse_path(path)
                template.spec(parsed)
            except (ValueError, KeyError):
                continue
            if parsed.section:
                limit = template.section(parsed.section).max_rows
                rows[parsed.section] = max(rows[parsed.section], min(parsed.row, limit))
        if not template.field_paths(rows) and template.sections:
            # A form of line items only, none required: show one row to start on.
            rows[template.sections[0].key] = 1
        return cls(template, rows)

    @staticmethod
    def _check(template: FormTemplate, path: str, source: str) -> None:
        try:
            parsed = parse_path(path)
            template.spec(parsed)
        except (ValueError, KeyError):
            raise KnownError(
                f"The task for {source} asks for field {path!r}, which template {template.name} "
                f"v{template.version} does not have.",
                "Pull the work again; if it persists, tell the supervisor.",
            ) from None
        if parsed.section and parsed.row > template.section(parsed.section).max_rows:
            raise KnownError(
                f"The task for {source} asks for row {parsed.row} of {parsed.section}, beyond its "
                f"{template.section(parsed.section).max_rows} rows.",
                "Pull the work again; if it persists, tell the supervisor.",
            )

    def paths(self) -> list[str]:
        if self._paths is None:
            self._paths = list(self.fixed) if self.fixed is not None else self.template.field_paths(self.rows)
        return self._paths

    def spec(self, path: str) -> FieldSpec:
        return self.template.spec(path)

    def can_add_row(self, section: str) -> bool:
        return self.fixed is None and self.rows[section] < self.template.section(section).max_rows

    def can_remove_row(self, section: str) -> bool:
        return self.fixed is None and self.rows[section] > self.template.section(section).min_rows

    def check_section(self, section: str) -> None:
        if section not in self.rows:
            raise ValueError(f"template {self.template.name} has no section {section!r}")

    def check_add(self, section: str) -> None:
        """Raise RowLimit (or ValueError for an unknown section) if a row cannot be added."""
        self.check_section(section)
        spec = self.template.section(section)
        if self.fixed is not None:
            raise RowLimit("A third key keys only the listed fields; rows cannot be added.")
        if not self.can_add_row(section):
            raise RowLimit(f"{spec.label} has at most {spec.max_rows} rows.", "Key the extra lines on a new document.")

    def check_remove(self, section: str, row: int) -> None:
        """Raise RowLimit (or ValueError for a row that does not exist) if it cannot be removed."""
        self.check_section(section)
        spec = self.template.section(section)
        if self.fixed is not None:
            raise RowLimit("A third key keys only the listed fields; rows cannot be removed.")
        if not 1 <= row <= self.rows[section]:
            raise ValueError(f"{section} has no row {row}")
        if not self.can_remove_row(section):
            raise RowLimit(f"{spec.label} needs at least {spec.min_rows} row(s).", "Mark the fields blank instead.")

    def add_row(self, section: str) -> int:
        """Add a row at the end of `section`; returns its number."""
        self.check_add(section)
        self.rows[section] += 1
        self._paths = None
        return self.rows[section]

    def remove_row(self, section: str, row: int) -> None:
        """Drop `row` of `section`; later rows move up by one."""
        self.check_remove(section, row)
        self.rows[section] -= 1
        self._paths = None


def renumber_rows(
    values: dict[str, ValueRow], section: str, row: int, stored: Iterable[str]
) -> tuple[dict[str, ValueRow], tuple[str, ...], tuple[ValueRow, ...]]:
    """Values after removing `row` of `section`: that row's values go, later rows' move up one.

    Returns (values by their new paths, stored paths to delete, moved values to write). A moved
    value keeps its id and figures; `stored` names the paths that are in the store.
    """
    stored = set(stored)
    kept: dict[str, ValueRow] = {}
    deletes: list[str] = []
    moved: list[ValueRow] = []
    for path, value in values.items():
        parsed = parse_path(path)
        if parsed.section != section or parsed.row < row:
            kept[path] = value
            continue
        if path in stored:
            deletes.append(path)
        if parsed.row > row:
            new_path = row_path(section, parsed.row - 1, parsed.key)
            kept[new_path] = replace(value, field_path=new_path)
            moved.append(kept[new_path])
    return kept, tuple(deletes), tuple(moved)
