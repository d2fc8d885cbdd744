"""What an agent types, checked against the procedure: normalisation, validation and the rules
that close a record. Pure: values and settings in, values and verdicts out.

The procedure (``procedimiento-swat-detractores.txt``, section 4, step 4) is the reference:

* "En caso de tener más de 2 intentos de contacto a los números registrados y no obtener
  respuesta el asesor de servicio deberá tipificar en el formulario dispuesto el registro del
  no contacto": NO CONTACTO closes a record only with ``intentos_no_contacto`` attempts.
* "Si el asesor logra contacto efectivo con el cliente deberá presentarse y generar el
  requerimiento del cliente [...] Dependiendo del caso podrá finalizarlo en primer contacto,
  escalará el caso al área correspondiente o enviará visita técnica": CONTACTO EFECTIVO needs
  an attempt (the call) and a Solución; a technical visit needs its order (OT / LLS, section 3:
  "Orden generada en el sistema para ejecución de mantenimiento").

The live formulas of the ``Indicador`` sheet (:mod:`swat_xl.workbook.indicator`) apply the same
rules with the same folding; :func:`fold_option` is the one both follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

import numpy as np
import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.model import (
    OUTCOME_EFFECTIVE,
    OUTCOME_NO_ANSWER,
    OUTCOME_NO_CONTACT,
    OUTCOMES,
    RESOLUTIONS,
)
from swat_xl.core.records import ATTEMPTS
from swat_xl.core.text import fold

RESOLUTION_VISIT = "VISITA TÉCNICA"

# The dropdown columns of an agent sheet, in sheet order.
DROPDOWN_FIELDS: tuple[str, ...] = ("outcome", "resolution", "agent_survey")
# The accented capitals the live formulas fold (after UPPER); :func:`fold` removes every accent.
FORMULA_ACCENTS: tuple[tuple[str, str], ...] = (
    ("Á", "A"),
    ("É", "E"),
    ("Í", "I"),
    ("Ó", "O"),
    ("Ú", "U"),
    ("Ü", "U"),
    ("Ñ", "N"),
)


def fold_option(value: object) -> str:
    """The key a typed dropdown value is compared by: case, accents, inner and outer spaces
    (non-breaking ones too) and one trailing dot ignored, upper case like Excel's ``UPPER``.

    ``"  contacto  efectivo. "`` -> ``"CONTACTO EFECTIVO"``. Texts are folded once each
    (marks read back repeat a few values on every row)."""
    if type(value) is str:
        return _fold_option_text(value)
    return _fold_option(value)


@lru_cache(maxsize=4096)
def _fold_option_text(value: str) -> str:
    return _fold_option(value)


def _fold_option(value: object) -> str:
    text = fold(value)  # NFKD turns a non-breaking space into a space; split() collapses them
    if text.endswith("."):
        text = text[:-1]
    return " ".join(text.split()).upper()


def key_ends(keys: Iterable[str]) -> frozenset[tuple[str, str]]:
    """The first and last characters of folded keys (see :func:`may_fold_to`)."""
    return frozenset((key[:1], key[-1:]) for key in keys)


def may_fold_to(text: str, ends: frozenset[tuple[str, str]]) -> bool:
    """Whether ``text`` may fold to one of the keys whose :func:`key_ends` are ``ends``: an
    ASCII text folds to its own first and last characters (spaces and one trailing dot
    aside) in upper case, so one whose ends are not a key's never folds to a key; any other
    text may. Cheaper than folding, for the many texts of a sheet that are no option."""
    if not text.isascii():
        return True
    stripped = text.strip()
    if stripped.endswith("."):
        stripped = stripped[:-1].rstrip()
    return (stripped[:1].upper(), stripped[-1:].upper()) in ends


def options(field: str, settings: Settings) -> tuple[str, ...]:
    """The canonical values of a dropdown field."""
    if field == "outcome":
        return OUTCOMES
    if field == "resolution":
        return RESOLUTIONS
    if field == "agent_survey":
        return tuple(settings.agent_survey_scale)
    raise KeyError(field)


def option_keys(field: str, settings: Settings) -> Mapping[str, str]:
    """Folded key -> canonical value of a dropdown field (built once per list of options:
    every typed value is looked up here)."""
    return _option_keys(tuple(options(field, settings)))


@lru_cache(maxsize=16)
def _option_keys(values: tuple[str, ...]) -> Mapping[str, str]:
    return MappingProxyType({fold_option(value): value for value in values})


def canonical(field: str, value: str, settings: Settings) -> str | None:
    """The canonical option ``value`` folds to; ``None`` when it matches none (``""`` stays
    ``""``). Fields without a dropdown pass through."""
    if field not in DROPDOWN_FIELDS:
        return value
    if value == "":
        return ""
    return option_keys(field, settings).get(fold_option(value))


def normalise_values(
    values: Mapping[str, str], settings: Settings
) -> tuple[dict[str, str], dict[str, str]]:
    """Marks as the ledger stores them: dropdown values rewritten canonically. Returns the
    values (an invalid one kept as typed) and the invalid ones (field -> value as typed)."""
    out: dict[str, str] = {}
    invalid: dict[str, str] = {}
    for field, value in values.items():
        found = canonical(field, value, settings)
        if found is None:
            invalid[field] = value
            out[field] = value
        else:
            out[field] = found
    return out, invalid


# -- the closing rules, vectorised over the ledger's typed columns ------------------------------
@dataclass(frozen=True)
class MarkState:
    """Per record (parallel arrays): what its marks mean under the procedure."""

    outcome: np.ndarray  # canonical outcome, "" when empty or invalid
    invalid: dict[str, np.ndarray]  # dropdown field -> bool (a value that matches no option)
    attempts: np.ndarray  # attempts that are a date and time
    closed: np.ndarray  # the management is complete: the record is no longer pending
    effective: np.ndarray  # closed as CONTACTO EFECTIVO (what the indicator counts)
    few_attempts: np.ndarray  # NO CONTACTO with fewer than intentos_no_contacto attempts
    effective_without_attempt: np.ndarray
    effective_without_resolution: np.ndarray
    visit_without_order: np.ndarray

    @property
    def any_invalid(self) -> np.ndarray:
        out = np.zeros(len(self.closed), dtype=bool)
        for mask in self.invalid.values():
            out |= mask
        return out


def distinct_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, table)`` of a column: ``table[codes]`` gives each value back, and what a rule
    makes of each value is computed once per entry of ``table``. Every missing value (None,
    NaN...) stands for one NaN, as pandas groups them (asked of pandas, that grouping costs a
    pass of its own over the whole column)."""
    codes, uniques = pd.factorize(values)
    table = np.asarray(uniques, dtype=object)
    if len(codes) and codes.min() < 0:
        codes = np.where(codes < 0, len(table), codes)
        table = np.append(table, np.nan)
    return codes, table


