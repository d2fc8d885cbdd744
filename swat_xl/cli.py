"""``swat-xl``: the same jobs as the ribbon, headless, on files.

Only translates arguments and errors: every job is a use case of :mod:`swat_xl.services`,
listed once in :data:`COMMANDS`; the unit of work it runs on is built by
:mod:`swat_xl.bootstrap`; its result is printed by :func:`swat_xl.summaries.summary` (or as
JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from swat_xl import __version__
from swat_xl.argparse_es import SpanishArgumentParser
from swat_xl.errors import LedgerError, SwatError, WorkbookError

EXIT_NEEDS_FIXING = 1  # doctor: something on this PC or in the workbook must change
EXIT_UNEXPECTED = 70
ERROR_LOG = "swat_xl_error.log"
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that left early


@dataclass(frozen=True)
class Arg:
    """One ``add_argument`` call."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    """One ``swat-xl`` command: its arguments, examples and the use case it runs (which
    returns a result :func:`~swat_xl.summaries.summary` can print)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], Any]
    args: tuple[Arg, ...] = ()
    examples: tuple[str, ...] = ()
    workbook: bool = True  # takes -w/--workbook LIBRO (required)
    json_help: str = "imprime el resultado como un objeto JSON"
    prints_itself: bool = False  # run() prints and returns the exit code


def _use(where: str) -> Callable[..., Any]:
    """A use case, imported on first use (a command loads only the modules it needs)."""
    module, name = where.rsplit(".", 1)
    return getattr(import_module(f"swat_xl.{module}"), name)


def _unit(args: argparse.Namespace, *, must_exist: bool = True, export: Any = None) -> Any:
    """The unit of work on ``--workbook``; the stages of its operations go to the command's
    progress display (see :func:`main`); ``export``, an export already being read."""
    return _use("bootstrap.file_unit")(
        args.workbook,
        must_exist=must_exist,
        progress=getattr(args, "progress", None),
        export=export,
    )


def _import(args: argparse.Namespace) -> Any:
    # python-calamine releases the GIL while it parses: the export is read in a helper thread
    # from here on, while the modules and the master's settings load (the first second).
    with _use("adapters.export_reader.start_reading")(args.export) as reading:
        import_cut = _use("services.importing.import_cut")
        return import_cut(_unit(args, export=reading), args.export)


def _init(args: argparse.Namespace) -> Any:
    unit = _unit(args, must_exist=False)
    return _use("services.master.init_workbook")(unit, args.workbook, roster_file=args.roster)


def _restore(args: argparse.Namespace) -> Any:
    unit = _unit(args, must_exist=False)
    return _use("services.restore.restore")(unit, args.copia)


def _date_arg(text: str | None) -> Any:
    return _use("services.indicator.parse_day")(text)


def _build(args: argparse.Namespace) -> Any:
    return _use("bootstrap.build_workbook")(args.out or _use("services.build.DEFAULT_OUT"))


def _demo(args: argparse.Namespace) -> int:
    run_demo = _use("demo.run.run_demo")
    if args.json:
        _print_json(run_demo(Path(args.dir), echo=lambda _text: None))
    else:
        run_demo(Path(args.dir), echo=print)
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from swat_xl.install.doctor import current_environment, diagnose, workbook_facts

    facts = workbook_facts(args.workbook) if args.workbook else None
    report = diagnose(current_environment(), facts)
    if args.json:
        _print_json(report.as_json())
    else:
        print(report.text())
    return EXIT_NEEDS_FIXING if report.needs_fixing else 0


