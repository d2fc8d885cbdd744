"""What a person reads after each use case, in Spanish: one formatter per result, shared by
the command line (``swat-xl``) and the ribbon (message boxes).

``summary(result)`` gives the lines the command line prints; ``detail=True`` adds the lines
a message box shows below them (per agent counts)."""

from __future__ import annotations

from functools import singledispatch

from swat_xl.services.indicator import pct_text
from swat_xl.services.results import (
    AgentBooksResult,
    ArchiveResult,
    AssignResult,
    BuildResult,
    CollectResult,
    FormResult,
    ImportResult,
    InitResult,
    KpiResult,
    PurgeResult,
    ReassignResult,
    RestoreResult,
    RosterResult,
)
from swat_xl.workbook.labels import EXCLUSION_COUNT_LABELS


@singledispatch
def summary(result: object, *, detail: bool = False) -> list[str]:
    raise TypeError(f"no summary for {type(result).__name__}")


@summary.register
def _(result: InitResult, *, detail: bool = False) -> list[str]:
    return [
        f"Libro creado: {result.workbook} ({result.agents} asesores).",
        f"Registro: {result.ledger}",
    ]


@summary.register
def _(result: RosterResult, *, detail: bool = False) -> list[str]:
    return [f"Lista de asesores cargada: {result.agents} asesores."]


@summary.register
def _(result: ImportResult, *, detail: bool = False) -> list[str]:
    lines = []
    if result.already_imported:
        lines.append(f"«{result.file}» ya se había importado: no se agregó nada.")
    excluded = sum(result.excluded.values())
    detail_text = ", ".join(
        f"{EXCLUSION_COUNT_LABELS.get(k, k)}: {v}" for k, v in result.excluded.items()
    )
    return [
        *lines,
        f"Filas leídas: {result.rows_read} · del aliado: {result.ally_rows} · "
        f"repetidas: {result.duplicate_rows} · nuevas: {result.new_records}",
        f"Hogar: {result.by_segment['hogar']} · Móvil: {result.by_segment['movil']}",
        f"No gestionables: {excluded} ({detail_text})",
        f"Asignados: {result.assigned} · Sin asignar: {result.unassigned}",
    ]


def _by_agent(counts: dict[str, int], unit: str = "") -> list[str]:
    return [f"• {agent}: {count}{unit}" for agent, count in counts.items()]


@summary.register
def _(result: AssignResult, *, detail: bool = False) -> list[str]:
    lines = [f"Asignados: {result.assigned} · Sin asignar: {result.unassigned}"]
    return lines + (_by_agent(result.by_agent) if detail else [])


@summary.register
def _(result: ReassignResult, *, detail: bool = False) -> list[str]:
    who = f" de «{result.from_agent}»" if result.from_agent else ""
    lines = [f"Reasignados{who}: {result.moved} · Sin asignar: {result.unassigned}"]
    return lines + [f"  {agent}: {count} registros" for agent, count in result.by_agent.items()]


@summary.register
def _(result: ArchiveResult, *, detail: bool = False) -> list[str]:
    return [
        f"Archivados: {result.archived} gestionados, {result.archived_excluded} no "
        f"gestionables ya tipificados · quedan en las hojas: {result.remaining}"
    ]


@summary.register
def _(result: PurgeResult, *, detail: bool = False) -> list[str]:
    lines = [
        f"Depuración (retención de {result.retention_days} días): "
        f"{result.records} registros de {result.cuts} cortes eliminados "
        f"({result.open_records} seguían abiertos).",
        f"Copias de seguridad: {len(result.copies_rewritten)} depuradas, "
        f"{result.backups} eliminadas.",
    ]
    if result.not_cleaned:
        lines.append(
            "Estos archivos, fuera del alcance de swat_xl, también tienen esos datos; bórrelos:"
        )
        lines.extend(f"  - {item}" for item in result.not_cleaned)
    return lines


@summary.register
def _(result: RestoreResult, *, detail: bool = False) -> list[str]:
    return [
        f"Restaurada la copia del {result.taken} («{result.copy}»).",
        f"Libro: {result.workbook}",
        f"Registro: {result.ledger}",
        *(f"Se apartó el archivo anterior en «{path}»" for path in result.set_aside),
    ]


@summary.register
def _(result: AgentBooksResult, *, detail: bool = False) -> list[str]:
    lines = [f"{agent}: {count} registros" for agent, count in result.files.items()]
    return [*lines, f"Libros en: {result.folder}"]


@summary.register
def _(result: CollectResult, *, detail: bool = False) -> list[str]:
    return [
        f"Libros recogidos: {len(result.files)} · registros con marcas nuevas: "
        f"{result.records} · conflictos: {result.conflicts}"
    ]


@summary.register
def _(result: KpiResult, *, detail: bool = False) -> list[str]:
    report = result.report
    verdict = "cumple la meta" if report.meets_target else "no cumple la meta"
    return [
        f"Contacto efectivo: {pct_text(report.ratio)} (meta {pct_text(report.target)}): {verdict}.",
        f"Registros enviados: {report.total_records} · efectivos: "
        f"{report.effective_contacts} · pendientes: {report.pending} · vencidos: "
        f"{report.overdue}",
        f"Sobre gestionables ({report.manageable_records} registros, referencia): "
        f"{pct_text(report.ratio_manageable)}",
        f"Inconsistencias de marcación: {report.inconsistency_total} (detalle en la hoja "
        "«Indicador»)",
    ]


@summary.register
def _(result: FormResult, *, detail: bool = False) -> list[str]:
    if result.exported == 0:
        lines = ["No había registros nuevos por tipificar; no se creó ningún archivo."]
    else:
        lines = [
            f"Registros para el formulario: {result.exported} ({result.closed} "
            f"gestionados, {result.excluded} no gestionables) en «{result.file}»."
        ]
        if result.corrections:
            lines.append(f"{result.corrections} son correcciones de registros ya exportados.")
    if result.held:
        lines.append(
            f"{result.held} registros con marcas incompletas o no válidas no se exportaron; "
            "el detalle está en la hoja «Indicador»."
        )
    return lines


@summary.register
def _(result: BuildResult, *, detail: bool = False) -> list[str]:
    return [f"Libro maestro con la cinta SWAT: {result.path}"]
