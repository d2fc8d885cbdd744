"""Settings of one master workbook, read from and written to its ``Config`` sheet.

The sheet is a table ``Clave | Valor | Descripción``; keys are Spanish because users edit them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from swat_xl.core.dates import DATE_HINT, NotADate, parse_date
from swat_xl.core.fields import FIELDS, default_aliases
from swat_xl.core.model import EXCLUSION_REASONS
from swat_xl.core.text import clean_text, fold, is_blank
from swat_xl.errors import ConfigError

# Section 4, step 4: "Las cuentas Cortesía, Pymes, cuentas en estado CANCELADO o CANCELADO DEBE
# y las cuentas con solicitud de cancelación vigente no se gestionarán telefónicamente". A
# request in the procedure's own word (VIGENTE) or one still open excludes; a date there is a
# request too (see swat_xl.core.rules). NO, RECHAZADA, FINALIZADA, ANULADA or empty do not.
DEFAULT_EXCLUSION_VALUES: dict[str, tuple[str, ...]] = {
    "cortesia": ("CORTESIA", "CUENTA CORTESIA", "CORTESÍA"),
    "pymes": ("PYMES", "PYME"),
    "cancelado": ("CANCELADO", "CANCELADA"),
    "cancelado_debe": ("CANCELADO DEBE", "CANCELADA DEBE"),
    "solicitud_cancelacion": (
        "VIGENTE",
        "ACTIVA",
        "EN TRÁMITE",
        "PENDIENTE",
        "ABIERTA",
        "SI",
        "SÍ",
        "S",
        "X",
    ),
}
# Defaults earlier versions wrote into Config: a master that still holds one exactly gets the
# current default (the user never edited it), so VIGENTE excludes there too.
_PREVIOUS_EXCLUSION_DEFAULTS: dict[str, tuple[str, ...]] = {
    "cancelado": ("CANCELADO",),
    "cancelado_debe": ("CANCELADO DEBE",),
    "solicitud_cancelacion": ("SI", "SÍ", "S", "X"),
}


@dataclass(frozen=True)
class Settings:
    ally_name: str = "Almacontact"
    ledger_path: str = ""
    due_hours: float = 24.0
    target: float = 0.80
    min_attempts_no_contact: int = 3  # "más de 2 intentos"
    agent_survey_scale: tuple[str, ...] = ("1", "2", "3", "4", "5")
    sheet_password: str = ""
    download_folder: str = ""
    backups_to_keep: int = 10
    lock_timeout_s: float = 5.0
    period_start: dt.date | None = None
    retention_days: int = 365
    weekday_hours: tuple[int, int] = (7, 19)
    saturday_hours: tuple[int, int] = (8, 15)
    one_contact_per_day: bool = False
    target_base: str = "enviados"  # what «Cumple la meta» divides by: enviados | gestionables
    aliases: dict[str, tuple[str, ...]] = field(default_factory=default_aliases)
    exclusion_values: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_EXCLUSION_VALUES)
    )

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


# key -> (attribute, description). Order is the order of the sheet.
_SCALARS: tuple[tuple[str, str, str], ...] = (
    (
        "aliado",
        "ally_name",
        "Nombre del aliado a filtrar (se toleran mayúsculas, tildes, espacios y S.A.S.)",
    ),
    (
        "registro_sqlite",
        "ledger_path",
        "Archivo del registro SQLite, relativo a la carpeta del libro "
        "(vacío = <libro>.swat.sqlite)",
    ),
    ("horas_vencimiento", "due_hours", "Horas para cerrar la gestión desde la asignación"),
    ("meta_contacto_efectivo", "target", "Meta del indicador de contacto efectivo (0,80 = 80 %)"),
    (
        "intentos_no_contacto",
        "min_attempts_no_contact",
        "Intentos mínimos para tipificar NO CONTACTO",
    ),
    (
        "escala_encuesta_asesor",
        "agent_survey_scale",
        "Valores de la segunda encuesta, separados por ;",
    ),
    (
        "clave_proteccion",
        "sheet_password",
        "Contraseña de protección de hojas (vacío = sin contraseña)",
    ),
    ("carpeta_descargas", "download_folder", "Carpeta donde el navegador guarda data.xlsx"),
    ("copias_a_conservar", "backups_to_keep", "Copias de seguridad del libro que se conservan"),
    (
        "espera_bloqueo_segundos",
        "lock_timeout_s",
        "Segundos de espera si otra operación usa el libro",
    ),
    ("inicio_periodo", "period_start", "Fecha de inicio del periodo del indicador (vacío = todo)"),
    ("retencion_dias", "retention_days", "Días que se conservan los registros antes de depurarlos"),
    (
        "horario_lunes_viernes",
        "weekday_hours",
        "Horario legal de llamadas lunes a viernes (Ley 2300 de 2023)",
    ),
    (
        "horario_sabado",
        "saturday_hours",
        "Horario legal de llamadas los sábados (Ley 2300 de 2023)",
    ),
    (
        "un_contacto_por_dia",
        "one_contact_per_day",
        "Sí = máximo un intento de contacto por día y cliente",
    ),
    (
        "base_meta",
        "target_base",
        "Base de «Cumple la meta»: enviados (el indicador del procedimiento: efectivos / "
        "registros enviados) o gestionables (sin los no gestionables); se muestran ambos",
    ),
)
TARGET_BASES = ("enviados", "gestionables")
_ALIAS_PREFIX = "alias."
_EXCLUSION_PREFIX = "exclusion."
_TRUE = {"si", "s", "x", "true", "verdadero", "1", "yes"}
_FALSE = {"no", "n", "false", "falso", "0", ""}


def _split(value: Any) -> tuple[str, ...]:
    return tuple(part.strip() for part in clean_text(value).split(";") if part.strip())


def _hours(value: Any, key: str) -> tuple[int, int]:
    text = clean_text(value).replace(" ", "")
    try:
        start, end = text.split("-")
        result = (int(start.split(":")[0]), int(end.split(":")[0]))
    except ValueError:
        raise ConfigError(
            f"El valor «{value}» de «{key}» no es un horario; use por ejemplo 7:00-19:00",
            sheet="Config",
            column="Valor",
        ) from None
    if not 0 <= result[0] < result[1] <= 24:
        raise ConfigError(f"El horario «{value}» de «{key}» no es válido", sheet="Config")
    return result


def typed_number(value: Any) -> float | None:
    """A number as Excel holds it or as a person types it in any locale: ``0,85``, ``0.85``,
    ``85 %`` (= 0.85), ``1.234,5``, ``1,234.5``; None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = clean_text(value).replace(" ", "").replace("\u00a0", "")
    percent = text.endswith("%")
    text = text.rstrip("%")
    if "," in text and "." in text:  # the last separator is the decimal one
        thousands = "." if text.rindex(",") > text.rindex(".") else ","
        text = text.replace(thousands, "")
    text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return number / 100 if percent else number


