"""Small tables supplied by users (a roster in csv or xlsx) read as rows of Python values."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from swat_xl.errors import InputError


def read_rows(path: str | Path) -> list[list[Any]]:
    path = Path(path)
    if not path.exists():
        raise InputError("No se encontró el archivo", file=path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            book = CalamineWorkbook.from_path(str(path))
            return book.get_sheet_by_index(0).to_python(skip_empty_area=True)
        except (CalamineError, ValueError, OSError) as exc:
            raise InputError(f"No se pudo leer el libro ({exc})", file=path) from exc
    if suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp1252"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        first = text.splitlines()[0] if text else ""
        delimiter = ";" if first.count(";") >= first.count(",") else ","
        return [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    raise InputError("Formato no admitido; use .xlsx o .csv", file=path)
