"""``swat-xl doctor`` and the ribbon's «Ayuda»: what stands between this PC and a working ribbon.

:func:`diagnose` is plain logic over two descriptions:

* an :class:`Environment` — the Python running, the installed distributions, environment
  variables, and three questions only the operating system answers (does a file exist, what
  does its mark of the Web say, is its drive a network drive);
* :class:`WorkbookFacts` — the workbook's path (as Excel or the user gave it), the modules of
  its VBA project and the rows of its ``xlwings.conf`` sheet.

:func:`current_environment` and :func:`workbook_facts` gather the real ones; the tests build
both by hand. Each check gives a :class:`Finding`; ``fix`` findings are what must change for
the ribbon to work (the command's exit code is then non-zero), ``warning`` ones may hurt.
"""

from __future__ import annotations

import ntpath
import os
import posixpath
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from swat_xl import __version__
from swat_xl.errors import SwatError

#: Python versions the offline bundle carries wheels for (``swat-xl bundle``).
SUPPORTED_PYTHONS = ((3, 11), (3, 12), (3, 13))
CONF_SHEET = "xlwings.conf"
#: The module of the VBA project that holds the ribbon's callbacks (workbooks/src/SWAT.bas).
RIBBON_MODULE = "SWAT"
XLWINGS_MODULE = "xlwings"
#: Mark-of-the-Web zones whose files Office opens with macros blocked (Internet, restricted).
BLOCKED_ZONES = {3: "Internet", 4: "sitios restringidos"}
ONEDRIVE_VARIABLES = ("OneDrive", "OneDriveCommercial", "OneDriveConsumer")
DEFAULT_INTERPRETER = r"%USERPROFILE%\swat_xl\.venv\Scripts\pythonw.exe"
LOCAL_FOLDER_FIX = (
    "Copie el libro y su registro «.swat.sqlite» (siempre juntos) a una carpeta local, por "
    "ejemplo C:\\SWAT, y ábralo desde allí."
)
GUIDE = "docs/instalacion-windows.md"

OK, INFO, WARNING, FIX = "ok", "info", "warning", "fix"
_LABELS = {OK: "bien", INFO: "info", WARNING: "aviso", FIX: "corregir"}

_XLWINGS_VERSION = re.compile(r'^\s*Public\s+Const\s+XLWINGS_VERSION\s+As\s+String\s*=\s*"([^"]*)"')
_RUN_ACTION = re.compile(r'\bRunAction\s+"([^"]+)"')
_ZONE_ID = re.compile(r"^\s*ZoneId\s*=\s*(\d+)", re.IGNORECASE | re.MULTILINE)
_VARIABLE = re.compile(r"%([^%]+)%")


