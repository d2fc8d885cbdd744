"""Domain vocabulary: segments, exclusion reasons, outcomes, agents. Plain values only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Segment(StrEnum):
    HOGAR = "hogar"
    MOVIL = "movil"


SEGMENTS: tuple[str, ...] = (Segment.HOGAR.value, Segment.MOVIL.value)

# Exclusion reasons, in the order they are checked: the first match wins.
EXCLUSION_REASONS: tuple[str, ...] = (
    "cortesia",
    "pymes",
    "cancelado",
    "cancelado_debe",
    "solicitud_cancelacion",
)

# Outcomes an agent can mark (the Spanish text is the stored value: it is what Excel shows).
OUTCOME_EFFECTIVE = "CONTACTO EFECTIVO"
OUTCOME_NO_ANSWER = "NO CONTESTA"
OUTCOME_NO_CONTACT = "NO CONTACTO"
OUTCOMES: tuple[str, ...] = (OUTCOME_EFFECTIVE, OUTCOME_NO_ANSWER, OUTCOME_NO_CONTACT)

RESOLUTIONS: tuple[str, ...] = (
    "SOLUCIONADO PRIMER CONTACTO",
    "ESCALADO",
    "VISITA TÉCNICA",
)

UNASSIGNED = "Sin asignar"


class Profile(StrEnum):
    HOGAR = "hogar"
    MOVIL = "movil"
    AMBOS = "ambos"

    def covers(self, segment: str) -> bool:
        return self is Profile.AMBOS or self.value == segment


@dataclass(frozen=True, slots=True)
class Agent:
    """One agent of the roster."""

    name: str
    profile: Profile
    active: bool = True
    capacity: int | None = None  # max open records at once; None = no limit

    def can_take(self, segment: str) -> bool:
        return self.active and self.profile.covers(segment)


# The marking fields an agent fills on their sheet (ledger column names).
MARK_FIELDS: tuple[str, ...] = (
    "attempt1",
    "attempt2",
    "attempt3",
    "outcome",
    "resolution",
    "order_number",
    "agent_survey",
    "second_request",
    "notes",
)
