"""The records an operation has just inserted (and assigned) are not read back from SQLite:
the ledger keeps them as it stored them. Whatever writes follow (marks, archiving, a moved cut,
a rollback, another connection), every read gives what a ledger that keeps nothing reads."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swat_xl.adapters.ledger import Ledger
from swat_xl.core.fields import CANONICAL
from swat_xl.core.kpi import USED_COLUMNS

START = dt.datetime(2026, 12, 1, 8, 0)
AGENTS = ("Ana Gómez", "Bruno Díaz", "Zoë 李")
#: Every way the tool reads the records (``where``: always read from the table).
READS: dict[str, Callable[[Ledger], pd.DataFrame]] = {
    "all": lambda ledger: ledger.records(),
    "live": lambda ledger: ledger.records(include_archived=False),
    "indicator": lambda ledger: ledger.records(columns=USED_COLUMNS),
    "indicator live": lambda ledger: ledger.records(columns=USED_COLUMNS, include_archived=False),
    "no id": lambda ledger: ledger.records(columns=("agent", "cut_at", "attempt1_unread")),
    "assigned": lambda ledger: ledger.records(where="r.agent != ''"),
    "marks": lambda ledger: ledger.marks(),
    "waiting": lambda ledger: ledger.waiting_records(),
}


def _reads(ledger: Ledger) -> dict[str, pd.DataFrame]:
    return {name: read(ledger) for name, read in READS.items()}


def _same(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame], when: str) -> None:
    for name in READS:
        try:
            pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{name} ({when}): {exc}") from None


def _fresh(ledger: Ledger) -> dict[str, pd.DataFrame]:
    """What a ledger that keeps nothing reads on the same connection (in its transaction)."""
    return _reads(Ledger(ledger.path, ledger.db))


TEXT = st.text(st.sampled_from("aZ é李0 9\x00'\"{}:,\\-"), max_size=6)
ROW = st.fixed_dictionaries(
    {
        "survey_id": TEXT,
        "city": st.one_of(TEXT, st.integers(0, 99)),  # a number is stored as its text
        "survey_date": st.one_of(
            st.none(), st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 1, 1))
        ),
        "segment": st.sampled_from(["hogar", "movil"]),
        "exclusion": st.sampled_from(["", "", "cortesia"]),
        "Canal": st.one_of(TEXT, st.integers(0, 99), st.none()),
    }
)
STEP = st.one_of(
    st.tuples(st.just("add"), st.lists(ROW, max_size=5), st.integers(0, 3)),
    st.tuples(
        st.just("add assigned"),
        st.lists(ROW, max_size=5),
        st.integers(0, 3),
        st.lists(st.booleans(), max_size=12),
        st.integers(0, 2),
    ),
    st.tuples(st.just("assign"), st.lists(st.booleans(), max_size=12), st.integers(0, 2)),
    st.sampled_from(
        [
            ("read",),
            ("mark",),
            ("close and archive",),
            ("move cut",),
            ("rollback",),
            ("raw rollback",),
            ("failed write",),
            ("commit",),
            ("other connection",),
        ]
    ),
)
DUE_HOURS = (24.0, 1.5, 0.0004)
_keys = itertools.count()


def _add(
    ledger: Ledger,
    rows: list[dict[str, Any]],
    day: int,
    assigned: tuple[list[bool], int] | None = None,
) -> None:
    """A cut of ``rows`` inserted; with ``assigned`` (picks and shift, as :func:`_assign`), the
    picked ones of those waiting (earlier ones first) assigned and the new ones inserted
    already assigned, as an import does."""
    if not rows:
        return
    at = START + dt.timedelta(days=day, minutes=7 * day)
    cut = ledger.add_cut(
        file_name="corte.xlsx",
        sha256=f"sha-{next(_keys)}",
        imported_at=at,
        rows_read=len(rows),
        ally_rows=len(rows),
        duplicate_rows=0,
        new_records=len(rows),
        excluded=0,
    )
    frame = pd.DataFrame({name: [""] * len(rows) for name in CANONICAL})
    for name in ("survey_id", "city", "segment", "exclusion", "Canal"):
        frame[name] = [row[name] for row in rows]
    frame["survey_date"] = pd.Series([row["survey_date"] for row in rows], dtype="datetime64[us]")
    frame["key"] = [f"E:{next(_keys)}" for _ in rows]
    if day % 2:  # the export reader's columns of text may come as objects
        frame["survey_id"] = frame["survey_id"].astype(object)
    frame["Plan"] = [row["survey_id"][::-1] for row in rows]
    if assigned is None:
        ledger.add_records(cut, frame, ["Canal", "Plan"])
        return
    new = ledger.new_records(cut, frame, ["Canal", "Plan"])
    assert new is not None
    picks, shift = assigned
    waiting = ledger.waiting_records()["record_id"].tolist()
    waiting += new.waiting()["record_id"].tolist()
    chosen = [rid for rid, pick in zip(waiting, picks, strict=False) if pick]
    how = {
        "at": START + dt.timedelta(hours=shift, seconds=shift),
        "due_hours": DUE_HOURS[shift],
        "reason": "reparto",
        "operation_id": 1,
    }
    agents = {rid: AGENTS[(rid + shift) % len(AGENTS)] for rid in chosen}
    ledger.set_assignments({r: a for r, a in agents.items() if r < new.start}, **how)
    ledger.insert_records(new, {r: a for r, a in agents.items() if r >= new.start}, **how)


def _assign(ledger: Ledger, picks: list[bool], shift: int) -> None:
    waiting = ledger.waiting_records()["record_id"].tolist()
    chosen = [rid for rid, pick in zip(waiting, picks, strict=False) if pick]
    ledger.set_assignments(
        {rid: AGENTS[(rid + shift) % len(AGENTS)] for rid in chosen},
        at=START + dt.timedelta(hours=shift, seconds=shift),
        due_hours=DUE_HOURS[shift],
        reason="reparto",
        operation_id=1,
    )


def _first(ledger: Ledger, where: str) -> int | None:
    row = ledger.db.execute(f"SELECT MIN(id) FROM records WHERE {where}").fetchone()
    return row[0]


def _step(ledger: Ledger, step: tuple[Any, ...]) -> None:
    name = step[0]
    if name == "add":
        _add(ledger, step[1], step[2])
    elif name == "add assigned":
        _add(ledger, step[1], step[2], (step[3], step[4]))
    elif name == "assign":
        _assign(ledger, step[1], step[2])
    elif name == "read":
        _same(_reads(ledger), _fresh(ledger), "read in the transaction")
    elif name == "mark" and (rid := _first(ledger, "agent != ''")) is not None:
        changes = [(rid, "attempt1", "", "ayer 3 pm"), (rid, "outcome", "", "NO CONTESTA")]
        ledger.update_marks(changes, source="libro", at=START, operation_id=1)
    elif name == "close and archive" and (rid := _first(ledger, "archived_at = ''")) is not None:
        ledger.set_closed({rid: START})
        ledger.db.execute(
            "UPDATE records SET archived_at = ? WHERE id = ?", (START.isoformat(), rid)
        )
    elif name == "move cut":
        ledger.db.execute(
            "UPDATE cuts SET imported_at = '2026-12-20T06:05:04' WHERE id = (SELECT MAX(id) "
            "FROM cuts)"
        )
    elif name == "rollback":
        ledger.rollback()
        ledger.begin()
    elif name == "raw rollback":  # not through the ledger (as SQLite does on some errors)
        ledger.db.execute("ROLLBACK")
        ledger.db.execute("BEGIN IMMEDIATE")
    elif name == "failed write":  # a block of the operation fails: its transaction rolls back
        ledger.commit()
        try:
            with ledger.transaction():
                _add(
                    ledger,
                    [
                        {
                            "survey_id": "x",
                            "city": "",
                            "survey_date": None,
                            "segment": "hogar",
                            "exclusion": "",
                            "Canal": "",
                        }
                    ],
                    9,
                )
                _reads(ledger)
                raise RuntimeError("the block fails")
        except RuntimeError:
            pass
        ledger.begin()
    elif name == "commit":
        ledger.commit()
        ledger.begin()
    elif name == "other connection":
        ledger.commit()
        with Ledger.open(ledger.path) as other, other.transaction():
            rid = _first(other, "1 = 1")
            if rid is not None:
                other.db.execute("UPDATE records SET notes = 'otro' WHERE id = ?", (rid,))
            _add(
                other,
                [
                    {
                        "survey_id": "otra",
                        "city": "",
                        "survey_date": None,
                        "segment": "movil",
                        "exclusion": "",
                        "Canal": "x",
                    }
                ],
                2,
            )
        ledger.begin()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=10))
def test_every_read_is_what_a_ledger_that_keeps_nothing_reads(steps: list[tuple[Any, ...]]):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "maestro.swat.sqlite"
        with Ledger.open(path, create=True) as ledger:
            ledger.begin()
            ledger.start_operation("import", user="ana", host="pc", at=START)
            for step in steps:
                _step(ledger, step)
            inside = _reads(ledger)
            _same(inside, _fresh(ledger), "at the end, in the transaction")
            ledger.commit()
        with Ledger.open(path) as fresh:
            _same(inside, _reads(fresh), "read again from the file")


def test_an_imported_cut_is_not_read_back(tmp_path: Path):
    """After a cut is inserted and assigned, reading the records reads from the table only the
    records that were there before; the new ones are as stored."""
    path = tmp_path / "maestro.swat.sqlite"
    rows = [
        {
            "survey_id": str(n),
            "city": "Cali",
            "survey_date": START,
            "segment": "hogar",
            "exclusion": "",
            "Canal": "Web",
        }
        for n in range(6)
    ]
    with Ledger.open(path, create=True) as ledger:
        with ledger.transaction():
            _add(ledger, rows[:2], 0)
        ledger.begin()
        _add(ledger, rows[2:], 1)
        _same(_reads(ledger), _fresh(ledger), "inserted")
        _assign(ledger, [True] * 6, 0)
        statements: list[str] = []
        ledger.db.set_trace_callback(statements.append)
        got = _reads(ledger)
        ledger.db.set_trace_callback(None)
        _same(got, _fresh(ledger), "assigned")
        _step(ledger, ("move cut",))
        _same(_reads(ledger), _fresh(ledger), "the cut's time changed")
        ledger.rollback()
    reads = [s for s in statements if "FROM records" in s]
    # marks() and a read with ``where`` read every record they ask for; so do the archived
    # records' columns (none here); every other read only those before the cut
    drawn = [s for s in reads if "agent != ''" not in s and "archived_at != ''" not in s]
    assert len(drawn) == 6 and all(re.search(r"\bid < 3\b", s) for s in drawn), reads
    assert got["all"]["agent"].tolist() == [
        "Bruno Díaz",
        "Zoë 李",
        "Ana Gómez",
        "Bruno Díaz",
        "Zoë 李",
        "Ana Gómez",
    ]
    # due 24 hours after each record's cut was imported
    assert (
        got["all"]["due_at"].tolist()
        == [pd.Timestamp(START + dt.timedelta(hours=24))] * 2
        + [pd.Timestamp(START + dt.timedelta(days=1, minutes=7, hours=24))] * 4
    )


def _rows(size: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "survey_id": f"{tag}{n}",
            "city": tag,
            "survey_date": START,
            "segment": "hogar",
            "exclusion": "",
            "Canal": tag,
        }
        for n in range(size)
    ]


def _mark_four(ledger: Ledger) -> None:
    """Four changes to record 1: the revision moves by four, as inserting and assigning two
    records moves it."""
    changes = [(1, name, "", "ayer") for name in ("attempt1", "attempt2", "attempt3", "notes")]
    ledger.update_marks(changes, source="libro", at=START, operation_id=1)


def _undone_by_rollback(ledger: Ledger) -> None:
    ledger.rollback()


def _undone_by_sqlite(ledger: Ledger) -> None:
    ledger.db.execute("ROLLBACK")  # not through the ledger, as SQLite does on some errors


@pytest.mark.parametrize("undo", [_undone_by_rollback, _undone_by_sqlite, None])
def test_nothing_kept_outlives_a_rollback(tmp_path: Path, undo: Callable[[Ledger], None] | None):
    """Records inserted, assigned and read, then rolled back; other writes then bring the
    revision back to the same number: what was kept of the rolled-back records is not read."""
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger:
        with ledger.transaction():
            _add(ledger, _rows(2, "a"), 0)
            _assign(ledger, [True] * 2, 0)
        revision = ledger.records_revision()
        if undo is None:  # a block of the operation fails and its transaction rolls back
            with pytest.raises(RuntimeError), ledger.transaction():
                _add(ledger, _rows(2, "b"), 1)
                _assign(ledger, [True] * 2, 1)
                _reads(ledger)
                raise RuntimeError("the block fails")
        else:
            ledger.begin()
            _add(ledger, _rows(2, "b"), 1)
            _assign(ledger, [True] * 2, 1)
            _reads(ledger)
            undo(ledger)
        assert ledger.records_revision() == revision
        ledger.begin()
        _mark_four(ledger)
        assert ledger.records_revision() == revision + 4  # as before the rollback
        got = _reads(ledger)
        _same(got, _fresh(ledger), "after the rollback")
        ledger.commit()
    assert got["all"]["id"].tolist() == [1, 2]
    with Ledger.open(path) as fresh:
        _same(got, _reads(fresh), "read again from the file")


def test_another_connections_write_is_read(tmp_path: Path):
    """What was kept in one operation is not read once another connection changed a record."""
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger:
        ledger.begin()
        _add(ledger, _rows(3, "a"), 0)
        _assign(ledger, [True] * 3, 0)
        _reads(ledger)
        ledger.commit()
        with Ledger.open(path) as other, other.transaction():
            other.db.execute("UPDATE records SET notes = 'otro', agent = '' WHERE id = 2")
        ledger.begin()
        got = _reads(ledger)
        ledger.commit()
    assert got["all"]["notes"].tolist() == ["", "otro", ""]
    with Ledger.open(path) as fresh:
        _same(got, _reads(fresh), "read again from the file")
