"""One workbook per agent: export each agent's open rows, collect their marks back."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from swat_xl.core.text import clean_text
from swat_xl.errors import CollectError, InputError, WorkbookError
from swat_xl.services.marks import MarkRow, apply_mark_rows, read_mark_rows
from swat_xl.services.operation import run_operation
from swat_xl.services.ports import FilesPort, SheetReader
from swat_xl.services.results import AgentBooksResult, CollectResult
from swat_xl.services.session import Session
from swat_xl.services.unit_of_work import UnitOfWork
from swat_xl.workbook import labels as L
from swat_xl.workbook.layout import agent_sheet, file_names_for, sheet_names_for, with_display
from swat_xl.workbook.spec import Cell, Sheet, WorkbookSpec

META_SHEET = "_swat"
_META_KEYS = ("token", "asesor", "exportado", "libro")


def _meta_sheet(token: str, agent: str, at: dt.datetime, master: str) -> Sheet:
    values = (token, agent, at, master)
    cells = []
    for row, (key, value) in enumerate(zip(_META_KEYS, values, strict=True)):
        cells.append(Cell(row, 0, key, kind="text"))
        cells.append(Cell(row, 1, value, kind=None if isinstance(value, dt.datetime) else "text"))
    return Sheet(META_SHEET, cells=cells, hidden=True)


def export_agent_workbooks(uow: UnitOfWork, out_dir: str | Path) -> AgentBooksResult:
    """Write ``<out_dir>/<agent>.xlsx`` with only that agent's open rows (same dropdowns)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("La ruta de salida no es una carpeta", file=out)

    def body(session: Session) -> AgentBooksResult:
        out.mkdir(parents=True, exist_ok=True)
        taken_in = _take_in_previous_delivery(session, uow.files, out)
        records = session.ledger.records(include_archived=False)
        open_rows = records[
            (records["agent"] != "") & (records["outcome"] == "") & (records["exclusion"] == "")
        ]
        open_rows = with_display(open_rows) if not open_rows.empty else open_rows
        agents = [a.name for a in session.agents if a.active]
        agents += [a for a in open_rows["agent"].unique() if a not in agents]
        sheets = sheet_names_for(agents, reserved=[META_SHEET])
        files = file_names_for(agents)
        written: dict[str, int] = {}
        for agent in agents:
            mine = open_rows[open_rows["agent"] == agent]
            if mine.empty:
                continue
            token = uuid.uuid4().hex
            path = out / f"{files[agent]}.xlsx"
            spec = WorkbookSpec(
                sheets=[
                    agent_sheet(sheets[agent], mine, session.settings, session.now),
                    _meta_sheet(token, agent, session.now, session.workbook.path.name),
                ],
                active=sheets[agent],
            )
            uow.files.save_book(spec, path)
            session.ledger.add_agent_export(
                token, agent, path.name, session.now, (int(i) for i in mine["id"])
            )
            written[agent] = len(mine)
        session.summary = (
            f"{len(written)} libros de asesor en «{out}» ({sum(written.values())} registros)"
        )
        if taken_in:
            session.summary += f"; antes se recogieron {taken_in} libros de la entrega anterior"
        session.counts = {
            "files": len(written),
            "records": sum(written.values()),
            "previous_collected": taken_in,
        }
        return AgentBooksResult(str(out), written, taken_in)

    return run_operation(uow, "Libros por asesor", body)


Note = tuple[str, str, "int | None"]  # an event to log once the file is accepted


def _read_agent_file(
    path: Path, session: Session, files: FilesPort, *, allow_earlier: bool = False
) -> tuple[str, list[MarkRow], list[Note]]:
    """Validate one agent workbook against the ledger and return its agent, its mark rows and
    the notes to log if it is taken. Raises :class:`CollectError` (nothing logged) when the
    file cannot be taken.

    ``allow_earlier`` accepts a file of an earlier delivery (used when a new delivery first
    takes in what the previous one still holds)."""
    try:
        book = files.open_book(path)
    except Exception as exc:  # the adapter raises WorkbookError; any other is a broken file
        raise CollectError("No se pudo leer el libro del asesor", file=path) from exc
    try:
        return _read_open_agent_file(book, path, session, allow_earlier)
    except WorkbookError as exc:
        raise CollectError("No se pudo leer el libro del asesor", file=path) from exc
    finally:
        book.close()


