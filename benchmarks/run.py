"""Benchmarks of swat_xl at Power BI's export limit, as whole processes.

Generates Power BI-like exports (``swat_xl.demo.sample.make_export``, 17 columns of realistic text)
and a 25-agent roster, then times, each several times (median, peak memory of the process):

* ``swat-xl init`` of a master, ``swat-xl import`` of a cut into the fresh master, a second cut
  into the same master, and ``swat-xl kpi`` on it;
* the script an analyst would write (``analyst.py``: pandas + openpyxl, one sheet per agent);
* in-process: the assignment of a whole cut (``swat_xl.core.assignment.assign``) and the
  indicator over 30 days of 5,000 records (``swat_xl.core.kpi.compute_kpi``), plus ``swat-xl kpi``
  on that 30-day master;
* the daily loop: a month run as the procedure runs it, a cut into it against the same cut into
  a fresh master, and ``kpi`` after marks were typed into the file;
* the ribbon: COM calls and cells read and written by ``swat_xl.macros`` («Importar corte»,
  then «Actualizar indicador») on the Excel model of the tests (``tests/helpers/excel_sim.py``),
  for a cut into a fresh master and into the month, with Excel's time estimated at stated rates.

Prints a Markdown table (and writes it with ``--results``). Only the standard library, the
project's own dependencies and its test helpers are used::

    python benchmarks/run.py --sizes 5000,50000 --runs 3 --out /tmp/swat-bench
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ANALYST = Path(__file__).resolve().parent / "analyst.py"
NOW = dt.datetime(2026, 11, 29, 10, 0)
#: How :func:`build_daily_month` marks a month (2: calls only after the record was assigned,
#: within the legal hours, none on Sundays and holidays; 1, unnumbered: calls from 08:00 on
#: every day, most of them before the record was sent).
MONTH_VERSION = "2"
AGENTS = 25


@dataclass
class Timing:
    """Runs of one command: wall seconds and peak resident memory (MiB) of each."""

    label: str
    walls: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls) if self.walls else float("nan")

    @property
    def peak(self) -> float:
        return max(self.peaks) if self.peaks else float("nan")


def _env(now: dt.datetime = NOW) -> dict[str, str]:
    env = dict(os.environ)
    env["SWAT_NOW"] = now.isoformat()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


# A Python command noting its own peak memory as it exits. The ``ru_maxrss`` that ``wait4``
# gives for a child is not its own on Linux: the kernel keeps the high-water mark of the memory
# the child had before ``exec``, and Python spawns with vfork, so that is this process's peak.
_NOTING_PEAK = """
import atexit, os, runpy, sys

