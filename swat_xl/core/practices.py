"""The management practices of section 6 of the procedure, with a weekly goal for adherence.

Names and texts are the values users pick and read (Spanish), like the outcomes. ``per_week`` is
the goal turned into a number per week: daily = 5 (Monday to Friday), weekly = 1, fortnightly =
0.5, half-yearly = 1/26.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

OWNERS: tuple[str, ...] = ("Supervisor", "Coordinador", "Gerente")

DAILY = 5.0  # one a day, Monday to Friday
WEEKLY = 1.0
FORTNIGHTLY = 0.5
HALF_YEARLY = round(1 / 26, 4)


@dataclass(frozen=True)
class Practice:
    name: str
    frequency: str
    owner: str
    goal: str  # as the procedure states it
    per_week: float
    minutes: int
    description: str


PRACTICES: tuple[Practice, ...] = (
    Practice(
        "Diálogo diario",
        "Diaria",
        "Supervisor",
        "1 al día",
        DAILY,
        15,
        "Conversación formal, estructurada y rutinaria entre el supervisor y su equipo "
        "(revisión, seguimiento y acompañamiento).",
    ),
    Practice(
        "Diálogo semanal",
        "Semanal",
        "Coordinador / Gerente",
        "1 a la semana",
        WEEKLY,
        30,
        "Conversación formal, estructurada y rutinaria entre el coordinador / gerente y su equipo.",
    ),
    Practice(
        "Confirmación de proceso",
        "Diaria",
        "Supervisor",
        "1 al día",
        DAILY,
        30,
        "Acompañamiento del supervisor en una llamada o gestión para apoyar, corregir y "
        "guiar al asesor.",
    ),
    Practice(
        "Confirmación de funciones",
        "Semanal",
        "Coordinador / Gerente",
        "3 a la semana (coordinador) / 1 a la semana (gerente)",
        3.0,
        30,
        "Acompañamiento del coordinador / gerente en una de las prácticas de gestión para "
        "identificar fortalezas y oportunidades de mejora.",
    ),
    Practice(
        "Agenda del líder",
        "Semanal",
        "Supervisor / Coordinador / Gerente",
        "Semanal",
        WEEKLY,
        30,
        "Organizar más eficientemente el tiempo de los líderes.",
    ),
    Practice(
        "Adherencia a las prácticas",
        "Semanal",
        "Supervisor / Coordinador / Gerente",
        "Semanal",
        WEEKLY,
        5,
        "Registro de las prácticas realizadas en la semana para medir el cumplimiento de "
        "las metas.",
    ),
    Practice(
        "Reuniones mejora continua",
        "Quincenal",
        "Supervisor / Coordinador",
        "Quincenal",
        FORTNIGHTLY,
        60,
        "Revisar las ideas y mejoras propuestas por asesores y supervisores y decidir "
        "cuáles se ejecutan.",
    ),
    Practice(
        "Círculo mejora continua",
        "Quincenal",
        "Coordinador",
        "Quincenal",
        FORTNIGHTLY,
        60,
        "Reunión con el cliente: se entregan ideas y mejoras y se recibe el estado de las "
        "propuestas anteriores.",
    ),
    Practice(
        "Reuniones barómetro",
        "Semestral",
        "Supervisor / Coordinador / Gerente",
        "Semestral",
        HALF_YEARLY,
        60,
        "Compartir los resultados de la encuesta de clima laboral y construir planes de acción.",
    ),
)


def recent_weeks(now: dt.date | dt.datetime, count: int = 8) -> list[dt.date]:
    """Mondays of the last ``count`` ISO weeks up to ``now``'s week, oldest first."""
    day = now.date() if isinstance(now, dt.datetime) else now
    monday = day - dt.timedelta(days=day.weekday())
    return [monday - dt.timedelta(weeks=k) for k in range(count - 1, -1, -1)]
