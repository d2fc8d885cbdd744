"""Reads a Power BI export of detractor surveys (.xlsx, .xlsm, .csv, .txt) into canonical columns.

The result is an :class:`ExportTable` whose ``frame`` has one row per data row and every field
of :data:`swat_xl.core.fields.CANONICAL` as a column (text as ``object`` columns of ``str``,
``survey_date`` as ``datetime64``), followed by the columns the export has and no field claims.

The header is found by content (title rows and a "Filtros aplicados" block may precede it) and
so is the footer (a ``Total`` row, the applied-filters block, the truncation note). Every
problem with the file raises :class:`~swat_xl.errors.ExportError` with a Spanish message.

Workbooks are checked before ``python_calamine`` opens them: the zip directory (zip bombs) and
the extent of the sheet (calamine allocates the whole used range, so a lone cell in XFD1048576
would exhaust memory and abort the process).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import itertools
import math
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from defusedxml import ElementTree as SafeElementTree
from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

from swat_xl.core.fields import CANONICAL, FIELD_BY_NAME, AliasMap
from swat_xl.core.text import clean_code, clean_phone, clean_text, fold, label_key
from swat_xl.errors import ExportError
from swat_xl.workbook.spec import col_letter

__all__ = ["ExportTable", "read_export"]

# --- limits (module constants so tests can lower them) -------------------------------------------
MAX_UNCOMPRESSED_BYTES = 1_500_000_000  # whole workbook, uncompressed
MAX_COMPRESSION_RATIO = 200  # a member above this ratio ...
RATIO_CHECK_MIN_BYTES = 100_000_000  # ... and this uncompressed size is a zip bomb
MAX_ROWS = 1_048_576  # Excel's limits
MAX_COLUMNS = 16_384
MAX_CELLS = 30_000_000  # rows x columns of the used range calamine would allocate
MAX_TEXT_BYTES = 600_000_000  # csv / txt file size
HEADER_SCAN_ROWS = 50

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt")
LEGACY_SUFFIXES = (".xls",)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CHUNK = 1 << 24  # decompressed bytes per step when scanning a sheet
_READ = 1 << 20
_DEFLATE_MAX_RATIO = 1100  # deflate cannot expand more than ~1032:1
_SMALL_MEMBER = 64 << 20  # members that cannot inflate beyond this are not re-checked
_SNIFF_CHARS = 2_000_000
_DELIMITERS = (",", ";", "\t", "|")
_BOOL_TEXT = {True: "VERDADERO", False: "FALSO"}

_REQUIRED_LABELS = {"ally": "del aliado", "ani": "del teléfono (ANI)"}
_ID_FIELDS = ("segment_text", "account", "custcode")

_FILTER_PREFIXES = ("applied filters", "filtros aplicados", "filtro aplicado", "filters applied")
_TRUNCATION_PREFIXES = (
    "exported data exceeded",
    "the exported data exceeded",
    "los datos exportados superaron",
    "los datos exportados excedieron",
    "los datos exportados sobrepasaron",
)
_TRUNCATION_MARKS = (
    "exceeded the allowed volume",
    "allowed volume",
    "volumen permitido",
    *_TRUNCATION_PREFIXES,
)
_FOOTER_INITIALS = frozenset("tTaAfFeElL")

_TRUNCATION_WARNING = (
    "Atención: la exportación de Power BI fue truncada (los datos superaron el volumen "
    "permitido) y pueden faltar encuestas; exporte rangos de fechas más cortos."
)


@dataclass
class ExportTable:
    """A Power BI export read into canonical columns."""

    path: Path
    sheet: str | None  # sheet name for xlsx, None for csv
    header_row: int  # 1-based row of the header in the file
    frame: pd.DataFrame
    columns_found: dict[str, str]  # canonical field -> original header label
    extra_columns: list[str]
    rows_read: int  # data rows, without header, title, blank and footer rows
    footer_lines: list[str]
    warnings: list[str]  # Spanish
    sha256: str  # of the file bytes
    source_rows: list[int] = field(default_factory=list)  # 1-based file row of each frame row


@dataclass
class _Grid:
    """Rows of one sheet or csv file as read, before any interpretation."""

    rows: list[Any]  # list of list/tuple of raw cell values
    first_row: int  # 1-based file row of rows[0]
    first_col: int = 0  # 0-based file column of cell 0 (for "Columna X" labels)


# --- public entry point --------------------------------------------------------------------------


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
        raise ExportError(
            "Es un libro de Excel 97-2003 (.xls), que no se puede leer. Ábralo en Excel y "
            "guárdelo como «Libro de Excel (.xlsx)» o como «CSV UTF-8 (delimitado por comas)».",
            file=path,
        )
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


# --- file level checks ---------------------------------------------------------------------------


def _check_file(path: Path) -> int:
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise ExportError("No se encontró el archivo de exportación.", file=path) from exc
    except OSError as exc:
        raise ExportError(
            f"No se pudo acceder al archivo de exportación ({exc.strerror or exc}).", file=path
        ) from exc
    if path.is_dir():
        raise ExportError("La ruta es una carpeta, no un archivo de exportación.", file=path)
    return stat.st_size


def _os_error(path: Path, exc: OSError) -> ExportError:
    if isinstance(exc, PermissionError):
        return ExportError(
            "No se pudo leer el archivo: no hay permiso o está abierto en otro programa; "
            "ciérrelo e intente de nuevo.",
            file=path,
        )
    return ExportError(f"No se pudo leer el archivo ({exc.strerror or exc}).", file=path)


def _read_head(path: Path, count: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(count)
    except OSError as exc:
        raise _os_error(path, exc) from exc


def _looks_like_text(path: Path) -> bool:
    head = _read_head(path, 4096)
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # only a character cut at the end
    return True


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_READ * 4), b""):
                digest.update(block)
    except OSError as exc:
        raise _os_error(path, exc) from exc
    return digest.hexdigest()


def _thousands(value: int) -> str:
    return f"{value:,}".replace(",", ".")


# --- csv / txt -----------------------------------------------------------------------------------


def _read_text(
    path: Path, size: int, aliases: AliasMap, warnings: list[str]
) -> tuple[_Grid, tuple[int, dict[int, str]], bytes]:
    if size > MAX_TEXT_BYTES:
        raise ExportError(
            f"El archivo es demasiado grande ({_thousands(size)} bytes; máximo "
            f"{_thousands(MAX_TEXT_BYTES)}).",
            file=path,
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _os_error(path, exc) from exc
    text = _decode(raw, path, warnings)
    delimiter: str | None = None
    first_row = 1
    first_line, _, rest = text.partition("\n")
    hint = re.fullmatch(r"\s*sep=(.)\s*", first_line, flags=re.IGNORECASE)
    if hint:  # Excel's "sep=;" first line: not a row Excel shows
        delimiter, text = hint.group(1), rest
    if delimiter is None:
        delimiter = _sniff_delimiter(text, aliases)
    if csv.field_size_limit() < MAX_TEXT_BYTES:
        csv.field_size_limit(MAX_TEXT_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(itertools.islice(reader, MAX_ROWS + 1))
    except csv.Error as exc:
        raise ExportError(
            f"El archivo CSV está mal formado cerca de la línea {reader.line_num} ({exc}).",
            file=path,
        ) from exc
    if len(rows) > MAX_ROWS:
        raise ExportError(
            f"El archivo tiene más de {_thousands(MAX_ROWS)} filas, el máximo de Excel.",
            file=path,
        )
    widest = max(map(len, rows), default=0)
    if widest > MAX_COLUMNS:
        number = next(i for i, record in enumerate(rows) if len(record) == widest) + first_row
        raise ExportError(
            f"La fila {number} tiene {_thousands(widest)} columnas; el máximo de Excel es "
            f"{_thousands(MAX_COLUMNS)}.",
            file=path,
        )
    if not any(not _row_is_blank(row) for row in rows):
        raise ExportError("El archivo de exportación no tiene datos.", file=path)
    grid = _Grid(rows, first_row)
    header = _find_header(grid.rows, aliases)
    if header is None:
        raise _no_header_error(path, None)
    return grid, header, raw


def _decode(raw: bytes, path: Path, warnings: list[str]) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ExportError(
                "El archivo dice estar en UTF-16 pero su contenido no es válido.", file=path
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    warnings.append(
        "El archivo no está en UTF-8; se leyó como Latin-1 (Windows-1252). Revise que las "
        "tildes y las eñes se vean bien; si no, expórtelo de nuevo como «CSV UTF-8»."
    )
    return text


def _sniff_delimiter(text: str, aliases: AliasMap) -> str:
    """The delimiter whose parse of the first rows gives the best header."""
    for sample in (text[:_SNIFF_CHARS], text) if len(text) > _SNIFF_CHARS else (text,):
        best: tuple[int, int] = (0, 0)
        chosen = None
        for delimiter in _DELIMITERS:
            reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
            try:
                head = list(itertools.islice(reader, HEADER_SCAN_ROWS))
            except csv.Error:
                continue
            found = _find_header(head, aliases)
            if found is None:
                continue
            score = (len(found[1]), -found[0])
            if chosen is None or score > best:
                best, chosen = score, delimiter
        if chosen is not None:
            return chosen
    lines = [line for line in text[:_SNIFF_CHARS].splitlines()[:HEADER_SCAN_ROWS] if line.strip()]
    first = lines[0] if lines else ""
    return max(_DELIMITERS, key=first.count)


# --- xlsx ----------------------------------------------------------------------------------------


def _read_workbook(path: Path, aliases: AliasMap) -> tuple[str, _Grid, tuple[int, dict[int, str]]]:
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
            return _load_sheets(path, archive, raw, members, aliases)
    except OSError as exc:
        raise _os_error(path, exc) from exc


def _load_sheets(
    path: Path,
    archive: zipfile.ZipFile,
    raw: BinaryIO,
    members: dict[str, zipfile.ZipInfo],
    aliases: AliasMap,
) -> tuple[str, _Grid, tuple[int, dict[int, str]]]:
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
        empty: ExportError | None = None  # the first problem of each kind, to report
        headless: ExportError | None = None
        for meta in candidates:
            info = members.get(meta.name)
            if info is None:
                raise ExportError(
                    "El libro está dañado: no se encontró el contenido de la hoja.",
                    file=path,
                    sheet=meta.name,
                )
            _check_sheet_extent(path, archive, raw, info, meta.name)
            try:
                sheet = book.get_sheet_by_name(meta.name)
                start = sheet.start
                rows = sheet.to_python()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
                    raise
                raise _calamine_error(path, meta.name, exc) from exc
            if not rows or all(_row_is_blank(row) for row in rows):
                empty = empty or ExportError("La hoja no tiene datos.", file=path, sheet=meta.name)
                continue
            grid = _Grid(rows, (start[0] if start else 0) + 1, start[1] if start else 0)
            header = _find_header(grid.rows, aliases)
            if header is None:
                headless = headless or _no_header_error(path, meta.name)
                continue
            return meta.name, grid, header
        raise headless or empty or ExportError("El libro no tiene datos.", file=path)
    finally:
        book.close()


def _corrupt_error(path: Path) -> ExportError:
    return ExportError(
        "El libro de Excel está dañado o incompleto y no se puede abrir (¿se descargó o copió "
        "a medias?). Expórtelo de nuevo desde Power BI.",
        file=path,
    )


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


def _check_zip_directory(archive: zipfile.ZipFile, path: Path) -> None:
    """Refuse zip bombs from the directory alone (nothing is extracted)."""
    infos = archive.infolist()
    total = 0
    for info in infos:
        total += info.file_size
        if info.flag_bits & 0x1:
            raise ExportError(
                "El libro está protegido con contraseña o cifrado; quítele la contraseña en "
                "Excel y guárdelo de nuevo como .xlsx.",
                file=path,
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_COMPRESSION_RATIO and info.file_size > RATIO_CHECK_MIN_BYTES:
            raise ExportError(
                f"El archivo es sospechoso y no se abrió: la parte «{info.filename}» se "
                f"descomprime {int(ratio)} veces su tamaño ({_thousands(info.file_size)} bytes), "
                "como una «bomba zip».",
                file=path,
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ExportError(
            f"El archivo es sospechoso o demasiado grande y no se abrió: descomprimido ocupa "
            f"{_thousands(total)} bytes (máximo {_thousands(MAX_UNCOMPRESSED_BYTES)}).",
            file=path,
        )


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


def _iter_member(raw: BinaryIO, info: zipfile.ZipInfo, path: Path) -> Iterator[bytes]:
    """Decompressed chunks of a member, counting the real size (a lying directory is refused)."""
    raw.seek(info.header_offset)
    head = raw.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise _corrupt_error(path)
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    raw.seek(info.header_offset + 30 + name_len + extra_len)
    remaining = info.compress_size
    produced = 0
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise _corrupt_error(path)
        while remaining > 0:
            block = raw.read(min(_CHUNK, remaining))
            if not block:
                raise _corrupt_error(path)
            remaining -= len(block)
            yield block
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise ExportError(
            f"El libro usa una compresión no soportada en la parte «{info.filename}».",
            file=path,
        )
    inflater = zlib.decompressobj(-15)
    pending = b""
    try:
        while not inflater.eof:
            if not pending:
                if remaining <= 0:
                    raise _corrupt_error(path)
                pending = raw.read(min(_READ, remaining))
                if not pending:
                    raise _corrupt_error(path)
                remaining -= len(pending)
            block = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            if block:
                produced += len(block)
                if produced > info.file_size or produced > MAX_UNCOMPRESSED_BYTES:
                    raise ExportError(
                        f"El archivo es sospechoso y no se abrió: la parte «{info.filename}» "
                        "se descomprime más de lo que declara (posible «bomba zip»).",
                        file=path,
                    )
                yield block
    except zlib.error as exc:
        raise _corrupt_error(path) from exc


def _check_honest_members(
    archive: zipfile.ZipFile, raw: BinaryIO, path: Path, sheets: Iterator[zipfile.ZipInfo]
) -> None:
    """Inflate every member (but sheets, checked when loaded) that could exceed its size."""
    skip = {info.filename for info in sheets}
    for info in archive.infolist():
        if info.filename in skip:
            continue
        if info.compress_size * _DEFLATE_MAX_RATIO <= _SMALL_MEMBER:
            continue
        for _ in _iter_member(raw, info, path):
            pass


# Sheet extent. calamine places a cell at its "r" reference when it has one, else after the
# previous cell of the row (rows likewise), matching elements by local name; only cells with a
# value count, so self-closing <c .../> (formatted blanks) only move the cursor.
# One pass finds a cell without a leading r="..." (group 1: the fast scan cannot place it) or a
# reference in column AA or beyond or in row 1,000,000 or beyond (groups 2, 3; 4 is "/" when
# the cell is self-closing).
_CELL_SCAN = re.compile(
    rb'<c(?:([>\t\r\n/]| (?!r="))| r="([A-Za-z]{2,}|[A-Za-z](?=\d{7}))(\d+)"[^>]*?(/?)>)'
)
_PREFIXED_CELL = re.compile(rb":(?:c|row)[\s>/]")
_CELL_ROW = re.compile(rb'<c r="[A-Za-z]+(\d+)"[^>]*(?<!/)>')
_TAG = re.compile(rb"<(/?)(?:[^\s<>/:]+:)?(row|c)(?=[\s/>])([^<>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"\$?([A-Za-z]*)\$?(\d*)")


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + (char - 64)
    return number


def _read_ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Produce the next chunk in a worker thread (zlib releases the GIL) while this one is used."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="swat-unzip") as pool:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk


def _split_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Re-cut chunks before their last '<' so no tag straddles two pieces."""
    parts: list[bytes] = []
    try:
        for chunk in chunks:
            cut = chunk.rfind(b"<")
            if cut < 0:  # the pending tag or text goes on
                parts.append(chunk)
                continue
            parts.append(chunk[:cut])
            piece = b"".join(parts)
            if piece:
                yield piece
            parts = [chunk[cut:]]
        piece = b"".join(parts)
        if piece:
            yield piece
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # stop the read-ahead thread now when the scan ends early