def note_peak():
    with open("/proc/self/status") as status, open(os.environ["SWAT_BENCH_PEAK"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(note_peak)
if sys.argv[1] == "-m":
    del sys.argv[1]
    runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)
else:
    del sys.argv[0]
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_process(
    args: list[str | Path], *, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Run a command to its end; its wall seconds and peak RSS in MiB (its own: noted by a
    Python command as it exits, else from wait4)."""
    env = dict(env or _env())
    command = [str(a) for a in args]
    with tempfile.TemporaryDirectory() as scratch:
        noted = Path(scratch) / "peak"
        if command[0] == sys.executable and Path("/proc/self/status").exists():
            env["SWAT_BENCH_PEAK"] = str(noted)
            command = [sys.executable, "-c", _NOTING_PEAK, *command[1:]]
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
            peak = float("nan")
            if hasattr(os, "wait4"):
                _pid, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - start
                proc.returncode = os.waitstatus_to_exitcode(status)
                # ru_maxrss is in KiB on Linux, in bytes on macOS.
                peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
            else:  # pragma: no cover - Windows: no per-process rusage in the standard library
                proc.wait()
                wall = time.perf_counter() - start
            if proc.returncode != 0:
                err.seek(0)
                message = err.read().decode(errors="replace")
                raise SystemExit(
                    f"failed ({proc.returncode}): {' '.join(map(str, args))}\n{message}"
                )
        if noted.exists():
            peak = int(noted.read_text()) / 1024  # VmHWM is in kB
    return wall, peak


def swat(*args: str | Path) -> list[str | Path]:
    return [sys.executable, "-m", "swat_xl", *args]


def timed(
    label: str, runs: int, prepare: Any, command: Any, env: dict[str, str] | None = None
) -> Timing:
    """``prepare()`` (untimed) then ``command(prepared)`` (timed), ``runs`` times."""
    timing = Timing(label)
    for _ in range(runs):
        prepared = prepare()
        wall, peak = run_process(command(prepared), env=env)
        timing.walls.append(wall)
        timing.peaks.append(peak)
    return timing


def fresh_copy(template: Path, scratch: Path) -> Path:
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(template, scratch)
    return scratch / "maestro.xlsx"


# -- inputs -----------------------------------------------------------------------------------
def make_inputs(out: Path, size: int) -> tuple[Path, Path]:
    from swat_xl.demo.sample import make_export

    first = out / f"corte-{size}-1.xlsx"
    second = out / f"corte-{size}-2.xlsx"
    if not (first.exists() and second.exists()):
        truth = make_export(first, rows=size, seed=11)
        make_export(second, rows=size, seed=12, previous=[truth], repeat_from_previous=size // 10)
    return first, second


def make_roster_file(out: Path) -> Path:
    from swat_xl.demo.sample import make_roster

    roster = out / "asesores.csv"
    if not roster.exists():
        make_roster(roster, agents=AGENTS, seed=3)
    return roster


# -- scenarios --------------------------------------------------------------------------------
def bench_size(out: Path, size: int, runs: int, roster: Path, analyst: bool) -> dict[str, Timing]:
    first, second = make_inputs(out, size)
    work = out / f"trabajo-{size}"
    work.mkdir(exist_ok=True)
    results: dict[str, Timing] = {}

    def empty_dir() -> Path:
        target = work / "init"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        return target / "maestro.xlsx"

    results["init"] = timed(
        "init", runs, empty_dir, lambda wb: swat("init", wb, "--roster", roster)
    )
    fresh = work / "fresco"
    if not fresh.exists():
        fresh.mkdir()
        run_process(swat("init", fresh / "maestro.xlsx", "--roster", roster))
    measures = [
        (
            "import1",
            lambda: fresh_copy(fresh, work / "run"),
            lambda wb: swat("import", first, "--workbook", wb),
        )
    ]
    if analyst:
        target = work / "reparto.xlsx"
        measures.append(
            (
                "analyst",
                lambda: target.unlink(missing_ok=True),
                lambda _: [sys.executable, ANALYST, first, roster, target],
            )
        )
    # The import and the analyst's script alternate, round by round: each round's ratio
    # compares them on the machine as it was then (the table shows the median of the ratios).
    for _ in range(runs):
        for label, prepare, command in measures:
            once = timed(label, 1, prepare, command)
            results.setdefault(label, Timing(label)).walls.extend(once.walls)
            results[label].peaks.extend(once.peaks)
    # The masters after one and two cuts are kept under --out, but only as the code measured
    # draws them: a master drawn by other code is drawn whole again by its next operation.
    after_first = work / "tras-corte-1"
    after_second = work / "tras-corte-2"
    version = _code_version()
    for made in (after_first, after_second):
        if made.exists() and _drawn_by(made) != version:
            shutil.rmtree(made)
    if not after_first.exists():
        shutil.copytree(fresh, after_first)
        run_process(swat("import", first, "--workbook", after_first / "maestro.xlsx"))
        (after_first / _DRAWN_BY).write_text(version)
    results["import2"] = timed(
        "import2",
        runs,
        lambda: fresh_copy(after_first, work / "run"),
        lambda wb: swat("import", second, "--workbook", wb),
    )
    if not after_second.exists():
        shutil.copytree(after_first, after_second)
        run_process(swat("import", second, "--workbook", after_second / "maestro.xlsx"))
    if has_command("kpi"):
        results["kpi"] = timed(
            "kpi",
            runs,
            lambda: fresh_copy(after_second, work / "run"),
            lambda wb: swat("kpi", "--workbook", wb),
        )
    shutil.rmtree(work / "run", ignore_errors=True)
    return results


_DRAWN_BY = ".dibujado-por"  # the code version that drew a kept master (see bench_size)


def _drawn_by(folder: Path) -> str:
    try:
        return (folder / _DRAWN_BY).read_text()
    except OSError:
        return ""


def _code_version() -> str:
    """The digest the measured code gives its own work (``code_version``), asked of it."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from swat_xl.services.reporting import code_version as v; print(v())",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return probe.stdout.strip()


def has_command(name: str) -> bool:
    probe = subprocess.run(swat(name, "--help"), env=_env(), capture_output=True)
    return probe.returncode == 0


def inner_assign(size: int, runs: int) -> dict[str, Any]:
    """In-process: assign ``size`` new records to 25 agents (no open work)."""
    import random

    import pandas as pd

    from swat_xl.core.assignment import assign
    from swat_xl.core.model import Agent, Profile

    rng = random.Random(5)
    profiles = [Profile.HOGAR, Profile.MOVIL, Profile.AMBOS]
    agents = [Agent(f"Asesor {i:02d}", profiles[i % 3]) for i in range(AGENTS)]
    new = pd.DataFrame(
        {
            "record_id": range(1, size + 1),
            "segment": [rng.choice(["hogar", "movil"]) for _ in range(size)],
            "account": [str(rng.randrange(10**7, 10**7 + size)) for _ in range(size)],
            "ani": [f"3{rng.randrange(10**9):09d}" for _ in range(size)],
        }
    )
    open_work = pd.DataFrame(
        {"record_id": [], "agent": [], "segment": [], "account": [], "ani": []}
    )
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        assign(new, open_work, agents)
        walls.append(time.perf_counter() - start)
    return {"records": size, "wall": statistics.median(walls)}


def inner_kpi(workbook: str, runs: int) -> dict[str, Any]:
    """In-process: read the indicator's columns of every record of a master's ledger, then
    compute the indicator."""
    from swat_xl.adapters.ledger import Ledger
    from swat_xl.core.config import Settings
    from swat_xl.core.kpi import USED_COLUMNS, compute_kpi
    from swat_xl.services.reporting import colombian_holidays

    reads, computes = [], []
    for _ in range(runs):
        ledger = Ledger.open(Path(workbook).with_name("maestro.swat.sqlite"))
        start = time.perf_counter()
        records, cuts = ledger.records(columns=USED_COLUMNS), ledger.cuts()
        read = time.perf_counter()
        holidays = colombian_holidays({NOW.year - 1, NOW.year})
        compute_kpi(records, Settings(), NOW, holidays, cuts=cuts)
        reads.append(read - start)
        computes.append(time.perf_counter() - read)
        ledger.close()
    return {
        "records": len(records),
        "read": statistics.median(reads),
        "compute": statistics.median(computes),
        "wall": statistics.median(r + c for r, c in zip(reads, computes, strict=True)),
    }


def build_month(out: Path, roster: Path, days: int, per_day: int) -> Path:
    """A master after ``days`` daily cuts of about ``per_day`` records, marked as agents do
    (90 % closed within the day) and archived after 5 days, as the procedure asks."""
    import random

    from swat_xl.demo.sample import make_export

    folder = out / f"mes-{days}x{per_day}"
    workbook = folder / "maestro.xlsx"
    ready = folder / ".listo"
    if ready.exists():
        return workbook
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    start = NOW - dt.timedelta(days=days)
    run_process(swat("init", workbook, "--roster", roster), env=_env(start))
    rng = random.Random(9)
    rows = int(per_day / 0.57)  # share of an export that becomes new records of the ally
    for day in range(days):
        cut_at = start + dt.timedelta(days=day, hours=8)
        export = folder / "corte.xlsx"
        make_export(export, rows=rows, seed=100 + day, start=cut_at)
        run_process(swat("import", export, "--workbook", workbook), env=_env(cut_at))
        with sqlite3.connect(workbook.with_name("maestro.swat.sqlite")) as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM records WHERE cut_id = (SELECT MAX(id) FROM cuts) "
                    "AND agent NOT IN ('', 'Sin asignar')"
                )
            ]
            marks = []
            for rid in ids:
                if rng.random() < 0.9:
                    first = cut_at + dt.timedelta(minutes=rng.randint(20, 600))
                    outcome = rng.choice(["CONTACTO EFECTIVO"] * 8 + ["NO CONTESTA", "NO CONTACTO"])
                    when = first.isoformat()
                    marks.append(
                        (
                            when,
                            outcome,
                            "ESCALADO" if outcome == "CONTACTO EFECTIVO" else "",
                            str(rng.randint(1, 5)),
                            when,
                            when,
                            rid,
                        )
                    )
            db.executemany(
                "UPDATE records SET attempt1 = ?, outcome = ?, resolution = ?, agent_survey = ?, "
                "marked_at = ?, closed_at = ? WHERE id = ?",
                marks,
            )
            db.execute(
                "UPDATE records SET archived_at = ? WHERE archived_at = '' AND outcome != '' "
                "AND cut_id <= (SELECT MAX(id) FROM cuts) - 5",
                (cut_at.isoformat(),),
            )
    (folder / "corte.xlsx").unlink(missing_ok=True)
    # The marks went straight into the ledger: one operation draws them into the workbook, so
    # the master is as the last operation of a working day leaves it.
    run_process(swat("kpi", "--workbook", workbook), env=_env(NOW))
    ready.touch()
    return workbook


