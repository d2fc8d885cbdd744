"""The archived records' columns the indicator reads are kept typed in the ledger (an archived
record no longer changes): read back as one read of every record gives them, never stale —
any change to an archived record, a record archived, a purge, a cut's time or a rollback
leaves the ledger as if nothing had been kept. SQLite on disk."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from swat_xl.adapters.ledger import Ledger
from swat_xl.core.config import Settings
from swat_xl.core.fields import CANONICAL
from swat_xl.core.kpi import USED_COLUMNS, KpiReport
from swat_xl.core.model import Agent, Profile
from swat_xl.services.reporting import current_report, kpi_report
from swat_xl.services.session import Session

FIRST = dt.datetime(2026, 12, 1, 8, 0)
SECOND = dt.datetime(2026, 12, 1, 14, 0)
CALLED = "2026-12-01T15:00:00"
ARCHIVED_ON = dt.datetime(2026, 12, 2, 8, 0)


def _cut(ledger: Ledger, at: dt.datetime, size: int, tag: str) -> list[int]:
    cut = ledger.add_cut(
        file_name=f"{tag}.xlsx",
        sha256=tag,
        imported_at=at,
        rows_read=size,
        ally_rows=size,
        duplicate_rows=0,
        new_records=size,
        excluded=0,
    )
    frame = pd.DataFrame({name: [f"{name} {tag}{n}" for n in range(size)] for name in CANONICAL})
    frame["survey_date"] = pd.Series([at - dt.timedelta(hours=2)] * size, dtype="datetime64[us]")
    frame["key"] = [f"{tag}:{n}" for n in range(size)]
    frame["segment"] = ["hogar", "movil"] * (size // 2)
    frame["exclusion"] = ""
    return ledger.add_records(cut, frame, [])


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Two cuts of six records; four of them (2, 4, 8, 9) closed the day before and archived,
    so archived and open records alternate in ID order; record 4 has an attempt typed as text
    that is not a date."""
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger, ledger.transaction():
        op = ledger.start_operation("import", user="ana", host="pc", at=FIRST)
        ids = _cut(ledger, FIRST, 6, "a") + _cut(ledger, SECOND, 6, "b")
        ledger.set_assignments(
            {rid: ("Ana Gómez" if rid % 2 else "Bruno Díaz") for rid in ids},
            at=SECOND,
            due_hours=24,
            reason="reparto",
            operation_id=op,
        )
        closed = (2, 4, 8, 9)
        changes = [(rid, "outcome", "", "NO CONTESTA") for rid in closed]
        changes += [(rid, "attempt1", "", CALLED) for rid in closed]
        changes += [(4, "attempt2", "", "ayer 3 pm"), (5, "outcome", "", "CONTACTO EFECTIVO")]
        ledger.update_marks(changes, source="libro", at=SECOND, operation_id=op)
        ledger.set_closed(dict.fromkeys(closed, CALLED))
        ledger.archive(dt.date(2026, 12, 2), ARCHIVED_ON)
    return path


def _plain(ledger: Ledger) -> pd.DataFrame:
    """The indicator's columns read from the records table (a filtered read never takes the
    kept copy)."""
    return ledger.records(columns=USED_COLUMNS, where="1 = 1")


