"""The ribbon macros (swat_xl.macros) and the live adapter, through xlwings on the Excel
simulation.

Excel is not available here: :mod:`tests.helpers.excel_sim` runs xlwings' own Book/Sheet/Range
classes on a test engine whose native objects are a strict model of Excel's object model
(:mod:`tests.helpers.excel_com`). Each test starts from a real master made with the CLI, opens
it in the simulation, makes it ``xlwings.Book.caller()`` and runs the macros, so the real
services and the real SQLite ledger beside the workbook do the work.
"""

from __future__ import annotations

import gc
import re
import sqlite3
from pathlib import Path

import pytest

import swat_xl
from swat_xl import macros
from swat_xl.core.text import mask_digits
from swat_xl.demo.sample import FORMULA_LIKE_REASONS, make_export
from swat_xl.errors import InputError
from tests.helpers import excel_com as com
from tests.helpers.cli import FIXED_NOW, ledger_of, run_cli
from tests.helpers.excel_sim import App, SimBook, empty_book, open_workbook

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ("Ana Gómez", "Bruno Díaz", "Carla Ruiz")


def _records(workbook: Path) -> list[tuple]:
    with sqlite3.connect(ledger_of(workbook)) as db:
        return db.execute("SELECT id, agent, ani, reason, outcome FROM records").fetchall()


def _operations(workbook: Path) -> list[str]:
    with sqlite3.connect(ledger_of(workbook)) as db:
        return [row[0] for row in db.execute("SELECT command FROM operations ORDER BY id")]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "descargas" / "data.xlsx"
    path.parent.mkdir()
    make_export(path, rows=120, seed=3)
    return path


@pytest.fixture
def imported(new_master: Path, export: Path) -> Path:
    result = run_cli("import", export, "--workbook", new_master)
    assert result.code == 0, result.err
    return new_master


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWAT_NOW", FIXED_NOW)


MANUAL = com.enum_value("XlCalculation", "xlCalculationManual")


def excel(monkeypatch: pytest.MonkeyPatch, workbook: Path) -> SimBook:
    """The workbook "open in Excel", set as what ``xlwings.Book.caller()`` returns."""
    book = open_workbook(workbook)
    book.set_caller(monkeypatch)
    return book


def last_alert(book: SimBook) -> dict:
    assert book.sim_app.alerts, "no message was shown"
    return book.sim_app.alerts[-1]


def assert_excel_restored(app: App) -> None:
    assert app.screen_updating is True
    assert app.calculation == "automatic"
    assert app.status_bar is False
    assert ("screen_updating", False) in app.history
    assert ("calculation", "manual") in app.history


# -- the dispatcher ------------------------------------------------------------------------------
def test_actions_are_the_ribbon_actions() -> None:
    bas = (ROOT / "workbooks" / "src" / "SWAT.bas").read_text(encoding="utf-8")
    assert set(re.findall(r'\bRunAction\s+"([^"]+)"', bas)) == set(macros.ACTIONS)
    assert tuple(macros._HANDLERS) == macros.ACTIONS
    assert len(set(macros.ACTIONS)) == 9


def test_import_needs_no_excel() -> None:
    import subprocess
    import sys

    code = "import sys, swat_xl.macros; assert 'xlwings' not in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr


def test_help_shows_the_version(monkeypatch: pytest.MonkeyPatch, new_master: Path) -> None:
    book = excel(monkeypatch, new_master)
    macros.run("ayuda")
    alert = last_alert(book)
    assert alert["title"] == "SWAT" and alert["mode"] == "info"
    assert swat_xl.__version__ in alert["prompt"]
    assert "Importar corte" in alert["prompt"]
    assert book.saves == 0 and not book.writes()
    assert_excel_restored(book.sim_app)


def test_unknown_action_is_a_spanish_message(
    monkeypatch: pytest.MonkeyPatch, new_master: Path
) -> None:
    book = excel(monkeypatch, new_master)
    macros.run("borrar_todo")
    alert = last_alert(book)
    assert alert["mode"] == "critical" and "acción desconocida" in alert["prompt"]


