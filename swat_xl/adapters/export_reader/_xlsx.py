"""Reading an xlsx / xlsm (or .xls) export with ``python_calamine``, once :mod:`._guards` has
checked the package: each candidate worksheet in turn, parsed to rows.

Which sheet holds the export (the first visible one with data and a recognisable header) needs
the aliases of the master's settings, so it is decided by the caller
(:func:`._table._pick_sheet`). This module imports neither pandas nor the aliases: the command
line starts it in a helper thread before pandas has loaded (see :mod:`._reading`).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, BinaryIO

from defusedxml import ElementTree as SafeElementTree
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from swat_xl.adapters.export_reader._guards import (
    _check_honest_members,
    _check_sheet_extent,
    _check_zip_directory,
    _corrupt_error,
    _os_error,
)
from swat_xl.adapters.export_reader._halves import (
    SPLIT_FROM_BYTES,
    SPLIT_UP_TO_BYTES,
    parse_in_halves,
)
from swat_xl.errors import ExportError

#: A worksheet as parsed: its name, calamine's (row, column) of its first cell (None when the
#: sheet is empty), its rows of raw cell values.
SheetRows = tuple[str, tuple[int, int] | None, list[Any]]


def _workbook_sheets(
    path: Path, checked: Callable[[], None] = lambda: None
) -> Generator[SheetRows, None, None]:
    """The candidate worksheets of an xlsx / xlsm package, in order, each checked then parsed
    only when asked for; ``checked`` is called when the first one has passed the checks and
    calamine starts parsing it. The package stays open until the iterator ends or is closed."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise _corrupt_error(path) from exc
    except OSError as exc:
        raise _os_error(path, exc) from exc
    try:
        with archive, path.open("rb") as raw:
            _check_zip_directory(archive, path)
            members = _sheet_members(archive, path)
            _check_honest_members(archive, raw, path, iter(members.values()))
            yield from _sheets(path, archive, raw, members, checked)
    except OSError as exc:
        raise _os_error(path, exc) from exc


def _legacy_sheets(path: Path) -> Generator[SheetRows, None, None]:
    """The candidate worksheets of an Excel 97-2003 (.xls) workbook, read by python-calamine
    like an .xlsx: there is no zip package, so no package checks."""
    return _sheets(path, None, None, {})


def _sheets(
    path: Path,
    archive: zipfile.ZipFile | None,
    raw: BinaryIO | None,
    members: dict[str, zipfile.ZipInfo],
    checked: Callable[[], None] = lambda: None,
) -> Generator[SheetRows, None, None]:
    """The visible worksheets (else all of them), in order. ``archive`` is the workbook's zip
    package (None for an .xls): each sheet's part is checked before calamine expands it."""
    try:
        book = CalamineWorkbook.from_path(str(path))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise _calamine_error(path, None, exc) from exc
    try:
        metas = [m for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        visible = [m for m in metas if m.visible == SheetVisibleEnum.Visible]
        candidates = visible or metas
        if not candidates:
            raise ExportError("El libro no tiene hojas de cálculo.", file=path)
        for meta in candidates:
            if archive is not None and raw is not None:
                info = members.get(meta.name)
                if info is None:
                    raise ExportError(
                        "El libro está dañado: no se encontró el contenido de la hoja.",
                        file=path,
                        sheet=meta.name,
                    )
                big = SPLIT_FROM_BYTES <= info.file_size <= SPLIT_UP_TO_BYTES
                kept: list[bytes] | None = [] if big else None
                _check_sheet_extent(path, archive, raw, info, meta.name, kept)
                if kept:
                    checked()
                    halves = parse_in_halves(archive, members.values(), info, meta.name, kept)
                    if halves is not None:
                        yield meta.name, *halves
                        continue
            checked()
            try:
                sheet = book.get_sheet_by_name(meta.name)
                start = sheet.start
                rows = sheet.to_python()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                    raise
                raise _calamine_error(path, meta.name, exc) from exc
            yield meta.name, start, rows
    finally:
        book.close()


def _calamine_error(path: Path, sheet: str | None, exc: BaseException) -> ExportError:
    name = type(exc).__name__
    if name == "PasswordError":
        return ExportError(
            "El libro está protegido con contraseña o cifrado. Quítele la contraseña en Excel "
            "y guárdelo de nuevo como .xlsx.",
            file=path,
            sheet=sheet,
        )
    if isinstance(exc, MemoryError):
        return ExportError(
            "El libro es demasiado grande para leerlo con la memoria disponible.",
            file=path,
            sheet=sheet,
        )
    if name == "ZipError":
        return _corrupt_error(path)
    return ExportError(
        f"No se pudo leer el libro de Excel; puede estar dañado ({name}: {exc}).",
        file=path,
        sheet=sheet,
    )


# --- package parts -------------------------------------------------------------------------------


def _find_member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    name = name.lstrip("/")
    try:
        return archive.getinfo(name)
    except KeyError:
        pass
    wanted = name.lower()
    for info in archive.infolist():
        if info.filename.lower() == wanted:
            return info
    return None


def _read_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Any:
    try:
        return SafeElementTree.fromstring(archive.read(info))
    except Exception as exc:
        raise ExportError(
            f"El libro de Excel está dañado: la parte «{info.filename}» no se puede leer.",
            file=path,
        ) from exc


def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str, path: Path) -> list[tuple[str, str, str]]:
    """(Id, Type, resolved target) of the relationships of a package part."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    info = _find_member(archive, rels_name)
    if info is None:
        return []
    out = []
    for element in _read_xml(archive, info, path).iter():
        if _local(element.tag) != "Relationship":
            continue
        target = element.get("Target") or ""
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        out.append((element.get("Id") or "", element.get("Type") or "", resolved))
    return out


def _sheet_members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """Sheet name -> zip member of its XML, from the workbook part and its relationships."""
    workbook_part = "xl/workbook.xml"
    for _, kind, target in _relationships(archive, "", path):
        if kind.endswith("/officeDocument"):
            workbook_part = target
            break
    workbook_info = _find_member(archive, workbook_part)
    if workbook_info is None:
        raise ExportError(
            "El archivo no es un libro de Excel válido (no contiene un libro).", file=path
        )
    targets = {rid: target for rid, _, target in _relationships(archive, workbook_part, path)}
    members: dict[str, zipfile.ZipInfo] = {}
    for element in _read_xml(archive, workbook_info, path).iter():
        if _local(element.tag) != "sheet":
            continue
        rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
        name = element.get("name")
        target = targets.get(rid or "")
        info = _find_member(archive, target) if target else None
        if name is not None and info is not None:
            members[name] = info
    return members
