"""Reading a csv / txt export: size limit, encoding, delimiter (Excel's ``sep=`` line or the
one whose parse gives the best header), then the rows as text."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from pathlib import Path

from swat_xl.adapters.export_reader import _guards as guards
from swat_xl.adapters.export_reader._guards import _os_error, _thousands
from swat_xl.adapters.export_reader._table import (
    HEADER_SCAN_ROWS,
    _find_header,
    _Grid,
    _no_header_error,
    _row_is_blank,
)
from swat_xl.core.fields import AliasMap
from swat_xl.errors import ExportError

_SNIFF_CHARS = 2_000_000
_DELIMITERS = (",", ";", "\t", "|")


def _read_text(
    path: Path, size: int, aliases: AliasMap, warnings: list[str]
) -> tuple[_Grid, tuple[int, dict[int, str]], bytes]:
    if size > guards.MAX_TEXT_BYTES:
        raise ExportError(
            f"El archivo es demasiado grande ({_thousands(size)} bytes; máximo "
            f"{_thousands(guards.MAX_TEXT_BYTES)}).",
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
    if csv.field_size_limit() < guards.MAX_TEXT_BYTES:
        csv.field_size_limit(guards.MAX_TEXT_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = list(itertools.islice(reader, guards.MAX_ROWS + 1))
    except csv.Error as exc:
        raise ExportError(
            f"El archivo CSV está mal formado cerca de la línea {reader.line_num} ({exc}).",
            file=path,
        ) from exc
    if len(rows) > guards.MAX_ROWS:
        raise ExportError(
            f"El archivo tiene más de {_thousands(guards.MAX_ROWS)} filas, el máximo de Excel.",
            file=path,
        )
    widest = max(map(len, rows), default=0)
    if widest > guards.MAX_COLUMNS:
        number = next(i for i, record in enumerate(rows) if len(record) == widest) + first_row
        raise ExportError(
            f"La fila {number} tiene {_thousands(widest)} columnas; el máximo de Excel es "
            f"{_thousands(guards.MAX_COLUMNS)}.",
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
