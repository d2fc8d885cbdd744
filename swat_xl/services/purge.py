"""«Depurar»: forget personal data older than the retention period, everywhere the tool keeps it.

Records whose cut was imported more than ``retencion_dias`` days ago leave the ledger with
their history (assignments and mark changes), and so leave every sheet; the cuts themselves
stay (file name, fingerprint and counts, no personal data), so importing an old file again is
still recognised and adds nothing. The log keeps its lines, but those about purged records say
only that they were purged, and digit runs are hidden in the others.

Then ``swat_copias``: copies older than the retention are deleted; every other copy kept with
its ledger copy is purged the same way and drawn again (so it can still be restored); copies
without a ledger copy, which cannot be cleaned, are deleted; so is the copy the purge itself
leaves of the workbook it replaces. What the tool cannot reach — agent workbooks handed out,
exports for the online form, the Power BI files imported — is listed for the user to delete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from swat_xl.adapters.ledger import quick_check
from swat_xl.adapters.xlsx_file import BACKUP_DIR, TMP_PREFIX
from swat_xl.core.dates import parse_datetime
from swat_xl.errors import InputError, SwatError
from swat_xl.services.restore import copies_of
from swat_xl.services.session import (
    LEDGER_SUFFIX,
    Session,
    WorkbookPort,
    ledger_copy_of,
    lock_path_for,
    read_settings,
    run_operation,
)

PURGED_NOTICE = "Registro depurado: se eliminaron sus datos personales (retención cumplida)"
_FORM_COMMAND = "Exportar formulario"


def backups_of(workbook: Path) -> list[tuple[Path, dt.datetime]]:
    """The workbook's backup copies with the time each was taken (from its name)."""
    return [(copy.workbook, copy.taken) for copy in copies_of(workbook)]


@dataclasses.dataclass
class _Purged:
    cuts: int = 0
    records: int = 0
    history: int = 0
    still_open: int = 0
    events: int = 0
    outside: list[str] = dataclasses.field(default_factory=list)


def _purge_ledger(session: Session, limit: dt.datetime) -> _Purged:
    """Delete the records of cuts imported before ``limit`` (and their history), redact the
    log; also note what holds them outside the tool's reach."""
    db = session.ledger.db
    old = (limit.isoformat(),)
    in_old_cuts = "cut_id IN (SELECT id FROM cuts WHERE imported_at < ?)"
    out = _Purged()
    out.cuts = db.execute("SELECT COUNT(*) FROM cuts WHERE imported_at < ?", old).fetchone()[0]
    ids = [r[0] for r in db.execute(f"SELECT id FROM records WHERE {in_old_cuts}", old)]
    out.outside = _outside_copies(session, set(ids), limit)
    for table in ("mark_history", "assignments"):
        out.history += db.execute(
            f"DELETE FROM {table} WHERE record_id IN (SELECT id FROM records WHERE {in_old_cuts})",
            old,
        ).rowcount
    out.still_open = db.execute(
        f"SELECT COUNT(*) FROM records WHERE {in_old_cuts} AND archived_at = '' "
        "AND exclusion = '' AND outcome = ''",
        old,
    ).fetchone()[0]
    out.records = db.execute(f"DELETE FROM records WHERE {in_old_cuts}", old).rowcount
    out.events = session.ledger.redact_events(ids, notice=PURGED_NOTICE)
    return out


def _outside_copies(session: Session, ids: set[int], limit: dt.datetime) -> list[str]:
    """Files outside the tool's folders that hold purged records: agent workbooks handed out,
    exports for the online form, the Power BI exports themselves."""
    if not ids:
        return []
    db = session.ledger.db
    found: list[str] = []
    for agent, file_name, exported_at, record_ids in db.execute(
        "SELECT agent, file_name, exported_at, record_ids FROM agent_exports ORDER BY id"
    ):
        if ids & set(json.loads(record_ids)):
            found.append(
                f"libro de asesor «{file_name}» ({agent}, entregado el "
                f"{parse_datetime(exported_at):%d/%m/%Y %H:%M})"
            )
    exported: set[str] = set()
    chunked = sorted(ids)
    for start in range(0, len(chunked), 900):
        chunk = chunked[start : start + 900]
        marks = ",".join("?" * len(chunk))
        exported.update(
            r[0]
            for r in db.execute(
                f"SELECT DISTINCT form_exported_at FROM records WHERE id IN ({marks}) "
                "AND form_exported_at != ''",
                chunk,
            )
        )
    for started_at, counts in db.execute(
        "SELECT started_at, counts FROM operations WHERE command = ? ORDER BY id",
        (_FORM_COMMAND,),
    ):
        if started_at in exported:
            try:
                file = json.loads(counts or "{}").get("file", "")
            except ValueError:
                file = ""
            when = parse_datetime(started_at)
            found.append(
                f"exporte para el formulario «{file}»"
                if file
                else f"exporte para el formulario del {when:%d/%m/%Y %H:%M}"
            )
    for (name,) in db.execute(
        "SELECT file_name FROM cuts WHERE imported_at < ? ORDER BY id", (limit.isoformat(),)
    ):
        found.append(f"archivo de Power BI importado «{name}»")
    return found