def _read_open_agent_file(
    book: SheetReader, path: Path, session: Session, allow_earlier: bool
) -> tuple[str, list[MarkRow], list[Note]]:
    names = book.sheet_names()
    if META_SHEET not in names:
        raise CollectError(
            "No es un libro de asesor generado por swat_xl (falta la hoja de control)", file=path
        )
    meta = {clean_text(r[0]): r[1] for r in book.rows(META_SHEET) if len(r) > 1}
    token = clean_text(meta.get("token", ""))
    row = session.ledger.agent_export(token)
    if row is None:
        raise CollectError(
            "Este libro de asesor no fue generado desde este libro maestro", file=path
        )
    agent, exported_at, ids = row
    newest = session.ledger.latest_agent_export(agent)
    if exported_at != newest and not allow_earlier:
        raise CollectError(
            f"Este libro de «{agent}» es de una entrega anterior "
            f"({exported_at[:16].replace('T', ' ')}); recoja el libro más reciente",
            file=path,
        )
    allowed = set(ids)
    current = session.ledger.agents_of_records()
    marks: list[MarkRow] = []
    notes: list[Note] = []
    for name in names:
        if name == META_SHEET or not L.is_agent_header(book.header(name)):
            continue
        rows, problems = read_mark_rows(book.rows(name), f"{path.name}")
        notes.extend((note, "warning", None) for note in problems)
        for mark in rows:
            if mark.record_id not in allowed:
                raise CollectError(
                    f"El libro contiene el ID {mark.record_id}, que no se entregó a «{agent}»",
                    file=path,
                    sheet=name,
                    row=mark.row,
                )
            if current.get(mark.record_id) != agent:
                notes.append(
                    (
                        f"ID {mark.record_id} ya no está asignado a «{agent}»; "
                        "sus marcas se tomaron igual",
                        "warning",
                        mark.record_id,
                    )
                )
        marks.extend(rows)
    return agent, marks, notes


def _log_notes(session: Session, notes: list[Note]) -> None:
    for message, level, record_id in notes:
        session.event(message, level=level, record_id=record_id)


def _take_in_previous_delivery(session: Session, files: FilesPort, out: Path) -> int:
    """Collect the marks of the files an earlier delivery left in ``out``, then remove them,
    so a new delivery never strands marks nor leaves stale files behind."""
    previous = [p for p in sorted(out.glob("*.xlsx")) if not p.name.startswith(("~$", "."))]
    marks: list[MarkRow] = []
    done: list[Path] = []
    for path in previous:
        try:
            _agent, rows, notes = _read_agent_file(path, session, files, allow_earlier=True)
        except CollectError as error:
            session.warn(f"Se dejó «{path.name}» en la carpeta: {error.message}")
            continue
        _log_notes(session, notes)
        marks.extend(rows)
        done.append(path)
    if marks:
        apply_mark_rows(session, marks, source_label="libro de asesor", ledger_competes=True)
    for path in done:
        session.ledger.mark_collected(path.name, session.now)
        path.unlink()
    return len(done)


def collect_agent_workbooks(uow: UnitOfWork, folder: str | Path) -> CollectResult:
    """Read the marks of every agent workbook in ``folder`` back into the master."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("La carpeta de libros de asesor no existe", file=folder)
    files = sorted(p for p in folder.glob("*.xlsx") if not p.name.startswith(("~$", ".")))
    if not files:
        raise InputError("La carpeta no tiene libros de asesor (.xlsx)", file=folder)

    def body(session: Session) -> CollectResult:
        by_file: dict[str, int] = {}
        refused: list[dict[str, str]] = []
        all_marks: list[MarkRow] = []
        for path in files:  # each file is taken whole or refused whole, with its reason
            try:
                _agent, marks, notes = _read_agent_file(path, session, uow.files)
            except CollectError as error:
                refused.append({"file": path.name, "path": str(path), "reason": error.message})
                continue
            _log_notes(session, notes)
            by_file[path.name] = len(marks)
            all_marks.extend(marks)
        if not by_file:
            reasons = "; ".join(f"«{item['file']}»: {item['reason']}" for item in refused)
            raise CollectError(f"No se recogió ningún libro de asesor ({reasons})", file=folder)
        counts = apply_mark_rows(
            session, all_marks, source_label="libro de asesor", ledger_competes=True
        )
        for name in by_file:
            session.ledger.mark_collected(name, session.now)
        for item in refused:
            session.warn(f"No se recogió «{item['file']}»: {item['reason']}")
        session.summary = (
            f"{len(by_file)} libros recogidos: {counts['records']} registros con marcas nuevas, "
            f"{counts['conflicts']} conflictos"
        )
        if refused:
            session.summary += f"; {len(refused)} libros rechazados"
        session.counts = {"files": len(by_file), "refused": len(refused), **counts}
        return CollectResult(collected=sorted(by_file), refused=refused, files=by_file, **counts)

    return run_operation(uow, "Recoger gestiones", body)
