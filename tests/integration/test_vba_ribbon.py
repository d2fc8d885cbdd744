"""The VBA module, the ribbon and the workbook packaging that carries them (swat_xl.adapters.xlsm).

Office itself is not available here, so the checks are: the Office XSD for the ribbon,
olevba for what a VBA reader finds in a written workbook, pyOpenVBA's VBA interpreter
for what the callbacks hand to ``RunPython``, and LibreOffice for opening the package.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tomllib
import types
import zipfile
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pytest
import xlsxwriter
import xlwings

from swat_xl.adapters import xlsm
from swat_xl.errors import WorkbookError
from swat_xl.workbook import labels as L
from swat_xl.workbook.xlwings_conf import XLWINGS_CONF
from tests.helpers.libreoffice import recalculate, soffice
from workbooks.vba_project import build_vba_project

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "workbooks" / "src"
SWAT_BAS = SRC / "SWAT.bas"
CUSTOMUI = SRC / "customUI.xml"
RESOURCES = ROOT / "swat_xl" / "resources"
SCHEMAS = Path(os.environ.get("SWAT_SCHEMAS", ROOT.parent / "shared" / "schemas"))
XLWINGS_BAS = Path(xlwings.__file__).with_name("xlwings.bas")
NS = {"ui": xlsm.CUSTOMUI_NS}

#: The actions of swat_xl.macros.run that the ribbon may call.
ACTIONS = {
    "importar_corte",
    "asignar_repartir",
    "libros_asesor",
    "recoger_gestiones",
    "reasignar_asesor",
    "actualizar_indicador",
    "exportar_formulario",
    "archivar",
    "ayuda",
}
#: Ribbon callback -> the RunPython code it runs (ImportarCorte needs Excel's file dialog).
EXPECTED_CALLS = {
    "AsignarRepartir": "import swat_xl.macros as m; m.run('asignar_repartir')",
    "LibrosAsesor": "import swat_xl.macros as m; m.run('libros_asesor')",
    "RecogerGestiones": "import swat_xl.macros as m; m.run('recoger_gestiones')",
    "ReasignarAsesor": "import swat_xl.macros as m; m.run('reasignar_asesor')",
    "ActualizarIndicador": "import swat_xl.macros as m; m.run('actualizar_indicador')",
    "ExportarFormulario": "import swat_xl.macros as m; m.run('exportar_formulario')",
    "Archivar": "import swat_xl.macros as m; m.run('archivar')",
    "Ayuda": "import swat_xl.macros as m; m.run('ayuda')",
}
TRICKY_PATHS = [
    r"C:\Users\O'Neil\Descargas\data (1).xlsx",
    r"C:\Users\Peña Muñoz\Descargas\data.xlsx",
    '\\\\servidor\\cortes\\100% real!\\data "final".csv',
    "C:\\carpeta\\",
    "C:\\Users\\x\\data & más ^ <1> | 'b'.xlsx",
]


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _bas_text() -> str:
    return SWAT_BAS.read_text(encoding="utf-8")


def _buttons() -> list[dict[str, str]]:
    root = SafeET.fromstring(CUSTOMUI.read_bytes())
    return [dict(b.attrib) for b in root.iterfind(".//ui:button", NS)]


def _callbacks(text: str) -> set[str]:
    pattern = r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(\s*control\s+As\s+IRibbonControl\s*\)\s*$"
    return set(re.findall(pattern, text, re.MULTILINE | re.IGNORECASE))


def _build_script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        "swat_build_vba", ROOT / "workbooks" / "build_vba.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _xlsxwriter_book(path: Path, vba: bytes | None = None) -> Path:
    """A small workbook as the master writer makes one: Config, xlwings.conf, the VBA project."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": dt.datetime(2024, 1, 1)})
    if vba is not None:
        book.add_vba_project(io.BytesIO(vba), is_stream=True)
    config = book.add_worksheet("Config")
    config.write_row(0, 0, ["Clave", "Valor", "Descripción"])
    config.write_row(1, 0, ["carpeta_descargas", r"C:\Users\O'Neil\Descargas", "Carpeta"])
    conf = book.add_worksheet(L.SHEET_XLWINGS)
    for row, (key, value) in enumerate(XLWINGS_CONF):
        conf.write(row, 0, key)
        conf.write(row, 1, value)
    book.close()
    return path


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An .xlsm written by XlsxWriter with the shipped VBA project, then given the ribbon."""
    folder = tmp_path_factory.mktemp("master")
    plain = _xlsxwriter_book(folder / "plain.xlsm", xlsm.shipped_vba_project())
    path = folder / "SWAT_Detractores.xlsm"
    xlsm.add_ribbon(plain, path, xlsm.shipped_ribbon())
    return path


# ---------------------------------------------------------------------------
# The ribbon and the module
# ---------------------------------------------------------------------------


def test_customui_is_valid_against_the_office_schema() -> None:
    xmlschema = pytest.importorskip("xmlschema")
    xsd = SCHEMAS / "customUI.xsd"
    if not xsd.is_file():
        pytest.skip(f"Office ribbon schema not found at {xsd} (set SWAT_SCHEMAS)")
    schema = xmlschema.XMLSchema(str(xsd))
    schema.validate(str(CUSTOMUI))
    assert SafeET.fromstring(CUSTOMUI.read_bytes()).tag == f"{{{xlsm.CUSTOMUI_NS}}}customUI"


def test_ribbon_layout() -> None:
    root = SafeET.fromstring(CUSTOMUI.read_bytes())
    tabs = root.findall(".//ui:tab", NS)
    assert [t.get("label") for t in tabs] == ["SWAT"]
    groups = [g.get("label") for g in root.iterfind(".//ui:group", NS)]
    assert groups == ["Corte", "Asesores", "Indicador", "Periodo", "Ayuda"]
    buttons = _buttons()
    assert len(buttons) == 9
    ids = [el.get("id") for el in root.iter() if "id" in el.attrib]
    assert len(ids) == len(set(ids))
    for button in buttons:
        assert button.get("size") == "large"
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", button.get("imageMso", ""))
        assert button.get("label") and button.get("screentip") and button.get("supertip")


def test_every_button_calls_a_ribbon_callback_of_the_module() -> None:
    actions = {b["onAction"] for b in _buttons()}
    callbacks = _callbacks(_bas_text())
    assert actions <= callbacks, f"onAction without a Sub: {actions - callbacks}"
    assert callbacks <= actions, f"callbacks no button uses: {callbacks - actions}"
    assert len(actions) == len(_buttons())


def test_module_source_conventions() -> None:
    raw = SWAT_BAS.read_bytes()
    text = raw.decode("utf-8")
    text.encode("cp1252")  # the project's code page
    assert text.startswith('Attribute VB_Name = "SWAT"')
    assert "Option Explicit" in text
    assert "msoFileDialogFilePicker" in text and "*.xlsx;*.csv" in text
    assert 'Environ$("USERPROFILE") & "\\Downloads"' in text


def test_module_actions_are_the_known_ones() -> None:
    used = set(re.findall(r'\bRunAction\s+"([^"]+)"', _bas_text()))
    assert used == ACTIONS


def test_module_actions_exist_in_macros() -> None:
    try:
        from swat_xl import macros
    except ImportError:
        pytest.skip("swat_xl.macros is not written yet")
    if not hasattr(macros, "ACTIONS"):
        pytest.skip("swat_xl.macros has no ACTIONS yet")
    used = set(re.findall(r'\bRunAction\s+"([^"]+)"', _bas_text()))
    assert used <= set(macros.ACTIONS)


# ---------------------------------------------------------------------------
# The VBA, run by pyOpenVBA's interpreter with RunPython stubbed
# ---------------------------------------------------------------------------


def _with_cursor(app) -> None:
    """pyOpenVBA's Application lacks ``Cursor`` (a real member): add it, as Excel has it."""
    from pyopenvba.apps.excel import _model
    from pyopenvba.interpreter._objects import member, setter
    from pyopenvba.interpreter._values import VBAInt

    class Application(_model.Application):
        cursor = -4143  # xlDefault

        @member
        def Cursor(self) -> object:
            return VBAInt(self.cursor, "Long")

        @setter("Cursor")
        def _set_cursor(self, value: object) -> None:
            self.cursor = int(value)

    app.application.__class__ = Application


