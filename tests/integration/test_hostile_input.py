"""Hostile and broken exports, end to end: each one imports correctly or is refused with a
Spanish message, in seconds, without filling memory and without touching the master.

Every import runs as a real ``swat-xl`` process with a ``timeout=`` (a hang fails the test)
and its peak memory measured by the process itself (its ``VmHWM`` as it exits, on Linux), or
by ``os.wait4`` elsewhere.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from swat_xl.adapters.export_reader import read_export
from swat_xl.core.cells import col_letter
from swat_xl.errors import ExportError
from tests.helpers.cli import FIXED_NOW, ledger_of, run_cli, sha

HEADER = ["ALIADO", "SEGMENTO", "CUENTA", "ANI", "NOMBRE_CLIENTE", "MOTIVO"]
SECRET = "SECRETO-NO-DEBE-SALIR-7f3a"

_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML}.worksheet+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OOXML}.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    f'xmlns:r="{_REL}">'
    '<sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{dimension}"/><sheetData>'
)


def _cell(row: int, col: int, value: str) -> str:
    text = value.replace("&", "&amp;").replace("<", "&lt;")
    cell = f"{col_letter(col)}{row}"
    return f'<c r="{cell}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _rows_xml(rows: list[list[str]]) -> str:
    return "".join(
        f'<row r="{r}">' + "".join(_cell(r, c, v) for c, v in enumerate(row) if v) + "</row>"
        for r, row in enumerate(rows, start=1)
    )


def write_package(path: Path, sheet: bytes, shared: bytes | None = None) -> Path:
    """A minimal .xlsx around the given sheet XML (and shared strings)."""
    shared = shared or (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" count="0" uniqueCount="0"/>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/worksheets/sheet1.xml", sheet)
        package.writestr("xl/sharedStrings.xml", shared)
    return path


def sheet_xml(rows_xml: str, *, dimension: str = "A1", doctype: str = "") -> bytes:
    head = _SHEET_HEAD.format(doctype=doctype, dimension=dimension)
    return (head + rows_xml + "</sheetData></worksheet>").encode("utf-8")


def good_rows(count: int = 3) -> list[list[str]]:
    return [list(HEADER)] + [
        ["ALMACONTACT", "Hogar", f"{4100000 + i}", f"31{i:08d}", f"Cliente {i}", "Sin señal"]
        for i in range(count)
    ]


# -- running the CLI --------------------------------------------------------------------------
# ``swat-xl`` noting its own peak memory as it exits. The child's ``ru_maxrss`` from ``wait4``
# is not its own on Linux: the kernel keeps the high-water mark of the memory the child had
# before ``exec``, and a child spawned by this test process (vfork) had pytest's memory, which
# grows with the suite (400 MiB after 1.200 tests), so the bound measured pytest.
_NOTING_PEAK = """
import atexit, os, runpy, sys

