"""A large worksheet parsed by python-calamine in two halves at once.

calamine releases the GIL while it parses, but parses one sheet on one core: a 150,000-row
export took 3.2 s to parse while the machine's other core waited. When every cell of the
sheet carries its own reference (``<c r="B7">``, as :func:`._guards._scan_regular` has
checked on the way), a cell's place does not depend on the cells before it, so the rows of
``<sheetData>`` can be cut in two at a ``<row`` tag: each half, with the sheet's XML before
and after the rows, is a sheet of its own in a copy of the package (stored, not compressed),
and the two copies are parsed side by side. Their rows, put back in place, are the rows the
whole sheet gives (the tests compare both on generated sheets).

Anything unexpected (no ``<sheetData>``, no row to cut at, a half calamine cannot read,
halves whose rows overlap) gives ``None``: the caller then parses the whole sheet, as always,
and shows its errors.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import tempfile
import threading
import zipfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

#: Sheets whose XML is at least this big are parsed in two halves (a 5,000-row export is
#: about 4.6 MB: its parse takes a tenth of a second, not worth the copies).
SPLIT_FROM_BYTES = 16 << 20
#: ... and at most this big: the halves' XML is held in memory while they are written out,
#: which the whole sheet's parse does not need (calamine streams it from the package).
SPLIT_UP_TO_BYTES = 400 << 20

_SHEET_DATA = re.compile(rb"<sheetData[\s>]")
_SHEET_DATA_END = b"</sheetData>"
_ROW = re.compile(rb"<row[\s>/]")

#: A parsed sheet: calamine's (row, column) of its first cell (None when empty), its rows.
Parsed = tuple[tuple[int, int] | None, list[list[Any]]]


def parse_in_halves(
    archive: zipfile.ZipFile,
    sheets: Collection[zipfile.ZipInfo],
    member: zipfile.ZipInfo,
    sheet: str,
    pieces: list[bytes],
) -> Parsed | None:
    """``sheet`` (its XML, uncompressed, in ``pieces``: emptied here) parsed in two halves at
    once, or None when it cannot be cut (see the module's docstring). ``sheets`` are the
    package's sheet parts (``member`` among them)."""
    try:
        xml = _Pieces(pieces)
        cut = _cut(xml)
        if cut is None:
            return None
        rows_from, middle, rows_to = cut
        try:
            others = _other_parts(archive, {info.filename for info in sheets}, member)
        except Exception:  # the whole sheet's parse shows what is wrong with the package
            return None
        try:
            folder = tempfile.TemporaryDirectory(prefix="swat-halves-", ignore_cleanup_errors=True)
        except OSError:  # no temporary folder to write to: the whole sheet, as before
            return None
        with folder as scratch:
            halves = [
                _Half(Path(scratch) / "1.xlsx", xml.span(rows_from, middle)),
                _Half(Path(scratch) / "2.xlsx", xml.span(middle, rows_to)),
            ]
            write = functools.partial(
                _Half.write,
                name=member.filename,
                others=others,
                head=xml.span(0, rows_from),
                tail=xml.span(rows_to, xml.size),
            )
            _side_by_side(halves, write)
            del write, xml  # the halves are on disk: calamine reads them from there
            pieces.clear()
            _side_by_side(halves, functools.partial(_Half.parse, sheet=sheet))
        first, second = (half.parsed for half in halves)
        if first is None or second is None:
            return None
        return _joined(first, second)
    finally:
        pieces.clear()


def _side_by_side(halves: list[_Half], step: Callable[[_Half], None]) -> None:
    """``step`` on the second half in a helper thread while this thread does the first."""
    worker = threading.Thread(target=step, args=(halves[1],), name="swat-export-half", daemon=True)
    worker.start()
    try:
        step(halves[0])
    finally:
        worker.join()


class _Pieces:
    """The sheet's XML as the guards left it: pieces, each starting at a tag but the first
    (no tag straddles two), looked at without joining them."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.starts = list(itertools.accumulate((len(p) for p in pieces), initial=0))
        self.size = self.starts.pop()

    def search(self, pattern: re.Pattern[bytes] | bytes, start: int, end: int) -> int | None:
        """Where ``pattern`` (an expression, or bytes) first matches between ``start`` and
        ``end``, or None; what it matches lies within a tag (no tag straddles two pieces)."""
        for offset, piece in self._between(start, end):
            low, high = max(start - offset, 0), end - offset
            if isinstance(pattern, bytes):  # bytes.find: many times faster than an expression
                at = piece.find(pattern, low, high)
                if at >= 0:
                    return offset + at
            elif (found := pattern.search(piece, low, high)) is not None:
                return offset + found.start()
        return None

    def last(self, pattern: re.Pattern[bytes], start: int, end: int) -> int | None:
        """Where ``pattern`` last matches between ``start`` and ``end``, or None."""
        found = None
        while (at := self.search(pattern, start, end)) is not None:
            found, start = at, at + 1
        return found

    def span(self, start: int, end: int) -> list[memoryview]:
        """The bytes between ``start`` and ``end``, as views of the pieces."""
        views = []
        for offset, piece in self._between(start, end):
            low, high = max(start - offset, 0), min(end - offset, len(piece))
            if high > low:
                views.append(memoryview(piece)[low:high])
        return views

    def _between(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        """The pieces holding bytes between ``start`` and ``end``, each with its offset."""
        index = max(bisect.bisect_right(self.starts, start) - 1, 0)
        while index < len(self.pieces) and self.starts[index] < end:
            yield self.starts[index], self.pieces[index]
            index += 1


class _Half:
    """One half: a copy of the package on disk, holding half of the sheet's rows, parsed."""

    def __init__(self, path: Path, rows: list[memoryview]) -> None:
        self.path = path
        self.rows = rows
        self.written = True
        self.parsed: Parsed | None = None

    def write(
        self,
        name: str,
        others: list[tuple[str, bytes]],
        head: list[memoryview],
        tail: list[memoryview],
    ) -> None:
        try:
            with zipfile.ZipFile(self.path, "w", zipfile.ZIP_STORED) as copy:
                for other, data in others:
                    copy.writestr(other, data)
                with copy.open(name, "w") as part:
                    for piece in (*head, *self.rows, *tail):
                        part.write(piece)
        except Exception:  # a full disk…: the whole sheet is parsed instead
            self.written = False
        self.rows = []

    def parse(self, sheet: str) -> None:
        if not self.written:
            return
        try:
            book = CalamineWorkbook.from_path(str(self.path))
            try:
                parsed = book.get_sheet_by_name(sheet)
                self.parsed = parsed.start, parsed.to_python()
            finally:
                book.close()
        except Exception:  # the whole sheet is parsed instead, errors and all
            self.parsed = None


def _other_parts(
    archive: zipfile.ZipFile, sheets: set[str], member: zipfile.ZipInfo
) -> list[tuple[str, bytes]]:
    """The parts calamine reads besides the sheet (the package's XML: workbook, styles, shared
    strings, relationships…), each other sheet as an empty one: it is not read here, and
    it was not checked (:func:`._guards._check_honest_members` checked the rest)."""
    parts = []
    for info in archive.infolist():
        name = info.filename
        if name == member.filename:
            continue
        if name in sheets:
            parts.append((name, _EMPTY_SHEET))
        elif name.lower().endswith((".xml", ".rels")):
            parts.append((name, archive.read(info)))
    return parts


_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData/></worksheet>"
)