def _scan_regular(pieces: Iterator[bytes]) -> tuple[int, int] | None:
    """Largest far row/column when every cell has a leading r="..." (None if one has not).

    Only references in column AA or beyond, or row 1,000,000 or beyond, are looked at: others
    cannot break a limit on their own.
    """
    max_row = max_col = 0
    for piece in pieces:
        if _PREFIXED_CELL.search(piece):
            return None
        for match in _CELL_SCAN.finditer(piece):
            if match.group(1) is not None:
                return None
            if match.group(4):
                continue
            max_col = max(max_col, _column_number(match.group(2)))
            max_row = max(max_row, int(match.group(3)))
    return max_row, max_col


def _scan_max_row(pieces: Iterator[bytes]) -> int:
    """Largest row of a cell when every cell has a leading r="..."."""
    max_row = 0
    for piece in pieces:
        rows = set(_CELL_ROW.findall(piece))
        if rows:
            max_row = max(max_row, *map(int, rows))
    return max_row


def _scan_exact(pieces: Iterator[bytes]) -> tuple[int, int]:
    """Largest row and column (1-based) a cell can take, following calamine's placement."""
    row = col = 0  # 0-based cursor
    max_row = max_col = 0
    for piece in pieces:
        for match in _TAG.finditer(piece):
            closing, name, attrs = match.groups()
            empty = attrs.endswith(b"/")
            if name == b"row":
                if closing:
                    row, col = row + 1, 0
                    continue
                ref = _R_ATTR.search(attrs)
                if ref:
                    digits = _REF.match(ref.group(1) or ref.group(2) or b"").group(2)
                    if digits:
                        row = max(int(digits) - 1, 0)
                if empty:
                    row, col = row + 1, 0
                continue
            if closing:
                continue
            here_row, here_col = row, col
            ref = _R_ATTR.search(attrs)
            if ref:
                parts = _REF.match(ref.group(1) or ref.group(2) or b"")
                if parts.group(1):
                    here_col = _column_number(parts.group(1)) - 1
                if parts.group(2):
                    here_row = int(parts.group(2)) - 1
            col = here_col + 1
            if not empty:
                max_row = max(max_row, here_row + 1, row + 1)
                max_col = max(max_col, here_col + 1)
    return max_row, max_col