def note_peak():
    with open("/proc/self/status") as status, open(os.environ["SWAT_TEST_PEAK"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(note_peak)
sys.argv[0] = "swat-xl"
runpy.run_module("swat_xl", run_name="__main__", alter_sys=True)
"""


def run_limited(*args: str | Path, timeout: float = 60) -> tuple[int, str, float, float]:
    """Run ``swat-xl``: exit code, output (stderr first), wall seconds and peak RSS in MiB."""
    env = dict(os.environ, SWAT_NOW=FIXED_NOW)
    command = [sys.executable, "-m", "swat_xl", *map(str, args)]
    if Path("/proc/self/status").exists():
        peak_file = Path(tempfile.mkdtemp()) / "pico"
        env["SWAT_TEST_PEAK"] = str(peak_file)
        command = [sys.executable, "-c", _NOTING_PEAK, *map(str, args)]
    if not hasattr(os, "wait4"):  # pragma: no cover - no per-process rusage on Windows
        proc = subprocess.run(command, env=env, capture_output=True, timeout=timeout)
        text = (proc.stderr + proc.stdout).decode("utf-8", "replace")
        return proc.returncode, text, 0.0, float("nan")
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        start = time.monotonic()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                pytest.fail(f"swat-xl {' '.join(map(str, args))} did not end in {timeout} s")
            time.sleep(0.02)
        elapsed = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        text = (err.read() + out.read()).decode("utf-8", "replace")
    peak = usage.ru_maxrss / 1024
    if "SWAT_TEST_PEAK" in env:
        noted = Path(env["SWAT_TEST_PEAK"])
        assert noted.exists(), f"swat-xl did not note its peak memory\n{text}"
        peak = int(noted.read_text()) / 1024  # VmHWM is in kB
        shutil.rmtree(noted.parent)
    return proc.returncode, text, elapsed, peak


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("plantilla")
    roster = folder / "asesores.csv"
    roster.write_text(
        "Asesor;Perfil;Activo;Capacidad\nAna;Ambos;Sí;\nBruno;Ambos;Sí;\n", encoding="utf-8"
    )
    assert run_cli("init", folder / "maestro.xlsx", "--roster", roster).code == 0
    return folder / "maestro.xlsx"


@pytest.fixture
def book(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of an empty master (and its ledger)."""
    (tmp_path / "libro").mkdir()
    for path in (template, ledger_of(template)):
        shutil.copy2(path, tmp_path / "libro" / path.name)
    return tmp_path / "libro" / template.name


def assert_refused(
    book: Path, export: Path, *fragments: str, seconds: float = 30, max_mib: float = 1500
) -> str:
    before = (sha(book), sha(ledger_of(book)))
    code, text, elapsed, peak = run_limited("import", export, "--workbook", book)
    assert code == 2, text
    assert text.startswith("Error: "), text
    for fragment in fragments:
        assert fragment in text, text
    assert elapsed < seconds
    assert not peak > max_mib, peak
    assert (sha(book), sha(ledger_of(book))) == before
    return text


def all_text(book: Path) -> str:
    """Every text the workbook and the ledger hold."""
    parts = []
    with zipfile.ZipFile(book) as package:
        parts.extend(package.read(name).decode("utf-8", "replace") for name in package.namelist())
    with sqlite3.connect(ledger_of(book)) as db:
        for table in ("records", "events", "operations", "cuts"):
            for row in db.execute(f"SELECT * FROM {table}"):
                parts.append(" ".join(map(str, row)))
    return "\n".join(parts)


# -- tests ------------------------------------------------------------------------------------
def _bomb(path: Path, gigabytes: int = 2) -> Path:
    """A real zip bomb: the sheet part inflates to ``gigabytes`` GiB of spaces, ~1000:1.

    The deflate stream is one independent segment (16 MiB of spaces, ended by a full flush)
    repeated, so it is built in a moment; the zip headers are written by hand."""
    chunk = b" " * (1 << 24)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    count = gigabytes * 64
    stream = segment * count + packer.flush(zlib.Z_FINISH)
    size = len(chunk) * count
    assert size < 2**32
    members = [
        (name, data, zlib.crc32(data), len(data), zipfile.ZIP_STORED)
        for name, data in (
            (n, d.encode())
            for n, d in (
                ("[Content_Types].xml", _CONTENT_TYPES),
                ("_rels/.rels", _ROOT_RELS),
                ("xl/workbook.xml", _WORKBOOK),
                ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            )
        )
    ]
    members.append(("xl/worksheets/sheet1.xml", stream, 0, size, zipfile.ZIP_DEFLATED))
    out = io.BytesIO()
    central = []
    for name, data, crc, real_size, method in members:
        offset = out.tell()
        encoded = name.encode()
        out.write(
            struct.pack(
                "<4s5H3L2H",
                b"PK\x03\x04",
                20,
                0,
                method,
                0,
                33,
                crc,
                len(data),
                real_size,
                len(encoded),
                0,
            )
            + encoded
            + data
        )
        central.append(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                33,
                crc,
                len(data),
                real_size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    directory = b"".join(central)
    out.write(directory)
    out.write(
        struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), start, 0
        )
    )
    path.write_bytes(out.getvalue())
    return path


def test_real_zip_bomb_is_refused_before_it_fills_memory(book, tmp_path):
    bomb = _bomb(tmp_path / "data.xlsx")
    assert bomb.stat().st_size < 4_000_000
    with zipfile.ZipFile(bomb) as package:  # a well-formed zip claiming 2 GiB
        assert package.getinfo("xl/worksheets/sheet1.xml").file_size == 2 * 2**30
    assert_refused(book, bomb, "bomba zip", max_mib=400)  # nothing was inflated


def test_external_entities_are_never_resolved(book, tmp_path):
    secret = tmp_path / "secreto.txt"
    secret.write_text(SECRET, encoding="utf-8")
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    rows = good_rows(2)
    sheet = sheet_xml(
        _rows_xml(rows)[: -len("</row>")]
        + '<c r="G3" t="s"><v>0</v></c></row>'
        + '<row r="5"><c r="A5" t="inlineStr"><is><t>ALMACONTACT</t></is></c>'
        + '<c r="D5" t="inlineStr"><is><t>3001112233</t></is></c>'
        + '<c r="F5" t="inlineStr"><is><t>&xxe;</t></is></c></row>',
        doctype=doctype,
    )
    shared = (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<sst xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&xxe;</t></si></sst>"
    ).encode()
    export = write_package(tmp_path / "xxe.xlsx", sheet, shared)
    code, text, elapsed, _peak = run_limited("import", export, "--workbook", book)
    assert code in (0, 2), text
    assert elapsed < 30
    assert SECRET not in text
    assert SECRET not in all_text(book)
    try:
        frame = read_export(export).frame
    except ExportError as error:
        assert SECRET not in str(error)
    else:
        assert SECRET not in frame.to_csv()


def test_ten_megabyte_cell_imports(book, tmp_path):
    rows = good_rows(2)
    rows[1][5] = "ñ" * 5_000_000  # 10 MB of UTF-8 in one comment
    export = write_package(tmp_path / "grande.xlsx", sheet_xml(_rows_xml(rows)))
    code, text, elapsed, _peak = run_limited("import", export, "--workbook", book)
    assert code == 0, text
    assert elapsed < 60
    data = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Base").to_python()
    reason = data[0].index("Motivo")
    assert {len(row[reason]) for row in data[1:]} == {32767, len("Sin señal")}
    with sqlite3.connect(ledger_of(book)) as db:
        assert db.execute("SELECT MAX(LENGTH(reason)) FROM records").fetchone()[0] == 5_000_000


def test_sixteen_thousand_columns_are_handled(book, tmp_path):
    rows = good_rows(2)
    for row in rows:
        row.extend(f"extra {c}" for c in range(len(HEADER), 16_384))
    export = write_package(tmp_path / "ancho.xlsx", sheet_xml(_rows_xml(rows), dimension="A1:XFD3"))
    code, text, elapsed, _peak = run_limited("import", export, "--workbook", book)
    assert elapsed < 60
    if code == 0:
        openpyxl.load_workbook(book, read_only=True).close()
    else:
        assert code == 2 and "columnas" in text, text
        assert "Error inesperado" not in text


def test_dimension_claiming_a_million_rows(book, tmp_path):
    rows = good_rows(3)
    export = write_package(
        tmp_path / "dimension.xlsx", sheet_xml(_rows_xml(rows), dimension="A1:XFD1048576")
    )
    code, text, elapsed, _peak = run_limited("import", export, "--workbook", book, "--json")
    assert code == 0, text
    assert elapsed < 30
    with sqlite3.connect(ledger_of(book)) as db:
        assert db.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 3


def test_a_million_real_rows_are_refused_quickly(book, tmp_path):
    rows = _rows_xml(good_rows(1)) + '<row r="1048577"><c r="A1048577"><v>1</v></c></row>'
    export = write_package(tmp_path / "filas.xlsx", sheet_xml(rows, dimension="A1:A1048577"))
    assert_refused(book, export, "filas")


def test_mixed_encodings_import_with_a_warning(book, tmp_path):
    lines = [
        ";".join(HEADER).encode("utf-8"),
        "ALMACONTACT;Hogar;411;3101234567;José Peña;Señal".encode(),
        "ALMACONTACT;Móvil;412;3101234568;Íñigo Núñez;Facturación".encode("cp1252"),
    ]
    export = tmp_path / "mezcla.csv"
    export.write_bytes(b"\r\n".join(lines) + b"\r\n")
    code, text, elapsed, _peak = run_limited("import", export, "--workbook", book)
    assert code == 0, text
    assert "Latin-1" in text  # the warning tells the user what was assumed
    assert elapsed < 30
    with sqlite3.connect(ledger_of(book)) as db:
        names = [r[0] for r in db.execute("SELECT customer_name FROM records ORDER BY id")]
    assert names[1] == "Íñigo Núñez"


def test_control_characters_in_names_and_comments(book, tmp_path):
    rows = good_rows(2)
    rows[1][4] = "Ana\x01 María\x1f \u200bRuiz\x7f"
    rows[1][5] = "Llamar\x0b después\x00 de las 5 _x0041_ <b>&amp;</b>"
    rows[2][4] = "=cmd|' /C calc'!A0"
    # XML 1.0 cannot carry \x00-\x1f: write them as Excel does, with _xHHHH_ escapes.
    text = _rows_xml(rows)
    for char in "\x01\x1f\x0b\x00\x7f":
        text = text.replace(char, f"_x{ord(char):04X}_")
    export = write_package(tmp_path / "control.xlsx", sheet_xml(text))
    code, output, elapsed, _peak = run_limited("import", export, "--workbook", book)
    assert code == 0, output
    assert elapsed < 30
    book_xml = openpyxl.load_workbook(book)
    shown = [
        cell.value
        for sheet in book_xml
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    assert not any(ch in value for value in shown for ch in "\x00\x01\x0b\x1f\x7f")
    assert "=cmd|' /C calc'!A0" in shown  # text, never a formula
    formulas = [
        cell
        for sheet in book_xml
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f" and "cmd" in str(cell.value)
    ]
    assert formulas == []


# -- fuzz: broken bytes -----------------------------------------------------------------------
_VALID = io.BytesIO()
with zipfile.ZipFile(_VALID, "w", zipfile.ZIP_DEFLATED) as _package:
    for _name, _data in (
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("xl/workbook.xml", _WORKBOOK),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
    ):
        _package.writestr(_name, _data)
    _package.writestr("xl/worksheets/sheet1.xml", sheet_xml(_rows_xml(good_rows(20))))
VALID_XLSX = _VALID.getvalue()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(
        st.tuples(st.integers(0, len(VALID_XLSX) - 1), st.integers(1, 255)), min_size=1, max_size=8
    ),
    cut=st.one_of(st.none(), st.integers(0, len(VALID_XLSX))),
)
def test_fuzz_broken_bytes_are_read_or_refused(tmp_path, flips, cut):
    data = bytearray(VALID_XLSX)
    for position, mask in flips:
        data[position] ^= mask
    if cut is not None:
        data = data[:cut]
    path = tmp_path / "roto.xlsx"
    path.write_bytes(bytes(data))
    start = time.monotonic()
    try:
        table = read_export(path)
    except ExportError as error:
        assert str(error).strip()
    else:
        assert table.rows_read <= 21
    assert time.monotonic() - start < 10
