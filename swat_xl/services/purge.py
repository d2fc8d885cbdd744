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
from pathlib import Path
from typing import Any

from swat_xl.core.dates import parse_datetime
from swat_xl.errors import InputError, SwatError
from swat_xl.services.copies import (
    BACKUP_DIR,
    LEDGER_SUFFIX,
    TMP_PREFIX,
    copies_of,
    ledger_copy_of,
)
from swat_xl.services.operation import run_operation
from swat_xl.services.ports import LedgerPort
from swat_xl.services.results import PurgeResult
from swat_xl.services.session import Session
from swat_xl.services.sheets import read_settings
from swat_xl.services.unit_of_work import UnitOfWork

PURGED_NOTICE = "Registro depurado: se eliminaron sus datos personales (retención cumplida)"
_FORM_COMMAND = "Exportar formulario"


def backups_of(workbook: Path) -> list[tuple[Path, dt.datetime]]:
    """The workbook's backup copies with the time each was taken (from its name)."""
    return [(copy.workbook, copy.taken) for copy in copies_of(workbook)]


def _outside_copies(ledger: LedgerPort, limit: dt.datetime) -> list[str]:
    """Files outside the tool's folders that hold the records to purge: agent workbooks handed
    out, exports for the online form, the Power BI exports themselves (read before purging)."""
    found = ledger.copies_before(limit, _FORM_COMMAND)
    out: list[str] = []
    for agent, file_name, exported_at in found["agent_workbooks"]:
        out.append(
            f"libro de asesor «{file_name}» ({agent}, entregado el "
            f"{parse_datetime(exported_at):%d/%m/%Y %H:%M})"
        )
    for file, started_at in found["form_exports"]:
        when = parse_datetime(started_at)
        out.append(
            f"exporte para el formulario «{file}»"
            if file
            else f"exporte para el formulario del {when:%d/%m/%Y %H:%M}"
        )
    out.extend(f"archivo de Power BI importado «{name}»" for name in found["exports"])
    return out


def _purge_ledger(session: Session, limit: dt.datetime) -> tuple[dict[str, int], list[str]]:
    """Delete the records of cuts imported before ``limit`` (and their history), redact the
    log; also name what holds them outside the tool's reach."""
    outside = _outside_copies(session.ledger, limit)
    return session.ledger.purge_cuts_before(limit, notice=PURGED_NOTICE), outside


def purge(uow: UnitOfWork, days: int | None = None) -> PurgeResult:
    """Delete records of cuts imported more than ``days`` days ago (default: the Config value
    ``retencion_dias``) from the ledger, the workbook and every copy. Returns the counts and
    what could not be cleaned (``not_cleaned``)."""
    if days is not None and days < 1:
        raise InputError("Los días de retención deben ser al menos 1")
    when: dict[str, dt.datetime] = {}

    def body(session: Session) -> PurgeResult:
        keep_days = days if days is not None else session.settings.retention_days
        if keep_days < 1:
            raise InputError("«retencion_dias» debe ser al menos 1 en la hoja Config")
        limit = session.now - dt.timedelta(days=keep_days)
        when["limit"] = limit
        done, outside = _purge_ledger(session, limit)
        session.summary = (
            f"depuración con retención de {keep_days} días (antes del {limit:%d/%m/%Y}): "
            f"{done['records']} registros de {done['cuts']} cortes y {done['history_rows']} "
            f"filas de su historial eliminados ({done['open_records']} seguían abiertos)"
        )
        session.counts = {
            "retention_days": keep_days,
            "cuts": done["cuts"],
            "records": done["records"],
            "history_rows": done["history_rows"],
            "open_records": done["open_records"],
            "log_lines_redacted": done["log_lines_redacted"],
        }
        return PurgeResult(**session.counts, not_cleaned=outside)

    workbook = uow.workbook.path
    before = {copy.workbook for copy in copies_of(workbook)}

    def clean(result: PurgeResult) -> PurgeResult:
        # Under the operation's lock: no other operation leaves a copy in «swat_copias» (that
        # would be taken for the one this purge replaced) while the copies are cleaned.
        cleaned = _clean_copies(uow, when["limit"], before, purged=result.records > 0)
        return dataclasses.replace(result, **cleaned)

    return run_operation(uow, "Depurar datos", body, then=clean)


def _clean_copies(
    uow: UnitOfWork, limit: dt.datetime, before: set[Path], *, purged: bool
) -> dict[str, Any]:
    """After the commit, under the workbook's lock: ``swat_copias`` holds nothing the ledger
    has forgotten."""
    workbook = uow.workbook.path
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
        elif ledger.exists() and _purge_pair(uow, path, limit):
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


def _purge_pair(uow: UnitOfWork, copy: Path, limit: dt.datetime) -> bool:
    """Purge a workbook copy and the ledger copy kept with it, and draw the copy again from
    it (so the pair can still be restored). False when the pair cannot be used."""
    if not uow.ledgers.check(ledger_copy_of(copy)):
        return False
    try:
        pair = uow.open_copy(copy)
        settings = dataclasses.replace(
            read_settings(pair.workbook), ledger_path="", backups_to_keep=0
        )

        def body(session: Session) -> int:
            done, _outside = _purge_ledger(session, limit)
            session.summary = (
                f"copia depurada: {done['records']} registros de {done['cuts']} cortes eliminados"
            )
            session.counts = {"records": done["records"], "cuts": done["cuts"]}
            return done["records"]

        run_operation(pair, "Depurar copia", body, settings=settings, sync_marks=False)
        return True
    except SwatError:
        return False
