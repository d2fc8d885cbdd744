"""Numbers in the Config sheet: what Excel holds (floats) or what a person typed, in any
locale, is read back as the same number."""

from __future__ import annotations

import pytest

from swat_xl.core.config import settings_from_rows, settings_to_rows, typed_number
from swat_xl.errors import ConfigError


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        (0.85, 0.85),
        (24, 24.0),
        ("0,85", 0.85),
        ("0.85", 0.85),
        ("85 %", 0.85),
        ("85%", 0.85),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("\u00a024 ", 24.0),
        ("", None),
        ("ochenta", None),
        ("nan", None),
        (True, None),
    ],
)
def test_typed_number(typed, number) -> None:
    assert typed_number(typed) == (pytest.approx(number) if number is not None else None)


@pytest.mark.parametrize("typed", ["0,85", "0.85", "85 %", "85", 0.85, 85])
def test_target_whatever_the_locale(typed) -> None:
    assert settings_from_rows([("meta_contacto_efectivo", typed)]).target == pytest.approx(0.85)


def test_hours_and_counts_typed_with_a_comma() -> None:
    settings = settings_from_rows([("horas_vencimiento", "24,5"), ("retencion_dias", "400")])
    assert (settings.due_hours, settings.retention_days) == (24.5, 400)


def test_not_a_number_is_shown_back() -> None:
    with pytest.raises(ConfigError, match="«horas_vencimiento» debe ser un número, no «mañana»"):
        settings_from_rows([("horas_vencimiento", "mañana")])


def test_the_sheet_holds_numbers_as_numbers() -> None:
    values = {key: value for key, value, _ in settings_to_rows(settings_from_rows([]))}
    for key in (
        "meta_contacto_efectivo",
        "horas_vencimiento",
        "intentos_no_contacto",
        "copias_a_conservar",
        "espera_bloqueo_segundos",
        "retencion_dias",
    ):
        assert isinstance(values[key], int | float) and not isinstance(values[key], bool), key


def test_one_value_not_understood_is_named_with_its_row() -> None:
    rows = [("aliado", "Almacontact"), ("horas_vencimiento", "mañana")]
    with pytest.raises(ConfigError) as caught:
        settings_from_rows(rows, first_row=2)
    assert caught.value.row == 3 and caught.value.column == "Valor"
    assert "«horas_vencimiento» debe ser un número, no «mañana»" in str(caught.value)
    assert "fila 3" in str(caught.value)


def test_every_value_not_understood_is_named_at_once() -> None:
    rows = [
        ("horas_vencimiento", "mañana"),
        ("", ""),
        ("meta_contacto_efectivo", "0,8"),
        ("copias_a_conservar", "-3"),
        ("base_meta", "todos"),
    ]
    with pytest.raises(ConfigError) as caught:
        settings_from_rows(rows, first_row=2)
    message = str(caught.value)
    assert "3 valores no válidos" in message
    assert "fila 2: «horas_vencimiento» debe ser un número, no «mañana»" in message
    assert "fila 5: «copias_a_conservar» no puede ser negativo" in message
    assert "fila 6: «base_meta» debe ser «enviados» o «gestionables», no «todos»" in message
    assert "fila 4" not in message  # 0,8 is a number
