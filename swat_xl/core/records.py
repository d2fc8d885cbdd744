"""The record as the core, the workbook and the services see it: the ledger's typed frame.

``Ledger.records()`` returns one row per record with

* :data:`INT_FIELDS` as integers;
* :data:`TIME_FIELDS` as ``datetime64[ns]`` (``NaT`` when blank);
* for each attempt, besides its time, :func:`unread` of it: the text typed in the attempt
  when it is not a date (shown back on the sheet as typed and flagged by the indicator), ``""``
  otherwise;
* ``extra`` as a dict (the export's columns no field claims);
* every other field as text (``""`` when blank).

Only the ledger turns its stored text into these types; every other module reads them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

ATTEMPTS: tuple[str, ...] = ("attempt1", "attempt2", "attempt3")
INT_FIELDS: tuple[str, ...] = ("id", "cut_id")
TIME_FIELDS: tuple[str, ...] = (
    "survey_date",
    "cut_at",  # when the record's cut was imported
    "assigned_at",
    "due_at",
    *ATTEMPTS,
    "marked_at",
    "closed_at",
    "archived_at",
    "form_exported_at",
)


def unread(field: str) -> str:
    """The column holding what was typed in ``field`` when it is not a date."""
    return f"{field}_unread"


UNREAD_FIELDS: tuple[str, ...] = tuple(unread(name) for name in ATTEMPTS)


def present(frame: pd.DataFrame, field: str) -> np.ndarray:
    """Where a time column has a value: a time, or (attempts) text that is not a date."""
    has = frame[field].notna().to_numpy()
    companion = unread(field)
    if companion in frame:
        has = has | (frame[companion].to_numpy(dtype=object) != "")
    return has


def shown_times(frame: pd.DataFrame, field: str) -> list[Any]:
    """A time column as a sheet shows it: ``datetime`` objects, ``None`` when blank, the text
    as typed when it is not a date. Each distinct time is converted once (a cut shares its
    assignment and due times, and surveys share minutes)."""
    if field not in frame:
        return [None] * len(frame)
    codes, uniques = pd.factorize(frame[field])  # NaT -> -1
    table: list[Any] = [stamp.to_pydatetime() for stamp in uniques]
    table.append(None)  # code -1
    out = [table[code] for code in codes]
    companion = unread(field)
    if companion in frame:
        texts = frame[companion].to_numpy(dtype=object)
        for index in np.flatnonzero(texts != ""):
            out[index] = texts[index]
    return out


def as_datetime(value: Any) -> dt.datetime | None:
    """One value of a time column as a ``datetime`` (``None`` when ``NaT``)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    return value if isinstance(value, dt.datetime) else None
