"""«Actualizar indicador»: sync the marks, compute the indicator from the ledger, redraw it
(the computation as of an operation is :mod:`swat_xl.services.reporting`)."""

from __future__ import annotations

import datetime as dt

from swat_xl.core.dates import DATE_HINT, NotADate, parse_date
from swat_xl.core.kpi import USED_COLUMNS
from swat_xl.errors import InputError
from swat_xl.services.operation import run_operation
from swat_xl.services.reporting import current_report, kpi_report
from swat_xl.services.results import KpiResult
from swat_xl.services.session import Session
from swat_xl.services.unit_of_work import UnitOfWork

DayArg = dt.date | str | None


def parse_day(value: DayArg, *, name: str = "fecha") -> dt.date | None:
    """A day typed by a user (see :mod:`swat_xl.core.dates`; a date passes through)."""
    try:
        return parse_date(value)
    except NotADate as exc:
        raise InputError(
            f"La {name} «{exc.text}» no es válida; use {DATE_HINT} (por ejemplo 01/12/2026)"
        ) from None


def pct_text(ratio: float) -> str:
    """A 0-1 ratio as Spanish text: ``0.4532`` -> ``"45,3 %"``."""
    return f"{ratio * 100:.1f}".replace(".", ",") + " %"


def refresh_kpi(uow: UnitOfWork, desde: DayArg = None, hasta: DayArg = None) -> KpiResult:
    """Sync the marks into the ledger, compute the indicator (optionally over the cuts imported
    between ``desde`` and ``hasta``, inclusive) and rewrite the ``Indicador`` sheet.

    Returns the indicator (its ``as_json()`` is :meth:`KpiReport.as_json`)."""
    start = parse_day(desde, name="fecha «desde»")
    end = parse_day(hasta, name="fecha «hasta»")
    if start and end and start > end:
        raise InputError(
            f"La fecha «desde» ({start:%d/%m/%Y}) es posterior a «hasta» ({end:%d/%m/%Y})"
        )

    def body(session: Session) -> KpiResult:
        ledger = session.ledger
        if start is None and end is None:  # what the live formulas cover
            live = ledger.records(columns=USED_COLUMNS, include_archived=False)
            report, _ = current_report(session, live, ledger.cuts())
        else:
            records = ledger.records(columns=USED_COLUMNS)
            report = kpi_report(session, records, ledger.cuts(), desde=start, hasta=end)
        session.kpi_report = report
        verdict = "cumple" if report.meets_target else "no cumple"
        if report.target_base == "gestionables":
            verdict += f" sobre gestionables, {pct_text(report.ratio_manageable)},"
        session.summary = (
            f"indicador {pct_text(report.ratio)} ({verdict} la meta de "
            f"{pct_text(report.target)}): {report.effective_contacts} efectivos de "
            f"{report.total_records} registros, {report.pending} pendientes, "
            f"{report.overdue} vencidos, {report.inconsistency_total} inconsistencias"
        )
        session.counts = {
            "total_records": report.total_records,
            "effective_contacts": report.effective_contacts,
            "pending": report.pending,
            "overdue": report.overdue,
            "inconsistencies": report.inconsistency_total,
        }
        return KpiResult(report)

    return run_operation(uow, "Actualizar indicador", body)
