"""«Depurar»: forget personal data older than the retention period.

Records whose cut was imported more than ``retencion_dias`` days ago leave the ledger with
their history (assignments and mark changes), and so leave every sheet; the cuts themselves
stay (file name, fingerprint and counts, no personal data), so importing an old file again is
still recognised and adds nothing. Backup copies of the workbook older than the retention are
deleted too, and so is the copy the purge itself leaves of the workbook it replaces (it holds
the purged records). ``Bitácora`` gets counts only.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from swat_xl.adapters.xlsx_file import BACKUP_DIR
from swat_xl.errors import InputError
from swat_xl.services.session import Session, WorkbookPort, run_operation

_STAMP = re.compile(r"-(\d{8}-\d{6})(?:-\d+)?$")


def backups_of(workbook: Path) -> list[tuple[Path, dt.datetime]]:
    """The workbook's backup copies with the time each was taken (from its name)."""
    folder = workbook.parent / BACKUP_DIR
    out = []
    for path in sorted(folder.glob(f"{workbook.stem}-*{workbook.suffix}")):
        match = _STAMP.search(path.stem[len(workbook.stem) :])
        if match is None:
            continue
        try:
            taken = dt.datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
        except ValueError:
            continue
        out.append((path, taken))
    return out


def purge(workbook: WorkbookPort, days: int | None = None) -> dict[str, int]:
    """Delete records of cuts imported more than ``days`` days ago (default: the Config value
    ``retencion_dias``) and backup copies older than that. Returns the counts."""
    if days is not None and days < 1:
        raise InputError("Los días de retención deben ser al menos 1")
    doomed_backups: list[Path] = []

    def body(session: Session) -> dict[str, int]:
        keep_days = days if days is not None else session.settings.retention_days
        if keep_days < 1:
            raise InputError("«retencion_dias» debe ser al menos 1 en la hoja Config")
        limit = session.now - dt.timedelta(days=keep_days)
        db = session.ledger.db
        old = (limit.isoformat(),)
        in_old_cuts = "cut_id IN (SELECT id FROM cuts WHERE imported_at < ?)"
        cuts = db.execute("SELECT COUNT(*) FROM cuts WHERE imported_at < ?", old).fetchone()[0]
        history = 0
        for table in ("mark_history", "assignments"):
            history += db.execute(
                f"DELETE FROM {table} WHERE record_id IN (SELECT id FROM records WHERE "
                f"{in_old_cuts})",
                old,
            ).rowcount
        still_open = db.execute(
            f"SELECT COUNT(*) FROM records WHERE {in_old_cuts} AND archived_at = '' "
            "AND exclusion = '' AND outcome = ''",
            old,
        ).fetchone()[0]
        records = db.execute(f"DELETE FROM records WHERE {in_old_cuts}", old).rowcount
        doomed_backups.extend(path for path, taken in backups_of(workbook.path) if taken < limit)
        session.summary = (
            f"depuración con retención de {keep_days} días (antes del {limit:%d/%m/%Y}): "
            f"{records} registros de {cuts} cortes y {history} filas de su historial "
            f"eliminados ({still_open} seguían abiertos); {len(doomed_backups)} copias de "
            "seguridad antiguas eliminadas"
        )
        session.counts = {
            "retention_days": keep_days,
            "cuts": cuts,
            "records": records,
            "history_rows": history,
            "open_records": still_open,
            "backups": len(doomed_backups),
        }
        return dict(session.counts)

    before = {path for path, _ in backups_of(workbook.path)}
    result = run_operation(workbook, "Depurar datos", body)
    # After the commit: the old copies, and the copy of the workbook this purge replaced.
    fresh = [path for path, _ in backups_of(workbook.path) if path not in before]
    for path in [*doomed_backups, *(fresh if result["records"] else [])]:
        path.unlink(missing_ok=True)
    return result
