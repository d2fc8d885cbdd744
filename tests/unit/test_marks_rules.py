"""The procedure's rules for what an agent types (swat_xl.core.marks): pure, no I/O."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swat_xl.adapters.ledger import typed_records
from swat_xl.core.config import Settings
from swat_xl.core.kpi import compute_kpi, form_ready
from swat_xl.core.marks import (
    canonical,
    distinct_values,
    fold_option,
    frame_state,
    key_ends,
    may_fold_to,
    normalise_values,
)
from swat_xl.core.model import OUTCOMES, RESOLUTIONS

SETTINGS = Settings()
NOW = dt.datetime(2026, 12, 15, 10, 0)
CALL = "2026-12-01T10:00:00"


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        ("outcome", "contacto efectivo", "CONTACTO EFECTIVO"),
        ("outcome", "  Contacto   Efectivo ", "CONTACTO EFECTIVO"),
        ("outcome", "Contacto\u00a0efectivo.", "CONTACTO EFECTIVO"),
        ("outcome", "No Contesta", "NO CONTESTA"),
        ("resolution", "visita tecnica", "VISITA TÉCNICA"),
        ("resolution", "Escalado.", "ESCALADO"),
        ("agent_survey", " 5 ", "5"),
        ("outcome", "SI", None),
        ("outcome", "5", None),
        ("outcome", "EFECTIVO", None),
        ("outcome", "CONTACTO EFECTIVO..", None),
        ("agent_survey", "10", None),
        ("outcome", "", ""),
        ("notes", "  texto libre ", "  texto libre "),
    ],
)
def test_a_typed_value_folds_to_its_option_or_to_nothing(field, typed, expected):
    assert canonical(field, typed, SETTINGS) == expected


def test_fold_option_ignores_case_accents_spaces_and_one_trailing_dot():
    assert fold_option("  visita\u00a0TÉCNICA . ") == "VISITA TECNICA"


def test_normalise_values_keeps_an_invalid_value_as_typed_and_names_it():
    values, invalid = normalise_values(
        {"outcome": "Si", "resolution": "escalado", "notes": "llamar"}, SETTINGS
    )
    assert values == {"outcome": "Si", "resolution": "ESCALADO", "notes": "llamar"}
    assert invalid == {"outcome": "Si"}


def frame(*rows: dict[str, str]) -> pd.DataFrame:
    columns = (
        "outcome",
        "resolution",
        "order_number",
        "agent_survey",
        *(f"attempt{i}" for i in (1, 2, 3)),
    )
    # typed as the ledger returns it: the attempts are times, "ayer" stays as typed beside them
    return typed_records(pd.DataFrame([{c: row.get(c, "") for c in columns} for row in rows]))


@pytest.mark.parametrize(
    ("row", "closed", "effective"),
    [
        ({"outcome": "CONTACTO EFECTIVO", "attempt1": CALL, "resolution": "ESCALADO"}, True, True),
        ({"outcome": "CONTACTO EFECTIVO", "resolution": "ESCALADO"}, False, False),
        ({"outcome": "CONTACTO EFECTIVO", "attempt1": CALL}, False, False),
        (
            {"outcome": "CONTACTO EFECTIVO", "attempt1": CALL, "resolution": "VISITA TÉCNICA"},
            False,
            False,
        ),
        (
            {
                "outcome": "CONTACTO EFECTIVO",
                "attempt1": CALL,
                "resolution": "VISITA TÉCNICA",
                "order_number": "LLS-9",
            },
            True,
            True,
        ),
        ({"outcome": "NO CONTACTO", "attempt1": CALL, "attempt2": CALL}, False, False),
        (
            {"outcome": "NO CONTACTO", "attempt1": CALL, "attempt2": CALL, "attempt3": CALL},
            True,
            False,
        ),
        (
            {"outcome": "NO CONTACTO", "attempt1": "ayer", "attempt2": CALL, "attempt3": CALL},
            False,
            False,
        ),
        ({"outcome": "NO CONTESTA"}, True, False),
        ({"outcome": "SI", "attempt1": CALL}, False, False),
        (
            {
                "outcome": "CONTACTO EFECTIVO",
                "attempt1": CALL,
                "resolution": "ESCALADO",
                "agent_survey": "10",
            },
            False,
            False,
        ),
        ({}, False, False),
    ],
)
def test_the_closing_rules_of_the_procedure(row, closed, effective):
    state = frame_state(frame(row), SETTINGS)
    assert (bool(state.closed[0]), bool(state.effective[0])) == (closed, effective)


def test_no_contact_minimum_is_the_config_value():
    row = frame({"outcome": "NO CONTACTO", "attempt1": CALL})
    assert not frame_state(row, SETTINGS).closed[0]
    assert frame_state(row, SETTINGS.with_(min_attempts_no_contact=1)).closed[0]


def ledger(*rows: dict[str, str]) -> pd.DataFrame:
    base = {
        "cut_id": 1,
        "cut_at": "2026-12-01T09:00:00",
        "segment": "hogar",
        "exclusion": "",
        "agent": "Ana Gómez",
        "assigned_at": "2026-12-01T09:00:00",
        "due_at": "2026-12-02T09:00:00",
        "closed_at": "",
        "archived_at": "",
        "outcome": "",
        "resolution": "",
        "order_number": "",
        "agent_survey": "",
        "attempt1": "",
        "attempt2": "",
        "attempt3": "",
    }
    return typed_records(
        pd.DataFrame([{**base, "id": i, **row} for i, row in enumerate(rows, start=1)])
    )


def test_the_indicator_counts_invalid_marks_and_flags_incomplete_ones():
    records = ledger(
        {"outcome": "SI", "attempt1": CALL},
        {
            "outcome": "CONTACTO EFECTIVO",
            "resolution": "ESCALADO",
            "agent_survey": "10",
            "attempt1": CALL,
        },
        {"outcome": "NO CONTACTO", "attempt1": CALL},
        {
            "outcome": "CONTACTO EFECTIVO",
            "resolution": "ESCALADO",
            "attempt1": "2026-11-30T10:00:00",
        },
        {"outcome": "CONTACTO EFECTIVO", "resolution": "ESCALADO", "attempt1": CALL},
        {"exclusion": "pymes", "agent": ""},
    )
    report = compute_kpi(records, SETTINGS, NOW, ())
    payload = report.as_json()
    assert payload["invalid_marks"] == 2
    assert payload["effective_contacts"] == 2  # record 4 is closed, its date only flagged
    assert payload["pending"] == 3
    assert payload["inconsistencies_by_rule"]["attempt_before_sent"] == 1
    assert payload["flagged_records"] == 4
    ready, held = form_ready(records, SETTINGS, NOW)
    assert ready.tolist() == [False, False, False, False, True, True]
    assert held.tolist() == [True, True, True, True, False, False]
    assert np.array_equal(ready | held, np.ones(6, dtype=bool))


# -- all the customer's numbers (issue 10, item 10) ----------------------------------------------
def test_other_phones_gathers_every_phone_column_but_the_ani():
    from swat_xl.core.fields import is_phone_label, other_phones

    extra = {
        "Teléfono 2": "+57 300 123 4567",
        "Celular": 3109876543.0,
        "Teléfono fijo": "601-555-1234",
        "TELEFONO_3": "3001234567",  # the same number again
        "Zona": "Norte",
        "Tel. ANI": "3200000000",  # the ANI itself
        "Celular 2": "sin dato",
    }
    assert other_phones(extra, "3200000000") == "3001234567 / 3109876543 / 6015551234"
    assert is_phone_label("Teléfono fijo") and not is_phone_label("Zona")
    assert other_phones({}, "3200000000") == ""


def test_each_distinct_value_is_judged_once_and_missing_ones_as_nan():
    values = np.array(
        ["NO CONTESTA", None, "no contesta", np.nan, "NO CONTESTA", pd.NaT, ""], dtype=object
    )
    codes, table = distinct_values(values)
    assert len(table) == 4  # two texts, "" and one NaN for every missing value
    taken = table[codes]
    assert [t for t, v in zip(taken, values, strict=True) if isinstance(v, str)] == [
        "NO CONTESTA",
        "no contesta",
        "NO CONTESTA",
        "",
    ]
    assert all(isinstance(t, float) and np.isnan(t) for t in taken[[1, 3, 5]])
    # a missing outcome is an invalid one, whatever stands for it; "" is no outcome
    frame = pd.DataFrame(
        {
            "outcome": values,
            "resolution": [""] * 7,
            "order_number": [""] * 7,
            "agent_survey": [""] * 7,
        }
    )
    state = frame_state(frame, SETTINGS)
    assert state.outcome.tolist() == ["NO CONTESTA", "", "NO CONTESTA", "", "NO CONTESTA", "", ""]
    assert state.invalid["outcome"].tolist() == [False, True, False, True, False, True, False]


_OPTION_KEYS = {fold_option(v) for v in (*OUTCOMES, *RESOLUTIONS)}
_OPTION_TEXTS = st.sampled_from(sorted({*OUTCOMES, *RESOLUTIONS}))
_ACCENTED = str.maketrans("AEIOUaeiou", "ÁÉÍÓÚáéíóú")


def _typed(spaces: str, option: str, tail: str, lower: bool, accents: bool) -> str:
    """An option as someone may type it: spaces before, any case, accented ends, a tail."""
    text = option.lower() if lower else option.upper()
    if accents:
        text = text[:1].translate(_ACCENTED) + text[1:-1] + text[-1:].translate(_ACCENTED)
    return spaces + text + tail


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.text(alphabet=" .\u00a0\tAaCcOoNnEeÉéíÍ", max_size=30),
        st.builds(
            _typed,
            st.text(alphabet=" \u00a0\t", max_size=3),
            _OPTION_TEXTS,
            st.sampled_from(["", ".", " .", "..", "x"]),
            st.booleans(),
            st.booleans(),
        ),
    )
)
def test_a_text_that_folds_to_an_option_is_never_passed_over(text):
    """The cheap check before folding (its ends) never rules out a text that folds to an
    option: typed options with any spacing, case, accents and dots pass it."""
    if fold_option(text) in _OPTION_KEYS:
        assert may_fold_to(text, key_ends(_OPTION_KEYS)), repr(text)


def test_texts_that_are_no_option_are_mostly_passed_over():
    ends = key_ends(_OPTION_KEYS)
    for text in ("Bogotá D.C.", "Calle 10 # 4-20", "3001234567", "Juan Pérez", "zzz"):
        assert fold_option(text) not in _OPTION_KEYS
    assert not may_fold_to("3001234567", ends) and not may_fold_to("zzz", ends)
    assert may_fold_to("  contacto  efectivo. ", ends)