@dataclass(frozen=True)
class Finding:
    check: str  # what was checked: python, xlwings, interpreter, location, ...
    status: str  # ok, info, warning or fix
    message: str  # what was found (Spanish)
    fix: str = ""  # what to do about it (Spanish)


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    workbook: str | None = None

    @property
    def needs_fixing(self) -> bool:
        return any(f.status == FIX for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": not self.needs_fixing,
            "swat_xl": __version__,
            "workbook": self.workbook,
            "checks": [asdict(f) for f in self.findings],
        }

    def text(self, *, problems_only: bool = False) -> str:
        """The report as a person reads it (Spanish), one check per paragraph; with
        ``problems_only``, the checks that found something (the ribbon's «Ayuda»)."""
        lines = [f"Diagnóstico de swat_xl {__version__}"]
        for finding in self.findings:
            if problems_only and finding.status not in (WARNING, FIX):
                continue
            lines.append(f"[{_LABELS[finding.status]}] {finding.message}")
            if finding.fix and finding.status in (WARNING, FIX):
                lines.append(f"    Qué hacer: {finding.fix}")
        problems = sum(f.status == FIX for f in self.findings)
        if problems:
            lines.append(f"Hay {problems} {'cosa' if problems == 1 else 'cosas'} por corregir.")
        else:
            lines.append("Nada que corregir.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Environment:
    """What :func:`diagnose` knows about the machine (injected in tests)."""

    platform: str  # sys.platform: "win32", "linux", "darwin"
    python: tuple[int, int, int]
    bits: int  # 64 or 32
    executable: str  # the running interpreter
    variables: Mapping[str, str]  # environment variables
    versions: Mapping[str, str | None]  # installed version by distribution name (None: absent)
    exists: Callable[[str], bool]
    zone_identifier: Callable[[str], str | None]  # text of the Zone.Identifier stream
    drive_type: Callable[[str], str]  # "local", "remote", "removable", "unknown"…

    @property
    def windows(self) -> bool:
        return self.platform == "win32"

    def variable(self, name: str) -> str | None:
        """An environment variable; case-insensitive on Windows, as Windows compares them."""
        if name in self.variables or not self.windows:
            return self.variables.get(name)
        folded = name.casefold()
        return next((v for k, v in self.variables.items() if k.casefold() == folded), None)


@dataclass(frozen=True)
class WorkbookFacts:
    """What :func:`diagnose` knows about one workbook."""

    path: str  # as given, or Excel's ``FullName`` (a URL for a book opened from OneDrive)
    problem: str | None = None  # why the file could not be read, if it could not
    vba: Mapping[str, str] | None = None  # module name → source; None: no VBA project
    conf: Mapping[str, Any] | None = None  # xlwings.conf: KEY (upper case) → value; None: no sheet
    notes: list[str] = field(default_factory=list)


# -- gathering the real facts -----------------------------------------------------------------
def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def current_environment() -> Environment:
    """This machine, as the checks see it."""
    from swat_xl.adapters import windows

    return Environment(
        platform=sys.platform,
        python=(sys.version_info.major, sys.version_info.minor, sys.version_info.micro),
        bits=64 if sys.maxsize > 2**32 else 32,
        executable=sys.executable,
        variables=dict(os.environ),
        versions={name: _installed(name) for name in ("xlwings", "pywin32")},
        exists=os.path.exists,
        zone_identifier=windows.zone_identifier,
        drive_type=windows.drive_type,
    )


def conf_from_rows(rows: list[list[Any]]) -> dict[str, Any]:
    """The ``xlwings.conf`` sheet's key/value rows (A/B from row 1 down to the first empty
    key, as the xlwings VBA reads them), keys in upper case."""
    conf: dict[str, Any] = {}
    for row in rows:
        key = str(row[0]).strip() if row and row[0] is not None else ""
        if not key:
            break
        conf.setdefault(key.upper(), row[1] if len(row) > 1 else None)
    return conf


def workbook_facts(path: str | Path, *, conf: bool = True) -> WorkbookFacts:
    """The facts of a workbook file on disk (nothing is written); without ``conf``, its
    ``xlwings.conf`` sheet is not read (the ribbon reads it from the open book)."""
    from swat_xl.adapters.vba import module_sources
    from swat_xl.adapters.xlsm import extract_vba

    text = os.path.abspath(path)
    if not Path(text).is_file():
        return WorkbookFacts(text, problem="missing")
    try:
        project = extract_vba(text)
        vba = module_sources(project) if project is not None else None
        settings = _conf_of_file(text) if conf else None
    except SwatError as error:
        return WorkbookFacts(text, problem=str(error))
    return WorkbookFacts(text, vba=vba, conf=settings)


def _conf_of_file(path: str) -> dict[str, Any] | None:
    from swat_xl.adapters.xlsx_file import FileWorkbook

    book = FileWorkbook(path)
    return conf_from_rows(book.rows(CONF_SHEET)) if CONF_SHEET in book.sheet_names() else None


@cache
def shipped_modules() -> dict[str, str]:
    """The VBA modules this swat_xl ships (``swat_xl/resources/vbaProject.bin``)."""
    from swat_xl.adapters.vba import module_sources
    from swat_xl.adapters.xlsm import shipped_vba_project

    return module_sources(shipped_vba_project())


# -- the checks -------------------------------------------------------------------------------
def diagnose(
    env: Environment,
    workbook: WorkbookFacts | None = None,
    *,
    shipped: Mapping[str, str] | None = None,
) -> Report:
    """Every check that applies. ``shipped`` are this swat_xl's VBA modules (default: the
    packaged project, whose ``SWAT`` module names the actions this swat_xl runs)."""
    shipped = shipped_modules() if shipped is None else shipped
    expected_xlwings = vba_xlwings_version(shipped)
    findings = [
        _python(env),
        Finding("swat_xl", OK, f"swat_xl {__version__} en «{env.executable}»."),
        _xlwings(env, expected_xlwings),
    ]
    if env.windows:
        findings.append(_pywin32(env))
    if workbook is not None:
        findings += _workbook(env, workbook, shipped)
    return Report(findings, workbook.path if workbook else None)


def vba_xlwings_version(modules: Mapping[str, str]) -> str | None:
    """``XLWINGS_VERSION`` of the project's ``xlwings`` module, or None without one."""
    source = _module(modules, XLWINGS_MODULE)
    if source is None:
        return None
    for line in source.splitlines():
        found = _XLWINGS_VERSION.match(line)
        if found:
            return found[1]
    return None


def _module(modules: Mapping[str, str], name: str) -> str | None:
    folded = name.casefold()  # VBA module names are case-insensitive
    return next((s for n, s in modules.items() if n.casefold() == folded), None)


def _python(env: Environment) -> Finding:
    version = ".".join(map(str, env.python))
    where = f"Python {version} de {env.bits} bits"
    first, last = SUPPORTED_PYTHONS[0], SUPPORTED_PYTHONS[-1]
    supported = "3.11, 3.12 o 3.13 de 64 bits"
    if env.python[:2] < first:
        return Finding(
            "python",
            FIX,
            f"{where}: swat_xl necesita Python 3.11 o más nuevo.",
            f"Instale Python {supported} ({GUIDE}, paso 1) y vuelva a crear el entorno.",
        )
    if env.windows and env.bits != 64:
        return Finding(
            "python",
            FIX,
            f"{where}: el paquete de instalación solo trae ruedas de 64 bits (win_amd64).",
            f"Instale el «Windows installer (64-bit)» de Python {supported} y vuelva a "
            "ejecutar instalar.bat.",
        )
    if env.python[:2] > last:
        return Finding(
            "python",
            WARNING,
            f"{where}: más nuevo que las versiones probadas (3.11 a 3.13); el paquete de "
            "instalación sin Internet no trae ruedas para él.",
            "Si la instalación o algún botón falla, use Python 3.13.",
        )
    return Finding("python", OK, f"{where}.")


def _xlwings(env: Environment, expected: str | None) -> Finding:
    installed = env.versions.get("xlwings")
    if installed is None:
        return Finding(
            "xlwings",
            FIX,
            "xlwings no está instalado en este Python: la cinta no puede llamar a swat_xl.",
            "Instale swat_xl en este entorno (instalar.bat del paquete, o pip install swat-xl).",
        )
    if expected and installed != expected:
        return Finding(
            "xlwings",
            FIX,
            f"xlwings {installed} instalado, pero las macros de swat_xl {__version__} son de "
            f"xlwings {expected}.",
            f"Reinstale swat_xl (instalar.bat): instala xlwings {expected}.",
        )
    return Finding("xlwings", OK, f"xlwings {installed}.")


def _pywin32(env: Environment) -> Finding:
    if env.versions.get("pywin32") is None:
        return Finding(
            "pywin32",
            FIX,
            "Falta pywin32, que xlwings necesita en Windows para hablar con Excel (un paquete "
            "preparado con «pip download --platform win_amd64» en otro sistema lo deja fuera).",
            "Reinstale con el paquete que genera «swat-xl bundle» (instalar.bat).",
        )
    return Finding("pywin32", OK, f"pywin32 {env.versions['pywin32']}.")


def _workbook(
    env: Environment,
    book: WorkbookFacts,
    shipped: Mapping[str, str],
) -> list[Finding]:
    findings = [_location(env, book.path)]
    if _is_url(book.path):
        pass  # a book opened from OneDrive/SharePoint: no local file to read
    elif book.problem == "missing":
        return [
            Finding(
                "workbook",
                FIX,
                f"No existe el libro «{book.path}».",
                "Revise la ruta (--workbook) y vuelva a intentarlo.",
            )
        ]
    elif book.problem:
        return [Finding("workbook", FIX, book.problem, "Use el libro maestro del paquete.")]
    else:
        findings.append(_blocked(env, book.path))
    findings += _macros(env, book, shipped)
    if book.conf is not None or not _is_url(book.path):
        findings.append(_interpreter(env, book.conf))
    return findings


def _is_url(path: str) -> bool:
    return path.lower().startswith(("http://", "https://"))


def _flavour(env: Environment) -> Any:
    return ntpath if env.windows else posixpath


def _under(path: str, folder: str, env: Environment) -> bool:
    paths = _flavour(env)
    norm = (lambda p: paths.normcase(paths.normpath(p))) if env.windows else paths.normpath
    child, parent = norm(path), norm(folder)
    return child == parent or child.startswith(parent.rstrip("\\/") + paths.sep)


def _location(env: Environment, path: str) -> Finding:
    why = (
        "el registro SQLite y el bloqueo de swat_xl junto al libro no son seguros allí "
        "(copias en conflicto, archivos a medio sincronizar)"
    )
    if _is_url(path):
        return Finding(
            "location",
            FIX,
            f"El libro se abrió desde OneDrive/SharePoint («{path}»): {why}.",
            LOCAL_FOLDER_FIX,
        )
    if path.startswith(("\\\\", "//")):
        return Finding(
            "location",
            FIX,
            f"El libro está en una carpeta de red («{path}»): {why}.",
            LOCAL_FOLDER_FIX,
        )
    for name in ONEDRIVE_VARIABLES:
        folder = env.variable(name)
        if folder and _under(path, folder, env):
            return Finding(
                "location",
                FIX,
                f"El libro está en una carpeta sincronizada con OneDrive («{folder}»): {why}.",
                LOCAL_FOLDER_FIX,
            )
    if env.windows and env.drive_type(path) == "remote":
        drive = ntpath.splitdrive(path)[0]
        return Finding(
            "location",
            FIX,
            f"El libro está en la unidad de red {drive} («{path}»): {why}.",
            LOCAL_FOLDER_FIX,
        )
    folder = _flavour(env).dirname(path) or path
    return Finding("location", OK, f"El libro está en una carpeta local («{folder}»).")


def zone_id(text: str | None) -> int | None:
    """The ``ZoneId`` of a ``Zone.Identifier`` stream's text, or None."""
    found = _ZONE_ID.search(text or "")
    return int(found[1]) if found else None


def _blocked(env: Environment, path: str) -> Finding:
    zone = zone_id(env.zone_identifier(path))
    if zone in BLOCKED_ZONES:
        return Finding(
            "blocked",
            FIX,
            f"El libro tiene la marca de la Web (zona {BLOCKED_ZONES[zone]}: se descargó de "
            "Internet, del correo o de Teams): Excel bloquea sus macros con «RIESGO DE "
            "SEGURIDAD».",
            "Cierre el libro, clic derecho en el archivo → Propiedades → marque «Desbloquear» → "
            f'Aceptar (o en PowerShell: Unblock-File -Path "{path}").',
        )
    if not env.windows:
        return Finding("blocked", INFO, "La marca de la Web solo se puede comprobar en Windows.")
    return Finding(
        "blocked", OK, "El libro no tiene la marca de la Web (sus macros no se bloquean)."
    )


def _macros(
    env: Environment,
    book: WorkbookFacts,
    shipped: Mapping[str, str],
) -> list[Finding]:
    if book.vba is None:
        if _is_url(book.path):
            return []
        return [
            Finding(
                "macros",
                FIX,
                "El libro no tiene macros (proyecto VBA): no habrá cinta SWAT.",
                "Use SWAT_Detractores.xlsm del paquete (o «Guardar como» → «Libro de Excel "
                "habilitado para macros (.xlsm)» sobre el libro maestro de swat_xl).",
            )
        ]
    findings = []
    vba_xlwings = vba_xlwings_version(book.vba)
    installed = env.versions.get("xlwings")
    expected = vba_xlwings_version(shipped)
    if vba_xlwings is None:
        findings.append(
            Finding(
                "vba_xlwings",
                FIX,
                "Las macros del libro no traen el módulo «xlwings» (RunPython).",
                "Use SWAT_Detractores.xlsm del paquete de esta versión de swat_xl.",
            )
        )
    elif installed and vba_xlwings != installed:
        fix = (
            f"Use el libro maestro de swat_xl {__version__} (SWAT_Detractores.xlsm del paquete)."
            if installed == expected
            else f"Reinstale swat_xl (instalar.bat): instala xlwings {expected or vba_xlwings}."
        )
        findings.append(
            Finding(
                "vba_xlwings",
                FIX,
                f"El módulo VBA de xlwings del libro es {vba_xlwings} y este Python tiene "
                f"xlwings {installed}: deben ser la misma versión.",
                fix,
            )
        )
    else:
        findings.append(Finding("vba_xlwings", OK, f"Macros de xlwings {vba_xlwings}."))
    findings.append(_ribbon(book.vba, shipped))
    return findings


def _ribbon(vba: Mapping[str, str], shipped: Mapping[str, str]) -> Finding:
    source = _module(vba, RIBBON_MODULE)
    if source is None:
        return Finding(
            "vba_swat",
            FIX,
            f"Las macros del libro no traen el módulo «{RIBBON_MODULE}» (los botones de la cinta).",
            "Use SWAT_Detractores.xlsm del paquete de esta versión de swat_xl.",
        )
    mine = _module(shipped, RIBBON_MODULE) or ""
    unknown = sorted(set(_RUN_ACTION.findall(source)) - set(_RUN_ACTION.findall(mine)))
    if unknown:
        return Finding(
            "vba_swat",
            FIX,
            f"La cinta del libro pide acciones que swat_xl {__version__} no conoce: "
            + ", ".join(f"«{a}»" for a in unknown)
            + ".",
            "Instale la versión de swat_xl que corresponde al libro.",
        )
    if mine and _code(mine) != _code(source):
        return Finding(
            "vba_swat",
            WARNING,
            f"Las macros «{RIBBON_MODULE}» del libro no son las de swat_xl {__version__} "
            "(el libro viene de otra versión, o alguien las editó).",
            "Los botones funcionan mientras pidan acciones conocidas; para las macros de esta "
            "versión, use SWAT_Detractores.xlsm del paquete.",
        )
    return Finding("vba_swat", OK, f"Macros «{RIBBON_MODULE}» de swat_xl {__version__}.")


def _code(source: str) -> list[str]:
    """A module's lines as the VBE compares them: no attribute lines, no trailing blanks."""
    lines = [line.rstrip() for line in source.splitlines()]
    lines = [line for line in lines if not line.startswith("Attribute VB_")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def expand_variables(text: str, env: Environment) -> tuple[str, list[str]]:
    """``text`` with ``%NAME%`` replaced as Windows' ExpandEnvironmentStrings does (unknown
    names stay as they are); and the unknown names."""
    unknown: list[str] = []

    def value(found: re.Match[str]) -> str:
        got = env.variable(found[1])
        if got is None:
            unknown.append(found[1])
            return found[0]
        return got

    return _VARIABLE.sub(value, text), unknown


def _interpreter(env: Environment, conf: Mapping[str, Any] | None) -> Finding:
    where = f"(Interpreter_Win de la hoja «{CONF_SHEET}»)"
    here = _flavour(env).join(_flavour(env).dirname(env.executable), "pythonw.exe")
    if conf is None:
        return Finding(
            "interpreter",
            FIX,
            f"El libro no tiene la hoja «{CONF_SHEET}»: xlwings no sabe qué Python usar.",
            f"Use SWAT_Detractores.xlsm del paquete, o agregue la hoja ({GUIDE}, paso 5).",
        )
    raw = conf.get("INTERPRETER_WIN") or conf.get("INTERPRETER") or ""
    value = str(raw).strip()
    if not value:
        return Finding(
            "interpreter",
            FIX,
            f"La hoja «{CONF_SHEET}» no dice qué Python usar (Interpreter_Win vacío).",
            f"Escriba en B1 la ruta de pythonw.exe del entorno, por ejemplo {DEFAULT_INTERPRETER}"
            + (f" (en este PC: {here})." if env.windows else "."),
        )
    if not env.windows:
        return Finding(
            "interpreter",
            INFO,
            f"Python del libro {where}: «{value}» (solo se puede comprobar en Windows).",
        )
    path, unknown = expand_variables(value, env)
    if unknown:
        names = ", ".join(f"%{name}%" for name in unknown)
        return Finding(
            "interpreter",
            FIX,
            f"La ruta del Python del libro {where} usa {names}, que no existe en este PC.",
            f"Escriba en B1 la ruta completa de pythonw.exe, por ejemplo {here}.",
        )
    if not env.exists(path):
        return Finding(
            "interpreter",
            FIX,
            f"No existe «{path}» {where}: Excel mostrará «Could not find Interpreter!».",
            "Cree el entorno en esa ruta (instalar.bat) o escriba en B1 la ruta de pythonw.exe "
            f"de su entorno (este: {here}).",
        )
    notes = []
    if ntpath.basename(path).lower() != "pythonw.exe":
        notes.append("no es pythonw.exe: cada botón abrirá una ventana negra")
    if not path.isascii():
        notes.append(
            "tiene tildes, «ñ» u otros caracteres especiales: si aparece «Could not find "
            "Interpreter!», cree el entorno en una ruta sin ellos (por ejemplo C:\\swat_xl\\.venv)"
        )
    if ntpath.normcase(ntpath.dirname(path)) != ntpath.normcase(ntpath.dirname(env.executable)):
        notes.append(
            f"no es el Python de este swat_xl ({env.executable}): compruebe que swat_xl está "
            f"instalado en ese entorno, o escriba en B1 {here}"
        )
    if notes:
        return Finding(
            "interpreter",
            WARNING,
            f"Python del libro {where}: «{path}».",
            "La ruta " + "; ".join(notes) + ".",
        )
    return Finding("interpreter", OK, f"Python del libro {where}: «{path}».")