def _cut(xml: _Pieces) -> tuple[int, int, int] | None:
    """Where the rows start, the ``<row`` tag nearest after the middle, where the rows end."""
    opening = xml.search(_SHEET_DATA, 0, xml.size)
    closing = xml.search(_SHEET_DATA_END, 0, xml.size)
    if opening is None or closing is None:
        return None
    if xml.search(_SHEET_DATA_END, closing + 1, xml.size) is not None:
        return None  # not one table of rows
    rows_from = xml.search(b">", opening, xml.size)
    if rows_from is None or rows_from >= closing:
        return None
    rows_from += 1
    middle = xml.search(_ROW, (rows_from + closing) // 2, closing)
    if middle is None:  # the last row is the long one: the last but the first
        middle = xml.last(_ROW, rows_from + 1, closing)
    if middle is None or middle == rows_from:
        return None
    return rows_from, middle, closing


def _joined(first: Parsed, second: Parsed) -> Parsed | None:
    """The rows of the whole sheet from those of its two halves (None if they overlap)."""
    (start1, rows1), (start2, rows2) = first, second
    if start1 is None or not rows1:
        return second
    if start2 is None or not rows2:
        return first
    (top1, left1), (top2, left2) = start1, start2
    bottom1 = top1 + len(rows1)
    if top2 < bottom1:
        return None  # rows out of order: not two halves of one sheet
    width1, width2 = len(rows1[0]), len(rows2[0])
    left = min(left1, left2)
    right = max(left1 + width1, left2 + width2)
    gap = [["" for _ in range(right - left)] for _ in range(top2 - bottom1)]
    return (top1, left), [
        *_widened(rows1, left1 - left, right - left1 - width1),
        *gap,
        *_widened(rows2, left2 - left, right - left2 - width2),
    ]


def _widened(rows: list[list[Any]], before: int, after: int) -> list[list[Any]]:
    if not before and not after:
        return rows
    return [[""] * before + row + [""] * after for row in rows]
