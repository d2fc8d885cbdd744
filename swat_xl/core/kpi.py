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
    in_period = records["cut_at"] >= period_start.isoformat()  # ISO text sorts as time
    return (live | in_period).astype(bool)


def range_scope(records: pd.DataFrame, desde: dt.date | None, hasta: dt.date | None) -> pd.Series:
    """Records whose cut was imported between ``desde`` and ``hasta`` (inclusive)."""
    cut_at = records["cut_at"]
    mask = pd.Series(True, index=records.index, dtype=bool)
    if desde is not None:
        mask &= cut_at >= desde.isoformat()
    if hasta is not None:
        mask &= cut_at < (hasta + dt.timedelta(days=1)).isoformat()
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


# -- the computation ----------------------------------------------------------------------------
def _times(series: pd.Series) -> pd.Series:
    """ISO text -> timestamps (``NaT`` when blank or not a date)."""
    return pd.to_datetime(series, errors="coerce", format="ISO8601")


def _numbers(series: pd.Series) -> pd.Series:
    """Scores typed as text ("4", "4,5") -> floats (NaN when blank or not a number)."""

    def number(value: object) -> float:
        try:
            return float(str(value).strip().replace(",", "."))
        except ValueError:
            return float("nan")

    return series.map({value: number(value) for value in series.unique()}).astype(float)


def _prefix(series: pd.Series, length: int) -> pd.Series:
    """``series.str[:length]`` computed once per distinct value (cut times repeat a lot)."""
    return series.map({value: str(value)[:length] for value in series.unique()})


# The ledger columns the indicator reads (selected first: the ledger frame is wide).
_USED = (
    "id",
    "cut_id",
    "cut_at",
    "segment",
    "exclusion",
    "agent",
    "assigned_at",
    "due_at",
    *ATTEMPTS,
    "outcome",
    "resolution",
    "agent_survey",
    "closed_at",
    "archived_at",
)
_COUNTS = ["n", "eff", "excl", "pend", "over"]


def _group(row: Any) -> dict[str, int]:
    return {
        "total_records": int(row["n"]),
        "effective_contacts": int(row["eff"]),
        "excluded": int(row["excl"]),
        "pending": int(row["pend"]),
        "overdue": int(row["over"]),
    }


def _sums(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=_COUNTS)
    return frame.groupby(key, sort=True)[_COUNTS].sum()


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
    max_listed: int = 1000,
) -> KpiReport:
    """The indicator and its detail over the ledger's records (see the module docstring).

    ``agents`` are listed in ``by_agent`` even without records; ``max_listed`` caps the list of
    inconsistencies (their counts are always complete)."""
    r = records[[c for c in _USED if c in records.columns]]
    if not r.empty:
        if desde is None and hasta is None:
            mask = kpi_scope(r, settings.period_start)
        else:
            mask = range_scope(r, desde, hasta)
        if not mask.all():
            r = r.loc[mask]
    r = r.reset_index(drop=True)
    n = len(r)
    if n:
        outcome = r["outcome"].astype(str)
        excluded = r["exclusion"].astype(str) != ""
        effective = outcome == OUTCOME_EFFECTIVE
        live = r["archived_at"].astype(str) == ""
        agent = r["agent"].astype(str)
        pending = live & ~excluded & (outcome == "")
        overdue = pending & (agent != "") & (_times(r["due_at"]) < pd.Timestamp(now))
        label = outcome.mask(outcome == "", NO_OUTCOME).mask((outcome == "") & excluded, EXCLUDED)
        frame = pd.DataFrame(
            {
                "agent": agent,
                "segment": r["segment"].astype(str).replace("", NO_SEGMENT),
                "outcome": label,
                "cut_id": pd.to_numeric(r["cut_id"], errors="coerce").fillna(0).astype(int),
                "cut_at": r["cut_at"].astype(str),
                "day": _prefix(r["cut_at"], 10),
                "n": 1,
                "eff": effective.astype(int),
                "excl": excluded.astype(int),
                "pend": pending.astype(int),
                "over": overdue.astype(int),
            }
        )
    else:
        frame = pd.DataFrame(
            columns=["agent", "segment", "outcome", "cut_id", "cut_at", "day", *_COUNTS]
        )

    by_outcome = {str(k): Group(**_group(row)) for k, row in _sums(frame, "outcome").iterrows()}
    by_segment = {str(k): Group(**_group(row)) for k, row in _sums(frame, "segment").iterrows()}

    # by agent: their assigned records, the time to close and the second survey.
    by_agent: dict[str, AgentStats] = {}
    mine = frame["agent"] != ""
    if n and mine.any():
        sub = frame.loc[mine].copy()
        closed = _times(r.loc[mine, "closed_at"]) - _times(r.loc[mine, "assigned_at"])
        sub["hours"] = closed.dt.total_seconds() / 3600
        sub["survey"] = _numbers(r.loc[mine, "agent_survey"])
        sums = sub.groupby("agent", sort=True).agg(
            n=("n", "sum"),
            eff=("eff", "sum"),
            excl=("excl", "sum"),
            pend=("pend", "sum"),
            over=("over", "sum"),
            hours=("hours", "mean"),
            survey=("survey", "mean"),
        )
        for name, row in sums.iterrows():
            by_agent[str(name)] = AgentStats(
                **_group(row),
                avg_close_hours=None if pd.isna(row["hours"]) else round(float(row["hours"]), 1),
                avg_agent_survey=None if pd.isna(row["survey"]) else round(float(row["survey"]), 2),
            )
    for name in agents:
        by_agent.setdefault(name, AgentStats(0, 0))
    by_agent = dict(sorted(by_agent.items(), key=lambda item: item[0].casefold()))

    files: dict[int, str] = {}
    if cuts is not None and not cuts.empty:
        files = {int(i): str(f) for i, f in zip(cuts["id"], cuts["file_name"], strict=True)}
    imported = frame.groupby("cut_id")["cut_at"].min().to_dict() if n else {}
    by_cut = [
        CutStats(
            **_group(row),
            cut_id=int(cid),
            imported_at=str(imported.get(cid, "")),
            file_name=files.get(int(cid), ""),
        )
        for cid, row in _sums(frame, "cut_id").iterrows()
    ]
    by_day = [
        DayStats(**_group(row), day=dt.date.fromisoformat(str(day)))
        for day, row in _sums(frame, "day").iterrows()
        if _is_iso_day(str(day))
    ]

    problems = inconsistencies(r, settings, now, holidays)
    found = problems["rule"].value_counts().to_dict()
    counts_by_rule = {rule: int(found[rule]) for rule in RULES if rule in found}
    listed = [
        Inconsistency(int(rid), str(who), str(rule), describe(rule, attempt, when, info, settings))
        for rid, who, rule, attempt, when, info in problems.head(max_listed).itertuples(
            index=False, name=None
        )
    ]
    return KpiReport(
        now=now,
        target=settings.target,
        desde=desde,
        hasta=hasta,
        total_records=n,
        effective_contacts=int(frame["eff"].sum()) if n else 0,
        excluded=int(frame["excl"].sum()) if n else 0,
        pending=int(frame["pend"].sum()) if n else 0,
        overdue=int(frame["over"].sum()) if n else 0,
        by_outcome=by_outcome,
        by_segment=by_segment,
        by_agent=by_agent,
        by_cut=by_cut,
        by_day=by_day,
        inconsistency_counts=counts_by_rule,
        inconsistencies=listed,
    )


