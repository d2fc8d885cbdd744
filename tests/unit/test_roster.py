"""Roster parsing, validation, coverage warnings and the inverse table."""

from __future__ import annotations

import math

import pytest

from swat_xl.core.model import Agent, Profile
from swat_xl.core.roster import ROSTER_COLUMNS, check_coverage, parse_roster, roster_rows
from swat_xl.errors import RosterError

HEADER = list(ROSTER_COLUMNS)


def one(row: list[object], header: list[object] | None = None) -> Agent:
    (agent,) = parse_roster([header or HEADER, row])
    return agent


def error_of(rows: list[list[object]], **kwargs: str) -> RosterError:
    with pytest.raises(RosterError) as info:
        parse_roster(rows, **kwargs)
    return info.value


# --- header -------------------------------------------------------------------------------


def test_basic_roster_in_order() -> None:
    agents = parse_roster(
        [
            HEADER,
            ["Ana Gómez", "Hogar", "Sí", 30],
            ["Luis Díaz", "Móvil", "No", None],
            ["Marta Ruiz", "Ambos", None, ""],
        ]
    )
    assert agents == [
        Agent("Ana Gómez", Profile.HOGAR, True, 30),
        Agent("Luis Díaz", Profile.MOVIL, False, None),
        Agent("Marta Ruiz", Profile.AMBOS, True, None),
    ]


def test_header_labels_are_case_accent_and_order_insensitive_and_extras_ignored() -> None:
    header = ["CAPACIDAD ", "Observaciones", "perfil", " asesor", "ACTIVO"]
    (agent,) = parse_roster([header, [5, "lo que sea", "movil", "Pedro", "no"]])
    assert agent == Agent("Pedro", Profile.MOVIL, False, 5)


def test_optional_columns_default_to_active_and_unlimited() -> None:
    (agent,) = parse_roster([["Asesor", "Perfil"], ["Pedro", "Hogar"]])
    assert agent == Agent("Pedro", Profile.HOGAR, True, None)


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["Asesor", "Activo", "Capacidad"], ["«Perfil»"]),
        (["Perfil", "Activo"], ["«Asesor»"]),
        (["Nombre", "Tipo"], ["«Asesor»", "«Perfil»"]),
    ],
)
def test_missing_required_column_is_named(header: list[object], missing: list[str]) -> None:
    err = error_of([header, ["x", "y"]])
    for label in missing:
        assert label in str(err)
    assert "Falta" in str(err)
    assert err.row == 1
    assert "fila 1" in str(err)
    assert "hoja «Asesores»" in str(err)


def test_repeated_header_column_is_an_error() -> None:
    err = error_of([["Asesor", "Perfil", "ASESOR"], ["a", "Hogar", "b"]])
    assert "dos veces" in str(err)
    assert "columna «Asesor»" in str(err)


def test_empty_table_is_an_error() -> None:
    assert "vacía" in str(error_of([]))


def test_header_only_gives_no_agents() -> None:
    assert parse_roster([HEADER]) == []


# --- rows ---------------------------------------------------------------------------------


def test_blank_rows_are_skipped_but_rows_keep_their_numbers() -> None:
    rows: list[list[object]] = [
        HEADER,
        ["Ana", "Hogar", "Sí", 3],
        [None, "", "  ", float("nan")],
        [],
        ["Luis", "Fijo", "Sí", 3],
    ]
    err = error_of(rows)
    assert err.row == 5
    assert "fila 5" in str(err)


def test_short_rows_are_padded() -> None:
    agents = parse_roster([HEADER, ["Ana", "Hogar"], ["Luis", "Móvil", "No"]])
    assert agents == [
        Agent("Ana", Profile.HOGAR, True, None),
        Agent("Luis", Profile.MOVIL, False, None),
    ]


def test_names_are_cleaned() -> None:
    assert one(["  Ana\x07 Gómez ", "Hogar"]).name == "Ana Gómez"


def test_missing_name_is_an_error() -> None:
    err = error_of([HEADER, ["", "Hogar", "Sí", 3]])
    assert "Falta el nombre" in str(err)
    assert (err.row, err.column, err.sheet) == (2, "Asesor", "Asesores")


def test_unassigned_is_not_a_name() -> None:
    err = error_of([HEADER, ["sin ASIGNAR", "Hogar"]])
    assert err.column == "Asesor"


@pytest.mark.parametrize(
    ("first", "second"),
    [("María Pérez", "maria perez"), ("Ana", "ANA"), ("José  Luis", "Jose Luis")],
)
def test_duplicate_names_are_an_error(first: str, second: str) -> None:
    err = error_of([HEADER, [first, "Hogar"], ["Otro", "Móvil"], [second, "Ambos"]])
    message = str(err)
    assert "repetido" in message
    assert "fila 2" in message  # where the first one is
    assert "fila 4" in message  # where the error is
    assert "columna «Asesor»" in message
    assert (err.row, err.column) == (4, "Asesor")


@pytest.mark.parametrize(
    ("text", "profile"),
    [
        ("Hogar", Profile.HOGAR),
        ("HOGAR", Profile.HOGAR),
        (" hogar ", Profile.HOGAR),
        ("Móvil", Profile.MOVIL),
        ("Movil", Profile.MOVIL),
        ("MÓVIL", Profile.MOVIL),
        ("Ambos", Profile.AMBOS),
        ("AMBOS", Profile.AMBOS),
        ("hogar y móvil", Profile.AMBOS),
        ("Móvil y Hogar", Profile.AMBOS),
        ("Hogar/Móvil", Profile.AMBOS),
    ],
)
def test_profiles(text: str, profile: Profile) -> None:
    assert one(["Ana", text]).profile is profile