def _check_sheet_extent(
    path: Path, archive: zipfile.ZipFile, raw: BinaryIO, info: zipfile.ZipInfo, sheet: str
) -> None:
    """Refuse a sheet whose used range is beyond Excel's limits or too big to allocate."""

    def scan(measure: Callable[[Iterator[bytes]], Any]) -> Any:
        pieces = _split_chunks(_read_ahead(_iter_member(raw, info, path)))
        try:
            return measure(pieces)
        finally:
            pieces.close()

    far = scan(_scan_regular)
    if far is None:
        rows, cols = scan(_scan_exact)
    else:
        rows, cols = far  # exact when beyond a limit
        if rows <= MAX_ROWS and cols <= MAX_COLUMNS:
            cols = max(cols, 26)  # references before column AA were not looked at
            if cols * MAX_ROWS <= MAX_CELLS:
                return
            rows = scan(_scan_max_row)  # a wide sheet: measure its height
    if rows > MAX_ROWS:
        raise ExportError(
            f"La hoja llega hasta la fila {_thousands(rows)}; Excel admite como máximo "
            f"{_thousands(MAX_ROWS)} filas. El archivo está dañado o no es una exportación.",
            file=path,
            sheet=sheet,
        )
    if cols > MAX_COLUMNS:
        raise ExportError(
            f"La hoja llega hasta la columna {_thousands(cols)}; Excel admite como máximo "
            f"{_thousands(MAX_COLUMNS)} columnas. El archivo está dañado o no es una exportación.",
            file=path,
            sheet=sheet,
        )
    if rows * cols > MAX_CELLS:
        raise ExportError(
            f"La hoja es demasiado grande para leerla: su rango ocupa {_thousands(rows)} filas "
            f"× {_thousands(cols)} columnas. Borre las celdas sobrantes o exporte menos datos.",
            file=path,
            sheet=sheet,
        )


