"""The live indicator, recalculated by LibreOffice, equals the indicator computed from the ledger.

Each scenario creates a master through the CLI, imports a cut, writes marks into the agent
sheets with openpyxl the way a user would, keeps that file (formulas not yet recalculated), then
runs ``swat-xl kpi --json`` (which syncs the marks into the ledger and re-renders the master).
Both the user's file and the re-rendered master are recalculated by LibreOffice in one batch;
every ``KPI_*`` defined name must equal the JSON numbers.

LibreOffice's NOW() is the real clock, so every operation runs at a time derived from it:
records are due 24 h after assignment, either clearly in the past or clearly in the future.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from swat_xl.demo.sample import make_export
from tests.helpers.cli import agent_sheets, run_cli
from tests.helpers.libreoffice import defined_values, recalculate, soffice

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) no está instalado"),
]

NOW = (dt.datetime.now() - dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
ROSTER = (
    "Asesor;Perfil;Activo;Capacidad\n"
    "Ana Gómez;Hogar;Sí;\n"
    "Bruno Díaz;Móvil;Sí;\n"
    "Carla Ruiz;Ambos;Sí;\n"
    "Diego Mora;Hogar;No;\n"
)
KPI_NAMES = {
    "KPI_CONTACTO_EFECTIVO",
    "KPI_META",
    "KPI_TOTAL",
    "KPI_EFECTIVOS",
    "KPI_PENDIENTES",
    "KPI_VENCIDOS",
    "KPI_NO_GESTIONABLES",
    "KPI_GESTIONABLES",
    "KPI_CONTACTO_EFECTIVO_GESTIONABLES",
    "KPI_MARCAS_NO_VALIDAS",
}


def at(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def ok(*args: Any, now: dt.datetime = NOW) -> Any:
    result = run_cli(*args, now=at(now))
    assert result.code == 0, result.err
    return result


def new_master(folder: Path, now: dt.datetime = NOW) -> Path:
    folder.mkdir(parents=True)
    roster = folder / "asesores.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    master = folder / "maestro.xlsx"
    ok("init", master, "--roster", roster, now=now)
    return master


def clean_export(path: Path, rows: int) -> Path:
    """A cut with no «no gestionables» at all (so 100 % is reachable)."""
    lines = [
        "ID_ENCUESTA;FECHA_ENCUESTA;ALIADO;SEGMENTO;CUENTA;CUSTCODE;ANI;NOMBRE_CLIENTE;"
        "CALIFICACION;MOTIVO"
    ]
    for i in range(rows):
        hogar = i % 2 == 1
        lines.append(
            f"{77000 + i};28/11/2026 09:{i % 60:02d};ALMACONTACT;{'HOGAR' if hogar else 'MOVIL'};"
            f"{'7' + str(1000 + i) if hogar else ''};{'' if hogar else '1.' + str(5000 + i)};"
            f"31{i:08d};Cliente {i};2;Mal servicio"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


Chooser = Callable[[int, dict[str, Any]], dict[str, Any] | None]


def mark(path: Path, choose: Chooser) -> Counter:
    """Write marks into every agent sheet like a user (openpyxl load / set / save)."""
    book = openpyxl.load_workbook(path)
    counts: Counter = Counter()
    n = 0
    for ws, col in agent_sheets(book):
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, col["ID"]).value is None:
                continue
            row = {
                "ID": ws.cell(r, col["ID"]).value,
                "Corte": ws.cell(r, col["Corte"]).value,
                "sheet": ws.title,
            }
            marks = choose(n, row)
            n += 1
            counts["rows"] += 1
            if not marks:
                continue
            for header_name, value in marks.items():
                ws.cell(r, col[header_name]).value = value
            counts[marks.get("Resultado", "")] += 1
    book.save(path)
    return counts


def effective(attempt: dt.datetime) -> dict[str, Any]:
    return {
        "Intento 1": attempt,
        "Resultado": "CONTACTO EFECTIVO",
        "Solución": "SOLUCIONADO PRIMER CONTACTO",
        "Encuesta asesor": "5",
    }


def no_answer(attempt: dt.datetime) -> dict[str, Any]:
    return {"Intento 1": attempt, "Resultado": "NO CONTESTA"}


def no_contact(attempt: dt.datetime) -> dict[str, Any]:
    return {
        "Intento 1": attempt,
        "Intento 2": attempt + dt.timedelta(minutes=30),
        "Intento 3": attempt + dt.timedelta(minutes=60),
        "Resultado": "NO CONTACTO",
    }


def typed(attempt: dt.datetime) -> list[tuple[dict[str, Any], str]]:
    """Marks as agents really type them (issue 10, items 1-3), each with what it must count as:
    ``effective``, ``closed`` (not effective), ``pending`` or ``invalid`` (pending, and one
    invalid mark)."""
    call = {"Intento 1": attempt}
    three = {**call, "Intento 2": attempt, "Intento 3": attempt}
    return [
        ({**effective(attempt)}, "effective"),
        ({**call, "Resultado": "contacto efectivo", "Solución": "ESCALADO"}, "effective"),
        ({**call, "Resultado": "  Contacto   Efectivo ", "Solución": "escalado"}, "effective"),
        ({**call, "Resultado": "Contacto\u00a0efectivo.", "Solución": "Escalado."}, "effective"),
        (
            {**call, "Resultado": "CONTACTO EFECTIVO", "Solución": "visita tecnica", "OT / LLS": 7},
            "effective",
        ),
        ({**call, "Resultado": "no contesta."}, "closed"),
        ({**three, "Resultado": "No Contacto"}, "closed"),
        ({**call, "Resultado": "SI"}, "invalid"),
        ({**call, "Resultado": "5"}, "invalid"),
        ({**call, "Resultado": "EFECTIVO", "Solución": "ESCALADO"}, "invalid"),
        ({**effective(attempt), "Encuesta asesor": "10"}, "invalid"),
        ({**effective(attempt), "Solución": "RESUELTO"}, "invalid"),
        ({**call, "Resultado": "NO CONTACTO"}, "pending"),
        ({"Resultado": "CONTACTO EFECTIVO", "Solución": "ESCALADO"}, "pending"),
        ({**call, "Resultado": "CONTACTO EFECTIVO"}, "pending"),
        ({**call, "Resultado": "CONTACTO EFECTIVO", "Solución": "VISITA TÉCNICA"}, "pending"),
        ({"Resultado": "   "}, "pending"),
    ]


@dataclass
class Scenario:
    name: str
    master: Path
    user_copy: Path
    payload: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)
    user_values: dict[str, Any] = field(default_factory=dict)
    rendered_values: dict[str, Any] = field(default_factory=dict)
    verdict: Any = None
    per_sheet: dict[str, dict[str, Any]] = field(default_factory=dict)


def _finish(name: str, master: Path, expected: dict[str, Any]) -> Scenario:
    """Keep the user's file, then let the CLI sync the marks and re-render the master."""
    user_copy = master.with_name(f"usuario_{name}.xlsx")
    shutil.copy2(master, user_copy)
    payload = ok("kpi", "--workbook", master, "--json").json()
    return Scenario(name, master, user_copy, payload, expected)


