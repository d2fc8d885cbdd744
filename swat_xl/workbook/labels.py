"""Spanish text of the workbook: sheet names, column headers, display values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from swat_xl.core.text import label_key

SHEET_HOME = "Inicio"
SHEET_INDICATOR = "Indicador"
SHEET_UNASSIGNED = "Sin asignar"
SHEET_BASE = "Base"
SHEET_EXCLUDED = "No gestionables"
SHEET_ROSTER = "Asesores"
SHEET_CONFIG = "Config"
SHEET_PRACTICES = "Prácticas"
SHEET_LOG = "Bitácora"
SHEET_XLWINGS = "xlwings.conf"

#: Folder beside the workbook with its backup copies (and the ribbon's period copies).
BACKUP_FOLDER = "swat_copias"
#: Every temporary file the tool writes beside the workbook (or in its copies) starts with this.
TMP_PREFIX = ".swat-tmp-"

OWNED_SHEETS: tuple[str, ...] = (
    SHEET_HOME,
    SHEET_INDICATOR,
    SHEET_UNASSIGNED,
    SHEET_BASE,
    SHEET_EXCLUDED,
    SHEET_ROSTER,
    SHEET_CONFIG,
    SHEET_PRACTICES,
    SHEET_LOG,
    SHEET_XLWINGS,
)

SEGMENT_LABELS = {"hogar": "Hogar", "movil": "Móvil", "": ""}
EXCLUSION_LABELS = {
    "cortesia": "Cortesía",
    "pymes": "Pymes",
    "cancelado": "Cuenta CANCELADO",
    "cancelado_debe": "Cuenta CANCELADO DEBE",
    "solicitud_cancelacion": "Solicitud de cancelación vigente",
    "": "",
}
# The same reasons in a count («No gestionables: 7 (Cortesía: 2, Cancelado debe: 5)»).
EXCLUSION_COUNT_LABELS = {
    "cortesia": "Cortesía",
    "pymes": "Pymes",
    "cancelado": "Cancelado",
    "cancelado_debe": "Cancelado debe",
    "solicitud_cancelacion": "Solicitud de cancelación",
}

# Agent sheet: every phone of the export besides the ANI.
OTHER_PHONES_HEADER = "Otros teléfonos"

# «Base»: the last outcome the ledger knows (drawn, not read back).
BASE_OUTCOME_HEADER = "Resultado (última actualización)"

# Agent sheet: the ID column and the marking columns, by ledger field.
ID_HEADER = "ID"
OUTCOME_HEADER = "Resultado"
MARK_HEADERS: dict[str, str] = {
    "attempt1": "Intento 1",
    "attempt2": "Intento 2",
    "attempt3": "Intento 3",
    "outcome": "Resultado",
    "resolution": "Solución",
    "order_number": "OT / LLS",
    "agent_survey": "Encuesta asesor",
    "second_request": "Segundo requerimiento",
    "notes": "Observaciones",
}


def is_agent_header(header: Sequence[Any]) -> bool:
    """An agent sheet (whatever its name) is one whose first row holds ``ID`` and ``Resultado``."""
    keys = {label_key(cell) for cell in header}
    return label_key(ID_HEADER) in keys and label_key(OUTCOME_HEADER) in keys