# -- the daily loop ---------------------------------------------------------------------------
def _sample() -> Any:
    from swat_xl.demo import sample

    return sample


def build_daily_month(
    out: Path, roster: Path, days: int, cuts_per_day: int, rows_per_cut: int
) -> Path:
    """A master after ``days`` days run as the procedure runs them, every step a ``swat-xl``
    process at its own time: a cut every few hours from 08:00 (a tenth of each repeating the
    previous one); at the end of the day the agents' workbooks are exported, marked as agents
    mark them (``simulate_agent_day``: each record called after it was assigned, within the
    legal calling hours, before the workbooks are collected; nobody calls on Sundays and
    holidays, and what had no room waits for the next day), collected, the excluded records
    exported to the online form and everything closed before the day archived. A month kept
    under ``out`` is used again when it was built the way this function builds it now
    (:data:`MONTH_VERSION` in its ``.listo``)."""
    from swat_xl.services.reporting import colombian_holidays

    sample = _sample()
    folder = out / f"dia-{days}x{cuts_per_day}x{rows_per_cut}"
    workbook = folder / "maestro.xlsx"
    ready = folder / ".listo"
    if ready.exists() and ready.read_text(encoding="utf-8").strip() == MONTH_VERSION:
        return workbook
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    agents = folder / "asesores"
    start = (NOW - dt.timedelta(days=days)).replace(hour=7, minute=0)
    run_process(swat("init", workbook, "--roster", roster), env=_env(start))
    holidays = colombian_holidays({start.year, NOW.year})  # nobody calls on them
    hours = max(1, 9 // max(1, cuts_per_day - 1)) if cuts_per_day > 1 else 0
    previous: list[Any] = []
    for day in range(days):
        morning = start + dt.timedelta(days=day, hours=1)
        for n in range(cuts_per_day):
            cut_at = morning + dt.timedelta(hours=n * hours)
            export = folder / "corte.xlsx"
            truth = sample.make_export(
                export,
                rows=rows_per_cut,
                seed=1000 + day * 10 + n,
                start=cut_at - dt.timedelta(hours=hours or 3),
                previous=previous,
                repeat_from_previous=rows_per_cut // 10 if previous else 0,
            )
            previous = [truth]
            run_process(swat("import", export, "--workbook", workbook), env=_env(cut_at))
        evening = morning + dt.timedelta(hours=10)
        run_process(
            swat("agents-export", "--workbook", workbook, "--out", agents), env=_env(evening)
        )
        later = evening + dt.timedelta(minutes=30)
        sample.simulate_agent_day(agents, seed=day, now=morning, until=later, holidays=holidays)
        run_process(swat("collect", agents, "--workbook", workbook), env=_env(later))
        form = folder / f"formulario-{day}.xlsx"
        run_process(swat("form", "--workbook", workbook, "--out", form), env=_env(later))
        form.unlink(missing_ok=True)
        before = f"{morning:%d/%m/%Y}"
        run_process(swat("archive", "--workbook", workbook, "--before", before), env=_env(later))
    (folder / "corte.xlsx").unlink(missing_ok=True)
    ready.write_text(MONTH_VERSION, encoding="utf-8")
    return workbook


def type_marks(workbook: Path, count: int) -> int:
    """Type ``count`` marks into the agent sheets of ``workbook`` (round robin over the
    sheets, the first open rows) and save it with openpyxl, as someone saving the file would:
    every part of the package is written again."""
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    sheets = []
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        if "ID" in header and "Resultado" in header:
            sheets.append((ws, {name: header.index(name) + 1 for name in header if name}))
    rows = {ws.title: 2 for ws, _ in sheets}
    typed = 0
    while typed < count and sheets:
        for ws, col in list(sheets):
            row = rows[ws.title]
            while row <= ws.max_row and (
                ws.cell(row, col["ID"]).value is None or ws.cell(row, col["Resultado"]).value
            ):
                row += 1
            if row > ws.max_row:
                sheets.remove((ws, col))
                continue
            ws.cell(row, col["Intento 1"]).value = NOW - dt.timedelta(minutes=30 + typed)
            ws.cell(row, col["Resultado"]).value = "CONTACTO EFECTIVO"
            ws.cell(row, col["Solución"]).value = "ESCALADO"
            rows[ws.title] = row + 1
            typed += 1
            if typed == count:
                break
    book.save(workbook)
    return typed


def _month_and_cut(
    out: Path,
    roster: Path,
    days: int,
    cuts_per_day: int,
    rows_per_cut: int,
    cut: int,
    prefix: str,
) -> tuple[Path, Path, Path, Path]:
    """The month master (built once), a work folder for this measure, a ``cut``-row cut dated
    three hours before ``NOW`` and a fresh master to import it into (each made once)."""
    month = build_daily_month(out, roster, days, cuts_per_day, rows_per_cut)
    work = out / f"{prefix}-{month.parent.name}-{cut}"
    work.mkdir(exist_ok=True)
    export = work / "corte.xlsx"
    if not export.exists():
        _sample().make_export(export, rows=cut, seed=77, start=NOW - dt.timedelta(hours=3))
    fresh = work / "fresco"
    if not fresh.exists():
        fresh.mkdir()
        run_process(swat("init", fresh / "maestro.xlsx", "--roster", roster))
    return month, work, export, fresh


def bench_daily(
    out: Path, roster: Path, runs: int, days: int, cuts_per_day: int, rows_per_cut: int, cut: int
) -> dict[str, Any]:
    """The daily loop: a ``cut``-row cut into a fresh master and into the month master, and
    ``kpi`` on the month master after 20 marks were typed into the file; the runs of the
    three alternate, so the ratios compare runs made side by side."""
    month, work, export, fresh = _month_and_cut(
        out, roster, days, cuts_per_day, rows_per_cut, cut, "bucle"
    )
    # The month as the code being measured leaves it after an operation (the month itself may
    # have been drawn by older code, kept with --out), and a copy with 20 marks typed in it.
    settled = work / "mes"
    shutil.rmtree(settled, ignore_errors=True)
    shutil.copytree(month.parent, settled, ignore=shutil.ignore_patterns(".listo", "asesores"))
    run_process(swat("kpi", "--workbook", settled / "maestro.xlsx"))
    marked = work / "mes-marcado"
    shutil.rmtree(marked, ignore_errors=True)
    shutil.copytree(settled, marked)
    type_marks(marked / "maestro.xlsx", 20)
    runs_of = {
        "fresh": (fresh, lambda wb: swat("import", export, "--workbook", wb)),
        "month": (settled, lambda wb: swat("import", export, "--workbook", wb)),
        "kpi_marked": (marked, lambda wb: swat("kpi", "--workbook", wb)),
        "kpi_month": (settled, lambda wb: swat("kpi", "--workbook", wb)),
    }
    timings = {key: Timing(key) for key in runs_of}
    for _ in range(runs):
        for key, (template, command) in runs_of.items():
            copy = fresh_copy(template, work / "run")
            wall, peak = run_process(command(copy))
            timings[key].walls.append(wall)
            timings[key].peaks.append(peak)
    shutil.rmtree(work / "run", ignore_errors=True)
    with sqlite3.connect(month.with_name("maestro.swat.sqlite")) as db:
        records, live = db.execute("SELECT COUNT(*), SUM(archived_at = '') FROM records").fetchone()
        cuts, days = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT substr(imported_at, 1, 10)) FROM cuts"
        ).fetchone()
    return {
        "timings": timings,
        "runs": runs,
        "days": days,
        "cuts": cuts,
        "records": records,
        "live": live,
        "cut": cut,
        "ratios": [
            m / f for m, f in zip(timings["month"].walls, timings["fresh"].walls, strict=True)
        ],
        "kpi_ratios": [
            k / f for k, f in zip(timings["kpi_marked"].walls, timings["fresh"].walls, strict=True)
        ],
    }


