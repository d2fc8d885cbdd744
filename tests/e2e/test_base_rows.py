"""«Base» drawn row by row: only the rows that changed, or were appended, are drawn again.

When «Base» changes (a new cut, a mark, an archived record) and the tool's copy of the last
workbook it wrote is there, the rows of «Base» whose content is unchanged at the same place are
copied from that copy, byte for byte, and only the others are drawn. The workbook must be the
one a whole redraw gives (``SWAT_REUSE=0``), part by part, and exactly the rows whose values
are unchanged at the same place must be the ones copied.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from swat_xl.adapters.packages import sheet_parts
from swat_xl.demo.sample import make_export
from tests.helpers.cli import agent_sheets, master_with_two_cuts, run_cli, written_notes

NOW = "2026-11-29T10:00:00"
LATER = "2026-11-29T11:30:00"
ATTEMPT = dt.datetime(2026, 11, 29, 10, 30)


def ok(*args: Any, now: str = NOW, env: dict[str, str] | None = None) -> Any:
    result = run_cli(*args, now=now, env=env)
    assert result.code == 0, result.err
    return result


def copied_rows(workbook: Path) -> dict[str, int]:
    """How many rows of each sheet drawn the last operation copied from the tool's copy."""
    sheets = written_notes(workbook)["drawn"]["file"]["sheets"]
    return {name: note["copied"] for name, note in sheets.items() if "copied" in note}


def written_copy(workbook: Path) -> Path:
    return workbook.parent / "swat_copias" / (workbook.name + ".escrito")


def base_rows(path: Path) -> list[tuple[Any, ...]]:
    with path.open("rb") as handle:  # the tool's copy has a name openpyxl does not open
        book = openpyxl.load_workbook(io.BytesIO(handle.read()), read_only=True)
    try:
        return list(book["Base"].iter_rows(min_row=2, values_only=True))
    finally:
        book.close()


def base_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as package:
        return package.read(sheet_parts(package)["Base"].part)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        return {name: package.read(name) for name in package.namelist()}


def same_place(before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]) -> int:
    """Rows whose values are unchanged at the same place."""
    return sum(a == b for a, b in zip(before, after, strict=False))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A master with two cuts and one «kpi» after them: the tool's copy of what it wrote and
    the notes about its rows are there."""
    workbook = master_with_two_cuts(tmp_path_factory.mktemp("base-rows"), ok, seeds=(51, 52))
    ok("kpi", "--workbook", workbook)
    # «Base» was copied whole from the workbook: the notes about its rows are carried over
    assert "Base" in written_notes(workbook)["reused"]
    assert "Base" in written_notes(workbook)["drawn"]["file"]["sheets"]
    return workbook


def two_copies(month: Path, tmp_path: Path) -> tuple[Path, Path]:
    out = []
    for name in ("parcial", "completo"):
        shutil.copytree(month.parent, tmp_path / name)
        out.append(tmp_path / name / month.name)
    return out[0], out[1]


def both(partial: Path, full: Path, *args: Any, now: str = LATER) -> list[tuple[Any, ...]]:
    """Run the operation on both copies (the second drawn whole); check the workbooks are the
    same, part by part; return «Base» as the tool's copy held it before."""
    before = base_rows(written_copy(partial))
    ok(*args, "--workbook", partial, now=now)
    ok(*args, "--workbook", full, now=now, env={"SWAT_REUSE": "0"})
    assert "Base" not in written_notes(partial)["kept"] + written_notes(partial)["reused"]
    assert base_xml(partial) == base_xml(full)
    expected, got = parts(full), parts(partial)
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []
    assert base_rows(partial) == base_rows(full)
    assert copied_rows(full) == {name: 0 for name in copied_rows(full)}
    return before


