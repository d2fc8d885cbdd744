"""The indicator in parts: the report made of the parts of any split of the records is the
report of all of them, also after a part went through JSON (the ledger keeps the archived
records' part that way)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swat_xl.core.config import Settings
from swat_xl.core.kpi import (
    KpiPart,
    compute_kpi,
    kpi_from_parts,
    kpi_part,
    kpi_scope,
    live_parts,
)
from tests.unit.test_kpi import HOLIDAYS, NOW, frame, record

TIMES = (
    "",
    "2026-12-01T07:30:00",  # before the legal hours
    "2026-12-01T11:00:00",
    "2026-12-02T15:45:10",
    "2026-12-06T10:00:00",  # a Sunday
    "2026-12-08T10:00:00",  # a holiday
    "2026-12-20T10:00:00",  # after NOW
    "mañana",  # not a date
)
CUTS = ("2026-12-01T09:00:00", "2026-12-02T14:00:00", "2026-11-20T08:00:00")

records_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "cut_id": st.sampled_from([1, 2, 3]),
            "segment": st.sampled_from(["hogar", "movil", ""]),
            "exclusion": st.sampled_from(["", "", "Cortesía"]),
            "agent": st.sampled_from(["", "Ana Gómez", "Beto Ruiz", "beto ruiz", "Sin asignar"]),
            "attempt1": st.sampled_from(TIMES),
            "attempt2": st.sampled_from(TIMES),
            "attempt3": st.sampled_from(TIMES),
            "outcome": st.sampled_from(
                ["", "CONTACTO EFECTIVO", "NO CONTESTA", "NO CONTACTO", "contacto efectivo", "xx"]
            ),
            "resolution": st.sampled_from(["", "ESCALADO", "VISITA TÉCNICA", "otra"]),
            "order_number": st.sampled_from(["", "OT-123"]),
            "agent_survey": st.sampled_from(["", "4", "4,5", "5", "0.1", "0.2", "x"]),
            "archived_at": st.sampled_from(["", "", "2026-12-05T18:00:00"]),
        }
    ),
    max_size=40,
)


def _frame(rows: list[dict]) -> pd.DataFrame:
    made = [record(i + 1, cut_at=CUTS[row["cut_id"] - 1], **row) for i, row in enumerate(rows)]
    return frame(*made) if made else frame(record(1)).iloc[:0]


def _through_json(part: KpiPart) -> KpiPart:
    return KpiPart.from_json(json.loads(json.dumps(part.as_json())))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=records_strategy,
    split=st.lists(st.booleans(), min_size=40, max_size=40),
    listed=st.sampled_from([1, 3, 1000]),
    one_a_day=st.booleans(),
    period=st.booleans(),
)
def test_the_parts_of_any_split_report_what_all_the_records_do(
    rows, split, listed, one_a_day, period
):
    options = Settings(one_contact_per_day=one_a_day)
    if period:
        options = options.with_(period_start=dt.date(2026, 12, 1))
    records = _frame(rows)
    whole = compute_kpi(
        records, options, NOW, HOLIDAYS, agents=["Ana Gómez", "Carla"], max_listed=listed
    )

    scoped = (
        records[kpi_scope(records, options.period_start).to_numpy()] if len(records) else records
    )
    mask = np.array(split[: len(scoped)], dtype=bool)
    left, right = scoped.iloc[np.flatnonzero(mask)], scoped.iloc[np.flatnonzero(~mask)]
    parts = [
        _through_json(kpi_part(side, options, NOW, HOLIDAYS, listed=listed))
        for side in (left, right)
    ]
    assert kpi_from_parts(parts, options, NOW, agents=["Ana Gómez", "Carla"]) == whole


def test_a_part_knows_for_how_long_it_holds():
    """From the latest attempt not after ``now`` until the earliest after it: in between, the
    same attempts are ahead of the clock (the «Intento en el futuro» rule), so the part counted
    at any time in between is the same."""
    ahead = dt.datetime(2027, 12, 3, 10, 0)  # next year's date typed by mistake
    records = frame(
        record(1, attempt1="2026-12-01T11:00:00"),
        record(2, attempt2="2026-12-03T16:30:00", attempt1="mañana"),
        record(3, attempt1="2026-12-02T09:00:00", attempt2=ahead.isoformat()),
        record(4),
    )
    part = kpi_part(records, Settings(), NOW, HOLIDAYS)

    def moment(us: int | None) -> dt.datetime | None:
        return None if us is None else dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=us)

    assert moment(part.holds_from) == dt.datetime(2026, 12, 3, 16, 30)
    assert moment(part.holds_until) == ahead
    for when in (dt.datetime(2026, 12, 3, 16, 30), NOW, ahead - dt.timedelta(microseconds=1)):
        assert part.holds_at(when)
        assert _through_json(kpi_part(records, Settings(), when, HOLIDAYS)) == part
    for when in (dt.datetime(2026, 12, 3, 16, 29), ahead):
        assert not part.holds_at(when)
        assert kpi_part(records, Settings(), when, HOLIDAYS).problem_counts != part.problem_counts
    without = kpi_part(records.iloc[3:], Settings(), NOW, HOLIDAYS)
    assert without.holds_from is None and without.holds_until is None
    assert without.holds_at(dt.datetime(1990, 1, 1)) and without.holds_at(ahead)


def test_means_are_those_of_all_the_records():
    records = frame(
        record(
            1,
            outcome="CONTACTO EFECTIVO",
            resolution="ESCALADO",
            attempt1="2026-12-01T10:30:00",
            agent_survey="4",
        ),
        record(
            2,
            outcome="CONTACTO EFECTIVO",
            resolution="ESCALADO",
            attempt1="2026-12-01T12:00:00",
            agent_survey="5",
        ),
        record(3, agent_survey="x"),
    )
    report = compute_kpi(records, Settings(), NOW, HOLIDAYS)
    ana = report.by_agent["Ana Gómez"]
    assert ana.avg_close_hours == 2.2  # (1.5 h + 3 h) / 2 = 2.25
    assert ana.avg_agent_survey == 4.5


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=records_strategy, period=st.booleans())
def test_the_live_formulas_constants_from_the_archived_part_are_those_of_every_record(rows, period):
    options = Settings()
    if period:
        options = options.with_(period_start=dt.date(2026, 12, 1))
    records = _frame(rows)
    archived = records["archived_at"].notna().to_numpy() if len(records) else np.zeros(0, bool)
    scope = kpi_scope(records, options.period_start).to_numpy() if len(records) else archived
    part = kpi_part(records.iloc[np.flatnonzero(archived & scope)], options, NOW, HOLIDAYS)
    live = records.iloc[np.flatnonzero(~archived)]
    every = live_parts(records, options.period_start, "Sin asignar", options)
    assert live_parts(live, options.period_start, "Sin asignar", options, part) == every
