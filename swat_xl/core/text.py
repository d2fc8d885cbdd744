"""Text normalisation shared by every rule: accents, case, spacing, numbers typed as floats."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_FLOAT_INT = re.compile(r"^(-?\d+)\.0+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"(?<!\d)(?:\+?57[\s.-]?)?\d{3}[\s.-]?\d{3}[\s.-]?\d{4}(?!\d)")
_LONG_DIGITS = re.compile(r"\d{7,}")
HIDDEN_NUMBER = "[número oculto]"


def fold(value: Any) -> str:
    """Lower-case, accent-free text with spaces collapsed (``" Móvil  "`` -> ``"movil"``)."""
    if is_blank(value):
        return ""
    text = str(value)
    if text.isascii():  # NFKD leaves ASCII as it is, with no accent to drop
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.lower().split())


def mask_digits(text: str) -> str:
    """``text`` with phone numbers (10 digits, with or without +57 and separators) and any
    other run of 7 or more digits replaced: what a cell held may be a phone or a document
    number, and must not be echoed into a log or a message."""
    return _LONG_DIGITS.sub(HIDDEN_NUMBER, _PHONE.sub(HIDDEN_NUMBER, text))


def label_key(value: Any) -> str:
    """Key to compare column labels: accents, case, spaces, underscores and punctuation ignored."""
    return _NON_ALNUM.sub("", fold(value))


def is_blank(value: Any) -> bool:
    if isinstance(value, str):  # most cells: no need to ask pandas
        return value.strip() == ""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if value is pd.NaT or pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return False


def clean_text(value: Any) -> str:
    """Text as the user should see it: stripped, control characters removed, never ``nan``."""
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _CONTROL.sub("", str(value)).strip()


def clean_code(value: Any) -> str:
    """An account, custcode or id: ``32091775.0`` -> ``32091775``; leading zeros of text kept."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    text = clean_text(value)
    match = _FLOAT_INT.match(text)
    if match:
        return match.group(1)
    return text


def clean_phone(value: Any) -> str:
    """A Colombian contact number as 10 digits when possible.

    ``3001234567.0``, ``+57 300 123 4567``, ``57300-123-4567`` -> ``3001234567``.
    Anything that is not a recognisable number is returned cleaned but otherwise as is.
    """
    code = clean_code(value)
    if not code:
        return ""
    digits = re.sub(r"\D", "", code)
    if not digits:
        return code
    if len(digits) == 12 and digits.startswith("57"):
        return digits[2:]
    if len(digits) == 13 and digits.startswith("057"):
        return digits[3:]
    return digits


def empty_mask(column: pd.Series) -> np.ndarray:
    """Where a text column of the ledger is empty (``""``), as a numpy array.

    Compared on the column's object array: for the ledger's hundreds of thousands of rows that
    is several times faster than pandas' own string comparison."""
    return column.to_numpy(dtype=object) == ""
