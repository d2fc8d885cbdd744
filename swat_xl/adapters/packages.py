"""Zip-level helpers for xlsx packages: which part holds each worksheet, and copying a part
from one package to another as its compressed bytes (no inflate, no deflate).

A master's biggest sheets (``Base``, the agent sheets) are tens of megabytes of XML. When the
ledger says their content has not changed since the tool wrote the workbook, a rewrite copies
their parts from the current file instead of rendering and compressing them again. The
standard library cannot write a member that is already compressed (a proposal to add it is
open: https://discuss.python.org/t/67544), so :func:`copy_member` writes the member's local
header itself and registers it the way :meth:`zipfile.ZipFile.mkdir` does.
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_WORKSHEET = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class SheetPart:
    """Where a worksheet lives in a package, and what workbook.xml says about it."""

    name: str
    part: str  # e.g. "xl/worksheets/sheet28.xml"
    hidden: bool
    filter_ref: str | None  # the range of its autofilter (``_xlnm._FilterDatabase``), if any
    has_rels: bool  # the part has relationships (drawings, comments, ...) of its own


def sheet_parts(package: zipfile.ZipFile) -> dict[str, SheetPart]:
    """The worksheets of an xlsx package by sheet name (empty when the package is unusual)."""
    try:
        book = SafeET.fromstring(package.read("xl/workbook.xml"))
        rels = SafeET.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, SafeET.ParseError, ValueError):
        return {}
    targets = {
        rel.get("Id"): posixpath.normpath(posixpath.join("xl", rel.get("Target", "")))
        for rel in rels.iter(f"{_PKG_REL}Relationship")
        if rel.get("Type") == _WORKSHEET and rel.get("TargetMode") != "External"
    }
    sheets = book.findall(f"{_MAIN}sheets/{_MAIN}sheet")
    filters: dict[int, str] = {}
    for defined in book.iter(f"{_MAIN}definedName"):
        if defined.get("name") == "_xlnm._FilterDatabase" and defined.get("localSheetId"):
            ref = (defined.text or "").rsplit("!", 1)[-1].replace("$", "")
            filters[int(defined.get("localSheetId", "0"))] = ref
    names = set(package.namelist())
    out: dict[str, SheetPart] = {}
    for index, sheet in enumerate(sheets):
        part = targets.get(sheet.get(f"{_REL}id"))
        if part is None or part not in names:
            continue
        folder, file = posixpath.split(part)
        name = sheet.get("name", "")
        out[name] = SheetPart(
            name=name,
            part=part,
            hidden=sheet.get("state", "visible") != "visible",
            filter_ref=filters.get(index),
            has_rels=posixpath.join(folder, "_rels", file + ".rels") in names,
        )
    return out


def copy_member(
    source: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    out: zipfile.ZipFile,
    name: str,
    *,
    header: zipfile.ZipInfo | None = None,
) -> None:
    """Append ``info`` of ``source`` to ``out`` under ``name``, copying its compressed bytes.

    The CRC, sizes and method are the source's, so a reader checks the copy exactly as it
    checked the original. Time stamp and attributes are the source's too, or ``header``'s."""
    handle: Any = source.fp
    handle.seek(_data_offset(handle, info))

    like = header or info
    clone = zipfile.ZipInfo(name, date_time=like.date_time)
    clone.compress_type = info.compress_type
    clone.external_attr = like.external_attr
    clone.create_system = like.create_system
    clone.CRC = info.CRC
    clone.compress_size = info.compress_size
    clone.file_size = info.file_size
    zip64 = max(clone.file_size, clone.compress_size) > zipfile.ZIP64_LIMIT
    with out._lock:  # as ZipFile.mkdir does: header, then data, then the directory entry
        if out._seekable:
            out.fp.seek(out.start_dir)
        clone.header_offset = out.fp.tell()
        out._writecheck(clone)
        out._didModify = True
        out.fp.write(clone.FileHeader(zip64))
        left = info.compress_size
        while left:
            chunk = handle.read(min(left, _COPY_CHUNK))
            if not chunk:
                raise zipfile.BadZipFile(f"truncated data for {info.filename!r}")
            out.fp.write(chunk)
            left -= len(chunk)
        out.filelist.append(clone)
        out.NameToInfo[clone.filename] = clone
        out.start_dir = out.fp.tell()


def member_chunks(path: Path, info: zipfile.ZipInfo, size: int = _COPY_CHUNK) -> Iterator[bytes]:
    """The stored (compressed) bytes of member ``info`` of the package at ``path``, a chunk at
    a time, read through a handle of their own (any thread may read them)."""
    with path.open("rb") as handle:
        handle.seek(_data_offset(handle, info))
        left = info.compress_size
        while left:
            chunk = handle.read(min(left, size))
            if not chunk:
                raise zipfile.BadZipFile(f"truncated data for {info.filename!r}")
            left -= len(chunk)
            yield chunk


def _data_offset(handle: Any, info: zipfile.ZipInfo) -> int:
    """Where the data of ``info`` starts: after its local header, whose name and extra field
    may differ in length from the central directory's."""
    handle.seek(info.header_offset)
    local = handle.read(zipfile.sizeFileHeader)
    if len(local) != zipfile.sizeFileHeader or local[:4] != zipfile.stringFileHeader:
        raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    return info.header_offset + zipfile.sizeFileHeader + name_length + extra_length
