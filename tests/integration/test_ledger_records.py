"""The ledger returns typed records from one place: it stores ISO text in SQLite (on disk) and
reads it back as integers, times, dicts, and the attempts' text that is not a date beside them."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swat_xl.adapters.ledger import Ledger
from swat_xl.core.fields import CANONICAL
from swat_xl.core.kpi import USED_COLUMNS
from swat_xl.core.records import ATTEMPTS, TIME_FIELDS, UNREAD_FIELDS, present, unread

IMPORTED = dt.datetime(2026, 12, 1, 8, 0)
ASSIGNED = dt.datetime(2026, 12, 1, 8, 30)
MARKED = dt.datetime(2026, 12, 2, 17, 0)


def _cut(survey_dates: list[dt.datetime | None], extras: list[dict[str, str]]) -> pd.DataFrame:
    size = len(survey_dates)
    frame = pd.DataFrame({name: [""] * size for name in CANONICAL})
    frame["survey_date"] = pd.Series(survey_dates, dtype="datetime64[us]")
    frame["key"] = [f"E:{n}" for n in range(size)]
    frame["segment"] = "hogar"
    frame["exclusion"] = [""] * (size - 1) + ["cortesia"]
    for name in {key for extra in extras for key in extra}:
        frame[name] = [extra.get(name, "") for extra in extras]
    return frame


@pytest.fixture
def ledger(tmp_path: Path):
    """A ledger on disk with one cut of three records: two assigned, one of them marked with
    a readable attempt and an attempt typed as text that is not a date."""
    with Ledger.open(tmp_path / "maestro.swat.sqlite", create=True) as ledger:
        with ledger.transaction():
            op = ledger.start_operation("import", user="ana", host="pc", at=IMPORTED)
            cut = ledger.add_cut(
                file_name="data.xlsx",
                sha256="abc",
                imported_at=IMPORTED,
                rows_read=3,
                ally_rows=3,
                duplicate_rows=0,
                new_records=3,
                excluded=1,
            )
            frame = _cut(
                [dt.datetime(2026, 11, 30, 9, 15), None, dt.datetime(2026, 11, 30, 11, 0)],
                [{"Canal": "Web"}, {"Canal": "App", "Plan": "Pospago"}, {}],
            )
            ledger.add_records(cut, frame, ["Canal", "Plan"])
            ledger.set_assignments(
                {1: "Ana Gómez", 2: "Bruno Díaz"},
                at=ASSIGNED,
                due_hours=24,
                reason="reparto",
                operation_id=op,
            )
            ledger.update_marks(
                [
                    (1, "attempt1", "", "2026-12-02T09:05:00"),
                    (1, "attempt2", "", "ayer 3 pm"),
                    (1, "outcome", "", "NO CONTESTA"),
                ],
                source="libro",
                at=MARKED,
                operation_id=op,
            )
            # whether marks close a record is the procedure's rule, decided by the caller
            ledger.set_closed({1: "2026-12-02T09:05:00"})
            ledger.add_event(op, "importado", at=MARKED)
            ledger.finish_operation(op, summary="ok", counts={}, at=MARKED)
        yield ledger


def test_the_full_frame_is_typed(ledger: Ledger):
    records = ledger.records()
    assert records["id"].dtype == "int64" and records["cut_id"].dtype == "int64"
    for name in TIME_FIELDS:
        assert records[name].dtype == "datetime64[us]", name
    first, second, third = (records.iloc[i] for i in range(3))
    assert first["cut_at"] == pd.Timestamp(IMPORTED)
    assert first["survey_date"] == pd.Timestamp(2026, 11, 30, 9, 15)
    assert pd.isna(second["survey_date"])
    assert first["assigned_at"] == pd.Timestamp(ASSIGNED)
    # due 24 h after the cut was imported (issue 10, item 4), not after the assignment
    assert first["due_at"] == pd.Timestamp(IMPORTED + dt.timedelta(hours=24))
    assert pd.isna(third["assigned_at"]) and pd.isna(third["due_at"])
    assert first["attempt1"] == pd.Timestamp(2026, 12, 2, 9, 5)
    assert first[unread("attempt1")] == ""
    assert pd.isna(first["attempt2"]) and first[unread("attempt2")] == "ayer 3 pm"
    assert pd.isna(first["attempt3"]) and first[unread("attempt3")] == ""
    assert first["marked_at"] == pd.Timestamp(MARKED)
    assert first["closed_at"] == pd.Timestamp(2026, 12, 2, 9, 5)  # as the caller set it
    assert pd.isna(second["closed_at"])
    assert records["archived_at"].isna().all()
    assert first["outcome"] == "NO CONTESTA" and second["outcome"] == ""
    assert first["extra"] == {"Canal": "Web", "Plan": ""}
    assert second["extra"] == {"Canal": "App", "Plan": "Pospago"}
    assert present(records, "attempt2").tolist() == [True, False, False]


def test_what_is_stored_is_iso_text(ledger: Ledger):
    with sqlite3.connect(ledger.path) as db:
        row = db.execute(
            "SELECT survey_date, assigned_at, due_at, attempt1, attempt2, marked_at, closed_at "
            "FROM records WHERE id = 1"
        ).fetchone()
        (imported,) = db.execute("SELECT imported_at FROM cuts").fetchone()
    assert row == (
        "2026-11-30T09:15:00",
        "2026-12-01T08:30:00",
        "2026-12-02T08:00:00",  # 24 h after the cut's import
        "2026-12-02T09:05:00",
        "ayer 3 pm",
        "2026-12-02T17:00:00",
        "2026-12-02T09:05:00",
    )
    assert imported == "2026-12-01T08:00:00"


def test_the_indicators_columns_match_the_full_frame(ledger: Ledger):
    narrow = ledger.records(columns=USED_COLUMNS)
    assert list(narrow.columns) == list(USED_COLUMNS)
    full = ledger.records()
    for name in USED_COLUMNS:
        pd.testing.assert_series_equal(narrow[name], full[name], check_names=True)
    # An attempt asked for alone brings the text that is not a date along.
    alone = ledger.records(columns=["id", "attempt2"])
    assert list(alone.columns) == ["id", "attempt2", unread("attempt2")]
    assert alone[unread("attempt2")].tolist() == ["ayer 3 pm", "", ""]


def test_older_iso_forms_and_offsets_read_as_wall_time(ledger: Ledger):
    with ledger.transaction():
        ledger.db.execute(
            "UPDATE records SET attempt3 = '2026-12-02 10:15', archived_at = "
            "'2026-12-03T08:00:00-05:00' WHERE id = 2"
        )
    second = ledger.records().iloc[1]
    assert second["attempt3"] == pd.Timestamp(2026, 12, 2, 10, 15)
    assert second[unread("attempt3")] == ""
    assert second["archived_at"] == pd.Timestamp(2026, 12, 3, 8, 0)


def test_cuts_operations_events_and_practices_are_typed(ledger: Ledger):
    assert ledger.cuts()["imported_at"].tolist() == [pd.Timestamp(IMPORTED)]
    operations = ledger.operations()
    assert operations["started_at"].tolist() == [pd.Timestamp(IMPORTED)]
    assert operations["finished_at"].tolist() == [pd.Timestamp(MARKED)]
    assert ledger.events()["at"].tolist() == [pd.Timestamp(MARKED)]
    with ledger.transaction():
        ledger.db.executemany(
            "INSERT INTO practice_log (held_on, practice) VALUES (?, ?)",
            [("2026-12-01", "Diálogo diario"), ("el lunes", "Diálogo semanal"), ("", "x")],
        )
    log = ledger.practice_log()
    assert log["held_on"].dtype == "datetime64[us]"
    assert log["held_on"].iloc[0] == pd.Timestamp(2026, 12, 1)
    assert log["held_on"].iloc[1:].isna().all()
    assert log["held_on_unread"].tolist() == ["", "el lunes", ""]


def test_an_empty_ledger_gives_typed_empty_frames(tmp_path: Path):
    with Ledger.open(tmp_path / "vacio.swat.sqlite", create=True) as ledger:
        records = ledger.records()
        narrow = ledger.records(columns=USED_COLUMNS)
    assert records.empty and narrow.empty
    for frame in (records, narrow):
        for name in ("cut_at", *ATTEMPTS):
            assert frame[name].dtype == "datetime64[us]"
        assert set(UNREAD_FIELDS) <= set(frame.columns)
    assert np.issubdtype(narrow["id"].dtype, np.integer)


def test_the_marks_of_some_records_are_those_of_all_of_them(ledger: Ledger):
    """``marks(record_ids)`` is ``marks()`` cut to those IDs: archived records with an agent
    in, records without an agent and IDs not in the ledger out."""
    with ledger.transaction():
        ledger.archive(dt.date(2026, 12, 3), MARKED)
    assert ledger.records(columns=("id", "archived_at"))["archived_at"].notna().tolist() == [
        True,
        False,
        False,
    ]
    everything = ledger.marks()
    assert everything["record_id"].tolist() == [1, 2]
    some = ledger.marks([3, 1, 999, 1])
    expected = everything[everything["record_id"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(some, expected)
    assert some.loc[0, "outcome"] == "NO CONTESTA"
    assert ledger.marks([]).empty and list(ledger.marks([])) == list(everything)
    typed = ledger.typed_marks({1, 2, 3})
    assert typed["record_id"].tolist() == [1, 2]
    assert typed["attempt1"].tolist()[0] == pd.Timestamp("2026-12-02 09:05")
    assert typed["attempt2_unread"].tolist() == ["ayer 3 pm", ""]