def purge(workbook: WorkbookPort, days: int | None = None) -> dict[str, Any]:
    """Delete records of cuts imported more than ``days`` days ago (default: the Config value
    ``retencion_dias``) from the ledger, the workbook and every copy. Returns the counts and
    what could not be cleaned (``not_cleaned``)."""
    if days is not None and days < 1:
        raise InputError("Los días de retención deben ser al menos 1")
    when: dict[str, dt.datetime] = {}

    def body(session: Session) -> dict[str, Any]:
        keep_days = days if days is not None else session.settings.retention_days
        if keep_days < 1:
            raise InputError("«retencion_dias» debe ser al menos 1 en la hoja Config")
        limit = session.now - dt.timedelta(days=keep_days)
        when["limit"] = limit
        done = _purge_ledger(session, limit)
        session.summary = (
            f"depuración con retención de {keep_days} días (antes del {limit:%d/%m/%Y}): "
            f"{done.records} registros de {done.cuts} cortes y {done.history} filas de su "
            f"historial eliminados ({done.still_open} seguían abiertos)"
        )
        session.counts = {
            "retention_days": keep_days,
            "cuts": done.cuts,
            "records": done.records,
            "history_rows": done.history,
            "open_records": done.still_open,
            "log_lines_redacted": done.events,
        }
        return {**session.counts, "not_cleaned": done.outside}

    before = {copy.workbook for copy in copies_of(workbook.path)}
    result = run_operation(workbook, "Depurar datos", body)
    copies = _clean_copies(workbook.path, when["limit"], before, purged=result["records"] > 0)
    return {**result, **copies}


def _clean_copies(
    workbook: Path, limit: dt.datetime, before: set[Path], *, purged: bool
) -> dict[str, Any]:
    """After the commit: ``swat_copias`` holds nothing the ledger has forgotten."""
    deleted: list[str] = []
    rewritten: list[str] = []

    def delete(*paths: Path) -> None:
        for path in paths:
            if path.exists():
                path.unlink()
                deleted.append(path.name)

    stamped = {copy.workbook: copy for copy in copies_of(workbook)}
    folder = workbook.parent / BACKUP_DIR
    files = sorted(
        p
        for p in folder.glob(f"{workbook.stem}-*")
        if p.is_file() and not p.name.startswith(TMP_PREFIX)
    )
    for path in files:
        if not path.exists() or path.name.endswith(LEDGER_SUFFIX):
            continue
        if path.suffix.lower() != workbook.suffix.lower():
            continue
        ledger = ledger_copy_of(path)
        copy = stamped.get(path)
        if copy is not None and copy.taken < limit:
            delete(path, ledger)  # older than the retention: every record in it is purged
        elif not purged:
            continue
        elif copy is not None and path not in before:
            delete(path, ledger)  # the copy of the workbook this purge replaced
        elif ledger.exists() and _purge_pair(path, limit):
            rewritten.append(path.name)
        else:
            delete(path, ledger)  # no ledger to draw it from again: it cannot be cleaned
    if purged:  # ledger copies left without their workbook (set aside by «restore»)
        for ledger in sorted(folder.glob(f"{workbook.stem}-*{LEDGER_SUFFIX}")):
            if ledger.exists() and not ledger.name.startswith(TMP_PREFIX):
                stem = ledger.name[: -len(LEDGER_SUFFIX)]
                if not ledger.with_name(stem + workbook.suffix).exists():
                    delete(ledger)
    return {
        "backups": len([n for n in deleted if not n.endswith(LEDGER_SUFFIX)]),
        "copies_deleted": deleted,
        "copies_rewritten": rewritten,
    }


def _purge_pair(copy: Path, limit: dt.datetime) -> bool:
    """Purge a workbook copy and the ledger copy kept with it, and draw the copy again from
    it (so the pair can still be restored). False when the pair cannot be used."""
    from swat_xl.services.files import FileMaster

    if not quick_check(ledger_copy_of(copy)):
        return False
    try:
        master = FileMaster(copy)
        settings = dataclasses.replace(read_settings(master), ledger_path="", backups_to_keep=0)

        def body(session: Session) -> int:
            done = _purge_ledger(session, limit)
            session.summary = (
                f"copia depurada: {done.records} registros de {done.cuts} cortes eliminados"
            )
            session.counts = {"records": done.records, "cuts": done.cuts}
            return done.records

        run_operation(master, "Depurar copia", body, settings=settings, sync_marks=False)
        return True
    except SwatError:
        return False
    finally:
        lock_path_for(copy).unlink(missing_ok=True)
