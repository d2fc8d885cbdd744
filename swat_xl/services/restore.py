"""«Restaurar»: bring back a workbook and its ledger from a consistent pair of copies.

Every rewrite of a file workbook keeps, in ``swat_copias`` beside it, the replaced workbook
(``<libro>-AAAAMMDD-HHMMSS.xlsx``) together with a copy of the ledger it was drawn from
(``<libro>-AAAAMMDD-HHMMSS.swat.sqlite``, taken with SQLite's online backup API). Restoring
puts the latest pair (or the chosen one) back in place; the current workbook and ledger, when
there are any, are first set aside in ``swat_copias`` (``…-apartado``), never deleted.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from swat_xl.core.config import Settings
from swat_xl.core.dates import NotADate, parse_datetime
from swat_xl.errors import InputError
from swat_xl.services.copies import (
    BACKUP_DIR,
    LEDGER_SUFFIX,
    TMP_PREFIX,
    Copy,
    copies_of,
    ensure_writable,
)
from swat_xl.services.ports import FilesPort, LedgerStore
from swat_xl.services.results import RestoreResult
from swat_xl.services.sheets import read_settings
from swat_xl.services.unit_of_work import UnitOfWork, ledger_path_for

SET_ASIDE = "apartado"


def choose_copy(workbook: Path, wanted: str | None, ledgers: LedgerStore) -> Copy:
    """The latest consistent pair, or the latest of those ``wanted`` names: its time as listed
    (``dd/mm/aaaa hh:mm[:ss]``), its day (``dd/mm/aaaa``), its stamp (``AAAAMMDD-HHMMSS``) or
    its file name."""
    pairs = [c for c in copies_of(workbook) if c.paired]
    if not pairs:
        raise InputError(
            f"No hay copias del libro con su registro en «{workbook.parent / BACKUP_DIR}»: "
            "no hay nada que restaurar",
            file=workbook,
        )
    candidates = pairs if wanted is None else [c for c in pairs if _names(c, wanted)]
    if not candidates:
        listed = ", ".join(c.label for c in pairs[-5:])
        raise InputError(
            f"No hay una copia «{wanted}»; las más recientes son: {listed} (use --copia con una "
            "de ellas, o con un día dd/mm/aaaa)",
            file=workbook,
        )
    for copy in reversed(candidates):
        if ledgers.check(copy.ledger):
            return copy
    raise InputError(
        "Las copias elegidas tienen el registro dañado; elija una anterior con --copia",
        file=workbook,
    )


def _names(copy: Copy, wanted: str) -> bool:
    """Whether ``wanted`` names ``copy``: its file name, its stamp (``AAAAMMDD[-HHMMSS]``), or a
    date as people type it (:mod:`swat_xl.core.dates`): a day names every copy of that day, a
    time every copy of that minute (or second, when typed)."""
    text = wanted.strip()
    if text in (copy.workbook.name, copy.workbook.stem):
        return True
    stamp = f"{copy.taken:%Y%m%d%H%M%S}"
    if re.fullmatch(r"\d{8}(?:-?\d{1,6})?", text):
        return stamp.startswith(re.sub(r"\D", "", text))
    try:
        when = parse_datetime(text)
    except NotADate:
        return False
    if when is None:
        return False
    if ":" not in text:
        return copy.taken.date() == when.date()
    precision = "%Y%m%d%H%M%S" if text.count(":") >= 2 else "%Y%m%d%H%M"
    return stamp.startswith(when.strftime(precision))


def restore(uow: UnitOfWork, wanted: str | None = None) -> RestoreResult:
    """Put the latest (or ``wanted``) consistent pair back as the unit of work's workbook and
    its ledger."""
    path = uow.workbook.path
    copy = choose_copy(path, wanted, uow.ledgers)
    settings = _settings_of(uow.files, copy.workbook)
    ledger = ledger_path_for(path, settings)
    ensure_writable(path, what="libro")
    ensure_writable(ledger, what="registro")
    with uow.lock(path, uow.wait_for(None)):
        stamp = f"{uow.clock():%Y%m%d-%H%M%S}"
        folder = path.parent / BACKUP_DIR
        set_aside: list[str] = []
        staged = [(_stage(copy.workbook, path), path), (_stage(copy.ledger, ledger), ledger)]
        try:
            _log_restore(uow, staged[1][0], copy, f"{path.stem}-{stamp}-{SET_ASIDE}")
            for current, suffix in ((path, path.suffix), (ledger, LEDGER_SUFFIX)):
                if current.exists():
                    target = folder / f"{path.stem}-{stamp}-{SET_ASIDE}{suffix}"
                    os.replace(current, target)
                    set_aside.append(str(target))
            for tmp, final in staged:
                os.replace(tmp, final)
        finally:
            for tmp, _final in staged:
                tmp.unlink(missing_ok=True)
    return RestoreResult(
        workbook=str(path),
        ledger=str(ledger),
        copy=copy.workbook.name,
        taken_at=copy.taken.isoformat(),
        taken=copy.label,
        set_aside=set_aside,
    )


def _log_restore(uow: UnitOfWork, staged_ledger: Path, copy: Copy, aside: str) -> None:
    """The restore as one line of the restored ledger's operation log (its «Bitácora»), written
    into the staged copy before it is moved in place: the restored pair is never without it."""
    ledger = uow.ledgers.open(staged_ledger)
    try:
        user, host = uow.identity()
        when = uow.clock()
        operation_id = ledger.start_operation("restore", user=user, host=host, at=when)
        ledger.finish_operation(
            operation_id,
            summary=(
                f"libro y registro restaurados desde la copia «{copy.workbook.name}» "
                f"(del {copy.label}); los que había quedaron apartados en «{BACKUP_DIR}» "
                f"como «{aside}»"
            ),
            counts={"copia": copy.workbook.name},
            at=when,
        )
    finally:
        ledger.close()


def _stage(source: Path, final: Path) -> Path:
    """``source`` copied beside ``final`` under a temporary name (moved in place last)."""
    tmp = final.with_name(f"{TMP_PREFIX}{final.stem}.{uuid.uuid4().hex}{final.suffix}")
    shutil.copy2(source, tmp)
    return tmp


def _settings_of(files: FilesPort, copy: Path) -> Settings:
    book = files.open_book(copy)
    try:
        return read_settings(book)
    finally:
        book.close()