def _coerce(attr: str, key: str, value: Any, default: Any) -> Any:
    if attr == "agent_survey_scale":
        return _split(value) or default
    if attr in ("weekday_hours", "saturday_hours"):
        return _hours(value, key) if not is_blank(value) else default
    if attr == "target_base":
        text = fold(value)
        if not text:
            return default
        if text not in TARGET_BASES:
            raise ConfigError(
                f"«{key}» debe ser «enviados» o «gestionables», no «{value}»",
                sheet="Config",
                column="Valor",
            )
        return text
    if attr == "one_contact_per_day":
        text = fold(value)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"«{key}» debe ser Sí o No, no «{value}»", sheet="Config")
    if attr == "period_start":
        try:
            return parse_date(value)
        except NotADate:
            raise ConfigError(
                f"«{key}» debe ser una fecha ({DATE_HINT}), no «{value}»", sheet="Config"
            ) from None
    if is_blank(value):
        return default
    if isinstance(default, bool):
        return fold(value) in _TRUE
    if isinstance(default, int | float):
        number = typed_number(value)
        if number is None:
            raise ConfigError(
                f"«{key}» debe ser un número, no «{value}»", sheet="Config", column="Valor"
            )
        if number < 0:
            raise ConfigError(f"«{key}» no puede ser negativo", sheet="Config", column="Valor")
        if attr == "target" and number > 1:
            number = number / 100  # "80" means 80 %
        return int(number) if isinstance(default, int) else number
    return clean_text(value)


