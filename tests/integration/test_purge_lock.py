"""«Depurar» cleans ``swat_copias`` under the workbook's lock: an operation started meanwhile
waits, so its backup copy is never taken for the one the purge replaced and deleted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from swat_xl import bootstrap
from swat_xl.adapters.lock import workbook_lock
from swat_xl.demo.sample import make_export
from swat_xl.errors import BusyError
from swat_xl.services import purge as purging
from tests.helpers.cli import run_cli


def test_copies_are_cleaned_while_the_workbook_is_locked(
    tmp_path: Path, roster_csv: Path, monkeypatch
):
    workbook = tmp_path / "maestro.xlsx"
    make_export(tmp_path / "viejo.xlsx", rows=60, seed=61)
    make_export(tmp_path / "reciente.xlsx", rows=60, seed=62)
    for args, now in (
        (("init", workbook, "--roster", roster_csv), "2025-09-30T08:00:00"),
        (("import", tmp_path / "viejo.xlsx", "-w", workbook), "2025-10-01T08:00:00"),
        (("import", tmp_path / "reciente.xlsx", "-w", workbook), "2026-11-20T08:00:00"),
    ):
        assert run_cli(*args, now=now).code == 0
    busy: list[bool] = []
    purge_pair = purging._purge_pair

    def probing(uow, copy, limit):  # another operation trying to start while copies are cleaned
        try:
            with workbook_lock(workbook, timeout=0.05):
                busy.append(False)
        except BusyError:
            busy.append(True)
        return purge_pair(uow, copy, limit)

    monkeypatch.setattr(purging, "_purge_pair", probing)
    unit = bootstrap.file_unit(workbook, clock=lambda: dt.datetime(2026, 11, 21, 9, 0))
    result = purging.purge(unit)
    assert result.records > 0 and result.copies_rewritten == ["maestro-20261120-080000.xlsx"]
    assert busy == [True]