def build_scenarios(root: Path) -> dict[str, Scenario]:
    earlier = NOW - dt.timedelta(minutes=40)
    out: dict[str, Scenario] = {}

    master = new_master(root / "sin_marcas")
    cut = ok("import", _export(root / "sin_marcas", 150, 31), "--workbook", master, "--json").json()
    manageable = cut["new_records"] - sum(cut["excluded"].values())
    out["sin_marcas"] = _finish(
        "sin_marcas",
        master,
        {
            "effective_contacts": 0,
            "pending": manageable,
            "overdue": 0,
            "total_records": cut["new_records"],
        },
    )

    master = new_master(root / "todos_efectivos")
    ok("import", clean_export(root / "todos_efectivos" / "data.csv", 12), "--workbook", master)
    counts = mark(master, lambda i, row: effective(earlier))
    assert counts["CONTACTO EFECTIVO"] == 12
    out["todos_efectivos"] = _finish(
        "todos_efectivos",
        master,
        {
            "effective_contacts": 12,
            "effective_contact_pct": 100.0,
            "pending": 0,
            "meets_target": True,
            "total_records": 12,
        },
    )

    master = new_master(root / "ninguno_efectivo")
    cut = ok(
        "import", _export(root / "ninguno_efectivo", 120, 32), "--workbook", master, "--json"
    ).json()
    counts = mark(master, lambda i, row: no_answer(earlier) if i % 2 else no_contact(earlier))
    out["ninguno_efectivo"] = _finish(
        "ninguno_efectivo",
        master,
        {
            "effective_contacts": 0,
            "effective_contact_pct": 0.0,
            "meets_target": False,
            "pending": cut["unassigned"],
            "overdue": 0,
        },
    )

    def mixed(i: int, row: dict[str, Any]) -> dict[str, Any] | None:
        return [effective(earlier), no_contact(earlier), None, effective(earlier)][i % 4]

    master = new_master(root / "mixto")
    cut = ok("import", _export(root / "mixto", 200, 33), "--workbook", master, "--json").json()
    counts = mark(master, mixed)
    out["mixto"] = _finish(
        "mixto",
        master,
        {
            "effective_contacts": counts["CONTACTO EFECTIVO"],
            "pending": counts["rows"]
            - counts["CONTACTO EFECTIVO"]
            - counts["NO CONTACTO"]
            + cut["unassigned"],
        },
    )

    # An active agent added after the cut: an agent sheet with no records at all.
    master = new_master(root / "asesor_sin_registros")
    ok("import", _export(root / "asesor_sin_registros", 120, 34), "--workbook", master)
    roster = root / "asesor_sin_registros" / "asesores2.csv"
    roster.write_text(ROSTER + "Elena Vargas;Ambos;Sí;\n", encoding="utf-8")
    ok("roster", roster, "--workbook", master)
    empty = openpyxl.load_workbook(master, read_only=True)["Elena Vargas"]
    assert [r for r in empty.iter_rows(min_row=2, values_only=True) if any(r)] == []
    counts = mark(master, lambda i, row: effective(earlier) if i % 2 == 0 else None)
    out["asesor_sin_registros"] = _finish(
        "asesor_sin_registros", master, {"effective_contacts": counts["CONTACTO EFECTIVO"]}
    )

    # Cut 1 assigned three days ago (due two days ago), cut 2 an hour ago (due tomorrow).
    folder = root / "vencidos"
    old = NOW - dt.timedelta(days=3)
    master = new_master(folder, now=old)
    first = make_export(folder / "data.xlsx", rows=120, seed=35)
    ok("import", folder / "data.xlsx", "--workbook", master, now=old)
    make_export(folder / "data (1).xlsx", rows=100, seed=36, previous=[first])
    ok("import", folder / "data (1).xlsx", "--workbook", master, now=NOW - dt.timedelta(hours=1))

    def old_half(i: int, row: dict[str, Any]) -> dict[str, Any] | None:
        if row["Corte"] == 1 and i % 2 == 0:
            return effective(old + dt.timedelta(hours=2))
        return None

    counts = Counter()
    book = openpyxl.load_workbook(master, read_only=True)
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        # «Sin asignar» goes overdue too: the clock starts at the import (issue 10, item 4).
        if rows and "ID" in rows[0] and ("Resultado" in rows[0] or ws.title == "Sin asignar"):
            corte = rows[0].index("Corte")
            counts["cut1"] += sum(1 for r in rows[1:] if r[0] is not None and r[corte] == 1)
    book.close()
    marked = mark(master, old_half)
    overdue = counts["cut1"] - marked["CONTACTO EFECTIVO"]
    assert overdue > 0
    out["vencidos"] = _finish("vencidos", master, {"overdue": overdue})

    # Issue 10: typed variants, invalid values and incomplete marks, on the live names.
    master = new_master(root / "marcas_tipeadas")
    ok("import", clean_export(root / "marcas_tipeadas" / "data.csv", 40), "--workbook", master)
    variants = typed(NOW)
    kinds: Counter = Counter()

    def variant(i: int, row: dict[str, Any]) -> dict[str, Any] | None:
        if i >= len(variants):
            return None
        marks, kind = variants[i]
        kinds[kind] += 1
        return marks

    counts = mark(master, variant)
    assert sum(kinds.values()) == len(variants)
    out["marcas_tipeadas"] = _finish(
        "marcas_tipeadas",
        master,
        {
            "effective_contacts": kinds["effective"],
            "invalid_marks": kinds["invalid"],
            "pending": counts["rows"] - kinds["effective"] - kinds["closed"],
            "total_records": 40,
        },
    )
    return out


