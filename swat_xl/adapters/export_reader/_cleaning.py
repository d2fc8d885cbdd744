"""Cleaning of cell values: text, codes, phones, numbers and dates as the ledger keeps them.

The cleaners give the results of :mod:`swat_xl.core.text` (tests check it) with shortcuts for
the common cases, and work a column at a time: an export holds millions of cells.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from swat_xl.adapters.export_reader._guards import _thousands
from swat_xl.core.dates import NotADate, parse_datetime, parse_datetime_column
from swat_xl.core.text import clean_code, clean_phone, clean_text, mask_digits

_BOOL_TEXT = {True: "VERDADERO", False: "FALSO"}


def _cell_is_blank(cell: Any) -> bool:
    if cell is None:
        return True
    kind = cell.__class__
    if kind is str:
        if not cell or cell.isspace():
            return True
        return not cell.isprintable() and not clean_text(cell)
    if kind is float:
        return cell != cell
    return False


def _map_unique(values: Sequence[Any], clean: Callable[[Any], Any]) -> list[Any]:
    """``[clean(v) for v in values]``, calling ``clean`` once per distinct value."""
    if bool in set(map(type, values)):  # True == 1 as dict keys: give booleans their text
        values = [_BOOL_TEXT[v] if v.__class__ is bool else v for v in values]
    table = {value: clean(value) for value in set(values)}
    return [table[value] for value in values]


def _special_text(value: Any) -> str | None:
    """Text of values clean_text would render poorly (dates, booleans, binary floats)."""
    if isinstance(value, dt.datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.strftime("%Y-%m-%d")
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return _BOOL_TEXT[value]
    if isinstance(value, float) and math.isfinite(value) and not value.is_integer():
        return format(value, ".15g")  # 0.1 + 0.2 -> "0.3", as Excel shows it
    return None


# The cleaners below give the results of swat_xl.core.text (tests check it) with shortcuts for
# the common cases: a plain printable string and a float holding an integer.


def _clean_text(value: Any) -> str:
    kind = value.__class__
    if kind is str and value.isprintable():
        return value.strip()
    if kind is float:
        if value.is_integer():
            return str(int(value))
        if math.isfinite(value):
            return format(value, ".15g")
    special = _special_text(value)
    return special if special is not None else clean_text(value)


def _clean_code(value: Any) -> str:
    kind = value.__class__
    if kind is float and value.is_integer():
        return str(int(value))
    if kind is str and value.isprintable():
        text = value.strip()
        if "." not in text or not text.endswith("0"):  # cannot be "123.0"
            return text
    if isinstance(value, dt.date | dt.time | bool):
        return _clean_text(value)
    return clean_code(value)


def _clean_phone(value: Any) -> str:
    if isinstance(value, dt.date | dt.time | bool):
        return _clean_text(value)
    code = _clean_code(value)
    if not (code.isascii() and code.isdigit()):
        return clean_phone(value)
    if len(code) == 12 and code.startswith("57"):
        return code[2:]
    if len(code) == 13 and code.startswith("057"):
        return code[3:]
    return code


_DECIMAL_COMMA = re.compile(r"^(-?\d+),(\d+)$")


def _clean_number(value: Any) -> str:
    special = _special_text(value)
    text = special if special is not None else _clean_code(value)
    match = _DECIMAL_COMMA.match(text)
    if match:  # "3,0" / "8,5" from a Spanish-locale csv
        decimals = match.group(2).rstrip("0")
        return f"{match.group(1)}.{decimals}" if decimals else match.group(1)
    return text


_CLEANERS: dict[str, Callable[[Any], str]] = {
    "text": _clean_text,
    "code": _clean_code,
    "phone": _clean_phone,
    "number": _clean_number,
}
_FLOAT_TEXT = re.compile(r"^-?\d+\.0+$", re.MULTILINE)
_COMMA_TEXT = re.compile(r"^-?\d+,\d+$", re.MULTILINE)
_NOT_DIGIT = re.compile(r"[^\d\n]")
_PLAIN_TYPES = frozenset((str, float))
_SAMPLE = 256  # values whose types choose the way a column is cleaned


def _printable(joined: str, count: int) -> bool:
    """``all(map(str.isprintable, texts))`` of the ``count`` texts ``joined`` by line breaks:
    a text with a line break is not printable, and texts without one are printable when
    they are, joined by nothing."""
    if count == 0:
        return True
    return joined.count("\n") == count - 1 and joined.replace("\n", "").isprintable()


def _clean_column(values: Sequence[Any], kind: str) -> list[str]:
    """``[_CLEANERS[kind](v) for v in values]``, fast for plain strings and integral floats.

    Every way below gives exactly that list (tests compare them on random columns); which way
    is only a matter of speed: an export holds millions of cells."""
    clean = _CLEANERS[kind]
    odd: Sequence[Any] = ()  # the values cleaned one by one below
    # A column of str is looked at joined by line breaks (one look at each value: the values
    # of a column lie far apart in memory, each look at them costs).
    try:
        joined: str | None = "\n".join(values)
    except TypeError:  # not all str
        joined = None
    printable = None if joined is None else _printable(joined, len(values))
    if printable and joined is not None:  # (most columns) strip is all clean_text does
        # A printable text's only space is " ": "\n " or " \n" shows one to strip.
        if " \n" in joined or "\n " in joined or joined[:1] == " " or joined[-1:] == " ":
            out = list(map(str.strip, values))
            joined = None
        elif values:
            # The texts again, made one after the other from the joined text: later passes
            # over the column then read them in order, where the cells' own strings lie a
            # row apart in memory. Making them costs more than copying the list (15 ms
            # against 1 ms for 150,000 names); the passes after it gain more (a 150,000-row
            # import: 6.38 s -> 6.23 s).
            out = joined.split("\n")
        else:
            out = []
    elif printable is False and set(map(type, values)) == {str}:
        return _map_unique(values, clean)  # line breaks or control characters: once per value
    elif not _PLAIN_TYPES.issuperset(map(type, values[:_SAMPLE])):
        return _map_unique(values, clean)  # dates, times, booleans (an hour column): likewise
    else:
        careful = {"number": _clean_number, "text": _clean_text}.get(kind, _clean_code)
        odd = []

        def fallback(value: Any) -> str:
            odd.append(value)
            return careful(value)

        out = [
            value.strip()
            if value.__class__ is str and value.isprintable()
            else str(int(value))
            if value.__class__ is float and value.is_integer()
            else fallback(value)
            for value in values
        ]
    if kind == "text":
        return out
    if joined is None:
        joined = "\n".join(out)
    if ("." in joined and _FLOAT_TEXT.search(joined)) or (
        kind == "number" and "," in joined and _COMMA_TEXT.search(joined)
    ):
        return _map_unique(values, clean)  # "123.0" or "8,5" text: the careful way
    if kind != "phone":
        return out
    if joined.count("\n") != len(out) - 1 or any(
        isinstance(value, dt.date | dt.time | bool) for value in odd
    ):
        return _map_unique(values, clean)  # a value with a line break, a date or a boolean
    bare = joined.replace("\n", "")
    digits = out if bare.isascii() and bare.isdigit() else _NOT_DIGIT.sub("", joined).split("\n")
    return [  # clean_phone of each code
        ""
        if not code
        else code
        if not number
        else number[2:]
        if len(number) == 12 and number.startswith("57")
        else number[3:]
        if len(number) == 13 and number.startswith("057")
        else number
        for code, number in zip(out, digits, strict=True)
    ]


# --- dates ---------------------------------------------------------------------------------------


def _to_datetime(value: Any) -> dt.datetime | None:
    try:
        return parse_datetime(value)
    except NotADate:
        return None


def _datetime_series(
    values: Sequence[Any], count: int, label: str, warnings: list[str]
) -> pd.Series:
    if not values:
        return pd.Series([pd.NaT] * count, dtype="datetime64[us]")
    if set(map(type, values)) == {str}:  # csv: text dates, parsed by column
        texts = _clean_column(values, "text")
        series = parse_datetime_column(texts)
        failed = [t for t, missing in zip(texts, series.isna(), strict=True) if missing and t]
    else:  # xlsx: datetime (date at midnight) cells, "" when empty, maybe text or numbers
        parsed = [
            value
            if value.__class__ is dt.datetime and value.tzinfo is None
            else None
            if value == ""
            else _to_datetime(value)
            for value in values
        ]
        series = pd.Series(parsed, dtype="datetime64[us]")
        failed = [
            _clean_text(v)
            for v, p in zip(values, parsed, strict=True)
            if p is None and not _cell_is_blank(v)
        ]
    if failed:
        warnings.append(
            f"{_thousands(len(failed))} valor(es) de «{label}» no se reconocieron como fecha "
            f"(por ejemplo «{mask_digits(failed[0][:40])}») y quedaron vacíos; se esperaba "
            "dd/mm/aaaa hh:mm."
        )
    return series
