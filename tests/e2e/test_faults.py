"""Crash safety and concurrency, end to end on real processes.

* ``swat-xl import`` killed (SIGKILL) at random moments: the workbook still opens, the ledger
  passes ``PRAGMA integrity_check``, and running the same import again completes the cut
  exactly once, with the workbook showing exactly the ledger's open records.
* A crash between the ledger's commit and the workbook's replacement, deterministically.
* Two operations on one workbook: the second waits (``SWAT_LOCK_TIMEOUT`` / Config
  ``espera_bloqueo_segundos``) and then refuses, or runs after the first; never interleaved.
* The operation log is append-only in SQLite itself.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pytest
from filelock import FileLock
from python_calamine import CalamineWorkbook

from swat_xl.adapters.lock import lock_path_for
from swat_xl.demo.sample import make_export
from swat_xl.workbook import labels as L
from tests.helpers.cli import FIXED_NOW, ledger_of, run_cli, sha
from tests.helpers.marks import shown_ids

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

KILLS = 12  # iterations of the kill test (fixed seed below): bounded, about 30 s in all


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, SWAT_NOW=FIXED_NOW, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path.cwd()), env.get("PYTHONPATH")]))
    return env


def _start(*args: str | Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "swat_xl", *map(str, args)],
        env=_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def ledger_state(workbook: Path) -> tuple[list[int], list[str], int]:
    """Open record ids, every key, and the number of cuts."""
    with sqlite3.connect(ledger_of(workbook)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        open_ids = [r[0] for r in db.execute("SELECT id FROM records WHERE archived_at = ''")]
        keys = [r[0] for r in db.execute("SELECT key FROM records ORDER BY id")]
        cuts = db.execute("SELECT COUNT(*) FROM cuts").fetchone()[0]
    return open_ids, keys, cuts


def assert_in_agreement(workbook: Path, keys: list[str]) -> None:
    open_ids, stored, cuts = ledger_state(workbook)
    assert cuts == 1
    assert sorted(stored) == sorted(keys)  # the cut, exactly once
    assert len(set(stored)) == len(stored)
    assert sorted(shown_ids(workbook)) == sorted(open_ids)
    leftovers = [p.name for p in workbook.parent.iterdir() if p.name.startswith(".swat-tmp-")]
    assert leftovers == []


@pytest.fixture
def cut(tmp_path: Path, master: Path) -> tuple[Path, list[str]]:
    """An export and the keys its import stores (from a complete import on a copy)."""
    (tmp_path / "exportes").mkdir()
    export = tmp_path / "exportes" / "corte.xlsx"
    make_export(export, rows=900, seed=7)
    probe = _fresh(master, tmp_path, "probe")
    assert run_cli("import", export, "--workbook", probe).code == 0
    with sqlite3.connect(ledger_of(probe)) as db:
        keys = [r[0] for r in db.execute("SELECT key FROM records ORDER BY id")]
    shutil.rmtree(probe.parent)
    return export, keys


def _fresh(master: Path, root: Path, name: str) -> Path:
    """A copy of the master and its ledger in a folder of its own."""
    target = root / name
    target.mkdir()
    for path in (master, ledger_of(master)):
        shutil.copy2(path, target / path.name)
    return target / master.name


def test_killed_import_leaves_a_usable_workbook_and_ledger(master, cut, tmp_path):
    export, keys = cut
    rng = random.Random(20261129)
    full = _timed_import(_fresh(master, tmp_path, "medida"), export)
    outcomes = set()
    for attempt in range(KILLS):
        workbook = _fresh(master, tmp_path, f"intento-{attempt}")
        proc = _start("import", export, "--workbook", workbook)
        time.sleep(rng.uniform(0.3, 1.05) * full)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        outcomes.add("terminó" if proc.returncode == 0 else "interrumpido")
        # Right after the kill: the workbook opens, the ledger is sound.
        assert CalamineWorkbook.from_path(str(workbook)).sheet_names
        ledger_state(workbook)
        again = run_cli("import", export, "--workbook", workbook)
        assert again.code == 0, again.err
        assert_in_agreement(workbook, keys)
    openpyxl.load_workbook(workbook, read_only=True).close()
    assert "interrumpido" in outcomes


def _timed_import(workbook: Path, export: Path) -> float:
    start = time.monotonic()
    assert run_cli("import", export, "--workbook", workbook).code == 0
    return time.monotonic() - start


def test_crash_between_commit_and_replace_is_repaired(master, cut):
    """The process dies right after the ledger committed, before the workbook is replaced:
    the next operation renders the workbook from the ledger and does not re-read the marks of
    the stale workbook."""
    export, keys = cut
    die = textwrap.dedent(
        """
        import os, sys
        from swat_xl.adapters import xlsx_file
        xlsx_file.FileWorkbook.replace_with = lambda self, tmp, **kw: os._exit(9)
        from swat_xl.cli import main
        main(sys.argv[1:])
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", die, "import", str(export), "--workbook", str(master)],
        env=_env(),
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 9
    open_ids, _, cuts = ledger_state(master)
    assert cuts == 1 and open_ids  # committed ...
    assert shown_ids(master) == []  # ... but the workbook is still the empty one
    assert [p for p in master.parent.iterdir() if p.name.startswith(".swat-tmp-")]
    again = run_cli("import", export, "--workbook", master, "--json")
    assert again.code == 0, again.err
    assert again.json()["already_imported"] is True
    assert_in_agreement(master, keys)


