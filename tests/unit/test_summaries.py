"""One Spanish formatter per use-case result, shared by the command line and the ribbon."""

from __future__ import annotations

import pytest

from swat_xl.services.results import AssignResult, ImportResult, ReassignResult, Result
from swat_xl.summaries import summary


def test_every_result_has_its_formatter():
    missing = [cls.__name__ for cls in Result.__subclasses__() if cls not in summary.registry]
    assert missing == []


def test_a_value_that_is_not_a_result_is_refused():
    with pytest.raises(TypeError):
        summary({"moved": 1})


def test_import_summary_says_what_happened_to_every_row():
    result = ImportResult(
        file="data.xlsx",
        rows_read=10,
        ally_rows=8,
        duplicate_rows=1,
        new_records=7,
        by_segment={"hogar": 4, "movil": 3},
        excluded={"cortesia": 1, "pymes": 0},
        assigned=5,
        unassigned=1,
        already_imported=True,
    )
    assert summary(result) == [
        "«data.xlsx» ya se había importado: no se agregó nada.",
        "Filas leídas: 10 · del aliado: 8 · repetidas: 1 · nuevas: 7",
        "Hogar: 4 · Móvil: 3",
        "No gestionables: 1 (Cortesía: 1, Pymes: 0)",
        "Asignados: 5 · Sin asignar: 1",
    ]


def test_detail_adds_the_count_per_agent():
    result = AssignResult(assigned=3, unassigned=0, by_agent={"Ana": 2, "Luis": 1})
    assert summary(result) == ["Asignados: 3 · Sin asignar: 0"]
    assert summary(result, detail=True)[1:] == ["• Ana: 2", "• Luis: 1"]
    moved = ReassignResult(moved=1, unassigned=0, by_agent={"Ana": 1}, from_agent="Luis")
    assert summary(moved) == ["Reasignados de «Luis»: 1 · Sin asignar: 0", "  Ana: 1 registros"]
