"""The sample generator: deterministic files whose ground truth is internally consistent.

These tests check the generator against its own promises and against the files it writes,
never against swat_xl.core.rules (the import end-to-end tests do that).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from swat_xl.core.fields import AliasMap
from swat_xl.core.model import EXCLUSION_REASONS
from swat_xl.demo import sample
from swat_xl.demo.sample import (
    ALLY_SPELLINGS,
    DEFAULT_START,
    FORMULA_LIKE_REASONS,
    HEADER_VARIANTS,
    OTHER_ALLIES,
    TRUNCATION_NOTE,
    GroundTruth,
    header_columns,
    make_export,
    make_roster,
)


def _read(path: Path, *, encoding: str = "utf-8-sig", delimiter: str = ";") -> list[list[Any]]:
    """Every row of the file (xlsx: typed values, None for empty; csv: text)."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def _blank(row: list[Any]) -> bool:
    return all(value in (None, "") for value in row)


def _data(rows: list[list[Any]], truth: GroundTruth) -> list[list[Any]]:
    """Rows between the header and the first blank row (the footer starts with one)."""
    out = []
    for row in rows[truth.header_row + 1 :]:
        if _blank(row):
            break
        out.append(row)
    return out


def _column(rows: list[list[Any]], truth: GroundTruth, field: str) -> list[Any]:
    labels = {name: label for label, name in header_columns_for(truth)}
    index = truth.header.index(labels[field])
    return [row[index] for row in rows]


def header_columns_for(truth: GroundTruth) -> list[tuple[str, str]]:
    for variant in HEADER_VARIANTS:
        columns = header_columns(variant, with_survey_id=truth.has_survey_id)
        if [label for label, _ in columns] == truth.header:
            return columns
    raise AssertionError(f"unknown header {truth.header}")


# --- determinism ---------------------------------------------------------------------------


def test_csv_same_seed_same_bytes(tmp_path: Path):
    one = make_export(tmp_path / "a.csv", rows=300, seed=3, title_rows=True)
    two = make_export(tmp_path / "b.csv", rows=300, seed=3, title_rows=True)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert one == two
    make_export(tmp_path / "c.csv", rows=300, seed=4, title_rows=True)
    assert (tmp_path / "c.csv").read_bytes() != (tmp_path / "a.csv").read_bytes()


def test_xlsx_same_seed_same_truth_and_bytes(tmp_path: Path):
    one = make_export(tmp_path / "a.xlsx", rows=300, seed=3)
    two = make_export(tmp_path / "b.xlsx", rows=300, seed=3)
    assert one == two
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert make_export(tmp_path / "c.xlsx", rows=300, seed=4) != one


def test_same_seed_same_surveys_in_csv_and_xlsx(tmp_path: Path):
    as_csv = make_export(tmp_path / "a.csv", rows=200, seed=8)
    as_xlsx = make_export(tmp_path / "a.xlsx", rows=200, seed=8)
    assert as_csv.keys == as_xlsx.keys
    assert as_csv.by_segment == as_xlsx.by_segment and as_csv.excluded == as_xlsx.excluded


# --- files round-trip ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("variant", HEADER_VARIANTS)
def test_every_header_variant_round_trips(tmp_path: Path, variant: str, suffix: str):
    path = tmp_path / f"data{suffix}"
    truth = make_export(path, rows=120, seed=2, header_variant=variant)
    rows = _read(path)
    assert truth.header_row == 0
    assert [str(v) for v in rows[0]] == truth.header
    assert truth.header == [label for label, _ in header_columns(variant)]
    data = _data(rows, truth)
    assert len(data) == truth.rows_read == 120
    assert ("ID_ENCUESTA" in truth.header) == (variant == "standard")
    assert truth.has_survey_id == (variant != "no_id")
    footer = rows[truth.header_row + 1 + len(data) :]
    assert _blank(footer[0])
    assert footer[1][0] == "Total" and int(footer[1][1]) == 120
    assert any(str(row[0]).startswith("Filtros aplicados:\n") for row in footer)


@pytest.mark.parametrize("variant", HEADER_VARIANTS)
def test_headers_resolve_to_canonical_fields(variant: str):
    columns = header_columns(variant)
    mapping = AliasMap().map_header([label for label, _ in columns])
    for index, (label, name) in enumerate(columns):
        if name.startswith("x_"):
            assert index not in mapping, f"extra column {label} must not map to a field"
        else:
            assert mapping.get(index) == name, label
    extras = [name for _, name in columns if name.startswith("x_")]
    assert 2 <= len(extras) <= 4
    assert ("survey_id" in mapping.values()) == (variant != "no_id")


