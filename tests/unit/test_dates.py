"""The one date parser: every style a person types, formatted from a datetime and read back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from swat_xl.core.dates import (
    NotADate,
    parse_date,
    parse_datetime,
    parse_datetime_column,
    understood,
)

MERIDIEMS = {
    "am": ("a. m.", "a.m.", "am", "AM", "a.m", "A. M."),
    "pm": ("p. m.", "p.m.", "pm", "PM"),
}


def _twelve(when: dt.datetime, variant: int, seconds: bool = False) -> str:
    """The time on a 12-hour clock with one of the ways people write a. m. / p. m."""
    half = "am" if when.hour < 12 else "pm"
    meridiem = MERIDIEMS[half][variant % len(MERIDIEMS[half])]
    hour = when.hour % 12 or 12
    if seconds:  # zero-padded, with no space before a. m.
        return f"{hour:02d}:{when:%M:%S}{meridiem}"
    return f"{hour}:{when:%M} {meridiem}"


# Each style: how a person writes the datetime, and what of it the text keeps.
Style = Callable[[dt.datetime, int], str]
STYLES: dict[str, tuple[Style, str]] = {
    "dd/mm/aaaa hh:mm": (lambda w, _: f"{w:%d/%m/%Y %H:%M}", "minute"),
    "d/m/aaaa h:mm": (lambda w, _: f"{w.day}/{w.month}/{w.year} {w.hour}:{w:%M}", "minute"),
    "d/m/aa hh:mm": (lambda w, _: f"{w.day}/{w.month}/{w:%y} {w:%H:%M}", "minute"),
    "dd-mm-aaaa": (lambda w, _: f"{w:%d-%m-%Y}", "day"),
    "d.m.aaaa": (lambda w, _: f"{w.day}.{w.month}.{w.year}", "day"),
    "dd/mm/aaaa hh:mm:ss": (lambda w, _: f"{w:%d/%m/%Y %H:%M:%S}", "second"),
    "dd/mm/aaaa h:mm a. m.": (lambda w, i: f"{w:%d/%m/%Y} {_twelve(w, i)}", "minute"),
    "dd/mm/aaaa hh:mm:ssa.m.": (
        lambda w, i: f"{w:%d/%m/%Y} {_twelve(w, i, seconds=True)}",
        "second",
    ),
    "ISO con T": (lambda w, _: f"{w:%Y-%m-%dT%H:%M}", "minute"),
    "ISO con segundos": (lambda w, _: f"{w:%Y-%m-%d %H:%M:%S}", "second"),
    "ISO con T y segundos": (lambda w, _: w.isoformat(timespec="seconds"), "second"),
    "ISO día": (lambda w, _: f"{w:%Y-%m-%d}", "day"),
    "con espacios de más": (lambda w, _: f"  {w:%d/%m/%Y}   {w:%H:%M}\u00a0", "minute"),
}


def _kept(when: dt.datetime, precision: str) -> dt.datetime:
    if precision == "day":
        return when.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "minute":
        return when.replace(second=0, microsecond=0)
    return when.replace(microsecond=0)


# Two-digit years are read as 1970-2069: the property stays in the years a record can have.
moments = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2069, 12, 31))


@given(when=moments, style=st.sampled_from(sorted(STYLES)), variant=st.integers(0, 9))
def test_every_style_reads_back_the_datetime_it_was_written_from(when, style, variant):
    write, precision = STYLES[style]
    text = write(when, variant)
    assert parse_datetime(text) == _kept(when, precision), text
    assert parse_date(text) == when.date()
    assert understood(text)


@given(when=moments)
def test_excel_serial_numbers_read_back_to_the_millisecond(when):
    serial = (when - dt.datetime(1899, 12, 30)) / dt.timedelta(days=1)
    parsed = parse_datetime(serial)
    assert parsed is not None
    assert abs(parsed - when) <= dt.timedelta(milliseconds=1)


@given(when=moments)
def test_objects_from_the_readers_pass_through(when):
    assert parse_datetime(when) == when
    assert parse_datetime(pd.Timestamp(when)) == when
    assert parse_datetime(np.datetime64(when, "us")) == when
    assert parse_datetime(when.replace(tzinfo=dt.UTC)) == when  # wall time kept
    assert parse_datetime(when.date()) == dt.datetime.combine(when.date(), dt.time())
    assert parse_date(when.date()) == when.date()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("02/12/2026 9:05 a. m.", dt.datetime(2026, 12, 2, 9, 5)),
        ("2/12/26 21:05", dt.datetime(2026, 12, 2, 21, 5)),
        ("2-12-2026", dt.datetime(2026, 12, 2)),
        ("02/12/2026 09:05:30 p.m.", dt.datetime(2026, 12, 2, 21, 5, 30)),
        ("02/12/2026 9:05am", dt.datetime(2026, 12, 2, 9, 5)),
        ("02/12/2026 9:05 PM", dt.datetime(2026, 12, 2, 21, 5)),
        ("02/12/2026 12:10 a. m.", dt.datetime(2026, 12, 2, 0, 10)),
        ("02/12/2026 12:10 p. m.", dt.datetime(2026, 12, 2, 12, 10)),
        ("02/12/2026 9:05\u00a0p.\u00a0m.", dt.datetime(2026, 12, 2, 21, 5)),
        ("2026-12-02T09:05", dt.datetime(2026, 12, 2, 9, 5)),
        ("2026-12-02 09:05:00", dt.datetime(2026, 12, 2, 9, 5)),
        ("2026-12-02T09:05:00-05:00", dt.datetime(2026, 12, 2, 9, 5)),
        ("12/02/2026", dt.datetime(2026, 2, 12)),  # day first, always
        (46358.378472222, dt.datetime(2026, 12, 2, 9, 5)),
        (46358, dt.datetime(2026, 12, 2)),
    ],
)
def test_what_colombian_users_type(typed, expected):
    assert parse_datetime(typed) == expected


@pytest.mark.parametrize("blank", ["", "   ", None, float("nan"), pd.NaT, np.datetime64("NaT")])
def test_blank_is_none_not_an_error(blank):
    assert parse_datetime(blank) is None
    assert parse_date(blank) is None
    assert not understood(blank)


@pytest.mark.parametrize(
    "typed",
    [
        "ayer",
        "ayer 3 pm",
        "9:05",  # a time without its day
        "31/02/2026",
        "02/12/2026 13:05 p. m.",
        "02/12/2026 25:00",
        "2026-13-01",
        "02/12",
        "02/12/2026 9",
        0.5,  # a time typed alone in Excel
        -3,
        True,
        dt.time(9, 5),
    ],
)
def test_what_is_not_understood_is_said_with_the_value_as_typed(typed):
    with pytest.raises(NotADate) as caught:
        parse_datetime(typed)
    assert caught.value.text == str(typed).strip()
    assert f"«{caught.value.text}»" in str(caught.value)
    assert not understood(typed)


@given(
    st.lists(
        st.one_of(
            st.builds(
                lambda w, s, v: STYLES[s][0](w, v),
                moments,
                st.sampled_from(sorted(STYLES)),
                st.integers(0, 9),
            ),
            st.sampled_from(["", "ayer", "31/02/2026", "9:05", "2026-12-02T09:05:07"]),
        ),
        max_size=30,
    )
)
def test_the_column_parser_agrees_with_the_value_parser(texts):
    texts = [" ".join(t.split()) for t in texts]  # columns arrive cleaned
    column = parse_datetime_column(texts)
    assert column.dtype == "datetime64[us]"
    for text, parsed in zip(texts, column, strict=True):
        expected = parse_datetime(text) if understood(text) else None
        assert (None if pd.isna(parsed) else parsed.to_pydatetime()) == expected, text
