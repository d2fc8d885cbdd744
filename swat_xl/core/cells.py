"""Excel cell references: column letters and A1 addresses (0-based rows and columns)."""

from __future__ import annotations


def col_letter(index: int) -> str:
    """The letters of the 0-based column ``index`` (0 -> ``A``, 26 -> ``AA``)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int, *, absolute: bool = False) -> str:
    """The A1 reference of a 0-based cell (``$A$1`` when ``absolute``)."""
    dollar = "$" if absolute else ""
    return f"{dollar}{col_letter(col)}{dollar}{row + 1}"
