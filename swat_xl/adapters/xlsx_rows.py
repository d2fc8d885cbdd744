"""Table data rows written as sheet XML and spliced into the package XlsxWriter wrote.

A private helper of :mod:`swat_xl.adapters.xlsx_writer`. XlsxWriter spends several microseconds
on each cell, and a master holding 150 000 records has millions of them. So the data rows of a
:class:`~swat_xl.workbook.spec.Table` are left out of XlsxWriter: XlsxWriter writes everything
else (headers, formats, column widths, validations, conditional formats, names, charts, VBA,
protection), then the package is copied once while the rows are streamed into their sheet
parts as the very XML XlsxWriter writes in constant-memory mode (inline strings with the same
escapes, numbers as ``%.16G``, dates as serial numbers with the column's style).

A table is streamed only when every value is one XlsxWriter's own path would write plainly
(text, numbers, booleans, dates with a date style); anything else stays with XlsxWriter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import os
import pickle
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat, zip_longest
from pathlib import Path
from typing import Any

from swat_xl.adapters.packages import copy_member, member_chunks
from swat_xl.core.cells import col_letter
from swat_xl.workbook.spec import ColumnRows, Table

try:  # ISA-L's deflate: three times zlib's speed at level 1, output no larger
    from isal import isal_zlib
except ImportError:  # pragma: no cover - a platform without its wheel: zlib
    isal_zlib = None

MAX_TEXT = 32767  # Excel's limit for the text of one cell
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384
CHUNK_ROWS = 2000  # rows turned into XML at a time
BIG_PART_LEVEL = 1  # deflate level for the streamed parts (speed over a few % of size)
ISAL_LEVEL = 1  # the same with ISA-L: faster than zlib's level 1, and smaller
# Parts with at least this many streamed cells are deflated by ISA-L. Smaller ones keep zlib,
# whose bytes do not depend on the processor (ISA-L picks code by CPU features): the template
# and small masters stay byte for byte reproducible.
FAST_DEFLATE_CELLS = 20_000

_EPOCH = dt.datetime(1899, 12, 31)  # XlsxWriter's epoch (1900 date system)
_FIRST_SAFE = dt.datetime(1900, 3, 1)  # before it Excel's 1900 leap-year bug shifts serials
_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_ROW_TAG = re.compile(r'<row r="(\d+)"')
_DIMENSION = re.compile(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"/>')
_PLAIN = frozenset({str, int, float, bool, type(None)})
_SEPARATOR = "\ue000"  # private use: no escape below changes it


@dataclass
class Block:
    """The data rows of one table, to be streamed into one sheet part."""

    sheet_index: int  # 0-based position among the worksheets
    table: Table
    columns: list[Sequence[Any]]  # the table's data, column by column
    styles: list[int | None]  # XlsxWriter's xf index of each column's format (None: none)
    text_columns: list[bool]  # numbers are written as text in these columns
    # Rows copied from the part of the same sheet in an older package instead of drawn:
    # ``keep[i]`` says row i is the row at the same place there (see :func:`rows_xml`).
    keep: Any = None  # numpy bool array, one per row; None: every row is drawn
    old_part: str = ""  # that part in the older package
    old_count: int = 0  # how many rows the table had there
    copied: int = 0  # how many rows were copied (counted as they are written)

    @property
    def part(self) -> str:
        return f"xl/worksheets/sheet{self.sheet_index + 1}.xml"

    @property
    def first_number(self) -> int:
        """1-based row number of the first data row."""
        return self.table.first_row + 2

    @property
    def last_number(self) -> int:
        return self.table.first_row + 1 + len(self.table.rows)


def streamable(table: Table, formats: Sequence[Any]) -> list[Sequence[Any]] | None:
    """The table's data as columns when every value can be written here exactly as XlsxWriter
    would write it; None otherwise. Rows held by column (:class:`ColumnRows`) are taken as
    they are, and their columns of text, integers and blanks need no look."""
    width = len(table.columns)
    rows = table.rows
    if not rows or width == 0:
        return None
    if table.first_col + width > MAX_COLUMNS or table.first_row + 1 + len(rows) > MAX_ROWS:
        return None  # beyond Excel's grid: XlsxWriter's own checks apply
    columns: list[Sequence[Any]]
    if isinstance(rows, ColumnRows) and len(rows.columns) == width:
        columns, known = list(rows.columns), rows.plain
    else:
        if max(map(len, rows)) > width:
            return None
        columns = list(zip_longest(*rows))
        columns += [(None,) * len(rows)] * (width - len(columns))
        known = (False,) * width
    plain = all(
        known[i] or _plain_column(table, formats, i, values) for i, values in enumerate(columns)
    )
    return columns if plain else None


def _plain_column(table: Table, formats: Sequence[Any], index: int, values: Sequence[Any]) -> bool:
    kinds = set(map(type, values))
    dated = kinds - _PLAIN
    if dated - {dt.datetime, dt.date}:
        return False
    if dated:
        if formats[index] is None:  # XlsxWriter would add its default date style
            return False
        try:
            for kind, first in ((dt.datetime, _FIRST_SAFE), (dt.date, _FIRST_SAFE.date())):
                if kind in dated and min([v for v in values if v.__class__ is kind]) < first:
                    return False
        except TypeError:  # time zones: XlsxWriter's own path drops them
            return False
    if float in kinds and table.columns[index].kind != "text":
        # XlsxWriter refuses NaN and infinities: let it say so
        return all(map(math.isfinite, [v for v in values if v.__class__ is float]))
    return True


def _text(value: str) -> str:
    """The XML of an inline string cell after ``<c r="A1" s="n"``."""
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT]
        while len(value.encode("utf-16-le")) > 2 * MAX_TEXT:  # astral characters count twice
            value = value[:-1]
    if not value.isprintable() or "_x" in value:
        value = _ESCAPED_ESCAPE.sub(r"_x005F\1", value)
        value = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)
        value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f' t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _serial(value: dt.datetime | dt.date) -> float:
    """Excel serial of a date-time after 1900-03-01, computed as XlsxWriter computes it."""
    if value.__class__ is dt.date:
        value = dt.datetime(value.year, value.month, value.day)
    elif value.tzinfo is not None:  # the workbook is written with remove_timezone
        value = value.replace(tzinfo=None)
    delta = value - _EPOCH
    excel = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / 86400
    return excel + 1


def _tail(value: Any, style: str, text_column: bool) -> str:
    """A cell's XML after ``<c r="A1"``, for a non-blank value (``_write``'s rules)."""
    kind = value.__class__
    if kind is str:
        return style + _text(value)
    if kind is bool:
        return f'{style} t="b"><v>{int(value)}</v></c>'
    if kind is dt.datetime or kind is dt.date:
        return f"{style}><v>{_serial(value):.16G}</v></c>"
    if text_column:
        return style + _text(str(value))
    return f"{style}><v>{value:.16G}</v></c>"


def _column_pieces(
    values: Sequence[Any],
    numbers: Sequence[str],
    letter: str,
    style: str,
    text_column: bool,
    cache: dict[Any, str],
) -> list[str | Iterable[str]]:
    """One column of a chunk of rows as row-aligned pieces of XML (joined by the caller):
    each piece a text the same in every row, or a sequence of one text a row.

    A full column of plain values gives five pieces (``<c r="A``, the row numbers, the
    attributes, the values, the closing tags), so no string is built per cell; a column
    with blanks or odd values gives one sequence of whole cells ("" for a blank cell); a
    blank column, none."""
    head = '<c r="' + letter
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds <= {str}:
        texts = [v or "" for v in values] if None in values else values
        if not any(texts):
            return []  # blank cells are not written
        tail = f'"{style} t="inlineStr"><is><t>'
        if _plain_texts(texts):  # the usual case: no escape, no preserved space
            if "" not in texts:
                return [head, numbers, tail, texts, "</t></is></c>"]
            return [
                [
                    f"{head}{n}{tail}{v}</t></is></c>" if v else ""
                    for n, v in zip(numbers, texts, strict=True)
                ]
            ]
        escaped = _escape_column(texts)
        if escaped is None:
            return [
                [
                    head + n + '"' + style + _text(v) if v else ""
                    for n, v in zip(numbers, texts, strict=True)
                ]
            ]
        texts, preserve = escaped
        kept = f'"{style} t="inlineStr"><is><t xml:space="preserve">'
        return [
            [
                f"{head}{n}{kept if p else tail}{v}</t></is></c>" if v else ""
                for n, v, p in zip(numbers, texts, preserve, strict=True)
            ]
        ]
    numeric = kinds == {int} and not text_column
    if numeric and max(map(abs, filter(None, values)), default=0) < 1e16:
        tail = f'"{style}><v>'
        if None not in values:
            return [head, numbers, tail, map(str, values), "</v></c>"]
        return [
            [
                f"{head}{n}{tail}{v}</v></c>" if v is not None else ""
                for n, v in zip(numbers, values, strict=True)
            ]
        ]
    if kinds == {dt.datetime}:
        for value in set(values):
            if value is not None and value not in cache:
                cache[value] = f"{_serial(value):.16G}"
        tail = f'"{style}><v>'
        if None not in values:
            serials = [cache[v] for v in values]
            return [head, numbers, tail, serials, "</v></c>"]
        return [
            [
                f"{head}{n}{tail}{cache[v]}</v></c>" if v is not None else ""
                for n, v in zip(numbers, values, strict=True)
            ]
        ]
    out: list[str] = []
    append = out.append
    for number, value in zip(numbers, values, strict=True):
        if value is None or value == "":
            append("")
        else:
            append(head + number + '"' + _tail(value, style, text_column))
    return [out]


def _escape_column(texts: Sequence[str]) -> tuple[list[str], Sequence[bool]] | None:
    """:func:`_text`'s escapes applied to a whole column at once (on the texts joined by a
    separator no escape touches); None when a text is too long or holds the separator."""
    joined = _SEPARATOR.join(texts)
    if max(map(len, texts), default=0) > MAX_TEXT or joined.count(_SEPARATOR) != len(texts) - 1:
        return None
    if "_x" in joined:
        joined = _ESCAPED_ESCAPE.sub(r"_x005F\1", joined)
    if not _printable_but_breaks(joined) and _CONTROL.search(joined):
        joined = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", joined)
    if "\ufffe" in joined or "\uffff" in joined:
        joined = joined.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    escaped = joined.split(_SEPARATOR)
    preserve = [t[:1].isspace() or t[-1:].isspace() for t in escaped]
    if "&" in joined or "<" in joined or ">" in joined:
        joined = joined.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        escaped = joined.split(_SEPARATOR)
    return escaped, preserve


def _printable_but_breaks(joined: str) -> bool:
    """True when ``joined`` holds no character that is not printable but the separator, line
    breaks and tabs: then no control character :data:`_CONTROL` escapes (a look at C speed;
    the expression's search took 0.8 ms a chunk of a column of long texts)."""
    return joined.replace(_SEPARATOR, "").replace("\n", "").replace("\t", "").isprintable()


def _plain_texts(texts: Sequence[str]) -> bool:
    """True when no text needs an XML escape, a ``_xHHHH_`` escape, truncation or
    ``xml:space="preserve"`` (checked on the whole column at C speed).

    The texts are looked at joined by "<": a text that needs none of these holds no "<", so
    the joined text is printable (no control character, line break or odd space in a text)
    with one "<" between texts and no space beside one."""
    if not texts:
        return True
    joined = "<".join(texts)
    return (
        joined.isprintable()
        and joined.count("<") == len(texts) - 1
        and "&" not in joined
        and ">" not in joined
        and "_x" not in joined
        and " <" not in joined
        and "< " not in joined
        and joined[:1] != " "
        and joined[-1:] != " "
        and (len(joined) <= MAX_TEXT or max(map(len, texts), default=0) <= MAX_TEXT)
    )


def rows_xml(block: Block, old: OldRows | None = None) -> Iterator[bytes]:
    """The ``<row>`` elements of a block, a chunk of rows at a time.

    With ``old`` (the rows this block's sheet held in the package written last time, from the
    same first row), each row ``block.keep`` marks is copied from there, byte for byte, when
    the old row at that place is the row this code writes there (:meth:`OldRows.take`); every
    other row is drawn. A row is the same XML whenever its values, its number, the columns and
    their style numbers are: the caller marks only rows whose values are unchanged, under the
    same columns and styles. A chunk whose rows are all kept is copied as one piece."""
    table = block.table
    letters = [col_letter(table.first_col + i) for i in range(len(table.columns))]
    styles = [f' s="{xf}"' if xf is not None else "" for xf in block.styles]
    caches: list[dict[Any, str]] = [{} for _ in letters]  # date-time -> serial text
    first = block.first_number
    keep = block.keep if old is not None else None
    for start in range(0, len(table.rows), CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, len(table.rows))
        kept: list[bytes | None] = [None] * (stop - start)
        if keep is not None and old is not None and keep[start:stop].any():
            whole = bool(keep[start:stop].all())
            taken = old.take(start, stop, whole)
            if isinstance(taken, bytes):
                block.copied += stop - start
                yield taken
                continue
            kept = [row if keep[start + i] else None for i, row in enumerate(taken)]
        drawn = [i for i, row in enumerate(kept) if row is None]
        numbers = [str(first + start + i) for i in drawn]
        picks = None if len(drawn) == len(kept) else [start + i for i in drawn]
        pieces: list[str | Iterable[str]] = ['<row r="', numbers, '">']
        for i, values in enumerate(block.columns):
            chunk = values[start:stop] if picks is None else [values[j] for j in picks]
            pieces += _column_pieces(
                chunk, numbers, letters[i], styles[i], block.text_columns[i], caches[i]
            )
        pieces.append("</row>")
        aligned = _aligned(pieces)
        # Only the row numbers and values are finite: they end each row's zip.
        if picks is None:
            yield "".join(chain.from_iterable(zip(*aligned, strict=False))).encode("utf-8")
            continue
        fresh = iter(["".join(row).encode("utf-8") for row in zip(*aligned, strict=False)])
        block.copied += len(kept) - len(drawn)
        yield b"".join(row if row is not None else next(fresh) for row in kept)


def _aligned(pieces: list[str | Iterable[str]]) -> list[Iterable[str]]:
    """The row-aligned pieces of a chunk of rows, each run of texts the same in every row made
    one (fewer pieces a row to join), repeated for every row."""
    out: list[Iterable[str]] = []
    same: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            same.append(piece)
            continue
        if same:
            out.append(repeat("".join(same)))
            same = []
        out.append(piece)
    if same:
        out.append(repeat("".join(same)))
    return out


_OLD_ROW_HEAD = re.compile(rb'<row r="(\d+)">')


class OldRows:
    """The data rows of one table in a sheet part written by :func:`rows_xml`, read from the
    part's XML (``chunks``, in order) and taken a chunk of rows at a time, in order.

    ``first_number`` is the table's first data row, ``count`` how many rows it had. A value's
    text never holds ``<``, so ``<row`` and ``</row>`` only ever open and close rows; every
    row taken is checked to be ``<row r="n">`` of the number expected, and nothing else."""

    def __init__(self, chunks: Iterator[bytes], first_number: int, count: int) -> None:
        self.chunks = chunks
        self.first = first_number
        self.count = count
        self.buffer = bytearray()
        self.position = -1  # where the next row starts in ``buffer``; -1: not found yet
        self.next = 0  # index of that row
        self.searched = 0  # ``buffer`` before this offset holds no end being looked for

    def close(self) -> None:
        """Stop reading (the file read is closed)."""
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()

    def _more(self) -> bool:
        chunk = next(self.chunks, b"")
        if not chunk:
            return False
        if self.position > 0:  # drop what was taken
            del self.buffer[: self.position]
            self.searched = max(0, self.searched - self.position)
            self.position = 0
        self.buffer += chunk
        return True

    def _find(self, needle: bytes) -> int:
        """Offset of ``needle`` in ``buffer`` after the next row, reading more as needed."""
        while True:
            found = self.buffer.find(needle, max(self.searched, self.position))
            if found >= 0:
                return found
            self.searched = max(0, len(self.buffer) - len(needle))
            if not self._more():
                return -1

    def _rows(self, start: int, stop: int) -> bytes | None:
        """The XML of rows ``start`` to ``stop`` (0-based, ``stop`` excluded), which must come
        after those already taken; None when they are not there as expected."""
        if self.position < 0:
            self.searched = 0
            self.position = self._find(b'<row r="%d">' % self.first)
            if self.position < 0:
                self.next = self.count  # no such rows: nothing is ever taken
                return None
        stop = min(stop, self.count)
        if start < self.next or start >= stop:
            return None
        if start > self.next and self._rows(self.next, start) is None:
            return None
        self.searched = self.position
        end = self._find(b'<row r="%d"' % (self.first + stop))
        if end < 0 and stop == self.count:  # the table's last row: the part's rows end
            self.searched = self.position
            end = self._find(b"</sheetData>")
        if end < 0:
            self.next = self.count
            return None
        with memoryview(self.buffer) as view:
            piece = view[self.position : end].tobytes()
        self.position, self.next = end, stop
        return piece

    def take(self, start: int, stop: int, whole: bool) -> bytes | list[bytes | None]:
        """Rows ``start`` to ``stop`` of the table (0-based, ``stop`` excluded): as one piece
        when ``whole`` and every one of them is there as this code writes it; else each row
        that is (None for the others)."""
        piece = self._rows(start, stop)
        wanted = stop - start
        if piece is None:
            return [None] * wanted
        numbers = [b"%d" % (self.first + i) for i in range(start, start + wanted)]
        # Rows do not nest: a piece that starts with the first row and ends a row, whose row
        # heads are those of the rows wanted (no other attribute), is those rows.
        if (
            whole
            and stop <= self.count
            and piece.startswith(b'<row r="%s">' % numbers[0])
            and piece.endswith(b"</row>")
            and _OLD_ROW_HEAD.findall(piece) == numbers
        ):
            return piece
        rows: list[bytes | None] = []
        for number, row in zip(numbers, piece.split(b"</row>"), strict=False):
            ok = row.startswith(b'<row r="%s">' % number)
            rows.append(row + b"</row>" if ok else None)
        return rows + [None] * (wanted - len(rows))


def inflated(path: Path, info: zipfile.ZipInfo, size: int = 1 << 18) -> Iterator[bytes]:
    """The uncompressed bytes of member ``info`` of the package at ``path``, a chunk at a
    time, inflated by ISA-L (several times zlib's speed) when it is there. Nothing more is
    given once the data cannot be inflated. No CRC is checked: the caller knows the package
    by its fingerprint."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return
    chunks = member_chunks(path, info, size)
    try:
        if info.compress_type == zipfile.ZIP_STORED:
            yield from chunks
            return
        inflater = (isal_zlib or zlib).decompressobj(-15)
        for chunk in chunks:
            out = inflater.decompress(chunk, 4 * size)
            while out:
                yield out
                out = inflater.decompress(inflater.unconsumed_tail, 4 * size)
        if rest := inflater.flush():
            yield rest
    except (OSError, zipfile.BadZipFile, *_INFLATE_ERRORS):
        return
    finally:
        chunks.close()  # its file is closed now, not when collected


_INFLATE_ERRORS = (zlib.error,) if isal_zlib is None else (zlib.error, isal_zlib.error)


def splice(
    source: Path,
    target: Path,
    blocks: Sequence[Block],
    *,
    reused: Mapping[str, str] | None = None,
    previous: Path | None = None,
    replaced: Mapping[str, bytes] | None = None,
    dropped: Collection[str] = (),
    rows_from: Path | None = None,
) -> None:
    """Copy the package ``source`` to ``target`` with each block's rows in its sheet part,
    each part named in ``reused`` replaced by the part it maps to in ``previous`` (copied
    compressed, as it is), each part named in ``replaced`` holding its new bytes and the parts
    in ``dropped`` left out. A block with rows to keep (``keep``) copies them from its
    ``old_part`` in ``rows_from``."""
    by_part: dict[str, list[Block]] = {}
    for block in sorted(blocks, key=lambda b: (b.sheet_index, b.table.first_row)):
        by_part.setdefault(block.part, []).append(block)
    reused = dict(reused or {})
    replaced = dict(replaced or {})
    dropped = set(dropped)
    with contextlib.ExitStack() as stack:
        package = stack.enter_context(zipfile.ZipFile(source))
        out = stack.enter_context(zipfile.ZipFile(target, "w"))
        old = stack.enter_context(zipfile.ZipFile(previous)) if reused and previous else None
        keeping = rows_from is not None and any(b.keep is not None for b in blocks)
        kept = stack.enter_context(zipfile.ZipFile(rows_from)) if keeping else None
        # the XML of the parts handed to a second process, read once (for it and for here)
        handed_xml = {
            name: replaced.pop(name) if name in replaced else package.read(name)
            for name in _to_hand_off(by_part)
        }
        handoff = _HandOff.start({name: (xml, by_part[name]) for name, xml in handed_xml.items()})
        handed = set(handed_xml) if handoff is not None else set()
        if handoff is not None:
            stack.callback(handoff.close)
        deferred: list[tuple[zipfile.ZipInfo, bytes, list[Block]]] = []
        for info in package.infolist():
            if info.filename in dropped:
                dropped.discard(info.filename)
                continue
            if info.filename in reused and old is not None:
                copy_member(old, old.getinfo(reused.pop(info.filename)), out, info.filename)
                continue
            name = info.filename
            if name in handed_xml:
                data = handed_xml.pop(name)
            elif name in replaced:
                data = replaced.pop(name)
            else:
                data = package.read(info)
            clone = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            clone.compress_type = info.compress_type
            clone.external_attr = info.external_attr
            clone.create_system = info.create_system
            here = by_part.pop(info.filename, None)
            if not here:
                out.writestr(clone, data)
                continue
            if name in handed:
                deferred.append((clone, data, here))
                continue
            olds = [
                OldRows(
                    inflated(rows_from, kept.getinfo(b.old_part)),
                    b.first_number,
                    b.old_count,
                )
                if kept is not None and rows_from is not None and b.keep is not None
                else None
                for b in here
            ]
            for old_rows in filter(None, olds):
                stack.callback(old_rows.close)
            _write_rows_part(out, clone, data, here, olds)
        if deferred:  # the parts the second process drew, copied as it compressed them
            drawn = handoff.package() if handoff is not None else None
            if drawn is not None:
                stack.enter_context(drawn)  # closed before its file is removed
            for clone, data, here in deferred:
                if drawn is not None and clone.filename in drawn.NameToInfo:
                    copy_member(
                        drawn, drawn.getinfo(clone.filename), out, clone.filename, header=clone
                    )
                else:  # it failed or was too slow: drawn here after all
                    _write_rows_part(out, clone, data, here, [None] * len(here))
    if by_part or reused or replaced or dropped:  # pragma: no cover - XlsxWriter's part names
        missing = sorted(by_part) + sorted(reused) + sorted(replaced) + sorted(dropped)
        raise RuntimeError(f"parts not found: {missing}")


def _write_rows_part(
    out: zipfile.ZipFile,
    clone: zipfile.ZipInfo,
    data: bytes,
    blocks: list[Block],
    olds: Sequence[OldRows | None],
) -> None:
    """Part ``clone`` of ``out``: the sheet XML ``data`` with the rows of ``blocks`` in it."""
    _set_level(clone, BIG_PART_LEVEL)
    cells = sum(len(b.table.rows) * len(b.table.columns) for b in blocks)
    with out.open(clone, "w", force_zip64=cells > 4_000_000) as stream:
        if cells >= FAST_DEFLATE_CELLS:
            _fast_deflate(stream)
        for piece in _ahead(_sheet_pieces(data.decode("utf-8"), blocks, olds)):
            stream.write(piece)


def _ahead(pieces: Iterator[bytes], depth: int = 4) -> Iterator[bytes]:
    """``pieces``, produced by a helper thread while the caller deflates the previous ones
    (zlib releases the GIL: the XML of the next rows is built during the compression)."""
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for piece in pieces:
                while not stop.is_set():
                    try:
                        box.put(piece, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(done)
        except BaseException as exc:  # handed to the caller, raised there
            box.put(exc)

    worker = threading.Thread(target=produce, name="swat-xlsx-rows", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a helper waiting to hand over its last item
            with contextlib.suppress(queue.Empty):
                box.get(timeout=0.05)
        worker.join()


def _fast_deflate(stream: Any) -> None:
    """Deflate a streamed part with ISA-L (python-isal) rather than zlib: the rows' XML of a
    150,000-record master is hundreds of megabytes, and zlib at level 1 took as long as
    building it. The member stays a plain deflate stream; zipfile still writes its CRC and
    sizes (``_compressor`` is the one object of ``ZipFile.open(..., "w")`` that deflates)."""
    if isal_zlib is not None and getattr(stream, "_compressor", None) is not None:
        stream._compressor = isal_zlib.compressobj(ISAL_LEVEL, isal_zlib.DEFLATED, -15)


def _set_level(info: zipfile.ZipInfo, level: int) -> None:
    if hasattr(info, "compress_level"):  # Python 3.13+
        info.compress_level = level
    else:
        info._compresslevel = level  # read by ZipFile.open(..., "w") in 3.11 and 3.12


def _sheet_pieces(
    xml: str, blocks: list[Block], olds: Sequence[OldRows | None] = ()
) -> Iterator[bytes]:
    """The sheet part with a corrected dimension and each block at its place, as bytes;
    ``olds``: for each block, the rows to copy kept rows from (or None)."""
    xml = _widen_dimension(xml, blocks)
    if "<sheetData/>" in xml:
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
    rows = [(int(m.group(1)), m.start()) for m in _ROW_TAG.finditer(xml)]
    end = xml.index("</sheetData>")
    position = 0
    for block, old in zip_longest(blocks, olds[: len(blocks)]):
        cut = next((start for number, start in rows if number > block.last_number), end)
        if any(block.first_number <= number <= block.last_number for number, _ in rows):
            raise RuntimeError("a streamed table overlaps cells XlsxWriter wrote")
        if cut < position:
            raise RuntimeError("streamed tables out of order")
        yield xml[position:cut].encode("utf-8")
        yield from rows_xml(block, old)
        position = cut
    yield xml[position:].encode("utf-8")


def _widen_dimension(xml: str, blocks: list[Block]) -> str:
    match = _DIMENSION.search(xml)
    if match is None:
        return xml
    first_col, first_row = _col_number(match.group(1)), int(match.group(2))
    last_col = _col_number(match.group(3) or match.group(1))
    last_row = int(match.group(4) or match.group(2))
    for block in blocks:
        table = block.table
        first_row = min(first_row, block.first_number)
        last_row = max(last_row, block.last_number)
        first_col = min(first_col, table.first_col + 1)
        last_col = max(last_col, table.first_col + len(table.columns))
    start = f"{col_letter(first_col - 1)}{first_row}"
    end = f"{col_letter(last_col - 1)}{last_row}"
    ref = start if start == end else f"{start}:{end}"
    return xml[: match.start()] + f'<dimension ref="{ref}"/>' + xml[match.end() :]


def _col_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


# -- a second process for the biggest masters --------------------------------------------------
# Drawing rows is Python work, which one process does on one core at a time (the GIL): on a
# master of 150,000 records it is over a second, with the machine's other core idle. So when the
# rows to draw are many, the parts of the sheets other than the biggest (the agents' sheets
# beside «Base») are drawn and compressed by a second Python process meanwhile, and their
# compressed bytes copied into the package. The same code draws them there; anything amiss with
# that process (it cannot start, fails, is slow) and the parts are drawn here, as always.

#: Rows are handed over only when the parts handed hold at least this many cells (a second
#: process costs about a tenth of a second to start; 500,000 cells take about a quarter).
HANDOFF_CELLS = 500_000
#: Once this process has drawn its own parts, the second may still take twice as long as that
#: and this many seconds more (it has fewer cells to draw), after which they are drawn here.
HANDOFF_SLACK = 5.0


def _drawn_cells(blocks: Sequence[Block]) -> int:
    """The cells of ``blocks`` drawn rather than copied from an older package."""
    rows = (len(b.table.rows) if b.keep is None else int((~b.keep).sum()) for b in blocks)
    return sum(n * len(b.table.columns) for n, b in zip(rows, blocks, strict=True))


def _to_hand_off(by_part: Mapping[str, Sequence[Block]]) -> list[str]:
    """The parts to hand to a second process: any but the biggest whose rows are all drawn
    (none copied from an older package), biggest first, up to half of all the cells drawn,
    and only when they are many (:data:`HANDOFF_CELLS`)."""
    cells = {name: _drawn_cells(blocks) for name, blocks in by_part.items()}
    total = sum(cells.values())
    if total < 2 * HANDOFF_CELLS:
        return []
    biggest = max(cells, key=cells.__getitem__)
    half = total / 2
    chosen, handed = [], 0
    for name in sorted(cells, key=cells.__getitem__, reverse=True):
        blocks = by_part[name]
        if name == biggest or handed + cells[name] > half:
            continue
        if all(b.keep is None for b in blocks):
            chosen.append(name)
            handed += cells[name]
    return chosen if handed >= HANDOFF_CELLS else []


_TEXT_JOIN = "\x00"  # a column where a text holds it travels as a list (see _packed)


def _packed(values: Sequence[Any]) -> tuple[str, Any]:
    """A column as it travels to the second process: texts joined in one string (a list of
    85,000 strings pickles ten times slower), anything else as a list."""
    try:
        joined = _TEXT_JOIN.join(values)
    except TypeError:  # not all str
        return "list", list(values)
    if len(values) and joined.count(_TEXT_JOIN) == len(values) - 1:
        return "texts", joined
    return "list", list(values)


def _unpacked(packed: tuple[str, Any]) -> list[Any]:
    kind, data = packed
    return data.split(_TEXT_JOIN) if kind == "texts" else list(data)


def _job(parts: Mapping[str, tuple[bytes, Sequence[Block]]]) -> bytes:
    """What the second process draws: each part's XML and its blocks (the table without its
    rows, the columns packed)."""
    job = [
        (
            name,
            data,
            [
                (
                    b.sheet_index,
                    dataclasses.replace(b.table, rows=(), row_keys=b""),
                    [_packed(values) for values in b.columns],
                    list(b.styles),
                    list(b.text_columns),
                )
                for b in blocks
            ],
        )
        for name, (data, blocks) in parts.items()
    ]
    return pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)


def draw_handed_parts(job: str, out: str) -> None:
    """The second process's work: the parts of the file ``job`` (:func:`_job`) drawn as
    :func:`splice` draws them, into the zip package ``out``."""
    with open(job, "rb") as handle:
        parts = pickle.load(handle)
    with zipfile.ZipFile(out, "w") as package:
        for name, data, packed_blocks in parts:
            blocks = []
            for sheet_index, table, packed, styles, text_columns in packed_blocks:
                columns = [_unpacked(column) for column in packed]
                table = dataclasses.replace(table, rows=ColumnRows(columns))
                blocks.append(Block(sheet_index, table, columns, styles, text_columns))
            clone = zipfile.ZipInfo(name)
            clone.compress_type = zipfile.ZIP_DEFLATED
            _write_rows_part(package, clone, data, blocks, [None] * len(blocks))


# The second process: this very module, loaded from where this process loaded it, in isolated
# mode (no PYTHON* variables, no user site). Its job and its package are files of this user's
# temporary folder, made here (a pipe would hand the bytes over a few kilobytes at a time, each
# time waiting for this process's busy thread to let go of the GIL).
_WORKER = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from swat_xl.adapters.xlsx_rows import draw_handed_parts; "
    "draw_handed_parts(sys.argv[2], sys.argv[3])"
)


class _HandOff:
    """Parts drawn by a second process (see above): started with the job, read when done."""

    def __init__(self, process: Any, files: list[Path]) -> None:
        self.process = process
        self.files = files  # the job, the package
        self.started = time.monotonic()

    @classmethod
    def start(cls, parts: Mapping[str, tuple[bytes, Sequence[Block]]]) -> _HandOff | None:
        """The second process drawing ``parts`` (name -> XML and blocks), or None (no parts,
        or it could not start)."""
        if not parts:
            return None
        if not sys.executable:  # an embedded Python that cannot start another
            return None
        files: list[Path] = []
        try:
            for suffix in (".trabajo", ".xlsx"):
                handle, name = tempfile.mkstemp(prefix="swat-partes-", suffix=suffix)
                os.close(handle)
                files.append(Path(name))
            files[0].write_bytes(_job(parts))
            root = str(Path(__file__).resolve().parents[2])
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", _WORKER, root, *map(str, files)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0) if os.name == "nt" else 0,
            )
        except Exception:  # no second process: every part is drawn here
            for path in files:
                path.unlink(missing_ok=True)
            return None
        return cls(process, files)

    def package(self) -> zipfile.ZipFile | None:
        """The package of the parts drawn, once the process is done; None when it failed or
        was too slow (see :data:`HANDOFF_SLACK`)."""
        try:
            if self.process.wait(HANDOFF_SLACK + 2 * (time.monotonic() - self.started)) != 0:
                return None
            return zipfile.ZipFile(self.files[1])
        except (subprocess.TimeoutExpired, OSError, zipfile.BadZipFile):
            return None

    def close(self) -> None:
        """Stop the process if it still runs (an error here, or it was too slow), and remove
        its files."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()
            with contextlib.suppress(Exception):
                self.process.wait(5)
        for path in self.files:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
