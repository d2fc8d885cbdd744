"""Guards against hostile files, run before any parser sees them.

File-level checks (existence, size, the first bytes), zip bombs refused from the directory
and by inflating with a counter (a lying directory is refused), and the extent of each sheet
measured from its XML: ``python_calamine`` allocates the whole used range, so a lone cell in
XFD1048576 would exhaust memory and abort the process.

The limits are module constants so tests can lower them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from swat_xl.errors import ExportError

try:  # ISA-L's inflate: about three times zlib's speed on a big sheet (on the way to the parse)
    from isal import isal_zlib as _inflating
except ImportError:  # pragma: no cover - a platform without its wheel: zlib
    _inflating = zlib  # type: ignore[assignment]
_INFLATE_ERRORS = (zlib.error, _inflating.error)

MAX_UNCOMPRESSED_BYTES = 1_500_000_000  # whole workbook, uncompressed
MAX_COMPRESSION_RATIO = 200  # a member above this ratio ...
RATIO_CHECK_MIN_BYTES = 100_000_000  # ... and this uncompressed size is a zip bomb
MAX_ROWS = 1_048_576  # Excel's limits
MAX_COLUMNS = 16_384
MAX_CELLS = 30_000_000  # rows x columns of the used range calamine would allocate
MAX_TEXT_BYTES = 600_000_000  # csv / txt file size

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_CHUNK = 1 << 24  # decompressed bytes per step when scanning a sheet
_READ = 1 << 20
_DEFLATE_MAX_RATIO = 1100  # deflate cannot expand more than ~1032:1
_SMALL_MEMBER = 64 << 20  # members that cannot inflate beyond this are not re-checked

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


# --- zip bombs -----------------------------------------------------------------------------------


def _corrupt_error(path: Path) -> ExportError:
    return ExportError(
        "El libro de Excel está dañado o incompleto y no se puede abrir (¿se descargó o copió "
        "a medias?). Expórtelo de nuevo desde Power BI.",
        file=path,
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
    inflater = _inflating.decompressobj(-15)
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
    except _INFLATE_ERRORS as exc:
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


# --- sheet extent --------------------------------------------------------------------------------
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


def _keeping(pieces: Iterator[bytes], kept: list[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        kept.append(piece)
        yield piece


def _scan_regular(pieces: Iterator[bytes]) -> tuple[int, int] | None:
    """Largest far row/column when every cell has a leading r="..." (None if one has not).

    Only references in column AA or beyond, or row 1,000,000 or beyond, are looked at: others
    cannot break a limit on their own.
    """
    max_row = max_col = 0
    for piece in pieces:
        if _PREFIXED_CELL.search(piece):
            return None
        if _plain_cells(piece):
            continue  # nothing the expression below would find
        for match in _CELL_SCAN.finditer(piece):
            if match.group(1) is not None:
                return None
            if match.group(4):
                continue
            max_col = max(max_col, _column_number(match.group(2)))
            max_row = max(max_row, int(match.group(3)))
    return max_row, max_col


@functools.lru_cache(maxsize=1)
def _byte_classes() -> tuple[Any, Any, Any]:
    """Lookup tables (numpy, a bool per byte value) of :func:`_plain_cells`' byte classes:
    what follows "<c" in a cell without attributes, letters, digits."""
    import numpy as np

    def table(members: bytes) -> Any:
        found = np.zeros(256, dtype=bool)
        found[list(members)] = True
        return found

    return table(_ODD_AFTER_C), table(_LETTERS), table(b"0123456789")


_ODD_AFTER_C = b">\t\r\n/"  # after "<c": a cell without attributes, or a tab, line break…
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SEEN_AFTER = 14  # bytes after "<c" looked at: ' r="' then a letter and seven digits


def _plain_cells(piece: bytes) -> bool:
    """True when no "<c" of ``piece`` can start a match of :data:`_CELL_SCAN`: each is a
    cell's ``<c r="`` followed by one letter and fewer than seven digits (a reference in
    columns A to Z, rows below 1,000,000), or the start of another tag (``<col``); False
    when unsure (the expression then looks). Looked at with numpy, whose loops leave the
    GIL to the other thread while the sheet is checked on the way to its parse: the
    expression took 0.4 s on a 139 MB sheet, holding it."""
    import numpy as np  # loaded here: the reading thread starts before pandas and numpy

    odd, letter, digit = _byte_classes()
    data = np.frombuffer(piece, dtype=np.uint8)
    at = np.flatnonzero((data[:-1] == ord("<")) & (data[1:] == ord("c")))
    if not len(at):
        return True
    near_end = at + _SEEN_AFTER >= len(data)
    if near_end.any():  # too near the end to look at so: the expression looks at them
        if any(_CELL_SCAN.match(piece, int(start)) for start in at[near_end]):
            return False
        at = at[~near_end]
    after = data[at + 2]
    if odd[after].any():
        return False
    cells = at[after == ord(" ")]
    if not (
        (data[cells + 3] == ord("r")).all()
        and (data[cells + 4] == ord("=")).all()
        and (data[cells + 5] == ord('"')).all()
    ):
        return False  # an attribute before the reference, or none
    lettered = cells[letter[data[cells + 6]]]  # other references cannot match
    if letter[data[lettered + 7]].any():
        return False  # two letters or more: column AA or beyond
    seven = np.ones(len(lettered), dtype=bool)
    for offset in range(7, 14):
        seven &= digit[data[lettered + offset]]
    return not seven.any()  # seven digits or more: row 1,000,000 or beyond


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
    path: Path,
    archive: zipfile.ZipFile,
    raw: BinaryIO,
    info: zipfile.ZipInfo,
    sheet: str,
    kept: list[bytes] | None = None,
) -> None:
    """Refuse a sheet whose used range is beyond Excel's limits or too big to allocate.

    Given ``kept``, a sheet whose every cell has a leading ``r="..."`` leaves its XML there,
    uncompressed, in pieces (for :mod:`._halves`); any other sheet leaves it empty."""

    def scan(measure: Callable[[Iterator[bytes]], Any], keep: bool = False) -> Any:
        pieces = _split_chunks(_read_ahead(_iter_member(raw, info, path)))
        try:
            return measure(_keeping(pieces, kept) if keep and kept is not None else pieces)
        finally:
            pieces.close()

    far = scan(_scan_regular, keep=True)
    if far is None:
        if kept is not None:
            kept.clear()
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
