"""The ledger's copy kept with each workbook backup is the ledger as the operation's transaction
found it: written as the transaction begins, holding the write lock, before anything is
written. SQLite files on disk."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from swat_xl.adapters.ledger import Ledger, quick_check

AT = dt.datetime(2026, 12, 1, 8, 0)


def _operations(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [c for (c,) in db.execute("SELECT command FROM operations ORDER BY id")]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    path = tmp_path / "maestro.swat.sqlite"
    with Ledger.open(path, create=True) as ledger, ledger.transaction():
        ledger.start_operation("init", user="ana", host="pc", at=AT)
    return path


def test_the_copy_is_the_ledger_before_the_operation_writes(path: Path, tmp_path: Path):
    copy = tmp_path / "copia.sqlite"
    with Ledger.open(path) as ledger:
        ledger.begin(copy_to=copy)
        assert ledger.db.in_transaction
        ledger.start_operation("import", user="ana", host="pc", at=AT)
        ledger.commit()
    assert quick_check(copy)
    assert _operations(copy) == ["init"]
    assert _operations(path) == ["init", "import"]
    with Ledger.open(copy) as kept:  # a ledger that opens and migrates like any other
        assert kept.records().empty


def test_a_copy_that_cannot_be_written_leaves_no_transaction_open(path: Path, tmp_path: Path):
    with Ledger.open(path) as ledger:
        with pytest.raises(sqlite3.Error):
            ledger.begin(copy_to=tmp_path / "no-existe" / "copia.sqlite")
        assert not ledger.db.in_transaction
        with ledger.transaction():  # the write lock was given back
            ledger.start_operation("kpi", user="ana", host="pc", at=AT)
    assert _operations(path) == ["init", "kpi"]