def _bundle(args: argparse.Namespace) -> int:
    from swat_xl.install.bundle import make_bundle

    def say(text: str) -> None:
        print(text, file=sys.stderr)

    result = make_bundle(args.out, source=args.fuente, say=say)
    if args.json:
        _print_json(result)
        return 0
    pythons = ", ".join(result["pythons"])
    print(
        f"Paquete de instalación sin Internet en «{result['folder']}»: swat_xl "
        f"{result['swat_xl']}, {result['wheels']} ruedas para Windows de 64 bits y Python "
        f"{pythons}, instalar.bat y {Path(result['workbook']).name}."
    )
    print("En el PC de destino: doble clic en instalar.bat (ver LEEME.txt).")
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(
        "init",
        "Crea un libro maestro nuevo (.xlsx o .xlsm) y su registro.",
        _init,
        (
            arg("workbook", metavar="LIBRO", help="ruta del libro a crear"),
            arg(
                "--roster",
                metavar="ARCHIVO",
                help="lista de asesores (csv o xlsx): Asesor, Perfil, Activo, Capacidad",
            ),
        ),
        ("swat-xl init maestro.xlsx", "swat-xl init maestro.xlsm --roster asesores.csv"),
        workbook=False,
    ),
    Command(
        "import",
        "Importa un corte de Power BI (xlsx, xls o csv) al libro maestro.",
        _import,
        (arg("export", metavar="ARCHIVO", help="archivo exportado de Power BI (data.xlsx)"),),
        (
            "swat-xl import data.xlsx -w maestro.xlsx",
            "swat-xl import Descargas/data.csv -w maestro.xlsx --json",
        ),
    ),
    Command(
        "roster",
        "Carga la lista de asesores desde un csv o xlsx.",
        lambda a: _use("services.master.set_roster")(_unit(a), a.roster),
        (arg("roster", metavar="ARCHIVO", help="archivo con Asesor, Perfil, Activo, Capacidad"),),
        (
            "swat-xl roster asesores.csv -w maestro.xlsx",
            "swat-xl roster equipo.xlsx -w maestro.xlsx",
        ),
    ),
    Command(
        "assign",
        "Asigna los registros «Sin asignar» con la lista de asesores actual.",
        lambda a: _use("services.master.assign_pending")(_unit(a)),
        (),
        ("swat-xl assign -w maestro.xlsx", "swat-xl assign -w maestro.xlsx --json"),
    ),
    Command(
        "reassign",
        "Reasigna los registros abiertos de un asesor ausente (el nombre se reconoce sin "
        "importar tildes ni mayúsculas).",
        lambda a: _use("services.master.reassign_agent")(_unit(a), a.from_agent, a.to_agent),
        (
            arg(
                "--from", dest="from_agent", required=True, metavar="ASESOR", help="asesor ausente"
            ),
            arg(
                "--to",
                dest="to_agent",
                metavar="ASESOR",
                help="asesor que los recibe (por defecto: se reparten entre los demás)",
            ),
        ),
        (
            'swat-xl reassign -w maestro.xlsx --from "Ana Gómez"',
            'swat-xl reassign -w maestro.xlsx --from "ana gomez" --to "Carla Ruiz"',
        ),
    ),
    Command(
        "archive",
        "Saca de las hojas los registros cerrados (quedan en el registro).",
        lambda a: _use("services.archive.archive")(_unit(a), _date_arg(a.before)),
        (
            arg(
                "--before",
                metavar="FECHA",
                help="solo los cerrados antes de esta fecha (dd/mm/aaaa)",
            ),
        ),
        ("swat-xl archive -w maestro.xlsx", "swat-xl archive -w maestro.xlsx --before 01/12/2026"),
    ),
    Command(
        "purge",
        "Elimina los registros de cortes más antiguos que la retención (datos personales) del "
        "registro, del libro, de la Bitácora y de las copias de «swat_copias», y lista los "
        "archivos que no puede limpiar.",
        lambda a: _use("services.purge.purge")(_unit(a), a.dias),
        (
            arg(
                "--dias",
                type=int,
                metavar="N",
                help="días de retención (por defecto «retencion_dias» de la hoja Config)",
            ),
        ),
        ("swat-xl purge -w maestro.xlsx", "swat-xl purge -w maestro.xlsx --dias 30 --json"),
    ),
    Command(
        "restore",
        "Recupera el libro y su registro de una copia de seguridad de «swat_copias» (la más "
        "reciente, o la elegida); los archivos actuales se apartan en esa carpeta, no se borran.",
        _restore,
        (
            arg(
                "--copia",
                metavar="FECHA",
                help="fecha y hora de la copia (dd/mm/aaaa hh:mm), su día (dd/mm/aaaa: la última "
                "de ese día) o su nombre de archivo",
            ),
        ),
        (
            "swat-xl restore -w maestro.xlsx",
            "swat-xl restore -w maestro.xlsx --copia 29/11/2026",
            'swat-xl restore -w maestro.xlsx --copia "29/11/2026 10:00"',
        ),
    ),
    Command(
        "agents-export",
        "Escribe un libro .xlsx por asesor con sus registros abiertos.",
        lambda a: _use("services.agents.export_agent_workbooks")(_unit(a), a.out),
        (arg("--out", required=True, metavar="CARPETA", help="carpeta de salida"),),
        (
            'swat-xl agents-export -w maestro.xlsx --out "Libros asesores"',
            "swat-xl agents-export -w maestro.xlsx --out libros --json",
        ),
    ),
    Command(
        "collect",
        "Recoge las marcas de los libros por asesor de una carpeta: toma cada libro válido y "
        "rechaza cada libro dañado o ajeno con su motivo (código de salida 7).",
        lambda a: _use("services.agents.collect_agent_workbooks")(_unit(a), a.folder),
        (arg("folder", metavar="CARPETA", help="carpeta con los libros de asesor"),),
        (
            'swat-xl collect "Libros asesores" -w maestro.xlsx',
            "swat-xl collect libros -w maestro.xlsx --json",
        ),
    ),
    Command(
        "kpi",
        "Actualiza el indicador de contacto efectivo (hoja «Indicador»): "
        "toma las marcas, calcula desde el registro y redibuja tablas y gráfico.",
        lambda a: _use("services.indicator.refresh_kpi")(_unit(a), desde=a.desde, hasta=a.hasta),
        (
            arg(
                "--desde",
                metavar="FECHA",
                help="solo cortes importados desde esta fecha (dd/mm/aaaa)",
            ),
            arg(
                "--hasta",
                metavar="FECHA",
                help="solo cortes importados hasta esta fecha, incluida (dd/mm/aaaa)",
            ),
        ),
        (
            "swat-xl kpi -w maestro.xlsx",
            "swat-xl kpi -w maestro.xlsx --desde 01/11/2026 --hasta 30/11/2026",
            "swat-xl kpi -w maestro.xlsx --json",
        ),
        json_help="imprime el indicador como un objeto JSON",
    ),
    Command(
        "form",
        "Exporta a un .xlsx los registros por tipificar en el formulario "
        "GESTION DETRACTORES ONLINE y los marca como exportados.",
        lambda a: _use("services.form.export_form")(_unit(a), a.out, everything=a.todos),
        (
            arg(
                "--out",
                required=True,
                metavar="ARCHIVO",
                help="archivo .xlsx a crear (no se sobrescribe)",
            ),
            arg("--todos", action="store_true", help="incluye también los ya exportados antes"),
        ),
        (
            "swat-xl form -w maestro.xlsx --out formulario.xlsx",
            "swat-xl form -w maestro.xlsx --out todo.xlsx --todos",
        ),
        json_help="imprime los conteos como un objeto JSON",
    ),
    Command(
        "build-workbook",
        "Genera el libro maestro vacío con la cinta "
        "SWAT y las macros (SWAT_Detractores.xlsm), idéntico byte a byte en cada ejecución.",
        _build,
        (
            arg(
                "--out",
                metavar="ARCHIVO",
                help="ruta del .xlsm (por defecto workbooks/SWAT_Detractores.xlsm)",
            ),
        ),
        ("swat-xl build-workbook", "swat-xl build-workbook --out SWAT_Detractores.xlsm"),
        workbook=False,
    ),
    Command(
        "demo",
        "Genera una base de ejemplo y ejecuta todo el proceso en una carpeta.",
        _demo,
        (
            arg(
                "dir",
                nargs="?",
                default="swat-demo",
                metavar="CARPETA",
                help="carpeta de salida (por defecto ./swat-demo)",
            ),
        ),
        ("swat-xl demo", "swat-xl demo prueba-swat"),
        workbook=False,
        prints_itself=True,
    ),
    Command(
        "bundle",
        "Prepara una carpeta que instala swat_xl en un PC con Windows sin Internet: ruedas de "
        "Windows de swat_xl y de todas sus dependencias para Python 3.11, 3.12 y 3.13, "
        "instalar.bat y el libro maestro. Necesita Internet y uv (pip install 'swat-xl[bundle]').",
        _bundle,
        (
            arg("--out", required=True, metavar="CARPETA", help="carpeta a crear (nueva o vacía)"),
            arg(
                "--fuente",
                metavar="RUTA",
                help="carpeta del proyecto swat_xl o rueda swat_xl-….whl (por defecto: el "
                "proyecto de este swat_xl)",
            ),
        ),
        (
            "swat-xl bundle --out instalador-swat",
            "swat-xl bundle --out instalador-swat --fuente dist/swat_xl-1.0-py3-none-any.whl",
        ),
        workbook=False,
        json_help="imprime el resumen como JSON",
        prints_itself=True,
    ),
    Command(
        "doctor",
        "Revisa esta instalación (Python, xlwings, pywin32) y, con --workbook, el libro "
        "(macros, Python de la hoja «xlwings.conf», OneDrive o unidad de red, archivo bloqueado "
        "por venir de Internet), y dice qué corregir.",
        _doctor,
        (arg("-w", "--workbook", metavar="LIBRO", help="libro maestro a revisar (.xlsm)"),),
        ("swat-xl doctor", "swat-xl doctor -w SWAT_Detractores.xlsm --json"),
        workbook=False,
        json_help="imprime el diagnóstico como JSON",
        prints_itself=True,
    ),
)


