"""``swat-xl bundle``: a folder that installs swat_xl on a Windows PC without Internet.

The folder holds the Windows wheels (``paquetes/``) of swat_xl and of every dependency for
each supported Python, one pinned requirements file per Python (``requisitos-py312.txt``…),
``instalar.bat`` (makes the venv the workbook's ``xlwings.conf`` expects and installs with
``pip --no-index --find-links paquetes``), the master workbook, a ``LEEME.txt`` and
``paquete.json`` (what was resolved, with each wheel's metadata).

How, for each Python:

1. resolve with uv for the target (``uv pip compile --python-platform x86_64-pc-windows-msvc
   --python-version 3.12 --only-binary :all:``): uv evaluates environment markers for
   Windows, so xlwings' ``pywin32; platform_system == "Windows"`` is kept — ``pip download
   --platform win_amd64`` would evaluate them for the machine it runs on and leave it out;
2. download exactly those pins as Windows wheels (``pip download --no-deps --platform
   win_amd64 --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none``);
3. check, offline, from the downloaded wheels' own metadata, that every requirement from
   swat-xl down holds on that Python on Windows (:func:`check_manifest`).

Everything is built in a temporary folder beside the target and renamed at the end: a failed
run leaves nothing behind.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from swat_xl.errors import BundleError, InputError

#: Python versions the bundle carries wheels for (the versions the project supports).
PYTHONS: tuple[str, ...] = ("3.11", "3.12", "3.13")
UV_PLATFORM = "x86_64-pc-windows-msvc"
WHEELS = "paquetes"
MANIFEST = "paquete.json"
INSTALLER = "instalar.bat"
README = "LEEME.txt"
WORKBOOK = "SWAT_Detractores.xlsm"
DIST = "swat-xl"

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def requirements_file(python: str) -> str:
    return f"requisitos-py{python.replace('.', '')}.txt"


def _run(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, encoding="utf-8", errors="replace"
    )


def _uv() -> str:
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise BundleError(
        "Falta uv, el resolvedor que calcula las dependencias para Windows: "
        "pip install 'swat-xl[bundle]'"
    )


def _call(run: Runner, command: Sequence[str], what: str) -> str:
    try:
        done = run(command)
    except OSError as exc:
        raise BundleError(f"No se pudo ejecutar {command[0]} para {what} ({exc})") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout or "").strip().splitlines()[-8:])
        raise BundleError(f"Falló {what} (código {done.returncode}):\n{tail}")
    return done.stdout or ""


def project_root() -> Path:
    """The source tree this swat_xl was loaded from (the folder with ``pyproject.toml``)."""
    import swat_xl

    root = Path(swat_xl.__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file():
        raise InputError(
            "No se encontró el proyecto swat_xl (pyproject.toml) junto a este swat_xl: indique "
            "--fuente con la carpeta del proyecto o con la rueda swat_xl-….whl"
        )
    return root


def make_bundle(
    out: str | Path,
    *,
    source: str | Path | None = None,
    pythons: Sequence[str] = PYTHONS,
    run: Runner = _run,
    uv: str | None = None,
    say: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """Make the offline bundle in ``out`` (a new or empty folder); returns its summary.

    ``run`` runs a command (pip, uv) and ``uv`` is uv's executable (default: the one of the
    ``uv`` package, or on PATH): the tests replace both."""
    out = Path(out).absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError("La carpeta de salida ya existe y no está vacía; elija otra", file=out)
    source = Path(source).absolute() if source else project_root()
    if not source.exists():
        raise InputError("No existe la fuente de swat_xl", file=source)
    staging = out.with_name(f".{out.name}.preparando")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / WHEELS).mkdir(parents=True)
    try:
        manifest = _fill(staging, source, pythons, run, uv, say)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        out.rmdir()
    staging.rename(out)
    return summary(out, manifest)


def _fill(
    folder: Path,
    source: Path,
    pythons: Sequence[str],
    run: Runner,
    uv: str | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    wheel_dir = folder / WHEELS
    own = _own_wheel(source, wheel_dir, run, say)
    uv = uv or _uv()
    pins_by_python: dict[str, list[tuple[str, str]]] = {}
    for python in pythons:
        say(f"Resolviendo las dependencias para Windows y Python {python}…")
        pins = _resolve(uv, own, python, folder, run)
        pins_by_python[python] = pins
        say(f"Descargando {len(pins) - 1} ruedas para Windows y Python {python}…")
        _download(python, [p for p in pins if p[0] != DIST], folder, run)
    manifest = _manifest(folder, own, pins_by_python)
    problems = check_manifest(manifest)
    if problems:
        raise BundleError(
            "La resolución para Windows está incompleta; no se preparó el paquete:\n"
            + "\n".join(f"• {p}" for p in problems)
        )
    say("Escribiendo el libro maestro y instalar.bat…")
    from swat_xl.bootstrap import build_workbook

    build_workbook(folder / WORKBOOK)
    version = manifest["swat_xl"]
    (folder / INSTALLER).write_bytes(installer(version, pythons).encode("ascii"))
    (folder / README).write_text(readme(version, pythons), encoding="utf-8-sig", newline="\r\n")
    (folder / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def _own_wheel(source: Path, wheel_dir: Path, run: Runner, say: Callable[[str], None]) -> Path:
    if source.is_file():
        if source.suffix != ".whl":
            raise InputError(
                "La fuente debe ser la carpeta del proyecto o una rueda .whl", file=source
            )
        target = wheel_dir / source.name
        shutil.copyfile(source, target)
        return target
    say(f"Construyendo la rueda de swat_xl desde «{source}»…")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheel_dir)]
    _call(run, [*build, str(source)], "la construcción de la rueda de swat_xl")
    built = sorted(wheel_dir.glob("swat_xl-*.whl"))
    if len(built) != 1:
        raise BundleError(f"Se esperaba una rueda swat_xl-….whl en «{wheel_dir}»")
    return built[0]


def _resolve(uv: str, own: Path, python: str, folder: Path, run: Runner) -> list[tuple[str, str]]:
    """``(name, version)`` pins for CPython ``python`` on 64-bit Windows, swat-xl included."""
    from swat_xl.adapters.wheels import read_wheel

    version = read_wheel(own).version
    wanted = folder / f".{requirements_file(python)}.in"
    wanted.write_text(f"{DIST}=={version}\n", encoding="utf-8")
    target = folder / requirements_file(python)
    command = [
        uv,
        "pip",
        "compile",
        str(wanted),
        "--output-file",
        str(target),
        "--python-platform",
        UV_PLATFORM,
        "--python-version",
        python,
        "--only-binary",
        ":all:",
        "--find-links",
        str(own.parent),
        "--no-header",
        "--no-annotate",
        "--no-python-downloads",
        "--quiet",
    ]
    try:
        _call(run, command, f"la resolución de dependencias para Python {python}")
    finally:
        wanted.unlink(missing_ok=True)
    pins = parse_pins(target.read_text(encoding="utf-8") if target.exists() else "")
    if not any(name == DIST for name, _ in pins):
        raise BundleError(f"La resolución para Python {python} no incluye {DIST}")
    target.write_text("".join(f"{n}=={v}\n" for n, v in pins), encoding="utf-8", newline="\r\n")
    return pins


def parse_pins(text: str) -> list[tuple[str, str]]:
    """``name==version`` lines of a compiled requirements file (comments and options skipped)."""
    from swat_xl.adapters.wheels import canonical

    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-") or "==" not in line:
            continue
        name, version = line.split(";", 1)[0].split("==", 1)
        pins.append((canonical(name.split("[", 1)[0].strip()), version.strip()))
    return sorted(pins)


def _download(python: str, pins: list[tuple[str, str]], folder: Path, run: Runner) -> None:
    if not pins:
        return
    listing = folder / f".descargar-py{python.replace('.', '')}.txt"
    listing.write_text("".join(f"{n}=={v}\n" for n, v in pins), encoding="utf-8")
    abi = f"cp{python.replace('.', '')}"
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--platform",
        "win_amd64",
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--abi",
        abi,
        "--abi",
        "abi3",
        "--abi",
        "none",
        "--dest",
        str(folder / WHEELS),
        "--requirement",
        str(listing),
    ]
    try:
        _call(run, command, f"la descarga de las ruedas para Python {python}")
    finally:
        listing.unlink(missing_ok=True)


def _manifest(
    folder: Path, own: Path, pins_by_python: Mapping[str, list[tuple[str, str]]]
) -> dict[str, Any]:
    """What the bundle holds: per Python, the wheel chosen for each pin; each wheel's metadata."""
    from swat_xl.adapters.wheels import canonical, read_wheel, wheel_name_version, wheel_supports

    files = sorted(p.name for p in (folder / WHEELS).glob("*.whl"))
    pythons: dict[str, Any] = {}
    used: set[str] = set()
    for python, pins in pins_by_python.items():
        chosen = []
        for name, version in pins:
            match = [
                f
                for f in files
                if (nv := wheel_name_version(f)) is not None
                and canonical(nv[0]) == name
                and nv[1] == version
                and wheel_supports(f, python)
            ]
            if not match:
                raise BundleError(
                    f"No se descargó una rueda de {name} {version} para Windows y Python {python}"
                )
            chosen.append(match[0])
        used.update(chosen)
        pythons[python] = {"requirements": requirements_file(python), "wheels": chosen}
    return {
        "swat_xl": read_wheel(own).version,
        "platform": "win_amd64",
        "pythons": pythons,
        "wheels": {f: read_wheel(folder / WHEELS / f).as_json() for f in sorted(used)},
    }