# --- header, footer, rows ------------------------------------------------------------------------


def _row_is_blank(row: Sequence[Any]) -> bool:
    return all(_cell_is_blank(cell) for cell in row)


def _cell_is_blank(cell: Any) -> bool:
    if cell is None:
        return True
    kind = cell.__class__
    if kind is str:
        if not cell or cell.isspace():
            return True
        return not cell.isprintable() and not clean_text(cell)
    if kind is float:
        return cell != cell
    return False


def _first_filled(row: Sequence[Any]) -> Any:
    for cell in row:
        if not _cell_is_blank(cell):
            return cell
    return None


def _find_header(
    rows: Sequence[Sequence[Any]], aliases: AliasMap
) -> tuple[int, dict[int, str]] | None:
    """(index in rows, column -> field) of the row with the most recognised labels (>= 2)."""
    best: tuple[int, dict[int, str]] | None = None
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        labels = [
            cell if isinstance(cell, str) and 0 < len(cell) <= 200 and label_key(cell) else ""
            for cell in row
        ]
        found = {i: f for i, f in aliases.map_header(labels).items() if labels[i]}
        if len(found) >= 2 and (best is None or len(found) > len(best[1])):
            best = (index, found)
    return best


def _footer_kind(cell: Any, cache: dict[str, str | None]) -> str | None:
    """The kind of footer row ("total", "filters", "truncated") a row starting so is, or None."""
    if cell.__class__ is not str:
        return None
    head = cell.lstrip()[:1]
    if head not in _FOOTER_INITIALS:
        return None
    if cell in cache:
        return cache[cell]
    folded = fold(cell[:200])
    kind: str | None = None
    if folded.rstrip(" :.") == "total":
        kind = "total"
    elif folded.startswith(_FILTER_PREFIXES):
        kind = "filters"
    elif folded.startswith(_TRUNCATION_PREFIXES):
        kind = "truncated"
    if len(cache) < 10_000:
        cache[cell] = kind
    return kind


