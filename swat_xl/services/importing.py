"""Import a Power BI cut: read, filter the ally, tag, deduplicate, store, assign."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swat_xl.adapters.export_reader import read_export
from swat_xl.core.fields import AliasMap
from swat_xl.core.model import EXCLUSION_REASONS, SEGMENTS, UNASSIGNED
from swat_xl.core.rules import prepare_cut
from swat_xl.errors import ExportError
from swat_xl.services.assigning import assign_waiting
from swat_xl.services.session import Session, WorkbookPort, read_settings, run_operation


@dataclass
class ImportResult:
    file: str
    rows_read: int
    ally_rows: int
    duplicate_rows: int
    new_records: int
    by_segment: dict[str, int]
    excluded: dict[str, int]
    assigned: int
    unassigned: int
    already_imported: bool = False
    cut_id: int | None = None
    # Records already typified in the online form that came back: their entry is missing at
    # Claro (section 4: typifying "evita que vuelva a salir replicado el registro").
    reappeared_closed: int = 0
    reappeared_ids: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def import_cut(
    workbook: WorkbookPort,
    export_path: str | Path,
    *,
    progress: Callable[[str], None] | None = None,
) -> ImportResult:
    """Import one export into the master. Bad input raises before anything is written."""
    export_path = Path(export_path)
    say = progress or (lambda _text: None)
    settings = read_settings(workbook)
    say("Leyendo el archivo de Power BI…")
    table = read_export(export_path, AliasMap(settings.aliases))
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
            ids = ledger.add_records(cut_id, new, table.extra_columns)
        else:  # the same file again: nothing is added (even records purged since)
            ids = []
            new = new.iloc[0:0]
        say("Asignando a los asesores…")
        decision = assign_waiting(session, reason="importación")
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
        say("Escribiendo el libro…")
        return result

    try:
        return run_operation(workbook, "Importar corte", body, settings=settings)
    except ExportError:
        raise


def _reappeared(session: Session, keys: list[str]) -> list[int]:
    """Records of ``keys`` already exported to the online form (closed or no gestionable): one
    that comes back in a later cut means its form entry is missing at Claro. They are not sent
    to an agent again (they are duplicates); the backoffice gets their IDs in Bitácora."""
    found: list[int] = []
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        marks = ",".join("?" * len(chunk))
        found.extend(
            int(rid)
            for (rid,) in session.ledger.db.execute(
                f"SELECT id FROM records WHERE key IN ({marks}) AND form_exported_at != '' "
                "AND (closed_at != '' OR exclusion != '') ORDER BY id",
                chunk,
            )
        )
    if found:
        shown = ", ".join(str(rid) for rid in found[:50]) + (" …" if len(found) > 50 else "")
        session.warn(
            f"{len(found)} registros ya tipificados en el formulario GESTION DETRACTORES ONLINE "
            f"volvieron en este corte: falta su tipificación en Claro; revíselos y tipifíquelos "
            f"de nuevo (IDs {shown}). No se asignan otra vez."
        )
    return sorted(found)
