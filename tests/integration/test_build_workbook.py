"""The shipped master workbook (``swat-xl build-workbook`` → workbooks/SWAT_Detractores.xlsm).

The build is byte-for-byte reproducible and the committed artifact must equal a fresh build, so
the sources (layout, VBA project, ribbon, xlwings.conf rows, version) and the artifact never
drift. Regenerate it with ``swat-xl build-workbook`` from the repository root.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
import zipfile
from pathlib import Path

import defusedxml.ElementTree as SafeET
import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from swat_xl.adapters import xlsm
from swat_xl.bootstrap import build_workbook
from swat_xl.demo.sample import make_export
from swat_xl.errors import InputError
from swat_xl.services.build import BUILD_DATE
from swat_xl.workbook.xlwings_conf import XLWINGS_CONF
from tests.helpers.cli import ledger_of, run_cli
from tests.helpers.libreoffice import recalculate, soffice

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "workbooks" / "SWAT_Detractores.xlsm"
SHEETS = [
    "Inicio",
    "Indicador",
    "Sin asignar",
    "Base",
    "No gestionables",
    "Asesores",
    "Config",
    "Prácticas",
    "Bitácora",
    "xlwings.conf",
]
MACRO_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
VBA_TYPE = "application/vnd.ms-office.vbaProject"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("build") / "SWAT_Detractores.xlsm").path


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {info.filename: package.read(info) for info in package.infolist()}


# -- reproducible ---------------------------------------------------------------------------
def test_rebuilding_gives_the_same_bytes(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "otra carpeta" / "Otro nombre.xlsm"
    result = run_cli("build-workbook", "--out", again, now=None)  # real clock, another process
    assert result.code == 0, result.err
    assert str(again) in result.out
    assert again.read_bytes() == built.read_bytes()
    assert sorted(p.name for p in again.parent.iterdir()) == ["Otro nombre.xlsm"]  # no ledger
    assert not ledger_of(built).exists()


def test_committed_workbook_is_a_fresh_build(built: Path) -> None:
    assert COMMITTED.is_file(), "run «swat-xl build-workbook» from the repository root"
    assert COMMITTED.read_bytes() == built.read_bytes(), (
        "workbooks/SWAT_Detractores.xlsm is stale: run «swat-xl build-workbook» from the "
        "repository root"
    )


def test_package_structure(built: Path) -> None:
    parts = _parts(built)
    with zipfile.ZipFile(built) as package:
        assert {i.date_time for i in package.infolist()} == {xlsm.ZIP_EPOCH}
    types = SafeET.fromstring(parts["[Content_Types].xml"])
    overrides = {
        el.get("PartName"): el.get("ContentType") for el in types if "PartName" in el.attrib
    }
    defaults = {
        el.get("Extension"): el.get("ContentType") for el in types if "Extension" in el.attrib
    }
    assert overrides["/xl/workbook.xml"] == MACRO_MAIN
    assert VBA_TYPE in (overrides.get("/xl/vbaProject.bin"), defaults.get("bin"))
    rels = SafeET.fromstring(parts["_rels/.rels"])
    ribbon = [r.attrib for r in rels if r.get("Type") == xlsm.RIBBON_REL_TYPE]
    assert [r["Target"] for r in ribbon] == [xlsm.CUSTOMUI_PART]
    book_rels = SafeET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    assert [r.get("Target") for r in book_rels if r.get("Type") == xlsm.VBA_REL_TYPE] == [
        "vbaProject.bin"
    ]
    assert parts[xlsm.VBA_PART] == xlsm.shipped_vba_project()
    assert parts[xlsm.CUSTOMUI_PART] == xlsm.shipped_ribbon()
    core = parts["docProps/core.xml"].decode()
    assert f"{BUILD_DATE:%Y-%m-%d}T00:00:00Z" in core and "<dc:creator>swat_xl</dc:creator>" in core


def test_content_is_an_empty_master(built: Path) -> None:
    book = CalamineWorkbook.from_path(str(built))
    assert book.sheet_names == SHEETS

    def rows(name: str) -> list[list]:
        return book.get_sheet_by_name(name).to_python()

    for name in ("Base", "Sin asignar", "No gestionables", "Asesores", "Bitácora"):
        assert len(rows(name)) == 1, name  # the header only
    assert rows("Asesores")[0][:4] == ["Asesor", "Perfil", "Activo", "Capacidad"]
    config = {row[0]: row[1] for row in rows("Config")[1:]}
    assert config["aliado"] == "Almacontact"
    conf = rows("xlwings.conf")
    assert [row[0] for row in conf] == [key for key, _ in XLWINGS_CONF]
    assert {row[0]: row[1] for row in conf}["Interpreter_Win"] == dict(XLWINGS_CONF)[
        "Interpreter_Win"
    ]


def test_nothing_of_the_machine_is_inside(built: Path) -> None:
    import getpass
    import socket

    marks = {getpass.getuser(), socket.gethostname(), str(built.parent), str(Path.cwd())}
    for name, data in _parts(built).items():
        if name.endswith(".xml") or name.endswith(".rels"):
            text = data.decode("utf-8")
            for mark in marks:
                if len(mark) >= 4:
                    assert mark not in text, (name, mark)


def test_build_refuses_a_master_in_use(tmp_path: Path) -> None:
    target = tmp_path / "SWAT_Detractores.xlsm"
    target.write_bytes(b"libro con datos")
    ledger_of(target).write_bytes(b"registro")
    with pytest.raises(InputError, match="registro SQLite"):
        build_workbook(target)
    assert target.read_bytes() == b"libro con datos"
    result = run_cli("build-workbook", "--out", target)
    assert result.code == 2 and "no se sobrescribe" in result.err
    with pytest.raises(InputError, match=r"\.xlsm"):
        build_workbook(tmp_path / "maestro.xlsx")


# -- what Excel-like readers see ------------------------------------------------------------
@pytest.mark.libreoffice
def test_libreoffice_opens_the_built_workbook(built: Path, tmp_path: Path) -> None:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    (converted,) = recalculate([built], tmp_path / "lo")
    assert converted.is_file() and converted.stat().st_size > 0
    assert openpyxl.load_workbook(converted).sheetnames == SHEETS


def _has_kpi_command() -> bool:
    return run_cli("kpi", "--help").code == 0


def test_operations_on_the_built_workbook_keep_ribbon_vba_and_validations(
    built: Path, tmp_path: Path, roster_csv: Path
) -> None:
    work = tmp_path / "SWAT_Detractores.xlsm"
    shutil.copy(built, work)
    export = tmp_path / "data.xlsx"
    make_export(export, rows=80, seed=5)

    # The first operation on the shipped template creates its ledger (and says so).
    result = run_cli("roster", roster_csv, "--workbook", work)
    assert result.code == 0, result.err
    with sqlite3.connect(ledger_of(work)) as db:
        events = [row[0] for row in db.execute("SELECT message FROM events")]
    assert any(message.startswith("Se creó un registro nuevo") for message in events)

    result = run_cli("import", export, "--workbook", work)
    assert result.code == 0, result.err
    kpi = _has_kpi_command()
    if kpi:
        result = run_cli("kpi", "--workbook", work)
        assert result.code == 0, result.err

    parts = _parts(work)
    assert parts[xlsm.VBA_PART] == xlsm.shipped_vba_project()
    assert parts[xlsm.CUSTOMUI_PART] == xlsm.shipped_ribbon()
    assert xlsm.extract_ribbon(work) == xlsm.shipped_ribbon()
    book = openpyxl.load_workbook(work, keep_vba=True)
    agent_sheets = [ws for ws in book.worksheets if ws.title in ("Ana Gómez", "Bruno Díaz")]
    assert len(agent_sheets) == 2
    for ws in agent_sheets:
        formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
        assert '"CONTACTO EFECTIVO,NO CONTESTA,NO CONTACTO"' in formulas, formulas
        assert not ws.protection.sheet  # agents sort and filter their own sheet
    charts = [name for name in parts if name.startswith("xl/charts/chart")]
    if kpi:
        assert charts, "the Indicador has no chart after «kpi»"
    olevba = pytest.importorskip("oletools.olevba")
    parser = olevba.VBA_Parser(str(work))
    try:
        modules = {name for _, _, name, _ in parser.extract_macros()}
    finally:
        parser.close()
    assert "SWAT.bas" in modules and "xlwings.bas" in modules


def test_ledger_rules_for_a_master_without_one(
    built: Path, tmp_path: Path, roster_csv: Path
) -> None:
    work = tmp_path / "SWAT_Detractores.xlsm"
    shutil.copy(built, work)
    # A failed first operation leaves no ledger behind.
    result = run_cli("reassign", "--workbook", work, "--from", "Nadie")
    assert result.code == 2 and "Nadie" in result.err
    assert not ledger_of(work).exists()
    # Once used, a master whose ledger went missing is refused, not silently restarted.
    assert run_cli("roster", roster_csv, "--workbook", work).code == 0
    export = tmp_path / "data.xlsx"
    make_export(export, rows=40, seed=6)
    assert run_cli("import", export, "--workbook", work).code == 0
    ledger_of(work).unlink()
    before = work.read_bytes()
    result = run_cli("assign", "--workbook", work)
    assert result.code == 4 and "No se encontró el registro" in result.err
    assert not ledger_of(work).exists() and work.read_bytes() == before


def test_vba_project_part_is_byte_identical(built: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(built.read_bytes())) as package:
        assert package.read(xlsm.VBA_PART) == xlsm.shipped_vba_project()