def _is_iso_day(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# -- inconsistencies ----------------------------------------------------------------------------
PROBLEM_COLUMNS = ["record_id", "agent", "rule", "attempt", "when", "info"]
# why an attempt is outside the legal hours (the ``info`` of ``attempt_outside_hours``)
_OUTSIDE_WHY = ("weekday", "saturday", "sunday", "holiday")


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
    empty = pd.DataFrame(columns=PROBLEM_COLUMNS)
    if records.empty:
        return empty
    marked = records.loc[records["agent"] != ""].reset_index(drop=True)
    if marked.empty:
        return empty
    outcome = marked["outcome"]
    parts: list[pd.DataFrame] = []

    def add(
        mask: pd.Series, rule: str, attempt: int = 0, when: Any = pd.NaT, info: Any = ""
    ) -> None:
        if not mask.any():
            return
        chosen = marked.loc[mask]
        parts.append(
            pd.DataFrame(
                {
                    "record_id": chosen["id"].astype(int),
                    "agent": chosen["agent"],
                    "rule": rule,
                    "attempt": attempt,
                    "when": when[mask] if isinstance(when, pd.Series) else when,
                    "info": info[mask] if isinstance(info, pd.Series) else info,
                    "order": list(RULES).index(rule),
                }
            )
        )

    present = {a: marked[a] != "" for a in ATTEMPTS}
    stamps = {a: _times(marked[a]) for a in ATTEMPTS}

    attempts = sum(present[a].astype(int) for a in ATTEMPTS)
    few = (outcome == OUTCOME_NO_CONTACT) & (attempts < settings.min_attempts_no_contact)
    add(few, "no_contact_attempts", info=attempts.astype(str))
    add((marked["resolution"] != "") & (outcome != OUTCOME_EFFECTIVE), "resolution_without_contact")

    holiday_index = pd.DatetimeIndex(sorted(pd.Timestamp(d) for d in holidays))
    week_start, week_end = (h * 60 for h in settings.weekday_hours)
    sat_start, sat_end = (h * 60 for h in settings.saturday_hours)
    now_ts = pd.Timestamp(now)
    for number, name in enumerate(ATTEMPTS, start=1):
        ts = stamps[name]
        valid = ts.notna()
        add(present[name] & ~valid, "attempt_not_a_date", number)
        if not valid.any():
            continue
        add(valid & (ts > now_ts), "attempt_in_future", number, ts)
        dow = ts.dt.day_of_week
        minute = ts.dt.hour * 60 + ts.dt.minute + ts.dt.second / 60
        holiday = valid & ts.dt.normalize().isin(holiday_index)
        sunday = dow == 6
        saturday = dow == 5
        out_week = (dow < 5) & ((minute < week_start) | (minute > week_end))
        out_sat = saturday & ((minute < sat_start) | (minute > sat_end))
        outside = valid & (holiday | sunday | out_week | out_sat)
        if outside.any():
            why = pd.Series("weekday", index=marked.index).mask(saturday, "saturday")
            why = why.mask(sunday, "sunday").mask(holiday, "holiday")
            add(outside, "attempt_outside_hours", number, ts, why)

    if settings.one_contact_per_day:
        days = {a: stamps[a].dt.normalize() for a in ATTEMPTS}
        same = pd.Series(False, index=marked.index)
        shown = pd.Series(pd.NaT, index=marked.index, dtype="datetime64[ns]")
        for left, right in (
            ("attempt1", "attempt2"),
            ("attempt1", "attempt3"),
            ("attempt2", "attempt3"),
        ):
            hit = (days[left] == days[right]).fillna(False).astype(bool)
            shown = shown.mask(hit & ~same, days[left])
            same |= hit
        add(same, "same_day_attempts", 0, shown)

    if not parts:
        return empty
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["record_id", "order", "attempt"], kind="stable")
    return out[PROBLEM_COLUMNS].reset_index(drop=True)


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
