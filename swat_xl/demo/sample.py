"""Realistic Power BI detractor exports (and agent rosters) with their ground truth.

Used by ``swat-xl demo`` and by the test suite. Everything is driven by a seeded
:class:`random.Random` (no global state), so the same arguments always give the same file and
the same :class:`GroundTruth`. The ground truth is computed from how each row was *generated*
(which rows belong to Almacontact, which repeat an earlier survey, which exclusion was planted),
never by calling :mod:`swat_xl.core.rules`: it is the independent answer the rules are checked
against.

Survey identity (``GroundTruth.keys``), chosen to mirror what the importer stores:

* files with a survey id column: ``"E:<survey id>"`` (ids are zero-padded text, e.g.
  ``"E:0004512345"``);
* files without it (``header_variant="no_id"`` or ``with_survey_id=False``):
  ``"K:<segment>|<account, or custcode when there is no account>|<ANI as 10 digits>|<survey
  date-time as YYYY-MM-DDTHH:MM>"``, e.g. ``"K:hogar|48213377|3104567890|2026-11-28T14:05"``.

Fresh surveys never collide with each other nor with the ``previous`` cuts under either scheme;
only the planted repeats do. Use a different ``seed`` for each cut of a sequence.

``.xlsx`` files are written by XlsxWriter (``constant_memory``); from ``_FAST_XLSX_MIN_ROWS``
data rows on, the data rows are streamed as sheet XML into the package XlsxWriter wrote around
them (same cells and styles, several times faster: 150 000 rows in seconds).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import re
import zipfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import xlsxwriter

from swat_xl.core.cells import col_letter
from swat_xl.core.config import Settings
from swat_xl.core.fields import CANONICAL

__all__ = [
    "ALLY_SPELLINGS",
    "DEFAULT_START",
    "EXCLUSION_ORDER",
    "FORMULA_LIKE_REASONS",
    "HEADER_VARIANTS",
    "OTHER_ALLIES",
    "TRUNCATION_NOTE",
    "GroundTruth",
    "header_columns",
    "make_export",
    "make_roster",
    "simulate_agent_day",
]

DEFAULT_START = dt.datetime(2026, 11, 29, 8, 0)
WINDOW_MINUTES = 2 * 24 * 60  # surveys fall within the 2 days before the cut

# Exclusion reasons in the order they are checked: a record counts under the first that applies.
EXCLUSION_ORDER: tuple[str, ...] = (
    "cortesia",
    "pymes",
    "cancelado",
    "cancelado_debe",
    "solicitud_cancelacion",
)
SEGMENTS: tuple[str, ...] = ("hogar", "movil")

ALLY_SPELLINGS: tuple[str, ...] = (
    "ALMACONTACT",
    "Almacontact S.A.S.",
    "ALMA CONTACT",
    "Almacontact",
)
_ALLY_WEIGHTS = (40, 25, 15, 20)
OTHER_ALLIES: tuple[str, ...] = ("KONECTA", "ATENTO", "TELEPERFORMANCE", "COS")
_OTHER_WEIGHTS = (35, 30, 25, 10)
ALLY_SHARE = 0.6
IN_FILE_DUPLICATE_SHARE = 0.05

TRUNCATION_NOTE = "Exported data exceeded the allowed volume. Some data may have been truncated."
FORMULA_LIKE_REASONS: tuple[str, ...] = (
    '=HYPERLINK("http://claro.com.co","ver")',
    "+57 llamar de nuevo",
    "-mal servicio",
    "@soporte no responde",
)

# Column label -> field. Fields starting with "x_" are extra columns the importer must ignore.
_HEADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "standard": (
        ("ID_ENCUESTA", "survey_id"),
        ("FECHA_ENCUESTA", "survey_date"),
        ("ALIADO", "ally"),
        ("SEGMENTO", "segment_text"),
        ("CUENTA", "account"),
        ("CUSTCODE", "custcode"),
        ("ANI", "ani"),
        ("NOMBRE_CLIENTE", "customer_name"),
        ("CALIFICACION", "score"),
        ("MOTIVO", "reason"),
        ("TIPO_CLIENTE", "customer_type"),
        ("ESTADO_CUENTA", "account_status"),
        ("SOLICITUD_CANCELACION", "cancellation_request"),
        ("CIUDAD", "city"),
        ("REGIONAL", "x_regional"),
        ("CANAL", "x_channel"),
        ("HORA_LLAMADA", "x_call_time"),
    ),
    "friendly": (
        ("Id Encuesta", "survey_id"),
        ("Fecha", "survey_date"),
        ("Socio", "ally"),
        ("Unidad de Negocio", "segment_text"),
        ("Cuenta RR", "account"),
        ("Cust Code", "custcode"),
        ("Teléfono", "ani"),
        ("Cliente", "customer_name"),
        ("Nota", "score"),
        ("Comentario", "reason"),
        ("Tipo Cliente", "customer_type"),
        ("Estado Cuenta", "account_status"),
        ("Solicitud Cancelacion", "cancellation_request"),
        ("Ciudad", "city"),
        ("Regional", "x_regional"),
        ("Canal de Atención", "x_channel"),
    ),
    "english_mixed": (
        ("Partner", "ally"),
        ("id encuesta", "survey_id"),
        ("fecha_encuesta", "survey_date"),
        ("Linea de Negocio", "segment_text"),
        ("Numero Cuenta", "account"),
        ("cust_code", "custcode"),
        ("Celular", "ani"),
        ("NOMBRE CLIENTE", "customer_name"),
        ("NPS", "score"),
        ("Verbatim", "reason"),
        ("tipo de cliente", "customer_type"),
        ("ESTADO DE CUENTA", "account_status"),
        ("Solicitud_de_Cancelación", "cancellation_request"),
        ("municipio", "city"),
        ("Region", "x_regional"),
        ("Channel", "x_channel"),
        ("Call Time", "x_call_time"),
        ("Survey Type", "x_survey_type"),
    ),
    "no_id": (
        ("Fecha Hora Encuesta", "survey_date"),
        ("Aliado Gestion", "ally"),
        ("Segmento Cliente", "segment_text"),
        ("Cuenta", "account"),
        ("CUSTCODE", "custcode"),
        ("Telefono Contacto", "ani"),
        ("Nombre Cliente", "customer_name"),
        ("Puntaje", "score"),
        ("Motivo Calificacion", "reason"),
        ("Tipo de Cliente", "customer_type"),
        ("Estado de Cuenta", "account_status"),
        ("Solicitud de Cancelacion", "cancellation_request"),
        ("Municipio", "city"),
        ("REGIONAL", "x_regional"),
        ("CANAL", "x_channel"),
    ),
}
HEADER_VARIANTS: tuple[str, ...] = tuple(_HEADERS)

_CANONICAL = CANONICAL

_SEGMENT_TEXTS = {
    "hogar": (("HOGAR", "Hogar", "FIJO"), (50, 25, 25)),
    "movil": (("MOVIL", "Móvil", "MÓVIL", "POSTPAGO", "PREPAGO"), (35, 20, 15, 20, 10)),
}
_CUSTOMER_TYPES = {
    "hogar": ("PERSONA NATURAL", "RESIDENCIAL", "MASIVO"),
    "movil": ("PERSONA NATURAL", "MASIVO", "Persona Natural"),
    "cortesia": ("CORTESIA", "Cortesía", "CUENTA CORTESIA"),
    "pymes": ("PYMES", "Pymes", "PYME"),
}
_STATUSES = {
    None: (("ACTIVO", "Activo", "SUSPENDIDO", ""), (80, 8, 4, 8)),
    "cancelado": (("CANCELADO", "Cancelado"), (75, 25)),
    "cancelado_debe": (("CANCELADO DEBE", "Cancelado Debe"), (75, 25)),
}
_NO_REQUEST = (("NO", "No", ""), (60, 10, 30))
_YES_REQUEST = ("SI", "Sí", "X")
# Probability of each exclusion attribute on a randomly generated record.
_P_CUSTOMER = (("cortesia", 0.02), ("pymes", 0.02))
_P_STATUS = (("cancelado", 0.02), ("cancelado_debe", 0.015))
_P_REQUEST = 0.02
_OVERLAPS = (
    ("cortesia", "cancelado"),
    ("pymes", "solicitud_cancelacion"),
    ("cancelado_debe", "solicitud_cancelacion"),
    ("cortesia", "cancelado_debe", "solicitud_cancelacion"),
    ("pymes", "cancelado"),
)

_MALE_NAMES = (
    "Juan", "Carlos", "Andrés", "Luis", "Jorge", "José", "Diego", "Camilo", "Felipe", "Santiago",
    "Sebastián", "Alejandro", "Óscar", "Julián", "Hernán", "Fabio", "Edwin", "Jhon", "Wilson",
    "Nelson", "Rubén", "Iván", "Jairo", "David",
)  # fmt: skip
_FEMALE_NAMES = (
    "María", "Ana", "Luz", "Diana", "Paola", "Carolina", "Sandra", "Claudia", "Marcela",
    "Natalia", "Valentina", "Daniela", "Lina", "Ángela", "Yolanda", "Gloria", "Martha", "Adriana",
    "Leidy", "Yesenia", "Esperanza", "Mónica", "Beatriz", "Fernanda",
)  # fmt: skip
_FIRST_NAMES = _MALE_NAMES + _FEMALE_NAMES
_SURNAMES = (
    "Rodríguez", "Gómez", "González", "Martínez", "García", "López", "Hernández", "Sánchez",
    "Ramírez", "Pérez", "Díaz", "Muñoz", "Rojas", "Moreno", "Jiménez", "Vargas", "Castro",
    "Ortiz", "Gutiérrez", "Suárez", "Ospina", "Castaño", "Peña", "Agudelo", "Quintero", "Zapata",
    "Cárdenas", "Londoño", "Valencia", "Arango", "Mejía", "Restrepo", "Bedoya", "Henao",
    "Salazar", "Ríos", "Cañas", "Ibáñez", "Ochoa", "Mosquera", "Avendaño", "Buitrago", "Núñez",
)  # fmt: skip
_CITIES = (
    ("Bogotá D.C.", "CENTRO", 30), ("Soacha", "CENTRO", 3), ("Medellín", "NOROCCIDENTE", 14),
    ("Bello", "NOROCCIDENTE", 2), ("Itagüí", "NOROCCIDENTE", 2), ("Envigado", "NOROCCIDENTE", 2),
    ("Cali", "OCCIDENTE", 10), ("Palmira", "OCCIDENTE", 1), ("Popayán", "OCCIDENTE", 1),
    ("Pasto", "OCCIDENTE", 1), ("Barranquilla", "COSTA", 7), ("Soledad", "COSTA", 2),
    ("Cartagena", "COSTA", 4), ("Santa Marta", "COSTA", 2), ("Valledupar", "COSTA", 1),
    ("Montería", "COSTA", 1), ("Sincelejo", "COSTA", 1), ("Bucaramanga", "ORIENTE", 4),
    ("Cúcuta", "ORIENTE", 2), ("Tunja", "ORIENTE", 1), ("Villavicencio", "ORIENTE", 2),
    ("Pereira", "EJE CAFETERO", 2), ("Manizales", "EJE CAFETERO", 2),
    ("Armenia", "EJE CAFETERO", 1), ("Ibagué", "CENTRO SUR", 2), ("Neiva", "CENTRO SUR", 1),
)  # fmt: skip
_CITY_WEIGHTS = tuple(w for _, _, w in _CITIES)
_LANDLINE_AREAS = {"CENTRO": "1", "NOROCCIDENTE": "4", "OCCIDENTE": "2", "COSTA": "5",
                   "ORIENTE": "7", "EJE CAFETERO": "6", "CENTRO SUR": "8"}  # fmt: skip
_MOBILE_PREFIXES = (
    "300", "301", "302", "304", "305", "310", "311", "312", "313", "314", "315", "316", "317",
    "318", "319", "320", "321", "322", "323", "324", "350", "351",
)  # fmt: skip
_CHANNELS = ("IVR", "SMS", "CORREO", "WHATSAPP", "APP MI CLARO")
_SURVEY_TYPES = ("NPS TRANSACCIONAL", "NPS RELACIONAL")
_SCORES = (0, 1, 2, 3, 4, 5, 6)
_SCORE_WEIGHTS = (25, 15, 12, 14, 12, 12, 10)

_REASONS = {
    "hogar": (
        "Llevo tres días sin servicio de internet y nadie me da solución",
        "El técnico no llegó a la visita programada y tuve que pedir permiso en el trabajo",
        "La señal de televisión se pixela todo el tiempo, sobre todo en las noches",
        "Me cobraron en la factura de este mes un servicio que nunca solicité",
        "El internet es muy lento, pago 300 megas y no llega ni a 50",
        "Me prometieron un descuento por permanencia y no lo aplicaron",
        "El módem se reinicia solo varias veces al día",
        "Me dejaron el cable suelto en la fachada después de la instalación",
        "No me llega la factura al correo y me reportaron en mora",
        "Se cae el internet cada vez que llueve",
        "El traslado del servicio a la casa nueva lleva dos semanas",
        "Pésimo servicio, no lo recomiendo",
    ),
    "movil": (
        "No tengo señal dentro de mi casa, solo cerca de la ventana",
        "Me descontaron saldo por servicios que no pedí",
        "La portabilidad tardó más de una semana y quedé sin línea",
        "Los datos se acaban antes de terminar el mes",
        "El roaming no funcionó en el viaje aunque lo activé",
        "Me cambiaron el plan sin autorización",
        "El equipo que compré a cuotas llegó con la pantalla rayada",
        "Me llaman todos los días a ofrecerme cosas que no necesito",
        "La reposición de la SIM me costó más de lo que dijeron",
        "Muy demorada la atención en el centro de servicio",
    ),
    "both": (
        "La llamada se cortó dos veces y me tocó volver a explicar todo",
        "El asesor fue muy amable pero no resolvió nada",
        "Quiero cancelar porque el servicio falla todos los días",
        "Me tuvieron 40 minutos en espera",
    ),
}
_TAILS = (
    " y ya he llamado cuatro veces",
    ". Nadie da solución",
    ", espero que me devuelvan la plata",
    ". Estoy pensando en cambiarme de operador",
    ", el asesor me dijo que en 48 horas y nada",
    ". Radicado 2026-45871 sin respuesta",
    '. El asesor dijo: "eso no es con nosotros"; muy mal',
    ". Tengo niños estudiando en casa y los dejaron sin clases",
    ", 100% insatisfecho",
)

# Every minute of a day; negative indexes wrap to the day before (a call before midnight).
_TIMES = tuple(dt.time(m // 60, m % 60) for m in range(24 * 60))
_ACCENTS = str.maketrans("ÁÉÍÓÚÜáéíóúü", "AEIOUUaeiouu")


@dataclass
class GroundTruth:
    """What a correct import of the generated file must find."""

    rows_read: int  # data rows written (no header, title, blank or footer rows)
    ally_rows: int  # rows of Almacontact (any spelling)
    duplicate_rows: int  # ally rows repeating an earlier row of this file or of `previous` cuts
    new_records: int  # ally_rows - duplicate_rows
    by_segment: dict[str, int]  # {"hogar": n, "movil": n} over new records
    excluded: dict[str, int]  # per exclusion reason (first that applies) over new records
    keys: list[str]  # identities of the new records, in file order (see module docstring)
    surveys: list[dict[str, Any]]  # new records: canonical fields + "segment", "exclusion", "key"
    has_survey_id: bool = True  # the file has a survey id column (else keys are composites)
    header: list[str] = field(default_factory=list)  # column labels as written
    header_row: int = 0  # 0-based index of the header row in the sheet / csv file
    truncated: bool = False  # the footer carries Power BI's truncation note


def header_columns(variant: str, *, with_survey_id: bool = True) -> list[tuple[str, str]]:
    """``(label, field)`` pairs of a header variant; extra columns have fields starting ``x_``."""
    if variant not in _HEADERS:
        raise ValueError(
            f"Variante de encabezados desconocida «{variant}»; use una de: "
            + ", ".join(HEADER_VARIANTS)
        )
    has_id = with_survey_id and variant != "no_id"
    return [(label, name) for label, name in _HEADERS[variant] if has_id or name != "survey_id"]


def _identity(rec: dict[str, Any], has_id: bool) -> str:
    if has_id:
        return f"E:{rec['survey_id']}"
    return rec.get("_composite") or _composite(rec)


def _composite(rec: dict[str, Any]) -> str:
    code = rec["account"] or rec["custcode"]
    return f"K:{rec['segment']}|{code}|{rec['ani']}|{rec['survey_date']:%Y-%m-%dT%H:%M}"


def _exclusion_of(attrs: Sequence[str]) -> str:
    for reason in EXCLUSION_ORDER:
        if reason in attrs:
            return reason
    return ""


def _table(items: Sequence[Any], weights: Sequence[int] | None = None) -> tuple[Any, ...]:
    """Items repeated by their integer weight: ``table[int(u * len(table))]`` is a weighted
    choice from one uniform draw ``u``, several times cheaper than ``random.choices``."""
    weights = weights or [1] * len(items)
    return tuple(item for item, weight in zip(items, weights, strict=True) for _ in range(weight))


def _pick(table: tuple[Any, ...], u: float) -> Any:
    return table[int(u * len(table))]  # hot paths inline this expression


def _name_forms(names: Sequence[str]) -> tuple[tuple[str, str, str], ...]:
    """(as typed, upper case, upper case without accents) of each name."""
    return tuple((n, n.upper(), n.upper().translate(_ACCENTS).replace("Ñ", "N")) for n in names)


_PICK_ALLY = _table(ALLY_SPELLINGS, _ALLY_WEIGHTS)
_PICK_OTHER = _table(OTHER_ALLIES, _OTHER_WEIGHTS)
_PICK_SEGMENT_TEXT = {seg: _table(*pair) for seg, pair in _SEGMENT_TEXTS.items()}
_PICK_CUSTOMER_TYPE = {kind: _table(values) for kind, values in _CUSTOMER_TYPES.items()}
_PICK_STATUS = {kind: _table(*pair) for kind, pair in _STATUSES.items()}
_PICK_NO_REQUEST = _table(*_NO_REQUEST)
_PICK_YES_REQUEST = _table(_YES_REQUEST)
_PICK_CITY = _table(
    [(city, city.upper().translate(_ACCENTS), regional) for city, regional, _ in _CITIES],
    _CITY_WEIGHTS,
)
_PICK_REGIONAL = _table(sorted(_LANDLINE_AREAS))
_PICK_MOBILE = _table(_MOBILE_PREFIXES)
_PICK_FIRSTS = (_table(_name_forms(_MALE_NAMES)), _table(_name_forms(_FEMALE_NAMES)))
_PICK_SURNAME = _table(_name_forms(_SURNAMES))
_PICK_CHANNEL = _table(_CHANNELS)
_PICK_SURVEY_TYPE = _table(_SURVEY_TYPES)
_PICK_SCORE = _table(_SCORES, _SCORE_WEIGHTS)
_PICK_REASON = {seg: _table(texts) for seg, texts in _REASONS.items()}
_PICK_TAIL = _table(_TAILS)
_PICK_TAIL_COUNT = _table((0, 1, 2), (2, 2, 1))
_PICK_FORMULA = _table(FORMULA_LIKE_REASONS)
_PICK_ACCOUNT_DIGITS = _table((6, 7, 8, 9), (1, 1, 2, 2))
_PICK_CUSTCODE_HEAD = _table("13578")


class _Generator:
    """Draws surveys from one seeded stream and renders them as cells."""

    def __init__(self, rng: random.Random, start: dt.datetime, fields: Sequence[str]) -> None:
        self.rng = rng
        self.u = rng.random
        self.start = start
        self.used_ids: set[str] = set()
        self.used_composites: set[str] = set()
        self.customers: list[dict[str, Any]] = []  # Almacontact customers, for repeat surveys
        # daytime minutes of the window: (date-time, key stamp, minute of the day)
        self.slots: list[tuple[dt.datetime, str, int]] = []
        for minutes in range(1, WINDOW_MINUTES + 1):
            when = start - dt.timedelta(minutes=minutes)
            if 7 <= when.hour <= 21:
                self.slots.append((when, f"{when:%Y-%m-%dT%H:%M}", when.hour * 60 + when.minute))
        self.request_dates = [f"{start - dt.timedelta(days=d):%d/%m/%Y}" for d in range(1, 31)]
        self.fields = list(fields)
        where = {name: i for i, name in enumerate(self.fields)}
        self.i_account = where["account"]
        self.i_custcode = where["custcode"]
        self.i_ani = where["ani"]
        self.take = itemgetter(*self.fields)  # every record holds every field
        self.i_stamps = [(where["survey_date"], "%d/%m/%Y %H:%M")]
        if "x_call_time" in where:
            self.i_stamps.append((where["x_call_time"], "%H:%M"))
        self.texts: dict[Any, str] = {}  # date / time -> csv text

    # --- values -------------------------------------------------------------------------
    def survey_id(self) -> str:
        u = self.u
        while True:
            value = f"{1 + int(u() * 99_999_999):010d}"
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def account(self) -> str:
        low = 10 ** (_PICK_ACCOUNT_DIGITS[int(self.u() * len(_PICK_ACCOUNT_DIGITS))] - 1)
        return str(low + int(self.u() * 9 * low))

    def custcode(self) -> str:
        u = self.u
        tail = 10_000_000 + int(u() * 90_000_000)
        if tail % 10 == 0:  # no trailing zero: a custcode typed as a number keeps its digits
            tail += 1 + int(u() * 9)
        return f"{_PICK_CUSTCODE_HEAD[int(u() * len(_PICK_CUSTCODE_HEAD))]}.{tail}"

    def phone(self, segment: str, regional: str) -> str:
        u = self.u
        if segment == "hogar" and u() < 0.3:
            return f"60{_LANDLINE_AREAS[regional]}{2_000_000 + int(u() * 7_000_000)}"
        return f"{_PICK_MOBILE[int(u() * len(_PICK_MOBILE))]}{int(u() * 10_000_000):07d}"

    def person(self) -> str:
        u = self.u
        style = u()
        form = 2 if style < 0.5 else 1 if style < 0.75 else 0
        names = _PICK_FIRSTS[u() < 0.5]
        parts = [names[int(u() * len(names))][form]]
        if u() < 0.3:
            second = names[int(u() * len(names))][form]
            if second != parts[0]:
                parts.append(second)
        parts.append(_PICK_SURNAME[int(u() * len(_PICK_SURNAME))][form])
        parts.append(_PICK_SURNAME[int(u() * len(_PICK_SURNAME))][form])
        return " ".join(parts)

    def reason(self, segment: str) -> str:
        u = self.u
        if u() < 0.015:
            return _PICK_FORMULA[int(u() * len(_PICK_FORMULA))]
        text = _pick(_PICK_REASON[segment if u() < 0.75 else "both"], u())
        for _ in range(_PICK_TAIL_COUNT[int(u() * len(_PICK_TAIL_COUNT))]):
            tail = _PICK_TAIL[int(u() * len(_PICK_TAIL))]
            if tail not in text and len(text) + len(tail) <= 200:
                text += tail
        if u() < 0.02 and len(text) <= 165:
            text += "\nPor favor llamar después de las 5"
        if u() < 0.3:
            text = text.upper()
        return text

    def random_attrs(self) -> tuple[str, ...]:
        u = self.u
        attrs: list[str] = []
        for group in (_P_CUSTOMER, _P_STATUS):
            draw = u()
            for name, p in group:
                if draw < p:
                    attrs.append(name)
                    break
                draw -= p
        if u() < _P_REQUEST:
            attrs.append("solicitud_cancelacion")
        return tuple(attrs)

    # --- records ------------------------------------------------------------------------
    def customer(self, segment: str, blank_segment: bool) -> dict[str, Any]:
        u = self.u
        city, city_upper, regional = _PICK_CITY[int(u() * len(_PICK_CITY))]
        return {
            "segment": segment,
            "segment_text": "" if blank_segment else _pick(_PICK_SEGMENT_TEXT[segment], u()),
            "account": self.account() if segment == "hogar" else "",
            "custcode": self.custcode() if segment == "movil" else "",
            "ani": self.phone(segment, regional),
            "customer_name": self.person(),
            "city": city_upper if u() < 0.5 else city,
            "x_regional": regional,
        }

    def record(
        self,
        *,
        ally: bool,
        segment: str | None = None,
        blank_segment: bool = False,
        attrs: Sequence[str] | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """A fresh survey whose identity (id and composite) was never used before."""
        u = self.u
        if attrs is None:
            attrs = self.random_attrs()
        if ally and segment is None and not blank_segment and self.customers and u() < 0.01:
            # the same customer answered another survey at another time: a new record
            customer = self.customers[int(u() * len(self.customers))]
        else:
            customer = self.customer(segment or ("hogar" if u() < 0.55 else "movil"), blank_segment)
            if ally:
                self.customers.append(customer)
        seg = customer["segment"]
        ctype = "cortesia" if "cortesia" in attrs else "pymes" if "pymes" in attrs else seg
        status = (
            "cancelado_debe"
            if "cancelado_debe" in attrs
            else "cancelado"
            if "cancelado" in attrs
            else None
        )
        if "solicitud_cancelacion" in attrs:
            request = (
                self.request_dates[int(u() * 30)]
                if u() < 0.25
                else _PICK_YES_REQUEST[int(u() * len(_PICK_YES_REQUEST))]
            )
        else:
            request = _PICK_NO_REQUEST[int(u() * len(_PICK_NO_REQUEST))]
        ally_name = (
            _PICK_ALLY[int(u() * len(_PICK_ALLY))]
            if ally
            else _PICK_OTHER[int(u() * len(_PICK_OTHER))]
        )
        prefix = f"K:{seg}|{customer['account'] or customer['custcode']}|{customer['ani']}|"
        slots = self.slots
        used = self.used_composites
        while True:
            when, stamp, minute = slots[int(u() * len(slots))]
            composite = prefix + stamp
            if composite not in used:
                used.add(composite)
                break
        return {
            **customer,
            "survey_id": self.survey_id(),
            "survey_date": when,
            "ally": ally_name,
            "score": _PICK_SCORE[int(u() * len(_PICK_SCORE))],
            "reason": reason or self.reason(seg),
            "customer_type": _pick(_PICK_CUSTOMER_TYPE[ctype], u()),
            "account_status": _pick(_PICK_STATUS[status], u()),
            "cancellation_request": request,
            "x_channel": _PICK_CHANNEL[int(u() * len(_PICK_CHANNEL))],
            "x_survey_type": _PICK_SURVEY_TYPE[int(u() * len(_PICK_SURVEY_TYPE))],
            "x_call_time": _TIMES[minute - 5 - int(u() * 236)],  # minutes before the survey
            "exclusion": _exclusion_of(attrs),
            "ally_row": ally,
            "_composite": composite,
        }

    def again(self, survey: dict[str, Any]) -> dict[str, Any]:
        """A survey of an earlier cut emitted again (same identity)."""
        u = self.u
        rec = {k: v for k, v in survey.items() if k != "key"}
        rec["ally_row"] = True
        rec["x_regional"] = _PICK_REGIONAL[int(u() * len(_PICK_REGIONAL))]
        rec["x_channel"] = _PICK_CHANNEL[int(u() * len(_PICK_CHANNEL))]
        rec["x_survey_type"] = _PICK_SURVEY_TYPE[int(u() * len(_PICK_SURVEY_TYPE))]
        when = rec["survey_date"]
        rec["x_call_time"] = _TIMES[when.hour * 60 + when.minute - 5 - int(u() * 236)]
        return rec

    def variant_of(self, rec: dict[str, Any]) -> dict[str, Any]:
        """The same survey exported again with some non-identity content changed."""
        u = self.u
        twin = dict(rec)
        twin["score"] = _PICK_SCORE[int(u() * len(_PICK_SCORE))]
        if u() < 0.5:
            twin["reason"] = self.reason(rec["segment"])
        if u() < 0.3:
            twin["customer_name"] = rec["customer_name"].title()
        if rec["ally_row"] and u() < 0.5:
            twin["ally"] = _PICK_ALLY[int(u() * len(_PICK_ALLY))]
        return twin

    # --- rendering ----------------------------------------------------------------------
    def xlsx_cells(self, rec: dict[str, Any]) -> list[Any]:
        """Typed cells: accounts and phones sometimes numbers, custcodes mostly text."""
        u = self.u
        cells = list(self.take(rec))
        account = cells[self.i_account]
        if account and u() < 0.6:
            cells[self.i_account] = int(account)
        custcode = cells[self.i_custcode]
        if custcode and u() < 0.25:
            cells[self.i_custcode] = float(custcode)
        cells[self.i_ani] = self.phone_form(cells[self.i_ani], allow_number=True)
        return cells

    def csv_cells(self, rec: dict[str, Any]) -> list[Any]:
        """Text cells (the csv module writes the integer score as text)."""
        cells = list(self.take(rec))
        texts = self.texts
        for index, pattern in self.i_stamps:
            value = cells[index]
            text = texts.get(value)
            if text is None:
                text = texts[value] = format(value, pattern)
            cells[index] = text
        cells[self.i_ani] = self.phone_form(cells[self.i_ani], allow_number=False)
        return cells

    def phone_form(self, ani: str, *, allow_number: bool) -> Any:
        if not ani:
            return ""
        draw = self.u()
        if allow_number and draw < 0.45:
            return int(ani)
        if draw < 0.75:
            return ani
        if draw < 0.88:
            return f"+57 {ani[:3]} {ani[3:6]} {ani[6:]}"
        return int(f"57{ani}") if allow_number and draw < 0.94 else f"57{ani}"


def _format_of(path: Path, fmt: str | None) -> str:
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in ("xlsx", "csv"):
        raise ValueError(f"Formato no soportado «{chosen}» para {path.name}; use .xlsx o .csv")
    return chosen


def _ally_plan(n_ally: int) -> list[dict[str, Any]]:
    """Planted Almacontact records so that every case shows up several times in small files."""
    plan: list[dict[str, Any]] = []
    reps = min(3, n_ally // 25)
    for reason in EXCLUSION_ORDER:
        plan += [{"attrs": (reason,)} for _ in range(reps)]
    if n_ally >= 60:
        plan += [{"attrs": overlap} for overlap in _OVERLAPS]
    blanks = min(3, n_ally // 40)
    for seg in SEGMENTS:
        plan += [{"segment": seg, "blank_segment": True} for _ in range(blanks)]
    if n_ally >= 30:
        plan += [{"reason": text} for text in FORMULA_LIKE_REASONS]
    return plan[:n_ally]


def make_export(
    path: str | Path,
    *,
    rows: int = 400,
    seed: int = 1,
    header_variant: str = "standard",
    fmt: str | None = None,
    previous: Sequence[GroundTruth] = (),
    repeat_from_previous: int = 0,
    with_survey_id: bool = True,
    footer: bool = True,
    title_rows: bool = False,
    encoding: str = "utf-8-sig",
    delimiter: str = ";",
    start: dt.datetime | None = None,
    truncated: bool | None = None,
) -> GroundTruth:
    """Write a Power BI-like detractor export to ``path`` and return its ground truth.

    ``rows`` is the number of data rows. ``previous`` are the ground truths of earlier cuts
    (their identities count as already imported); ``repeat_from_previous`` of their surveys
    are emitted again as Almacontact rows (duplicates). Use a different ``seed`` per cut.
    ``truncated`` adds Power BI's truncation note to the footer (``None``: decided by the seed).
    """
    path = Path(path)
    kind = _format_of(path, fmt)
    columns = header_columns(header_variant, with_survey_id=with_survey_id)
    has_id = any(name == "survey_id" for _, name in columns)
    if rows < 1:
        raise ValueError("El número de filas debe ser al menos 1")
    if not 0 <= repeat_from_previous <= rows:
        raise ValueError("Las filas repetidas de cortes anteriores deben estar entre 0 y «rows»")
    start = (start or DEFAULT_START).replace(second=0, microsecond=0)
    rng = random.Random(seed)
    decor = random.Random(f"decor:{seed}")  # layout choices, independent of the data stream
    fields = [name for _, name in columns]
    gen = _Generator(rng, start, fields)

    pool = [survey for cut in previous for survey in cut.surveys]
    seen: set[str] = {key for cut in previous for key in cut.keys}
    for survey in pool:
        gen.used_ids.add(survey["survey_id"])
        gen.used_composites.add(_composite(survey))
    if repeat_from_previous:
        if any(cut.has_survey_id != has_id for cut in previous):
            raise ValueError(
                "Para repetir encuestas de cortes anteriores todos los cortes deben tener "
                "(o no tener) la columna de id de encuesta"
            )
        if repeat_from_previous > len(pool):
            raise ValueError(
                f"Se pidieron {repeat_from_previous} encuestas repetidas pero los cortes "
                f"anteriores solo tienen {len(pool)}"
            )

    # Row budget: repeats of previous cuts, in-file duplicates, fresh rows (~60 % Almacontact).
    rest = rows - repeat_from_previous
    n_dup = round(rest * IN_FILE_DUPLICATE_SHARE) if rest >= 20 else 0
    n_fresh = rest - n_dup
    n_ally = round(n_fresh * ALLY_SHARE)
    plan = _ally_plan(n_ally)
    plan += [{} for _ in range(n_ally - len(plan))]
    fresh = [gen.record(ally=True, **spec) for spec in plan]
    fresh += [gen.record(ally=False) for _ in range(n_fresh - n_ally)]
    rng.shuffle(fresh)

    render = gen.xlsx_cells if kind == "xlsx" else gen.csv_cells
    entries = [(rec, render(rec)) for rec in fresh]

    # Extra rows placed after fresh row j (j = -1: before the first fresh row).
    after: dict[int, list[tuple[dict[str, Any], list[Any]]]] = {}
    ally_idx = [i for i, rec in enumerate(fresh) if rec["ally_row"]]
    other_idx = [i for i, rec in enumerate(fresh) if not rec["ally_row"]]
    n_dup_other = min(len(other_idx), n_dup - round(n_dup * ALLY_SHARE))
    n_dup_ally = min(len(ally_idx), n_dup - n_dup_other)
    for i in rng.sample(ally_idx, n_dup_ally) + rng.sample(other_idx, n_dup_other):
        rec, cells = entries[i]
        if rng.random() < 0.5:  # exact repeated row
            dup = (rec, cells)
        else:  # same survey (same id / identity), content changed
            twin = gen.variant_of(rec)
            dup = (twin, render(twin))
        after.setdefault(rng.randint(i, len(entries) - 1), []).append(dup)
    for survey in rng.sample(pool, repeat_from_previous):
        rec = gen.again(survey)
        after.setdefault(rng.randint(-1, len(entries) - 1), []).append((rec, render(rec)))

    ordered = list(after.get(-1, []))
    for j, entry in enumerate(entries):
        ordered.append(entry)
        ordered.extend(after.get(j, []))

    # Ground truth, from how each row was generated.
    ally_rows = duplicates = 0
    keys: list[str] = []
    surveys: list[dict[str, Any]] = []
    by_segment = dict.fromkeys(SEGMENTS, 0)
    excluded = dict.fromkeys(EXCLUSION_ORDER, 0)
    for rec, _ in ordered:
        if not rec["ally_row"]:
            continue
        ally_rows += 1
        key = _identity(rec, has_id)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        keys.append(key)
        by_segment[rec["segment"]] += 1
        if rec["exclusion"]:
            excluded[rec["exclusion"]] += 1
        public = {name: rec[name] for name in _CANONICAL}
        if not has_id:
            public["survey_id"] = ""
        public.update(segment=rec["segment"], exclusion=rec["exclusion"], key=key)
        surveys.append(public)

    truth = GroundTruth(
        rows_read=len(ordered),
        ally_rows=ally_rows,
        duplicate_rows=duplicates,
        new_records=ally_rows - duplicates,
        by_segment=by_segment,
        excluded=excluded,
        keys=keys,
        surveys=surveys,
        has_survey_id=has_id,
        header=[label for label, _ in columns],
        truncated=decor.random() < 0.25 if truncated is None else truncated,
    )
    titles: list[str] = []
    if title_rows:
        titles = [f"Detractores SWAT - corte {start:%d/%m/%Y %H:%M}"]
        if decor.random() < 0.5:
            titles.append("Fuente: Power BI Claro Colombia - Experiencia del Cliente")
        titles.append("")
    truth.header_row = len(titles)
    label_of = {name: label for label, name in columns}
    filters = "\n".join(
        [
            "Filtros aplicados:",
            f"{label_of['ally']} no está en blanco",
            f"{label_of['score']} es menor o igual que 6",
            f"{label_of['survey_date']} está en los últimos 2 días",
        ]
    )
    bottom = [filters, TRUNCATION_NOTE] if truth.truncated else [filters]
    data = [cells for _, cells in ordered]
    if kind == "xlsx":
        _write_xlsx(path, truth, titles, data, fields, footer, bottom, start)
    else:
        _write_csv(path, truth, titles, data, footer, bottom, encoding, delimiter)
    return truth


_WIDTHS = {"survey_date": 17, "reason": 48, "customer_name": 30, "ally": 20, "ani": 16}
# From this many data rows on, rows are streamed as XML into the XlsxWriter package (see
# _inject_rows): XlsxWriter's per-cell API costs several microseconds a cell, too slow for
# 150 000-row exports. Smaller files are written cell by cell through XlsxWriter.
_FAST_XLSX_MIN_ROWS = 2000
_SHEET_PART = "xl/worksheets/sheet1.xml"


def _write_xlsx(
    path: Path,
    truth: GroundTruth,
    titles: list[str],
    data: list[list[Any]],
    fields: list[str],
    footer: bool,
    bottom: list[str],
    start: dt.datetime,
) -> None:
    fast = len(data) >= _FAST_XLSX_MIN_ROWS
    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,  # "=HYPERLINK(...)" in a reason stays text
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(str(path), options) as book:
        book.set_properties({"title": "Export", "author": "Power BI", "created": start})
        sheet = book.add_worksheet("Export")
        date_fmt = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        time_fmt = book.add_format({"num_format": "hh:mm"})
        bold = book.add_format({"bold": True})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        for col, name in enumerate(fields):
            style = {"survey_date": date_fmt, "x_call_time": time_fmt}.get(name)
            sheet.set_column(col, col, _WIDTHS.get(name, 14), style)
        row = 0
        for text in titles:
            if text:
                sheet.write_string(row, 0, text, bold)
            row += 1
        for col, label in enumerate(truth.header):
            sheet.write_string(row, col, label, bold)
        row += 1
        first_data = row
        if fast:
            row += len(data)
        else:
            _write_cells(sheet, row, data, date_fmt, time_fmt)
            row += len(data)
        total_row = row + 1
        if footer:
            row += 1  # blank row
            sheet.write_string(row, 0, "Total", bold)
            sheet.write_number(row, 1, truth.rows_read, bold)
            row += 2
            for text in bottom:
                sheet.write_string(row, 0, text, wrap)
                row += 1
    if fast:
        styles = {dt.datetime: date_fmt.xf_index, dt.time: time_fmt.xf_index}
        before = f'<row r="{total_row + 1}"' if footer else "</sheetData>"
        last_cell = f"{col_letter(len(fields) - 1)}{row}"
        _inject_rows(path, data, first_data, styles, before, last_cell)


def _write_cells(sheet: Any, row: int, data: list[list[Any]], date_fmt: Any, time_fmt: Any) -> None:
    write_string = sheet.write_string
    write_number = sheet.write_number
    write_datetime = sheet.write_datetime
    for cells in data:
        for col, value in enumerate(cells):
            kind = type(value)
            if kind is str:
                if value:
                    write_string(row, col, value)
            elif kind is int or kind is float:
                write_number(row, col, value)
            elif kind is dt.datetime:
                write_datetime(row, col, value, date_fmt)
            elif kind is dt.time:
                write_datetime(row, col, value, time_fmt)
        row += 1


_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def _rows_xml(
    data: list[list[Any]], first_row: int, styles: dict[type, int | None]
) -> Iterator[str]:
    """``<row>`` elements of the data, as XlsxWriter writes them in constant-memory mode
    (inline strings, numbers, dates as serial numbers with the date style)."""
    width = max(map(len, data), default=0)
    openers = [f'<c r="{col_letter(i)}' for i in range(width)]
    date_tail = f'" s="{styles[dt.datetime]}"><v>'
    time_tail = f'" s="{styles[dt.time]}"><v>'
    # value -> the cell's XML after its row number; repeated values (allies, segments,
    # statuses, cities, dates...) are formatted once. Bounded: most texts are unique.
    tails: dict[Any, str] = {}
    chunk: list[str] = []
    number = first_row + 1  # 1-based row number
    for cells in data:
        r = str(number)
        parts = ['<row r="', r, '">']
        append = parts.append
        for opener, value in zip(openers, cells, strict=False):
            tail = tails.get(value)
            if tail is None:
                kind = type(value)
                if kind is str:
                    if not value:
                        continue
                    text = value
                    if "&" in text or "<" in text or ">" in text:
                        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    space = ' xml:space="preserve"' if text != text.strip() else ""
                    tail = f'" t="inlineStr"><is><t{space}>{text}</t></is></c>'
                elif kind is int or kind is float:
                    tail = f'"><v>{value!r}</v></c>'
                elif kind is dt.datetime:
                    delta = value - _EXCEL_EPOCH
                    tail = f"{date_tail}{delta.days + delta.seconds / 86400!r}</v></c>"
                elif kind is dt.time:
                    seconds = value.hour * 3600 + value.minute * 60 + value.second
                    tail = f"{time_tail}{seconds / 86400!r}</v></c>"
                else:  # None: an empty cell
                    continue
                if len(tails) < 20_000:
                    tails[value] = tail
            append(opener)
            append(r)
            append(tail)
        append("</row>")
        chunk.append("".join(parts))
        number += 1
        if len(chunk) >= 1000:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def _inject_rows(
    path: Path,
    data: list[list[Any]],
    first_row: int,
    styles: dict[type, int | None],
    before: str,
    last_cell: str,
) -> None:
    """Stream the data rows into the sheet XlsxWriter wrote around an empty gap."""
    if styles[dt.datetime] is None:  # set_column() registers it; guard against API changes
        raise RuntimeError("XlsxWriter no registró el formato de fecha")
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info.filename)) for info in source.infolist()]
    temp = path.with_name(f"{path.name}.tmp")
    try:
        with zipfile.ZipFile(temp, "w") as target:
            for info, payload in parts:
                clone = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                clone.compress_type = zipfile.ZIP_DEFLATED
                clone.external_attr = info.external_attr
                if info.filename != _SHEET_PART:
                    target.writestr(clone, payload)
                    continue
                sheet = payload.decode("utf-8")
                sheet = re.sub(
                    r'<dimension ref="[^"]*"/>',
                    f'<dimension ref="A1:{last_cell}"/>',
                    sheet,
                    count=1,
                )
                cut = sheet.index(before)
                # Fast deflate for the big part (no public API for a ZipInfo's level before
                # Python 3.13's ``compress_level``; ``_compresslevel`` is read by 3.11-3.12).
                if hasattr(clone, "compress_level"):
                    clone.compress_level = 1
                else:
                    clone._compresslevel = 1
                with target.open(clone, "w") as out:
                    out.write(sheet[:cut].encode("utf-8"))
                    for chunk in _rows_xml(data, first_row, styles):
                        out.write(chunk.encode("utf-8"))
                    out.write(sheet[cut:].encode("utf-8"))
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _write_csv(
    path: Path,
    truth: GroundTruth,
    titles: list[str],
    data: list[list[Any]],
    footer: bool,
    bottom: list[str],
    encoding: str,
    delimiter: str,
) -> None:
    width = len(truth.header)

    def padded(*cells: Any) -> list[Any]:
        return [*cells] + [""] * (width - len(cells))

    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for text in titles:
            writer.writerow(padded(text))
        writer.writerow(truth.header)
        writer.writerows(data)
        if footer:
            writer.writerow(padded())
            writer.writerow(padded("Total", truth.rows_read))
            writer.writerow(padded())
            for text in bottom:
                writer.writerow(padded(text))


def make_roster(
    path: str | Path,
    *,
    agents: int = 6,
    seed: int = 1,
    encoding: str = "utf-8-sig",
    delimiter: str = ";",
) -> list[dict[str, Any]]:
    """Write an agents' roster (``.csv`` or ``.xlsx``) and return its rows.

    Columns ``Asesor``, ``Perfil`` (Hogar / Móvil / Ambos), ``Activo`` (Sí / No) and
    ``Capacidad`` (an integer, or blank for no limit; ``None`` in the returned rows). Profiles
    are mixed and exactly one agent is inactive when there are at least 5.
    """
    path = Path(path)
    kind = _format_of(path, None)
    if agents < 1:
        raise ValueError("El número de asesores debe ser al menos 1")
    rng = random.Random(f"roster:{seed}")
    names: list[str] = []
    while len(names) < agents:
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}"
        if name not in names:
            names.append(name)
    profiles = ["Hogar", "Móvil", "Ambos"][:agents]
    profiles += rng.choices(("Hogar", "Móvil", "Ambos"), (40, 40, 20), k=agents - len(profiles))
    rng.shuffle(profiles)
    capacities: list[int | None] = [None, rng.randint(8, 30)][:agents]
    capacities += [None if rng.random() < 0.35 else rng.randint(8, 30) for _ in names[2:]]
    rng.shuffle(capacities)
    inactive = rng.randrange(agents) if agents >= 5 else -1
    roster = [
        {
            "Asesor": name,
            "Perfil": profile,
            "Activo": "No" if i == inactive else "Sí",
            "Capacidad": capacity,
        }
        for i, (name, profile, capacity) in enumerate(zip(names, profiles, capacities, strict=True))
    ]
    header = ["Asesor", "Perfil", "Activo", "Capacidad"]
    if kind == "xlsx":
        with xlsxwriter.Workbook(str(path)) as book:
            sheet = book.add_worksheet("Asesores")
            bold = book.add_format({"bold": True})
            sheet.set_column(0, 0, 28)
            sheet.set_column(1, 3, 12)
            sheet.write_row(0, 0, header, bold)
            for row, agent in enumerate(roster, start=1):
                sheet.write_string(row, 0, agent["Asesor"])
                sheet.write_string(row, 1, agent["Perfil"])
                sheet.write_string(row, 2, agent["Activo"])
                if agent["Capacidad"] is not None:
                    sheet.write_number(row, 3, agent["Capacidad"])
    else:
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(header)
            for agent in roster:
                capacity = agent["Capacidad"]
                writer.writerow(
                    [*(agent[h] for h in header[:3]), "" if capacity is None else capacity]
                )
    return roster


def simulate_agent_day(
    folder: str | Path,
    *,
    seed: int = 1,
    now: dt.datetime = DEFAULT_START,
    share: float = 0.85,
    until: dt.datetime | None = None,
    holidays: Collection[dt.date] = (),
) -> int:
    """Mark the agent workbooks in ``folder`` the way agents would during a shift (demo only).

    Most records get an outcome (mostly effective contacts, each with its attempts at legal
    hours), a few stay open. An agent calls a record from ``now`` on, never before it was
    assigned to them («Asignado»), within the legal calling hours of the day (Ley 2300 de 2023,
    the default hours of the settings: none on Sundays nor on ``holidays``) and, given
    ``until``, not after it (when the workbooks are collected); a record with no room left
    that day stays open. Returns how many rows were marked."""
    import openpyxl

    rng = random.Random(seed)
    marked = 0
    for path in sorted(Path(folder).glob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            if ws.sheet_state != "visible":
                continue
            header = [c.value for c in ws[1]]
            if "ID" not in header or "Resultado" not in header:
                continue
            col = {name: header.index(name) + 1 for name in header if name}
            for row in range(2, ws.max_row + 1):
                if ws.cell(row, col["ID"]).value is None or rng.random() > share:
                    continue
                offset = rng.randrange(30, 300)
                roll = rng.random()
                if roll < 0.82:
                    outcome, attempts = "CONTACTO EFECTIVO", 1
                elif roll < 0.92:
                    outcome, attempts = "NO CONTESTA", 1
                else:
                    outcome, attempts = "NO CONTACTO", 3
                assigned = ws.cell(row, col["Asignado"]).value if "Asignado" in col else None
                first = _first_call(
                    max(now, assigned) if isinstance(assigned, dt.datetime) else now,
                    offset,
                    spread=_ATTEMPT_GAP * (attempts - 1),
                    until=until,
                    holidays=holidays,
                )
                if first is None:
                    continue  # no legal time left today: called another day
                for n in range(attempts):
                    ws.cell(row, col[f"Intento {n + 1}"]).value = first + n * _ATTEMPT_GAP
                ws.cell(row, col["Resultado"]).value = outcome
                if outcome == "CONTACTO EFECTIVO":
                    ws.cell(row, col["Solución"]).value = rng.choice(
                        (
                            "SOLUCIONADO PRIMER CONTACTO",
                            "SOLUCIONADO PRIMER CONTACTO",
                            "ESCALADO",
                            "VISITA TÉCNICA",
                        )
                    )
                    ws.cell(row, col["Encuesta asesor"]).value = str(rng.choice((4, 5, 5, 3)))
                    if ws.cell(row, col["Solución"]).value == "VISITA TÉCNICA":
                        # the procedure: a technical visit carries its order (OT / LLS)
                        ws.cell(row, col["OT / LLS"]).value = f"LLS-{ws.cell(row, col['ID']).value}"
                marked += 1
        book.save(path)
    return marked


_ATTEMPT_GAP = dt.timedelta(minutes=40)
_CALLING_HOURS = Settings()  # the legal calling hours of a master's default settings


def _first_call(
    earliest: dt.datetime,
    offset: int,
    *,
    spread: dt.timedelta,
    until: dt.datetime | None,
    holidays: Collection[dt.date],
) -> dt.datetime | None:
    """The first attempt's time: ``offset`` minutes after ``earliest`` (fitted into the room
    left) so that every attempt, the last ``spread`` after the first, falls within the legal
    hours of ``earliest``'s day and not after ``until``; None when there is no such time."""
    day = earliest.date()
    if day.weekday() == 6 or day in holidays:
        return None
    hours = _CALLING_HOURS
    start, end = hours.saturday_hours if day.weekday() == 5 else hours.weekday_hours
    opens = dt.datetime.combine(day, dt.time(start))
    closes = dt.datetime.combine(day, dt.time(end))
    if until is not None:
        closes = min(closes, until)
    earliest = max(earliest, opens)
    room = int((closes - spread - earliest).total_seconds() // 60)
    if room < 10:
        return None
    if offset > room:  # the attempts would run past the hours: earlier, still after «earliest»
        offset = 10 + (offset - 10) % (room - 9)
    return earliest + dt.timedelta(minutes=offset)
