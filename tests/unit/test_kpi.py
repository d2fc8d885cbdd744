"""The indicator's pure core: totals, groups, date ranges and marking inconsistencies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from swat_xl.adapters.ledger import typed_records
from swat_xl.core.config import Settings
from swat_xl.core.kpi import RULES, compute_kpi, inconsistencies, kpi_scope
from swat_xl.errors import InputError
from swat_xl.services.indicator import parse_day
from swat_xl.services.reporting import colombian_holidays

NOW = dt.datetime(2026, 12, 15, 10, 0)
HOLIDAYS = colombian_holidays([2026])
SETTINGS = Settings()
TEXT_COLUMNS = (
    "cut_at",
    "segment",
    "exclusion",
    "agent",
    "assigned_at",
    "due_at",
    "attempt1",
    "attempt2",
    "attempt3",
    "outcome",
    "resolution",
    "order_number",
    "agent_survey",
    "closed_at",
    "archived_at",
    "ani",
    "customer_name",
    "account",
)


def record(record_id: int, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {name: "" for name in TEXT_COLUMNS}
    base.update(
        id=record_id,
        cut_id=1,
        cut_at="2026-12-01T09:00:00",
        segment="hogar",
        agent="Ana Gómez",
        assigned_at="2026-12-01T09:00:00",
        due_at="2026-12-02T09:00:00",
        ani="3104567890",
        customer_name="Paola Secreta Ríos",
        account="48213377",
    )
    base.update(values)
    return base


def effective(attempt: str = "2026-12-01T11:00:00", **values: Any) -> dict[str, Any]:
    """The marks of a complete CONTACTO EFECTIVO (a call and a Solución)."""
    return {
        "outcome": "CONTACTO EFECTIVO",
        "attempt1": attempt,
        "resolution": "ESCALADO",
        **values,
    }


def frame(*records: dict[str, Any]) -> pd.DataFrame:
    """The records as the ledger stores them (ISO text), read back typed as the ledger does."""
    df = pd.DataFrame(list(records))
    return typed_records(df.astype({name: "str" for name in TEXT_COLUMNS}))


def rules_of(df: pd.DataFrame, settings: Settings = SETTINGS) -> list[tuple[int, str]]:
    found = inconsistencies(df, settings, NOW, HOLIDAYS)
    return list(zip(found["record_id"].astype(int), found["rule"], strict=True))


# -- inconsistencies ----------------------------------------------------------------------------
def test_no_contact_needs_the_minimum_attempts():
    df = frame(
        record(
            1, outcome="NO CONTACTO", attempt1="2026-12-01T10:00:00", attempt2="2026-12-01T11:00:00"
        ),
        record(
            2,
            outcome="NO CONTACTO",
            attempt1="2026-12-01T10:00:00",
            attempt2="2026-12-01T11:00:00",
            attempt3="2026-12-01T12:00:00",
        ),
        record(3, outcome="NO CONTESTA", attempt1="2026-12-01T10:00:00"),
    )
    assert rules_of(df) == [(1, "no_contact_attempts")]
    report = compute_kpi(df, SETTINGS, NOW, HOLIDAYS)
    assert report.inconsistencies[0].detail == "NO CONTACTO con 2 intentos; se requieren 3"
    assert rules_of(df, SETTINGS.with_(min_attempts_no_contact=2)) == []


def test_resolution_needs_an_effective_contact():
    df = frame(
        record(1, outcome="NO CONTESTA", resolution="ESCALADO", attempt1="2026-12-01T10:00:00"),
        record(
            2, outcome="CONTACTO EFECTIVO", resolution="ESCALADO", attempt1="2026-12-01T10:00:00"
        ),
        record(3, resolution="VISITA TÉCNICA"),
    )
    assert rules_of(df) == [(1, "resolution_without_contact"), (3, "resolution_without_contact")]


def test_attempt_in_the_future():
    df = frame(
        record(1, attempt1="2026-12-15T10:30:00"),  # Tuesday, legal hours, 30 min after now
        record(2, attempt1="2026-12-15T09:30:00"),
    )
    assert rules_of(df) == [(1, "attempt_in_future")]
    detail = compute_kpi(df, SETTINGS, NOW, HOLIDAYS).inconsistencies[0].detail
    assert detail == "Intento 1 con fecha futura (15/12/2026 10:30)"


@pytest.mark.parametrize(
    ("when", "why"),
    [
        ("2026-12-08T10:00:00", "festivo nacional"),  # Tuesday, Inmaculada Concepción
        ("2026-11-29T10:00:00", "domingo"),
        ("2026-11-28T15:30:00", "sábado fuera de 8:00-15:00"),
        ("2026-11-28T07:59:00", "sábado fuera de 8:00-15:00"),
        ("2026-11-30T06:59:00", "fuera de 7:00-19:00 de lunes a viernes"),  # Monday
        ("2026-12-04T19:01:00", "fuera de 7:00-19:00 de lunes a viernes"),  # Friday
        ("2026-11-30T07:00:00", None),
        ("2026-12-04T19:00:00", None),
        ("2026-11-28T08:00:00", None),
        ("2026-11-28T15:00:00", None),
        ("2026-12-09T12:00:00", None),
    ],
)
def test_legal_calling_hours(when: str, why: str | None):
    df = frame(record(7, attempt2=when, cut_at="2026-11-27T09:00:00"))
    report = compute_kpi(df, SETTINGS, NOW, HOLIDAYS)
    if why is None:
        assert report.inconsistency_counts == {}
    else:
        assert report.inconsistency_counts == {"attempt_outside_hours": 1}
        problem = report.inconsistencies[0]
        assert (problem.record_id, problem.agent) == (7, "Ana Gómez")
        assert problem.detail.startswith("Intento 2 el ")
        assert problem.detail.endswith(why)


def test_hours_come_from_the_settings():
    df = frame(record(1, attempt1="2026-11-30T07:30:00", cut_at="2026-11-27T09:00:00"))
    assert rules_of(df, SETTINGS.with_(weekday_hours=(8, 18))) == [(1, "attempt_outside_hours")]


def test_colombian_holidays_come_from_the_holidays_package():
    assert {dt.date(2026, 12, 8), dt.date(2026, 12, 25), dt.date(2026, 7, 20)} <= HOLIDAYS
    assert dt.date(2026, 12, 9) not in HOLIDAYS


def test_one_contact_per_day_only_when_configured():
    df = frame(
        record(
            1,
            attempt1="2026-12-01T09:00:00",
            attempt2="2026-12-02T09:00:00",
            attempt3="2026-12-02T16:00:00",
        ),
        record(2, attempt1="2026-12-01T09:00:00", attempt2="2026-12-02T09:00:00"),
    )
    assert rules_of(df) == []
    on = SETTINGS.with_(one_contact_per_day=True)
    assert rules_of(df, on) == [(1, "same_day_attempts")]
    detail = compute_kpi(df, on, NOW, HOLIDAYS).inconsistencies[0].detail
    assert "02/12/2026" in detail


def test_an_attempt_that_is_not_a_date():
    df = frame(record(1, attempt1="ayer por la tarde"))
    assert rules_of(df) == [(1, "attempt_not_a_date")]


def test_inconsistencies_name_only_the_record_and_the_agent():
    df = frame(
        record(
            1,
            outcome="NO CONTACTO",
            resolution="ESCALADO",
            attempt1="2026-11-29T10:00:00",
            attempt2="nota 3104567890",
            attempt3="2026-12-20T10:00:00",
            cut_at="2026-11-27T09:00:00",
        ),
    )
    settings = SETTINGS.with_(one_contact_per_day=True, min_attempts_no_contact=4)
    report = compute_kpi(df, settings, NOW, HOLIDAYS)
    assert set(report.inconsistency_counts) == {
        "no_contact_attempts",
        "resolution_without_contact",
        "attempt_not_a_date",
        "attempt_in_future",
        "attempt_outside_hours",
    }
    assert set(report.inconsistency_counts) <= set(RULES)
    for problem in report.inconsistencies:
        assert problem.record_id == 1 and problem.agent == "Ana Gómez"
        for secret in ("3104567890", "Paola", "Secreta", "48213377"):
            assert secret not in problem.detail


def test_list_is_capped_but_counts_are_complete():
    df = frame(
        *(
            record(i, attempt1="2026-11-29T10:00:00", cut_at="2026-11-27T09:00:00")
            for i in range(1, 31)
        )
    )
    report = compute_kpi(df, SETTINGS, NOW, HOLIDAYS, max_listed=10)
    assert report.inconsistency_total == 30
    assert len(report.inconsistencies) == 10
    assert report.as_json()["inconsistencies"] == 30


# -- totals and groups --------------------------------------------------------------------------
def mixed_cut() -> pd.DataFrame:
    return frame(
        record(1, **effective("2026-12-01T11:00:00", agent_survey="4")),
        record(2, **effective("2026-12-01T15:00:00", agent_survey="5", segment="movil")),
        record(3, outcome="NO CONTESTA", attempt1="2026-12-01T10:00:00", agent="Bruno Díaz"),
        record(4, agent="Bruno Díaz", due_at="2026-12-20T09:00:00"),  # open, not yet due
        record(5),  # open and overdue
        record(6, agent="", assigned_at="", due_at="", exclusion="cortesia"),
        record(7, agent="", assigned_at="", due_at="", segment="movil"),  # «Sin asignar»
    )


def test_totals_pending_overdue_and_rates():
    report = compute_kpi(mixed_cut(), SETTINGS, NOW, HOLIDAYS)
    payload = report.as_json()
    assert payload["total_records"] == 7  # the no gestionable counts as sent
    assert payload["effective_contacts"] == 2
    assert payload["effective_contact_pct"] == 28.6
    assert payload["manageable_records"] == 6
    assert payload["effective_contact_pct_manageable"] == 33.3
    assert payload["pending"] == 3  # records 4, 5 and the unassigned 7
    # 24 h from the cut's import, assigned or not: records 4, 5 and the unassigned 7
    assert payload["overdue"] == 3
    assert payload["excluded"] == 1
    assert payload["target_pct"] == 80.0 and payload["meets_target"] is False
    outcomes = payload["by_outcome"]
    assert outcomes["CONTACTO EFECTIVO"]["total_records"] == 2
    assert outcomes["SIN RESULTADO"]["total_records"] == 3
    assert outcomes["NO GESTIONABLE"]["total_records"] == 1
    assert sum(v["total_records"] for v in outcomes.values()) == 7
    assert payload["by_segment"]["hogar"] == {
        "total_records": 5,
        "effective_contacts": 1,
        "effective_contact_pct": 20.0,
        "excluded": 1,
        "pending": 2,
        "overdue": 2,
    }
    assert payload["by_cut"]["1"]["total_records"] == 7
    assert list(payload["by_day"]) == ["2026-12-01"]


def test_by_agent_counts_and_averages():
    report = compute_kpi(mixed_cut(), SETTINGS, NOW, HOLIDAYS, agents=["Elena Vargas"])
    ana = report.by_agent["Ana Gómez"]
    assert (ana.total_records, ana.effective_contacts, ana.pending, ana.overdue) == (3, 2, 1, 1)
    assert ana.avg_close_hours == 4.0  # (2 h + 6 h) / 2; the open record does not count
    assert ana.avg_agent_survey == 4.5
    assert ana.pct == 66.7
    bruno = report.by_agent["Bruno Díaz"]
    assert bruno.avg_close_hours == 1.0 and bruno.avg_agent_survey is None
    assert report.by_agent["Elena Vargas"].total_records == 0
    assert "" not in report.by_agent
    assert list(report.by_agent) == ["Ana Gómez", "Bruno Díaz", "Elena Vargas"]


def test_meets_target_and_empty_ledger():
    all_good = frame(*(record(i, **effective()) for i in range(1, 5)))
    report = compute_kpi(all_good, SETTINGS, NOW, HOLIDAYS)
    assert report.meets_target and report.as_json()["effective_contact_pct"] == 100.0
    empty = compute_kpi(frame(record(1)).iloc[0:0], SETTINGS, NOW, HOLIDAYS)
    assert empty.total_records == 0 and empty.as_json()["effective_contact_pct"] == 0.0
    assert not empty.meets_target and empty.by_day == [] and empty.by_agent == {}


def three_days() -> pd.DataFrame:
    return frame(
        record(1, cut_id=1, cut_at="2026-12-01T09:00:00", **effective()),
        record(2, cut_id=1, cut_at="2026-12-01T09:00:00"),
        record(3, cut_id=2, cut_at="2026-12-02T14:00:00", **effective("2026-12-02T15:00:00")),
        record(4, cut_id=3, cut_at="2026-12-02T23:59:59", outcome="NO CONTESTA"),
        record(
            5,
            cut_id=4,
            cut_at="2026-12-03T08:00:00",
            **effective("2026-12-03T09:00:00"),
            archived_at="2026-12-05T08:00:00",
        ),
    )


@pytest.mark.parametrize(
    ("desde", "hasta", "ids", "days"),
    [
        (None, None, 5, ["2026-12-01", "2026-12-02", "2026-12-03"]),
        (dt.date(2026, 12, 2), None, 3, ["2026-12-02", "2026-12-03"]),
        (None, dt.date(2026, 12, 2), 4, ["2026-12-01", "2026-12-02"]),
        (dt.date(2026, 12, 2), dt.date(2026, 12, 2), 2, ["2026-12-02"]),
        (dt.date(2026, 12, 4), None, 0, []),
    ],
)
def test_desde_hasta_filter_on_the_cut_import_day(desde, hasta, ids, days):
    report = compute_kpi(three_days(), SETTINGS, NOW, HOLIDAYS, desde=desde, hasta=hasta)
    assert report.total_records == ids
    assert [d.day.isoformat() for d in report.by_day] == days
    assert sum(c.total_records for c in report.by_cut) == ids


def test_by_day_rates():
    report = compute_kpi(three_days(), SETTINGS, NOW, HOLIDAYS)
    rates = {d.day.isoformat(): d.pct for d in report.by_day}
    assert rates == {"2026-12-01": 50.0, "2026-12-02": 50.0, "2026-12-03": 100.0}


def test_period_start_keeps_live_records_and_archived_ones_of_the_period():
    df = frame(
        record(1, cut_at="2026-11-20T09:00:00", archived_at="2026-11-22T09:00:00"),
        record(2, cut_at="2026-11-20T09:00:00"),  # still on a sheet
        record(3, cut_at="2026-12-02T09:00:00", archived_at="2026-12-03T09:00:00"),
    )
    settings = SETTINGS.with_(period_start=dt.date(2026, 12, 1))
    assert kpi_scope(df, settings.period_start).tolist() == [False, True, True]
    assert compute_kpi(df, settings, NOW, HOLIDAYS).total_records == 2
    assert kpi_scope(df, None).all()


def test_parse_day_accepts_spanish_and_iso_dates():
    assert parse_day("01/12/2026") == dt.date(2026, 12, 1)
    assert parse_day("2026-12-01") == dt.date(2026, 12, 1)
    assert parse_day(None) is None
    with pytest.raises(InputError, match="dd/mm/aaaa"):
        parse_day("31/02/2026")


# -- times that mean something (issue 10, item 4) ------------------------------------------------
def test_management_time_is_the_latest_attempt_and_late_closes_are_counted():
    df = frame(
        # assigned a day after the import: the clock still started at the import
        record(
            1,
            assigned_at="2026-12-02T09:00:00",
            outcome="NO CONTACTO",
            attempt1="2026-12-01T10:00:00",
            attempt2="2026-12-01T15:00:00",
            attempt3="2026-12-03T09:00:00",  # 48 h after the import: late
        ),
        record(2, **effective("2026-12-01T13:00:00")),  # 4 h
        record(3, agent="", assigned_at="", due_at=""),  # «Sin asignar», overdue too
    )
    report = compute_kpi(df, SETTINGS, NOW, HOLIDAYS)
    assert report.closed_late == 1
    assert report.as_json()["closed_late"] == 1
    assert report.by_agent["Ana Gómez"].avg_close_hours == 26.0  # (48 h + 4 h) / 2
    assert report.overdue == 1 and report.pending == 1
    assert compute_kpi(df, SETTINGS.with_(due_hours=72), NOW, HOLIDAYS).closed_late == 0


# -- which base the target is measured on (issue 10, item 9) -------------------------------------
def test_base_meta_decides_meets_target_and_both_figures_are_shown():
    df = frame(
        *(record(i, **effective()) for i in range(1, 5)),
        record(5, agent="", assigned_at="", due_at="", exclusion="pymes"),
    )
    sent = compute_kpi(df, SETTINGS, NOW, HOLIDAYS)  # 4 / 5 = 80 %, 4 / 4 = 100 %
    assert sent.meets_target and sent.target_base == "enviados"
    strict = SETTINGS.with_(target=0.9)
    assert not compute_kpi(df, strict, NOW, HOLIDAYS).meets_target
    manageable = compute_kpi(df, strict.with_(target_base="gestionables"), NOW, HOLIDAYS)
    payload = manageable.as_json()
    assert payload["meets_target"] is True
    assert payload["target_base"] == "gestionables"
    assert payload["meets_target_by_base"] == {"enviados": False, "gestionables": True}
    assert payload["effective_contact_pct"] == 80.0
    assert payload["effective_contact_pct_manageable"] == 100.0


def test_base_meta_is_read_from_config_and_checked():
    from swat_xl.core.config import settings_from_rows, settings_to_rows
    from swat_xl.errors import ConfigError

    assert settings_from_rows([("base_meta", " Gestionables ")]).target_base == "gestionables"
    assert settings_from_rows([]).target_base == "enviados"
    assert ("base_meta", "enviados") in [(k, v) for k, v, _ in settings_to_rows(SETTINGS)]
    with pytest.raises(ConfigError, match="enviados"):
        settings_from_rows([("base_meta", "todos")])
