"""The agents' roster: parse and validate the ``Asesores`` table, check it covers the segments.

The table is ``Asesor | Perfil | Activo | Capacidad`` (labels matched without regard to case,
accents or spacing; column order free; extra columns ignored). Row numbers in messages are the
1-based rows of the table as the user sees it: the header is row 1.
"""

from __future__ import annotations

import numbers
import re
from pathlib import PurePath
from typing import Any

from swat_xl.core.model import SEGMENTS, UNASSIGNED, Agent, Profile
from swat_xl.core.text import clean_text, fold, is_blank, label_key
from swat_xl.errors import RosterError

ROSTER_COLUMNS: tuple[str, ...] = ("Asesor", "Perfil", "Activo", "Capacidad")
_REQUIRED: tuple[str, ...] = ("Asesor", "Perfil")  # Activo and Capacidad have defaults

_TRUE = frozenset({"si", "s", "x", "true", "verdadero", "1", "yes"})
_FALSE = frozenset({"no", "n", "false", "falso", "0"})
_FILE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".txt")

PROFILE_LABELS: dict[Profile, str] = {
    Profile.HOGAR: "Hogar",
    Profile.MOVIL: "Móvil",
    Profile.AMBOS: "Ambos",
}
SEGMENT_LABELS: dict[str, str] = {"hogar": "hogar", "movil": "móvil"}


def _where(source: str) -> dict[str, str]:
    """``file=`` when ``source`` looks like a file name, else ``sheet=``."""
    if PurePath(source).suffix.lower() in _FILE_SUFFIXES:
        return {"file": source}
    return {"sheet": source}


def _parse_profile(value: Any) -> Profile | None:
    words = [w for w in re.findall(r"[a-z]+", fold(value)) if w not in ("y", "e", "o")]
    if words == ["ambos"]:
        return Profile.AMBOS
    kinds = set(words)
    if not kinds or not kinds <= {"hogar", "movil"}:
        return None
    if kinds == {"hogar", "movil"}:
        return Profile.AMBOS
    return Profile.HOGAR if kinds == {"hogar"} else Profile.MOVIL


def _parse_active(value: Any) -> bool | None:
    if is_blank(value):
        return True
    text = fold(clean_text(value))  # 1.0 -> "1", True -> "true"
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def _parse_capacity(value: Any) -> int | None:
    """The capacity, ``None`` when blank; raises ``ValueError`` when not a whole number >= 0."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real):
        as_float = float(value)
        if not as_float.is_integer():
            raise ValueError(value)
        number = int(as_float)
    else:
        text = clean_text(value).replace(" ", "").replace(",", ".")
        try:
            as_float = float(text)
        except ValueError:
            raise ValueError(value) from None
        if not as_float.is_integer():
            raise ValueError(value)
        number = int(as_float)
    if number < 0:
        raise ValueError(value)
    return number


def parse_roster(rows: list[list[object]], *, source: str = "Asesores") -> list[Agent]:
    """Agents of a roster table; ``rows[0]`` is the header. Raises :class:`RosterError`."""
    where = _where(source)
    if not rows:
        raise RosterError("La lista de asesores está vacía: falta el encabezado", **where)
    wanted = {label_key(label): label for label in ROSTER_COLUMNS}
    positions: dict[str, int] = {}
    for index, cell in enumerate(rows[0]):
        label = wanted.get(label_key(cell))
        if label is None:
            continue
        if label in positions:
            raise RosterError(
                f"La columna «{label}» aparece dos veces en el encabezado",
                row=1,
                column=label,
                **where,
            )
        positions[label] = index
    missing = [label for label in _REQUIRED if label not in positions]
    if missing:
        names = " y ".join(f"«{label}»" for label in missing)
        plural = "las columnas" if len(missing) > 1 else "la columna"
        raise RosterError(
            f"Falta {plural} {names} en la lista de asesores; el encabezado debe tener "
            + ", ".join(ROSTER_COLUMNS),
            row=1,
            column=missing[0],
            **where,
        )

    def cell(row: list[object], label: str) -> object:
        index = positions.get(label)
        if index is None or index >= len(row):
            return None
        return row[index]

    agents: list[Agent] = []
    seen: dict[str, int] = {}  # folded name -> row number
    for number, row in enumerate(rows[1:], start=2):
        row = list(row) if row is not None else []
        if all(is_blank(value) for value in row):
            continue
        name = clean_text(cell(row, "Asesor"))
        if not name:
            raise RosterError("Falta el nombre del asesor", row=number, column="Asesor", **where)
        key = fold(name)
        if key == fold(UNASSIGNED):
            raise RosterError(
                f"«{name}» no puede usarse como nombre de asesor",
                row=number,
                column="Asesor",
                **where,
            )
        if key in seen:
            raise RosterError(
                f"El asesor «{name}» está repetido (ya aparece en la fila {seen[key]})",
                row=number,
                column="Asesor",
                **where,
            )
        seen[key] = number

        raw_profile = cell(row, "Perfil")
        if is_blank(raw_profile):
            raise RosterError(
                f"Falta el perfil del asesor «{name}»; use Hogar, Móvil o Ambos",
                row=number,
                column="Perfil",
                **where,
            )
        profile = _parse_profile(raw_profile)
        if profile is None:
            raise RosterError(
                f"Perfil «{clean_text(raw_profile)}» no reconocido para el asesor «{name}»; "
                "use Hogar, Móvil o Ambos",
                row=number,
                column="Perfil",
                **where,
            )

        raw_active = cell(row, "Activo")
        active = _parse_active(raw_active)
        if active is None:
            raise RosterError(
                f"El valor «{clean_text(raw_active)}» de «Activo» del asesor «{name}» "
                "no es válido; use Sí o No",
                row=number,
                column="Activo",
                **where,
            )

        raw_capacity = cell(row, "Capacidad")
        try:
            capacity = _parse_capacity(raw_capacity)
        except ValueError:
            raise RosterError(
                f"La capacidad «{clean_text(raw_capacity)}» del asesor «{name}» no es válida; "
                "debe ser un número entero mayor o igual a 0, o vacía para no limitar",
                row=number,
                column="Capacidad",
                **where,
            ) from None

        agents.append(Agent(name=name, profile=profile, active=active, capacity=capacity))
    return agents


def check_coverage(agents: list[Agent], segments_needed: set[str]) -> list[str]:
    """Spanish warnings for the segments no active agent can take (records stay unassigned)."""
    known = [segment for segment in SEGMENTS if segment in segments_needed]
    others = sorted(segment for segment in segments_needed if segment not in SEGMENTS and segment)
    warnings: list[str] = []
    for segment in known + others:
        label = SEGMENT_LABELS.get(segment, segment)
        eligible = [agent for agent in agents if agent.can_take(segment)]
        if not eligible:
            warnings.append(f"No hay ningún asesor activo para el segmento {label}")
        elif all(agent.capacity == 0 for agent in eligible):
            warnings.append(
                f"Todos los asesores activos del segmento {label} tienen capacidad 0; "
                "sus registros quedarán «Sin asignar»"
            )
    return warnings


def roster_rows(agents: list[Agent]) -> list[list[Any]]:
    """The roster table (header + one row per agent), the inverse of :func:`parse_roster`."""
    rows: list[list[Any]] = [list(ROSTER_COLUMNS)]
    for agent in agents:
        rows.append(
            [
                agent.name,
                PROFILE_LABELS[agent.profile],
                "Sí" if agent.active else "No",
                agent.capacity if agent.capacity is not None else "",
            ]
        )
    return rows