def test_an_action_runs_without_the_cyclic_collector(
    monkeypatch: pytest.MonkeyPatch, new_master: Path
) -> None:
    """As a command of the CLI does; the Python that serves the ribbon lives on between
    clicks, so the collector is on again afterwards, also after a refusal."""
    book = excel(monkeypatch, new_master)
    seen: list[bool] = []

    def action(context, *_):
        seen.append(gc.isenabled())
        return "hecho"

    def refused(context, *_):
        seen.append(gc.isenabled())
        raise InputError("no se puede")

    monkeypatch.setitem(macros._HANDLERS, "prueba", action)
    monkeypatch.setitem(macros._HANDLERS, "rechazo", refused)
    assert gc.isenabled()
    macros.run("prueba")
    assert last_alert(book)["prompt"] == "hecho" and gc.isenabled()
    macros.run("rechazo")
    assert last_alert(book)["mode"] == "critical" and gc.isenabled()
    assert seen == [False, False]


# -- importar_corte end to end -------------------------------------------------------------------
def test_import_cut_from_the_ribbon(
    monkeypatch: pytest.MonkeyPatch, new_master: Path, export: Path
) -> None:
    book = excel(monkeypatch, new_master)
    user = book.model.add_sheet("Notas")  # a sheet of the user's: never touched
    book.type_into("Notas", "A1", "mis notas")
    book.excel.reset_counts()

    macros.run("importar_corte", str(export))

    alert = last_alert(book)
    assert alert["mode"] == "info", alert["prompt"]
    assert "importado" in alert["prompt"] and "Traceback" not in alert["prompt"]
    records = _records(new_master)
    assert records, "the ledger got no records"
    assert _operations(new_master)[-1] == "Importar corte"
    assert book.saves == 1

    # The agent sheets hold exactly the ledger's open records of each agent.
    for agent in AGENTS:
        assert agent in book.sheet_names(), book.sheet_names()
        ids = sorted(int(v) for v in book.sheet_model(agent).column("ID"))
        with sqlite3.connect(ledger_of(new_master)) as db:
            expected = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM records WHERE agent = ? AND exclusion = '' AND outcome = '' "
                    "ORDER BY id",
                    (agent,),
                )
            ]
        assert ids == expected and ids
    # Text stays text: phone numbers are not turned into numbers.
    anis = [v for agent in AGENTS for v in book.sheet_model(agent).column("ANI") if v is not None]
    assert anis and all(isinstance(v, str) for v in anis)

    # Bulk: a few .value writes per sheet, whatever the number of rows.
    writes = book.writes_by_sheet()
    assert writes and max(writes.values()) <= 3, writes
    assert max(book.reads_by_sheet().values()) <= 3
    assert "Notas" not in writes and user.values == {(1, 1): "mis notas"}
    # Every write happened with screen updating off and manual calculation.
    assert {(w[5], w[6]) for w in book.writes()} == {(False, MANUAL)}
    assert_excel_restored(book.sim_app)
    statuses = book.sim_app.statuses
    assert statuses[-1] is False
    assert any(isinstance(s, str) and s.startswith("SWAT: ") for s in statuses)
    assert "SWAT: Leyendo el archivo de Power BI…" in statuses
    assert "SWAT: Guardando el libro…" in statuses


def test_formula_like_text_is_written_as_text(
    monkeypatch: pytest.MonkeyPatch, new_master: Path, export: Path
) -> None:
    book = excel(monkeypatch, new_master)
    macros.run("importar_corte", str(export))
    assert last_alert(book)["mode"] == "info"
    base = book.sheet_model("Base")
    assert set(FORMULA_LIKE_REASONS) <= set(base.column("Motivo"))
    formulas = [v.text for v in base.values.values() if isinstance(v, com.Formula)]
    assert not formulas
    # Real formulas are formulas (the live indicator).
    indicator = book.sheet_model("Indicador").values.values()
    assert any(isinstance(v, com.Formula) and "COUNTIF" in v.text for v in indicator)


