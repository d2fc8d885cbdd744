"""The indicator of section 5: effective contacts / records sent by the client, and its detail.

Pure and vectorised: the ledger's typed records frame (see :mod:`swat_xl.core.records`) in,
plain dataclasses out. The caller passes ``now``, the settings and the set of
Colombian national holidays (the core imports no calendar library).

Scope: without a date range the indicator covers what the live formulas of the ``Indicador``
sheet cover (:func:`kpi_scope`); with ``desde`` / ``hasta`` it covers the records whose cut was
imported on those days (both inclusive).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.marks import (
    DROPDOWN_FIELDS,
    MarkState,
    distinct_values,
    latest_of,
    mark_state,
)
from swat_xl.core.model import OUTCOME_EFFECTIVE
from swat_xl.core.records import ATTEMPTS, unread

# by_outcome keys for records without an outcome.
NO_OUTCOME = "SIN RESULTADO"
EXCLUDED = "NO GESTIONABLE"
NO_SEGMENT = "sin_segmento"
INVALID = "VALOR NO VÁLIDO"

# Inconsistency rules: code -> Spanish label (what the Indicador sheet shows).
RULES: dict[str, str] = {
    "invalid_value": "Valor que no está en la lista",
    "no_contact_attempts": "NO CONTACTO con pocos intentos",
    "effective_without_attempt": "CONTACTO EFECTIVO sin intento",
    "effective_without_resolution": "CONTACTO EFECTIVO sin Solución",
    "visit_without_order": "VISITA TÉCNICA sin OT / LLS",
    "resolution_without_contact": "Solución sin CONTACTO EFECTIVO",
    "attempt_before_sent": "Intento anterior al envío del registro",
    "attempt_in_future": "Intento en el futuro",
    "attempt_outside_hours": "Intento fuera del horario legal (Ley 2300 de 2023)",
    "attempt_not_a_date": "Intento sin fecha válida",
    "same_day_attempts": "Dos intentos el mismo día",
}
# The rules that keep a record out of the online form until its marks are fixed (the others
# are warnings about how the call was made).
BLOCKING_RULES = frozenset(
    {
        "invalid_value",
        "no_contact_attempts",
        "effective_without_attempt",
        "effective_without_resolution",
        "visit_without_order",
        "attempt_before_sent",
        "attempt_in_future",
        "attempt_not_a_date",
    }
)
FIELD_LABELS = {"outcome": "Resultado", "resolution": "Solución", "agent_survey": "Encuesta asesor"}
#: How many inconsistencies the indicator lists (their counts are always complete).
MAX_LISTED = 1000
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
    avg_close_hours: float | None = None  # latest attempt - cut import, closed records only
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
    imported_at: dt.datetime | None = None
    file_name: str = ""

    def as_json(self) -> dict[str, Any]:
        imported = self.imported_at.isoformat() if self.imported_at else ""
        return {"imported_at": imported, "file_name": self.file_name, **super().as_json()}


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
    flagged_ids: frozenset[int] = frozenset()  # records kept out of the form (BLOCKING_RULES)
    closed_late: int = 0  # closed (latest attempt) after the due time

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

    target_base: str = "enviados"  # which rate decides meets_target (Config «base_meta»)

    @property
    def meets_target_sent(self) -> bool:
        """The procedure's indicator: effective / all records sent by the client."""
        return self.total_records > 0 and self.ratio >= self.target

    @property
    def meets_target_manageable(self) -> bool:
        return self.manageable_records > 0 and self.ratio_manageable >= self.target

    @property
    def meets_target(self) -> bool:
        if self.target_base == "gestionables":
            return self.meets_target_manageable
        return self.meets_target_sent

    @property
    def inconsistency_total(self) -> int:
        return sum(self.inconsistency_counts.values())

    @property
    def invalid_marks(self) -> int:
        """Values typed in a dropdown column that match no option."""
        return self.inconsistency_counts.get("invalid_value", 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "total_records": self.total_records,
            "effective_contacts": self.effective_contacts,
            "effective_contact_pct": round(self.ratio * 100, 1),
            "target_pct": round(self.target * 100, 1),
            "meets_target": self.meets_target,
            "target_base": self.target_base,
            "meets_target_by_base": {
                "enviados": self.meets_target_sent,
                "gestionables": self.meets_target_manageable,
            },
            "pending": self.pending,
            "overdue": self.overdue,
            "excluded": self.excluded,
            "manageable_records": self.manageable_records,
            "effective_contact_pct_manageable": round(self.ratio_manageable * 100, 1),
            "desde": self.desde.isoformat() if self.desde else None,
            "hasta": self.hasta.isoformat() if self.hasta else None,
            "now": self.now.isoformat(),
            "by_outcome": {
                k: {**v.as_json(), "share_pct": _share(v, self.total_records)}
                for k, v in self.by_outcome.items()
            },
            "by_segment": {k: v.as_json() for k, v in self.by_segment.items()},
            "by_agent": {k: v.as_json() for k, v in self.by_agent.items()},
            "by_cut": {str(c.cut_id): c.as_json() for c in self.by_cut},
            "by_day": {d.day.isoformat(): d.as_json() for d in self.by_day},
            "inconsistencies": self.inconsistency_total,
            "inconsistencies_by_rule": dict(self.inconsistency_counts),
            "invalid_marks": self.invalid_marks,
            "closed_late": self.closed_late,
            "flagged_records": len(self.flagged_ids),
            "inconsistency_detail": [
                {
                    "record_id": p.record_id,
                    "agent": p.agent,
                    "rule": p.rule,
                    "label": RULES.get(p.rule, p.rule),
                    "detail": p.detail,
                    "blocks_form": p.rule in BLOCKING_RULES,
                }
                for p in self.inconsistencies
            ],
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
    live = records["archived_at"].isna().to_numpy()
    in_period = (records["cut_at"] >= _midnight(period_start)).to_numpy()  # NaT compares False
    return pd.Series(live | in_period, index=records.index, dtype=bool)


def _midnight(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day.year, day.month, day.day)


def range_scope(records: pd.DataFrame, desde: dt.date | None, hasta: dt.date | None) -> pd.Series:
    """Records whose cut was imported between ``desde`` and ``hasta`` (inclusive)."""
    cut_at = records["cut_at"]
    mask = pd.Series(True, index=records.index, dtype=bool)
    if desde is not None:
        mask &= cut_at >= _midnight(desde)
    if hasta is not None:
        mask &= cut_at < _midnight(hasta + dt.timedelta(days=1))
    return mask


@dataclass(frozen=True)
class LiveParts:
    """The constants of the live formulas (what is no longer on an agent sheet)."""

    total: int  # records sent (KPI_TOTAL)
    excluded: int
    archived_effective: int  # effective contacts of archived records in scope
    unassigned_open: int  # manageable records on «Sin asignar», without outcome


def live_parts(
    records: pd.DataFrame,
    period_start: dt.date | None,
    unassigned: str,
    settings: Settings | None = None,
    archived: KpiPart | None = None,
) -> LiveParts:
    """The constants of the live formulas over ``records``; with ``archived`` (the part of the
    archived records in scope, :func:`kpi_part`), ``records`` are those not archived."""
    if archived is not None:
        live = live_parts(records, period_start, unassigned, settings)
        total, effective, excluded, _, _ = archived.totals
        return LiveParts(
            total=live.total + total,
            excluded=live.excluded + excluded,
            archived_effective=live.archived_effective + effective,
            unassigned_open=live.unassigned_open,
        )
    if records.empty:
        return LiveParts(0, 0, 0, 0)
    scope = kpi_scope(records, period_start).to_numpy()
    outcome = records["outcome"].to_numpy(dtype=object)
    names = ("outcome", "resolution", "order_number", "agent_survey")
    columns = {
        **_texts(records, [n for n in names if n in records]),
        **_moments(records, [a for a in ATTEMPTS if a in records]),
    }
    state = states_of(columns, settings or Settings())
    agent = records["agent"].to_numpy(dtype=object)
    archived = records["archived_at"].notna().to_numpy()
    excluded = records["exclusion"].to_numpy(dtype=object) != ""
    open_unassigned = (
        ~archived & ~excluded & (outcome == "") & ((agent == "") | (agent == unassigned))
    )
    return LiveParts(
        total=int(scope.sum()),
        excluded=int((scope & excluded).sum()),
        archived_effective=int((scope & archived & state.effective).sum()),
        unassigned_open=int((scope & open_unassigned).sum()),
    )


# -- the computation ----------------------------------------------------------------------------
# The ledger columns the indicator reads (selected first: the ledger frame is wide); callers
# may read just these.
USED_COLUMNS = (
    "id",
    "cut_id",
    "cut_at",
    "segment",
    "exclusion",
    "agent",
    "assigned_at",
    "due_at",
    *ATTEMPTS,
    *(unread(name) for name in ATTEMPTS),
    "outcome",
    "resolution",
    "order_number",
    "agent_survey",
    "closed_at",
    "archived_at",
)


_TIME_COLUMNS = ("cut_at", "assigned_at", "due_at", *ATTEMPTS, "closed_at", "archived_at")
_TEXT_COLUMNS = tuple(name for name in USED_COLUMNS if name not in (*_TIME_COLUMNS, "id", "cut_id"))


# Each text column is taken once as a numpy array of ``str`` and compared there: on 150 000
# records that is several times faster than pandas' string columns, and the indicator makes
# dozens of comparisons.
def _texts(frame: pd.DataFrame, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Columns of ``frame`` as object arrays. The ledger's text is never missing; a missing
    value elsewhere counts as a non-empty value of its own, as the text ``"nan"`` would."""
    return {name: frame[name].to_numpy(dtype=object) for name in names}


def _moments(frame: pd.DataFrame, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Time columns of ``frame`` as ``datetime64[us]`` arrays (``NaT`` when blank)."""
    return {name: frame[name].to_numpy(dtype="datetime64[us]") for name in names}


def _numbers(values: np.ndarray) -> np.ndarray:
    """Scores typed as text ("4", "4,5") -> floats (NaN when blank or not a number)."""

    def number(value: object) -> float:
        try:
            return float(str(value).strip().replace(",", "."))
        except ValueError:
            return float("nan")

    codes, distinct = distinct_values(values)
    return np.array([number(value) for value in distinct], dtype=float)[codes]


def states_of(c: dict[str, np.ndarray], settings: Settings) -> MarkState:
    """:func:`swat_xl.core.marks.mark_state` of the columns ``c``: the mark fields as text, the
    attempts as ``datetime64`` (an attempt counts when it is a date and time)."""
    n = len(c["outcome"])
    blank = np.full(n, "", dtype=object)
    attempt_ok = [~np.isnat(c[a]) if a in c else np.zeros(n, dtype=bool) for a in ATTEMPTS]
    columns = {
        name: c.get(name, blank)
        for name in ("outcome", "resolution", "order_number", "agent_survey")
    }
    return mark_state(columns, attempt_ok, settings)


@dataclass(frozen=True)
class _Flags:
    """Per-record 0/1 counts, in the order of the records in scope."""

    eff: np.ndarray
    excl: np.ndarray
    pend: np.ndarray
    over: np.ndarray

    def subset(self, mask: np.ndarray) -> _Flags:
        return _Flags(self.eff[mask], self.excl[mask], self.pend[mask], self.over[mask])

    def by(self, keys: np.ndarray) -> dict[Any, dict[str, int]]:
        """The counts summed per distinct key, keys sorted."""
        if len(keys) == 0:
            return {}
        codes, uniques = pd.factorize(keys, sort=True)
        if codes.min() < 0:  # a missing key: grouped as one, as pandas does when asked
            codes, uniques = pd.factorize(keys, sort=True, use_na_sentinel=False)
        return self.by_codes(codes, uniques.tolist())

    def by_codes(self, codes: np.ndarray, keys: list[Any]) -> dict[Any, dict[str, int]]:
        size = len(keys)
        totals = np.bincount(codes, minlength=size)
        sums = [
            np.bincount(codes, weights=flag, minlength=size)
            for flag in (self.eff, self.excl, self.pend, self.over)
        ]
        return {
            key: {
                "total_records": int(totals[i]),
                "effective_contacts": int(sums[0][i]),
                "excluded": int(sums[1][i]),
                "pending": int(sums[2][i]),
                "overdue": int(sums[3][i]),
            }
            for i, key in enumerate(keys)
        }


def compute_kpi(
    records: pd.DataFrame,
    settings: Settings,
    now: dt.datetime,
    holidays: Collection[dt.date],
    *,
    desde: dt.date | None = None,
    hasta: dt.date | None = None,
    cuts: pd.DataFrame | None = None,
    agents: Iterable[str] = (),
    max_listed: int = MAX_LISTED,
) -> KpiReport:
    """The indicator and its detail over the ledger's records (see the module docstring).

    ``agents`` are listed in ``by_agent`` even without records; ``max_listed`` caps the list of
    inconsistencies (their counts are always complete)."""
    r = records[[c for c in USED_COLUMNS if c in records.columns]]
    if not r.empty:
        if desde is None and hasta is None:
            mask = kpi_scope(r, settings.period_start)
        else:
            mask = range_scope(r, desde, hasta)
        if not mask.all():
            r = r.loc[mask]
    part = kpi_part(r, settings, now, holidays, listed=max_listed)
    return kpi_from_parts([part], settings, now, desde=desde, hasta=hasta, cuts=cuts, agents=agents)


# -- the indicator in parts ---------------------------------------------------------------------
# A group's counts: records, effective contacts, excluded, pending, overdue (Group's fields).
_COUNT_FIELDS = ("total_records", "effective_contacts", "excluded", "pending", "overdue")
_US_PER_HOUR = 3_600_000_000


@dataclass(frozen=True)
class KpiPart:
    """What the indicator counts of one set of records (all in scope) as of ``now``, in a form
    that adds up: :func:`merged` of the parts of two sets is the part of their union, and
    :func:`kpi_from_parts` makes the report of any parts. The ledger keeps the part of the
    archived records between operations (they no longer change), so an operation counts only
    the records still on the sheets.

    Every figure is a count or a sum of integers (the agents' closing times in microseconds,
    their second survey as the count of each score), so a report does not depend on how the
    records were split. Groups' counts are lists in the order of :data:`_COUNT_FIELDS`. Two
    figures read the clock: pending records go overdue (an archived record is never pending),
    and an attempt after ``now`` is a problem: the part holds for any ``now`` from
    ``holds_from`` (the latest attempt not after the ``now`` it was counted at) until
    ``holds_until`` (the earliest attempt after it), the same attempts being ahead of it."""

    totals: tuple[int, int, int, int, int]
    closed_late: int
    by_outcome: dict[str, list[int]]
    by_segment: dict[str, list[int]]
    # agent -> counts, then the sum and count of closing times (µs), then [score, count] pairs
    by_agent: dict[str, tuple[list[int], int, int, list[tuple[float, int]]]]
    by_cut: dict[int, tuple[list[int], int | None]]  # cut -> counts, earliest time (µs)
    by_day: dict[int, list[int]]  # day (days since 1970-01-01) -> counts
    problem_counts: dict[str, int]
    # The first ``listed`` problems by record, rule and attempt: record, agent, rule, attempt,
    # time (µs since 1970, or None), info (text).
    problems: tuple[tuple[int, str, str, int, int | None, str], ...]
    listed: int
    flagged: frozenset[int]  # records with a problem of BLOCKING_RULES
    holds_from: int | None  # µs; None: since ever
    holds_until: int | None  # µs, not included; None: for ever

    def holds_at(self, now: dt.datetime) -> bool:
        """Whether the part counted as of another time is the part as of ``now``."""
        clock = _us(np.datetime64(now, "us"))
        assert clock is not None
        return (self.holds_from is None or self.holds_from <= clock) and (
            self.holds_until is None or clock < self.holds_until
        )

    def as_json(self) -> dict[str, Any]:
        """The part as JSON values (see :meth:`from_json`)."""
        return {
            "totals": list(self.totals),
            "closed_late": self.closed_late,
            "by_outcome": self.by_outcome,
            "by_segment": self.by_segment,
            "by_agent": {
                name: [counts, hours, closed, [list(pair) for pair in scores]]
                for name, (counts, hours, closed, scores) in self.by_agent.items()
            },
            "by_cut": [[cid, counts, first] for cid, (counts, first) in self.by_cut.items()],
            "by_day": self.by_day,
            "problem_counts": self.problem_counts,
            "problems": [list(row) for row in self.problems],
            "listed": self.listed,
            "flagged": sorted(self.flagged),
            "holds_from": self.holds_from,
            "holds_until": self.holds_until,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KpiPart:
        return cls(
            totals=_five(data["totals"]),
            closed_late=int(data["closed_late"]),
            by_outcome={str(k): list(v) for k, v in data["by_outcome"].items()},
            by_segment={str(k): list(v) for k, v in data["by_segment"].items()},
            by_agent={
                str(name): (
                    list(counts),
                    int(hours),
                    int(closed),
                    [(float(s), int(n)) for s, n in scores],
                )
                for name, (counts, hours, closed, scores) in data["by_agent"].items()
            },
            by_cut={int(cid): (list(counts), first) for cid, counts, first in data["by_cut"]},
            by_day={int(k): list(v) for k, v in data["by_day"].items()},
            problem_counts={str(k): int(v) for k, v in data["problem_counts"].items()},
            problems=tuple(
                (int(rid), str(who), str(rule), int(attempt), when, str(info))
                for rid, who, rule, attempt, when, info in data["problems"]
            ),
            listed=int(data["listed"]),
            flagged=frozenset(int(rid) for rid in data["flagged"]),
            holds_from=_optional_int(data["holds_from"]),
            holds_until=_optional_int(data["holds_until"]),
        )


def _counts(group: Mapping[str, int]) -> list[int]:
    """A group's counts (a :class:`Group`'s fields) as a part holds them."""
    return [group[name] for name in _COUNT_FIELDS]


def _group(counts: list[int]) -> dict[str, int]:
    """A part's counts of a group as :class:`Group`'s fields (see :func:`_counts`)."""
    return dict(zip(_COUNT_FIELDS, counts, strict=True))


def _five(values: Iterable[Any]) -> tuple[int, int, int, int, int]:
    total, effective, excluded, pending, overdue = (int(v) for v in values)
    return total, effective, excluded, pending, overdue


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _us(value: np.datetime64) -> int | None:
    return None if np.isnat(value) else int(value.astype("datetime64[us]").astype("int64"))


def kpi_part(
    r: pd.DataFrame,
    settings: Settings,
    now: dt.datetime,
    holidays: Collection[dt.date],
    *,
    listed: int = MAX_LISTED,
) -> KpiPart:
    """The part of the records ``r`` (a ledger frame, every record in scope)."""
    n = len(r)
    cut_id = r["cut_id"].to_numpy(dtype="int64")
    c = _texts(r, [name for name in _TEXT_COLUMNS if name in r.columns])
    for name in ("order_number", "agent_survey", "resolution"):
        c.setdefault(name, np.full(n, "", dtype=object))
    t = _moments(r, [name for name in _TIME_COLUMNS if name in r.columns])
    state = states_of({**c, **t}, settings)
    excluded = c["exclusion"] != ""
    effective = state.effective
    live = np.isnat(t["archived_at"])
    agent = c["agent"]
    no_outcome = c["outcome"] == ""
    pending = live & ~excluded & ~state.closed
    handled = latest_of([t[a] for a in ATTEMPTS if a in t], n)
    mine = agent != ""
    # Section 4, step 5: "La gestión de parte de los asesores de servicio no puede superar las
    # 24 horas de vigencia": the clock starts when the cut is imported (when Claro's base
    # arrives), for the records «Sin asignar» too.
    arrived = t["cut_at"]
    due = arrived + np.timedelta64(round(settings.due_hours * 3600), "s")
    overdue = pending & (due < np.datetime64(now, "us"))  # NaT compares False
    closed_late = ~excluded & state.closed & (handled > due)
    flags = _Flags(effective, excluded, pending, overdue)

    invalid_outcome = state.invalid["outcome"]
    label = np.where(
        no_outcome,
        np.where(excluded, EXCLUDED, NO_OUTCOME),
        np.where(invalid_outcome, INVALID, state.outcome),
    )
    segment = np.where(c["segment"] == "", NO_SEGMENT, c["segment"])

    # by agent: their assigned records, the time to close and the second survey.
    by_agent: dict[str, tuple[list[int], int, int, list[tuple[float, int]]]] = {}
    if mine.any():
        codes, names = pd.factorize(agent[mine], sort=True, use_na_sentinel=False)
        # The management time is the latest attempt; it runs from the record's arrival (the
        # import of its cut), closed records only.
        took = (handled[mine] - t["cut_at"][mine]).astype("timedelta64[us]")
        timed = state.closed[mine] & ~np.isnat(took)
        sums = np.zeros(len(names), dtype="int64")
        np.add.at(sums, codes[timed], took[timed].astype("int64"))  # exact, unlike a float sum
        hours = sums.tolist()
        closed = np.bincount(codes[timed], minlength=len(names)).tolist()
        # The second survey as how many times each score was given: a mean of any split of
        # the records is then the same number.
        scores = _numbers(c["agent_survey"][mine])
        scored = np.isfinite(scores)
        survey: list[dict[float, int]] = [{} for _ in names]
        if scored.any():
            given = pd.DataFrame({"agent": codes[scored], "score": scores[scored]}).value_counts()
            for (code, score), count in given.items():
                survey[int(code)][float(score)] = int(count)
        counts = flags.subset(mine).by_codes(codes, names.tolist())
        for code, (name, group) in enumerate(counts.items()):
            by_agent[str(name)] = (
                _counts(group),
                hours[code],
                closed[code],
                sorted(survey[code].items()),
            )

    cut_at = t["cut_at"]
    # A cut's records share its import time: the earliest one stands for it.
    first = pd.Series(cut_at).groupby(cut_id).min().to_dict() if n else {}
    by_cut = {
        int(cid): (
            _counts(group),
            _us(np.datetime64(first.get(cid, "NaT"), "us")),
        )
        for cid, group in flags.by(cut_id).items()
    }
    dated = ~np.isnat(cut_at)
    day = cut_at.astype("datetime64[D]").astype("int64")  # days since 1970 (NaT: not dated)
    by_day = {int(key): _counts(group) for key, group in flags.subset(dated).by(day[dated]).items()}

    ids = r["id"].to_numpy(dtype="int64")
    found = _Problems.find(ids, {**c, **t}, settings, now, holidays, state)
    shown = found.frame(listed)
    when = shown["when"].to_numpy(dtype="datetime64[us]")
    micros = np.where(np.isnat(when), None, when.view("int64").astype(object))
    problems = tuple(
        (int(rid), str(who), str(rule), int(attempt), None if us is None else int(us), str(info))
        for rid, who, rule, attempt, us, info in zip(
            shown["record_id"],
            shown["agent"],
            shown["rule"],
            shown["attempt"],
            micros,
            shown["info"],
            strict=True,
        )
    )
    # Every attempt, for how long the problems found as of ``now`` stay those found (see
    # KpiPart): ``handled`` is each record's latest only.
    stamps = [t[a] for a in ATTEMPTS if a in t]
    attempted = np.concatenate(stamps) if stamps else np.empty(0, dtype="datetime64[us]")
    attempted = attempted[~np.isnat(attempted)]
    ahead = attempted > np.datetime64(now, "us")
    since, until = attempted[~ahead], attempted[ahead]
    return KpiPart(
        totals=(
            n,
            int(effective.sum()),
            int(excluded.sum()),
            int(pending.sum()),
            int(overdue.sum()),
        ),
        closed_late=int(closed_late.sum()),
        by_outcome={str(k): _counts(v) for k, v in flags.by(label).items()},
        by_segment={str(k): _counts(v) for k, v in flags.by(segment).items()},
        by_agent=by_agent,
        by_cut=by_cut,
        by_day=by_day,
        problem_counts=found.counts(),
        problems=problems,
        listed=listed,
        flagged=found.ids_for(BLOCKING_RULES),
        holds_from=_us(since.max()) if len(since) else None,
        holds_until=_us(until.min()) if len(until) else None,
    )


def _added(left: list[int], right: list[int]) -> list[int]:
    return [a + b for a, b in zip(left, right, strict=True)]


def _add_groups(left: dict[Any, list[int]], right: dict[Any, list[int]]) -> dict[Any, list[int]]:
    out = dict(left)
    for key, counts in right.items():
        out[key] = _added(out[key], counts) if key in out else list(counts)
    return dict(sorted(out.items()))


def _problem_order(row: tuple[int, str, str, int, int | None, str]) -> tuple[int, int, int]:
    return row[0], _RULE_RANK[row[2]], row[3]


_RULE_RANK = {rule: rank for rank, rule in enumerate(RULES)}


def merged(left: KpiPart, right: KpiPart) -> KpiPart:
    """The part of the union of two sets of records, from the parts of each."""
    agents = dict(left.by_agent)
    for name, (counts, hours, closed, scores) in right.by_agent.items():
        if name in agents:
            c0, h0, n0, s0 = agents[name]
            given = dict(s0)
            for score, count in scores:
                given[score] = given.get(score, 0) + count
            agents[name] = (_added(c0, counts), h0 + hours, n0 + closed, sorted(given.items()))
        else:
            agents[name] = (list(counts), hours, closed, list(scores))
    cuts = dict(left.by_cut)
    for cid, (counts, first) in right.by_cut.items():
        if cid in cuts:
            c0, f0 = cuts[cid]
            earliest = first if f0 is None else f0 if first is None else min(f0, first)
            cuts[cid] = (_added(c0, counts), earliest)
        else:
            cuts[cid] = (list(counts), first)
    problems = left.problem_counts | {
        rule: left.problem_counts.get(rule, 0) + count
        for rule, count in right.problem_counts.items()
    }
    listed = min(left.listed, right.listed)
    since = [v for v in (left.holds_from, right.holds_from) if v is not None]
    until = [v for v in (left.holds_until, right.holds_until) if v is not None]
    return KpiPart(
        totals=_five(_added(list(left.totals), list(right.totals))),
        closed_late=left.closed_late + right.closed_late,
        by_outcome=_add_groups(left.by_outcome, right.by_outcome),
        by_segment=_add_groups(left.by_segment, right.by_segment),
        by_agent=dict(sorted(agents.items())),
        by_cut=dict(sorted(cuts.items())),
        by_day=_add_groups(left.by_day, right.by_day),
        problem_counts={rule: problems[rule] for rule in RULES if rule in problems},
        problems=tuple(sorted((*left.problems, *right.problems), key=_problem_order)[:listed]),
        listed=listed,
        flagged=left.flagged | right.flagged,
        holds_from=max(since) if since else None,
        holds_until=min(until) if until else None,
    )


def _moment(micros: int | None) -> dt.datetime | None:
    return None if micros is None else _EPOCH + dt.timedelta(microseconds=micros)


_EPOCH = dt.datetime(1970, 1, 1)


def kpi_from_parts(
    parts: Iterable[KpiPart],
    settings: Settings,
    now: dt.datetime,
    *,
    desde: dt.date | None = None,
    hasta: dt.date | None = None,
    cuts: pd.DataFrame | None = None,
    agents: Iterable[str] = (),
    max_listed: int | None = None,
) -> KpiReport:
    """The report of the records of ``parts`` (see :func:`compute_kpi` for the arguments)."""
    whole: KpiPart | None = None
    for part in parts:
        whole = part if whole is None else merged(whole, part)
    if whole is None:
        raise ValueError("no part to report")

    by_agent: dict[str, AgentStats] = {}
    for name, (counts, micros, closed, scores) in whole.by_agent.items():
        given = sum(count for _, count in scores)
        survey = math.fsum(score * count for score, count in scores) / given if given else None
        by_agent[name] = AgentStats(
            **_group(counts),
            avg_close_hours=round(micros / closed / _US_PER_HOUR, 1) if closed else None,
            avg_agent_survey=None if survey is None else round(survey, 2),
        )
    for name in agents:
        by_agent.setdefault(name, AgentStats(0, 0))
    by_agent = dict(sorted(by_agent.items(), key=lambda item: item[0].casefold()))

    files: dict[int, str] = {}
    if cuts is not None and not cuts.empty:
        files = {int(i): str(f) for i, f in zip(cuts["id"], cuts["file_name"], strict=True)}
    by_cut = [
        CutStats(
            **_group(counts), cut_id=cid, imported_at=_moment(first), file_name=files.get(cid, "")
        )
        for cid, (counts, first) in whole.by_cut.items()
    ]
    by_day = [
        DayStats(**_group(counts), day=_EPOCH.date() + dt.timedelta(days=day))
        for day, counts in whole.by_day.items()
    ]
    limit = whole.listed if max_listed is None else min(max_listed, whole.listed)
    listed = [
        Inconsistency(rid, who, rule, describe(rule, attempt, _moment(when), info, settings))
        for rid, who, rule, attempt, when, info in whole.problems[:limit]
    ]
    total, effective, excluded, pending, overdue = whole.totals
    return KpiReport(
        now=now,
        target=settings.target,
        desde=desde,
        hasta=hasta,
        total_records=total,
        effective_contacts=effective,
        excluded=excluded,
        pending=pending,
        overdue=overdue,
        closed_late=whole.closed_late,
        by_outcome={k: Group(**_group(v)) for k, v in whole.by_outcome.items()},
        by_segment={k: Group(**_group(v)) for k, v in whole.by_segment.items()},
        by_agent=by_agent,
        by_cut=by_cut,
        by_day=by_day,
        inconsistency_counts=dict(whole.problem_counts),
        inconsistencies=listed,
        flagged_ids=whole.flagged,
        target_base=settings.target_base,
    )


# -- inconsistencies ----------------------------------------------------------------------------
PROBLEM_COLUMNS = ["record_id", "agent", "rule", "attempt", "when", "info"]


def _hours(pair: tuple[int, int]) -> str:
    return f"{pair[0]}:00-{pair[1]}:00"


def inconsistencies(
    records: pd.DataFrame,
    settings: Settings,
    now: dt.datetime,
    holidays: Collection[dt.date],
) -> pd.DataFrame:
    """Marking problems, one row per problem, sorted by record: ``record_id, agent, rule``
    (a key of :data:`RULES`), ``attempt`` (1-3, 0 when the rule is about the record),
    ``when`` (the attempt's time) and ``info`` (attempt count or why it is outside the hours).
    :func:`describe` turns a row into the Spanish text the sheet shows.

    Rules: ``NO CONTACTO`` with fewer attempts than ``min_attempts_no_contact``; a ``Solución``
    without ``CONTACTO EFECTIVO``; an attempt that is not a date; an attempt after ``now``; an
    attempt outside the legal calling hours (Ley 2300 de 2023: Monday-Friday ``weekday_hours``,
    Saturday ``saturday_hours``, never on Sundays nor national holidays; the end hour itself is
    allowed); and, with ``one_contact_per_day``, two attempts the same day.
    """
    if records.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    ids = records["id"].to_numpy(dtype="int64")
    wanted = ["agent", "outcome", "resolution", "order_number", "agent_survey"]
    texts = _texts(records, [name for name in wanted if name in records.columns])
    texts.update(_texts(records, [unread(a) for a in ATTEMPTS]))
    moments = _moments(records, [name for name in ("cut_at", *ATTEMPTS) if name in records])
    found = _Problems.find(ids, {**texts, **moments}, settings, now, holidays)
    return found.frame()


@dataclass
class _Problems:
    """The problems found, as parallel arrays (one entry per problem, in rule order)."""

    ids: np.ndarray
    agent: np.ndarray
    # (positions among the marked records, rule, attempt, when or None, info array or text)
    parts: list[tuple[np.ndarray, str, int, np.ndarray | None, Any]]

    @classmethod
    def find(
        cls,
        ids: np.ndarray,
        c: dict[str, np.ndarray],
        settings: Settings,
        now: dt.datetime,
        holidays: Collection[dt.date],
        state: MarkState | None = None,
    ) -> _Problems:
        marked = c["agent"] != "" if len(ids) else np.zeros(0, dtype=bool)
        found = cls(ids[marked], c["agent"][marked] if len(ids) else np.empty(0, object), [])
        if not marked.any():
            return found
        if state is None:
            state = states_of(c, settings)
        outcome = state.outcome[marked]
        size = len(outcome)
        stamps = {a: c[a][marked] for a in ATTEMPTS}
        typed = {a: c[unread(a)][marked] != "" for a in ATTEMPTS}  # text that is not a date
        present = {a: ~np.isnat(stamps[a]) | typed[a] for a in ATTEMPTS}

        for number, name in enumerate(DROPDOWN_FIELDS, start=1):
            bad = state.invalid[name][marked]
            if bad.any():
                values = c[name][marked] if name in c else np.full(size, "", dtype=object)
                info = np.array([f"{FIELD_LABELS[name]}\x1f{v}" for v in values], dtype=object)
                found.add(bad, "invalid_value", number, info=info)
        attempts = state.attempts[marked]
        found.add(state.few_attempts[marked], "no_contact_attempts", info=attempts)
        found.add(state.effective_without_attempt[marked], "effective_without_attempt")
        found.add(state.effective_without_resolution[marked], "effective_without_resolution")
        found.add(state.visit_without_order[marked], "visit_without_order")
        resolution = c["resolution"][marked] if "resolution" in c else np.full(size, "", object)
        found.add((resolution != "") & (outcome != OUTCOME_EFFECTIVE), "resolution_without_contact")
        nat = np.full(size, np.datetime64("NaT"), dtype="datetime64[us]")
        sent = c["cut_at"][marked] if "cut_at" in c else nat

        holiday_days = np.array(sorted(holidays), dtype="datetime64[D]")
        week_start, week_end = (h * 60 for h in settings.weekday_hours)
        sat_start, sat_end = (h * 60 for h in settings.saturday_hours)
        now_ts = np.datetime64(now, "us")
        for number, name in enumerate(ATTEMPTS, start=1):
            ts = stamps[name]
            valid = ~np.isnat(ts)
            found.add(present[name] & ~valid, "attempt_not_a_date", number)
            if not valid.any():
                continue
            found.add(valid & (ts > now_ts), "attempt_in_future", number, ts)
            found.add(valid & (ts < sent), "attempt_before_sent", number, ts)  # NaT: False
            days = ts.astype("datetime64[D]")
            dow = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
            minute = (ts - days).astype("timedelta64[s]").astype("int64") / 60
            holiday = valid & np.isin(days, holiday_days)
            sunday = dow == 6
            saturday = dow == 5
            out_week = (dow < 5) & ((minute < week_start) | (minute > week_end))
            out_sat = saturday & ((minute < sat_start) | (minute > sat_end))
            outside = valid & (holiday | sunday | out_week | out_sat)
            if outside.any():
                why = np.full(size, "weekday", dtype=object)
                why[saturday] = "saturday"
                why[sunday] = "sunday"
                why[holiday] = "holiday"
                found.add(outside, "attempt_outside_hours", number, ts, why)

        if settings.one_contact_per_day:
            days = {a: stamps[a].astype("datetime64[D]") for a in ATTEMPTS}
            same = np.zeros(size, dtype=bool)
            shown = np.full(size, np.datetime64("NaT"), dtype="datetime64[us]")
            for left, right in (
                ("attempt1", "attempt2"),
                ("attempt1", "attempt3"),
                ("attempt2", "attempt3"),
            ):
                hit = days[left] == days[right]  # NaT never equals
                first = hit & ~same
                shown[first] = days[left][first]
                same |= hit
            found.add(same, "same_day_attempts", 0, shown)
        return found

    def add(
        self,
        mask: np.ndarray,
        rule: str,
        attempt: int = 0,
        when: np.ndarray | None = None,
        info: Any = "",
    ) -> None:
        where = np.flatnonzero(mask)
        if len(where) == 0:
            return
        if isinstance(info, np.ndarray):
            info = info[where]
            if info.dtype != object:  # counts: shown as text
                info = info.astype(str).astype(object)
        self.parts.append((where, rule, attempt, None if when is None else when[where], info))

    def ids_for(self, rules: Collection[str]) -> frozenset[int]:
        """The records with a problem under any of ``rules``."""
        chosen = [self.ids[where] for where, rule, *_ in self.parts if rule in rules]
        if not chosen:
            return frozenset()
        return frozenset(np.unique(np.concatenate(chosen)).astype("int64").tolist())

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for where, rule, *_ in self.parts:
            found[rule] = found.get(rule, 0) + len(where)
        return {rule: found[rule] for rule in RULES if rule in found}

    def frame(self, limit: int | None = None) -> pd.DataFrame:
        """The problems sorted by record, rule and attempt (the first ``limit`` of them)."""
        if not self.parts:
            return pd.DataFrame(columns=PROBLEM_COLUMNS)
        order = list(RULES)
        where = np.concatenate([p[0] for p in self.parts])
        rank = np.concatenate([np.full(len(p[0]), order.index(p[1])) for p in self.parts])
        attempt = np.concatenate([np.full(len(p[0]), p[2]) for p in self.parts])
        record_id = self.ids[where]
        sort = np.lexsort((attempt, rank, record_id))  # stable: by record, rule, attempt
        if limit is not None:
            sort = sort[:limit]
        nat = np.datetime64("NaT", "us")
        when = np.concatenate(
            [np.full(len(p[0]), nat) if p[3] is None else p[3] for p in self.parts]
        )
        info = np.concatenate(
            [
                p[4] if isinstance(p[4], np.ndarray) else np.full(len(p[0]), p[4], dtype=object)
                for p in self.parts
            ]
        )
        rules = np.array(order, dtype=object)[rank]
        return pd.DataFrame(
            {
                "record_id": record_id[sort].astype(int),
                "agent": self.agent[where[sort]],
                "rule": rules[sort],
                "attempt": attempt[sort],
                "when": when[sort].astype("datetime64[us]"),
                "info": info[sort],
            },
            columns=PROBLEM_COLUMNS,
        )


def describe(rule: str, attempt: int, when: Any, info: str, settings: Settings) -> str:
    """The Spanish text of one inconsistency (record and agent are shown beside it)."""
    label = f"Intento {attempt}"
    stamp = (
        when.strftime("%d/%m/%Y %H:%M")
        if isinstance(when, dt.datetime) and not pd.isna(when)
        else ""
    )
    if rule == "no_contact_attempts":
        count = int(info or 0)
        return (
            f"NO CONTACTO con {count} intento{'' if count == 1 else 's'}; se requieren "
            f"{settings.min_attempts_no_contact}"
        )
    if rule == "invalid_value":
        column, _, typed = str(info).partition("\x1f")
        return (
            f"«{typed}» no es una opción de «{column}»: el registro sigue pendiente y no va al "
            "formulario; elija un valor de la lista"
        )
    if rule == "effective_without_attempt":
        return "CONTACTO EFECTIVO sin ningún intento con fecha y hora; registre la llamada"
    if rule == "effective_without_resolution":
        return "CONTACTO EFECTIVO sin Solución; elija la Solución de la lista"
    if rule == "visit_without_order":
        return "VISITA TÉCNICA sin número de OT / LLS"
    if rule == "attempt_before_sent":
        return f"{label} ({stamp}) es anterior a la importación del corte"
    if rule == "resolution_without_contact":
        return "Tiene Solución pero el Resultado no es CONTACTO EFECTIVO"
    if rule == "attempt_not_a_date":
        return f"{label} no es una fecha y hora válida"
    if rule == "attempt_in_future":
        return f"{label} con fecha futura ({stamp})"
    if rule == "attempt_outside_hours":
        why = {
            "holiday": "festivo nacional",
            "sunday": "domingo",
            "saturday": f"sábado fuera de {_hours(settings.saturday_hours)}",
        }.get(str(info), f"fuera de {_hours(settings.weekday_hours)} de lunes a viernes")
        day = _WEEKDAYS[when.weekday()] if stamp else ""
        return f"{label} el {day} {stamp}: {why}"
    if rule == "same_day_attempts":
        shown = when.strftime("%d/%m/%Y") if stamp else ""
        return f"Dos intentos el mismo día ({shown}); se permite un contacto por día"
    return RULES.get(rule, rule)


def form_ready(
    records: pd.DataFrame, settings: Settings, now: dt.datetime
) -> tuple[np.ndarray, np.ndarray]:
    """Which records may go to the online form: (ready, held) boolean arrays.

    Ready: a no gestionable (typified without a call, section 4: "no se gestionarán
    telefónicamente, pero si se deben tipificar en el formulario"), or a record whose marks
    close it (:func:`swat_xl.core.marks.mark_state`) with no problem of :data:`BLOCKING_RULES`.
    Held: marked (a ``Resultado`` typed) but not ready; it goes once its marks are fixed."""
    n = len(records)
    if not n:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    names = ("outcome", "resolution", "order_number", "agent_survey")
    c = {
        **_texts(records, [name for name in names if name in records.columns]),
        **_moments(records, [name for name in ATTEMPTS if name in records.columns]),
    }
    state = states_of(c, settings)
    found = inconsistencies(records, settings, now, ())
    flagged_ids = set(found.loc[found["rule"].isin(BLOCKING_RULES), "record_id"].astype(int))
    ids = records["id"].to_numpy(dtype="int64")
    flagged = np.isin(ids, list(flagged_ids))
    excluded = records["exclusion"].to_numpy(dtype=object) != ""
    marked = records["outcome"].to_numpy(dtype=object) != ""
    ready = (excluded & ~marked) | (state.closed & ~flagged)
    return ready, marked & ~ready
