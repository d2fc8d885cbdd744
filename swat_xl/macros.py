"""The SWAT ribbon's entry point, called by xlwings' ``RunPython`` from the master workbook.

Every button of the SWAT tab (``workbooks/src/SWAT.bas``) runs::

    import swat_xl.macros as m; m.run('<action>'[, '<argument>'])

with one of :data:`ACTIONS`. :func:`run` gets the calling book with ``xlwings.Book.caller()``,
wraps it in a unit of work (:func:`swat_xl.bootstrap.live_unit`) and calls the same
services as the ``swat-xl`` command line. The user sees results and errors in a message box
titled «SWAT», in Spanish, never a traceback: a :class:`~swat_xl.errors.SwatError` shows its
message; anything else shows a generic message and its traceback (phone numbers masked) goes
to ``swat_xl.log`` beside the workbook. Excel's status bar shows the progress; screen updating
is off and calculation is manual while the book is rewritten, and both are restored even on
error.

«Reasignar asesor» takes the agent from the selection: the selected row of the ``Asesores``
sheet, or the agent sheet that is active when the button is pressed.

Debugging from Python on a machine with Excel (classic xlwings, no add-in needed)::

    import xlwings as xw
    import swat_xl.macros

    xw.Book(r"C:\\ruta\\SWAT_Detractores.xlsm").set_mock_caller()
    swat_xl.macros.run("actualizar_indicador")

xlwings is imported only inside the functions that need Excel, so this module imports (and is
tested) anywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swat_xl import __version__
from swat_xl.errors import InputError, SwatError, WorkbookError
from swat_xl.services.batch import collector_paused
from swat_xl.workbook import labels as L

#: Actions the ribbon may run (``RunAction "<name>"`` in workbooks/src/SWAT.bas).
ACTIONS: tuple[str, ...] = (
    "importar_corte",
    "asignar_repartir",
    "libros_asesor",
    "recoger_gestiones",
    "reasignar_asesor",
    "actualizar_indicador",
    "exportar_formulario",
    "archivar",
    "ayuda",
)
TITLE = "SWAT"
LOG_NAME = "swat_xl.log"
AGENT_FOLDER = "Libros asesores"
MAX_WARNINGS = 5


def _caller() -> Any:
    """The ``xlwings.Book`` that ran the macro (the seam the tests replace)."""
    try:
        import xlwings as xw
    except ImportError as exc:  # pragma: no cover - xlwings is a dependency
        raise ImportError("Las macros de swat_xl necesitan xlwings: pip install swat-xl") from exc
    return xw.Book.caller()


# -- Excel state ---------------------------------------------------------------------------------
@contextmanager
def quiet_excel(app: Any) -> Iterator[None]:
    """Screen updating off and manual calculation while writing; the previous values after."""
    saved: dict[str, Any] = {}
    for name, quiet in (("screen_updating", False), ("calculation", "manual")):
        with suppress(Exception):  # e.g. no calculation mode while Excel is in Protected View
            saved[name] = getattr(app, name)
            setattr(app, name, quiet)
    try:
        yield
    finally:
        for name, value in reversed(saved.items()):
            with suppress(Exception):
                setattr(app, name, value)


@contextmanager
def status_bar(app: Any) -> Iterator[Callable[[str], None]]:
    """A ``say(text)`` that shows progress in the status bar; Excel's own bar comes back after."""

    def say(text: str) -> None:
        app.status_bar = f"SWAT: {text}"

    try:
        yield say
    finally:
        with suppress(Exception):
            app.status_bar = False


# -- the dispatcher ------------------------------------------------------------------------------
@dataclass
class _Context:
    book: Any
    say: Callable[[str], None]
    master: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def app(self) -> Any:
        return self.book.app

    @property
    def path(self) -> Path:
        return Path(str(self.book.fullname))

    @property
    def folder(self) -> Path:
        return self.path.parent

    def live(self, *, export: Any = None) -> Any:
        """The unit of work on the calling book (built once per action); ``export``, an
        export already being read (see :func:`swat_xl.bootstrap.live_unit`)."""
        if self.master is None:
            from swat_xl.bootstrap import live_unit

            if not self.path.is_absolute() or self.path.suffix.lower() not in (".xlsm", ".xlsx"):
                raise WorkbookError(
                    "Guarde primero el libro como .xlsm (Libro de Excel habilitado para macros) "
                    "y vuelva a pulsar el botón"
                )
            self.master = live_unit(self.book, progress=self.say, export=export)
        return self.master

    def confirm(self, question: str) -> bool:
        return self.app.alert(question, title=TITLE, buttons="yes_no", mode="info") == "yes"