def test_layout_goes_through_the_object_model(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    macros.run("asignar_repartir")
    assert last_alert(book)["mode"] == "info", last_alert(book)["prompt"]
    sheet = AGENTS[0]

    model = book.sheet_model(sheet)
    header = model.table()[0]

    def col(name: str) -> int:
        return header.index(name) + 1

    # Dropdowns with the user's list separator (the simulated Excel is Colombian: «;»).
    rules = [rule for _, rule in model.validations]
    assert ["CONTACTO EFECTIVO", "NO CONTESTA", "NO CONTACTO"] in [r.get("choices") for r in rules]
    assert all(r["Type"] == com.enum_value("XlDVType", "xlValidateList") for r in rules)
    # Conditional formats in the user's formula language, anchored at the range's top-left cell.
    conds = model.cond_formats
    assert conds and all(c["formula_local"].startswith("=Y(") for c in conds)
    assert all(";" in c["formula_local"] and "," not in c["formula_local"] for c in conds)
    assert all(c["anchor"] == c["area"][:2] for c in conds)
    # Number formats per column, freeze panes, the KPI names and the chart.
    assert model.format_of(2, col("Asignado"), "NumberFormat") == "dd/mm/yyyy hh:mm"
    assert model.freeze == (1, 2)
    assert set(book.model._names) >= {"KPI_CONTACTO_EFECTIVO", "KPI_META", "KPI_TOTAL"}
    assert book.sheet_model("Indicador").charts
    assert book.model.active_sheet.title == "Inicio"  # where the user was


def test_marks_made_in_excel_reach_the_ledger(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    sheet = book.sheet_model(AGENTS[1])
    header = sheet.table()[0]
    record_id = int(sheet.value(2, header.index("ID") + 1))
    book.type_into(
        AGENTS[1], f"{com.col_name(header.index('Resultado') + 1)}2", "CONTACTO EFECTIVO"
    )
    book.type_into(AGENTS[1], f"{com.col_name(header.index('Solución') + 1)}2", "ESCALADO")
    macros.run("actualizar_indicador")
    alert = last_alert(book)
    assert alert["mode"] == "info", alert["prompt"]
    assert "Contacto efectivo:" in alert["prompt"]
    outcome = {r[0]: r[4] for r in _records(imported)}
    assert outcome[record_id] == "CONTACTO EFECTIVO"
    # Redrawn from the ledger, the sheet still shows the mark (closed rows stay until archived).
    redrawn = book.sheet_model(AGENTS[1])
    ids = [int(v) for v in redrawn.column("ID")]
    assert redrawn.column("Resultado")[ids.index(record_id)] == "CONTACTO EFECTIVO"


# -- every action ----------------------------------------------------------------------------
def test_every_action_is_dispatchable(
    monkeypatch: pytest.MonkeyPatch, new_master: Path, export: Path, tmp_path: Path
) -> None:
    book = excel(monkeypatch, new_master)
    done: set[str] = set()

    def run(action: str, *args: str) -> str:
        before = len(book.sim_app.alerts)
        macros.run(action, *args)
        alert = book.sim_app.alerts[-1]
        assert len(book.sim_app.alerts) > before
        assert alert["mode"] == "info", f"{action}: {alert['prompt']}"
        assert "Traceback" not in alert["prompt"]
        assert_excel_restored(book.sim_app)
        done.add(action)
        return alert["prompt"]

    run("importar_corte", str(export))
    run("asignar_repartir")
    text = run("libros_asesor")
    folder = tmp_path / "Libros asesores"
    assert str(folder) in text and sorted(p.name for p in folder.glob("*.xlsx"))
    assert "Libros recogidos" in run("recoger_gestiones")

    # Reassign the agent selected in «Asesores», after making her inactive there.
    roster = book.sheet_model("Asesores")
    assert roster.value(2, 1) == AGENTS[0]
    book.type_into("Asesores", "C2", "No")
    book.select("Asesores", "A2")
    book.sim_app.answers = ["yes"]
    text = run("reasignar_asesor")
    assert f"«{AGENTS[0]}»" in text
    assert book.sim_app.alerts[-2]["buttons"] == "yes_no"  # asked first
    assert AGENTS[0] not in book.sheet_names()  # her sheet is gone: nothing open, inactive
    assert not [r for r in _records(new_master) if r[1] == AGENTS[0] and not r[4]]

    assert "Contacto efectivo" in run("actualizar_indicador")
    text = run("exportar_formulario")
    forms = list(tmp_path.glob("Formulario_*.xlsx"))
    assert len(forms) == 1 and forms[0].name == "Formulario_2026-11-29.xlsx"
    book.sim_app.answers = ["yes"]
    text = run("archivar")
    assert "Archivados" in text and list((tmp_path / "swat_copias").glob("*-periodo-*.xlsm"))
    assert swat_xl.__version__ in run("ayuda")
    assert done == set(macros.ACTIONS)


def test_reassign_from_the_agent_sheet_and_cancel(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    before = _records(imported)
    book.select(AGENTS[2], "A1")
    book.sim_app.answers = ["no"]
    macros.run("reasignar_asesor")
    assert AGENTS[2] in book.sim_app.alerts[-1]["prompt"] and len(book.sim_app.alerts) == 1
    assert _records(imported) == before and book.saves == 0

    book.select("Inicio", "A1")
    macros.run("reasignar_asesor")
    alert = last_alert(book)
    assert alert["mode"] == "critical" and "Asesores" in alert["prompt"]


# -- errors --------------------------------------------------------------------------------------
def test_unexpected_error_goes_to_the_log(monkeypatch: pytest.MonkeyPatch, imported: Path) -> None:
    book = excel(monkeypatch, imported)

    def broken(workbook):
        raise RuntimeError("falló con el cliente 3104567890 (tel. +57 310 456 7891) 123456789")

    monkeypatch.setattr("swat_xl.services.master.assign_pending", broken)
    macros.run("asignar_repartir")
    alert = last_alert(book)
    assert alert["mode"] == "critical" and alert["title"] == "SWAT"
    assert "error inesperado" in alert["prompt"]
    assert "Traceback" not in alert["prompt"] and "3104567890" not in alert["prompt"]
    log = imported.with_name("swat_xl.log")
    assert str(log) in alert["prompt"]
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "RuntimeError" in text and "asignar_repartir" in text
    assert "3104567890" not in text and "310 456 7891" not in text and "123456789" not in text
    assert "[número oculto]" in text
    assert_excel_restored(book.sim_app)


def test_swat_error_shows_its_message(
    monkeypatch: pytest.MonkeyPatch, imported: Path, tmp_path: Path
) -> None:
    book = excel(monkeypatch, imported)
    operations = _operations(imported)
    macros.run("importar_corte", str(tmp_path / "no está.xlsx"))
    alert = last_alert(book)
    assert alert["mode"] == "critical"
    assert "no está.xlsx" in alert["prompt"] and "Traceback" not in alert["prompt"]
    assert not imported.with_name("swat_xl.log").exists()
    assert _operations(imported) == operations and book.saves == 0
    assert_excel_restored(book.sim_app)


def test_bad_export_from_the_ribbon_shows_the_readers_message(
    monkeypatch: pytest.MonkeyPatch, imported: Path, export: Path, tmp_path: Path
) -> None:
    """The ribbon reads the export in a helper thread while Excel gives the settings: what goes
    wrong there is shown as reading it in place shows it; nothing is written, no thread stays."""
    import threading

    from swat_xl.adapters.export_reader import read_export
    from swat_xl.errors import ExportError

    cut = tmp_path / "cortado.xlsx"
    cut.write_bytes(export.read_bytes()[: export.stat().st_size // 2])
    with pytest.raises(ExportError) as expected:
        read_export(cut)
    book = excel(monkeypatch, imported)
    records, operations = _records(imported), _operations(imported)
    macros.run("importar_corte", str(cut))
    alert = last_alert(book)
    assert alert["mode"] == "critical" and str(expected.value) in alert["prompt"]
    assert _records(imported) == records and _operations(imported) == operations
    assert book.saves == 0 and not book.writes()
    assert not [t for t in threading.enumerate() if t.name == "swat-export"]
    assert_excel_restored(book.sim_app)


def test_error_while_drawing_restores_excel(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)

    def cannot_save(workbook):
        raise com.ComError("El archivo está bloqueado")

    monkeypatch.setattr(com.Workbook, "call_Save", cannot_save)
    macros.run("asignar_repartir")
    alert = last_alert(book)
    assert alert["mode"] == "critical" and "No se pudo guardar el libro" in alert["prompt"]
    assert_excel_restored(book.sim_app)


def test_refusals_before_the_commit_leave_the_ledger_alone(
    monkeypatch: pytest.MonkeyPatch, imported: Path
) -> None:
    book = excel(monkeypatch, imported)
    operations = _operations(imported)
    sheet = book.sheet_model(AGENTS[0])
    sheet.protection = com.Protection("otra", False, True, True)
    macros.run("asignar_repartir")
    alert = last_alert(book)
    assert alert["mode"] == "critical" and "contraseña" in alert["prompt"]
    assert AGENTS[0] in alert["prompt"]
    assert _operations(imported) == operations and not book.writes()

    sheet.protection = None
    book.model._props["ReadOnly"] = True
    macros.run("asignar_repartir")
    assert "solo lectura" in last_alert(book)["prompt"]
    assert _operations(imported) == operations and not book.writes()


def test_unsaved_book_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    book = empty_book("Libro1")
    book.set_caller(monkeypatch)
    macros.run("asignar_repartir")
    alert = last_alert(book)
    assert alert["mode"] == "critical" and "Guarde primero" in alert["prompt"]


# -- the shipped template --------------------------------------------------------------------
def test_first_import_into_the_built_workbook(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, export: Path
) -> None:
    from swat_xl.bootstrap import build_workbook

    path = build_workbook(tmp_path / "SWAT_Detractores.xlsm").path
    assert not ledger_of(path).exists()
    book = excel(monkeypatch, path)
    macros.run("importar_corte", str(export))
    alert = last_alert(book)
    assert alert["mode"] == "info", alert["prompt"]
    assert "Se creó un registro nuevo" in alert["prompt"]
    assert ledger_of(path).exists() and _records(path)
    assert "xlwings.conf" not in book.writes_by_sheet()  # xlwings runs from it: left alone


# -- helpers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("ANI 3104567890 falló", "3104567890"),
        ("tel +57 310 456 7890.", "310 456 7890"),
        ("cuenta 48213377", "48213377"),
        ("id=0004512345", "0004512345"),
    ],
)
def test_mask_phones(text: str, hidden: str) -> None:
    masked = mask_digits(text)
    assert hidden not in masked and "[número oculto]" in masked


def test_mask_phones_keeps_dates_and_line_numbers() -> None:
    text = 'File "x.py", line 123, in f\n2026-11-29 10:00:00'
    assert mask_digits(text) == text


def test_quiet_excel_restores_after_an_error() -> None:
    app = empty_book("Libro1").sim_app
    app.calculation = "semiautomatic"
    with pytest.raises(ZeroDivisionError), macros.quiet_excel(app), macros.status_bar(app) as say:
        say("trabajando")
        assert (app.screen_updating, app.calculation) == (False, "manual")
        1 / 0  # noqa: B018
    assert (app.screen_updating, app.calculation, app.status_bar) == (True, "semiautomatic", False)
    assert "SWAT: trabajando" in app.statuses


def test_form_path_never_overwrites(tmp_path: Path) -> None:
    import datetime as dt

    when = dt.datetime(2026, 11, 29, 10)
    first = macros.form_path(tmp_path, when)
    assert first.name == "Formulario_2026-11-29.xlsx"
    first.write_bytes(b"x")
    assert macros.form_path(tmp_path, when).name == "Formulario_2026-11-29 (2).xlsx"