# -- the ribbon ---------------------------------------------------------------------------------
#: Assumed rates of Excel driven through COM from another process (pywin32, as xlwings does on
#: Windows), to turn counts into an order of magnitude of Excel's time: a COM round trip costs
#: about 0.2 ms (5.000 a second), and a bulk ``Range.Value`` moves about 500.000 cells a second
#: each way. Neither is measured here (the machine has no Excel): the counts are.
COM_CALLS_PER_SECOND = 5_000
CELLS_PER_SECOND = 500_000


def excel_seconds(counts: dict[str, int]) -> float:
    return (
        counts["com_calls"] / COM_CALLS_PER_SECOND
        + (counts["cells_read"] + counts["cells_written"]) / CELLS_PER_SECOND
    )


def inner_ribbon(workbook: str, export: str) -> dict[str, Any]:
    """In-process: ``swat_xl.macros`` run by the ribbon on ``workbook`` open in the Excel model
    of the tests (``tests/helpers/excel_sim.py``: xlwings' own classes on an engine backed by a
    strict model of Excel's object model), counting COM calls and cells read and written by
    a first «Actualizar indicador» on the workbook as the command line wrote it (every sheet
    is drawn whole: the book holds no mark of a draw by the ribbon), then «Importar corte» of
    ``export`` and «Actualizar indicador» again, as a ribbon user's clicks follow each other."""
    sys.path.insert(0, str(ROOT))
    import xlwings as xw

    from swat_xl import macros
    from tests.helpers.excel_sim import open_workbook

    book = open_workbook(workbook)
    xw.Book._mock_caller = book  # what xlwings.Book.caller() returns (as set_caller does)
    out: dict[str, Any] = {}
    for key, action, args in (
        ("first", "actualizar_indicador", ()),
        ("import", "importar_corte", (export,)),
        ("kpi", "actualizar_indicador", ()),
    ):
        start = time.perf_counter()
        with book.measure() as counts:
            macros.run(action, *args)
        alert = book.sim_app.alerts[-1]
        if alert["mode"] != "info":
            raise SystemExit(f"{action} failed in the Excel model: {alert['prompt']}")
        out[key] = {
            "com_calls": counts.com_calls,
            "cells_read": counts.cells_read,
            "cells_written": counts.cells_written,
            "python": time.perf_counter() - start,
            "top": counts.by_member.most_common(4),
        }
    return out