def _export(folder: Path, rows: int, seed: int) -> Path:
    path = folder / "data.xlsx"
    make_export(path, rows=rows, seed=seed)
    return path


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Scenario]:
    root = tmp_path_factory.mktemp("indicador_lo")
    built = build_scenarios(root)
    files = [p for s in built.values() for p in (s.user_copy, s.master)]
    results = recalculate(files, root / "recalc")
    for index, scenario in enumerate(built.values()):
        user, rendered = results[2 * index], results[2 * index + 1]
        scenario.user_values = defined_values(user)
        scenario.rendered_values = defined_values(rendered)
        book = openpyxl.load_workbook(rendered, data_only=True)
        scenario.verdict = book["Indicador"]["C4"].value
        scenario.per_sheet = per_sheet_rows(user) | {
            f"{k} (maestro)": v for k, v in per_sheet_rows(rendered).items()
        }
    return built


NAMES = [
    "sin_marcas",
    "todos_efectivos",
    "ninguno_efectivo",
    "mixto",
    "asesor_sin_registros",
    "vencidos",
    "marcas_tipeadas",
]


def per_sheet_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The «En vivo por hoja de asesor» rows (columns J-O under the «Hoja» header)."""
    ws = openpyxl.load_workbook(path, data_only=True)["Indicador"]
    rows = list(ws.iter_rows(min_row=1, max_row=60, min_col=10, max_col=15, values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "Hoja")
    header = rows[start]
    out = {}
    for row in rows[start + 1 :]:
        if not row[0]:
            break
        out[row[0]] = dict(zip(header[1:], row[1:], strict=True))
    return out


def assert_names_match(values: dict[str, Any], payload: dict[str, Any]) -> None:
    assert set(values) >= KPI_NAMES, sorted(values)
    assert values["KPI_TOTAL"] == payload["total_records"]
    assert values["KPI_EFECTIVOS"] == payload["effective_contacts"]
    assert values["KPI_PENDIENTES"] == payload["pending"]
    assert values["KPI_VENCIDOS"] == payload["overdue"]
    assert values["KPI_NO_GESTIONABLES"] == payload["excluded"]
    assert values["KPI_GESTIONABLES"] == payload["manageable_records"]
    assert round(values["KPI_CONTACTO_EFECTIVO"] * 100, 1) == payload["effective_contact_pct"]
    assert round(values["KPI_META"] * 100, 1) == payload["target_pct"]
    assert (
        round(values["KPI_CONTACTO_EFECTIVO_GESTIONABLES"] * 100, 1)
        == payload["effective_contact_pct_manageable"]
    )
    assert values["KPI_MARCAS_NO_VALIDAS"] == payload["invalid_marks"]
    total = payload["total_records"]
    ratio = payload["effective_contacts"] / total if total else 0
    assert values["KPI_CONTACTO_EFECTIVO"] == pytest.approx(ratio)


@pytest.mark.parametrize("name", NAMES)
def test_live_formulas_in_the_users_file_match_the_ledger(scenarios, name):
    scenario = scenarios[name]
    assert_names_match(scenario.user_values, scenario.payload)


@pytest.mark.parametrize("name", NAMES)
def test_rerendered_master_matches_the_ledger(scenarios, name):
    scenario = scenarios[name]
    assert_names_match(scenario.rendered_values, scenario.payload)
    expected_verdict = "Cumple la meta" if scenario.payload["meets_target"] else "No cumple la meta"
    assert scenario.verdict == expected_verdict


@pytest.mark.parametrize("name", NAMES)
def test_ledger_numbers_match_the_marks_written(scenarios, name):
    scenario = scenarios[name]
    for key, value in scenario.expected.items():
        assert scenario.payload[key] == value, key
    assert scenario.payload["target_pct"] == 80.0
    by_agent = scenario.payload["by_agent"]
    assert (
        sum(a["effective_contacts"] for a in by_agent.values())
        == scenario.payload["effective_contacts"]
    )


def test_empty_agent_sheet_is_listed_with_zero(scenarios):
    by_agent = scenarios["asesor_sin_registros"].payload["by_agent"]
    assert by_agent["Elena Vargas"]["total_records"] == 0
    assert by_agent["Elena Vargas"]["effective_contact_pct"] == 0.0


@pytest.mark.parametrize("name", NAMES)
def test_live_rows_per_agent_sheet_match_by_agent(scenarios, name):
    scenario = scenarios[name]
    by_agent = scenario.payload["by_agent"]
    assert len(scenario.per_sheet) == 2 * len(by_agent)
    for sheet, live in scenario.per_sheet.items():
        agent = by_agent[sheet.removesuffix(" (maestro)")]
        assert live["Registros"] == agent["total_records"], sheet
        assert live["Efectivos"] == agent["effective_contacts"], sheet
        assert live["Pendientes"] == agent["pending"], sheet
        assert live["Vencidos"] == agent["overdue"], sheet
        assert round(live["% contacto efectivo"] * 100, 1) == agent["effective_contact_pct"]
