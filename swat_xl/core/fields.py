"""Canonical fields of a Power BI detractor export and the column labels that map to them."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from swat_xl.core.text import clean_phone, label_key


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # canonical name used in code and in the ledger
    label: str  # Spanish label shown to users
    aliases: tuple[str, ...]  # default column labels in the export
    kind: str = "text"  # text | code | phone | datetime | number


FIELDS: tuple[Field, ...] = (
    Field("survey_id", "Id encuesta", ("ID_ENCUESTA", "Id Encuesta", "Encuesta ID"), "code"),
    Field(
        "survey_date",
        "Fecha encuesta",
        ("FECHA_ENCUESTA", "Fecha", "Fecha Encuesta", "Fecha Hora Encuesta"),
        "datetime",
    ),
    Field("ally", "Aliado", ("ALIADO", "Socio", "Partner", "Aliado Gestion"), "text"),
    Field(
        "segment_text",
        "Segmento",
        ("SEGMENTO", "Unidad de Negocio", "Linea de Negocio", "Segmento Cliente"),
        "text",
    ),
    Field("account", "Cuenta RR", ("CUENTA", "Cuenta RR", "Numero Cuenta", "Cuenta"), "code"),
    Field("custcode", "Custcode", ("CUSTCODE", "Cust Code", "Codigo Cliente Movil"), "code"),
    Field(
        "ani",
        "ANI",
        ("ANI", "Teléfono", "Telefono", "Celular", "Numero Contacto", "Telefono Contacto"),
        "phone",
    ),
    Field(
        "customer_name",
        "Cliente",
        ("NOMBRE_CLIENTE", "Nombre Cliente", "Cliente", "Nombre", "Razon Social"),
        "text",
    ),
    Field(
        "score",
        "Calificación",
        ("CALIFICACION", "NPS", "Nota", "Puntaje", "Calificacion Encuesta"),
        "number",
    ),
    Field(
        "reason",
        "Motivo",
        ("MOTIVO", "Comentario", "Verbatim", "Motivo Calificacion", "Observacion Cliente"),
        "text",
    ),
    Field(
        "customer_type", "Tipo cliente", ("TIPO_CLIENTE", "Tipo Cliente", "Tipo de Cliente"), "text"
    ),
    Field(
        "account_status",
        "Estado cuenta",
        ("ESTADO_CUENTA", "Estado Cuenta", "Estado de Cuenta"),
        "text",
    ),
    Field(
        "cancellation_request",
        "Solicitud cancelación",
        ("SOLICITUD_CANCELACION", "Solicitud Cancelacion", "Solicitud de Cancelacion"),
        "text",
    ),
    Field("city", "Ciudad", ("CIUDAD", "Ciudad", "Municipio"), "text"),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
CANONICAL: tuple[str, ...] = tuple(f.name for f in FIELDS)


def default_aliases() -> dict[str, tuple[str, ...]]:
    return {f.name: f.aliases for f in FIELDS}


class AliasMap:
    """Resolves export column labels to canonical fields (case/accent/space/underscore-blind)."""

    def __init__(self, aliases: Mapping[str, Iterable[str]] | None = None) -> None:
        merged = default_aliases()
        for name, extra in (aliases or {}).items():
            if name not in FIELD_BY_NAME:
                continue
            merged[name] = tuple(dict.fromkeys([*extra]))
        self.aliases: dict[str, tuple[str, ...]] = merged
        self._lookup: dict[str, str] = {}
        for name, labels in merged.items():
            for label in (*labels, name):
                self._lookup.setdefault(label_key(label), name)

    def field_for(self, label: object) -> str | None:
        return self._lookup.get(label_key(label))

    def map_header(self, header: Iterable[object]) -> dict[int, str]:
        """Column index -> canonical field, first column wins when two map to one field."""
        found: dict[int, str] = {}
        taken: set[str] = set()
        for index, label in enumerate(header):
            name = self.field_for(label)
            if name and name not in taken:
                found[index] = name
                taken.add(name)
        return found

    def tried(self, name: str) -> str:
        """The aliases of a field as a Spanish list for error messages."""
        return ", ".join(f"«{a}»" for a in self.aliases[name])


# Section 4, step 4: "más de 2 intentos de contacto a los números registrados": every phone
# the export carries, not only the ANI. A column is a phone column when its label says so.
_PHONE_LABEL = re.compile(r"(telefono|tel|celular|cel|movil|fijo|whatsapp|numerocontacto|ani)")


def is_phone_label(label: object) -> bool:
    """An extra column of the export that holds customer phone numbers (``Teléfono 2``,
    ``Celular``, ``Teléfono fijo``…)."""
    if isinstance(label, str):  # every record of a cut carries the same labels
        return _is_phone_text(label)
    key = label_key(label)
    return bool(key) and _PHONE_LABEL.match(key) is not None


@functools.lru_cache(maxsize=4096)
def _is_phone_text(label: str) -> bool:
    key = label_key(label)
    return bool(key) and _PHONE_LABEL.match(key) is not None


def other_phones(extra: Mapping[str, object], ani: str) -> str:
    """The customer's numbers in the phone columns of ``extra`` other than the ANI, cleaned,
    each once, joined with `` / `` (what «Otros teléfonos» shows)."""
    seen = {ani} if ani else set()
    found: list[str] = []
    for label, value in extra.items():
        if not is_phone_label(label):
            continue
        phone = clean_phone(value)
        if len(phone) < 7 or not phone.isdigit() or phone in seen:
            continue
        seen.add(phone)
        found.append(phone)
    return " / ".join(found)