def _is_truncation_note(text: str) -> bool:
    folded = fold(text[:400])
    return any(mark in folded for mark in _TRUNCATION_MARKS)


def _row_text(row: Sequence[Any]) -> list[str]:
    parts = [_clean_text(cell) for cell in row if not _cell_is_blank(cell)]
    joined = " ".join(part for part in parts if part)
    return [line.strip() for line in joined.splitlines() if line.strip()]


def _no_header_error(path: Path, sheet: str | None) -> ExportError:
    return ExportError(
        f"No se encontró la fila de encabezados en las primeras {HEADER_SCAN_ROWS} filas: "
        "ninguna tiene al menos dos columnas reconocibles como «ALIADO», «ANI», «CUENTA» o "
        "«SEGMENTO». Revise que sea la exportación de detractores de Power BI.",
        file=path,
        sheet=sheet,
    )


def _check_required(
    found: dict[str, int], aliases: AliasMap, path: Path, sheet: str | None
) -> None:
    problems = []
    for name, what in _REQUIRED_LABELS.items():
        if name not in found:
            problems.append(
                f"Falta la columna {what}; se buscaron los encabezados {aliases.tried(name)}."
            )
    if not any(name in found for name in _ID_FIELDS):
        tried = ", ".join(aliases.tried(name) for name in _ID_FIELDS)
        problems.append(
            "Falta una columna de segmento, cuenta o custcode (se necesita al menos una); "
            f"se buscaron los encabezados {tried}."
        )
    if problems:
        raise ExportError(" ".join(problems), file=path, sheet=sheet)


