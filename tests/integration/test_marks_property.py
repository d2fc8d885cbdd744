"""Property: after any sequence of imports, marks, sorts, blank rows, deleted rows and
collects, every mark ever entered is on the right record, and each record on one sheet."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swat_xl.bootstrap import file_unit
from swat_xl.demo.sample import make_export
from swat_xl.services import assign_pending, import_cut, init_workbook
from swat_xl.services.agents import collect_agent_workbooks, export_agent_workbooks

OUTCOMES = ("CONTACTO EFECTIVO", "NO CONTESTA", "NO CONTACTO")

steps = st.lists(
    st.one_of(
        st.tuples(st.just("import"), st.integers(0, 3)),
        st.tuples(st.just("mark"), st.integers(0, 10_000)),
        st.tuples(st.just("sort"), st.integers(0, 10_000)),
        st.tuples(st.just("blank"), st.integers(0, 10_000)),
        st.tuples(st.just("delete"), st.integers(0, 10_000)),
        st.tuples(st.just("collect"), st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=6,
)


def _agent_sheets(book):
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        if "ID" in header and "Resultado" in header:
            yield ws, header


def _mark(path: Path, rng: random.Random, expected: dict[int, str], *, visible_only=False) -> None:
    book = openpyxl.load_workbook(path)
    for ws, header in _agent_sheets(book):
        if visible_only and ws.sheet_state != "visible":
            continue
        id_col, out_col = header.index("ID") + 1, header.index("Resultado") + 1
        rows = [r for r in range(2, ws.max_row + 1) if ws.cell(r, id_col).value]
        for r in rng.sample(rows, min(2, len(rows))):
            outcome = rng.choice(OUTCOMES)
            ws.cell(r, out_col).value = outcome
            expected[ws.cell(r, id_col).value] = outcome
    book.save(path)


def _rewrite(path: Path, rng: random.Random, how: str) -> None:
    book = openpyxl.load_workbook(path)
    for ws, header in _agent_sheets(book):
        rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]
        if not rows:
            continue
        if how == "sort":
            rng.shuffle(rows)
        elif how == "blank":
            rows.insert(rng.randrange(len(rows) + 1), [None] * len(header))
        elif how == "delete":
            rows.pop(rng.randrange(len(rows)))
        ws.delete_rows(2, ws.max_row)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                ws.cell(r, c).value = value
    book.save(path)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=steps)
def test_no_mark_is_ever_lost(tmp_path_factory, monkeypatch, steps):
    monkeypatch.setenv("SWAT_NOW", "2026-11-29T10:00:00")
    folder = tmp_path_factory.mktemp("prop")
    roster = folder / "r.csv"
    roster.write_text(
        "Asesor;Perfil;Activo;Capacidad\nAna;Hogar;Sí;\nBeto;Móvil;Sí;\nCaro;Ambos;Sí;\n",
        encoding="utf-8",
    )
    master = folder / "m.xlsx"
    init_workbook(file_unit(master, must_exist=False), master, roster_file=roster)
    cuts = []
    for seed in range(4):
        cuts.append(
            make_export(
                folder / f"c{seed}.csv",
                rows=40,
                seed=100 + seed,
                previous=cuts[-1:],
                repeat_from_previous=3 if cuts else 0,
            )
        )
    import_cut(file_unit(master), folder / "c0.csv")
    expected: dict[int, str] = {}
    for n, (action, arg) in enumerate(steps):
        rng = random.Random(arg)
        if action == "import":
            import_cut(file_unit(master), folder / f"c{arg}.csv")
        elif action == "mark":
            _mark(master, rng, expected)
            assign_pending(file_unit(master))  # any operation syncs the marks
        elif action in ("sort", "blank", "delete"):
            _rewrite(master, rng, action)
        elif action == "collect":
            out = folder / f"agents{n}"
            export_agent_workbooks(file_unit(master), out)
            for path in out.glob("*.xlsx"):
                _mark(path, rng, expected, visible_only=True)
            collect_agent_workbooks(file_unit(master), out)
    assign_pending(file_unit(master))  # a final operation re-renders everything
    with sqlite3.connect(master.with_name("m.swat.sqlite")) as db:
        stored = dict(db.execute("SELECT id, outcome FROM records WHERE outcome != ''"))
        open_ids = {
            i
            for (i,) in db.execute(
                "SELECT id FROM records WHERE agent != '' AND archived_at = '' AND exclusion = ''"
            )
        }
    assert stored == expected
    seen: list[int] = []
    book = openpyxl.load_workbook(master)
    for ws, header in _agent_sheets(book):
        i, o = header.index("ID"), header.index("Resultado")
        for row in ws.iter_rows(min_row=2, values_only=True):
            if row[i] is None:
                continue
            seen.append(row[i])
            assert (row[o] or "") == expected.get(row[i], "")
    assert len(seen) == len(set(seen)) and set(seen) == open_ids
