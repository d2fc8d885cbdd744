"""The ledger's bulk writes (a cut's records, an assignment) move the records' revision as the
per-row triggers do, and leave the triggers in place for every other writer."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swat_xl.adapters.ledger import _JSON, Ledger, _extras_json, _stored_time_texts
from swat_xl.core.fields import CANONICAL

IMPORTED = dt.datetime(2026, 12, 1, 8, 0)
TRIGGERS = {"records_revision_insert", "records_revision_update", "records_revision_delete"}


def _cut(size: int, first: int = 0) -> pd.DataFrame:
    frame = pd.DataFrame({name: [f"{name} {n}" for n in range(size)] for name in CANONICAL})
    frame["survey_date"] = pd.Series([IMPORTED] * size, dtype="datetime64[us]")
    frame["key"] = [f"E:{n}" for n in range(first, first + size)]
    frame["segment"] = "hogar"
    frame["exclusion"] = ""
    frame["Canal"] = "Web"
    return frame


def _triggers(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    return {name for (name,) in rows} & TRIGGERS


def _new_cut(ledger: Ledger, size: int = 0) -> int:
    return ledger.add_cut(
        file_name="data.xlsx",
        sha256=f"sha-{ledger.records_revision()}",
        imported_at=IMPORTED,
        rows_read=size,
        ally_rows=size,
        duplicate_rows=0,
        new_records=size,
        excluded=0,
    )


def _add(ledger: Ledger, size: int) -> list[int]:
    return ledger.add_records(_new_cut(ledger, size), _cut(size), ["Canal"])


def test_bulk_writes_move_the_revision_by_the_rows_written(tmp_path: Path) -> None:
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger:
        with ledger.transaction():
            op = ledger.start_operation("import", user="ana", host="pc", at=IMPORTED)
            ids = _add(ledger, 5)
            assert ledger.records_revision() == 5
            ledger.set_assignments(
                {ids[0]: "Ana Gómez", ids[1]: "Bruno Díaz"},
                at=IMPORTED,
                due_hours=24,
                reason="reparto",
                operation_id=op,
            )
            assert ledger.records_revision() == 7
            again = {ids[0]: "Ana Gómez"}  # the same agent again: a row written all the same
            ledger.set_assignments(
                again, at=IMPORTED, due_hours=24, reason="reparto", operation_id=op
            )
            assert ledger.records_revision() == 8
        records = ledger.records()
        assert records["agent"].tolist()[:3] == ["Ana Gómez", "Bruno Díaz", ""]
        assert records.loc[0, "due_at"] == pd.Timestamp(IMPORTED + dt.timedelta(hours=24))
        assert records.loc[0, "extra"] == {"Canal": "Web"}
        ledger.db.execute("UPDATE records SET city = 'Cali' WHERE id = ?", (ids[2],))
        assert ledger.records_revision() == 9  # the trigger is back for every other writer
    assert _triggers(path) == TRIGGERS


def test_a_failed_bulk_write_leaves_the_triggers_and_the_revision(tmp_path: Path) -> None:
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger:
        with ledger.transaction():
            _add(ledger, 3)
        with pytest.raises(sqlite3.IntegrityError), ledger.transaction():
            _add(ledger, 2)  # the same keys again: refused by the ledger
        assert ledger.records_revision() == 3
        assert len(ledger.records()) == 3
    assert _triggers(path) == TRIGGERS


def test_lookups_by_a_set_of_values_take_any_number_of_them(tmp_path: Path) -> None:
    """More keys than SQLite takes ``?`` in one statement (32.766), repeated ones, keys with
    quotes and accents: each lookup answers for all of them in one statement."""
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger:
        with ledger.transaction():
            op = ledger.start_operation("import", user="ana", host="pc", at=IMPORTED)
            ids = _add(ledger, 40_000)
            everyone = dict.fromkeys(ids, "Ana Gómez")
            ledger.set_assignments(
                everyone, at=IMPORTED, due_hours=24, reason="reparto", operation_id=op
            )
        odd = ['E:"1"', "E:Ñandú'", "E:" + "x" * 300]
        asked = [f"E:{n}" for n in range(0, 80_000, 2)] + ["E:4", *odd]
        assert ledger.known_keys(asked) == {f"E:{n}" for n in range(0, 40_000, 2)}
        # fewer keys than records (the keys looked up) and more (the records' keys read)
        assert ledger.known_keys(asked[:5000] + odd) == {f"E:{n}" for n in range(0, 10_000, 2)}
        assert ledger.known_keys(iter(asked)) == ledger.known_keys(asked)
        assert ledger.known_keys([]) == set()
        assert ledger.typified_among(asked) == []  # none sent to the form yet
        wanted = [*ids[::3], ids[0], 10**9]
        assert ledger.marks(wanted)["record_id"].tolist() == ids[::3]


@settings(max_examples=150, deadline=None)
@given(
    times=st.lists(
        st.none() | st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1)), max_size=12
    ),
    unit=st.sampled_from(["s", "us", "ns"]),
)
def test_survey_dates_are_stored_as_pandas_writes_them(times, unit) -> None:
    """A record's survey date is stored as ``strftime`` writes it, to the second (the
    microseconds dropped, before 1970 too), and ``""`` for none; also with a time zone."""
    series = pd.Series(times, dtype=f"datetime64[{unit}]")
    expected = series.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("").tolist()
    assert _stored_time_texts(series) == expected
    zoned = series.dt.tz_localize("America/Bogota")
    assert _stored_time_texts(zoned) == zoned.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("").tolist()


def test_survey_dates_far_from_now_are_stored_as_pandas_writes_them() -> None:
    series = pd.Series(
        ["0001-01-01T00:00:00", "0999-05-05T10:00:00.5", "1969-12-31T23:59:59.5", None],
        dtype="datetime64[us]",
    )
    assert _stored_time_texts(series) == [
        "0001-01-01T00:00:00",
        "0999-05-05T10:00:00",
        "1969-12-31T23:59:59",
        "",
    ]


_labels = st.text(min_size=1, max_size=8) | st.sampled_from(["{", "}", "a{0}b", '"q"', "Ñ"])
_cells = st.text(max_size=8) | st.sampled_from(["{}", '"', "\\", "ñ", "{0}", "\x00", "\u2028"])


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(_labels, min_size=1, max_size=4, unique=True),
    rows=st.lists(st.lists(_cells, min_size=4, max_size=4), max_size=12),
    odd=st.sampled_from([None, float("nan"), 7, 2.5]),
)
def test_extra_columns_are_stored_as_the_json_encoder_writes_them(names, rows, odd) -> None:
    """A record's extra columns are stored as the JSON object of its values: put together from
    each distinct value's encoding when they are text, encoded row by row otherwise."""
    frame = pd.DataFrame([row[: len(names)] for row in rows], columns=names, dtype=object)
    expected = [
        _JSON.encode(dict(zip(names, row, strict=True)))
        for row in frame.itertuples(index=False, name=None)
    ]
    assert _extras_json(frame, names) == expected
    if rows:
        frame.iloc[0, 0] = odd
        expected[0] = _JSON.encode(dict(zip(names, frame.iloc[0].tolist(), strict=True)))
        assert _extras_json(frame, names) == expected