def _print_json(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def run_command(command: Command, args: argparse.Namespace) -> int:
    """Run the use case and print its result (text or JSON), then its notices and what it
    refused; the exit code is the result's."""
    if command.prints_itself:
        return int(command.run(args))
    result = command.run(args)
    progress = getattr(args, "progress", None)
    if progress is not None:
        progress.close()  # the display ends before the result is printed
    if args.json:
        _print_json(result.as_json())
    else:
        from swat_xl.summaries import summary

        for line in summary(result):
            print(line)
    for notice in result.notices():
        print(f"Aviso: {notice}", file=sys.stderr)
    for refusal in result.refusals():
        print(refusal, file=sys.stderr)
    return int(result.exit_code())


def _without_gc(command: Command, args: argparse.Namespace) -> int:
    """The command with the cyclic garbage collector off (see :mod:`swat_xl.services.batch`)."""
    from swat_xl.services.batch import collector_paused

    with collector_paused():
        return run_command(command, args)


# -- parser -----------------------------------------------------------------------------------
def _examples(*lines: str) -> str:
    return "ejemplos:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    parser = SpanishArgumentParser(
        prog="swat-xl",
        description="SWAT detractores: importa cortes de Power BI, reparte a los asesores y mide "
        "el indicador de contacto efectivo desde un libro maestro de Excel.",
        epilog=_examples(
            "swat-xl init maestro.xlsx --roster asesores.csv",
            "swat-xl import data.xlsx -w maestro.xlsx",
            "swat-xl kpi -w maestro.xlsx",
        )
        + "\n\n«swat-xl COMANDO -h» muestra la ayuda de cada comando.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"swat-xl {__version__}",
        help="muestra la versión y termina",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMANDO", title="comandos")
    for command in COMMANDS:
        p = sub.add_parser(
            command.name,
            help=command.help,
            description=command.help,
            epilog=_examples(*command.examples),
        )
        p.set_defaults(use_case=command)
        if command.workbook:
            p.add_argument("-w", "--workbook", required=True, metavar="LIBRO", help="libro maestro")
        p.add_argument("--json", action="store_true", help=command.json_help)
        for argument in command.args:
            p.add_argument(*argument.flags, **argument.options)
    return parser


PATH_ARGS = ("workbook", "export", "roster", "out", "folder", "fuente", "dir")


def _full_paths(args: argparse.Namespace) -> None:
    """Every file or folder given on the command line, made absolute once: each message that
    names one gives its full path (the user sees which «data.xlsx» was meant)."""
    for name in PATH_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, str) and value:
            setattr(args, name, os.path.abspath(value))


