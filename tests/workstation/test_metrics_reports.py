"""The dashboard's tables: what a cell reads on screen and what the CSV export writes."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path

from workstation import metrics, reports

UTC = dt.timezone.utc


def _keyer(name: str, **figures: int) -> metrics.KeyerFigures:
    return metrics.KeyerFigures(uuid.uuid4(), name, metrics.Figures(**figures), blamed_as_verifier=1,
                                display_name=name.title())


def test_cells_read_as_a_person_expects_and_missing_rates_are_a_dash() -> None:
    table = reports.keyer_table([
        _keyer("ann", documents=12, keystrokes=12_345, active_ms=3_600_000, scored=400, errors=3),
        _keyer("ben"),
    ])
    ann, ben = ({c.key: reports.cell_text(c, v) for c, v in zip(table.columns, row)} for row in table.rows)
    assert (ann["keyer"], ann["keystrokes"], ann["kph"], ann["active_hours"]) == ("Ann", "12,345", "12,345", "1.00")
    assert (ann["accuracy"], ann["errors_per_1000"], ann["as_verifier"]) == ("99.25%", "0.24", "1")
    assert (ben["kph"], ben["accuracy"], ben["errors_per_1000"]) == ("-", "-", "-")
    assert table.keys[0] != table.keys[1]
    assert [c.label for c in table.columns][:4] == ["Keyer", "Docs", "Fields", "Keys"]


def test_csv_keeps_full_headers_plain_numbers_and_empty_cells_for_no_rate(tmp_path: Path) -> None:
    table = reports.keyer_table([
        _keyer("ann", documents=12, keystrokes=12_345, active_ms=1_800_000, scored=400, errors=3),
        _keyer("ben"),
    ])
    path = reports.write_csv(table, tmp_path / "k.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheet programs read UTF-8 right
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, ann, ben = list(csv.reader(f))
    assert "Errors per 1,000 keystrokes" in header and "Errors as verifier (pass 2)" in header
    row = dict(zip(header, ann))
    assert (row["Keystrokes"], row["KPH"], row["Active hours"], row["Accuracy"]) == ("12345", "24690.00", "0.50", "0.992500")
    assert dict(zip(header, ben))["KPH"] == ""


def test_classes_hours_fields_and_batches_tables() -> None:
    classes = reports.class_table({"substitution": 3, "transposition": 1, "omission": 0, "insertion": 0, "other": 0})
    assert [r[:2] for r in classes.rows] == [("substitution", 3), ("transposition", 1), ("omission", 0),
                                             ("insertion", 0), ("other", 0)]
    assert reports.cell_text(classes.columns[2], classes.rows[0][2]) == "75.0%"
    assert reports.class_table(dict.fromkeys(metrics.ERROR_CLASSES, 0)).rows[0][2] is None
    hour = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    hours = reports.hour_table([metrics.HourFigures(hour, metrics.Figures(keystrokes=100, active_ms=60_000))])
    assert reports.cell_text(hours.columns[0], hours.rows[0][0]) == "2026-03-02 09:00"
    assert reports.csv_value(hours.columns[0], hours.rows[0][0]) == "2026-03-02T09:00:00+00:00"
    fields = reports.field_table([metrics.FieldErrors("cms1500", "lines[*].cpt", 200, 3)])
    assert reports.cell_text(fields.columns[4], fields.rows[0][4]) == "1.50%"
    made = dt.datetime(2026, 3, 1, tzinfo=UTC)
    batch = metrics.BatchProgress(uuid.uuid4(), "B-1", "rebate", made, 10, 2, 5, 1, 1, 4)
    batches = reports.batch_table([batch], made + dt.timedelta(hours=36))
    row = dict(zip((c.key for c in batches.columns), batches.rows[0]))
    assert (row["done"], row["age_days"], row["third_key_left"]) == (0.4, 1.5, 1)


def test_export_all_writes_one_file_per_table(tmp_path: Path) -> None:
    board = metrics.Dashboard(metrics.Filters(), metrics.Figures(), (_keyer("ann", keystrokes=5),), (), None, (),
                              dict.fromkeys(metrics.ERROR_CLASSES, 0), (), (), dt.datetime(2026, 3, 2, tzinfo=UTC))
    paths = reports.export_all(board, tmp_path / "out", "2026-03-02")
    assert sorted(p.name for p in paths) == ["batches-2026-03-02.csv", "errors_by_class-2026-03-02.csv",
                                            "errors_by_field-2026-03-02.csv", "hourly-2026-03-02.csv",
                                            "keyers-2026-03-02.csv", "page_problems-2026-03-02.csv"]
    assert (tmp_path / "out" / "keyers-2026-03-02.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("Ann,0,0,5")


def test_the_page_problem_history_says_what_became_of_each_report() -> None:
    from workstation.page_problems import PageProblemRow

    at = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc)

    def row(is_open: bool, closed_at: dt.datetime | None = None, by: str = "", note: str = "") -> PageProblemRow:
        return PageProblemRow(uuid.uuid4(), "B-1", uuid.uuid4(), "scan.png", 1, "missing", "", "Ann", at,
                              is_open, closed_at, by, note)

    problems = [row(True), row(False, at, "Sue", "rescanned"), row(False)]  # the last: its document went final
    assert [reports.problem_state(p) for p in problems] == ["open", "closed", "document final"]
    history = reports.page_problem_table(problems, closed=True)
    assert [c.key for c in history.columns][-4:] == ["state", "closed_at", "closed_by", "close_note"]
    assert history.rows[1][-4:] == ("closed", at, "Sue", "rescanned")
    assert len(reports.page_problem_table(problems).columns) == len(history.columns) - 4
