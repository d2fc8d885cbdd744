"""The macro side of the master workbook at run time: its VBA project and ribbon carried over
every rewrite (the rows of its xlwings.conf sheet are
:data:`swat_xl.workbook.xlwings_conf.XLWINGS_CONF`).

The master is a standalone xlwings workbook: no add-in is installed, so its own VBA
project carries the ``xlwings`` module (``RunPython``) and the ``Dictionary`` class.
That project is built once, at development time, by ``workbooks/vba_project.py`` (with
pyOpenVBA, see ``workbooks/build_vba.py``), and shipped as
``swat_xl/resources/vbaProject.bin`` together with the ribbon
``swat_xl/resources/customUI.xml``: users installing with pip have neither pyOpenVBA nor
the sources, and nothing here imports it.

* :func:`shipped_vba_project` and :func:`shipped_ribbon` read the built artifacts;
* :func:`add_ribbon` puts a ribbon into a written ``.xlsx``/``.xlsm`` package;
* :func:`extract_vba` and :func:`extract_ribbon` take both out of an existing
  workbook, so a rewrite of the master carries them over.

Package XML is read with :mod:`defusedxml` only and edited with string operations,
so a rewritten part keeps every byte that is not ours.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import io
import os
import posixpath
import re
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from swat_xl.adapters.packages import copy_member
from swat_xl.errors import WorkbookError

VBA_PART = "xl/vbaProject.bin"
CUSTOMUI_PART = "customUI/customUI.xml"
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2006/01/customui"
#: Relationship from the package to the Office 2007 ribbon (``customUI/customUI.xml``).
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"
#: Relationship to the Office 2010 ribbon (``customUI/customUI14.xml``); when present
#: Office ignores the 2007 one, so :func:`add_ribbon` removes it.
RIBBON14_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
VBA_REL_TYPE = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
OFFICE_DOCUMENT_REL_TYPE = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
RIBBON_REL_ID = "swatRibbon"

#: Zip timestamp of every member written here (the earliest a zip can hold).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

_RELATIONSHIP_RE = re.compile(
    r"<(?:[A-Za-z_][\w.-]*:)?Relationship\b[^>]*?(?:/>|>\s*</(?:[A-Za-z_][\w.-]*:)?Relationship\s*>)",
    re.DOTALL,
)
_OVERRIDE_RE = re.compile(
    r"<(?:[A-Za-z_][\w.-]*:)?Override\b[^>]*?(?:/>|>\s*</(?:[A-Za-z_][\w.-]*:)?Override\s*>)",
    re.DOTALL,
)
_DEFAULT_RE = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?Default\b[^>]*?/?>", re.DOTALL)
_ATTRIBUTE_RE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_CLOSING_RE = {
    "Relationships": re.compile(r"</(?:[A-Za-z_][\w.-]*:)?Relationships\s*>\s*$"),
    "Types": re.compile(r"</(?:[A-Za-z_][\w.-]*:)?Types\s*>\s*$"),
}


# ---------------------------------------------------------------------------
# The shipped artifacts (built by workbooks/build_vba.py)
# ---------------------------------------------------------------------------


def _resource(name: str) -> bytes:
    return (importlib.resources.files("swat_xl") / "resources" / name).read_bytes()


def shipped_vba_project() -> bytes:
    """The VBA project shipped in the package (built from ``workbooks/src``)."""
    return _resource("vbaProject.bin")


def shipped_ribbon() -> bytes:
    """The ribbon (``customUI.xml``, 2006 namespace) shipped in the package."""
    return _resource("customUI.xml")


# ---------------------------------------------------------------------------
# Reading packages
# ---------------------------------------------------------------------------


def _open_zip(path: str | Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WorkbookError("No se pudo abrir el libro como archivo de Excel", file=path) from exc


def _read_package(path: str | Path) -> tuple[list[zipfile.ZipInfo], dict[str, bytes]]:
    with _open_zip(path) as package:
        infos = package.infolist()
        try:
            return infos, {info.filename: package.read(info) for info in infos}
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise WorkbookError("El libro está dañado y no se pudo leer", file=path) from exc


def read_parts(path: str | Path) -> dict[str, bytes]:
    """Every part of a package, by zip member name, in the package's order."""
    return _read_package(path)[1]


