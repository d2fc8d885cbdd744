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

from swat_xl.core.kpi import form_ready
from swat_xl.errors import InputError, WorkbookError
from swat_xl.services.operation import run_operation
from swat_xl.services.ports import WorkbookPort
from swat_xl.services.results import FormResult
from swat_xl.services.session import Session
from swat_xl.services.unit_of_work import UnitOfWork
from swat_xl.workbook import labels as L
from swat_xl.workbook.form import form_workbook


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


def export_form(uow: UnitOfWork, out: str | Path, *, everything: bool = False) -> FormResult:
    """Write ``out`` with the rows for the online form and mark them exported.

    ``everything`` re-exports every closed and excluded record (the first export time is kept).
    """
    target = _check_target(uow.workbook, Path(out))
    written = False

    def body(session: Session) -> FormResult:
        ledger = session.ledger
        # A mark changed after its record was exported comes again, as a correction.
        candidates = ledger.form_records(include_exported=everything)
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
            return FormResult(None, 0, 0, 0, 0, corrections=0, held=waiting)
        spec = form_workbook(rows, session.now, session.settings)
        tmp = target.with_name(f"{L.TMP_PREFIX}{uuid.uuid4().hex}.xlsx")
        try:
            uow.files.render_book(spec, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise WorkbookError(
                f"No se pudo escribir el archivo del formulario ({exc.strerror or exc})",
                file=target,
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
        nonlocal written
        written = True
        fresh = rows.loc[rows["form_exported_at"].isna(), "id"].astype(int).tolist()
        again = rows.loc[rows["correction"], "id"].astype(int).tolist()
        ledger.mark_form_exported(fresh, session.now, corrections=again)
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
        return FormResult(
            str(target),
            len(rows),
            closed,
            excluded,
            len(fresh),
            corrections=len(again),
            held=waiting,
        )

    try:
        return run_operation(uow, "Exportar formulario", body)
    except BaseException:
        if written and not uow.committed:  # after the commit, the marks stand: keep the file
            target.unlink(missing_ok=True)
        raise