def run(action: str, *args: str) -> None:
    """Run one ribbon action on the calling workbook and tell the user how it went."""
    book = _caller()
    app = book.app
    with quiet_excel(app), status_bar(app) as say, collector_paused():
        context = _Context(book, say)
        text, mode = _dispatch(context, action, args)
    if text:
        app.alert(text, title=TITLE, mode=mode)


def _dispatch(context: _Context, action: str, args: tuple[str, ...]) -> tuple[str, str]:
    handler = _HANDLERS.get(action)
    try:
        if handler is None:
            raise InputError(
                f"La cinta pidió una acción desconocida («{action}»); actualice swat_xl y el libro"
            )
        text = handler(context, *args)
    except SwatError as error:
        return _with_notes(str(error), context), "critical"
    except Exception:
        log = _log_unexpected(context, action)
        where = f"\n\nEl detalle técnico quedó en «{log}»." if log else ""
        return (
            "Ocurrió un error inesperado de swat_xl y la operación no terminó. Nada queda a "
            "medias: el registro solo guarda operaciones completas y la próxima operación "
            "vuelve a dibujar el libro. Si se repite, envíe el archivo de detalle a soporte."
            + where
        ), "critical"
    return _with_notes(text, context), "info"


def _with_notes(text: str, context: _Context) -> str:
    notes = list(context.notes)
    if context.master is not None:
        notes += context.master.workbook.problems
    return "\n\n".join([text, *notes]) if notes else text


def _log_unexpected(context: _Context, action: str) -> Path | None:
    """Append the current traceback (phones masked) to swat_xl.log; its path, or None."""
    from swat_xl.adapters.system import log_current_error

    try:
        folders = [context.folder] if context.path.is_absolute() else []
    except Exception:
        folders = []
    folders.append(Path(tempfile.gettempdir()))
    heading = f"swat_xl {__version__} · acción «{action}»"
    return log_current_error(folders, LOG_NAME, heading)


