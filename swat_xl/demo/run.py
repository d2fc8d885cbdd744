"""``swat-xl demo``: a realistic sample cut, a roster, and the whole job run end to end."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from swat_xl.adapters.system import now
from swat_xl.bootstrap import file_unit
from swat_xl.core.config import Settings
from swat_xl.demo.sample import make_export, simulate_agent_day
from swat_xl.services.agents import collect_agent_workbooks, export_agent_workbooks
from swat_xl.services.form import export_form
from swat_xl.services.importing import import_cut
from swat_xl.services.indicator import pct_text, refresh_kpi
from swat_xl.services.master import init_workbook
from swat_xl.services.ports import Clock
from swat_xl.services.unit_of_work import ledger_path_for

DEMO_WORKBOOK = "SWAT_Detractores_demo.xlsx"
DEMO_ROSTER = (
    "Asesor;Perfil;Activo;Capacidad\n"
    "Martha Pérez;Hogar;Sí;80\n"
    "Camilo Castaño;Hogar;Sí;80\n"
    "Fernanda Valencia;Móvil;Sí;80\n"
    "Sebastián Rodríguez;Móvil;Sí;60\n"
    "Natalia Díaz;Ambos;Sí;\n"
    "Marcela Pérez;Ambos;No;40\n"
)


def _fresh(folder: Path) -> None:
    """Remove what an earlier demo left in ``folder`` (only the demo's own files)."""
    workbook = folder / DEMO_WORKBOOK
    for path in (
        workbook,
        ledger_path_for(workbook, Settings()),
        folder / "data.xlsx",
        folder / "data (1).xlsx",
        folder / "asesores.csv",
        folder / "formulario.xlsx",
    ):
        path.unlink(missing_ok=True)
    shutil.rmtree(folder / "swat_copias", ignore_errors=True)
    shutil.rmtree(folder / "libros_asesores", ignore_errors=True)


def _last_working_day() -> dt.date:
    """The last weekday before today: the demo's day, its calls at legal calling hours."""
    day = now().date() - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _at(day: dt.date, hour: int, minute: int = 0) -> Clock:
    """A clock stopped at ``hour:minute`` of ``day``: each step of the demo runs at the hour of
    the working day it plays (cuts in the morning, agents' calls after they were sent, the
    collection and the indicator at the end of the shift), so every attempt falls after its
    cut was imported and before it was collected, as the procedure's rules expect."""
    moment = dt.datetime.combine(day, dt.time(hour, minute))
    return lambda: moment


def run_demo(folder: Path, *, echo: Callable[[str], None] = print) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    _fresh(folder)
    roster = folder / "asesores.csv"
    roster.write_text(DEMO_ROSTER, encoding="utf-8-sig")
    first = make_export(folder / "data.xlsx", rows=400, seed=11)
    second_path = folder / "data (1).xlsx"
    make_export(second_path, rows=300, seed=12, previous=[first], repeat_from_previous=40)

    day = _last_working_day()
    workbook_path = folder / DEMO_WORKBOOK
    init_workbook(
        file_unit(workbook_path, must_exist=False, clock=_at(day, 7, 50)),
        workbook_path,
        roster_file=roster,
    )
    echo(f"Libro maestro creado: {workbook_path}")
    results = []
    for export, hour in ((folder / "data.xlsx", 8), (second_path, 10)):
        result = import_cut(file_unit(workbook_path, clock=_at(day, hour)), export)
        results.append(result)
        echo(
            f"Corte «{export.name}»: {result.rows_read} filas, {result.ally_rows} de Almacontact, "
            f"{result.duplicate_rows} repetidas, {result.new_records} nuevas "
            f"(hogar {result.by_segment['hogar']}, móvil {result.by_segment['movil']}), "
            f"{sum(result.excluded.values())} no gestionables, {result.assigned} asignadas, "
            f"{result.unassigned} sin asignar."
        )
    agents_folder = folder / "libros_asesores"
    delivery = export_agent_workbooks(
        file_unit(workbook_path, clock=_at(day, 10, 15)), agents_folder
    )
    echo(f"Libros por asesor: {len(delivery.files)} en «{agents_folder}».")
    # Calls from 10:45 on (the last by about 16:35), collected at the end of the shift.
    marked = simulate_agent_day(
        agents_folder, seed=5, now=dt.datetime.combine(day, dt.time(10, 15))
    )
    collected = collect_agent_workbooks(file_unit(workbook_path, clock=_at(day, 18)), agents_folder)
    echo(f"Los asesores marcaron {marked} registros; se recogieron {collected.records}.")
    kpi = refresh_kpi(file_unit(workbook_path, clock=_at(day, 18, 5))).report
    verdict = "cumple" if kpi.meets_target else "no cumple"
    echo(
        f"Indicador: contacto efectivo {pct_text(kpi.ratio)} "
        f"({kpi.effective_contacts} de {kpi.total_records} registros enviados), "
        f"{verdict} la meta de {pct_text(kpi.target)}; pendientes {kpi.pending}."
    )
    form = export_form(file_unit(workbook_path, clock=_at(day, 18, 10)), folder / "formulario.xlsx")
    echo(
        f"Para el formulario GESTION DETRACTORES ONLINE: {form.exported} filas "
        f"({form.closed} gestionadas, {form.excluded} no gestionables) en "
        f"«{folder / 'formulario.xlsx'}»."
    )
    echo(
        "Abra el libro en Excel: cada asesor tiene su hoja con listas desplegables; "
        "«Indicador» tiene el detalle y la gráfica."
    )
    return {
        "workbook": str(workbook_path),
        "imports": [r.as_json() for r in results],
        "kpi": kpi.as_json(),
    }
