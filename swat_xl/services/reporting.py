"""The indicator as of an operation: the core's :func:`~swat_xl.core.kpi.compute_kpi` fed with
what the core must not fetch itself: the clock, the settings and the Colombian national holidays
(from the ``holidays`` package, kept in the ledger) for the legal calling hours of Ley 2300 de
2023.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata

import pandas as pd

from swat_xl.core.kpi import KpiReport, compute_kpi
from swat_xl.services.ports import LedgerPort
from swat_xl.services.session import Session


@lru_cache(maxsize=32)
def _holidays_of(years: tuple[int, ...]) -> frozenset[dt.date]:
    import holidays

    return frozenset(holidays.Colombia(years=list(years)).keys())


def colombian_holidays(years: Iterable[int]) -> frozenset[dt.date]:
    """National holidays of Colombia (observed dates) in ``years``."""
    return _holidays_of(tuple(sorted(set(years))))


def ledger_holidays(ledger: LedgerPort, years: Iterable[int]) -> frozenset[dt.date]:
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