def _tabulate(
    path: Path,
    sheet: str | None,
    grid: _Grid,
    header: tuple[int, dict[int, str]],
    aliases: AliasMap,
    warnings: list[str],
    digest: str,
) -> ExportTable:
    header_index, mapping = header
    rows = grid.rows
    header_cells = list(rows[header_index])
    labels = [_clean_text(cell) for cell in header_cells]
    field_column = {name: index for index, name in mapping.items()}
    _check_required(field_column, aliases, path, sheet)

    truncated = any(
        _is_truncation_note(line) for row in rows[:header_index] for line in _row_text(row)
    )

    # data rows up to the first footer row; blank rows skipped
    data: list[Any] = []
    source_rows: list[int] = []
    footer_lines: list[str] = []
    cache: dict[str, str | None] = {}
    first_row = grid.first_row
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 1):
        if row:  # shortcut: a first cell that is a number, a date or plain text
            first = row[0]
            kind = first.__class__
            if (
                (kind is float and first == first)
                or kind is dt.datetime
                or kind is int
                or (
                    kind is str
                    and first != ""
                    and first[0].isprintable()
                    and not first[0].isspace()
                    and first[0] not in _FOOTER_INITIALS
                )
            ):
                data.append(row)
                source_rows.append(first_row + offset)
                continue
        first = _first_filled(row)
        if first is None:
            continue
        if _footer_kind(first, cache) is not None:
            for footer_row in rows[offset:]:
                footer_lines.extend(_row_text(footer_row))
            break
        data.append(row)
        source_rows.append(first_row + offset)
    if any(_is_truncation_note(line) for line in footer_lines):
        truncated = True
    if truncated:
        warnings.append(_TRUNCATION_WARNING)

    count = len(data)
    width = max(len(header_cells), max((len(row) for row in data), default=0))
    if any(len(row) != width for row in data):
        data = [list(row) + [""] * (width - len(row)) for row in data]
    columns = [[row[index] for row in data] for index in range(width)]

    frame_data: dict[str, list[str]] = {}
    dates: list[tuple[int, str, pd.Series]] = []
    columns_found: dict[str, str] = {}
    for name in CANONICAL:
        kind = FIELD_BY_NAME[name].kind
        index = field_column.get(name)
        if index is not None:
            columns_found[name] = labels[index] if index < len(labels) else name
        values = columns[index] if index is not None else ()
        if kind == "datetime":
            series = _datetime_series(values, count, FIELD_BY_NAME[name].label, warnings)
            dates.append((CANONICAL.index(name), name, series))
        else:
            cleaned = _clean_column(values, kind) if index is not None else [""] * count
            frame_data[name] = cleaned

    extra_columns: list[str] = []
    used = set(CANONICAL)
    for index in range(width):
        if index in mapping:
            continue
        label = labels[index] if index < len(labels) else ""
        values = columns[index]
        cleaned = _clean_column(values, "text")
        if not label and not any(cleaned):
            continue
        duplicate_of = aliases.field_for(label) if label else None
        if duplicate_of and duplicate_of in field_column:
            taken = columns_found.get(duplicate_of, duplicate_of)
            warnings.append(
                f"La columna «{label}» también corresponde a «{FIELD_BY_NAME[duplicate_of].label}»;"
                f" se usó la columna «{taken}» y esta se conservó como columna adicional."
            )
        if not label:
            label = f"Columna {col_letter(grid.first_col + index)}"
        unique, suffix = label, 2
        while unique in used:
            unique, suffix = f"{label} ({suffix})", suffix + 1
        used.add(unique)
        extra_columns.append(unique)
        frame_data[unique] = cleaned

    if count == 0:
        warnings.append("La exportación no tiene filas de datos (solo el encabezado).")
    frame = pd.DataFrame(frame_data, index=pd.RangeIndex(count), dtype=object)
    for position, name, series in dates:
        frame.insert(position, name, series)
    return ExportTable(
        path=path,
        sheet=sheet,
        header_row=first_row + header_index,
        frame=frame,
        columns_found=columns_found,
        extra_columns=extra_columns,
        rows_read=count,
        footer_lines=footer_lines,
        warnings=warnings,
        sha256=digest,
        source_rows=source_rows,
    )


