"""The master workbook as a file: read with python-calamine, written with XlsxWriter.

Writing renders a whole :class:`~swat_xl.workbook.spec.WorkbookSpec` into a temporary file in
the same folder, fsyncs it, keeps a timestamped backup of the previous workbook and atomically
replaces it. Text is always written as text (never as a formula, number or link).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import glob
import hashlib
import heapq
import io
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineError, CalamineWorkbook

from swat_xl.adapters import xlsx_rows
from swat_xl.adapters.packages import SheetPart, sheet_parts
from swat_xl.errors import WorkbookError, WorkbookOpenError
from swat_xl.workbook.spec import STYLE_LOOKS, Cell, Chart, Sheet, Table, WorkbookSpec

_MAX_TEXT = 32767
TMP_PREFIX = ".swat-tmp-"  # every temporary file beside the workbook starts with this
_PROCESS_START = time.time()
STREAM_TABLES = True  # False: every cell through XlsxWriter (tests compare both ways)
BACKUP_DIR = "swat_copias"

_XLSXWRITER_KEYS = {"fill": "bg_color", "wrap": "text_wrap"}


def _xlsxwriter_props(look: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, value in look.items():
        if key == "vcenter":
            props["valign"] = "vcenter"
        elif key == "border":
            props["border"] = 1
        else:
            props[_XLSXWRITER_KEYS.get(key, key)] = value
    return props


_STYLE_PROPS: dict[str, dict[str, Any]] = {
    name: _xlsxwriter_props(look) for name, look in STYLE_LOOKS.items()
}
_KIND_STYLE = {
    "datetime": "datetime",
    "date": "date",
    "pct": "pct",
    "int": "int",
    "number": "number",
}


class FileWorkbook:
    """One master workbook file on disk."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._book: CalamineWorkbook | None = None
        self._sheets: dict[str, Any] = {}  # parsed once: header() and rows() share it

    # -- checks -------------------------------------------------------------------------------
    @property
    def owner_file(self) -> Path:
        """Excel's lock file (``~$name.xlsx``) present while the workbook is open."""
        return self.path.with_name("~$" + self.path.name[2:] if len(self.path.name) > 2 else "~$")

    def is_open_in_excel(self) -> bool:
        candidates = {self.path.with_name("~$" + self.path.name), self.owner_file}
        return any(c.exists() for c in candidates)

    def ensure_closed(self) -> None:
        if self.is_open_in_excel():
            raise WorkbookOpenError(
                "El libro está abierto en Excel; ciérrelo (o use la cinta SWAT dentro de Excel) "
                "y vuelva a intentarlo",
                file=self.path,
            )

    # -- reading ------------------------------------------------------------------------------
    def _open(self) -> CalamineWorkbook:
        if self._book is None:
            if not self.path.exists():
                raise WorkbookError("No se encontró el libro maestro", file=self.path)
            try:
                self._book = CalamineWorkbook.from_path(str(self.path))
            except (CalamineError, OSError, ValueError) as exc:
                raise WorkbookError(
                    f"No se pudo leer el libro maestro ({exc})", file=self.path
                ) from exc
        return self._book

    def sheet_names(self) -> list[str]:
        return list(self._open().sheet_names)

    def _sheet(self, name: str) -> Any:
        if name not in self._sheets:
            self._sheets[name] = self._open().get_sheet_by_name(name)
        return self._sheets[name]

    def rows(self, sheet: str) -> list[list[Any]]:
        """All rows of a sheet as Python values ("" for empty cells)."""
        try:
            return self._sheet(sheet).to_python(skip_empty_area=False)
        except (CalamineError, ValueError, KeyError) as exc:
            raise WorkbookError(
                f"No se pudo leer la hoja ({exc})", file=self.path, sheet=sheet
            ) from exc

    def header(self, sheet: str) -> list[Any]:
        try:
            data = self._sheet(sheet).to_python(skip_empty_area=False, nrows=1)
        except (CalamineError, ValueError, KeyError):
            return []
        return data[0] if data else []

    def fingerprint(self) -> str | None:
        """SHA-256 of the file as it is on disk now (None when there is no file)."""
        try:
            with self.path.open("rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise WorkbookError(
                f"No se pudo leer el libro maestro ({exc.strerror or exc})", file=self.path
            ) from exc

    def user_sheet(self, name: str) -> Sheet:
        """A sheet the tool does not own, as cells (values and formulas) to carry over."""
        import openpyxl  # read-only, only when the workbook has such sheets

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many types on broken files
            raise WorkbookError(
                f"No se pudo leer la hoja «{name}» ({exc})", file=self.path
            ) from exc
        try:
            ws = book[name]
            cells: list[Cell] = []
            for row in ws.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if value is None or not hasattr(cell, "row"):
                        continue
                    r, c = cell.row - 1, cell.column - 1
                    if isinstance(value, str) and value.startswith("=") and cell.data_type == "f":
                        cells.append(Cell(r, c, None, formula=value))
                    else:
                        cells.append(
                            Cell(r, c, value, kind="text" if isinstance(value, str) else None)
                        )
            return Sheet(name, cells=cells, role="user")
        finally:
            book.close()

    def close(self) -> None:
        self._sheets.clear()
        if self._book is not None:
            with contextlib.suppress(Exception):  # calamine's close is best effort
                self._book.close()
            self._book = None

    def part(self, name: str) -> bytes | None:
        """One raw part of the file's zip package (e.g. ``xl/vbaProject.bin``), if present."""
        try:
            with zipfile.ZipFile(self.path) as package:
                return package.read(name) if name in package.namelist() else None
        except (OSError, zipfile.BadZipFile):
            return None

    def reusable_sheets(self) -> set[str]:
        """Sheets a rewrite can copy from this file as they are (see ``Sheet.reused``)."""
        try:
            with zipfile.ZipFile(self.path) as package:
                parts = sheet_parts(package)
        except (OSError, zipfile.BadZipFile):
            return set()
        return {name for name, part in parts.items() if not part.has_rels}

    # -- writing ------------------------------------------------------------------------------
    def prepare(
        self,
        spec: WorkbookSpec,
        *,
        vba_project: bytes | None = None,
        postprocess: Callable[[Path], None] | None = None,
    ) -> Path:
        """Render ``spec`` into a fsynced temporary file beside the workbook (nothing replaced)."""
        self.close()
        folder = self.path.parent
        if not folder.exists():
            raise WorkbookError("La carpeta del libro no existe", file=self.path)
        self.remove_stale_temporaries()
        tmp = folder / f"{TMP_PREFIX}{self.path.stem}.{uuid.uuid4().hex}{self.path.suffix}"
        try:
            previous = self.path if any(sheet.reused for sheet in spec.sheets) else None
            render(spec, tmp, vba_project=vba_project, previous=previous)
            if postprocess is not None:
                postprocess(tmp)
            _fsync(tmp)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise WorkbookError(
                f"No se pudo escribir el libro ({exc.strerror or exc})", file=self.path
            ) from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def remove_stale_temporaries(self, older_than: float | None = None) -> list[Path]:
        """Delete what an interrupted rewrite of this workbook left beside it.

        Only this workbook's temporaries (``.swat-tmp-<name>.*``, beside it and in the backup
        folder) older than ``older_than`` (default: the start of this process) are removed:
        callers hold the workbook's lock, so no other operation is writing them. Returns the
        removed paths."""
        limit = _PROCESS_START if older_than is None else older_than
        removed = []
        pattern = glob.escape(f"{TMP_PREFIX}{self.path.stem}.") + "*"
        folders = (self.path.parent, self.path.parent / BACKUP_DIR)
        for path in (p for folder in folders for p in folder.glob(pattern)):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed.append(path)
            except OSError:  # gone meanwhile, or not ours to delete: harmless
                continue
        return removed

    def replace_with(
        self, tmp: Path, *, backups_to_keep: int = 10, now: dt.datetime | None = None
    ) -> Path | None:
        """Keep a timestamped backup of the current workbook, then atomically move ``tmp`` in."""
        self.close()
        try:
            backup = self._backup(backups_to_keep, now or dt.datetime.now())
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            return backup
        except OSError as exc:
            raise WorkbookError(
                f"No se pudo reemplazar el libro ({exc.strerror or exc}); "
                f"la versión nueva quedó en «{tmp.name}»",
                file=self.path,
            ) from exc

    def save(
        self,
        spec: WorkbookSpec,
        *,
        vba_project: bytes | None = None,
        postprocess: Callable[[Path], None] | None = None,
        backups_to_keep: int = 10,
        now: dt.datetime | None = None,
    ) -> Path | None:
        """Render ``spec`` and atomically replace the workbook; returns the backup path."""
        tmp = self.prepare(spec, vba_project=vba_project, postprocess=postprocess)
        try:
            return self.replace_with(tmp, backups_to_keep=backups_to_keep, now=now)
        finally:
            tmp.unlink(missing_ok=True)

    def _backup(self, keep: int, now: dt.datetime) -> Path | None:
        if not self.path.exists() or keep <= 0:
            return None
        folder = self.path.parent / BACKUP_DIR
        folder.mkdir(exist_ok=True)
        stamp = now.strftime("%Y%m%d-%H%M%S")
        target = folder / f"{self.path.stem}-{stamp}{self.path.suffix}"
        n = 1
        while target.exists():
            target = folder / f"{self.path.stem}-{stamp}-{n}{self.path.suffix}"
            n += 1
        # Copied under a temporary name first: an interrupted copy is never taken for a backup.
        partial = folder / f"{TMP_PREFIX}{self.path.stem}.{uuid.uuid4().hex}{self.path.suffix}"
        try:
            shutil.copy2(self.path, partial)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        copies = sorted(folder.glob(f"{self.path.stem}-*{self.path.suffix}"))
        for old in copies[:-keep]:
            old.unlink(missing_ok=True)
        return target


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- rendering ----------------------------------------------------------------------------------
class _Formats:
    """The workbook's cell formats, one per (style, kind, editable).

    Every possible format is registered up front, in a fixed order, so the style indexes of
    ``styles.xml`` depend on this code only, never on what the sheets hold: a sheet part
    written by one render is valid in the package of another (see ``Sheet.reused``)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[str | None, str | None, bool], Any] = {}
        for style in (None, *STYLE_LOOKS):
            for kind in (None, *_KIND_STYLE):
                for unlocked in (False, True):
                    fmt = self.get(style, kind, unlocked)
                    if fmt is not None:
                        fmt._get_xf_index()
        default_date = getattr(book, "default_date_format", None)
        if default_date is not None:  # used by XlsxWriter for a date written without format
            default_date._get_xf_index()
        for style in STYLE_LOOKS:  # conditional formats (their own index: dxf)
            self.get(style)._get_dxf_index()

    def get(self, style: str | None, kind: str | None = None, unlocked: bool = False) -> Any:
        key = (style, kind, unlocked)
        if key not in self.cache:
            props: dict[str, Any] = {}
            if kind in _KIND_STYLE:
                props.update(_STYLE_PROPS[_KIND_STYLE[kind]])
            if style:
                props.update(_STYLE_PROPS.get(style, {}))
            if unlocked:
                props["locked"] = False
                props.setdefault("bg_color", "#FFF9E6")
                props["border"] = 1
                props["border_color"] = "#D9D9D9"
            self.cache[key] = self.book.add_format(props) if props else None
        return self.cache[key]


def render(
    spec: WorkbookSpec,
    target: Path,
    *,
    vba_project: bytes | None = None,
    previous: Path | None = None,
) -> None:
    """Write ``spec`` into ``target``; sheets marked ``reused`` are copied from ``previous``."""
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
        "default_date_format": "dd/mm/yyyy hh:mm",
        "remove_timezone": True,
    }
    # XlsxWriter writes everything but the tables' data rows into ``base``; the rows are then
    # streamed into a copy of it (see xlsx_rows). Both files start with ``.swat-tmp-`` when
    # ``target`` does, so an interrupted run leaves nothing the next one does not clean.
    base = target.with_name(target.name + ".xw")
    try:
        _render(spec, target, base, options, vba_project, previous)
    finally:
        base.unlink(missing_ok=True)


def _render(
    spec: WorkbookSpec,
    target: Path,
    base: Path,
    options: dict[str, Any],
    vba_project: bytes | None,
    previous: Path | None,
) -> None:
    old_parts = _previous_parts(spec, previous)
    book = xlsxwriter.Workbook(str(base), options)
    book.set_properties(
        {"title": "SWAT Detractores", "author": "swat_xl", "created": dt.datetime(2021, 12, 7)}
    )
    book.set_calc_mode("auto")
    if vba_project is not None:
        book.add_vba_project(io.BytesIO(vba_project), is_stream=True)
    formats = _Formats(book)
    blocks: list[xlsx_rows.Block] = []
    reused: dict[str, str] = {}  # part in the new package -> part of the same sheet in previous
    for sheet in spec.sheets:
        if sheet.reused:
            reused[_draw_placeholder(book, old_parts[sheet.name])] = old_parts[sheet.name].part
        else:
            blocks.extend(_draw_sheet(book, formats, sheet))
    for name, ref in spec.names.items():
        book.define_name(name, ref)
    if spec.active:
        active = book.get_worksheet_by_name(spec.active)
        if active is not None:
            active.activate()
    try:
        book.close()
    except Exception as exc:  # XlsxWriter raises its own exception types
        raise WorkbookError(f"No se pudo escribir el libro ({exc})", file=target) from exc
    if blocks or reused:
        xlsx_rows.splice(base, target, blocks, reused=reused, previous=previous)
    else:
        os.replace(base, target)


def _previous_parts(spec: WorkbookSpec, previous: Path | None) -> dict[str, SheetPart]:
    """The parts of ``previous`` holding the sheets ``spec`` reuses (each must be there)."""
    wanted = [sheet.name for sheet in spec.sheets if sheet.reused]
    if not wanted:
        return {}
    if previous is None:
        raise ValueError("reused sheets need the previous workbook")
    with zipfile.ZipFile(previous) as package:
        parts = sheet_parts(package)
    missing = [name for name in wanted if name not in parts or parts[name].has_rels]
    if missing:
        raise ValueError(f"sheets that cannot be reused from {previous.name}: {missing}")
    return parts


def _draw_placeholder(book: xlsxwriter.Workbook, old: SheetPart) -> str:
    """An empty worksheet standing for a reused one: it gives the workbook part the sheet's
    name, visibility and filter range; its own part is then replaced by the old one."""
    ws = book.add_worksheet(old.name)
    if old.filter_ref:
        ws.autofilter(old.filter_ref)
    if old.hidden:
        ws.hide()
    return f"xl/worksheets/sheet{len(book.worksheets())}.xml"


def _streamed_tables(sheet: Sheet, formats: _Formats) -> list[xlsx_rows.Block]:
    """Tables whose data rows can be streamed: plain values, rows no other write touches."""
    if not STREAM_TABLES:
        return []
    taken: list[tuple[int, int, int]] = [(c.row, c.row, -1) for c in sheet.cells]
    for index, table in enumerate(sheet.tables):
        taken.append((table.first_row, table.first_row, -1))
        taken.append((table.first_row + 1, table.last_row, index))
    blocks = []
    for index, table in enumerate(sheet.tables):
        first, last = table.first_row + 1, table.last_row
        if any(lo <= last and first <= hi and owner != index for lo, hi, owner in taken):
            continue
        cell_formats = [formats.get(None, c.kind, c.editable) for c in table.columns]
        columns = xlsx_rows.streamable(table, cell_formats)
        if columns is not None:
            # Registers each format in the workbook's styles as writing a cell with it would.
            styles = [None if f is None else int(f._get_xf_index()) for f in cell_formats]
            text = [c.kind == "text" for c in table.columns]
            blocks.append(xlsx_rows.Block(-1, table, columns, styles, text))
    return blocks


def _events(
    sheet: Sheet,
    formats: _Formats,
    streamed: set[int] = frozenset(),  # type: ignore[assignment]
) -> Iterator[tuple[int, int, int, Any, Any, str | None, str | None]]:
    """Cell writes of a sheet in row order: (row, order, col, value, format, kind, formula).

    Tables whose ``id`` is in ``streamed`` contribute their header only."""
    streams = [
        _table_events(table, formats, rows=id(table) not in streamed) for table in sheet.tables
    ]
    streams.append(
        iter(
            sorted(
                (
                    (c.row, 1, c.col, c.value, formats.get(c.style, c.kind), c.kind, c.formula)
                    for c in sheet.cells
                ),
                key=lambda e: (e[0], e[2]),
            )
        )
    )
    return heapq.merge(*streams, key=lambda e: (e[0], e[1]))


def _table_events(
    table: Table, formats: _Formats, rows: bool = True
) -> Iterator[tuple[int, int, int, Any, Any, str | None, str | None]]:
    header = formats.get("header")
    for offset, column in enumerate(table.columns):
        yield (table.first_row, 0, table.first_col + offset, column.header, header, "text", None)
    if not rows:
        return
    cell_formats = [formats.get(None, c.kind, c.editable) for c in table.columns]
    kinds = [c.kind for c in table.columns]
    for index, row in enumerate(table.rows):
        r = table.first_row + 1 + index
        for offset, value in enumerate(row):
            if value is None or value == "":
                continue
            yield (r, 0, table.first_col + offset, value, cell_formats[offset], kinds[offset], None)


def _write(
    ws: Any, r: int, c: int, value: Any, fmt: Any, kind: str | None, formula: str | None
) -> None:
    if formula is not None:
        ws.write_formula(r, c, formula, fmt, value if value is not None else 0)
        return
    if value is None or value == "":
        if fmt is not None:
            ws.write_blank(r, c, None, fmt)
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value, fmt)
    elif isinstance(value, dt.datetime | dt.date) and not isinstance(value, dt.time):
        ws.write_datetime(r, c, value, fmt)
    elif isinstance(value, int | float) and kind != "text":
        ws.write_number(r, c, value, fmt)
    else:
        ws.write_string(r, c, str(value)[:_MAX_TEXT], fmt)


def _draw_sheet(
    book: xlsxwriter.Workbook, formats: _Formats, sheet: Sheet
) -> list[xlsx_rows.Block]:
    """Draw a sheet; returns the tables whose data rows are left to :mod:`xlsx_rows`."""
    ws = book.add_worksheet(sheet.name)
    blocks = _streamed_tables(sheet, formats)
    for block in blocks:
        block.sheet_index = len(book.worksheets()) - 1
    if sheet.tab_color:
        ws.set_tab_color(sheet.tab_color)
    for table in sheet.tables:
        for offset, column in enumerate(table.columns):
            col = table.first_col + offset
            fmt = formats.get(None, column.kind, column.editable)
            ws.set_column(col, col, column.width, fmt)
    for col, width in sheet.widths.items():
        ws.set_column(col, col, width)
    for table in sheet.tables:
        ws.set_row(table.first_row, 30)
        if table.autofilter and table.columns:
            ws.autofilter(
                table.first_row,
                table.first_col,
                max(table.last_row, table.first_row + 1),
                table.first_col + len(table.columns) - 1,
            )
    if sheet.freeze:
        ws.freeze_panes(*sheet.freeze)
    for event in _events(sheet, formats, {id(block.table) for block in blocks}):
        r, _order, c, value, fmt, kind, formula = event
        _write(ws, r, c, value, fmt, kind, formula)
    for v in sheet.validations:
        options: dict[str, Any] = {
            "validate": "list",
            "error_type": "stop",
            "error_title": v.title[:32],
            "error_message": v.message[:255],
            "ignore_blank": True,
        }
        options["source"] = list(v.choices) if v.choices else v.source
        ws.data_validation(v.first_row, v.first_col, v.last_row, v.last_col, options)
    for cf in sheet.cond_formats:
        ws.conditional_format(
            cf.first_row,
            cf.first_col,
            cf.last_row,
            cf.last_col,
            {"type": "formula", "criteria": cf.formula, "format": formats.get(cf.style)},
        )
    for chart in sheet.charts:
        _draw_chart(book, ws, chart)
    if sheet.protect:
        ws.protect(
            sheet.password,
            {
                "autofilter": True,
                "sort": True,
                "format_columns": True,
                "format_rows": True,
                "insert_rows": True,
                "delete_rows": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )
    if sheet.hidden:
        ws.hide()
    return blocks


def _draw_chart(book: xlsxwriter.Workbook, ws: Any, chart: Chart) -> None:
    native = book.add_chart({"type": "line"})
    for series in chart.series:
        line: dict[str, Any] = {"color": series.color, "width": 2.25}
        if series.dash:
            line["dash_type"] = "dash"
        native.add_series(
            {
                "name": series.name,
                "categories": chart.categories,
                "values": series.values,
                "line": line,
                "marker": {"type": "none" if series.dash else "circle"},
            }
        )
    native.set_title({"name": chart.title})
    if chart.y_percent:
        native.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    native.set_legend({"position": "bottom"})
    native.set_size({"width": chart.width, "height": chart.height})
    ws.insert_chart(chart.anchor_row, chart.anchor_col, native)
