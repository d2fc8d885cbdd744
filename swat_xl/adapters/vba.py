"""The source of a VBA project's modules, read from its ``vbaProject.bin`` (wraps olefile).

A ``vbaProject.bin`` is a compound file ([MS-CFB], read with :mod:`olefile`). Its ``VBA/dir``
stream, compressed with the [MS-OVBA] 2.4.1 algorithm, lists the modules: for each, the name
of its stream under ``VBA/`` and the offset where its compressed source starts (Excel puts
compiled code before it). This is all ``swat-xl doctor`` needs to compare a workbook's macros
with the ones swat_xl ships; building a project is a development task (``workbooks/``).
"""

from __future__ import annotations

import codecs
import struct

import olefile

from swat_xl.errors import WorkbookError

# [MS-OVBA] 2.3.4.2 record ids of the dir stream that matter here.
_CODEPAGE = 0x0003
_PROJECTVERSION = 0x0009  # its Size field says 4 but 6 bytes follow
_MODULENAME = 0x0019
_MODULENAMEUNICODE = 0x0047
_MODULESTREAMNAME = 0x001A
_MODULESTREAMNAMEUNICODE = 0x0032
_MODULEOFFSET = 0x0031
_MODULETERMINATOR = 0x002B
_DIRTERMINATOR = 0x0010
_CHUNK = 4096


class _Corrupt(Exception):
    pass


def decompress(data: bytes) -> bytes:
    """A CompressedContainer ([MS-OVBA] 2.4.1) decompressed."""
    if not data or data[0] != 0x01:
        raise _Corrupt("no es un contenedor comprimido de VBA")
    out = bytearray()
    pos = 1
    while pos + 2 <= len(data):
        (header,) = struct.unpack_from("<H", data, pos)
        end = min(pos + (header & 0x0FFF) + 3, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:  # a raw chunk: 4096 bytes as they are
            out += data[pos : pos + _CHUNK]
            pos += _CHUNK
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                    continue
                if pos + 2 > end:
                    raise _Corrupt("símbolo de copia truncado")
                (token,) = struct.unpack_from("<H", data, pos)
                pos += 2
                bits = max((len(out) - start - 1).bit_length(), 4)
                offset = (token >> (16 - bits)) + 1
                length = (token & (0xFFFF >> bits)) + 3
                if offset > len(out) - start:
                    raise _Corrupt("símbolo de copia fuera del bloque")
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)


def _modules(directory: bytes) -> tuple[str, list[tuple[str, str, int]]]:
    """The project's code page and ``(name, stream, offset)`` of each module."""
    encoding = "cp1252"
    modules: list[tuple[str, str, int]] = []
    name = stream = ""
    offset = 0
    pos = 0
    while pos + 6 <= len(directory):
        record, size = struct.unpack_from("<HI", directory, pos)
        pos += 6
        if record == _PROJECTVERSION:
            pos += 6
            continue
        body = directory[pos : pos + size]
        pos += size
        if record == _CODEPAGE and size == 2:
            page = struct.unpack("<H", body)[0]
            encoding = f"cp{page}" if _known(f"cp{page}") else "cp1252"
        elif record == _MODULENAME:
            name = body.decode(encoding, errors="replace")
        elif record == _MODULENAMEUNICODE:
            name = body.decode("utf-16-le", errors="replace") or name
        elif record == _MODULESTREAMNAME:
            stream = body.decode(encoding, errors="replace")
        elif record == _MODULESTREAMNAMEUNICODE:
            stream = body.decode("utf-16-le", errors="replace") or stream
        elif record == _MODULEOFFSET and size == 4:
            offset = struct.unpack("<I", body)[0]
        elif record == _MODULETERMINATOR:
            modules.append((name, stream or name, offset))
            name = stream = ""
            offset = 0
        elif record == _DIRTERMINATOR:
            break
    return encoding, modules


def _known(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def module_sources(project: bytes) -> dict[str, str]:
    """The source code of every module of a ``vbaProject.bin``, by module name (LF lines)."""
    if not project.startswith(olefile.MAGIC):
        raise WorkbookError("No se pudieron leer las macros del libro (no es un proyecto VBA)")
    try:
        with olefile.OleFileIO(project) as ole:
            encoding, modules = _modules(decompress(ole.openstream("VBA/dir").read()))
            sources = {}
            for name, stream, offset in modules:
                data = ole.openstream(f"VBA/{stream}").read()
                text = decompress(data[offset:]).decode(encoding, errors="replace")
                sources[name] = text.replace("\r\n", "\n").replace("\r", "\n")
    except Exception as exc:  # olefile's own errors, and its AttributeError/IndexError on junk
        raise WorkbookError(f"No se pudieron leer las macros del libro ({exc})") from exc
    return sources