def test_without_survey_id_drops_the_column(tmp_path: Path):
    truth = make_export(tmp_path / "d.csv", rows=100, seed=1, with_survey_id=False)
    assert "ID_ENCUESTA" not in truth.header and not truth.has_survey_id
    assert all(key.startswith("K:") for key in truth.keys)
    assert all(survey["survey_id"] == "" for survey in truth.surveys)


def test_title_rows_and_footer_options(tmp_path: Path):
    path = tmp_path / "t.xlsx"
    truth = make_export(path, rows=60, seed=5, title_rows=True, truncated=True)
    rows = _read(path)
    assert truth.header_row in (2, 3) and truth.truncated
    assert rows[0][0] == "Detractores SWAT - corte 29/11/2026 08:00"
    assert _blank(rows[truth.header_row - 1])
    assert rows[truth.header_row][:2] == ["ID_ENCUESTA", "FECHA_ENCUESTA"]
    assert rows[-1][0] == TRUNCATION_NOTE

    plain = tmp_path / "p.csv"
    truth = make_export(plain, rows=60, seed=5, footer=False, truncated=False)
    rows = _read(plain)
    assert len(rows) == 1 + 60 and not truth.truncated

    notes = {make_export(tmp_path / f"s{s}.csv", rows=5, seed=s).truncated for s in range(12)}
    assert notes == {True, False}  # seed-driven when not chosen


