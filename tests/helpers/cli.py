"""Run the CLI as a real subprocess, find the ledger beside a workbook, hash files."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXED_NOW = "2026-11-29T10:00:00"
ROOT = Path(__file__).resolve().parents[2]  # the checkout whose swat_xl is under test


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


def run_cli(
    *args: str | Path,
    cwd: Path | None = None,
    now: str | None = FIXED_NOW,
    timeout: int = 300,
    env: dict[str, str] | None = None,
) -> CliResult:
    env = {**os.environ, **(env or {})}
    if cwd is not None:  # run elsewhere: the package still comes from this checkout
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if now:
        env["SWAT_NOW"] = now
    else:
        env.pop("SWAT_NOW", None)
    proc = subprocess.run(
        [sys.executable, "-m", "swat_xl", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def ledger_of(workbook: Path) -> Path:
    return workbook.with_name(workbook.stem + ".swat.sqlite")


def master_with_two_cuts(folder: Path, run: Callable[..., Any], seeds: tuple[int, int]) -> Path:
    """A master in ``folder`` with three agents (hogar, móvil, both) and two cuts imported
    through ``run`` (the test's CLI runner, with its clock): 240 rows, then a csv of 160 rows
    of which 9 repeat the first cut."""
    from swat_xl.demo.sample import make_export

    roster = folder / "asesores.csv"
    roster.write_text(
        "Asesor;Perfil;Activo;Capacidad\nAna Gómez;Hogar;Sí;\nBruno Díaz;Móvil;Sí;\n"
        "Carla Ruiz;Ambos;Sí;\n",
        encoding="utf-8",
    )
    workbook = folder / "maestro.xlsx"
    run("init", workbook, "--roster", roster)
    first = make_export(folder / "corte1.xlsx", rows=240, seed=seeds[0])
    run("import", folder / "corte1.xlsx", "--workbook", workbook)
    make_export(
        folder / "corte2.csv", rows=160, seed=seeds[1], previous=[first], repeat_from_previous=9
    )
    run("import", folder / "corte2.csv", "--workbook", workbook)
    return workbook


def written_notes(workbook: Path) -> dict[str, Any]:
    """What the ledger noted about the sheets of the workbook the last operation wrote."""
    with sqlite3.connect(ledger_of(workbook)) as db:
        (text,) = db.execute("SELECT sheets FROM workbook_state WHERE id = 1").fetchone()
    return json.loads(text)


def agent_sheets(book: Any) -> Iterator[tuple[Any, dict[str, int]]]:
    """The agent sheets of an openpyxl workbook (their first row holds ``ID`` and
    ``Resultado``), each with its column numbers by header."""
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        if "ID" in header and "Resultado" in header:
            yield ws, {h: i + 1 for i, h in enumerate(header)}
