"""The indicator as of an operation: the core's :func:`~swat_xl.core.kpi.compute_kpi` fed with
what the core must not fetch itself: the clock, the settings and the Colombian national holidays
(from the ``holidays`` package, kept in the ledger) for the legal calling hours of Ley 2300 de
2023.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import pandas as pd

from swat_xl.core.config import Settings, settings_to_rows
from swat_xl.core.kpi import (
    MAX_LISTED,
    USED_COLUMNS,
    KpiPart,
    KpiReport,
    compute_kpi,
    kpi_from_parts,
    kpi_part,
    kpi_scope,
)
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


def current_report(
    session: Session, live: pd.DataFrame, cuts: pd.DataFrame | None = None
) -> tuple[KpiReport, KpiPart]:
    """The indicator as the Indicador's live formulas cover it (what :func:`kpi_report` gives
    without a date range), from ``live`` (the ledger's records not archived, the indicator's
    columns) and the archived records' part (:func:`archived_share`), which is returned too."""
    holidays = ledger_holidays(session.ledger, _years(cuts, session.now))
    archived = archived_share(session, cuts, holidays)
    counted = kpi_part(live, session.settings, session.now, holidays, listed=MAX_LISTED)
    report = kpi_from_parts(
        [counted, archived],
        session.settings,
        session.now,
        cuts=cuts,
        agents=[a.name for a in session.agents if a.active],
    )
    return report, archived


def archived_share(
    session: Session, cuts: pd.DataFrame | None, holidays: frozenset[dt.date] | None = None
) -> KpiPart:
    """What the indicator counts of the archived records in scope (:func:`~swat_xl.core.kpi.
    kpi_scope`). An archived record no longer changes, so the ledger keeps this part between
    operations, under a key of what else it depends on: the settings, the holidays and this
    code; and it is taken only while the attempts ahead of ``now`` are those that were ahead of
    the clock it was counted at (the «Intento en el futuro» rule reads the clock: an attempt
    typed with next year's date is a problem until then, and the part counted with it holds
    until then, see :meth:`~swat_xl.core.kpi.KpiPart.holds_at`). A write that touches an
    archived record or a cut's time empties it (the ledger's triggers)."""
    ledger, settings, now = session.ledger, session.settings, session.now
    if holidays is None:
        holidays = ledger_holidays(ledger, _years(cuts, now))
    inputs = [code_and_settings(settings), sorted(day.isoformat() for day in holidays), MAX_LISTED]
    key = hashlib.sha256(json.dumps(inputs).encode("utf-8")).hexdigest()
    kept = ledger.kept_archived_kpi(key)
    if kept is not None:
        try:
            part = KpiPart.from_json(kept)
        except (KeyError, TypeError, ValueError):  # not what this code keeps: counted again
            pass
        else:
            if part.holds_at(now):
                return part
    archived = ledger.archived_records(USED_COLUMNS)
    archived = archived[kpi_scope(archived, settings.period_start).to_numpy()]
    part = kpi_part(archived, settings, now, holidays, listed=MAX_LISTED)
    ledger.keep_archived_kpi(key, part.as_json())
    return part


def code_and_settings(settings: Settings) -> str:
    """A digest of this code and of ``settings``: what all the work kept from an earlier
    operation depends on besides its own inputs (a sheet drawn from the records, the archived
    records' part of the indicator)."""
    inputs = [code_version(), [list(map(str, row)) for row in settings_to_rows(settings)]]
    return hashlib.sha256(json.dumps(inputs, default=str).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of this package's code and of the writer's version: what is kept of an
    earlier operation's work (a sheet, the archived records' part of the indicator) is never
    taken from other code."""
    digest = hashlib.sha256(f"xlsxwriter {metadata.version('xlsxwriter')}".encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