def bench_ribbon(
    out: Path, roster: Path, days: int, cuts_per_day: int, rows_per_cut: int, cut: int
) -> dict[str, Any]:
    """The ribbon's cost: a ``cut``-row cut imported through ``swat_xl.macros`` into a fresh
    master and into a month master (built as the daily loop builds it), then «Actualizar
    indicador», each in the Excel model, counted."""
    month, work, export, fresh = _month_and_cut(
        out, roster, days, cuts_per_day, rows_per_cut, cut, "cinta"
    )
    settled = work / "mes"
    if not settled.exists():  # the month as the code measured leaves it after an operation
        shutil.copytree(month.parent, settled, ignore=shutil.ignore_patterns(".listo", "asesores"))
        run_process(swat("kpi", "--workbook", settled / "maestro.xlsx"))
    result: dict[str, Any] = {"cut": cut}
    for key, template in (("fresh", fresh), ("month", settled)):
        copy = fresh_copy(template, work / "run")
        result[key] = _inner("ribbon", json.dumps([str(copy), str(export)]), 1)
    shutil.rmtree(work / "run", ignore_errors=True)
    with sqlite3.connect(settled / "maestro.swat.sqlite") as db:
        result["records"], result["live"] = db.execute(
            "SELECT COUNT(*), SUM(archived_at = '') FROM records"
        ).fetchone()
        result["cuts"], result["days"] = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT substr(imported_at, 1, 10)) FROM cuts"
        ).fetchone()
    return result


