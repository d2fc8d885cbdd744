"""Import a Power BI cut: read, filter the ally, tag, deduplicate, store, assign."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from swat_xl.core.fields import AliasMap
from swat_xl.core.model import EXCLUSION_REASONS, SEGMENTS, UNASSIGNED
from swat_xl.core.rules import prepare_cut
from swat_xl.services.assigning import assign_waiting
from swat_xl.services.operation import run_operation
from swat_xl.services.results import ImportResult
from swat_xl.services.session import Session
from swat_xl.services.sheets import read_settings
from swat_xl.services.unit_of_work import UnitOfWork


def import_cut(
    uow: UnitOfWork,
    export_path: str | Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import one export into the master. Bad input raises before anything is written."""
    export_path = Path(export_path)
    say = progress or uow.progress
    settings = read_settings(uow.workbook)
    say("Leyendo el archivo de Power BI…")
    table = uow.files.read_export(export_path, AliasMap(settings.aliases))
    say("Filtrando aliado, segmento y exclusiones…")
    ally = prepare_cut(table.frame, settings)

    def body(session: Session) -> ImportResult:
        ledger = session.ledger
        for warning in table.warnings:
            session.warn(warning)
        if table.rows_read and ally.empty:
            session.warn(
                f"El archivo «{export_path.name}» no tiene registros del aliado "
                f"«{settings.ally_name}» (se leyeron {table.rows_read} filas)"
            )
        known = ledger.known_keys(ally["key"].tolist())
        duplicate = ally["dup_in_file"] | ally["key"].isin(known)
        new = ally.loc[~duplicate]
        previous = ledger.cut_by_sha(table.sha256)
        back = _reappeared(session, sorted(known)) if previous is None else []
        cut_id = None
        if previous is None:
            cut_id = ledger.add_cut(
                file_name=export_path.name,
                sha256=table.sha256,
                imported_at=session.now,
                sheet=table.sheet,
                header_row=table.header_row,
                rows_read=table.rows_read,
                ally_rows=len(ally),
                duplicate_rows=int(duplicate.sum()),
                new_records=len(new),
                excluded=int((new["exclusion"] != "").sum()),
            )
            incoming = ledger.new_records(cut_id, new, table.extra_columns)
        else:  # the same file again: nothing is added (even records purged since)
            incoming = None
            new = new.iloc[0:0]
        ids = incoming.ids if incoming is not None else []
        say("Asignando a los asesores…")
        # The new records are inserted already assigned (by assign_waiting).
        decision = assign_waiting(session, reason="importación", incoming=incoming)
        new_manageable = [rid for rid, excl in zip(ids, new["exclusion"], strict=True) if not excl]
        placed = decision.reindex(new_manageable)
        assigned = int(((placed != UNASSIGNED) & placed.notna()).sum())
        unassigned = len(new_manageable) - assigned
        if cut_id is not None:
            ledger.update_cut(cut_id, assigned=assigned, unassigned=unassigned)
        result = ImportResult(
            file=export_path,
            rows_read=table.rows_read,
            ally_rows=len(ally),
            duplicate_rows=int(duplicate.sum()),
            new_records=len(new),
            by_segment={s: int((new["segment"] == s).sum()) for s in SEGMENTS},
            excluded={r: int((new["exclusion"] == r).sum()) for r in EXCLUSION_REASONS},
            assigned=assigned,
            unassigned=unassigned,
            already_imported=previous is not None,
            cut_id=cut_id,
            reappeared_closed=len(back),
            reappeared_ids=back,
            warnings=session.warnings,
        )
        if previous is not None:
            session.summary = (
                f"«{export_path.name}» ya se había importado (corte {previous['id']}); "
                "no se agregó nada"
            )
        else:
            session.summary = (
                f"corte {cut_id} «{export_path.name}»: {result.rows_read} filas leídas, "
                f"{result.ally_rows} del aliado, {result.duplicate_rows} repetidas, "
                f"{result.new_records} nuevas ({sum(result.excluded.values())} no gestionables), "
                f"{assigned} asignadas, {unassigned} sin asignar"
                + (
                    f"; {len(back)} ya tipificadas en el formulario volvieron (ver Bitácora)"
                    if back
                    else ""
                )
            )
        session.counts = {
            k: v for k, v in result.as_json().items() if k not in ("warnings", "file")
        }
        return result

    return run_operation(uow, "Importar corte", body, settings=settings)


def _reappeared(session: Session, keys: list[str]) -> list[int]:
    """Records of ``keys`` already exported to the online form (closed or no gestionable): one
    that comes back in a later cut means its form entry is missing at Claro. They are not sent
    to an agent again (they are duplicates); the backoffice gets their IDs in Bitácora."""
    found = session.ledger.typified_among(keys)
    if found:
        shown = ", ".join(str(rid) for rid in found[:50]) + (" …" if len(found) > 50 else "")
        session.warn(
            f"{len(found)} registros ya tipificados en el formulario GESTION DETRACTORES ONLINE "
            f"volvieron en este corte: falta su tipificación en Claro; revíselos y tipifíquelos "
            f"de nuevo (IDs {shown}). No se asignan otra vez."
        )
    return sorted(found)
