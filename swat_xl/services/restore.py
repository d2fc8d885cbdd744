"""«Restaurar»: bring back a workbook and its ledger from a consistent pair of copies.

Every rewrite of a file workbook keeps, in ``swat_copias`` beside it, the replaced workbook
(``<libro>-AAAAMMDD-HHMMSS.xlsx``) together with a copy of the ledger it was drawn from
(``<libro>-AAAAMMDD-HHMMSS.swat.sqlite``, taken with SQLite's online backup API). Restoring
puts the latest pair (or the chosen one) back in place; the current workbook and ledger, when
there are any, are first set aside in ``swat_copias`` (``…-apartado``), never deleted.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from swat_xl.adapters.ledger import quick_check
from swat_xl.adapters.xlsx_file import BACKUP_DIR, TMP_PREFIX
from swat_xl.core.dates import NotADate, parse_datetime
from swat_xl.errors import InputError
from swat_xl.services.session import (
    LEDGER_SUFFIX,
    Settings,
    ensure_writable,
    ledger_copy_of,
    ledger_path_for,
    now,
    read_settings,
    workbook_lock,
)

_STAMP = re.compile(r"-(\d{8}-\d{6})(?:-\d+)?$")
SET_ASIDE = "apartado"


@dataclass(frozen=True)
class Copy:
    """One workbook copy of ``swat_copias``, with the ledger copy kept with it (if any)."""

    workbook: Path
    taken: dt.datetime

    @property
    def ledger(self) -> Path:
        return ledger_copy_of(self.workbook)

    @property
    def paired(self) -> bool:
        return self.ledger.exists()

    @property
    def label(self) -> str:
        return f"{self.taken:%d/%m/%Y %H:%M:%S}"


def copies_of(workbook: Path) -> list[Copy]:
    """The workbook's backup copies, oldest first, with the time each was taken (its name)."""
    folder = workbook.parent / BACKUP_DIR
    out = []
    pattern = glob.escape(f"{workbook.stem}-") + "*" + glob.escape(workbook.suffix)
    for path in folder.glob(pattern):
        match = _STAMP.search(path.stem[len(workbook.stem) :])
        if match is None:
            continue
        try:
            taken = dt.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
        except ValueError:
            continue
        out.append(Copy(path, taken))
    return sorted(out, key=lambda c: (c.taken, c.workbook.name))


def other_copies_of(workbook: Path) -> list[Path]:
    """Every other file of ``swat_copias`` about this workbook (set-aside files, the period
    copies of «Nuevo periodo», copies without a time in their name)."""
    folder = workbook.parent / BACKUP_DIR
    known = {c.workbook for c in copies_of(workbook)} | {c.ledger for c in copies_of(workbook)}
    pattern = glob.escape(f"{workbook.stem}-") + "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p not in known and not p.name.startswith(TMP_PREFIX)
    )


def choose_copy(workbook: Path, wanted: str | None) -> Copy:
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
        if quick_check(copy.ledger):
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


def restore(workbook: str | Path, wanted: str | None = None) -> dict[str, object]:
    """Put the latest (or ``wanted``) consistent pair back as ``workbook`` and its ledger."""
    path = Path(workbook).absolute()
    copy = choose_copy(path, wanted)
    settings = _settings_of(copy.workbook)
    ledger = ledger_path_for(path, settings)
    ensure_writable(path, what="libro")
    ensure_writable(ledger, what="registro")
    with workbook_lock(path):
        stamp = f"{now():%Y%m%d-%H%M%S}"
        folder = path.parent / BACKUP_DIR
        set_aside: list[str] = []
        staged = [(_stage(copy.workbook, path), path), (_stage(copy.ledger, ledger), ledger)]
        try:
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
    return {
        "workbook": str(path),
        "ledger": str(ledger),
        "copy": copy.workbook.name,
        "taken_at": copy.taken.isoformat(),
        "taken": copy.label,
        "set_aside": set_aside,
    }


def _stage(source: Path, final: Path) -> Path:
    """``source`` copied beside ``final`` under a temporary name (moved in place last)."""
    tmp = final.with_name(f"{TMP_PREFIX}{final.stem}.{uuid.uuid4().hex}{final.suffix}")
    shutil.copy2(source, tmp)
    return tmp


def _settings_of(copy: Path) -> Settings:
    from swat_xl.services.files import FileMaster

    master = FileMaster(copy)
    try:
        return read_settings(master)
    finally:
        master.file.close()
