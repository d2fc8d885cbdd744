"""The indicator of section 5: effective contacts / records sent by the client, and its detail.

Pure and vectorised: the ledger's records frame (text columns, as :meth:`Ledger.records`
returns them) in, plain dataclasses out. The caller passes ``now``, the settings and the set of
Colombian national holidays (the core imports no calendar library).

Scope: without a date range the indicator covers what the live formulas of the ``Indicador``
sheet cover (:func:`kpi_scope`); with ``desde`` / ``hasta`` it covers the records whose cut was
imported on those days (both inclusive).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.model import OUTCOME_EFFECTIVE, OUTCOME_NO_CONTACT

# by_outcome keys for records without an outcome.
NO_OUTCOME = "SIN RESULTADO"
EXCLUDED = "NO GESTIONABLE"
NO_SEGMENT = "sin_segmento"

# Inconsistency rules: code -> Spanish label (what the Indicador sheet shows).
RULES: dict[str, str] = {
    "no_contact_attempts": "NO CONTACTO con pocos intentos",
    "resolution_without_contact": "Solución sin CONTACTO EFECTIVO",
    "attempt_in_future": "Intento en el futuro",
    "attempt_outside_hours": "Intento fuera del horario legal (Ley 2300 de 2023)",
    "attempt_not_a_date": "Intento sin fecha válida",
    "same_day_attempts": "Dos intentos el mismo día",
}
ATTEMPTS: tuple[str, ...] = ("attempt1", "attempt2", "attempt3")
_WEEKDAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


@dataclass(frozen=True)
class Group:
    """Counts of one slice of the records (an outcome, a segment, an agent, a cut, a day)."""

    total_records: int
    effective_contacts: int
    excluded: int = 0
    pending: int = 0
    overdue: int = 0

    @property
    def ratio(self) -> float:
        return self.effective_contacts / self.total_records if self.total_records else 0.0

    @property
    def pct(self) -> float:
        return round(self.ratio * 100, 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "total_records": self.total_records,
            "effective_contacts": self.effective_contacts,
            "effective_contact_pct": self.pct,
            "excluded": self.excluded,
            "pending": self.pending,
            "overdue": self.overdue,
        }


@dataclass(frozen=True)
class AgentStats(Group):
    avg_close_hours: float | None = None  # closed_at - assigned_at, closed records only
    avg_agent_survey: float | None = None  # the second survey (about the agent)

    def as_json(self) -> dict[str, Any]:
        return {
            **super().as_json(),
            "avg_close_hours": self.avg_close_hours,
            "avg_agent_survey": self.avg_agent_survey,
        }


@dataclass(frozen=True)
class CutStats(Group):
    cut_id: int = 0
    imported_at: str = ""
    file_name: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"imported_at": self.imported_at, "file_name": self.file_name, **super().as_json()}


@dataclass(frozen=True)
class DayStats(Group):
    day: dt.date = dt.date.min


@dataclass(frozen=True)
class Inconsistency:
    """One marking problem. Names the record and the agent only (never customer data)."""

    record_id: int
    agent: str
    rule: str  # a key of RULES
    detail: str  # Spanish


@dataclass(frozen=True)
class KpiReport:
    now: dt.datetime
    target: float  # 0-1
    desde: dt.date | None
    hasta: dt.date | None
    total_records: int
    effective_contacts: int
    excluded: int
    pending: int
    overdue: int
    by_outcome: dict[str, Group]
    by_segment: dict[str, Group]
    by_agent: dict[str, AgentStats]
    by_cut: list[CutStats]
    by_day: list[DayStats]
    inconsistency_counts: dict[str, int]
    inconsistencies: list[Inconsistency] = field(default_factory=list)  # capped list

    @property
    def manageable_records(self) -> int:
        return self.total_records - self.excluded

    @property
    def ratio(self) -> float:
        return self.effective_contacts / self.total_records if self.total_records else 0.0

    @property
    def ratio_manageable(self) -> float:
        m = self.manageable_records
        return self.effective_contacts / m if m else 0.0

    @property
    def meets_target(self) -> bool:
        return self.total_records > 0 and self.ratio >= self.target

    @property
    def inconsistency_total(self) -> int:
        return sum(self.inconsistency_counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "total_records": self.total_records,
            "effective_contacts": self.effective_contacts,
            "effective_contact_pct": round(self.ratio * 100, 1),
            "target_pct": round(self.target * 100, 1),
            "meets_target": self.meets_target,
            "pending": self.pending,
            "overdue": self.overdue,
            "excluded": self.excluded,
            "manageable_records": self.manageable_records,
            "effective_contact_pct_manageable": round(self.ratio_manageable * 100, 1),
            "desde": self.desde.isoformat() if self.desde else None,
            "hasta": self.hasta.isoformat() if self.hasta else None,
            "now": self.now.isoformat(),
            "by_outcome": {k: {**v.as_json(), "share_pct": _share(v, self.total_records)}
                           for k, v in self.by_outcome.items()},
            "by_segment": {k: v.as_json() for k, v in self.by_segment.items()},
            "by_agent": {k: v.as_json() for k, v in self.by_agent.items()},
            "by_cut": {str(c.cut_id): c.as_json() for c in self.by_cut},
            "by_day": {d.day.isoformat(): d.as_json() for d in self.by_day},
            "inconsistencies": self.inconsistency_total,
            "inconsistencies_by_rule": dict(self.inconsistency_counts),
        }


def _share(group: Group, total: int) -> float:
    return round(group.total_records / total * 100, 1) if total else 0.0


# -- scope --------------------------------------------------------------------------------------
def kpi_scope(records: pd.DataFrame, period_start: dt.date | None) -> pd.Series:
    """Records the live indicator covers: everything still on the sheets, plus archived records
    of the current period (``inicio_periodo`` in Config; no start = every record)."""
    if records.empty:
        return pd.Series(False, index=records.index, dtype=bool)
    if period_start is None:
        return pd.Series(True, index=records.index, dtype=bool)
    live = records["archived_at"] == ""
    in_period = records["cut_at"].str[:10] >= period_start.isoformat()
    return (live | in_period).astype(bool)


def range_scope(
    records: pd.DataFrame, desde: dt.date | None, hasta: dt.date | None
) -> pd.Series:
    """Records whose cut was imported between ``desde`` and ``hasta`` (inclusive)."""
    day = records["cut_at"].str[:10]
    mask = pd.Series(True, index=records.index, dtype=bool)
    if desde is not None:
        mask &= day >= desde.isoformat()
    if hasta is not None:
        mask &= day <= hasta.isoformat()
    return mask


@dataclass(frozen=True)
class LiveParts:
    """The constants of the live formulas (what is no longer on an agent sheet)."""

    total: int  # records sent (KPI_TOTAL)
    excluded: int
    archived_effective: int  # effective contacts of archived records in scope
    unassigned_open: int  # manageable records on «Sin asignar», without outcome


def live_parts(records: pd.DataFrame, period_start: dt.date | None, unassigned: str) -> LiveParts:
    if records.empty:
        return LiveParts(0, 0, 0, 0)
    scope = records[kpi_scope(records, period_start)]
    archived = scope["archived_at"] != ""
    effective = scope["outcome"] == OUTCOME_EFFECTIVE
    open_unassigned = (
        ~archived
        & (scope["exclusion"] == "")
        & (scope["outcome"] == "")
        & scope["agent"].isin(["", unassigned])
    )
    return LiveParts(
        total=len(scope),
        excluded=int((scope["exclusion"] != "").sum()),
        archived_effective=int((archived & effective).sum()),
        unassigned_open=int(open_unassigned.sum()),
    )