def _kept(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM archived_columns").fetchone()[0]


def _keep(path: Path) -> pd.DataFrame:
    """Read the indicator's columns in an operation's transaction (which keeps the archived
    records' ones) and commit."""
    with Ledger.open(path) as ledger, ledger.transaction():
        return ledger.records(columns=USED_COLUMNS)


def _read_traced(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The indicator's columns as kept, the same read from the table, and the statements the
    first read ran."""
    with Ledger.open(path) as ledger:
        statements: list[str] = []
        ledger.db.set_trace_callback(statements.append)
        kept = ledger.records(columns=USED_COLUMNS)
        ledger.db.set_trace_callback(None)
        return kept, _plain(ledger), statements


def test_kept_archived_columns_read_back_as_one_read_gives_them(path: Path):
    first = _keep(path)
    assert _kept(path) == len(first.columns)
    kept, plain, statements = _read_traced(path)
    pd.testing.assert_frame_equal(first, plain)
    pd.testing.assert_frame_equal(kept, plain)
    assert kept["id"].tolist() == list(range(1, 13))
    assert kept["archived_at"].notna().tolist() == [r in (2, 4, 8, 9) for r in range(1, 13)]
    assert kept.loc[3, "attempt2_unread"] == "ayer 3 pm"
    assert kept.loc[4, "outcome"] == "CONTACTO EFECTIVO"
    # the archived records were not read from the records table again
    reads = [s for s in statements if "FROM records" in s]
    assert reads and all("archived_at = ''" in s for s in reads), reads


def test_a_read_outside_a_transaction_writes_nothing(path: Path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with Ledger.open(path) as ledger:
        frame = ledger.records(columns=USED_COLUMNS)
        pd.testing.assert_frame_equal(frame, _plain(ledger))
    assert _kept(path) == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def _mark_archived(ledger: Ledger) -> None:
    ledger.update_marks(
        [(8, "outcome", "NO CONTESTA", "CONTACTO EFECTIVO")],
        source="libro",
        at=ARCHIVED_ON,
        operation_id=1,
    )


def _reopen(ledger: Ledger) -> None:
    ledger.set_closed({9: None})


def _archive_more(ledger: Ledger) -> None:
    ledger.set_closed({5: "2026-12-01T16:00:00"})
    ledger.archive(dt.date(2026, 12, 2), ARCHIVED_ON + dt.timedelta(hours=1))


def _purge(ledger: Ledger) -> None:
    ledger.purge_cuts_before(SECOND, notice="purgado")


def _move_cut(ledger: Ledger) -> None:
    ledger.db.execute("UPDATE cuts SET imported_at = '2026-12-01T09:00:00' WHERE id = 1")


def _unarchive(ledger: Ledger) -> None:
    ledger.db.execute("UPDATE records SET archived_at = '' WHERE id = 2")


@pytest.mark.parametrize(
    "change", [_mark_archived, _reopen, _archive_more, _purge, _move_cut, _unarchive]
)
def test_any_change_to_the_archived_records_forgets_what_was_kept(
    path: Path, change: Callable[[Ledger], None]
):
    before = _keep(path)
    with Ledger.open(path) as ledger, ledger.transaction():
        change(ledger)
        assert ledger.db.execute("SELECT COUNT(*) FROM archived_columns").fetchone()[0] == 0
    after = _keep(path)
    assert not after.equals(before)
    assert _kept(path) == len(after.columns)
    kept, plain, _statements = _read_traced(path)
    pd.testing.assert_frame_equal(after, plain)
    pd.testing.assert_frame_equal(kept, plain)


def test_what_a_change_to_open_records_leaves_kept(path: Path):
    _keep(path)
    with Ledger.open(path) as ledger, ledger.transaction():
        ledger.update_marks(
            [(1, "outcome", "", "NO CONTESTA")], source="libro", at=ARCHIVED_ON, operation_id=1
        )
        ledger.set_closed({1: CALLED})
    assert _kept(path) > 0
    kept, plain, _statements = _read_traced(path)
    pd.testing.assert_frame_equal(kept, plain)
    assert kept.loc[0, "outcome"] == "NO CONTESTA"


def test_a_rollback_forgets_what_its_transaction_kept_or_changed(path: Path):
    with Ledger.open(path) as ledger:
        ledger.begin()
        ledger.records(columns=USED_COLUMNS)
        ledger.rollback()
    assert _kept(path) == 0
    kept_before = _keep(path)
    with Ledger.open(path) as ledger:
        ledger.begin()
        _mark_archived(ledger)
        ledger.rollback()
    assert _kept(path) == len(kept_before.columns)
    kept, plain, _statements = _read_traced(path)
    pd.testing.assert_frame_equal(kept, plain)
    pd.testing.assert_frame_equal(kept, kept_before)


# -- the archived records' part of the indicator ------------------------------------------------
NOW = dt.datetime(2026, 12, 3, 9, 0)


def _session(ledger: Ledger, now: dt.datetime = NOW, settings: Settings | None = None) -> Session:
    return Session(
        workbook=None,  # type: ignore[arg-type]  # the indicator reads no workbook
        ledger=ledger,
        settings=settings or Settings(),
        agents=[Agent("Ana Gómez", Profile.AMBOS), Agent("Carla Ruiz", Profile.HOGAR)],
        now=now,
        operation_id=1,
        command="kpi",
    )


def _both(ledger: Ledger, session: Session) -> tuple[KpiReport, KpiReport]:
    """The indicator from the records not archived and the archived records' part, and the
    same computed over every record."""
    live = ledger.records(columns=USED_COLUMNS, include_archived=False)
    fast, _part = current_report(session, live, ledger.cuts())
    return fast, kpi_report(session, ledger.records(columns=USED_COLUMNS), ledger.cuts())


def _parts_kept(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM archived_kpi").fetchone()[0]


@pytest.mark.parametrize(
    "change", [None, _mark_archived, _reopen, _archive_more, _purge, _move_cut, _unarchive]
)
def test_the_indicator_from_the_kept_part_is_that_of_every_record(
    path: Path, change: Callable[[Ledger], None] | None
):
    with Ledger.open(path) as ledger, ledger.transaction():
        fast, full = _both(ledger, _session(ledger))
        assert fast == full
        assert fast.total_records == 12 and fast.by_agent["Bruno Díaz"].total_records == 6
    assert _parts_kept(path) == 1
    with Ledger.open(path) as ledger, ledger.transaction():
        if change is not None:
            change(ledger)
            assert ledger.db.execute("SELECT COUNT(*) FROM archived_kpi").fetchone()[0] == 0
        fast, full = _both(ledger, _session(ledger))  # the kept part, or counted again
        assert fast == full
    assert _parts_kept(path) == 1


def test_a_part_is_kept_for_its_settings_and_while_the_same_attempts_are_ahead_of_the_clock(
    path: Path, monkeypatch: pytest.MonkeyPatch
):
    """An attempt ahead of the clock (a date typed wrong, a clock behind) is a problem until the
    clock reaches it: the part counted before holds until then, and is counted again after."""
    counted: list[int] = []
    read = Ledger.archived_records

    def counting(self: Ledger, columns):
        counted.append(1)
        return read(self, columns)

    monkeypatch.setattr(Ledger, "archived_records", counting)
    before_the_calls = dt.datetime(2026, 12, 1, 14, 30)  # the archived attempts are at 15:00
    with Ledger.open(path) as ledger, ledger.transaction():
        fast, full = _both(ledger, _session(ledger, now=before_the_calls))
        assert fast == full and fast.inconsistency_counts["attempt_in_future"] == 4
    assert _parts_kept(path) == 1 and len(counted) == 1
    a_bit_later = dt.datetime(2026, 12, 1, 14, 59)
    with Ledger.open(path) as ledger, ledger.transaction():
        fast, full = _both(ledger, _session(ledger, now=a_bit_later))  # the part, taken
        assert fast == full and fast.inconsistency_counts["attempt_in_future"] == 4
    assert len(counted) == 1
    with Ledger.open(path) as ledger, ledger.transaction():
        fast, full = _both(ledger, _session(ledger))  # past the calls: counted again
        assert fast == full and "attempt_in_future" not in fast.inconsistency_counts
    assert _parts_kept(path) == 1 and len(counted) == 2
    with Ledger.open(path) as ledger, ledger.transaction():
        fast, full = _both(ledger, _session(ledger, now=before_the_calls))  # the clock went back
        assert fast == full and fast.inconsistency_counts["attempt_in_future"] == 4
    assert len(counted) == 3
    stricter = Settings(min_attempts_no_contact=3, weekday_hours=(16, 18))
    with Ledger.open(path) as ledger, ledger.transaction():
        fast, full = _both(ledger, _session(ledger, settings=stricter))
        assert fast == full
        assert fast.inconsistency_counts["attempt_outside_hours"] == 4
    assert len(counted) == 4
    with Ledger.open(path) as ledger, ledger.transaction():
        assert _both(ledger, _session(ledger, settings=stricter))[0] == full
    assert _parts_kept(path) == 1 and len(counted) == 4


def test_archived_records_are_those_a_read_of_every_record_gives(path: Path, tmp_path: Path):
    _keep(path)  # the kept copy, as a month has it
    with Ledger.open(path) as ledger:
        plain = _plain(ledger)
        expected = plain[plain["archived_at"].notna()].reset_index(drop=True)
        pd.testing.assert_frame_equal(ledger.archived_records(USED_COLUMNS), expected)
        assert ledger.archived_records(USED_COLUMNS)["id"].tolist() == [2, 4, 8, 9]
        without = ledger.archived_records(("id", "outcome"))
        assert without["id"].tolist() == [2, 4, 8, 9]
    with Ledger.open(tmp_path / "nuevo.swat.sqlite", create=True) as ledger:
        with ledger.transaction():
            _cut(ledger, FIRST, 4, "c")
        none = ledger.archived_records(USED_COLUMNS)
        every = ledger.records(columns=USED_COLUMNS)
        assert none.empty and len(every) == 4
        assert none.columns.tolist() == every.columns.tolist()


def test_open_work_is_on_the_sheets_and_found_through_their_index(path: Path):
    with Ledger.open(path) as ledger, ledger.transaction():
        # an archived record whose outcome was cleared (by hand, in SQLite): off the sheets,
        # so it is nobody's open work
        ledger.db.execute("UPDATE records SET outcome = '' WHERE id = 8")
        statements: list[str] = []
        ledger.db.set_trace_callback(statements.append)
        work = ledger.open_work()
        ledger.db.set_trace_callback(None)
        plan = ledger.db.execute(f"EXPLAIN QUERY PLAN {statements[-1]}").fetchall()
    assert work["record_id"].tolist() == [1, 3, 6, 7, 10, 11, 12]
    assert "records_live" in str(plan), plan