def settings_from_rows(rows: Iterable[tuple[Any, Any]], *, first_row: int = 2) -> Settings:
    """Settings from ``(key, value)`` pairs, the first at sheet row ``first_row``; unknown keys
    are ignored, blanks keep defaults. Every value that is not understood is named with its
    row, all of them in one error: the user mends the sheet once, not once per value."""
    base = Settings()
    by_key = {key: attr for key, attr, _ in _SCALARS}
    changes: dict[str, Any] = {}
    aliases = dict(base.aliases)
    exclusions = dict(base.exclusion_values)
    wrong: list[tuple[int, ConfigError]] = []
    for number, (raw_key, value) in enumerate(rows, start=first_row):
        key = fold(raw_key).replace(" ", "_")
        if not key:
            continue
        if key in by_key:
            attr = by_key[key]
            try:
                changes[attr] = _coerce(attr, key, value, getattr(base, attr))
            except ConfigError as error:
                wrong.append((number, error))
        elif key.startswith(_ALIAS_PREFIX):
            name = key[len(_ALIAS_PREFIX) :]
            if name in aliases and _split(value):
                aliases[name] = _split(value)
        elif key.startswith(_EXCLUSION_PREFIX):
            name = key[len(_EXCLUSION_PREFIX) :]
            if name in exclusions and _split(value):
                exclusions[name] = _split(value)
                if exclusions[name] == _PREVIOUS_EXCLUSION_DEFAULTS.get(name):
                    exclusions[name] = DEFAULT_EXCLUSION_VALUES[name]
    if len(wrong) == 1:
        number, error = wrong[0]
        raise ConfigError(error.message, sheet="Config", row=number, column="Valor")
    if wrong:
        listed = "; ".join(f"fila {number}: {error.message}" for number, error in wrong)
        raise ConfigError(
            f"La hoja tiene {len(wrong)} valores no válidos — {listed}",
            sheet="Config",
            column="Valor",
        )
    return Settings(**changes, aliases=aliases, exclusion_values=exclusions)


def _show(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return f"{value[0]}:00-{value[1]}:00"
    if isinstance(value, tuple):
        return "; ".join(value)
    if isinstance(value, bool):
        return "Sí" if value else "No"
    if value is None:
        return ""
    return value


def settings_to_rows(settings: Settings) -> list[tuple[str, Any, str]]:
    """Rows ``(Clave, Valor, Descripción)`` of the Config sheet."""
    rows: list[tuple[str, Any, str]] = [
        (key, _show(getattr(settings, attr)), text) for key, attr, text in _SCALARS
    ]
    for f in FIELDS:
        rows.append(
            (
                f"{_ALIAS_PREFIX}{f.name}",
                _show(settings.aliases[f.name]),
                f"Encabezados aceptados para «{f.label}», separados por ;",
            )
        )
    for reason in EXCLUSION_REASONS:
        rows.append(
            (
                f"{_EXCLUSION_PREFIX}{reason}",
                _show(settings.exclusion_values[reason]),
                "Valores que marcan la exclusión (sin importar mayúsculas ni tildes)",
            )
        )
    return rows


SETTING_KEYS = tuple(key for key, _, _ in _SCALARS)
assert {f.name for f in fields(Settings)} >= {attr for _, attr, _ in _SCALARS}
