"""``swat-xl``: the same jobs as the ribbon, headless, on files.

Only translates arguments and errors: every job is a service of :mod:`swat_xl.services`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from swat_xl import __version__
from swat_xl.argparse_es import SpanishArgumentParser
from swat_xl.errors import LedgerError, SwatError, WorkbookError

EXIT_NEEDS_FIXING = 1  # doctor: something on this PC or in the workbook must change
EXIT_UNEXPECTED = 70
EXIT_REFUSED = 7  # the operation was done, but some input was refused (each with its reason)
ERROR_LOG = "swat_xl_error.log"
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that left early


def _print_json(payload: Any) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _master(path: str) -> Any:
    from swat_xl.services.files import FileMaster

    return FileMaster(path)


# -- commands ---------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    from swat_xl.services import init_workbook

    result = init_workbook(args.workbook, roster_file=args.roster)
    if args.json:
        _print_json(result)
    else:
        print(f"Libro creado: {result['workbook']} ({result['agents']} asesores).")
        print(f"Registro: {result['ledger']}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from swat_xl.services import import_cut

    result = import_cut(_master(args.workbook), args.export)
    if args.json:
        payload = result.as_json()
        _print_json(payload)
    else:
        _print_import(result)
    for warning in result.warnings:
        print(f"Aviso: {warning}", file=sys.stderr)
    return 0


def _print_import(result: Any) -> None:
    if result.already_imported:
        print(f"«{result.file}» ya se había importado: no se agregó nada.")
    print(
        f"Filas leídas: {result.rows_read} · del aliado: {result.ally_rows} · "
        f"repetidas: {result.duplicate_rows} · nuevas: {result.new_records}"
    )
    print(f"Hogar: {result.by_segment['hogar']} · Móvil: {result.by_segment['movil']}")
    excluded = sum(result.excluded.values())
    from swat_xl.workbook.labels import EXCLUSION_COUNT_LABELS

    detail = ", ".join(
        f"{EXCLUSION_COUNT_LABELS.get(k, k)}: {v}" for k, v in result.excluded.items()
    )
    print(f"No gestionables: {excluded} ({detail})")
    print(f"Asignados: {result.assigned} · Sin asignar: {result.unassigned}")


def cmd_roster(args: argparse.Namespace) -> int:
    from swat_xl.services import set_roster

    result = set_roster(_master(args.workbook), args.roster)
    if args.json:
        _print_json(result)
    else:
        print(f"Lista de asesores cargada: {result['agents']} asesores.")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    from swat_xl.services import assign_pending

    result = assign_pending(_master(args.workbook))
    if args.json:
        _print_json(result.__dict__)
    else:
        print(f"Asignados: {result.assigned} · Sin asignar: {result.unassigned}")
    return 0


def cmd_reassign(args: argparse.Namespace) -> int:
    from swat_xl.services import reassign_agent

    result = reassign_agent(_master(args.workbook), args.from_agent, args.to_agent)
    if args.json:
        _print_json(result)
    else:
        print(
            f"Reasignados de «{result['from']}»: {result['moved']} · Sin asignar: "
            f"{result['unassigned']}"
        )
        for agent, count in result["by_agent"].items():
            print(f"  {agent}: {count} registros")
    return 0


def _date_arg(text: str | None) -> Any:
    from swat_xl.services.indicator import parse_day

    return parse_day(text)


def cmd_archive(args: argparse.Namespace) -> int:
    from swat_xl.services.archive import archive

    result = archive(_master(args.workbook), _date_arg(args.before))
    if args.json:
        _print_json(result)
    else:
        print(
            f"Archivados: {result['archived']} gestionados, {result['archived_excluded']} no "
            f"gestionables ya tipificados · quedan en las hojas: {result['remaining']}"
        )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from swat_xl.services.purge import purge

    result = purge(_master(args.workbook), args.dias)
    if args.json:
        _print_json(result)
        return 0
    print(
        f"Depuración (retención de {result['retention_days']} días): "
        f"{result['records']} registros de {result['cuts']} cortes eliminados "
        f"({result['open_records']} seguían abiertos)."
    )
    print(
        f"Copias de seguridad: {len(result['copies_rewritten'])} depuradas, "
        f"{result['backups']} eliminadas."
    )
    if result["not_cleaned"]:
        print("Estos archivos, fuera del alcance de swat_xl, también tienen esos datos; bórrelos:")
        for item in result["not_cleaned"]:
            print(f"  - {item}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from swat_xl.services.restore import restore

    result = restore(args.workbook, args.copia)
    if args.json:
        _print_json(result)
        return 0
    print(f"Restaurada la copia del {result['taken']} («{result['copy']}»).")
    print(f"Libro: {result['workbook']}")
    print(f"Registro: {result['ledger']}")
    for path in result["set_aside"]:  # type: ignore[attr-defined]
        print(f"Se apartó el archivo anterior en «{path}»")
    return 0


def cmd_agents_export(args: argparse.Namespace) -> int:
    from swat_xl.services.agents import export_agent_workbooks

    result = export_agent_workbooks(_master(args.workbook), args.out)
    if args.json:
        _print_json(result)
    else:
        for agent, count in result["files"].items():
            print(f"{agent}: {count} registros")
        print(f"Libros en: {result['folder']}")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from swat_xl.services.agents import collect_agent_workbooks

    result = collect_agent_workbooks(_master(args.workbook), args.folder)
    if args.json:
        _print_json(result)
    else:
        print(
            f"Libros recogidos: {len(result['collected'])} · registros con marcas nuevas: "
            f"{result['records']} · conflictos: {result['conflicts']}"
        )
    for item in result["refused"]:
        print(f"Rechazado «{item['path']}»: {item['reason']}", file=sys.stderr)
    return EXIT_REFUSED if result["refused"] else 0


def cmd_kpi(args: argparse.Namespace) -> int:
    from swat_xl.services.indicator import pct_text, refresh_kpi

    result = refresh_kpi(_master(args.workbook), desde=args.desde, hasta=args.hasta)
    if args.json:
        _print_json(result)
        return 0
    verdict = "cumple la meta" if result["meets_target"] else "no cumple la meta"
    print(
        f"Contacto efectivo: {pct_text(result['effective_contact_pct'] / 100)} "
        f"(meta {pct_text(result['target_pct'] / 100)}): {verdict}."
    )
    print(
        f"Registros enviados: {result['total_records']} · efectivos: "
        f"{result['effective_contacts']} · pendientes: {result['pending']} · vencidos: "
        f"{result['overdue']}"
    )
    print(
        f"Sobre gestionables ({result['manageable_records']} registros, referencia): "
        f"{pct_text(result['effective_contact_pct_manageable'] / 100)}"
    )
    print(
        f"Inconsistencias de marcación: {result['inconsistencies']} (detalle en la hoja "
        "«Indicador»)"
    )
    return 0


def cmd_form(args: argparse.Namespace) -> int:
    from swat_xl.services.form import export_form

    result = export_form(_master(args.workbook), args.out, everything=args.todos)
    if args.json:
        _print_json(result)
    elif result["exported"] == 0:
        print("No había registros nuevos por tipificar; no se creó ningún archivo.")
    else:
        print(
            f"Registros para el formulario: {result['exported']} ({result['closed']} "
            f"gestionados, {result['excluded']} no gestionables) en «{result['file']}»."
        )
        if result.get("corrections"):
            print(f"{result['corrections']} son correcciones de registros ya exportados.")
    if not args.json and result.get("held"):
        print(
            f"{result['held']} registros con marcas incompletas o no válidas no se exportaron; "
            "el detalle está en la hoja «Indicador»."
        )
    return 0


def cmd_build_workbook(args: argparse.Namespace) -> int:
    from swat_xl.services.build import DEFAULT_OUT, build_workbook

    path = build_workbook(args.out or DEFAULT_OUT)
    if args.json:
        _print_json({"workbook": str(path)})
    else:
        print(f"Libro maestro con la cinta SWAT: {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from swat_xl.demo.run import run_demo

    if args.json:
        result = run_demo(Path(args.dir), echo=lambda _text: None)
        _print_json(result)
    else:
        run_demo(Path(args.dir), echo=print)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from swat_xl.services.doctor import current_environment, diagnose, workbook_facts

    facts = workbook_facts(args.workbook) if args.workbook else None
    report = diagnose(current_environment(), facts)
    if args.json:
        _print_json(report.as_json())
    else:
        print(report.text())
    return EXIT_NEEDS_FIXING if report.needs_fixing else 0


def cmd_bundle(args: argparse.Namespace) -> int:
    from swat_xl.services.bundle import make_bundle

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


def _without_gc(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """One command is one short batch over large tables: the cyclic garbage collector would
    rescan millions of young objects over and over for next to no garbage (reference
    counting frees the rest)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return handler(args)
    finally:
        if enabled:
            gc.enable()


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

    def add(
        name: str,
        handler: Callable[[argparse.Namespace], int],
        help_text: str,
        examples: Sequence[str],
        *,
        workbook: bool = True,
        json_help: str = "imprime el resultado como un objeto JSON",
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=_examples(*examples))
        p.set_defaults(handler=handler)
        if workbook:
            p.add_argument("-w", "--workbook", required=True, metavar="LIBRO", help="libro maestro")
        p.add_argument("--json", action="store_true", help=json_help)
        return p

    p = add(
        "init",
        cmd_init,
        "Crea un libro maestro nuevo (.xlsx o .xlsm) y su registro.",
        [
            "swat-xl init maestro.xlsx",
            "swat-xl init maestro.xlsm --roster asesores.csv",
        ],
        workbook=False,
    )
    p.add_argument("workbook", metavar="LIBRO", help="ruta del libro a crear")
    p.add_argument(
        "--roster",
        metavar="ARCHIVO",
        help="lista de asesores (csv o xlsx): Asesor, Perfil, Activo, Capacidad",
    )

    p = add(
        "import",
        cmd_import,
        "Importa un corte de Power BI (xlsx, xls o csv) al libro maestro.",
        [
            "swat-xl import data.xlsx -w maestro.xlsx",
            "swat-xl import Descargas/data.csv -w maestro.xlsx --json",
        ],
    )
    p.add_argument("export", metavar="ARCHIVO", help="archivo exportado de Power BI (data.xlsx)")

    p = add(
        "roster",
        cmd_roster,
        "Carga la lista de asesores desde un csv o xlsx.",
        [
            "swat-xl roster asesores.csv -w maestro.xlsx",
            "swat-xl roster equipo.xlsx -w maestro.xlsx",
        ],
    )
    p.add_argument(
        "roster", metavar="ARCHIVO", help="archivo con Asesor, Perfil, Activo, Capacidad"
    )

    add(
        "assign",
        cmd_assign,
        "Asigna los registros «Sin asignar» con la lista de asesores actual.",
        ["swat-xl assign -w maestro.xlsx", "swat-xl assign -w maestro.xlsx --json"],
    )

    p = add(
        "reassign",
        cmd_reassign,
        "Reasigna los registros abiertos de un asesor ausente (el nombre se reconoce sin "
        "importar tildes ni mayúsculas).",
        [
            'swat-xl reassign -w maestro.xlsx --from "Ana Gómez"',
            'swat-xl reassign -w maestro.xlsx --from "ana gomez" --to "Carla Ruiz"',
        ],
    )
    p.add_argument(
        "--from", dest="from_agent", required=True, metavar="ASESOR", help="asesor ausente"
    )
    p.add_argument(
        "--to",
        dest="to_agent",
        metavar="ASESOR",
        help="asesor que los recibe (por defecto: se reparten entre los demás)",
    )

    p = add(
        "archive",
        cmd_archive,
        "Saca de las hojas los registros cerrados (quedan en el registro).",
        ["swat-xl archive -w maestro.xlsx", "swat-xl archive -w maestro.xlsx --before 01/12/2026"],
    )
    p.add_argument(
        "--before", metavar="FECHA", help="solo los cerrados antes de esta fecha (dd/mm/aaaa)"
    )

    p = add(
        "purge",
        cmd_purge,
        "Elimina los registros de cortes más antiguos que la retención (datos personales) del "
        "registro, del libro, de la Bitácora y de las copias de «swat_copias», y lista los "
        "archivos que no puede limpiar.",
        ["swat-xl purge -w maestro.xlsx", "swat-xl purge -w maestro.xlsx --dias 30 --json"],
    )
    p.add_argument(
        "--dias",
        type=int,
        metavar="N",
        help="días de retención (por defecto «retencion_dias» de la hoja Config)",
    )

    p = add(
        "restore",
        cmd_restore,
        "Recupera el libro y su registro de una copia de seguridad de «swat_copias» (la más "
        "reciente, o la elegida); los archivos actuales se apartan en esa carpeta, no se borran.",
        [
            "swat-xl restore -w maestro.xlsx",
            "swat-xl restore -w maestro.xlsx --copia 29/11/2026",
            'swat-xl restore -w maestro.xlsx --copia "29/11/2026 10:00"',
        ],
    )
    p.add_argument(
        "--copia",
        metavar="FECHA",
        help="fecha y hora de la copia (dd/mm/aaaa hh:mm), su día (dd/mm/aaaa: la última de ese "
        "día) o su nombre de archivo",
    )

    p = add(
        "agents-export",
        cmd_agents_export,
        "Escribe un libro .xlsx por asesor con sus registros abiertos.",
        [
            'swat-xl agents-export -w maestro.xlsx --out "Libros asesores"',
            "swat-xl agents-export -w maestro.xlsx --out libros --json",
        ],
    )
    p.add_argument("--out", required=True, metavar="CARPETA", help="carpeta de salida")

    p = add(
        "collect",
        cmd_collect,
        "Recoge las marcas de los libros por asesor de una carpeta: toma cada libro válido y "
        "rechaza cada libro dañado o ajeno con su motivo (código de salida 7).",
        [
            'swat-xl collect "Libros asesores" -w maestro.xlsx',
            "swat-xl collect libros -w maestro.xlsx --json",
        ],
    )
    p.add_argument("folder", metavar="CARPETA", help="carpeta con los libros de asesor")

    p = add(
        "kpi",
        cmd_kpi,
        "Actualiza el indicador de contacto efectivo (hoja «Indicador»): "
        "toma las marcas, calcula desde el registro y redibuja tablas y gráfico.",
        [
            "swat-xl kpi -w maestro.xlsx",
            "swat-xl kpi -w maestro.xlsx --desde 01/11/2026 --hasta 30/11/2026",
            "swat-xl kpi -w maestro.xlsx --json",
        ],
        json_help="imprime el indicador como un objeto JSON",
    )
    p.add_argument(
        "--desde", metavar="FECHA", help="solo cortes importados desde esta fecha (dd/mm/aaaa)"
    )
    p.add_argument(
        "--hasta",
        metavar="FECHA",
        help="solo cortes importados hasta esta fecha, incluida (dd/mm/aaaa)",
    )

    p = add(
        "form",
        cmd_form,
        "Exporta a un .xlsx los registros por tipificar en el formulario "
        "GESTION DETRACTORES ONLINE y los marca como exportados.",
        [
            "swat-xl form -w maestro.xlsx --out formulario.xlsx",
            "swat-xl form -w maestro.xlsx --out todo.xlsx --todos",
        ],
        json_help="imprime los conteos como un objeto JSON",
    )
    p.add_argument(
        "--out", required=True, metavar="ARCHIVO", help="archivo .xlsx a crear (no se sobrescribe)"
    )
    p.add_argument("--todos", action="store_true", help="incluye también los ya exportados antes")

    p = add(
        "build-workbook",
        cmd_build_workbook,
        "Genera el libro maestro vacío con la cinta "
        "SWAT y las macros (SWAT_Detractores.xlsm), idéntico byte a byte en cada ejecución.",
        ["swat-xl build-workbook", "swat-xl build-workbook --out SWAT_Detractores.xlsm"],
        workbook=False,
    )
    p.add_argument(
        "--out",
        metavar="ARCHIVO",
        help="ruta del .xlsm (por defecto workbooks/SWAT_Detractores.xlsm)",
    )

    p = add(
        "demo",
        cmd_demo,
        "Genera una base de ejemplo y ejecuta todo el proceso en una carpeta.",
        ["swat-xl demo", "swat-xl demo prueba-swat"],
        workbook=False,
    )
    p.add_argument(
        "dir",
        nargs="?",
        default="swat-demo",
        metavar="CARPETA",
        help="carpeta de salida (por defecto ./swat-demo)",
    )

    p = add(
        "bundle",
        cmd_bundle,
        "Prepara una carpeta que instala swat_xl en un PC con Windows sin Internet: ruedas de "
        "Windows de swat_xl y de todas sus dependencias para Python 3.11, 3.12 y 3.13, "
        "instalar.bat y el libro maestro. Necesita Internet y uv (pip install 'swat-xl[bundle]').",
        [
            "swat-xl bundle --out instalador-swat",
            "swat-xl bundle --out instalador-swat --fuente dist/swat_xl-1.0-py3-none-any.whl",
        ],
        workbook=False,
        json_help="imprime el resumen como JSON",
    )
    p.add_argument(
        "--out", required=True, metavar="CARPETA", help="carpeta a crear (nueva o vacía)"
    )
    p.add_argument(
        "--fuente",
        metavar="RUTA",
        help="carpeta del proyecto swat_xl o rueda swat_xl-….whl (por defecto: el proyecto de "
        "este swat_xl)",
    )

    p = add(
        "doctor",
        cmd_doctor,
        "Revisa esta instalación (Python, xlwings, pywin32) y, con --workbook, el libro "
        "(macros, Python de la hoja «xlwings.conf», OneDrive o unidad de red, archivo bloqueado "
        "por venir de Internet), y dice qué corregir.",
        ["swat-xl doctor", "swat-xl doctor -w SWAT_Detractores.xlsm --json"],
        workbook=False,
        json_help="imprime el diagnóstico como JSON",
    )
    p.add_argument("-w", "--workbook", metavar="LIBRO", help="libro maestro a revisar (.xlsm)")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(_without_gc(args.handler, args))
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
    import datetime as dt
    import tempfile

    from swat_xl.core.text import mask_digits

    entry = (
        f"--- {dt.datetime.now():%Y-%m-%d %H:%M:%S} · swat-xl {__version__} · "
        f"{getattr(args, 'command', '')}\n{mask_digits(traceback.format_exc())}\n"
    )
    folders = []
    workbook = getattr(args, "workbook", None)
    if workbook:
        folders.append(Path(workbook).absolute().parent)
    folders += [Path.cwd(), Path(tempfile.gettempdir())]
    for folder in folders:
        log = folder / ERROR_LOG
        try:
            with log.open("a", encoding="utf-8") as handle:
                handle.write(entry)
        except OSError:
            continue
        return log
    return None


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
