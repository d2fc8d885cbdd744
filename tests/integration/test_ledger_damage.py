"""A ledger damaged at any page is named as damaged when it opens (or when a read meets the
damage), never passed on as an unexpected SQLite error."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from swat_xl.adapters.ledger import Ledger
from swat_xl.errors import LedgerError


def _filled_ledger(path: Path) -> None:
    ledger = Ledger.open(path, create=True)
    with ledger.transaction():
        for n in range(400):
            ledger.db.execute(
                "INSERT INTO practice_log (held_on, practice, owner, notes) VALUES (?, ?, ?, ?)",
                ("2026-11-29", f"práctica {n}", "Ana", "nota " * 40),
            )
    ledger.close()


def test_random_bytes_at_every_page_are_reported_as_a_damaged_ledger(tmp_path):
    pristine = tmp_path / "limpio.swat.sqlite"
    _filled_ledger(pristine)
    with sqlite3.connect(pristine) as db:
        page = db.execute("PRAGMA page_size").fetchone()[0]
    data = pristine.read_bytes()
    pages = len(data) // page
    assert pages > 10
    rng = random.Random(1581)
    for number in range(pages):
        damaged = bytearray(data)
        offset = number * page + (100 if number == 0 else 0)
        damaged[offset : offset + 200] = rng.randbytes(200)
        path = tmp_path / f"pagina-{number}.swat.sqlite"
        path.write_bytes(bytes(damaged))
        with pytest.raises(LedgerError) as caught:
            ledger = Ledger.open(path)
            try:
                with ledger.transaction():
                    ledger.db.execute("SELECT * FROM practice_log").fetchall()
            finally:
                ledger.close()
        assert "dañado" in str(caught.value), number
        assert caught.value.exit_code == 4