# --- value cleaning ------------------------------------------------------------------------------


def _map_unique(values: Sequence[Any], clean: Callable[[Any], Any]) -> list[Any]:
    """``[clean(v) for v in values]``, calling ``clean`` once per distinct value."""
    if bool in set(map(type, values)):  # True == 1 as dict keys: give booleans their text
        values = [_BOOL_TEXT[v] if v.__class__ is bool else v for v in values]
    table = {value: clean(value) for value in set(values)}
    return [table[value] for value in values]


def _special_text(value: Any) -> str | None:
    """Text of values clean_text would render poorly (dates, booleans, binary floats)."""
    if isinstance(value, dt.datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return _BOOL_TEXT[value]
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return format(value, ".15g")  # 0.1 + 0.2 -> "0.3", as Excel shows it
    return None


# The cleaners below give the results of swat_xl.core.text (tests check it) with shortcuts for
# the common cases: a plain printable string and a float holding an integer.


def _clean_text(value: Any) -> str:
    kind = value.__class__
    if kind is str and value.isprintable():
        return value.strip()
    if kind is float:
        if value.is_integer():
            return str(int(value))
        if math.isfinite(value):
            return format(value, ".15g")
    special = _special_text(value)
    return special if special is not None else clean_text(value)


def _clean_code(value: Any) -> str:
    kind = value.__class__
    if kind is float and value.is_integer():
        return str(int(value))
    if kind is str and value.isprintable():
        text = value.strip()
        if "." not in text or not text.endswith("0"):  # cannot be "123.0"
            return text
    if isinstance(value, dt.date | dt.time | bool):
        return _clean_text(value)
    return clean_code(value)


def _clean_phone(value: Any) -> str:
    if isinstance(value, dt.date | dt.time | bool):
        return _clean_text(value)
    code = _clean_code(value)
    if not (code.isascii() and code.isdigit()):
        return clean_phone(value)
    if len(code) == 12 and code.startswith("57"):
        return code[2:]
    if len(code) == 13 and code.startswith("057"):
        return code[3:]
    return code


_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d+)$")


def _clean_number(value: Any) -> str:
    special = _special_text(value)
    text = special if special is not None else _clean_code(value)
    match = _DECIMAL_COMMA.match(text)
    if match:  # "3,0" / "8,5" from a Spanish-locale csv
        decimals = match.group(2).rstrip("0")
        return f"{match.group(1)}.{decimals}" if decimals else match.group(1)
    return text


_CLEANERS: dict[str, Callable[[Any], str]] = {
    "text": _clean_text,
    "code": _clean_code,
    "phone": _clean_phone,
    "number": _clean_number,
}
_FLOAT_TEXT = re.compile(r"^-?\d+\.0+$", re.MULTILINE)
_COMMA_TEXT = re.compile(r"^-?\d+,\d+$", re.MULTILINE)
_NOT_DIGIT = re.compile(r"[^\d\n]")


