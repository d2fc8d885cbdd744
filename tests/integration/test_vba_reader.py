"""swat_xl.adapters.vba reads module sources as pyOpenVBA does: on the project swat_xl ships
(saved without compiled code) and on xlwings' own workbook (saved by Excel, compiled code
before each module's source)."""

from __future__ import annotations

import importlib.resources
import io
import zipfile

import pytest

from swat_xl.adapters.vba import decompress, module_sources
from swat_xl.adapters.xlsm import shipped_vba_project
from swat_xl.errors import WorkbookError

pyopenvba = pytest.importorskip("pyopenvba")
from pyopenvba.cfb import CFB  # noqa: E402
from pyopenvba.vba import compress, parse_vba_project  # noqa: E402


def _reference(project: bytes) -> dict[str, str]:
    parsed = parse_vba_project(CFB.from_bytes(project))
    return {m.name: m.source.replace("\r\n", "\n") for m in parsed.modules}


def _excel_saved() -> bytes:
    book = (importlib.resources.files("xlwings") / "quickstart_standalone.xlsm").read_bytes()
    return zipfile.ZipFile(io.BytesIO(book)).read("xl/vbaProject.bin")


@pytest.mark.parametrize("project", [shipped_vba_project(), _excel_saved()], ids=["swat", "excel"])
def test_sources_are_pyopenvbas(project: bytes) -> None:
    sources = module_sources(project)
    assert {"xlwings", "Dictionary", "ThisWorkbook"} <= set(sources)
    assert sources == _reference(project)
    assert 'Public Const XLWINGS_VERSION As String = "' in sources["xlwings"]


def test_the_shipped_ribbon_module() -> None:
    assert 'RunAction "ayuda"' in module_sources(shipped_vba_project())["SWAT"]


@pytest.mark.parametrize("size", [0, 5, 4095, 4096, 4097, 20000])
def test_decompress_undoes_compress(size: int) -> None:
    text = b'Attribute VB_Name = "SWAT"\r\nSub A()\r\n  RunAction "x"\r\nEnd Sub\r\n' * 500
    assert decompress(compress(text[:size])) == text[:size]


@pytest.mark.parametrize("project", [b"", b"no es un archivo compuesto", b"\xd0\xcf\x11\xe0" * 200])
def test_an_unreadable_project_is_a_workbook_error(project: bytes) -> None:
    with pytest.raises(WorkbookError, match="No se pudieron leer las macros"):
        module_sources(project)
