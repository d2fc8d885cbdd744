"""``swat-xl demo``: a realistic sample cut, a roster, and the whole job run end to end."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from swat_xl.sample import make_export, make_roster
from swat_xl.services.files import FileMaster
from swat_xl.services.importing import import_cut
from swat_xl.services.master import init_workbook
from swat_xl.services.session import ledger_path_for

DEMO_WORKBOOK = "SWAT_Detractores_demo.xlsx"


def _fresh(folder: Path) -> None:
    """Remove what an earlier demo left in ``folder`` (only the demo's own files)."""
    from swat_xl.core.config import Settings

    workbook = folder / DEMO_WORKBOOK
    for path in (
        workbook,
        ledger_path_for(workbook, Settings()),
        folder / "data.xlsx",
        folder / "data (1).xlsx",
        folder / "asesores.csv",
    ):
        path.unlink(missing_ok=True)
    shutil.rmtree(folder / "swat_copias", ignore_errors=True)
    shutil.rmtree(folder / "libros_asesores", ignore_errors=True)


def run_demo(folder: Path, *, echo: Callable[[str], None] = print) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    _fresh(folder)
    roster = folder / "asesores.csv"
    make_roster(roster, agents=6, seed=7)
    first = make_export(folder / "data.xlsx", rows=400, seed=11)
    second_path = folder / "data (1).xlsx"
    make_export(second_path, rows=300, seed=12, previous=[first], repeat_from_previous=40)

    workbook_path = folder / DEMO_WORKBOOK
    init_workbook(workbook_path, roster_file=roster)
    echo(f"Libro maestro creado: {workbook_path}")
    results = []
    for export in (folder / "data.xlsx", second_path):
        result = import_cut(FileMaster(workbook_path), export)
        results.append(result)
        echo(
            f"Corte «{export.name}»: {result.rows_read} filas, {result.ally_rows} de Almacontact, "
            f"{result.duplicate_rows} repetidas, {result.new_records} nuevas "
            f"(hogar {result.by_segment['hogar']}, móvil {result.by_segment['movil']}), "
            f"{sum(result.excluded.values())} no gestionables, {result.assigned} asignadas, "
            f"{result.unassigned} sin asignar."
        )
    echo("Abra el libro en Excel: cada asesor tiene su hoja con listas desplegables; "
         "«No gestionables» tiene lo que se tipifica en el formulario.")
    return {"workbook": str(workbook_path), "imports": [r.as_json() for r in results]}
