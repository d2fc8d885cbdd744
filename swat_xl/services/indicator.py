"""«Actualizar indicador»: sync the marks, compute the indicator from the ledger, redraw it.

The pure computation is :func:`swat_xl.core.kpi.compute_kpi`; this module supplies what the core
must not fetch itself: the clock, the settings and the Colombian national holidays (from the
``holidays`` package) for the legal calling hours of Ley 2300 de 2023.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pandas as pd

from swat_xl.core.dates import DATE_HINT, NotADate, parse_date
from swat_xl.core.kpi import USED_COLUMNS, KpiReport, compute_kpi
from swat_xl.errors import InputError

if TYPE_CHECKING:
    from swat_xl.adapters.ledger import Ledger
    from swat_xl.services.session import Session, WorkbookPort

DayArg = dt.date | str | None


@lru_cache(maxsize=32)
def _holidays_of(years: tuple[int, ...]) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.Colombia(years=list(years)).keys())


def colombian_holidays(years: Iterable[int]) -> frozenset[dt.date]:
    """National holidays of Colombia (observed dates) in ``years``."""
    return _holidays_of(tuple(sorted(set(years))))


def ledger_holidays(ledger: Ledger, years: Iterable[int]) -> frozenset[dt.date]:
    """:func:`colombian_holidays`, kept in the ledger per year and version of the package."""
    wanted = set(years)
    source = f"holidays {metadata.version('holidays')}"
    kept = ledger.cached_holidays("CO", wanted, source)
    missing = wanted - set(kept)
    if missing:
        computed = colombian_holidays(missing)
        for year in missing:
            kept[year] = [day for day in computed if day.year == year]
            ledger.keep_holidays("CO", year, source, kept[year])
    return frozenset(day for days in kept.values() for day in days)


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


def _years(cuts: pd.DataFrame | None, now: dt.datetime) -> set[int]:
    """Years the attempts may fall in: from the first cut's year to next year."""
    first = now.year
    if cuts is not None and not cuts.empty:
        earliest = cuts["imported_at"].min()
        if not pd.isna(earliest):
            first = min(earliest.year, now.year)
    return set(range(first, now.year + 2))


def kpi_report(
    session: Session,
    records: pd.DataFrame,
    cuts: pd.DataFrame | None = None,
    *,
    desde: dt.date | None = None,
    hasta: dt.date | None = None,
) -> KpiReport:
    """The indicator over ``records`` (the ledger's frame) as of the session's clock."""
    return compute_kpi(
        records,
        session.settings,
        session.now,
        ledger_holidays(session.ledger, _years(cuts, session.now)),
        desde=desde,
        hasta=hasta,
        cuts=cuts,
        agents=[a.name for a in session.agents if a.active],
    )


def refresh_kpi(
    workbook: WorkbookPort, desde: DayArg = None, hasta: DayArg = None
) -> dict[str, Any]:
    """Sync the marks into the ledger, compute the indicator (optionally over the cuts imported
    between ``desde`` and ``hasta``, inclusive) and rewrite the ``Indicador`` sheet.

    Returns the indicator as a JSON-ready dict (see :meth:`KpiReport.as_json`)."""
    from swat_xl.services.session import run_operation

    start = parse_day(desde, name="fecha «desde»")
    end = parse_day(hasta, name="fecha «hasta»")
    if start and end and start > end:
        raise InputError(
            f"La fecha «desde» ({start:%d/%m/%Y}) es posterior a «hasta» ({end:%d/%m/%Y})"
        )

    def body(session: Session) -> dict[str, Any]:
        ledger = session.ledger
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
        return report.as_json()

    return run_operation(workbook, "Actualizar indicador", body)