def test_second_operation_waits_then_refuses(master, tmp_path, monkeypatch):
    export = tmp_path / "corte.xlsx"
    make_export(export, rows=60, seed=3)
    before = (sha(master), sha(ledger_of(master)))
    monkeypatch.setenv("SWAT_LOCK_TIMEOUT", "0.5")
    with FileLock(str(lock_path_for(master))):
        start = time.monotonic()
        result = run_cli("import", export, "--workbook", master)
        waited = time.monotonic() - start
    assert result.code == 5
    assert "Otra operación de swat_xl está usando este libro (se esperó 0,5 s)" in result.err
    assert waited < 15
    assert (sha(master), sha(ledger_of(master))) == before


def test_lock_wait_comes_from_the_config_sheet(master, tmp_path, monkeypatch):
    monkeypatch.delenv("SWAT_LOCK_TIMEOUT", raising=False)
    book = openpyxl.load_workbook(master)
    sheet = book[L.SHEET_CONFIG]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "espera_bloqueo_segundos":
            row[1].value = 1
    book.save(master)
    before = (sha(master), sha(ledger_of(master)))
    with FileLock(str(lock_path_for(master))):
        start = time.monotonic()
        result = run_cli("assign", "--workbook", master)
        waited = time.monotonic() - start
    assert result.code == 5, result.err
    # The wait is Config's 1 s, not the default 5 s: said by the tool itself (a bound on the
    # elapsed time alone would fail on a loaded machine, where Python's start-up takes seconds).
    assert "(se esperó 1 s)" in result.err
    assert 1 <= waited < 15
    assert (sha(master), sha(ledger_of(master))) == before


def test_two_imports_at_once_run_one_after_the_other(master, tmp_path):
    first = make_export(tmp_path / "uno.xlsx", rows=400, seed=31)
    second = make_export(
        tmp_path / "dos.xlsx", rows=400, seed=32, previous=[first], repeat_from_previous=40
    )
    procs = [
        _start("import", tmp_path / name, "--workbook", master, SWAT_LOCK_TIMEOUT="120")
        for name in ("uno.xlsx", "dos.xlsx")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()
    open_ids, keys, cuts = ledger_state(master)
    assert cuts == 2
    assert sorted(keys) == sorted(set(first.keys) | set(second.keys))
    assert sorted(shown_ids(master)) == sorted(open_ids)
    with sqlite3.connect(ledger_of(master)) as db:
        spans = db.execute("SELECT id, command, finished_at FROM operations ORDER BY id").fetchall()
    assert [command for _, command, _ in spans] == [
        "Crear libro",
        "Importar corte",
        "Importar corte",
    ]
    assert all(finished for _, _, finished in spans)


def test_stale_temporaries_are_removed_by_the_next_operation(master, tmp_path):
    stale = master.with_name(f".swat-tmp-{master.stem}.0123abcd.xlsx")
    stale_base = master.with_name(f".swat-tmp-{master.stem}.4567ef.xlsx.xw")
    (master.parent / "swat_copias").mkdir(exist_ok=True)
    stale_copy = master.parent / "swat_copias" / f".swat-tmp-{master.stem}.89cd.xlsx"
    other = master.with_name(".swat-tmp-otro-libro.89ab.xlsx")  # another workbook's: kept
    for path in (stale, stale_base, stale_copy, other):
        path.write_bytes(b"PK\x03\x04 a half-written workbook")
        os.utime(path, (time.time() - 60, time.time() - 60))
    assert run_cli("assign", "--workbook", master).code == 0
    assert not stale.exists() and not stale_base.exists() and not stale_copy.exists()
    assert other.exists()


def test_the_operation_log_is_append_only(master):
    with sqlite3.connect(ledger_of(master)) as db:
        db.execute(
            "INSERT INTO events (operation_id, at, level, message) "
            "VALUES (1, '2026-11-29T10:00:00', 'info', 'x')"
        )  # appending is allowed
        for statement in (
            "UPDATE operations SET command = 'otra cosa' WHERE id = 1",
            "UPDATE operations SET summary = 'reescrito' WHERE id = 1",
            "DELETE FROM operations WHERE id = 1",
            "UPDATE events SET message = 'x'",
            "DELETE FROM events",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)
        db.rollback()


def test_output_closed_early_is_not_reported_as_a_failed_operation(master: Path) -> None:
    """``swat-xl kpi | head -1``: the reader goes away before the summary is printed. The
    operation has committed by then, so the CLI must not claim that nothing was changed; it
    ends quietly with the status a process killed by SIGPIPE has (141)."""
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "SWAT_NOW": FIXED_NOW, "PYTHONPATH": root}
    proc = subprocess.Popen(
        [sys.executable, "-m", "swat_xl", "kpi", "--workbook", str(master)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=master.parent,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody reads the summary
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Error inesperado" not in err
    assert not (master.parent / "swat_xl_error.log").exists()
    with sqlite3.connect(ledger_of(master)) as db:
        last = db.execute("SELECT command, finished_at FROM operations ORDER BY id DESC").fetchone()
    assert last[0] == "Actualizar indicador" and last[1]