def _canonical_of(values: np.ndarray, field: str, settings: Settings) -> tuple[np.ndarray, ...]:
    """(canonical value or "", invalid mask) of a dropdown column: each distinct value is
    folded and looked up once (a month repeats a handful of them)."""
    if len(values) == 0:
        return np.empty(0, dtype=object), np.zeros(0, dtype=bool)
    codes, distinct = distinct_values(values)
    known = option_keys(field, settings)
    canon = np.array([known.get(fold_option(v), "") for v in distinct], dtype=object)
    invalid = (distinct != "") & (canon == "")
    return canon[codes], invalid[codes]


def _filled(values: np.ndarray) -> np.ndarray:
    """Whether each value holds more than spaces (each distinct value checked once)."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    codes, distinct = distinct_values(values)
    return np.array([str(v).strip() != "" for v in distinct], dtype=bool)[codes]


def mark_state(
    columns: Mapping[str, np.ndarray], attempt_ok: Iterable[np.ndarray], settings: Settings
) -> MarkState:
    """The procedure's verdict on each record's marks.

    ``columns`` holds the ledger's text of ``outcome``, ``resolution``, ``order_number`` and
    ``agent_survey``; ``attempt_ok`` one boolean array per attempt (the attempt is a date and
    time)."""
    outcome, bad_outcome = _canonical_of(columns["outcome"], "outcome", settings)
    resolution, bad_resolution = _canonical_of(columns["resolution"], "resolution", settings)
    _survey, bad_survey = _canonical_of(columns["agent_survey"], "agent_survey", settings)
    invalid = {"outcome": bad_outcome, "resolution": bad_resolution, "agent_survey": bad_survey}
    any_invalid = bad_outcome | bad_resolution | bad_survey
    attempts = np.zeros(len(outcome), dtype=int)
    for ok in attempt_ok:
        attempts = attempts + ok.astype(int)
    order = _filled(columns["order_number"])

    is_effective = outcome == OUTCOME_EFFECTIVE
    without_attempt = is_effective & (attempts < 1)
    without_resolution = is_effective & (resolution == "")
    visit = resolution == RESOLUTION_VISIT
    visit_without_order = is_effective & visit & ~order
    effective_done = is_effective & ~without_attempt & ~without_resolution & ~visit_without_order
    # "más de 2 intentos de contacto": intentos_no_contacto (3 by default) attempts or more.
    few = (outcome == OUTCOME_NO_CONTACT) & (attempts < settings.min_attempts_no_contact)
    no_contact_done = (outcome == OUTCOME_NO_CONTACT) & ~few
    closed = ~any_invalid & (effective_done | (outcome == OUTCOME_NO_ANSWER) | no_contact_done)
    return MarkState(
        outcome=outcome,
        invalid=invalid,
        attempts=attempts,
        closed=closed,
        effective=closed & is_effective,
        few_attempts=few,
        effective_without_attempt=without_attempt,
        effective_without_resolution=without_resolution,
        visit_without_order=visit_without_order,
    )


def _stamps(frame: pd.DataFrame, field: str) -> np.ndarray:
    """A time column of the ledger's typed frame as ``datetime64[us]`` (``NaT`` when blank or
    when what was typed is not a date)."""
    if field not in frame:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]")
    return frame[field].to_numpy(dtype="datetime64[us]")


def frame_state(frame: pd.DataFrame, settings: Settings) -> MarkState:
    """:func:`mark_state` of the ledger's typed frame (see :mod:`swat_xl.core.records`)."""
    columns = {
        name: frame[name].to_numpy(dtype=object)
        for name in ("outcome", "resolution", "order_number", "agent_survey")
    }
    attempt_ok = [~np.isnat(_stamps(frame, name)) for name in ATTEMPTS]
    return mark_state(columns, attempt_ok, settings)


def latest_of(stamps: Iterable[np.ndarray], size: int) -> np.ndarray:
    """The latest of parallel ``datetime64`` arrays, element by element (``NaT`` ignored;
    ``NaT`` when all are)."""
    out = np.full(size, np.datetime64("NaT"), dtype="datetime64[us]")
    for when in stamps:
        when = when.astype("datetime64[us]")
        later = ~np.isnat(when) & (np.isnat(out) | (when > out))
        out = np.where(later, when, out)
    return out


def latest_attempt(frame: pd.DataFrame) -> np.ndarray:
    """Each record's latest attempt (``NaT`` when none is a date): the time of its management."""
    return latest_of((_stamps(frame, name) for name in ATTEMPTS), len(frame))


def due_times(cut_at: pd.Series, due_hours: float) -> pd.Series:
    """When each record's management falls due: ``horas_vencimiento`` after its cut was
    imported (section 4, step 5: "no puede superar las 24 horas de vigencia"), assigned or not.
    ``NaT`` when the import time is unknown."""
    arrived = cut_at.astype("datetime64[us]")
    return arrived + pd.Timedelta(seconds=round(due_hours * 3600))
