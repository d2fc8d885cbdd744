"""The entry point: which reader a file needs, from its suffix and its first bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

from swat_xl.adapters.export_reader._csv import _read_text
from swat_xl.adapters.export_reader._guards import (
    _OLE_MAGIC,
    _ZIP_MAGICS,
    _check_file,
    _file_sha256,
    _looks_like_text,
    _read_head,
)
from swat_xl.adapters.export_reader._table import ExportTable, _tabulate
from swat_xl.adapters.export_reader._xlsx import _read_legacy_workbook, _read_workbook
from swat_xl.core.fields import AliasMap
from swat_xl.errors import ExportError

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt")
LEGACY_SUFFIXES = (".xls",)


def read_export(path: str | Path, aliases: AliasMap | None = None) -> ExportTable:
    """Read a Power BI export (.xlsx/.xlsm/.csv/.txt) into canonical columns.

    Raises :class:`ExportError` (never another exception) when the file cannot be used.
    """
    path = Path(path)
    try:
        return _read_export(path, aliases or AliasMap())
    except ExportError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except MemoryError as exc:
        raise ExportError(
            "El archivo es demasiado grande para leerlo con la memoria disponible.", file=path
        ) from exc
    except BaseException as exc:  # third-party surprises (pyo3 panics derive from BaseException)
        raise ExportError(
            f"No se pudo leer el archivo de exportación ({type(exc).__name__}: {exc}).",
            file=path,
        ) from exc


def _read_export(path: Path, aliases: AliasMap) -> ExportTable:
    suffix = path.suffix.lower()
    size = _check_file(path)
    if suffix not in (*WORKBOOK_SUFFIXES, *TEXT_SUFFIXES, *LEGACY_SUFFIXES):
        shown = path.suffix or "sin extensión"
        raise ExportError(
            f"Formato de archivo no soportado («{shown}»). Exporte desde Power BI como "
            "Excel (.xlsx) o como CSV (.csv).",
            file=path,
        )
    if size == 0:
        raise ExportError("El archivo de exportación está vacío (0 bytes).", file=path)
    magic = _read_head(path, 8)
    warnings: list[str] = []
    if magic.startswith(_OLE_MAGIC):
        if suffix in WORKBOOK_SUFFIXES:
            raise ExportError(
                "El libro está protegido con contraseña o cifrado (o es un libro .xls antiguo "
                "con extensión .xlsx). Ábralo en Excel, quítele la contraseña (Archivo > "
                "Información > Proteger libro) y guárdelo como «Libro de Excel (.xlsx)».",
                file=path,
            )
        # An Excel 97-2003 workbook: python-calamine reads it like an .xlsx.
        sheet, grid, header = _read_legacy_workbook(path, aliases)
        digest = _file_sha256(path)
        return _tabulate(path, sheet, grid, header, aliases, warnings, digest)
    is_zip = magic.startswith(_ZIP_MAGICS)
    if suffix in TEXT_SUFFIXES and not is_zip:
        grid, header, raw = _read_text(path, size, aliases, warnings)
        digest = hashlib.sha256(raw).hexdigest()
        del raw
        return _tabulate(path, None, grid, header, aliases, warnings, digest)
    if not is_zip:
        if suffix in LEGACY_SUFFIXES:
            raise ExportError(
                "El archivo no es un libro .xls válido (quizá es una página web o texto con "
                "extensión .xls). Ábralo en Excel y guárdelo como «Libro de Excel (.xlsx)» o "
                "como «CSV UTF-8».",
                file=path,
            )
        hint = " Si es un CSV, cámbiele la extensión a .csv." if _looks_like_text(path) else ""
        raise ExportError(
            f"El archivo no es un libro de Excel válido: su contenido no es un .xlsx.{hint}",
            file=path,
        )
    if suffix not in WORKBOOK_SUFFIXES:
        warnings.append(
            f"El archivo tiene extensión «{path.suffix}» pero es un libro de Excel; "
            "se leyó como .xlsx."
        )
    sheet, grid, header = _read_workbook(path, aliases)
    digest = _file_sha256(path)
    return _tabulate(path, sheet, grid, header, aliases, warnings, digest)