def test_csv_encoding_and_delimiter(tmp_path: Path):
    path = tmp_path / "latin.csv"
    truth = make_export(path, rows=200, seed=6, encoding="cp1252", delimiter=",")
    rows = _read(path, encoding="cp1252", delimiter=",")
    assert rows[0] == truth.header
    assert len(_data(rows, truth)) == truth.rows_read
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert make_export(tmp_path / "bom.csv", rows=5, seed=6) and (
        (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    )


# --- values --------------------------------------------------------------------------------


def test_xlsx_cell_types(tmp_path: Path):
    path = tmp_path / "types.xlsx"
    truth = make_export(path, rows=400, seed=7)
    data = _data(_read(path), truth)
    fields = ("survey_id", "survey_date", "account", "custcode", "ani", "score")
    types = {f: Counter(type(v).__name__ for v in _column(data, truth, f) if v) for f in fields}
    assert set(types["survey_id"]) == {"str"}
    assert set(types["survey_date"]) == {"datetime"}
    assert set(types["account"]) == {"int", "str"}
    assert types["custcode"]["str"] > types["custcode"]["float"] > 0
    assert set(types["ani"]) == {"int", "str"}
    assert set(types["score"]) == {"int"}
    ids = _column(data, truth, "survey_id")
    assert all(re.fullmatch(r"0\d{9}", v) for v in ids)
    assert any(re.fullmatch(r"\d\.\d{8}", v) for v in _column(data, truth, "custcode") if v)
    reasons = _column(data, truth, "reason")
    assert set(FORMULA_LIKE_REASONS) <= set(reasons)  # stored as text, not formulas
    book = openpyxl.load_workbook(path)
    cells = [
        c for row in book.worksheets[0].iter_rows() for c in row if c.value in FORMULA_LIKE_REASONS
    ]
    assert cells and all(c.data_type == "s" for c in cells)
    assert all(
        isinstance(v, str) and 20 <= len(v) <= 200 for v in reasons if v not in FORMULA_LIKE_REASONS
    )


def test_csv_values_look_like_power_bi(tmp_path: Path):
    path = tmp_path / "values.csv"
    truth = make_export(path, rows=400, seed=7)
    data = _data(_read(path), truth)
    assert all(
        re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", v)
        for v in _column(data, truth, "survey_date")
    )
    anis = _column(data, truth, "ani")
    assert any(re.fullmatch(r"\+57 \d{3} \d{3} \d{4}", v) for v in anis)
    assert any(re.fullmatch(r"57\d{10}", v) for v in anis)
    assert any(re.fullmatch(r"\d{10}", v) for v in anis)
    assert {int(v) for v in _column(data, truth, "score")} <= set(range(7))


def test_surveys_hold_canonical_values(tmp_path: Path):
    start = dt.datetime(2026, 12, 3, 9, 30, 45)
    truth = make_export(tmp_path / "c.csv", rows=400, seed=9, start=start)
    low, high = start.replace(second=0) - dt.timedelta(days=2), start.replace(second=0)
    for survey in truth.surveys:
        assert survey["ally"] in ALLY_SPELLINGS
        assert low <= survey["survey_date"] < high and survey["survey_date"].second == 0
        assert re.fullmatch(r"\d{10}", survey["ani"])
        if survey["segment"] == "hogar":
            assert re.fullmatch(r"[1-9]\d{5,8}", survey["account"]) and survey["custcode"] == ""
        else:
            assert re.fullmatch(r"\d\.\d{7}[1-9]", survey["custcode"]) and survey["account"] == ""
        assert survey["key"] == f"E:{survey['survey_id']}"
    assert [s["key"] for s in truth.surveys] == truth.keys
    names = " ".join(s["customer_name"] for s in truth.surveys)
    assert re.search(r"[ÁÉÍÓÚÑáéíóúñ]", names)


# --- ground truth --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ground_truth_is_consistent(tmp_path: Path, seed: int):
    truth = make_export(tmp_path / "g.xlsx", rows=400, seed=seed)
    assert truth.rows_read == 400
    assert truth.new_records == truth.ally_rows - truth.duplicate_rows
    assert sum(truth.by_segment.values()) == truth.new_records
    assert set(truth.by_segment) == {"hogar", "movil"} and min(truth.by_segment.values()) > 0
    assert tuple(truth.excluded) == sample.EXCLUSION_ORDER == EXCLUSION_REASONS
    assert all(count >= 3 for count in truth.excluded.values()), truth.excluded
    assert sum(truth.excluded.values()) < truth.new_records / 3
    assert len(truth.keys) == len(set(truth.keys)) == len(truth.surveys) == truth.new_records
    assert 0.5 <= truth.ally_rows / truth.rows_read <= 0.7
    assert truth.duplicate_rows > 0  # in-file repeats even without previous cuts
    by_segment = Counter(s["segment"] for s in truth.surveys)
    assert dict(by_segment) == truth.by_segment
    excluded = Counter(s["exclusion"] for s in truth.surveys if s["exclusion"])
    assert {k: excluded[k] for k in truth.excluded} == truth.excluded


def test_file_agrees_with_ground_truth(tmp_path: Path):
    """Recount the written csv by survey id (ally spellings are known): same answers."""
    path = tmp_path / "f.csv"
    truth = make_export(path, rows=400, seed=11)
    data = _data(_read(path), truth)
    allies = _column(data, truth, "ally")
    ids = _column(data, truth, "survey_id")
    assert set(allies) == set(ALLY_SPELLINGS) | set(OTHER_ALLIES)
    ally_ids = [i for a, i in zip(allies, ids, strict=True) if a in ALLY_SPELLINGS]
    assert len(ally_ids) == truth.ally_rows
    assert [f"E:{i}" for i in dict.fromkeys(ally_ids)] == truth.keys
    other_ids = Counter(i for a, i in zip(allies, ids, strict=True) if a not in ALLY_SPELLINGS)
    assert any(n > 1 for n in other_ids.values())  # non-ally duplicates exist, uncounted
    repeated_rows = Counter(tuple(row) for row in data)
    assert any(n > 1 for n in repeated_rows.values())  # exact repeated rows


def test_exclusion_overlaps_count_under_the_first(tmp_path: Path):
    truth = make_export(tmp_path / "o.csv", rows=400, seed=1)
    status_kind = {"cancelado": "cancelado", "cancelado debe": "cancelado_debe"}
    overlaps = 0
    for survey in truth.surveys:
        kinds = []
        kind = survey["customer_type"].upper().replace("Í", "I")
        if "CORTESIA" in kind:
            kinds.append("cortesia")
        if "PYME" in kind:
            kinds.append("pymes")
        status = status_kind.get(survey["account_status"].lower())
        if status:
            kinds.append(status)
        request = survey["cancellation_request"]
        if request in ("SI", "Sí", "X") or re.fullmatch(r"\d{2}/\d{2}/\d{4}", request):
            kinds.append("solicitud_cancelacion")
        assert survey["exclusion"] == (kinds[0] if kinds else ""), survey
        overlaps += len(kinds) > 1
    assert overlaps >= 3


def test_blank_segments_can_be_inferred(tmp_path: Path):
    truth = make_export(tmp_path / "b.csv", rows=400, seed=1)
    blank = [s for s in truth.surveys if s["segment_text"] == ""]
    assert {s["segment"] for s in blank} == {"hogar", "movil"}
    for survey in blank:
        assert bool(survey["account"]) == (survey["segment"] == "hogar")
        assert bool(survey["custcode"]) == (survey["segment"] == "movil")


def test_second_cut_counts_repeats_from_previous(tmp_path: Path):
    first = make_export(tmp_path / "1.csv", rows=300, seed=21)
    second = make_export(
        tmp_path / "2.csv",
        rows=250,
        seed=22,
        previous=[first],
        repeat_from_previous=30,
        start=DEFAULT_START + dt.timedelta(hours=6),
    )
    assert second.rows_read == 250
    assert not set(second.keys) & set(first.keys)
    data = _data(_read(tmp_path / "2.csv"), second)
    ids = {f"E:{i}" for i in _column(data, second, "survey_id")}
    repeated = ids & set(first.keys)
    assert len(repeated) == 30
    assert second.duplicate_rows > 30  # plus this file's own repeats
    assert second.new_records == second.ally_rows - second.duplicate_rows

    third = make_export(
        tmp_path / "4.csv", rows=100, seed=23, previous=[first, second], repeat_from_previous=100
    )
    assert third.ally_rows == third.duplicate_rows == 100 and third.new_records == 0
    assert third.keys == [] and sum(third.by_segment.values()) == 0


def test_no_id_keys_are_composites(tmp_path: Path):
    first = make_export(tmp_path / "1.xlsx", rows=300, seed=31, header_variant="no_id")
    pattern = re.compile(r"K:(hogar|movil)\|[0-9.]+\|\d{10}\|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
    assert all(pattern.fullmatch(key) for key in first.keys)
    for survey in first.surveys:
        code = survey["account"] or survey["custcode"]
        stamp = survey["survey_date"].strftime("%Y-%m-%dT%H:%M")
        assert survey["key"] == f"K:{survey['segment']}|{code}|{survey['ani']}|{stamp}"
    assert first.duplicate_rows > 0
    second = make_export(
        tmp_path / "2.xlsx",
        rows=200,
        seed=32,
        header_variant="no_id",
        previous=[first],
        repeat_from_previous=25,
    )
    assert second.duplicate_rows >= 25 and not set(second.keys) & set(first.keys)
    with pytest.raises(ValueError, match="id de encuesta"):
        make_export(tmp_path / "3.xlsx", rows=50, seed=33, previous=[first], repeat_from_previous=5)


def test_repeat_customers_are_new_records(tmp_path: Path):
    truth = make_export(tmp_path / "r.csv", rows=3000, seed=4)
    customers = Counter((s["account"] or s["custcode"], s["ani"]) for s in truth.surveys)
    assert any(n > 1 for n in customers.values())


# --- fast xlsx path, arguments, roster ------------------------------------------------------


def test_fast_xlsx_path_matches_cell_by_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(sample, "_FAST_XLSX_MIN_ROWS", 0)
    fast = make_export(tmp_path / "fast.xlsx", rows=300, seed=12, title_rows=True, truncated=True)
    monkeypatch.setattr(sample, "_FAST_XLSX_MIN_ROWS", 10**9)
    plain = make_export(tmp_path / "plain.xlsx", rows=300, seed=12, title_rows=True, truncated=True)
    assert fast == plain
    assert _read(tmp_path / "fast.xlsx") == _read(tmp_path / "plain.xlsx")
    # title, header, data, blank, Total, blank, filters, truncation note
    last = fast.header_row + 1 + 300 + 5
    for name in ("fast.xlsx", "plain.xlsx"):
        book = openpyxl.load_workbook(tmp_path / name, read_only=True)
        assert book.worksheets[0].calculate_dimension() == f"A1:Q{last}"
        book.close()


def test_bad_arguments_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="Variante"):
        make_export(tmp_path / "x.csv", header_variant="nope")
    with pytest.raises(ValueError, match="Formato"):
        make_export(tmp_path / "x.txt")
    with pytest.raises(ValueError, match="repetidas"):
        make_export(tmp_path / "x.csv", rows=10, repeat_from_previous=5)
    small = make_export(tmp_path / "s.csv", rows=5, seed=1)
    with pytest.raises(ValueError, match="solo tienen"):
        make_export(tmp_path / "x.csv", rows=50, previous=[small], repeat_from_previous=40)


@pytest.mark.parametrize("rows", [1, 2, 19, 40])
def test_tiny_exports(tmp_path: Path, rows: int):
    truth = make_export(tmp_path / "tiny.xlsx", rows=rows, seed=rows)
    assert truth.rows_read == rows == len(_data(_read(tmp_path / "tiny.xlsx"), truth))
    assert truth.new_records == truth.ally_rows - truth.duplicate_rows


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_roster(tmp_path: Path, suffix: str):
    path = tmp_path / f"asesores{suffix}"
    roster = make_roster(path, agents=6, seed=3)
    assert roster == make_roster(tmp_path / f"again{suffix}", agents=6, seed=3)
    rows = _read(path)
    assert rows[0] == ["Asesor", "Perfil", "Activo", "Capacidad"]
    assert len(rows) == 7 and len({r["Asesor"] for r in roster}) == 6
    assert {r["Perfil"] for r in roster} == {"Hogar", "Móvil", "Ambos"}
    assert [r["Activo"] for r in roster].count("No") == 1
    capacities = [r["Capacidad"] for r in roster]
    assert None in capacities and any(isinstance(c, int) for c in capacities)
    for row, agent in zip(rows[1:], roster, strict=True):
        capacity = row[3]
        if agent["Capacidad"] is None:
            assert capacity in (None, "")
        else:
            assert int(capacity) == agent["Capacidad"]
    few = make_roster(tmp_path / f"few{suffix}", agents=3, seed=1)
    assert all(r["Activo"] == "Sí" for r in few)


def _agent_book(path: Path, assigned: list[dt.datetime]) -> None:
    """An agent's workbook as ``agents-export`` writes it, reduced to the columns the
    simulated agent reads and marks: one open record per assignment time."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Asesora"
    attempts = [f"Intento {n}" for n in (1, 2, 3)]
    ws.append(["ID", "Asignado", *attempts, "Resultado", "Solución", "OT / LLS", "Encuesta asesor"])
    for number, when in enumerate(assigned, start=1):
        ws.append([number, when])
    book.save(path)


def _simulated_day(
    folder: Path, assigned: list[dt.datetime], now: dt.datetime, holidays: set[dt.date]
) -> tuple[int, list[tuple[dt.datetime, list[dt.datetime]]]]:
    """The records assigned at ``assigned`` worked from ``now`` to 18:30 that day (every one
    of them, ``share=1``): how many were marked, and each marked one's assignment and
    attempts."""
    folder.mkdir()
    _agent_book(folder / "Asesora.xlsx", assigned)
    until = now.replace(hour=18, minute=30)
    marked = sample.simulate_agent_day(
        folder, seed=3, now=now, share=1.0, until=until, holidays=holidays
    )
    calls = []
    book = openpyxl.load_workbook(folder / "Asesora.xlsx")
    for _id, when, *rest in book.active.iter_rows(min_row=2, values_only=True):
        attempts = [a for a in rest[:3] if a is not None]
        assert bool(attempts) == bool(rest[3])  # an outcome with its attempts, or nothing
        if attempts:
            calls.append((when, attempts))
    assert marked == len(calls)
    for when, attempts in calls:
        day = attempts[0].date()
        opens, closes = (8, 15) if day.weekday() == 5 else (7, 19)
        for attempt in attempts:
            assert attempt.date() == now.date()
            assert attempt >= max(when, now)
            assert dt.datetime.combine(day, dt.time(opens)) <= attempt
            assert attempt <= min(dt.datetime.combine(day, dt.time(closes)), until)
    return marked, calls


def test_simulated_calls_follow_the_assignment_and_the_legal_hours(tmp_path: Path):
    """Agents call a record after it was assigned to them, from ``now`` on, within the legal
    hours of the day (Monday-Friday 7-19, Saturday 8-15), never on a Sunday or a holiday, and
    not after the workbooks are collected (``until``); what has no room that day stays open."""
    friday = dt.datetime(2026, 11, 27)
    saturday, sunday, holiday = (friday + dt.timedelta(days=n) for n in (1, 2, -11))
    holidays = {holiday.date()}  # Monday 16 November 2026, a national holiday in Colombia

    # A Friday: every cut, the 17:00 one too, and a record left open since the holiday.
    cuts = [friday.replace(hour=h) for h in (8, 11, 14, 17)] * 30 + [holiday.replace(hour=9)]
    marked, calls = _simulated_day(tmp_path / "viernes", cuts, friday.replace(hour=8), holidays)
    assert marked == len(cuts)
    assert any(when.hour == 17 for when, _ in calls) and any(
        when == holiday.replace(hour=9) for when, _ in calls
    )

    # A Saturday (8-15): the morning cuts are called, the 14:00 one when its attempts fit
    # before 15:00, the 17:00 one waits for Monday.
    cuts = [saturday.replace(hour=h) for h in (8, 11, 14, 17)] * 30
    marked, calls = _simulated_day(tmp_path / "sabado", cuts, saturday.replace(hour=8), holidays)
    hours = Counter(when.hour for when, _ in calls)
    assert hours[8] == hours[11] == 30 and 0 < hours[14] < 30 and hours[17] == 0

    # Nobody calls on a Sunday nor on a holiday.
    for name, day in (("domingo", sunday), ("festivo", holiday)):
        cuts = [day.replace(hour=h) for h in (8, 11)] * 10
        assert _simulated_day(tmp_path / name, cuts, day.replace(hour=8), holidays) == (0, [])
