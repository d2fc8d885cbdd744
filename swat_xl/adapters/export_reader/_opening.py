"""The first half of reading an export: what needs no aliases.

The file checks and, for a workbook, the zip-bomb and extent guards of its package and the
parse of its first sheet (python-calamine, which releases the GIL while it parses), in the
order :func:`._reader.read_export` has always run them (the guards before calamine opens the
file). This module imports neither pandas nor the aliases (nor anything that does): the
command line runs it in a helper thread started before it has loaded them (see
:func:`._reader.start_reading`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from swat_xl.adapters.export_reader._guards import (
    _OLE_MAGIC,
    _ZIP_MAGICS,
    _check_file,
    _looks_like_text,
    _read_head,
)
from swat_xl.adapters.export_reader._xlsx import SheetRows, _workbook_sheets
from swat_xl.errors import ExportError

T = TypeVar("T")

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt")
LEGACY_SUFFIXES = (".xls",)


def _surfacing(path: Path, step: Callable[[], T]) -> T:
    """Run ``step`` raising :class:`ExportError` (never another exception) when the file
    cannot be used."""
    try:
        return step()
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


@dataclass
class _Opened:
    """An export checked as far as it can be without the aliases.

    ``kind`` is "workbook" (an xlsx / xlsm package: its candidate sheets in ``sheets``, those
    already parsed in ``parsed``), "legacy" (an .xls) or "text" (csv / txt); the last two
    are read whole once the aliases are known."""

    path: Path
    kind: str
    size: int
    warnings: list[str] = field(default_factory=list)
    parsed: list[SheetRows] = field(default_factory=list)
    sheets: Generator[SheetRows, None, None] | None = None

    def remaining_sheets(self) -> Iterator[SheetRows]:
        """The parsed sheets, then the others (parsed as they are asked for)."""
        parsed, self.parsed = self.parsed, []
        yield from parsed
        if self.sheets is not None:
            yield from self.sheets

    def close(self) -> None:
        """Release the workbook package (a no-op once its sheets are exhausted)."""
        self.parsed = []
        if self.sheets is not None:
            self.sheets.close()


def _open(path: Path, checked: Callable[[], None] = lambda: None) -> _Opened:
    """The file checks, then, for a workbook, the package's checks and its first candidate
    sheet with any cell parsed (the long part: an export holds one sheet); ``checked`` is
    called when calamine starts parsing (after the checks of the sheet)."""
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
    if magic.startswith(_OLE_MAGIC):
        if suffix in WORKBOOK_SUFFIXES:
            raise ExportError(
                "El libro está protegido con contraseña o cifrado (o es un libro .xls antiguo "
                "con extensión .xlsx). Ábralo en Excel, quítele la contraseña (Archivo > "
                "Información > Proteger libro) y guárdelo como «Libro de Excel (.xlsx)».",
                file=path,
            )
        return _Opened(path, "legacy", size)  # an Excel 97-2003 workbook
    is_zip = magic.startswith(_ZIP_MAGICS)
    if suffix in TEXT_SUFFIXES and not is_zip:
        return _Opened(path, "text", size)
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
    opened = _Opened(path, "workbook", size)
    if suffix not in WORKBOOK_SUFFIXES:
        opened.warnings.append(
            f"El archivo tiene extensión «{path.suffix}» pero es un libro de Excel; "
            "se leyó como .xlsx."
        )
    opened.sheets = _workbook_sheets(path, checked)
    try:
        for sheet in opened.sheets:  # parsed up to the first sheet with a cell
            opened.parsed.append(sheet)
            if sheet[2]:
                break
    except BaseException:
        opened.close()
        raise
    return opened