def _clean_column(values: Sequence[Any], kind: str) -> list[str]:
    """``[_CLEANERS[kind](v) for v in values]``, fast for plain strings and integral floats."""
    clean = _CLEANERS[kind]
    try:  # a column of printable str (most csv columns): strip is all clean_text does
        printable: bool | None = all(map(str.isprintable, values))
    except TypeError:  # not all str
        printable = None
    if printable:
        out = list(map(str.strip, values))
    elif printable is False and set(map(type, values)) == {str}:
        return _map_unique(values, clean)  # line breaks or control characters: once per value
    else:
        fallback = {"number": _clean_number, "text": _clean_text}.get(kind, _clean_code)
        out = [
            value.strip()
            if value.__class__ is str and value.isprintable()
            else str(int(value))
            if value.__class__ is float and value.is_integer()
            else fallback(value)
            for value in values
        ]
    if kind == "text":
        return out
    joined = "\n".join(out)
    if _FLOAT_TEXT.search(joined) or (kind == "number" and _COMMA_TEXT.search(joined)):
        return _map_unique(values, clean)  # "123.0" or "8,5" text: the careful way
    if kind != "phone":
        return out
    digits = _NOT_DIGIT.sub("", joined).split("\n")
    dated = any(issubclass(k, dt.date | dt.time | bool) for k in set(map(type, values)))
    if dated or len(digits) != len(out):  # a date, a boolean or a value with a line break
        return _map_unique(values, clean)
    return [  # clean_phone of each code
        ""
        if not code
        else code
        if not number
        else number[2:]
        if len(number) == 12 and number.startswith("57")
        else number[3:]
        if len(number) == 13 and number.startswith("057")
        else number
        for code, number in zip(out, digits, strict=True)
    ]


_TIME_PART = (
    r"(?:(?:t|\s+|\s*,\s*)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?"
    r"\s*(?:([ap])\.?\s?m\.?)?\s*(?:z|[+-]\d{2}:?\d{2})?)?"
)
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})" + _TIME_PART)
_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})" + _TIME_PART)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def _parse_date_text(text: str) -> dt.datetime | None:
    """Day-first dates: ``dd/mm/yyyy[ hh:mm[:ss]][ a. m.]``, ``yyyy-mm-dd[Thh:mm:ss]``."""
    folded = " ".join(text.lower().split())
    if not folded:
        return None
    match = _YMD.fullmatch(folded)
    if match:
        year, month, day = (int(g) for g in match.group(1, 2, 3))
    else:
        match = _DMY.fullmatch(folded)
        if not match:
            return None
        day, month, year = (int(g) for g in match.group(1, 2, 3))
        if len(match.group(3)) == 2:
            year += 2000 if year < 70 else 1900
    hour = int(match.group(4) or 0)
    minute = int(match.group(5) or 0)
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "0").ljust(6, "0"))
    meridiem = match.group(8)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    try:
        return dt.datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None


def _to_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        return _parse_date_text(clean_text(value))
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and 1 <= value < 2_958_466:  # an Excel serial date (1900 .. 9999)
        return _EXCEL_EPOCH + dt.timedelta(days=float(value))
    return None


def _datetime_series(
    values: Sequence[Any], count: int, label: str, warnings: list[str]
) -> pd.Series:
    if not values:
        return pd.Series([pd.NaT] * count, dtype="datetime64[us]")
    if set(map(type, values)) == {str}:  # csv: text dates, parsed by column
        texts = _clean_column(values, "text")
        series = _parse_text_dates(texts)
        failed = [t for t, missing in zip(texts, series.isna(), strict=True) if missing and t]
    else:  # xlsx: datetime (date at midnight) cells, "" when empty, maybe text or numbers
        parsed = [
            value
            if value.__class__ is dt.datetime and value.tzinfo is None
            else None
            if value == ""
            else _to_datetime(value)
            for value in values
        ]
        series = pd.Series(parsed, dtype="datetime64[us]")
        failed = [
            _clean_text(v)
            for v, p in zip(values, parsed, strict=True)
            if p is None and not _cell_is_blank(v)
        ]
    if failed:
        warnings.append(
            f"{_thousands(len(failed))} valor(es) de «{label}» no se reconocieron como fecha "
            f"(por ejemplo «{failed[0][:40]}») y quedaron vacíos; se esperaba dd/mm/aaaa hh:mm."
        )
    return series


# Exact formats parsed by pandas in C before the per-value parser handles what is left.
_DATE_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def _parse_text_dates(texts: list[str]) -> pd.Series:
    """Day-first text dates of a column (cleaned text, "" when empty) as ``datetime64[us]``."""
    source = pd.Series(texts, dtype=object)
    result = pd.Series(pd.NaT, index=source.index, dtype="datetime64[us]")
    pending = source != ""
    for date_format in _DATE_FORMATS:
        if not pending.any():
            break
        parsed = pd.to_datetime(source[pending], format=date_format, errors="coerce")
        done = parsed.index[parsed.notna()]
        if len(done):
            result[done] = parsed[done].astype("datetime64[us]")
            pending[done] = False
    for index in pending.index[pending]:
        value = _parse_date_text(texts[index])
        if value is not None:
            result[index] = value
    return result