def _warnings(warnings: list[str]) -> str:
    if not warnings:
        return ""
    shown = [f"• {w}" for w in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        shown.append(f"• … y {len(warnings) - MAX_WARNINGS} avisos más (ver hoja «Bitácora»)")
    return "\n\nAvisos:\n" + "\n".join(shown)


# -- the actions ---------------------------------------------------------------------------------
def summary(result: Any, *, detail: bool = False) -> list[str]:
    """The Spanish lines of a use case's result (the same the command line prints)."""
    from swat_xl.summaries import summary as lines_of

    return lines_of(result, detail=detail)


def _import_cut(context: _Context, export: str = "", *_: str) -> str:
    from swat_xl.adapters.export_reader import start_reading

    export = export.strip()
    if not export:
        raise InputError("Elija el archivo del corte descargado de Power BI (data.xlsx o .csv)")
    context.say("Leyendo el corte…")
    # python-calamine releases the GIL while it parses: the export is read in a helper thread
    # while the modules load and Excel gives the master's settings.
    with start_reading(export) as reading:
        from swat_xl.services.importing import import_cut

        result = import_cut(context.live(export=reading), export, progress=context.say)
    heading = [] if result.already_imported else [f"Corte «{result.file}» importado."]
    return "\n".join(heading + summary(result)) + _warnings(result.warnings)


def _assign(context: _Context, *_: str) -> str:
    from swat_xl.services.master import assign_pending

    context.say("Asignando y repartiendo…")
    return "\n".join(summary(assign_pending(context.live()), detail=True))


def _agent_books(context: _Context, *_: str) -> str:
    from swat_xl.services.agents import export_agent_workbooks

    folder = context.folder / AGENT_FOLDER
    context.say("Creando los libros de cada asesor…")
    result = export_agent_workbooks(context.live(), folder)
    if not result.files:
        return "Ningún asesor tiene registros abiertos: no se creó ningún libro."
    lines = [f"Se crearon {len(result.files)} libros de asesor:", *summary(result)]
    return "\n".join([*lines, "Cuando los asesores terminen, pulse «Recoger gestiones»."])


def _collect(context: _Context, *_: str) -> str:
    from swat_xl.services.agents import collect_agent_workbooks

    context.say("Recogiendo las gestiones de los libros de asesor…")
    result = collect_agent_workbooks(context.live(), context.folder / AGENT_FOLDER)
    conflicts = ["Los conflictos quedaron en la hoja «Bitácora»."] if result.conflicts else []
    refused = [f"No se recogió «{item['file']}»: {item['reason']}" for item in result.refused]
    return "\n".join(summary(result) + conflicts + refused)


def selected_agent(context: _Context) -> str:
    """The agent the user pointed at: the selected row of «Asesores», or the active agent sheet."""
    from swat_xl.core.text import clean_text

    master = context.live().workbook
    sheet = str(context.book.sheets.active.name)
    roster = master.rows(L.SHEET_ROSTER) if L.SHEET_ROSTER in master.sheet_names() else []
    how = (
        "Para reasignar, vaya a la hoja «Asesores», haga clic en el nombre del asesor ausente y "
        "pulse «Reasignar asesor» (o púlselo desde la hoja de ese asesor)."
    )
    if sheet == L.SHEET_ROSTER:
        row = int(context.app.selection.row)
        name = clean_text(roster[row - 1][0]) if 1 < row <= len(roster) and roster[row - 1] else ""
        if not name:
            raise InputError("La fila seleccionada de «Asesores» no tiene un asesor. " + how)
        return name
    if sheet in L.OWNED_SHEETS:
        raise InputError(how)
    header = [clean_text(cell) for cell in roster[0]] if roster else []
    column = next((i for i, h in enumerate(header) if h.startswith("Hoja")), None)
    for row_values in roster[1:]:
        if (
            column is not None
            and len(row_values) > column
            and clean_text(row_values[column]) == sheet
            and clean_text(row_values[0])
        ):
            return clean_text(row_values[0])
    if L.is_agent_header(master.header(sheet)):
        return sheet
    raise InputError(how)


def _reassign(context: _Context, *_: str) -> str:
    from swat_xl.services.master import reassign_agent

    agent = selected_agent(context)
    question = (
        f"¿Reasignar los registros abiertos de «{agent}»?\n\nSe reparten entre los demás asesores "
        "activos según su perfil y capacidad. Si el asesor no debe recibir trabajo nuevo, ponga "
        "«No» en su columna Activo de la hoja «Asesores»."
    )
    if not context.confirm(question):
        return ""
    context.say(f"Reasignando los registros de {agent}…")
    result = reassign_agent(context.live(), agent, None)
    return "\n".join([f"Registros de «{agent}»:", *summary(result, detail=True)])


def _kpi(context: _Context, *_: str) -> str:
    from swat_xl.services.indicator import refresh_kpi

    context.say("Actualizando el indicador…")
    return "\n".join(summary(refresh_kpi(context.live())))


def form_path(folder: Path, when: dt.datetime) -> Path:
    """``Formulario_<fecha>.xlsx`` beside the workbook; never an existing file."""
    base = f"Formulario_{when:%Y-%m-%d}"
    candidate = folder / f"{base}.xlsx"
    n = 2
    while candidate.exists():
        candidate = folder / f"{base} ({n}).xlsx"
        n += 1
    return candidate


def _form(context: _Context, *_: str) -> str:
    from swat_xl.services.form import export_form

    master = context.live()
    out = form_path(context.folder, master.clock())
    context.say("Exportando para el formulario…")
    return "\n".join(summary(export_form(master, out)))


def _archive(context: _Context, *_: str) -> str:
    from swat_xl.services.archive import archive

    uow = context.live()
    master = uow.workbook
    question = (
        "Nuevo periodo: se guarda una copia del libro en la carpeta «swat_copias» y los "
        "registros cerrados salen de las hojas (quedan en el registro y siguen contando en el "
        "indicador de su periodo). Los abiertos no se tocan.\n\n¿Continuar?"
    )
    if not context.confirm(question):
        return ""
    context.say("Guardando una copia del periodo…")
    copy = (
        master.path.parent
        / L.BACKUP_FOLDER
        / (f"{master.path.stem}-periodo-{uow.clock():%Y%m%d-%H%M%S}{master.path.suffix}")
    )
    try:
        copy.parent.mkdir(exist_ok=True)
        context.book.api.SaveCopyAs(str(copy))
    except Exception as exc:
        raise WorkbookError(
            "No se pudo guardar la copia del periodo; no se archivó nada", file=copy
        ) from exc
    context.say("Archivando los registros cerrados…")
    return "\n".join([*summary(archive(uow)), f"Copia del periodo: «{copy}»"])


def help_text() -> str:
    return (
        f"SWAT Detractores — swat_xl {__version__}\n\n"
        "1. Importar corte: elija el data.xlsx descargado de Power BI (cada 2-3 horas).\n"
        "2. Asignar y repartir: reparte los registros «Sin asignar» por perfil (Hogar / Móvil / "
        "Ambos) y capacidad, según la hoja «Asesores».\n"
        "3. Cada asesor marca en su hoja: intentos, Resultado, Solución, encuesta. O bien "
        "«Libros por asesor» crea un libro por asesor en la carpeta «Libros asesores» y "
        "«Recoger gestiones» trae sus marcas.\n"
        "4. Reasignar asesor: haga clic en el nombre del asesor ausente (hoja «Asesores») o abra "
        "su hoja, y pulse el botón.\n"
        "5. Actualizar indicador: % contacto efectivo = efectivos / registros enviados × 100 "
        "(meta ≥ 80 %). La gestión vence a las 24 horas de asignada.\n"
        "6. Exportar para formulario: archivo con los cerrados y los no gestionables para "
        "GESTION DETRACTORES ONLINE.\n"
        "7. Nuevo periodo: guarda una copia y saca de las hojas los registros cerrados.\n\n"
        "Todo queda en el registro «.swat.sqlite» junto al libro: no lo borre ni lo separe del "
        "libro. Cada vez que el libro se reescribe, la carpeta «swat_copias» guarda la versión "
        "anterior junto con una copia de su registro. Si el registro se pierde o se daña, cierre "
        "el libro y, en una terminal en su carpeta, ejecute «swat-xl restore -w LIBRO» (la copia "
        "más reciente; «--copia dd/mm/aaaa» para elegir otra): los archivos actuales se apartan "
        f"en «swat_copias», no se borran.\nLos errores técnicos quedan en «{LOG_NAME}» en la "
        "misma carpeta."
    )


def _help(context: _Context, *_: str) -> str:
    """The steps, then what `swat-xl doctor` finds wrong with this PC and this workbook."""
    try:
        from swat_xl.install.doctor import current_environment, diagnose

        report = diagnose(current_environment(), book_facts(context.book))
        found = report.text(problems_only=True)
    except Exception:
        log = _log_unexpected(context, "ayuda")
        found = "No se pudo completar el diagnóstico" + (f" (detalle en «{log}»)." if log else ".")
    return f"{help_text()}\n\n{found}"


def book_facts(book: Any) -> Any:
    """The doctor's facts of the open workbook: its file (macros) as saved, and the
    ``xlwings.conf`` sheet as Excel has it now (that is what the xlwings VBA reads)."""
    from swat_xl.install.doctor import CONF_SHEET, WorkbookFacts, conf_from_rows, workbook_facts

    path = str(book.fullname)
    local = Path(path).is_absolute() and Path(path).is_file()
    facts = workbook_facts(path, conf=False) if local else WorkbookFacts(path)
    names = [str(sheet.name) for sheet in book.sheets]
    conf = None
    if CONF_SHEET in names:
        rows = book.sheets[CONF_SHEET].range("A1:B40").options(ndim=2).value or []
        conf = conf_from_rows(rows)
    return dataclasses.replace(facts, conf=conf) if facts.problem != "missing" else facts


_HANDLERS: dict[str, Callable[..., str]] = {
    "importar_corte": _import_cut,
    "asignar_repartir": _assign,
    "libros_asesor": _agent_books,
    "recoger_gestiones": _collect,
    "reasignar_asesor": _reassign,
    "actualizar_indicador": _kpi,
    "exportar_formulario": _form,
    "archivar": _archive,
    "ayuda": _help,
}
