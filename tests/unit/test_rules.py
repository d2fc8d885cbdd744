"""Unit tests of the pure core: text normalisation, ally filter, segment, exclusions, keys."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from swat_xl.core.config import Settings, settings_from_rows, settings_to_rows
from swat_xl.core.fields import CANONICAL, AliasMap
from swat_xl.core.rules import ally_matches, exclusion_of, prepare_cut, segment_of
from swat_xl.core.text import clean_code, clean_phone, fold, label_key
from swat_xl.errors import ConfigError

VALUES = Settings().exclusion_values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (32091775.0, "32091775"),
        ("32091775.0", "32091775"),
        ("000123", "000123"),
        (12, "12"),
        ("  ABC-1 ", "ABC-1"),
        (None, ""),
        (float("nan"), ""),
        ("1.23456789", "1.23456789"),
    ],
)
def test_clean_code(raw, expected):
    assert clean_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3001234567.0, "3001234567"),
        ("+57 300 123 4567", "3001234567"),
        ("573001234567", "3001234567"),
        ("300-123-4567", "3001234567"),
        ("6012345678", "6012345678"),
        ("", ""),
    ],
)
def test_clean_phone(raw, expected):
    assert clean_phone(raw) == expected


def test_fold_and_label_key():
    assert fold("  MÓVIL  ") == "movil"
    assert label_key("Cuenta_RR") == label_key("cuenta rr") == label_key("CUENTA-RR")


@pytest.mark.parametrize(
    "label",
    [
        "ALMACONTACT",
        "Almacontact S.A.S.",
        "ALMA CONTACT",
        "almacontact",
        "Almacontact SAS",
        "ALMACONTAC",
    ],
)
def test_ally_matches_spellings(label):
    assert ally_matches(label, "Almacontact")


@pytest.mark.parametrize("label", ["KONECTA", "ATENTO", "TELEPERFORMANCE", "COS", "", "Alma"])
def test_ally_rejects_others(label):
    assert not ally_matches(label, "Almacontact")


def test_ally_name_is_configurable():
    assert ally_matches("KONECTA S.A.S", "Konecta")
    assert not ally_matches("ALMACONTACT", "Konecta")


@pytest.mark.parametrize(
    ("text", "account", "custcode", "expected"),
    [
        ("HOGAR", "1", "", "hogar"),
        ("Hogar", "", "", "hogar"),
        ("FIJO", "", "", "hogar"),
        ("MOVIL", "", "", "movil"),
        ("Móvil", "", "", "movil"),
        ("MÓVIL", "", "", "movil"),
        ("POSTPAGO", "", "", "movil"),
        ("PREPAGO", "", "", "movil"),
        ("", "12345", "", "hogar"),
        ("", "", "1.2345", "movil"),
        ("", "1.23456", "", "movil"),
        ("", "", "", ""),
    ],
)
def test_segment(text, account, custcode, expected):
    assert segment_of(text, account, custcode) == expected


@pytest.mark.parametrize(
    ("customer_type", "status", "cancel_request", "segment", "expected"),
    [
        ("CORTESIA", "ACTIVO", "NO", "HOGAR", "cortesia"),
        ("Cortesía", "", "", "", "cortesia"),
        ("PYMES", "ACTIVO", "", "", "pymes"),
        ("", "", "", "PYMES", "pymes"),
        ("MASIVO", "CANCELADO", "", "", "cancelado"),
        ("MASIVO", "cancelado", "", "", "cancelado"),
        ("MASIVO", "CANCELADO DEBE", "", "", "cancelado_debe"),
        ("MASIVO", "ACTIVO", "SI", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "Sí", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "S", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "x", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "15/11/2026", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "NO", "", ""),
        ("MASIVO", "ACTIVO", "", "", ""),
        # the procedure's own word, and requests still open (issue 10, item 5)
        ("MASIVO", "ACTIVO", "VIGENTE", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", " vigente ", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "Activa", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "EN TRÁMITE", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "en tramite", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "PENDIENTE", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "ABIERTA", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "2026-11-15", "", "solicitud_cancelacion"),
        ("MASIVO", "ACTIVO", "RECHAZADA", "", ""),
        ("MASIVO", "ACTIVO", "FINALIZADA", "", ""),
        ("MASIVO", "ACTIVO", "ANULADA", "", ""),
        ("MASIVO", "CANCELADA", "", "", "cancelado"),
        ("MASIVO", "Cancelada Debe", "", "", "cancelado_debe"),
        ("MASIVO", "CANCELADA", "NO", "", "cancelado"),
        # first match wins, in the procedure's order
        ("CORTESIA", "CANCELADO", "SI", "", "cortesia"),
        ("PYMES", "CANCELADO DEBE", "SI", "", "pymes"),
        ("MASIVO", "CANCELADO", "SI", "", "cancelado"),
    ],
)
def test_exclusions(customer_type, status, cancel_request, segment, expected):
    assert exclusion_of(customer_type, status, cancel_request, segment, VALUES) == expected


def test_a_config_still_holding_the_old_defaults_gets_the_procedures_words():
    settings = settings_from_rows(
        [("exclusion.solicitud_cancelacion", "SI; SÍ; S; X"), ("exclusion.cancelado", "CANCELADO")]
    )
    values = settings.exclusion_values
    assert exclusion_of("", "", "VIGENTE", "", values) == "solicitud_cancelacion"
    assert exclusion_of("", "CANCELADA", "", "", values) == "cancelado"
    edited = settings_from_rows([("exclusion.solicitud_cancelacion", "SI; VIGENTE")])
    assert exclusion_of("", "", "ACTIVA", "", edited.exclusion_values) == ""


def test_exclusion_values_are_configurable():
    settings = settings_from_rows([("exclusion.pymes", "EMPRESAS; PYME")])
    assert exclusion_of("EMPRESAS", "", "", "", settings.exclusion_values) == "pymes"
    assert exclusion_of("PYMES", "", "", "", settings.exclusion_values) == ""


def _frame(rows: list[dict]) -> pd.DataFrame:
    base = {name: "" for name in CANONICAL}
    frame = pd.DataFrame([{**base, **row} for row in rows])
    frame["survey_date"] = pd.to_datetime(frame["survey_date"].replace("", None))
    return frame


def test_prepare_cut_keys_and_in_file_duplicates():
    when = dt.datetime(2026, 11, 28, 10, 5)
    frame = _frame(
        [
            {
                "ally": "ALMACONTACT",
                "survey_id": "1",
                "segment_text": "HOGAR",
                "account": "9",
                "ani": "3001",
            },
            {
                "ally": "KONECTA",
                "survey_id": "2",
                "segment_text": "HOGAR",
                "account": "9",
                "ani": "3001",
            },
            {
                "ally": "Almacontact S.A.S.",
                "survey_id": "1",
                "segment_text": "HOGAR",
                "account": "9",
                "ani": "3001",
            },
            {
                "ally": "ALMA CONTACT",
                "survey_date": when,
                "segment_text": "MOVIL",
                "custcode": "1.5",
                "ani": "3002",
            },
            {
                "ally": "ALMA CONTACT",
                "survey_date": when,
                "segment_text": "MOVIL",
                "custcode": "1.5",
                "ani": "3002",
            },
        ]
    )
    cut = prepare_cut(frame, Settings())
    assert len(cut) == 4
    assert cut["key"].tolist() == [
        "E:1",
        "E:1",
        "K:movil|1.5|3002|2026-11-28T10:05",
        "K:movil|1.5|3002|2026-11-28T10:05",
    ]
    assert cut["dup_in_file"].tolist() == [False, True, False, True]
    assert cut["segment"].tolist() == ["hogar", "hogar", "movil", "movil"]


def test_settings_round_trip_and_errors():
    settings = Settings()
    rows = [(key, value) for key, value, _ in settings_to_rows(settings)]
    assert settings_from_rows(rows) == settings
    changed = settings_from_rows([("meta_contacto_efectivo", 85), ("horas_vencimiento", "12")])
    assert changed.target == pytest.approx(0.85) and changed.due_hours == 12
    with pytest.raises(ConfigError, match="horas_vencimiento"):
        settings_from_rows([("horas_vencimiento", "mucho")])
    with pytest.raises(ConfigError, match="horario"):
        settings_from_rows([("horario_lunes_viernes", "siempre")])


def test_alias_map_is_blind_to_case_accents_spaces_underscores():
    aliases = AliasMap()
    for label, field in [
        ("id_encuesta", "survey_id"),
        ("FECHA ENCUESTA", "survey_date"),
        ("socio", "ally"),
        ("Unidad_de_Negocio", "segment_text"),
        ("Línea de Negocio", "segment_text"),
        ("cuenta rr", "account"),
        ("Cust_Code", "custcode"),
        ("TELÉFONO", "ani"),
        ("celular", "ani"),
        ("Número Contacto", "ani"),
        ("nps", "score"),
        ("VERBATIM", "reason"),
        ("tipo_cliente", "customer_type"),
        ("estado cuenta", "account_status"),
        ("Solicitud Cancelación", "cancellation_request"),
        ("CIUDAD", "city"),
    ]:
        assert aliases.field_for(label) == field, label
    custom = AliasMap({"account": ("Contrato",)})
    assert custom.field_for("CONTRATO") == "account"