def mark_rows(workbook: Path, count: int, *, last: bool = False) -> list[int]:
    """Type a first attempt and an outcome (which closes the record) in ``count`` rows of the
    first agent sheet, its first rows or its ``last``, and save with openpyxl (so the workbook
    is no longer the one the tool wrote)."""
    book = openpyxl.load_workbook(workbook)
    marked: list[int] = []
    for ws, column in agent_sheets(book):
        numbers = range(2, ws.max_row + 1)
        for row in reversed(numbers) if last else numbers:
            record_id = ws.cell(row, column["ID"]).value
            if record_id is None or ws.cell(row, column["Resultado"]).value:
                continue
            ws.cell(row, column["Intento 1"]).value = ATTEMPT
            ws.cell(row, column["Resultado"]).value = "NO CONTESTA"
            marked.append(int(record_id))
            if len(marked) == count:
                break
        if marked:
            break
    book.save(workbook)
    return marked


def test_a_new_cut_appends_rows_and_copies_the_others(month: Path, tmp_path: Path) -> None:
    partial, full = two_copies(month, tmp_path)
    make_export(tmp_path / "corte3.xlsx", rows=40, seed=53)
    before = both(partial, full, "import", tmp_path / "corte3.xlsx")
    after = base_rows(partial)
    assert len(after) > len(before)
    assert copied_rows(partial)["Base"] == same_place(before, after) == len(before)


def test_marks_typed_in_a_saved_workbook_draw_only_their_rows(month: Path, tmp_path: Path):
    partial, full = two_copies(month, tmp_path)
    for workbook in (partial, full):
        marked = mark_rows(workbook, 3)
    before = both(partial, full, "kpi")
    after = base_rows(partial)
    assert len(after) == len(before)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert sorted(after[i][0] for i in changed) == sorted(marked)
    assert all(after[i][18] == "NO CONTESTA" for i in changed)  # «Resultado» drawn again
    assert copied_rows(partial)["Base"] == len(before) - len(marked)


def test_archived_rows_shift_the_rows_after_them(month: Path, tmp_path: Path) -> None:
    partial, full = two_copies(month, tmp_path)
    for workbook in (partial, full):
        archived = mark_rows(workbook, 3, last=True)  # the agent's newest records
        ok("kpi", "--workbook", workbook)
    before = both(partial, full, "archive")
    after = base_rows(partial)
    assert len(after) < len(before)
    copied = copied_rows(partial)["Base"]
    assert copied == same_place(before, after)
    assert 0 < copied < len(after)
    first = min(i for i, row in enumerate(before) if row[0] in archived)
    assert copied == first  # every row above the first archived one, none below


def test_other_extra_columns_draw_every_row(month: Path, tmp_path: Path) -> None:
    partial, full = two_copies(month, tmp_path)
    export = tmp_path / "corte3.csv"
    make_export(export, rows=30, seed=54, footer=False)
    with export.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    rows = [[*rows[0], "Observación del aliado"]] + [
        [*r, f"nota {i}"] for i, r in enumerate(rows[1:])
    ]
    with export.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    both(partial, full, "import", export)
    header = next(
        openpyxl.load_workbook(partial, read_only=True)["Base"].iter_rows(
            max_row=1, values_only=True
        )
    )
    assert "Observación del aliado" in header
    assert copied_rows(partial)["Base"] == 0


def test_rows_are_never_copied_from_a_copy_that_is_not_what_the_tool_wrote(
    month: Path, tmp_path: Path
) -> None:
    partial, full = two_copies(month, tmp_path)
    copy = written_copy(partial)
    # Someone changed a row of «Base» in the tool's copy: its fingerprint is no longer the one
    # the ledger noted, so no row is taken from it.
    edited = tmp_path / "editada.zip"
    with zipfile.ZipFile(copy) as source, zipfile.ZipFile(edited, "w") as target:
        base = sheet_parts(source)["Base"].part
        for info in source.infolist():
            data = source.read(info)
            if info.filename == base:
                data = data.replace(b"<v>1</v>", b"<v>999999</v>", 1)
            target.writestr(info, data)
    shutil.move(edited, copy)
    assert b"<v>999999</v>" in base_xml(copy)
    for workbook in (partial, full):
        mark_rows(workbook, 1)
    ok("kpi", "--workbook", partial, now=LATER)
    ok("kpi", "--workbook", full, now=LATER, env={"SWAT_REUSE": "0"})
    assert copied_rows(partial)["Base"] == 0
    assert base_xml(partial) == base_xml(full)
    assert b"999999" not in base_xml(partial)
