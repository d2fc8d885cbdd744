"""The live KPI formulas carry the right cached results, for viewers that don't recalculate."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from swat_xl.demo.sample import make_export
from tests.helpers.cli import run_cli
from tests.helpers.marks import mark_like_a_user


def _names(path: Path) -> dict[str, object]:
    book = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for name, defined in book.defined_names.items():
        if name.startswith("KPI_"):
            sheet, cell = next(iter(defined.destinations))
            out[name] = book[sheet][cell.replace("$", "")].value
    return out


def test_cached_kpi_values_match_the_ledger(master: Path, tmp_path: Path):
    make_export(tmp_path / "data.xlsx", rows=300, seed=51)
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    mark_like_a_user(master, per_sheet=5, sort=False, blank_rows=False)
    result = run_cli("kpi", "--workbook", master, "--json", now="2026-12-01T10:00:00")
    assert result.code == 0, result.err
    kpi = result.json()
    cached = _names(master)
    assert cached["KPI_TOTAL"] == kpi["total_records"]
    assert cached["KPI_EFECTIVOS"] == kpi["effective_contacts"]
    assert cached["KPI_PENDIENTES"] == kpi["pending"]
    assert cached["KPI_VENCIDOS"] == kpi["overdue"] > 0  # assigned 29/11, due 30/11
    assert round(cached["KPI_CONTACTO_EFECTIVO"] * 100, 1) == kpi["effective_contact_pct"]