def _tables(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as db:
        records = db.execute("SELECT * FROM records ORDER BY id").fetchall()
        history = db.execute(
            "SELECT record_id, agent, assigned_at, reason, operation_id FROM assignments "
            "ORDER BY record_id"
        ).fetchall()
    return records, history


@pytest.mark.parametrize("due_hours", [24.0, 1.5])
def test_records_inserted_assigned_are_those_inserted_then_assigned(
    tmp_path: Path, due_hours: float
) -> None:
    """An import inserts its records already assigned (one write each): the records, their due
    times and the assignment history are those of an insert followed by the assignment; a
    record of the cut left without an agent stays waiting."""
    cut = _cut(6)
    cut.loc[4, "exclusion"] = "cortesia"  # not to assign
    agents = {1: "Ana Gómez", 2: "Bruno Díaz", 4: "Ana Gómez"}  # 6 waits (no agent)
    at = IMPORTED + dt.timedelta(minutes=5)
    how = {"at": at, "due_hours": due_hours, "reason": "importación"}
    read: dict[str, pd.DataFrame] = {}
    for way in ("then", "at once"):
        path = tmp_path / way / "maestro.swat.sqlite"
        path.parent.mkdir()
        with Ledger.open(path, create=True) as ledger, ledger.transaction():
            op = ledger.start_operation("import", user="ana", host="pc", at=IMPORTED)
            cut_id = _new_cut(ledger)
            if way == "then":
                ids = ledger.add_records(cut_id, cut, ["Canal"])
                ledger.set_assignments(agents, **how, operation_id=op)
            else:
                new = ledger.new_records(cut_id, cut, ["Canal"])
                assert new is not None and new.ids == list(range(1, 7))
                assert new.waiting()["record_id"].tolist() == [1, 2, 3, 4, 6]
                ids = ledger.insert_records(new, agents, **how, operation_id=op)
            assert ids == list(range(1, 7))
            read[way] = ledger.records()  # what the operation draws, kept or read
            assert ledger.waiting_records()["record_id"].tolist() == [3, 6]
    pd.testing.assert_frame_equal(read["at once"], read["then"], check_exact=True)
    assert _tables(tmp_path / "at once" / "maestro.swat.sqlite") == _tables(
        tmp_path / "then" / "maestro.swat.sqlite"
    )
    with Ledger.open(tmp_path / "at once" / "maestro.swat.sqlite") as ledger:
        records = ledger.records()
    pd.testing.assert_frame_equal(records, read["then"], check_exact=True)
    assert records.loc[0, "due_at"] == pd.Timestamp(IMPORTED + dt.timedelta(hours=due_hours))
    assert _triggers(tmp_path / "at once" / "maestro.swat.sqlite") == TRIGGERS


def test_records_are_inserted_with_the_ids_they_were_given(tmp_path: Path) -> None:
    """Records inserted by someone else between the IDs given and the insert: refused, the
    ledger as before; an assigned ID not among the new records: refused."""
    with Ledger.open(tmp_path / "maestro.swat.sqlite", create=True) as ledger:
        with ledger.transaction():
            cut_id = _new_cut(ledger)
            new = ledger.new_records(cut_id, _cut(2), ["Canal"])
            assert new is not None
            with pytest.raises(ValueError, match="not among"):
                ledger.insert_records(new, {9: "Ana Gómez"}, at=IMPORTED, operation_id=None)
            other = _cut(1)
            other["key"] = ["otra"]
            ledger.add_records(cut_id, other, ["Canal"])
            with pytest.raises(RuntimeError, match="inserted since"):
                ledger.insert_records(new)
        assert ledger.records()["key"].tolist() == ["otra"]


def _plans(ledger: Ledger, ask: Any) -> list[str]:
    """The query plans of every statement ``ask()`` runs on the ledger's connection."""
    statements: list[str] = []
    ledger.db.set_trace_callback(statements.append)
    try:
        ask()
    finally:
        ledger.db.set_trace_callback(None)
    plans = []
    for sql in statements:
        if sql.lstrip().upper().startswith(("SELECT", "DELETE", "UPDATE")):
            rows = ledger.db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            plans.append(" / ".join(str(row[-1]) for row in rows))
    return plans


def test_the_form_and_a_purge_find_a_records_history_by_its_id(tmp_path: Path) -> None:
    """A month's ledger: every record exported to the form, its marks in the history. Asking
    which exported records changed since (the form) and deleting records (a purge) look up each
    record's history by its ID, never by reading the whole history once a record (which grew
    with the square of the month). A ledger of the version before the index gets it."""
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger, ledger.transaction():
        op = ledger.start_operation("import", user="ana", host="pc", at=IMPORTED)
        ids = _add(ledger, 300)
        ledger.set_assignments(
            dict.fromkeys(ids, "Ana Gómez"),
            at=IMPORTED,
            due_hours=24,
            reason="reparto",
            operation_id=op,
        )
        marked = IMPORTED + dt.timedelta(hours=2)
        changes = [(rid, "outcome", "", "NO CONTESTA") for rid in ids]
        ledger.update_marks(changes, source="libro", at=marked, operation_id=op)
        ledger.mark_form_exported(ids, marked + dt.timedelta(hours=1))
        later = [(ids[7], "outcome", "NO CONTESTA", "CONTACTO EFECTIVO")]
        ledger.update_marks(
            later, source="libro", at=marked + dt.timedelta(hours=2), operation_id=op
        )
    with sqlite3.connect(path) as db:  # as a ledger of schema 5 was
        db.execute("DROP INDEX mark_history_record")
        db.execute("DROP INDEX assignments_record")
        for (trigger,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'archived_kpi%'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {trigger}")
        db.execute("DROP TABLE archived_kpi")
        db.execute("PRAGMA user_version = 5")
    with Ledger.open(path) as ledger:
        form: dict[str, pd.DataFrame] = {}
        plans = _plans(ledger, lambda: form.setdefault("rows", ledger.form_records()))
        assert form["rows"]["id"].tolist() == [ids[7]]  # changed after its export
        assert form["rows"]["correction"].tolist() == [True]
        assert any("mark_history_record" in plan for plan in plans), plans
        assert not any("SCAN h" in plan for plan in plans), plans
        with ledger.transaction():
            purge = _plans(
                ledger,
                lambda: ledger.purge_cuts_before(IMPORTED + dt.timedelta(days=1), notice="purga"),
            )
        assert ledger.records().empty
        assert not any("SCAN mark_history" in p or "SCAN assignments" in p for p in purge), purge


def _indexes(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'"
        ).fetchall()
    return {(name, sql) for name, sql in rows}


def _plan(path: Path, sql: str) -> str:
    with sqlite3.connect(path) as db:
        return " ".join(str(row[-1]) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))


def test_a_first_big_write_builds_the_records_indexes_again(tmp_path: Path) -> None:
    """More records written than the ledger holds: its indexes are dropped for the write and
    built again, the same, holding every record; a later small write keeps them."""
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True):
        pass
    schema = _indexes(path)
    assert {"records_cut", "records_agent", "records_live"} <= {name for name, _ in schema}
    with Ledger.open(path) as ledger:
        with ledger.transaction():
            ids = _add(ledger, 40)
            ledger.set_assignments(
                dict.fromkeys(ids[:25], "Ana"),
                at=IMPORTED,
                due_hours=24,
                reason="prueba",
                operation_id=None,
            )
        with ledger.transaction():  # fewer than the ledger holds: written through the indexes
            ledger.add_records(_new_cut(ledger, 3), _cut(3, first=40), ["Canal"])
    assert _indexes(path) == schema
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)  # indexes = table
        assert db.execute("SELECT COUNT(*) FROM records WHERE agent = 'Ana'").fetchone() == (25,)
    assert "records_agent" in _plan(path, "SELECT id FROM records WHERE agent = 'Ana'")
    assert "records_cut" in _plan(path, "SELECT id FROM records WHERE cut_id = 1")


def test_a_failed_first_big_write_leaves_the_indexes(tmp_path: Path) -> None:
    """The write refused (a key twice) inside a transaction that goes on: the indexes are back
    before the error reaches it, so what it commits has them, holding what it wrote."""
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True):
        pass
    schema = _indexes(path)
    twice = _cut(4)
    twice["key"] = ["E:0", "E:1", "E:0", "E:3"]
    with (
        Ledger.open(path) as ledger,
        ledger.transaction(),
        pytest.raises(sqlite3.IntegrityError),  # caught inside: the transaction commits
    ):
        ledger.add_records(_new_cut(ledger, 4), twice, ["Canal"])
    assert _indexes(path) == schema
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