def ribbon_lines(ribbon: dict[str, Any]) -> list[str]:
    def row(label: str, c: dict[str, Any], base: dict[str, Any] | None) -> str:
        cells = c["cells_read"] + c["cells_written"]
        ratio = "—"
        if base is not None:
            ratio = _x(cells / max(base["cells_read"] + base["cells_written"], 1))
        return (
            f"| {label} | {_n(c['com_calls'])} | {_n(c['cells_read'])} | "
            f"{_n(c['cells_written'])} | {ratio} | {_s(excel_seconds(c))} |"
        )

    fresh, month = ribbon["fresh"], ribbon["month"]
    first = month.get("first")
    return [
        "### La cinta (Excel por COM, contado)",
        "",
        f"`swat_xl.macros` por las clases de xlwings sobre el modelo de Excel de las pruebas "
        f"(`tests/helpers/excel_sim.py`). Un corte de {_n(ribbon['cut'])} filas importado con "
        f"«Importar corte» y luego «Actualizar indicador», en un libro nuevo y en un libro del "
        f"mes ({ribbon['days']} días, {_n(ribbon['cuts'])} cortes, {_n(ribbon['records'])} "
        f"registros en el registro, {_n(ribbon['live'])} en las hojas), cada libro tras un "
        "primer «Actualizar indicador» (el libro tal como lo deja la cinta). Tiempo de Excel "
        f"estimado a {_n(COM_CALLS_PER_SECOND)} llamadas COM y {_n(CELLS_PER_SECOND)} celdas "
        "por segundo (supuestos, no medidos: esta máquina no tiene Excel).",
        "",
        "| operación | llamadas COM | celdas leídas | celdas escritas "
        "| celdas / libro nuevo | Excel (estimado) |",
        "|---|---:|---:|---:|---:|---:|",
        row("importar, libro nuevo", fresh["import"], None),
        row("importar, libro del mes", month["import"], fresh["import"]),
        row("actualizar indicador, libro nuevo", fresh["kpi"], None),
        row("actualizar indicador, libro del mes", month["kpi"], fresh["kpi"]),
        *(
            [row("primer clic en el libro del mes escrito por la línea de órdenes", first, None)]
            if first
            else []
        ),
    ]