def _progress(args: argparse.Namespace) -> Any:
    """The stages of the operation on stderr, drawn only when stderr is a terminal and the
    output is not JSON (see :mod:`swat_xl.adapters.terminal`)."""
    from swat_xl.adapters.terminal import TerminalProgress

    return TerminalProgress(sys.stderr, enabled=not args.json)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _full_paths(args)
    try:
        with _progress(args) as progress:
            args.progress = progress
            return int(_without_gc(args.use_case, args))
    except SwatError as error:
        print(f"Error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("Operación cancelada; el libro y el registro quedaron como estaban.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Whoever read the output went away (``swat-xl kpi | head -1``): the operation itself
        # has finished. End as a process killed by SIGPIPE would, without a second error when
        # Python flushes stdout on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except PermissionError as exc:
        target = exc.filename or getattr(args, "workbook", None) or "?"
        print(
            f"Error: no hay permiso de escritura sobre «{target}» (está protegido o es de solo "
            "lectura); la operación no terminó y la próxima vuelve a dibujar el libro desde el "
            "registro",
            file=sys.stderr,
        )
        return WorkbookError.exit_code
    except Exception as exc:
        from swat_xl.adapters.ledger import DAMAGED, is_corruption

        if is_corruption(exc):
            print(f"Error: {DAMAGED}", file=sys.stderr)
            return LedgerError.exit_code
        log = _log_unexpected(args)
        where = f" (detalle técnico en «{log}»)" if log else ""
        print(
            "Error inesperado de swat_xl; el libro y el registro quedaron como estaban" + where,
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def _log_unexpected(args: argparse.Namespace) -> Path | None:
    """Append the current traceback, phones and other long numbers masked, to
    ``swat_xl_error.log`` beside the workbook (else the current folder, else the temporary
    one); returns where it went."""
    import tempfile

    from swat_xl.adapters.system import log_current_error

    folders = []
    workbook = getattr(args, "workbook", None)
    if workbook:
        folders.append(Path(workbook).parent)  # made absolute when the arguments were read
    folders += [Path.cwd(), Path(tempfile.gettempdir())]
    heading = f"swat-xl {__version__} · {getattr(args, 'command', '')}"
    return log_current_error(folders, ERROR_LOG, heading)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
