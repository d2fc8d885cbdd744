"""Business rules of a cut, as pure functions over a frame of canonical fields.

The frame comes from the export reader: one row per data row, columns named after
:data:`swat_xl.core.fields.CANONICAL` (missing optional fields are empty strings), text already
cleaned, ``survey_date`` as ``datetime64`` (``NaT`` when absent).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.dates import parse_datetime_column
from swat_xl.core.model import EXCLUSION_REASONS, Segment
from swat_xl.core.text import clean_text, fold

_LEGAL_SUFFIXES = ("sasbic", "sas", "sa", "ltda", "sca", "scs", "eu")
_HOGAR_WORDS = ("hogar", "fijo", "fija", "residencial", "hfc", "ftth", "rr")
_MOVIL_WORDS = ("movil", "postpago", "prepago", "celular", "moviles", "pospago")
_CUSTCODE_SHAPE = re.compile(r"^\d+\.\d+(\.\d+)*$")
_DATE_SHAPE = re.compile(r"^\d{1,4}[-/]\d{1,2}[-/]\d{1,4}")


def _ally_core(value: object) -> str:
    key = re.sub(r"[^0-9a-z]", "", fold(value))
    for suffix in _LEGAL_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 3:
            return key[: -len(suffix)]
    return key


def ally_matches(value: object, ally_name: str) -> bool:
    """True when an ally cell names the configured ally (tolerant to case, accents, spacing,
    legal suffixes such as S.A.S. and one-letter typos)."""
    wanted = _ally_core(ally_name)
    found = _ally_core(value)
    if not wanted or not found:
        return False
    if found == wanted:
        return True
    return difflib.SequenceMatcher(None, found, wanted).ratio() >= 0.9


def ally_mask(ally: pd.Series, ally_name: str) -> pd.Series:
    """Boolean mask of the rows that belong to the ally (evaluated once per distinct value)."""
    named = [value for value in ally.unique() if ally_matches(value, ally_name)]
    return ally.isin(named)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[0-9a-z]+", text))


def segment_of(segment_text: object, account: object, custcode: object) -> str:
    """``hogar`` or ``movil`` from the segment text, else inferred from RR account vs custcode.

    Returns ``""`` when nothing tells.
    """
    words = _words(fold(segment_text))
    if words & set(_MOVIL_WORDS):
        return Segment.MOVIL.value
    if words & set(_HOGAR_WORDS):
        return Segment.HOGAR.value
    account_text = str(account or "").strip()
    custcode_text = str(custcode or "").strip()
    if custcode_text and not account_text:
        return Segment.MOVIL.value
    if account_text and _CUSTCODE_SHAPE.match(account_text):
        return Segment.MOVIL.value
    if account_text:
        return Segment.HOGAR.value
    return ""


def tag_segment(frame: pd.DataFrame) -> pd.Series:
    triples = zip(frame["segment_text"], frame["account"], frame["custcode"], strict=True)
    said: dict[object, str] = {}  # what a segment text alone says ("" when it does not tell)
    cache: dict[tuple[str, bool, bool, bool], str] = {}
    out = []
    for text, account, custcode in triples:
        segment = said.get(text)
        if segment is None:
            segment = said[text] = segment_of(text, "", "")
        if segment:  # the text tells (segment_of looks at it first)
            out.append(segment)
            continue
        shape = bool(account) and bool(_CUSTCODE_SHAPE.match(str(account)))
        probe = (text, bool(account), bool(custcode), shape)
        if probe not in cache:
            cache[probe] = segment_of(text, account, custcode)
        out.append(cache[probe])
    return pd.Series(out, index=frame.index, dtype="object")


def _phrase_in(value: str, terms: Iterable[str]) -> bool:
    padded = f" {' '.join(re.findall(r'[0-9a-z]+', value))} "
    for term in terms:
        folded = " ".join(re.findall(r"[0-9a-z]+", fold(term)))
        if folded and f" {folded} " in padded:
            return True
    return False


def exclusion_of(
    customer_type: object,
    account_status: object,
    cancellation_request: object,
    segment_text: object,
    values: dict[str, tuple[str, ...]],
) -> str:
    """The first exclusion reason that applies, in :data:`EXCLUSION_REASONS` order, or ``""``."""
    kind = fold(customer_type)
    seg = fold(segment_text)
    status = " ".join(re.findall(r"[0-9a-z]+", fold(account_status)))
    request = fold(cancellation_request)
    for reason in EXCLUSION_REASONS:
        terms = values.get(reason, ())
        if reason in ("cortesia", "pymes"):
            if _phrase_in(kind, terms) or _phrase_in(seg, terms):
                return reason
        elif reason in ("cancelado", "cancelado_debe"):
            wanted = {" ".join(re.findall(r"[0-9a-z]+", fold(t))) for t in terms}
            if status and status in wanted:
                return reason
        elif (
            reason == "solicitud_cancelacion"
            and request
            and (request in {fold(t) for t in terms} or _DATE_SHAPE.match(request))
        ):
            return reason
    return ""


def tag_exclusions(frame: pd.DataFrame, settings: Settings) -> pd.Series:
    columns = ["customer_type", "account_status", "cancellation_request", "segment_text"]
    cache: dict[tuple[str, ...], str] = {}
    out = []
    for probe in zip(*(frame[c] for c in columns), strict=True):
        if probe not in cache:
            cache[probe] = exclusion_of(*probe, settings.exclusion_values)
        out.append(cache[probe])
    return pd.Series(out, index=frame.index, dtype="object")


def record_keys(frame: pd.DataFrame, segments: pd.Series) -> pd.Series:
    """The identity of a survey: its id when the export has one, else
    segment + account (or custcode) + ANI + survey date-time (to the minute)."""
    survey = frame["survey_id"].astype(str)
    if not (survey == "").any():  # every survey has its id: no composite key is needed
        return "E:" + survey
    when = frame["survey_date"]
    if not pd.api.types.is_datetime64_any_dtype(when):
        when = parse_datetime_column([clean_text(value) for value in when.tolist()])
        when.index = frame.index
    stamp = when.dt.strftime("%Y-%m-%dT%H:%M").fillna("")
    account = (
        frame["account"]
        .astype(str)
        .where(frame["account"].astype(str) != "", frame["custcode"].astype(str))
    )
    composite = (
        "K:" + segments.astype(str) + "|" + account + "|" + frame["ani"].astype(str) + "|" + stamp
    )
    return ("E:" + survey).where(survey != "", composite)


def prepare_cut(frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Filter the ally and tag segment, exclusion, key and in-file duplicates.

    Returns the ally rows only (original order), with extra columns ``segment``, ``exclusion``,
    ``key`` and ``dup_in_file`` (True for the second and later rows of a key).
    """
    # take() gives a frame of its own, to add columns to as it is (pandas 2 flags a .loc[mask]
    # as a possible view and warns when columns are added to it: it needed a second copy)
    ally = frame.take(np.flatnonzero(ally_mask(frame["ally"], settings.ally_name).to_numpy()))
    ally["segment"] = tag_segment(ally)
    ally["exclusion"] = tag_exclusions(ally, settings)
    ally["key"] = record_keys(ally, ally["segment"])
    ally["dup_in_file"] = ally["key"].duplicated(keep="first")
    return ally
