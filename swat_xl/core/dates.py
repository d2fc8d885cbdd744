"""Dates and times as people in Colombia type them, read in one place.

Everything a person types (attempt times on the agent sheets, dates in Config and in the
practices log, the CLI's ``--desde`` / ``--hasta``, the dates of an export) goes through
:func:`parse_datetime` or :func:`parse_date`. Understood:

* day first: ``02/12/2026 9:05 a. m.``, ``2/12/26 21:05``, ``2-12-2026``, ``2.12.2026``,
  ``02/12/2026 09:05:30 p.m.`` (``am`` / ``a.m.`` / ``a. m.`` / ``AM``, with or without dots and
  spaces; two-digit years are 2000-2069 or 1970-1999);
* ISO, year first: ``2026-12-02``, ``2026-12-02T09:05``, ``2026-12-02 09:05:00`` (an offset or
  ``Z`` is dropped: the wall time is what counts);
* Excel serial numbers (``46358.378…``) and ``datetime`` / ``date`` objects (as the readers
  return them; a time zone is dropped the same way).

What is blank gives ``None``; what is not understood raises :class:`NotADate`, which carries the
value as typed so that the caller can show it back (it is never silently dropped).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.core.text import clean_text, is_blank

# The forms the Spanish messages suggest.
DATE_HINT = "dd/mm/aaaa"
DATETIME_HINT = "dd/mm/aaaa hh:mm"

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_EXCEL_LAST = 2_958_466  # 1 January 10000 as an Excel serial number

_TIME_PART = (
    r"(?:(?:t|\s+|\s*,\s*)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?"
    r"\s*(?:([ap])\.?\s?m\.?)?\s*(?:z|[+-]\d{2}:?\d{2})?)?"
)
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})" + _TIME_PART)
_YMD = re.compile(r"(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})" + _TIME_PART)
# Exact formats pandas parses in C before the per-value parser takes what is left (columns).
_COLUMN_FORMATS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


class NotADate(ValueError):
    """A value that is not blank and is not a date (or date and time) this module reads."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.text = clean_text(value)
        super().__init__(f"«{self.text}» no es una fecha reconocible")


def parse_datetime(value: Any) -> dt.datetime | None:
    """A date and time typed by a person (see the module docstring): naive, to the second
    as typed (microseconds only from a datetime object or an Excel serial). ``None`` when blank;
    :class:`NotADate` when not understood."""
    if isinstance(value, dt.datetime):
        if value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else parse_datetime(pd.Timestamp(value))
    if is_blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < _EXCEL_LAST and math.isfinite(value):
            # to Excel's resolution, the millisecond: 9:05 is 0.378472… of a day
            return EXCEL_EPOCH + dt.timedelta(milliseconds=round(float(value) * 86_400_000))
        raise NotADate(value)
    if isinstance(value, str):
        parsed = _parse_text(value)
        if parsed is not None:
            return parsed
    raise NotADate(value)


def parse_date(value: Any) -> dt.date | None:
    """The day of :func:`parse_datetime` (a time typed with it is ignored)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    when = parse_datetime(value)
    return when.date() if when is not None else None


def understood(value: Any) -> bool:
    """Whether :func:`parse_datetime` reads ``value`` as a date (blank is not a date)."""
    try:
        return parse_datetime(value) is not None
    except NotADate:
        return False


def _parse_text(text: str) -> dt.datetime | None:
    folded = " ".join(clean_text(text).lower().split())
    if not folded:
        return None
    match = _YMD.fullmatch(folded)
    if match:
        year, month, day = (int(g) for g in match.group(1, 2, 3))
    else:
        match = _DMY.fullmatch(folded)
        if not match:
            return None
        day, month, year = (int(g) for g in match.group(1, 2, 3))
        if len(match.group(3)) == 2:
            year += 2000 if year < 70 else 1900
    hour = int(match.group(4) or 0)
    minute = int(match.group(5) or 0)
    second = int(match.group(6) or 0)
    micro = int((match.group(7) or "0").ljust(6, "0"))
    meridiem = match.group(8)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    try:
        return dt.datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None


def parse_datetime_column(texts: Sequence[str]) -> pd.Series:
    """:func:`parse_datetime` of a whole column of cleaned text ("" when empty), as
    ``datetime64[us]`` with ``NaT`` for blanks and for what is not understood (the caller tells
    those apart: a ``NaT`` under a non-empty text). The common exact forms are parsed by pandas
    in C first; the rest value by value."""
    source = pd.Series(list(texts), dtype=object)
    result = pd.Series(pd.NaT, index=source.index, dtype="datetime64[us]")
    pending = source != ""
    for date_format in _COLUMN_FORMATS:
        if not pending.any():
            break
        parsed = pd.to_datetime(source[pending], format=date_format, errors="coerce")
        done = parsed.index[parsed.notna()]
        if len(done):
            result[done] = parsed[done].astype("datetime64[us]")
            pending[done] = False
    for index in pending.index[pending]:
        value = _parse_text(source[index])
        if value is not None:
            result[index] = value
    return result