def check_manifest(manifest: Mapping[str, Any]) -> list[str]:
    """Why the bundle described by ``manifest`` would not install or run on Windows (empty:
    it would): for each Python, every requirement from swat-xl down, with markers evaluated
    for that Python on 64-bit Windows, is pinned by a wheel that installs there."""
    from swat_xl.adapters.wheels import Distribution, unmet_requirements, wheel_supports

    problems = []
    metadata = manifest.get("wheels", {})
    for python, entry in manifest.get("pythons", {}).items():
        pins: dict[str, Distribution] = {}
        for file in entry.get("wheels", []):
            if file not in metadata:
                problems.append(f"Python {python}: falta la descripción de «{file}».")
                continue
            dist = Distribution.from_json(file, metadata[file])
            pins[dist.name] = dist
            if not wheel_supports(file, python):
                problems.append(
                    f"Python {python}: «{file}» no se instala en Windows de 64 bits con "
                    f"Python {python}."
                )
        root = f"{DIST}=={manifest.get('swat_xl', '')}"
        problems += [f"Python {python}: {p}" for p in unmet_requirements([root], pins, python)]
    return problems


def summary(folder: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "folder": str(folder),
        "swat_xl": manifest["swat_xl"],
        "platform": manifest["platform"],
        "pythons": {
            python: {
                "requirements": entry["requirements"],
                "packages": [manifest["wheels"][f]["name"] for f in entry["wheels"]],
            }
            for python, entry in manifest["pythons"].items()
        },
        "wheels": len(list((folder / WHEELS).glob("*.whl"))),
        "workbook": str(folder / WORKBOOK),
        "installer": str(folder / INSTALLER),
    }


