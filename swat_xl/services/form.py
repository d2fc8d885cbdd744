"""«Exportar formulario»: the rows to typify in the online form GESTION DETRACTORES ONLINE.

Every closed record (with a ``Resultado``) and every no gestionable not yet exported goes to a
new .xlsx file, and is marked as exported in the ledger (``records.form_exported_at``) in the
same operation, so nothing is typified twice. The file exists if and only if the marks were
committed: if the operation fails before its commit, the file is removed again.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swat_xl.adapters.ledger import Ledger, iso
from swat_xl.adapters.xlsx_file import render
from swat_xl.core.kpi import form_ready
from swat_xl.errors import InputError, LedgerError, WorkbookError
from swat_xl.workbook.form import form_workbook

if TYPE_CHECKING:
    from swat_xl.services.session import Session, WorkbookPort


def _check_target(workbook: WorkbookPort, out: Path) -> Path:
    if out.suffix.lower() != ".xlsx":
        raise InputError("El archivo del formulario debe terminar en .xlsx", file=out)
    target = out.resolve() if out.exists() else out.absolute()
    master = workbook.path.resolve() if workbook.path.exists() else workbook.path.absolute()
    if target == master:
        raise InputError(
            "El archivo del formulario no puede ser el libro maestro; elija otro nombre", file=out
        )
    if not target.parent.is_dir():
        raise InputError("La carpeta del archivo del formulario no existe", file=out)
    if target.exists():
        raise InputError(
            "El archivo ya existe y no se sobrescribe (sus registros ya quedaron marcados como "
            "exportados); elija otro nombre",
            file=out,
        )
    return target


def export_form(
    workbook: WorkbookPort, out: str | Path, *, everything: bool = False
) -> dict[str, Any]:
    """Write ``out`` with the rows for the online form and mark them exported.

    ``everything`` re-exports every closed and excluded record (the first export time is kept).
    """
    from swat_xl.services.session import run_operation

    target = _check_target(workbook, Path(out))
    state: dict[str, Any] = {}

    def body(session: Session) -> dict[str, Any]:
        ledger = session.ledger
        # A mark changed after its record was exported: exported again, as a correction.
        changed = (
            "r.form_exported_at != '' AND EXISTS (SELECT 1 FROM mark_history h "
            "WHERE h.record_id = r.id AND h.at > r.form_exported_at)"
        )
        where = "(r.outcome != '' OR r.exclusion != '')"
        if not everything:
            where += f" AND (r.form_exported_at = '' OR ({changed}))"
        candidates = ledger.records(where=where)
        corrected = set(ledger.records(where=changed, columns=("id",))["id"].astype(int))
        candidates["correction"] = candidates["id"].astype(int).isin(corrected)
        # Incomplete or invalid marks stay out until fixed (they are listed in «Indicador»).
        ready, held = form_ready(candidates, session.settings, session.now)
        rows = candidates.loc[ready]
        waiting = int(held.sum())
        if rows.empty:
            session.summary = (
                "no había registros nuevos por tipificar; no se creó ningún archivo"
                + (
                    f" ({waiting} con marcas incompletas o no válidas esperan corrección; "
                    "el detalle está en la hoja «Indicador»)"
                    if waiting
                    else ""
                )
            )
            session.counts = {"exported": 0, "closed": 0, "excluded": 0, "held": waiting}
            return {
                "file": None,
                "exported": 0,
                "closed": 0,
                "excluded": 0,
                "newly_marked": 0,
                "corrections": 0,
                "held": waiting,
            }
        spec = form_workbook(rows, session.now, session.settings)
        tmp = target.with_name(f".swat-tmp-{uuid.uuid4().hex}.xlsx")
        try:
            render(spec, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise WorkbookError(
                f"No se pudo escribir el archivo del formulario ({exc.strerror or exc})",
                file=target,
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
        state.update(ledger=ledger.path, written=True, when=iso(session.now))
        fresh = rows.loc[rows["form_exported_at"].isna(), "id"].astype(int).tolist()
        again = rows.loc[rows["correction"], "id"].astype(int).tolist()
        state["ids"] = fresh + again
        ledger.db.executemany(
            "UPDATE records SET form_exported_at = ? WHERE id = ? AND form_exported_at = ''",
            [(state["when"], rid) for rid in fresh],
        )
        # A correction is sent once: from now on only a later change sends it again.
        ledger.db.executemany(
            "UPDATE records SET form_exported_at = ? WHERE id = ?",
            [(state["when"], rid) for rid in again],
        )
        closed = int((rows["outcome"] != "").sum())
        excluded = int(((rows["outcome"] == "") & (rows["exclusion"] != "")).sum())
        session.summary = (
            f"{len(rows)} registros al formulario en «{target.name}» ({closed} gestionados, "
            f"{excluded} no gestionables)"
            + (
                f"; {len(rows) - len(fresh)} ya se habían exportado"
                if len(rows) > len(fresh)
                else ""
            )
            + (f"; {len(again)} son correcciones" if again else "")
            + (
                f"; {waiting} con marcas incompletas o no válidas no se exportaron (corríjalas; "
                "el detalle está en la hoja «Indicador»)"
                if waiting
                else ""
            )
        )
        session.counts = {
            "exported": len(rows),
            "closed": closed,
            "excluded": excluded,
            "newly_marked": len(fresh),
            "corrections": len(again),
            "held": waiting,
            "file": str(target),  # «purge» names the exports that hold purged records
        }
        return dict(session.counts)

    try:
        return run_operation(workbook, "Exportar formulario", body)
    except BaseException:
        if state.get("written") and not _committed(state):
            target.unlink(missing_ok=True)
        raise


def _committed(state: dict[str, Any]) -> bool:
    """Did the ledger keep this export's marks (a failure after the commit)?"""
    ids = state.get("ids") or []
    if not ids:
        return False
    try:
        with Ledger.open(state["ledger"]) as ledger:
            row = ledger.db.execute(
                "SELECT COUNT(*) FROM records WHERE id = ? AND form_exported_at = ?",
                (ids[0], state["when"]),
            ).fetchone()
    except LedgerError:
        return True  # cannot tell: keep the file rather than lose what was marked
    return bool(row and row[0])