def _parse(data: bytes, what: str, file: str | Path | None = None) -> Any:
    try:
        return SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise WorkbookError(f"La parte «{what}» del libro no es XML válido", file=file) from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(data: bytes, what: str, file: str | Path | None = None) -> list[dict[str, str]]:
    root = _parse(data, what, file)
    return [dict(el.attrib) for el in root if _local(el.tag) == "Relationship"]


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _resolve(source_part: str, target: str) -> str:
    """Zip member name of a relationship target (relative to ``source_part``'s folder)."""
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _target(
    parts: Mapping[str, bytes], source_part: str, rel_type: str, file: str | Path
) -> str | None:
    names = {name.casefold(): name for name in parts}
    rels = names.get(_rels_name(source_part).casefold())
    if rels is None:
        return None
    for rel in _relationships(parts[rels], rels, file):
        if rel.get("Type") == rel_type and rel.get("TargetMode") != "External":
            return names.get(_resolve(source_part, rel.get("Target", "")).casefold())
    return None


def extract_vba(path: str | Path) -> bytes | None:
    """The workbook's ``vbaProject.bin``, or ``None`` if it has no VBA project."""
    parts = read_parts(path)
    main = _target(parts, "", OFFICE_DOCUMENT_REL_TYPE, path)
    name = _target(parts, main, VBA_REL_TYPE, path) if main else None
    if name is None and VBA_PART in parts:
        name = VBA_PART
    return parts[name] if name else None


def extract_ribbon(path: str | Path) -> bytes | None:
    """The workbook's Office 2007 ribbon (``customUI/customUI.xml``), or ``None``."""
    parts = read_parts(path)
    name = _target(parts, "", RIBBON_REL_TYPE, path)
    return parts[name] if name else None


# ---------------------------------------------------------------------------
# Writing the ribbon
# ---------------------------------------------------------------------------


def _attributes(element: str) -> dict[str, str]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTRIBUTE_RE.finditer(element)}


def _insert_before_end(text: str, root: str, element: str, what: str) -> str:
    closing = _CLOSING_RE[root].search(text)
    if closing is not None:
        return text[: closing.start()] + element + text[closing.start() :]
    # An empty root written as <Root .../>.
    empty = re.search(rf"<((?:[A-Za-z_][\w.-]*:)?{root})\b([^>]*?)/>\s*$", text)
    if empty is None:
        raise WorkbookError(f"No se pudo modificar la parte «{what}» del libro")
    return f"{text[: empty.start()]}<{empty[1]}{empty[2]}>{element}</{empty[1]}>"


def check_ribbon(customui_xml: bytes) -> None:
    """Refuse what is not well-formed XML rooted at a 2006 ``customUI`` element."""
    root = _parse(customui_xml, CUSTOMUI_PART)
    if root.tag != f"{{{CUSTOMUI_NS}}}customUI":
        raise ValueError(
            f"La cinta debe ser un elemento customUI del espacio de nombres {CUSTOMUI_NS}"
        )


def _package_rels(data: bytes, file: str | Path) -> tuple[bytes, set[str]]:
    """``_rels/.rels`` with ours as its only ribbon relationship, and the parts it dropped."""
    _relationships(data, "_rels/.rels", file)  # well-formed, or WorkbookError
    text = data.decode("utf-8")
    dropped: set[str] = set()
    ids: set[str] = set()

    def keep(match: re.Match[str]) -> str:
        attrs = _attributes(match[0])
        if attrs.get("Type") in (RIBBON_REL_TYPE, RIBBON14_REL_TYPE):
            if attrs.get("TargetMode") != "External":
                dropped.add(_resolve("", attrs.get("Target", "")).casefold())
            return ""
        ids.add(attrs.get("Id", ""))
        return match[0]

    text = _RELATIONSHIP_RE.sub(keep, text)
    rel_id, n = RIBBON_REL_ID, 1
    while rel_id in ids:
        n += 1
        rel_id = f"{RIBBON_REL_ID}{n}"
    element = f'<Relationship Id="{rel_id}" Type="{RIBBON_REL_TYPE}" Target="{CUSTOMUI_PART}"/>'
    return _insert_before_end(text, "Relationships", element, "_rels/.rels").encode(
        "utf-8"
    ), dropped