# -- what the user opens ----------------------------------------------------------------------
def installer(version: str, pythons: Sequence[str]) -> str:
    """``instalar.bat``: plain ASCII (cmd.exe reads a .bat in the console's code page) with
    CRLF line ends."""
    tries = []
    for python in reversed(pythons):
        tries += [
            f'set "PYTHON=py -{python}"',
            '%PYTHON% -c "pass" >nul 2>&1',
            "if not errorlevel 1 goto crear",
        ]
    low, high = pythons[0].split("."), pythons[-1].split(".")
    listed = ", ".join(pythons[:-1]) + f" o {pythons[-1]}"
    lines = [
        "@echo off",
        f"rem Instala swat_xl {version} sin Internet desde esta carpeta (preparada con",
        'rem "swat-xl bundle"). Crea el entorno %USERPROFILE%\\swat_xl\\.venv, la ruta que',
        "rem espera la hoja xlwings.conf del libro, e instala solo las ruedas de la carpeta",
        'rem "paquetes" (pip --no-index: no se conecta a Internet). Otra carpeta: antes de',
        'rem ejecutarlo, set "SWAT_VENV=D:\\ruta\\.venv" (y escriba esa ruta en la hoja',
        "rem xlwings.conf del libro).",
        "setlocal",
        'set "CARPETA=%~dp0"',
        'if not defined SWAT_VENV set "SWAT_VENV=%USERPROFILE%\\swat_xl\\.venv"',
        "echo.",
        f"echo Instalacion de swat_xl {version} sin Internet",
        "echo Entorno: %SWAT_VENV%",
        "echo.",
        'if exist "%SWAT_VENV%\\Scripts\\python.exe" goto instalar',
        "",
        *tries,
        'set "PYTHON=python"',
        f'python -c "import sys; sys.exit(0 if ({low[0]}, {low[1]}) <= sys.version_info[:2] '
        f'<= ({high[0]}, {high[1]}) and sys.maxsize > 2**32 else 1)" >nul 2>&1',
        "if not errorlevel 1 goto crear",
        f"echo ERROR: no se encontro Python {listed} de 64 bits.",
        "echo Instalelo desde https://www.python.org/downloads/windows/ sin marcar",
        'echo "Use admin privileges when installing py.exe" y vuelva a ejecutar este archivo.',
        "goto fallo",
        "",
        ":crear",
        "echo Creando el entorno con %PYTHON% ...",
        '%PYTHON% -m venv "%SWAT_VENV%"',
        "if errorlevel 1 goto fallo",
        "",
        ":instalar",
        '"%SWAT_VENV%\\Scripts\\python.exe" -c "import sys; sys.exit(sys.version_info[1])"',
        'set "MENOR=%ERRORLEVEL%"',
        'set "REQUISITOS=%CARPETA%requisitos-py3%MENOR%.txt"',
        'if not exist "%REQUISITOS%" goto version',
        "echo Instalando swat_xl y sus dependencias para Python 3.%MENOR% ...",
        '"%SWAT_VENV%\\Scripts\\python.exe" -m pip install --disable-pip-version-check '
        '--no-index --find-links "%CARPETA%paquetes" --requirement "%REQUISITOS%"',
        "if errorlevel 1 goto fallo",
        "",
        "rem El libro de esta carpeta pierde la marca de la Web (si la carpeta llego en un .zip",
        "rem descargado, Excel bloquearia sus macros). Si PowerShell no se permite, no pasa nada.",
        f'set "LIBRO=%CARPETA%{WORKBOOK}"',
        'powershell -NoProfile -NonInteractive -Command "Unblock-File -LiteralPath $env:LIBRO" '
        ">nul 2>&1",
        "echo.",
        '"%SWAT_VENV%\\Scripts\\swat-xl.exe" doctor',
        'if errorlevel 1 echo Revise arriba lo marcado "corregir".',
        "echo.",
        f"echo Listo. Copie {WORKBOOK} a una carpeta local (por ejemplo C:\\SWAT),",
        "echo abralo y pulse SWAT, Ayuda: muestra el diagnostico del libro.",
        "if not defined SWAT_SIN_PAUSA pause",
        "exit /b 0",
        "",
        ":version",
        "echo ERROR: el entorno %SWAT_VENV% es de Python 3.%MENOR% y este paquete trae ruedas",
        f"echo para Python {listed}. Borre esa carpeta y vuelva a ejecutar este archivo.",
        "goto fallo",
        "",
        ":fallo",
        "echo.",
        "echo La instalacion no termino. Envie a soporte lo que muestra esta ventana.",
        "if not defined SWAT_SIN_PAUSA pause",
        "exit /b 1",
    ]
    return "\r\n".join(lines) + "\r\n"


