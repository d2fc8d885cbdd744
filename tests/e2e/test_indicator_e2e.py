"""``swat-xl kpi``: the refreshed Indicador sheet, its chart, the date range and the summary."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import openpyxl

from swat_xl.demo.sample import make_export
from tests.helpers.cli import ledger_of, run_cli, sha

JSON_KEYS = {
    "total_records",
    "effective_contacts",
    "effective_contact_pct",
    "target_pct",
    "meets_target",
    "pending",
    "overdue",
    "manageable_records",
    "effective_contact_pct_manageable",
    "by_outcome",
    "by_segment",
    "by_agent",
    "by_cut",
    "by_day",
    "inconsistencies",
}
GROUP_KEYS = {"total_records", "effective_contacts", "effective_contact_pct"}


def charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as package:
        return sorted(n for n in package.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))


def chart_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as package:
        return package.read(charts(path)[0]).decode("utf-8")


def indicator_rows(path: Path) -> list[tuple]:
    book = openpyxl.load_workbook(path)
    return [row for row in book["Indicador"].iter_rows(values_only=True)]


def imported(master: Path, tmp_path: Path, *, rows: int = 150, seed: int = 41) -> Path:
    export = tmp_path / f"data_{seed}.xlsx"
    make_export(export, rows=rows, seed=seed)
    result = run_cli("import", export, "--workbook", master)
    assert result.code == 0, result.err
    return export


def test_chart_exists_once_after_each_refresh_and_import(master: Path, tmp_path: Path):
    imported(master, tmp_path)
    assert charts(master) == ["xl/charts/chart1.xml"]  # any operation draws it
    for _ in range(2):
        result = run_cli("kpi", "--workbook", master)
        assert result.code == 0, result.err
        assert charts(master) == ["xl/charts/chart1.xml"]
    xml = chart_xml(master)
    assert xml.count("<c:ser>") == 2  # the daily rate and the target line
    assert "'Indicador'!$D$" in xml and "'Indicador'!$E$" in xml
    assert "<c:lineChart>" in xml
    export = tmp_path / "data (1).xlsx"
    make_export(export, rows=80, seed=42)
    assert run_cli("import", export, "--workbook", master, now="2026-11-30T10:00:00").code == 0
    assert charts(master) == ["xl/charts/chart1.xml"]
    book = openpyxl.load_workbook(master)
    assert "KPI_CONTACTO_EFECTIVO" in book.defined_names


def test_kpi_json_has_every_key(master: Path, tmp_path: Path):
    imported(master, tmp_path)
    result = run_cli("kpi", "--workbook", master, "--json")
    assert result.code == 0, result.err
    payload = result.json()
    assert set(payload) >= JSON_KEYS
    for key in ("by_outcome", "by_segment", "by_agent", "by_cut", "by_day"):
        assert payload[key], key
        for value in payload[key].values():
            assert set(value) >= GROUP_KEYS, key
    assert isinstance(payload["inconsistencies"], int)
    assert payload["target_pct"] == 80.0
    assert set(payload["by_agent"]) == {"Ana Gómez", "Bruno Díaz", "Carla Ruiz"}
    with sqlite3.connect(ledger_of(master)) as db:
        total = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        last = db.execute("SELECT command FROM operations ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert payload["total_records"] == total
    assert last == "Actualizar indicador"


def test_kpi_summary_is_spanish(master: Path, tmp_path: Path):
    imported(master, tmp_path)
    result = run_cli("kpi", "--workbook", master)
    assert result.code == 0, result.err
    assert "Contacto efectivo: 0,0 % (meta 80,0 %): no cumple la meta." in result.out
    assert "Registros enviados:" in result.out and "Inconsistencias" in result.out


def test_desde_hasta_filter_by_cut_import_day(master: Path, tmp_path: Path):
    first = tmp_path / "data.xlsx"
    truth = make_export(first, rows=120, seed=43)
    assert run_cli("import", first, "--workbook", master, now="2026-11-27T09:00:00").code == 0
    second = tmp_path / "data (1).xlsx"
    make_export(second, rows=90, seed=44, previous=[truth])
    assert run_cli("import", second, "--workbook", master, now="2026-11-28T09:00:00").code == 0
    with sqlite3.connect(ledger_of(master)) as db:
        per_cut = dict(db.execute("SELECT cut_id, COUNT(*) FROM records GROUP BY cut_id"))

    def total(*args: str) -> dict:
        result = run_cli("kpi", "--workbook", master, "--json", *args)
        assert result.code == 0, result.err
        return result.json()

    assert total()["total_records"] == per_cut[1] + per_cut[2]
    only_second = total("--desde", "28/11/2026")
    assert only_second["total_records"] == per_cut[2]
    assert list(only_second["by_day"]) == ["2026-11-28"]
    assert list(only_second["by_cut"]) == ["2"]
    assert total("--hasta", "2026-11-27")["total_records"] == per_cut[1]
    assert total("--desde", "27/11/2026", "--hasta", "27/11/2026")["total_records"] == per_cut[1]
    rows = indicator_rows(master)
    assert any("cortes importados del 27/11/2026 al 27/11/2026" in str(r[0]) for r in rows)


def test_bad_dates_are_refused_without_changes(master: Path, tmp_path: Path):
    imported(master, tmp_path)
    before = (sha(master), sha(ledger_of(master)))
    for args in (["--desde", "31/02/2026"], ["--desde", "02/12/2026", "--hasta", "01/12/2026"]):
        result = run_cli("kpi", "--workbook", master, *args)
        assert result.code != 0
        assert "fecha" in result.err and "Traceback" not in result.err
    assert (sha(master), sha(ledger_of(master))) == before


def test_indicator_sheet_shows_detail_without_customer_data(master: Path, tmp_path: Path):
    imported(master, tmp_path)
    book = openpyxl.load_workbook(master)
    ws = next(ws for ws in book.worksheets if ws.title == "Ana Gómez")
    header = [c.value for c in ws[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    for r in range(2, 6):
        ws.cell(r, col["Resultado"]).value = "NO CONTACTO"  # one attempt only: inconsistent
        ws.cell(r, col["Intento 1"]).value = ws.cell(r, col["Asignado"]).value
    book.save(master)
    assert run_cli("kpi", "--workbook", master).code == 0
    values = {str(v) for row in indicator_rows(master) for v in row if v is not None}
    for title in (
        "Por resultado",
        "Por segmento",
        "Por asesor",
        "Por corte",
        "Resumen",
        "Por día (fecha de importación del corte)",
        "Inconsistencias de marcación (solo ID y asesor)",
    ):
        assert title in values
    assert "NO CONTACTO con pocos intentos" in values
    with sqlite3.connect(ledger_of(master)) as db:
        secrets = [
            v
            for row in db.execute("SELECT ani, customer_name, account FROM records")
            for v in row
            if v
        ]
    assert secrets and not any(s in v for s in secrets for v in values)
    # The live block stays where the names point.
    book = openpyxl.load_workbook(master)
    assert book.defined_names["KPI_CONTACTO_EFECTIVO"].attr_text == "'Indicador'!$B$4"
    assert book.defined_names["KPI_VENCIDOS"].attr_text == "'Indicador'!$B$9"
    rules = [r.formula for cf in book["Indicador"].conditional_formatting for r in cf.rules]
    assert ["$B$4>=KPI_META"] in rules and ["$B$4<KPI_META"] in rules