def _content_types(data: bytes, dropped: set[str], file: str | Path) -> bytes:
    """``[Content_Types].xml`` without overrides of dropped parts, covering ``customUI.xml``."""
    _parse(data, "[Content_Types].xml", file)
    text = data.decode("utf-8")

    def keep(match: re.Match[str]) -> str:
        part = _attributes(match[0]).get("PartName", "").lstrip("/").casefold()
        return "" if part in dropped else match[0]

    text = _OVERRIDE_RE.sub(keep, text)
    has_xml = any(
        _attributes(m[0]).get("Extension", "").casefold() == "xml"
        for m in _DEFAULT_RE.finditer(text)
    )
    if not has_xml:
        element = f'<Override PartName="/{CUSTOMUI_PART}" ContentType="application/xml"/>'
        text = _insert_before_end(text, "Types", element, "[Content_Types].xml")
    return text.encode("utf-8")


def zip_info(name: str, compress_type: int) -> zipfile.ZipInfo:
    """A member header that depends on nothing but ``name`` and ``compress_type``."""
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = compress_type
    # Fixed "made by" system and permissions: ZipInfo's defaults depend on the OS.
    info.create_system = 3
    info.external_attr = (0o40755 << 16) | 0x10 if name.endswith("/") else 0o644 << 16
    return info


def _write_atomic(dst: Path, data: bytes) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, dst)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise WorkbookError(
            "No se pudo guardar el libro; si está abierto en Excel, ciérrelo y repita", file=dst
        ) from exc


def add_ribbon(src: str | Path, dst: str | Path, customui_xml: bytes) -> None:
    """Write ``src`` to ``dst`` (they may be the same file) with ``customui_xml`` as its ribbon.

    Any ribbon already there (2007 or 2010 part, its relationship, the ``customUI/``
    folder and its content-type overrides) is replaced, so applying this twice gives
    the same bytes as once. Other parts keep their bytes, order and compression;
    every member gets the timestamp 1980-01-01 and no extra fields, so the output
    depends on nothing but the inputs.
    """
    check_ribbon(customui_xml)
    src, dst = Path(src), Path(dst)
    buffer = io.BytesIO()
    with _open_zip(src) as package:
        infos = package.infolist()
        names = {info.filename for info in infos}
        if "_rels/.rels" not in names or "[Content_Types].xml" not in names:
            raise WorkbookError(
                "El archivo no es un libro de Excel (faltan partes del paquete)", file=src
            )
        try:
            package_rels = package.read("_rels/.rels")
            types = package.read("[Content_Types].xml")
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise WorkbookError("El libro está dañado y no se pudo leer", file=src) from exc

        rels, dropped = _package_rels(package_rels, src)
        drop = {name.casefold() for name in dropped}
        drop |= {_rels_name(name).casefold() for name in dropped}
        drop |= {name.casefold() for name in names if name.casefold().startswith("customui/")}
        content_types = _content_types(types, drop, src)
        edited = {"_rels/.rels": rels, "[Content_Types].xml": content_types}

        written: set[str] = set()
        with zipfile.ZipFile(buffer, "w") as out:
            for info in infos:
                name = info.filename
                if name.casefold() in drop or name in written:
                    continue
                written.add(name)
                header = zip_info(name, info.compress_type)
                if name in edited:
                    out.writestr(header, edited[name])
                else:  # the compressed bytes as they are: no inflating and deflating again
                    copy_member(package, info, out, name, header=header)
            out.writestr(zip_info(CUSTOMUI_PART, zipfile.ZIP_DEFLATED), customui_xml)
    _write_atomic(dst, buffer.getvalue())
