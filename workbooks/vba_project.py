"""Build-time half of the macro tooling: the master's VBA project, made with pyOpenVBA.

The master is a standalone xlwings workbook: its own VBA project carries the ``xlwings``
module (``RunPython``) and the ``Dictionary`` class. :func:`build_vba_project` makes that
project from xlwings' own ``quickstart_standalone.xlsm`` plus the modules in ``workbooks/src``;
``workbooks/build_vba.py`` ships it as ``swat_xl/resources/vbaProject.bin``. pyOpenVBA is a
build and test dependency only (the ``build`` extra): the runtime package reads the shipped
artifacts and never imports this module.
"""

from __future__ import annotations

import importlib.resources
import io
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from swat_xl.adapters import xlsm

#: xlwings' workbook whose VBA project is the starting point of ours.
XLWINGS_TEMPLATE = "quickstart_standalone.xlsm"
#: Modules of that template that are demo code (``Module1.SampleCall``), dropped by default.
TEMPLATE_DEMO_MODULES: tuple[str, ...] = ("Module1",)


def xlwings_template() -> bytes:
    """The bytes of xlwings' ``quickstart_standalone.xlsm`` (of the installed xlwings)."""
    try:
        return (importlib.resources.files("xlwings") / XLWINGS_TEMPLATE).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ImportError(
            f"No se encontró {XLWINGS_TEMPLATE} de xlwings: instale xlwings (pip install swat-xl)"
        ) from exc


def _pyopenvba() -> Any:
    try:
        import pyopenvba
        import pyopenvba.cfb
    except ImportError as exc:
        raise ImportError(
            "Generar el proyecto VBA requiere pyOpenVBA: pip install 'swat-xl[build]'. "
            "Para usar el proyecto ya generado no hace falta (shipped_vba_project)."
        ) from exc
    return pyopenvba


def _module_source(name: str, source: str, encoding: str) -> str:
    """``source`` as the module stream holds it: CRLF lines, ``Attribute VB_Name`` first."""
    text = source.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    header = f'Attribute VB_Name = "{name}"'
    first = text.split("\n", 1)[0]
    if not first.startswith("Attribute VB_Name"):
        text = f"{header}\n{text}"
    elif first.strip() != header:
        raise ValueError(f"El módulo «{name}» declara otro nombre: {first.strip()}")
    text = text.replace("\n", "\r\n")
    try:
        text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"El módulo «{name}» tiene caracteres que el proyecto VBA ({encoding}) "
            f"no puede guardar: {text[exc.start : exc.end]!r}"
        ) from None
    return text


def _tidy_template(template: bytes, pyopenvba: Any) -> bytes:
    """The template without the empty line that ends its PROJECT stream.

    pyOpenVBA appends the ``[Workspace]`` entry of an added module after that line,
    which would leave a blank line inside the section ([MS-OVBA] 2.3.1 has none there).
    """
    with zipfile.ZipFile(io.BytesIO(template)) as package:
        infos = package.infolist()
        parts = {info.filename: package.read(info) for info in infos}
    cfb = pyopenvba.cfb.CFB.from_bytes(parts[xlsm.VBA_PART])
    cfb.write_stream("PROJECT", cfb.get_stream("PROJECT").rstrip(b"\r\n") + b"\r\n")
    parts[xlsm.VBA_PART] = cfb.to_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for info in infos:
            out.writestr(xlsm.zip_info(info.filename, info.compress_type), parts[info.filename])
    return buffer.getvalue()


def build_vba_project(
    modules: Mapping[str, str], *, drop: Iterable[str] = TEMPLATE_DEMO_MODULES
) -> bytes:
    """A ``vbaProject.bin``: xlwings' standalone project with ``modules`` added or replaced.

    ``modules`` maps a standard module's name to its source (a VBE ``.bas`` export or a
    bare body; line endings are normalised to CRLF). The template's ``xlwings`` module,
    ``Dictionary`` class, document modules and references (Office, MSForms) are kept;
    the modules in ``drop`` that ``modules`` does not name are removed. The project is
    saved without compiled code (``_VBA_PROJECT`` version 0xFFFF), so Excel compiles
    it from source, and the result is byte-for-byte the same for the same inputs.
    """
    pyopenvba = _pyopenvba()
    with tempfile.TemporaryDirectory(prefix="swat_vba_") as tmp:
        source = Path(tmp, "template.xlsm")
        built = Path(tmp, "built.xlsm")
        source.write_bytes(_tidy_template(xlwings_template(), pyopenvba))
        with pyopenvba.ExcelFile(source) as book:
            project = book.vba_project()
            encoding = pyopenvba.vba.encoding_for_codepage(project.code_page)
            present = {m.name.casefold(): m for m in project.modules}
            wanted = {name.casefold() for name in modules}
            for name in drop:
                if name.casefold() in present and name.casefold() not in wanted:
                    project.delete_module(present[name.casefold()].name)
            for name, text in modules.items():
                text = _module_source(name, text, encoding)
                module = present.get(name.casefold())
                if module is None:
                    project.add_module(name, text)
                elif module.kind is pyopenvba.VBAModuleKind.standard:
                    book.set_module(module.name, text)
                else:
                    raise ValueError(f"«{module.name}» no es un módulo estándar de la plantilla")
            book.save(built)
        with pyopenvba.ExcelFile(built) as book:
            problems = book.validate()
            if problems:
                raise RuntimeError(
                    "pyOpenVBA escribió un proyecto incoherente: " + "; ".join(problems)
                )
            return book.vba_project_bytes()
