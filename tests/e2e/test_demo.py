"""``swat-xl demo``: the whole job on a generated cut, and what it says matches what it wrote."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from swat_xl.demo.sample import make_export
from tests.helpers.cli import run_cli, sha

pytestmark = pytest.mark.slow

WORKBOOK = "SWAT_Detractores_demo.xlsx"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("demo") / "swat-demo"
    result = run_cli("demo", folder)
    assert result.code == 0, result.out + result.err
    assert result.err == ""
    return folder, result.out.splitlines()


def test_the_cuts_are_the_generator_s_and_the_import_finds_their_truth(demo, tmp_path):
    folder, lines = demo
    first = make_export(tmp_path / "data.xlsx", rows=400, seed=11)
    second = make_export(
        tmp_path / "data (1).xlsx", rows=300, seed=12, previous=[first], repeat_from_previous=40
    )
    for name, truth in (("data.xlsx", first), ("data (1).xlsx", second)):
        assert sha(folder / name) == sha(tmp_path / name)
        line = next(line for line in lines if line.startswith(f"Corte «{name}»"))
        found = re.search(
            r"(\d+) filas, (\d+) de Almacontact, (\d+) repetidas, (\d+) nuevas "
            r"\(hogar (\d+), móvil (\d+)\), (\d+) no gestionables",
            line,
        )
        assert found, line
        rows, ally, repeated, new, hogar, movil, excluded = map(int, found.groups())
        assert (rows, ally, repeated, new) == (
            truth.rows_read,
            truth.ally_rows,
            truth.duplicate_rows,
            truth.new_records,
        )
        assert (hogar, movil) == (truth.by_segment["hogar"], truth.by_segment["movil"])
        assert excluded == sum(truth.excluded.values())


def test_what_it_reports_is_what_the_files_hold(demo):
    folder, lines = demo
    assert lines[0] == f"Libro maestro creado: {folder / WORKBOOK}"
    books = sorted((folder / "libros_asesores").glob("*.xlsx"))
    said = next(line for line in lines if line.startswith("Libros por asesor:"))
    assert int(re.search(r": (\d+) en", said).group(1)) == len(books) > 0

    kpi = run_cli("kpi", "--workbook", folder / WORKBOOK, "--json")
    assert kpi.code == 0, kpi.err
    payload = kpi.json()
    said = next(line for line in lines if line.startswith("Indicador:"))
    effective, sent = map(int, re.search(r"\((\d+) de (\d+) registros", said).groups())
    assert (effective, sent) == (payload["effective_contacts"], payload["total_records"])
    assert said.endswith(f"pendientes {payload['pending']}.")

    said = next(line for line in lines if line.startswith("Para el formulario"))
    exported = int(re.search(r": (\d+) filas", said).group(1))
    form = openpyxl.load_workbook(folder / "formulario.xlsx", read_only=True)
    try:
        assert sum(ws.max_row - 1 for ws in form.worksheets) == exported > 0
    finally:
        form.close()


def test_a_second_run_starts_afresh_and_says_the_same(demo):
    folder, lines = demo
    again = run_cli("demo", folder)
    assert again.code == 0, again.err
    assert again.out.splitlines() == lines


def test_the_demo_s_day_follows_the_procedure(demo):
    """The agents' calls fall after their cut was imported and before it was collected, so
    nothing is flagged and every managed record reaches the form (a demo run on the wall clock
    with calls dated the day before flagged every one of them and exported none)."""
    folder, lines = demo
    kpi = run_cli("kpi", "--workbook", folder / WORKBOOK, "--json")
    assert kpi.code == 0, kpi.err
    payload = kpi.json()
    assert payload["flagged_records"] == 0 and payload["inconsistencies"] == 0
    assert payload["invalid_marks"] == 0 and payload["closed_late"] == 0
    said = next(line for line in lines if line.startswith("Los asesores marcaron"))
    marked = int(re.search(r"marcaron (\d+) registros", said).group(1))
    said = next(line for line in lines if line.startswith("Para el formulario"))
    managed = int(re.search(r"\((\d+) gestionadas", said).group(1))
    assert managed == marked > 0