@pytest.mark.parametrize("text", ["Fijo", "Pymes", "hogar y pymes", "1"])
def test_unknown_profile_is_an_error(text: str) -> None:
    err = error_of([HEADER, ["Ana", "Hogar"], ["Luis", text, "Sí", 4]])
    message = str(err)
    assert f"Perfil «{text}» no reconocido" in message
    assert "«Luis»" in message
    assert "Hogar, Móvil o Ambos" in message
    assert "fila 3" in message
    assert "columna «Perfil»" in message
    assert "hoja «Asesores»" in message


def test_missing_profile_is_an_error() -> None:
    err = error_of([HEADER, ["Ana", None, "Sí"]])
    assert "Falta el perfil" in str(err)
    assert (err.row, err.column) == (2, "Perfil")


@pytest.mark.parametrize(
    ("value", "active"),
    [
        ("Sí", True),
        ("si", True),
        ("S", True),
        ("x", True),
        (True, True),
        ("TRUE", True),
        (1, True),
        (1.0, True),
        ("1", True),
        (None, True),
        ("", True),
        ("No", False),
        ("n", False),
        (False, False),
        ("false", False),
        (0, False),
        (0.0, False),
        ("0", False),
    ],
)
def test_active_values(value: object, active: bool) -> None:
    assert one(["Ana", "Hogar", value]).active is active


def test_invalid_active_is_an_error() -> None:
    err = error_of([HEADER, ["Ana", "Hogar", "tal vez"]])
    assert "«tal vez»" in str(err)
    assert "Sí o No" in str(err)
    assert (err.row, err.column) == (2, "Activo")


@pytest.mark.parametrize(
    ("value", "capacity"),
    [(None, None), ("", None), (float("nan"), None), (30, 30), (30.0, 30), ("30", 30),
     (" 12 ", 12), ("15,0", 15), (0, 0), ("0", 0)],
)  # fmt: skip
def test_capacity_values(value: object, capacity: int | None) -> None:
    assert one(["Ana", "Hogar", "Sí", value]).capacity == capacity


@pytest.mark.parametrize("value", [-1, -1.0, "-3", 2.5, "2,5", "diez", True, math.inf, "n/a"])
def test_invalid_capacity_is_an_error(value: object) -> None:
    err = error_of([HEADER, ["Ana", "Hogar", "Sí", 1], ["Luis", "Móvil", "Sí", value]])
    message = str(err)
    assert "capacidad" in message
    assert "«Luis»" in message
    assert "entero mayor o igual a 0" in message
    assert "fila 3" in message
    assert "columna «Capacidad»" in message
    assert (err.row, err.column) == (3, "Capacidad")


def test_source_names_the_sheet_or_the_file() -> None:
    rows: list[list[object]] = [HEADER, ["Ana", "Fijo"]]
    err = error_of(rows, source="Equipo")
    assert err.sheet == "Equipo"
    assert "hoja «Equipo»" in str(err)
    err = error_of(rows, source="C:/datos/asesores.xlsx")
    assert err.sheet is None
    assert "archivo «C:/datos/asesores.xlsx»" in str(err)  # the full path, as given


def test_error_is_an_input_error() -> None:
    from swat_xl.errors import InputError

    assert isinstance(error_of([HEADER, ["Ana", "Fijo"]]), InputError)


# --- coverage -----------------------------------------------------------------------------


def test_coverage_warns_per_uncovered_segment() -> None:
    agents = [
        Agent("Ana", Profile.HOGAR),
        Agent("Luis", Profile.MOVIL, active=False),
    ]
    assert check_coverage(agents, {"hogar", "movil"}) == [
        "No hay ningún asesor activo para el segmento móvil"
    ]
    assert check_coverage(agents, {"hogar"}) == []
    assert check_coverage([], {"movil", "hogar"}) == [
        "No hay ningún asesor activo para el segmento hogar",
        "No hay ningún asesor activo para el segmento móvil",
    ]
    assert check_coverage([Agent("Marta", Profile.AMBOS)], {"hogar", "movil"}) == []
    assert check_coverage([], set()) == []


def test_coverage_warns_when_every_eligible_agent_has_capacity_zero() -> None:
    agents = [Agent("Ana", Profile.HOGAR, capacity=0), Agent("Luis", Profile.AMBOS, capacity=0)]
    (warning,) = check_coverage(agents, {"hogar"})
    assert "capacidad 0" in warning
    assert "hogar" in warning


# --- inverse ------------------------------------------------------------------------------


def test_roster_rows_is_the_inverse_of_parse_roster() -> None:
    agents = [
        Agent("Ana Gómez", Profile.HOGAR, True, 30),
        Agent("Luis", Profile.MOVIL, False, None),
        Agent("Marta", Profile.AMBOS, True, 0),
    ]
    rows = roster_rows(agents)
    assert rows == [
        ["Asesor", "Perfil", "Activo", "Capacidad"],
        ["Ana Gómez", "Hogar", "Sí", 30],
        ["Luis", "Móvil", "No", ""],
        ["Marta", "Ambos", "Sí", 0],
    ]
    assert parse_roster(rows) == agents
    assert roster_rows([]) == [list(ROSTER_COLUMNS)]
