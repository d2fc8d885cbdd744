"""A second process draws the rows of some parts of a big master (adapters.xlsx_rows): the
package holds, part by part, what this process draws alone; anything amiss with the second
process and this one draws them after all."""

from __future__ import annotations

import subprocess
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swat_xl.adapters import xlsx_rows, xlsx_writer
from swat_xl.workbook.spec import Column, ColumnRows, Sheet, Table, WorkbookSpec

from .test_render_stream import COLUMNS, MESSY, _clean_rows

ROWS = 600  # rows of each sheet below: 6,000 cells each
_START = xlsx_rows._HandOff.start.__func__  # the second process's start, unwatched


def _master() -> WorkbookSpec:
    """A «Base» of twice the rows of each of five agents' sheets, one with odd values (the
    texts that need escapes, the dates XlsxWriter writes), one held by column."""
    clean = _clean_rows(ROWS)
    columns = [[row[i] for row in clean] for i in range(len(COLUMNS))]
    sheets = [Sheet("Base", tables=[Table(COLUMNS, _clean_rows(2 * ROWS))])]
    sheets += [Sheet(f"Asesor {n}", tables=[Table(COLUMNS, clean, first_row=1)]) for n in range(3)]
    sheets.append(Sheet("Raros", tables=[Table(COLUMNS, (MESSY * ROWS)[:ROWS])]))
    sheets.append(Sheet("Columnas", tables=[Table(COLUMNS, ColumnRows(columns))]))
    sheets.append(Sheet("Pocas", tables=[Table([Column("A")], [["x"], ["y"]])]))
    return WorkbookSpec(sheets)


@pytest.fixture
def private_temp(tmp_path, monkeypatch):
    """The user's temporary folder, where the second process's files go, watched."""
    folder = tmp_path / "temporal"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        return {name: package.read(name) for name in package.namelist()}


def _render(path: Path, monkeypatch, *, handoff: bool) -> tuple[Path, list[str]]:
    """The master written with or without a second process; the parts it was given."""
    monkeypatch.setattr(xlsx_rows, "HANDOFF_CELLS", 1000 if handoff else 10**12)
    given_parts: list[str] = []

    def spy(cls, parts):
        given_parts.extend(parts)
        return _START(cls, parts)

    monkeypatch.setattr(xlsx_rows._HandOff, "start", classmethod(spy))
    xlsx_writer.render(_master(), path)
    return path, given_parts


def test_parts_drawn_by_the_second_process_are_those_drawn_here(
    tmp_path, monkeypatch, private_temp
):
    alone, none_given = _render(tmp_path / "solo.xlsx", monkeypatch, handoff=False)
    shared, given_parts = _render(tmp_path / "compartido.xlsx", monkeypatch, handoff=True)
    assert none_given == []
    # «Base» (the biggest) stays here; the others go, up to half of the cells
    assert "xl/worksheets/sheet1.xml" not in given_parts
    assert len(given_parts) >= 3
    assert _parts(shared) == _parts(alone)
    with zipfile.ZipFile(shared) as package:  # copied at the end of the package
        assert package.namelist()[-len(given_parts) :] == sorted(
            given_parts, key=lambda name: int(name.rsplit("sheet", 1)[1][:-4])
        )
    book = openpyxl.load_workbook(shared, read_only=True)
    assert book["Raros"]["A1"].value == "Texto"
    assert list(private_temp.iterdir()) == []  # its job and package are removed


@pytest.mark.parametrize(
    "worker",
    [
        "import sys; sys.exit(3)",  # fails
        "import sys; open(sys.argv[3], 'wb').write(b'no es un zip')",  # writes nonsense
        "import time; time.sleep(60)",  # too slow
    ],
    ids=["falla", "basura", "lento"],
)
def test_a_second_process_that_fails_leaves_its_parts_to_this_one(
    tmp_path, monkeypatch, private_temp, worker
):
    alone, _ = _render(tmp_path / "solo.xlsx", monkeypatch, handoff=False)
    started = []
    real = subprocess.Popen

    def watched(*args, **kwargs):
        process = real(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(subprocess, "Popen", watched)
    monkeypatch.setattr(xlsx_rows, "_WORKER", worker)
    monkeypatch.setattr(xlsx_rows, "HANDOFF_SLACK", 1.0)
    shared, given_parts = _render(tmp_path / "compartido.xlsx", monkeypatch, handoff=True)
    assert given_parts and len(started) == 1
    assert started[0].poll() is not None  # not left running
    assert _parts(shared) == _parts(alone)
    assert list(private_temp.iterdir()) == []


def test_no_second_process_for_small_masters(tmp_path, monkeypatch, private_temp):
    """The default threshold: a master of a few thousand rows is drawn here alone."""
    given_parts: list[str] = []
    monkeypatch.setattr(
        xlsx_rows._HandOff, "start", classmethod(lambda c, p: given_parts.extend(p) or _START(c, p))
    )
    xlsx_writer.render(_master(), tmp_path / "libro.xlsx")
    assert given_parts == []


def _block(rows: int, columns: int = 10, keep=None) -> xlsx_rows.Block:
    table = Table([Column(str(i)) for i in range(columns)], ColumnRows([[""] * rows] * columns))
    block = xlsx_rows.Block(0, table, table.rows.columns, [None] * columns, [False] * columns)
    block.keep = keep
    return block


def test_what_is_handed_over():
    """Never the biggest part, at most half of the cells drawn, no part with rows copied from
    the last package, and nothing at all below the threshold."""
    import numpy as np

    big = xlsx_rows.HANDOFF_CELLS // 5  # rows of 10 cells: twice the threshold
    parts = {
        "base": [_block(big)],
        "a": [_block(big // 2)],
        "b": [_block(big // 3)],
        "c": [_block(big // 4)],
        "copied": [_block(big // 2, keep=np.ones(big // 2, dtype=bool))],
    }
    chosen = xlsx_rows._to_hand_off(parts)
    assert "base" not in chosen and "copied" not in chosen
    assert chosen == ["a", "b"]  # c would pass half of the cells drawn
    assert xlsx_rows._to_hand_off({"base": [_block(big)], "a": [_block(big // 20)]}) == []


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="\x00ab ñ😀\n", max_size=5),
            st.integers(),
            st.none(),
            st.booleans(),
        ),
        max_size=8,
    )
)
def test_columns_travel_as_they_are(values):
    packed = xlsx_rows._packed(values)
    assert xlsx_rows._unpacked(packed) == values
    assert [type(v) for v in xlsx_rows._unpacked(packed)] == [type(v) for v in values]