def _vba_app(run_python: str):
    excel = pytest.importorskip("pyopenvba.apps.excel")
    app = excel.ExcelApplication()
    app.add_workbook()
    _with_cursor(app)
    stub = f"Public Function RunPython(ByVal PythonCommand As String)\n{run_python}End Function\n"
    app.add_module(stub, name="xlwings")
    app.add_module(_bas_text(), name="SWAT")
    return app


@pytest.fixture
def vba_app():
    return _vba_app('    Worksheets(1).Range("A1").Value = PythonCommand\n')


@pytest.mark.parametrize("fails", [False, True])
def test_status_bar_and_wait_cursor_from_the_first_instant(fails: bool) -> None:
    """«SWAT: iniciando…» and the wait cursor while Python starts; both cleared after, even
    when RunPython fails."""
    from pyopenvba.interpreter._values import NOTHING

    app = _vba_app(
        '    Worksheets(1).Range("A2").Value = Application.StatusBar\n'
        '    Worksheets(1).Range("A3").Value = Application.Cursor\n'
        + ("    Err.Raise 5\n" if fails else "")
    )
    app.run("AsignarRepartir", NOTHING)
    assert app.sheet(1).value("A2") == "SWAT: iniciando…"
    assert app.sheet(1).value("A3") == 2  # xlWait
    assert app.application.status_bar is False
    assert app.application.cursor == -4143  # xlDefault