# -- report -----------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    out = {"Python": platform.python_version()}
    for name in ("pandas", "XlsxWriter", "python-calamine", "openpyxl"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "—"
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU ({cpu}){memory}"


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _s(value: float) -> str:
    return "—" if value != value else f"{value:.2f} s".replace(".", ",")


def _mb(value: float) -> str:
    return "—" if value != value else f"{value:,.0f} MiB".replace(",", ".")


def report(sizes: dict[int, dict[str, Timing]], extras: dict[str, Any], runs: int) -> str:
    lines = [
        "## Rendimiento",
        "",
        f"Máquina: {machine()}. "
        + ", ".join(f"{k} {v}" for k, v in versions().items())
        + f". Procesos completos (arranque de Python incluido), mediana de {runs} ejecuciones; "
        "el import en un libro nuevo y el script del analista se alternan, y su razón es la "
        "mediana de las razones de cada ronda; memoria: pico de RSS del proceso.",
        "",
    ]
    if sizes:
        lines += [
            "| filas del corte | init | import (libro nuevo) | 2.º corte (mismo libro) | kpi "
            "| analista (pandas + openpyxl) | analista / import | memoria máx. |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for size, res in sizes.items():
        get = res.get
        ratio = "—"
        if get("analyst") and get("import1"):
            rounds = zip(res["analyst"].walls, res["import1"].walls, strict=True)
            ratio = f"{statistics.median(a / i for a, i in rounds):.1f}×".replace(".", ",")
        peak = max((t.peak for k, t in res.items() if k != "analyst"), default=float("nan"))
        lines.append(
            f"| {_n(size)} | {_s(res['init'].wall)} | {_s(res['import1'].wall)} "
            f"| {_s(res['import2'].wall)} | {_s(get('kpi').wall) if get('kpi') else '—'} "
            f"| {_s(get('analyst').wall) if get('analyst') else '—'} | {ratio} | {_mb(peak)} |"
        )
    lines.append("")
    if "assign" in extras:
        a = extras["assign"]
        lines.append(
            f"- Asignación sola (en proceso, `assign`): {_n(a['records'])} registros a "
            f"{AGENTS} asesores en {_s(a['wall'])}."
        )
    if "kpi_inner" in extras:
        k = extras["kpi_inner"]
        lines.append(
            f"- Indicador de {extras['kpi_days']} días × {_n(extras['kpi_per_day'])} registros "
            f"({_n(k['records'])} en el registro), en proceso: `compute_kpi` {_s(k['compute'])}, "
            f"más la lectura de sus columnas en el registro {_s(k['read'])}. `swat-xl kpi` "
            f"completo sobre ese libro, sin cambios desde la última operación (copia tal cual "
            f"las hojas de registros y reescribe el indicador): {_s(extras['kpi_month'].wall)}, "
            f"{_mb(extras['kpi_month'].peak)}; redibujando todas las hojas (lo que ocurre "
            f"cuando el libro cambió, p. ej. con marcas escritas en él): "
            f"{_s(extras['kpi_month_full'].wall)}, {_mb(extras['kpi_month_full'].peak)}."
        )
    if "daily" in extras:
        lines += ["", *daily_lines(extras["daily"])]
    if "ribbon" in extras:
        lines += ["", *ribbon_lines(extras["ribbon"])]
    lines.append("")
    return "\n".join(lines)


def _x(value: float) -> str:
    return "—" if value != value else f"{value:.2f}×".replace(".", ",")


def daily_lines(daily: dict[str, Any]) -> list[str]:
    t = daily["timings"]
    ratio = statistics.median(daily["ratios"])
    kpi_ratio = statistics.median(daily["kpi_ratios"])
    return [
        "### Bucle diario",
        "",
        f"El libro del mes: {daily['days']} días de trabajo hechos como lo pide el "
        f"procedimiento, cada paso un proceso `swat-xl` a su hora: {_n(daily['cuts'])} cortes "
        f"({daily['cuts'] / max(daily['days'], 1):.0f} al día, cada pocas horas), al "
        "final de cada día los libros por asesor exportados, marcados, recogidos, el "
        "formulario exportado y lo cerrado archivado. Quedan "
        f"{_n(daily['records'])} registros en el registro, {_n(daily['live'])} en las hojas. "
        f"Un corte de {_n(daily['cut'])} filas; {daily['runs']} rondas de las cuatro medidas, "
        "alternadas; tiempo: mediana; la razón es la mediana de las razones de cada ronda.",
        "",
        "| medida | tiempo | memoria máx. | razón / libro nuevo |",
        "|---|---:|---:|---:|",
        f"| import en un libro nuevo | {_s(t['fresh'].wall)} | {_mb(t['fresh'].peak)} | 1,00× |",
        f"| import en el libro del mes | {_s(t['month'].wall)} | {_mb(t['month'].peak)} "
        f"| {_x(ratio)} |",
        f"| kpi en el libro del mes tras 20 marcas escritas en el archivo "
        f"| {_s(t['kpi_marked'].wall)} | {_mb(t['kpi_marked'].peak)} | {_x(kpi_ratio)} |",
        f"| kpi en el libro del mes sin cambios | {_s(t['kpi_month'].wall)} "
        f"| {_mb(t['kpi_month'].peak)} "
        f"| {_x(t['kpi_month'].wall / t['fresh'].wall)} |",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,50000,150000", help="filas de cada corte")
    parser.add_argument("--runs", type=int, default=3, help="ejecuciones por medida")
    parser.add_argument("--out", help="carpeta de trabajo (se conservan los archivos)")
    parser.add_argument("--results", help="escribe la tabla Markdown en este archivo")
    parser.add_argument("--no-analyst", action="store_true", help="omite el script del analista")
    parser.add_argument("--kpi-days", type=int, default=30)
    parser.add_argument("--kpi-per-day", type=int, default=5000)
    parser.add_argument("--assign-size", type=int, default=150_000)
    parser.add_argument("--daily-days", type=int, default=22, help="días del mes (0: sin bucle)")
    parser.add_argument("--daily-cuts", type=int, default=4, help="cortes por día")
    parser.add_argument("--daily-rows", type=int, default=2000, help="filas de cada corte del mes")
    parser.add_argument("--daily-cut", type=int, default=5000, help="filas del corte medido")
    parser.add_argument(
        "--daily-runs", type=int, help="rondas del bucle diario (por defecto --runs)"
    )
    parser.add_argument(
        "--ribbon-cut", type=int, default=5000, help="filas del corte por la cinta (0: sin cinta)"
    )
    parser.add_argument(
        "--ribbon-days", type=int, help="días del mes de la cinta (por defecto --daily-days)"
    )
    parser.add_argument("--inner", nargs=2, metavar=("WHAT", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.inner:  # a measurement done inside a fresh process
        what, arg = args.inner
        if what == "ribbon":
            result = inner_ribbon(*json.loads(arg))
        elif what == "assign":
            result = inner_assign(int(arg), args.runs)
        else:
            result = inner_kpi(arg, args.runs)
        print(json.dumps(result))
        return 0

    sys.path.insert(0, str(ROOT))
    # The package's bytecode, as pip writes it when it installs swat-xl: each measured process
    # then loads it like an installed copy does, instead of compiling every module again
    # where PYTHONDONTWRITEBYTECODE is set (0,2-0,35 s a process on this machine).
    compileall.compile_dir(ROOT / "swat_xl", quiet=1)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="swat-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    roster = make_roster_file(out)
    sizes = {}
    for size in (int(s) for s in args.sizes.split(",") if s.strip() and s.strip() != "0"):
        print(f"… {size} filas", file=sys.stderr)
        sizes[size] = bench_size(out, size, args.runs, roster, not args.no_analyst)
    extras: dict[str, Any] = {}
    if args.assign_size:
        print("… asignación", file=sys.stderr)
        extras["assign"] = _inner("assign", str(args.assign_size), args.runs)
    if args.kpi_days and has_command("kpi"):
        print(f"… indicador de {args.kpi_days} días", file=sys.stderr)
        month = build_month(out, roster, args.kpi_days, args.kpi_per_day)
        extras.update(kpi_days=args.kpi_days, kpi_per_day=args.kpi_per_day)
        extras["kpi_inner"] = _inner("kpi", str(month), args.runs)
        extras["kpi_month"] = timed(
            "kpi",
            args.runs,
            lambda: fresh_copy(month.parent, out / "mes-run"),
            lambda wb: swat("kpi", "--workbook", wb),
        )
        extras["kpi_month_full"] = timed(
            "kpi (todo)",
            args.runs,
            lambda: fresh_copy(month.parent, out / "mes-run"),
            lambda wb: swat("kpi", "--workbook", wb),
            env={**_env(), "SWAT_REUSE": "0"},
        )
    if args.daily_days:
        print(f"… bucle diario de {args.daily_days} días", file=sys.stderr)
        extras["daily"] = bench_daily(
            out,
            roster,
            args.daily_runs or args.runs,
            args.daily_days,
            args.daily_cuts,
            args.daily_rows,
            args.daily_cut,
        )
    ribbon_days = args.ribbon_days or args.daily_days
    if args.ribbon_cut and ribbon_days:
        print(f"… la cinta: mes de {ribbon_days} días", file=sys.stderr)
        extras["ribbon"] = bench_ribbon(
            out, roster, ribbon_days, args.daily_cuts, args.daily_rows, args.ribbon_cut
        )
    table = report(sizes, extras, args.runs)
    print(table)
    if args.results:
        Path(args.results).write_text(table, encoding="utf-8")
    print(f"Archivos en {out}", file=sys.stderr)
    return 0


def _inner(what: str, arg: str, runs: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--runs", str(runs), "--inner", what, arg],
        env=_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    raise SystemExit(main())