def readme(version: str, pythons: Sequence[str]) -> str:
    listed = ", ".join(pythons[:-1]) + f" o {pythons[-1]}"
    return f"""swat_xl {version}: instalación sin Internet en Windows (64 bits)

1. Instale Python {listed} de 64 bits («Windows installer (64-bit)» de python.org). En la
   primera pantalla del instalador DESMARQUE «Use admin privileges when installing py.exe»
   (así no pide permisos de administrador) y pulse «Install Now».
2. Doble clic en instalar.bat. Crea el entorno %USERPROFILE%\\swat_xl\\.venv e instala
   swat_xl y sus dependencias desde la carpeta «paquetes», sin conectarse a Internet.
   Al final muestra el diagnóstico de «swat-xl doctor».
3. Copie {WORKBOOK} a una carpeta local (por ejemplo C:\\SWAT; no OneDrive ni una unidad
   de red), ábralo y pulse SWAT → Ayuda: debe decir «Nada que corregir».

Si al pulsar un botón aparece «Acción bloqueada» de Seguridad de Windows, la regla de
Defender que impide a Office iniciar programas está activa: pida a TI la exclusión
(docs/instalacion-windows.md del proyecto, «Antes de empezar»).

Contenido: instalar.bat · {WORKBOOK} · paquetes\\ (ruedas para Windows) ·
requisitos-py3XX.txt (versiones exactas por versión de Python) · paquete.json (detalle).
"""