def _run_python_code(code: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Execute RunPython's code as Python would, with swat_xl.macros.run recording its args."""
    calls: list[tuple[str, ...]] = []
    fake = types.ModuleType("swat_xl.macros")
    fake.run = lambda action, *args: calls.append((action, *args))  # type: ignore[attr-defined]
    import swat_xl

    monkeypatch.setitem(sys.modules, "swat_xl.macros", fake)
    monkeypatch.setattr(swat_xl, "macros", fake, raising=False)
    exec(compile(code, "<RunPython>", "exec"), {})
    return calls


def test_callbacks_hand_runpython_the_action(vba_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyopenvba.interpreter._values import NOTHING

    for callback, expected in EXPECTED_CALLS.items():
        vba_app.run(callback, NOTHING)
        code = vba_app.sheet(1).value("A1")
        assert code == expected
        action = expected.split("'")[1]
        assert _run_python_code(code, monkeypatch) == [(action,)]


@pytest.mark.parametrize("path", TRICKY_PATHS)
def test_an_argument_reaches_python_intact(
    vba_app, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    vba_app.run("RunAction", "importar_corte", path)
    code = vba_app.sheet(1).value("A1")
    assert code.startswith("import swat_xl.macros as m; m.run('importar_corte', '")
    # cmd.exe expands %...% and !...!, and a double quote would end RunPython's -c "...".
    assert not set('"%!') & set(code)
    literal = code.split("m.run(", 1)[1][:-1]
    assert ast.literal_eval(f"({literal})") == ("importar_corte", path)
    assert _run_python_code(code, monkeypatch) == [("importar_corte", path)]


def test_download_folder_comes_from_the_config_sheet(vba_app) -> None:
    assert vba_app.run("ConfigValue", "carpeta_descargas") == ""  # no Config sheet
    vba_app.add_module(
        "Sub MakeConfig()\n"
        '    Worksheets.Add.Name = "Config"\n'
        '    Worksheets("Config").Range("A1:B1").Value = Array("Clave", "Valor")\n'
        '    Worksheets("Config").Range("A4").Value = "carpeta_descargas"\n'
        '    Worksheets("Config").Range("B4").Value = "  D:\\Cortes  "\n'
        "End Sub\n",
        name="Setup",
    )
    vba_app.run("MakeConfig")
    assert vba_app.run("ConfigValue", "carpeta_descargas") == "D:\\Cortes"
    assert vba_app.run("ConfigValue", "CARPETA_DESCARGAS") == "D:\\Cortes"
    assert vba_app.run("ConfigValue", "otra_clave") == ""


# ---------------------------------------------------------------------------
# The VBA project
# ---------------------------------------------------------------------------


def test_build_vba_project_is_deterministic() -> None:
    pytest.importorskip("pyopenvba")
    modules = {"SWAT": _bas_text()}
    first = build_vba_project(modules)
    assert build_vba_project(modules) == first
    crlf = {"SWAT": _bas_text().replace("\n", "\r\n").replace("\r\r\n", "\r\n")}
    lf = {"SWAT": _lines(_bas_text())}
    assert build_vba_project(crlf) == build_vba_project(lf) == first


def test_shipped_artifacts_equal_a_fresh_build() -> None:
    pytest.importorskip("pyopenvba")
    fresh = _build_script().build_artifacts()
    assert fresh[RESOURCES / "vbaProject.bin"] == xlsm.shipped_vba_project(), (
        "swat_xl/resources/vbaProject.bin is stale: run workbooks/build_vba.py"
    )
    assert fresh[RESOURCES / "customUI.xml"] == xlsm.shipped_ribbon() == CUSTOMUI.read_bytes()


def test_the_build_is_the_same_in_another_process() -> None:
    pytest.importorskip("pyopenvba")
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "workbooks" / "build_vba.py"), "--check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_built_project_compiles_from_source() -> None:
    olefile = pytest.importorskip("olefile")
    ole = olefile.OleFileIO(io.BytesIO(xlsm.shipped_vba_project()))
    try:
        cache = ole.openstream("VBA/_VBA_PROJECT").read()
        assert cache[:2] == b"\xcc\x61" and cache[2:4] == b"\xff\xff"  # version 0xFFFF
        streams = {"/".join(entry) for entry in ole.listdir()}
        assert not [s for s in streams if "__SRP_" in s]
        assert {"VBA/SWAT", "VBA/xlwings", "VBA/Dictionary"} <= streams
        assert "VBA/Module1" not in streams  # the template's demo module is dropped
        project = ole.openstream("PROJECT").read().decode("cp1252")
    finally:
        ole.close()
    assert "Module=SWAT\r\n" in project and "Module1" not in project
    workspace = project.split("[Workspace]\r\n", 1)[1]
    assert "\r\n\r\n" not in workspace and workspace.endswith("SWAT=0, 0, 0, 0, C\r\n")


def test_build_vba_project_replaces_and_refuses() -> None:
    pyopenvba = pytest.importorskip("pyopenvba")
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import parse_vba_project

    built = build_vba_project({"Module1": "Sub Hola()\nEnd Sub"})
    modules = {m.name: m for m in parse_vba_project(CFB.from_bytes(built)).modules}
    assert modules["Module1"].source == 'Attribute VB_Name = "Module1"\r\nSub Hola()\r\nEnd Sub\r\n'
    assert modules["Module1"].kind is pyopenvba.VBAModuleKind.standard
    with pytest.raises(ValueError, match="otro nombre"):
        build_vba_project({"SWAT": 'Attribute VB_Name = "Otro"\nSub X()\nEnd Sub\n'})
    with pytest.raises(ValueError, match="caracteres"):
        build_vba_project({"SWAT": "' ✓ listo\n"})
    with pytest.raises(ValueError, match="no es un módulo estándar"):
        build_vba_project({"Dictionary": "Sub X()\nEnd Sub\n"})


def test_build_vba_project_without_pyopenvba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyopenvba", None)
    with pytest.raises(ImportError, match=r"pyOpenVBA.*swat-xl\[build\]"):
        build_vba_project({"SWAT": _bas_text()})


def test_olevba_reads_the_modules_back(master: Path) -> None:
    olevba = pytest.importorskip("oletools.olevba")
    parser = olevba.VBA_Parser(str(master))
    try:
        assert parser.detect_vba_macros()
        found = {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
    assert _lines(found["SWAT.bas"]) == _lines(_bas_text())
    assert _lines(found["xlwings.bas"]) == _lines(XLWINGS_BAS.read_text(encoding="cp1252"))
    dictionary = found["Dictionary.cls"]
    assert 'Attribute VB_Name = "Dictionary"' in dictionary
    assert 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"' in dictionary
    assert "Module1.bas" not in found


def test_xlwings_version_is_pinned_everywhere() -> None:
    olevba = pytest.importorskip("oletools.olevba")
    parser = olevba.VBA_Parser("shipped.bin", data=xlsm.shipped_vba_project())
    try:
        found = {name: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()
    const = re.search(
        r'^Public Const XLWINGS_VERSION As String = "([^"]+)"', found["xlwings.bas"], re.M
    )
    assert const is not None
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [
        d for d in pyproject["project"]["dependencies"] if d.replace(" ", "").startswith("xlwings")
    ]
    assert pins == [f"xlwings=={xlwings.__version__}"]
    assert const[1] == xlwings.__version__


def test_xlwings_conf_rows_are_read_by_xlwings_vba() -> None:
    assert L.SHEET_XLWINGS == "xlwings.conf"
    vba = XLWINGS_BAS.read_text(encoding="cp1252")
    assert 'Set sht = wb.Sheets(PROJECT_NAME & ".conf")' in vba
    assert 'Public Const PROJECT_NAME As String = "xlwings"' in vba
    keys = [key.upper() for key, _ in XLWINGS_CONF]
    assert all(keys) and len(keys) == len(set(keys))  # d.Add UCase(key) fails on duplicates
    read = set(re.findall(r'GetConfig\("([^"]+)"', vba))
    assert set(keys) <= read, set(keys) - read
    values = dict(XLWINGS_CONF)
    for key in ("Debug UDFs", "Use UDF Server", "Show Console", "ADD_WORKBOOK_TO_PYTHONPATH"):
        assert values[key] is False  # assigned to a VBA Boolean: never empty
    assert values["Interpreter_Win"] == r"%USERPROFILE%\swat_xl\.venv\Scripts\pythonw.exe"
    assert values["PYTHONPATH"] == ""


# ---------------------------------------------------------------------------
# add_ribbon and the extract helpers
# ---------------------------------------------------------------------------


def test_add_ribbon_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    plain = _xlsxwriter_book(tmp_path / "plain.xlsm", xlsm.shipped_vba_project())
    ribbon = xlsm.shipped_ribbon()
    once, again, twice = tmp_path / "once.xlsm", tmp_path / "again.xlsm", tmp_path / "twice.xlsm"
    xlsm.add_ribbon(plain, once, ribbon)
    xlsm.add_ribbon(plain, again, ribbon)
    xlsm.add_ribbon(once, twice, ribbon)
    assert once.read_bytes() == again.read_bytes() == twice.read_bytes()
    in_place = tmp_path / "in_place.xlsm"
    shutil.copy(once, in_place)
    xlsm.add_ribbon(in_place, in_place, ribbon)
    assert in_place.read_bytes() == once.read_bytes()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]

    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(once) as result:
        before = [(i.filename, i.compress_type) for i in source.infolist()]
        after = [(i.filename, i.compress_type) for i in result.infolist()]
        assert after == [*before, (xlsm.CUSTOMUI_PART, zipfile.ZIP_DEFLATED)]
        assert {i.date_time for i in result.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        for name, _ in before:
            if name not in ("_rels/.rels", "[Content_Types].xml"):
                assert result.read(name) == source.read(name)
        assert result.read(xlsm.VBA_PART) == xlsm.shipped_vba_project()
        rels = SafeET.fromstring(result.read("_rels/.rels"))
        content_types = result.read("[Content_Types].xml")
    ribbon_rels = [r.attrib for r in rels if r.get("Type") == xlsm.RIBBON_REL_TYPE]
    assert ribbon_rels == [
        {"Id": xlsm.RIBBON_REL_ID, "Type": xlsm.RIBBON_REL_TYPE, "Target": xlsm.CUSTOMUI_PART}
    ]
    assert len(rels) == 4  # officeDocument, core, app and the ribbon
    assert b'Extension="xml"' in content_types
    assert b"vnd.ms-excel.sheet.macroEnabled.main+xml" in content_types
    assert xlsm.extract_ribbon(once) == ribbon
    assert xlsm.extract_vba(once) == xlsm.shipped_vba_project()
    assert xlsm.extract_ribbon(plain) is None
    assert set(xlsm.read_parts(once)) == {name for name, _ in after}


def test_add_ribbon_replaces_an_existing_ribbon(tmp_path: Path) -> None:
    old = tmp_path / "old.xlsx"
    with zipfile.ZipFile(old, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
            'package.relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="x"/>'
            '<Override PartName="/customUI/customUI14.xml" ContentType="application/xml"/></Types>',
        )
        package.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships">\n  <Relationship Id="swatRibbon" Type="http://example.com/other" '
            'Target="docProps/custom.xml"/>\n  <Relationship Id="rId1" Type="'
            f'{xlsm.OFFICE_DOCUMENT_REL_TYPE}" Target="xl/workbook.xml"/>\n  <Relationship Id="R9" '
            f'Type="{xlsm.RIBBON14_REL_TYPE}" Target="customUI/customUI14.xml"></Relationship>\n'
            f"  <Relationship Id='R8' Type='{xlsm.RIBBON_REL_TYPE}' Target='/customUI/old.xml'/>\n"
            "</Relationships>",
        )
        package.writestr("customUI/customUI14.xml", b"<customUI/>")
        package.writestr("customUI/old.xml", b"<customUI/>")
        package.writestr("customUI/_rels/customUI14.xml.rels", b"<Relationships/>")
        package.writestr("customUI/images/icon.png", b"png")
        package.writestr("xl/workbook.xml", b"<workbook/>")
    new = tmp_path / "new.xlsx"
    ribbon = xlsm.shipped_ribbon()
    xlsm.add_ribbon(old, new, ribbon)
    parts = xlsm.read_parts(new)
    assert list(parts) == [
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        xlsm.CUSTOMUI_PART,
    ]
    rels = SafeET.fromstring(parts["_rels/.rels"])
    by_id = {r.get("Id"): r.get("Type") for r in rels}
    assert by_id == {
        "swatRibbon": "http://example.com/other",
        "rId1": xlsm.OFFICE_DOCUMENT_REL_TYPE,
        "swatRibbon2": xlsm.RIBBON_REL_TYPE,
    }
    content_types = parts["[Content_Types].xml"].decode()
    assert "customUI14" not in content_types
    # No Default for .xml in this package: the ribbon part gets its own content type.
    assert '<Override PartName="/customUI/customUI.xml" ContentType="application/xml"/>' in (
        content_types
    )
    assert xlsm.extract_ribbon(new) == ribbon
    assert xlsm.extract_vba(new) is None
    xlsm.add_ribbon(new, tmp_path / "again.xlsx", ribbon)
    assert (tmp_path / "again.xlsx").read_bytes() == new.read_bytes()


def test_add_ribbon_refuses_bad_input(tmp_path: Path) -> None:
    plain = _xlsxwriter_book(tmp_path / "plain.xlsx")
    out = tmp_path / "out.xlsx"
    ribbon14 = b'<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui"/>'
    with pytest.raises(ValueError, match="customUI"):
        xlsm.add_ribbon(plain, out, ribbon14)
    with pytest.raises(WorkbookError):
        xlsm.add_ribbon(plain, out, b"<customUI")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">&b;</customUI>'
    )
    with pytest.raises(WorkbookError):
        xlsm.add_ribbon(plain, out, bomb)
    not_a_zip = tmp_path / "data.xlsx"
    not_a_zip.write_text("texto", encoding="utf-8")
    with pytest.raises(WorkbookError):
        xlsm.add_ribbon(not_a_zip, out, xlsm.shipped_ribbon())
    assert not out.exists()


@pytest.mark.libreoffice
def test_libreoffice_opens_the_workbook(master: Path, tmp_path: Path) -> None:
    if soffice() is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    (converted,) = recalculate([master], tmp_path / "lo")
    assert converted.is_file() and converted.stat().st_size > 0
    with zipfile.ZipFile(converted) as package:
        assert "xl/workbook.xml" in package.namelist()
