"""The ledger's quick check and its copy run beside the operation (a helper thread, see
:meth:`Ledger.begin`): a damaged ledger still fails before anything is written, the copy is
still the ledger as the operation found it, and the operation's writes never wait for the
helper. SQLite files on disk."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest

from swat_xl.adapters import ledger as ledger_module
from swat_xl.adapters.ledger import Ledger, LedgerFiles
from swat_xl.errors import LedgerError
from swat_xl.services.unit_of_work import UnitOfWork
from tests.helpers.fakes import FakeClock, FakeFiles, FakeLock, FakeWorkbook

AT = dt.datetime(2026, 12, 1, 8, 0)


def _filled(path: Path) -> Path:
    with Ledger.open(path, create=True) as ledger, ledger.transaction():
        ledger.start_operation("init", user="ana", host="pc", at=AT)
        for n in range(600):
            ledger.db.execute(
                "INSERT INTO practice_log (held_on, practice, owner, notes) VALUES (?, ?, ?, ?)",
                ("2026-11-29", f"práctica {n}", "Ana", "nota " * 40),
            )
    return path


def _damaged_at_the_end(path: Path) -> bytes:
    """The last page (practice log notes, which no operation below reads) overwritten."""
    with sqlite3.connect(path) as db:
        page = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    start = len(data) - page
    data[start : start + 200] = bytes(range(200))
    path.write_bytes(bytes(data))
    return bytes(data)


def _commands(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [c for (c,) in db.execute("SELECT command FROM operations ORDER BY id")]


def test_damage_the_operation_never_reads_fails_its_commit_and_writes_nothing(tmp_path):
    path = _filled(tmp_path / "maestro.swat.sqlite")
    before = _damaged_at_the_end(path)
    ledger = Ledger.open(path, check_beside=True)  # opens: the check runs beside
    try:
        ledger.begin(copy_to=tmp_path / "copia.sqlite")
        ledger.start_operation("import", user="ana", host="pc", at=AT)
        with pytest.raises(LedgerError) as caught:
            ledger.commit()
        assert not ledger.db.in_transaction
    finally:
        ledger.close()
    assert "dañado" in str(caught.value) and caught.value.exit_code == 4
    assert path.read_bytes() == before
    with pytest.raises(LedgerError):  # opened the usual way, the damage is found at once
        Ledger.open(path)


def test_a_sound_ledger_opened_the_same_way_commits_and_its_copy_is_the_one_before(tmp_path):
    path = _filled(tmp_path / "maestro.swat.sqlite")
    copy = tmp_path / "copia.sqlite"
    with Ledger.open(path, check_beside=True) as ledger:
        ledger.begin(copy_to=copy)
        ledger.start_operation("import", user="ana", host="pc", at=AT)
        ledger.commit()
        ledger.begin()  # the next transaction has nothing left to check or copy
        ledger.start_operation("kpi", user="ana", host="pc", at=AT)
        ledger.commit()
    assert _commands(copy) == ["init"]
    assert _commands(path) == ["init", "import", "kpi"]
    assert ledger_module.quick_check(copy)


def test_the_operation_writes_while_the_helper_still_copies(tmp_path, monkeypatch):
    path = _filled(tmp_path / "maestro.swat.sqlite")
    copy = tmp_path / "copia.sqlite"
    written = threading.Event()
    copying = threading.Event()
    waited: list[bool] = []

    def slow_copy(source: Path, target: Path) -> None:
        copying.set()
        # The helper holds its read until the operation has written (or gives up: then the
        # operation was waiting for it).
        waited.append(written.wait(5))
        Path(target).write_bytes(Path(source).read_bytes())

    monkeypatch.setattr(ledger_module.shutil, "copyfile", slow_copy)
    with Ledger.open(path, check_beside=True) as ledger:
        ledger.begin(copy_to=copy)
        assert copying.wait(10)
        try:
            ledger.start_operation("import", user="ana", host="pc", at=AT)
            # Far more than SQLite's page cache (2 MB): written in the middle of the
            # transaction, these pages would need the lock the helper's read holds.
            ledger.db.executemany(
                "INSERT INTO practice_log (held_on, practice, notes) VALUES (?, ?, ?)",
                [("2026-12-01", f"p{n}", "x" * 400) for n in range(20_000)],
            )
        finally:
            written.set()
        ledger.commit()
    assert waited == [True]
    assert _commands(copy) == ["init"]
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT COUNT(*) FROM practice_log").fetchone()[0] == 600
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM practice_log").fetchone()[0] == 20_600


def test_a_failure_on_a_damaged_ledger_is_named_as_the_damage(tmp_path):
    path = _filled(tmp_path / "maestro.swat.sqlite")
    before = _damaged_at_the_end(path)
    uow = UnitOfWork(
        FakeWorkbook(),
        ledgers=LedgerFiles(),
        lock=FakeLock(),
        clock=FakeClock(AT),
        files=FakeFiles(),
    )
    with pytest.raises(LedgerError) as caught, uow.start(path):
        uow.ledger.start_operation("import", user="ana", host="pc", at=AT)
        raise ValueError("what a damaged page read as data could make of it")
    assert "dañado" in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)
    assert path.read_bytes() == before


def test_where_the_file_cannot_be_copied_sqlite_backs_it_up_inside_the_helpers_read(
    tmp_path, monkeypatch
):
    """As on Windows past 1 GiB (a locked range cannot be read): the helper falls back to
    SQLite's backup from its own read transaction; the copy is still the ledger before."""
    path = _filled(tmp_path / "maestro.swat.sqlite")
    copy = tmp_path / "copia.sqlite"

    def refused(source: Path, target: Path) -> None:
        Path(target).write_bytes(b"half")
        raise PermissionError(13, "locked range")

    monkeypatch.setattr(ledger_module.shutil, "copyfile", refused)
    with Ledger.open(path, check_beside=True) as ledger:
        ledger.begin(copy_to=copy)
        ledger.start_operation("import", user="ana", host="pc", at=AT)
        ledger.commit()
    assert ledger_module.quick_check(copy)
    assert _commands(copy) == ["init"]
    assert _commands(path) == ["init", "import"]
