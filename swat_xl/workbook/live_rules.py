"""The procedure's closing rules (:mod:`swat_xl.core.marks`) as Excel formulas over the ranges of
an agent sheet, so the live ``KPI_*`` names count what ``kpi --json`` counts before any operation
has rewritten the typed values canonically.

Every expression is an array over the rows of the ranges, for ``SUMPRODUCT``: no ``IF`` (which
older Excel only evaluates as an array when entered with Ctrl+Shift+Enter), no ``MATCH`` (whose
exact match still takes ``*`` and ``?`` as wildcards). A typed value is folded like
:func:`swat_xl.core.marks.fold_option`: non-breaking spaces, case, accents, inner and outer
spaces, one trailing dot.
"""

from __future__ import annotations

from dataclasses import dataclass

from swat_xl.core.config import Settings
from swat_xl.core.marks import FORMULA_ACCENTS, RESOLUTION_VISIT, fold_option, options
from swat_xl.core.model import OUTCOME_EFFECTIVE, OUTCOME_NO_ANSWER, OUTCOME_NO_CONTACT

# A non-breaking space typed in the formula itself: CHAR(160) depends on the system's code page
# (LibreOffice on UTF-8 answers another character) and UNICHAR needs Excel 2013.
NBSP = "\u00a0"


def _text(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def folded(ref: str) -> str:
    """The folded text of each cell of ``ref`` (upper case)."""
    expr = f'UPPER(SUBSTITUTE({ref},"{NBSP}"," "))'
    for accented, plain in FORMULA_ACCENTS:
        expr = f'SUBSTITUTE({expr},"{accented}","{plain}")'
    return f'TRIM(SUBSTITUTE(SUBSTITUTE(TRIM({expr})&"|",".|",""),"|",""))'


def present(ref: str) -> str:
    """1 where a cell holds something other than spaces."""
    return f'(TRIM(SUBSTITUTE({ref},"{NBSP}"," "))<>"")'


def is_option(ref: str, choices: tuple[str, ...]) -> str:
    """1 where a cell folds to one of ``choices`` (a folded value never holds ``|``)."""
    listed = "|" + "|".join(fold_option(c) for c in choices) + "|"
    return f'ISNUMBER(FIND("|"&{folded(ref)}&"|",{_text(listed)}))'


def equals(ref: str, option: str) -> str:
    return f"({folded(ref)}={_text(fold_option(option))})"


@dataclass(frozen=True)
class MarkRanges:
    """The ranges of one agent sheet (same rows each)."""

    ids: str
    outcome: str
    resolution: str
    order: str
    survey: str
    attempts: tuple[str, str, str]
    due: str

    def invalid(self, settings: Settings) -> str:
        """Per row, how many dropdown values match no option."""
        parts = [
            f"{present(ref)}*(1-{is_option(ref, options(field, settings))})"
            for field, ref in (
                ("outcome", self.outcome),
                ("resolution", self.resolution),
                ("agent_survey", self.survey),
            )
        ]
        return "(" + "+".join(parts) + ")"

    def attempt_count(self) -> str:
        return "(" + "+".join(f"ISNUMBER({ref})" for ref in self.attempts) + ")"

    def effective_done(self) -> str:
        """CONTACTO EFECTIVO with an attempt and a Solución (and an OT / LLS for a visit)."""
        return (
            f"{equals(self.outcome, OUTCOME_EFFECTIVE)}*({self.attempt_count()}>=1)"
            f"*{is_option(self.resolution, options('resolution', Settings()))}"
            f"*(1-{equals(self.resolution, RESOLUTION_VISIT)}*(1-{present(self.order)}))"
        )

    def closed(self, settings: Settings) -> str:
        """1 where the marks close the record (:func:`swat_xl.core.marks.mark_state`)."""
        return (
            f"({self.invalid(settings)}=0)*({self.effective_done()}"
            f"+{equals(self.outcome, OUTCOME_NO_ANSWER)}"
            f"+{equals(self.outcome, OUTCOME_NO_CONTACT)}"
            f"*({self.attempt_count()}>={settings.min_attempts_no_contact}))"
        )

    def row(self) -> str:
        return f"ISNUMBER({self.ids})"

    def effective(self, settings: Settings) -> str:
        return f"=SUMPRODUCT({self.row()}*({self.invalid(settings)}=0)*{self.effective_done()})"

    def closed_count(self, settings: Settings) -> str:
        return f"SUMPRODUCT({self.row()}*{self.closed(settings)})"

    def overdue(self, settings: Settings) -> str:
        return (
            f"=SUMPRODUCT({self.row()}*(1-{self.closed(settings)})"
            f"*ISNUMBER({self.due})*({self.due}<NOW()))"
        )

    def invalid_count(self, settings: Settings) -> str:
        return f"=SUMPRODUCT({self.row()}*{self.invalid(settings)})"
