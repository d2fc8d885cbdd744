"""Tests of the Power BI export reader, on real files written into tmp_path."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from swat_xl.adapters.export_reader import ExportTable, read_export, start_reading
from swat_xl.adapters.export_reader import _cleaning as cleaning
from swat_xl.adapters.export_reader import _guards as guards
from swat_xl.adapters.export_reader import _table as layout
from swat_xl.bootstrap import Files
from swat_xl.core.fields import CANONICAL, FIELD_BY_NAME, FIELDS, AliasMap
from swat_xl.core.text import clean_code, clean_phone, clean_text, fold
from swat_xl.errors import ExportError

HEADER = [
    "ID_ENCUESTA",
    "FECHA_ENCUESTA",
    "ALIADO",
    "SEGMENTO",
    "CUENTA",
    "CUSTCODE",
    "ANI",
    "NOMBRE_CLIENTE",
    "CALIFICACION",
    "MOTIVO",
    "TIPO_CLIENTE",
    "ESTADO_CUENTA",
    "SOLICITUD_CANCELACION",
    "CIUDAD",
]
FORMULA_LIKE = ['=HYPERLINK("http://x","y")', "+57 300", "-5 puntos", "@SUM(A1)", "=1+1"]


# --- writers -------------------------------------------------------------------------------------


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[Any]]], hidden: Sequence[str] = ()):
    """Write rows with XlsxWriter: str as text (never a formula), numbers, dates, booleans."""
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False}
    )
    date_format = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    day_format = book.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        if name in hidden:
            sheet.hide()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, date_format)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, c, value, day_format)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, value)
    for sheet in book.worksheets():
        if sheet.name not in hidden:
            sheet.activate()
            break
    book.close()
    return path


def csv_text(rows: Sequence[Sequence[Any]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def write_csv(path: Path, rows, delimiter: str = ",", encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(csv_text(rows, delimiter).encode(encoding))
    return path


def replace_sheet_data(path: Path, sheet_data: bytes, member: str = "xl/worksheets/sheet1.xml"):
    """Rewrite the <sheetData> of a sheet (to build files no writer would produce)."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[member] = re.sub(
        rb"<sheetData\s*/>|<sheetData>.*</sheetData>",
        lambda _: b"<sheetData>" + sheet_data + b"</sheetData>",
        parts[member],
        flags=re.S,
    )
    parts[member] = re.sub(rb"<dimension[^>]*/>", b"", parts[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def row(**values: Any) -> list[Any]:
    """A data row in HEADER order from canonical names."""
    return [values.get(name) for name in CANONICAL]


def assert_frame_contract(table: ExportTable) -> None:
    frame = table.frame
    assert list(frame.columns) == [*CANONICAL, *table.extra_columns]
    assert len(frame) == table.rows_read == len(table.source_rows)
    for name in frame.columns:
        if name in CANONICAL and FIELD_BY_NAME[name].kind == "datetime":
            assert pd.api.types.is_datetime64_any_dtype(frame[name])
        else:
            assert frame[name].dtype == object, name
            assert all(type(v) is str for v in frame[name]), name


# --- basic reading -------------------------------------------------------------------------------


def test_xlsx_typed_cells(tmp_path):
    when = dt.datetime(2024, 1, 15, 10, 30)
    rows = [
        [*HEADER, "Región", "Canal"],
        [
            *row(
                survey_id=123456.0,
                survey_date=when,
                ally="ALMACONTACT S.A.S.",
                segment_text="Hogar",
                account=32091775.0,
                custcode="000123",
                ani=3001234567.0,
                customer_name="  Peña Ñúñez ",
                score=3.0,
                reason=FORMULA_LIKE[0],
                city="Bogotá",
            ),
            "Centro",
            7.0,
        ],
        [
            *row(
                survey_date=dt.date(2024, 1, 16),
                ally="Otro",
                account="000456",
                ani=573001112233.0,
                score=8.5,
                reason="=1+1",
            ),
            None,
            "Voz",
        ],
    ]
    path = write_xlsx(tmp_path / "export.xlsx", {"Export": rows})
    table = read_export(path)
    assert_frame_contract(table)
    frame = table.frame
    assert table.sheet == "Export" and table.header_row == 1
    assert table.rows_read == 2 and table.source_rows == [2, 3]
    assert table.extra_columns == ["Región", "Canal"]
    assert table.columns_found["account"] == "CUENTA"
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert table.path == path and table.footer_lines == []
    first = frame.iloc[0]
    assert first["survey_id"] == "123456"
    assert first["account"] == "32091775"
    assert first["custcode"] == "000123"
    assert first["ani"] == "3001234567"
    assert first["score"] == "3"
    assert first["customer_name"] == "Peña Ñúñez"
    assert first["reason"] == FORMULA_LIKE[0]
    assert first["survey_date"] == pd.Timestamp(when)
    assert first["Canal"] == "7"
    second = frame.iloc[1]
    assert second["account"] == "000456"
    assert second["ani"] == "3001112233"
    assert second["score"] == "8.5"
    assert second["reason"] == "=1+1"
    assert second["survey_date"] == pd.Timestamp("2024-01-16")
    assert second["survey_id"] == "" and second["Región"] == ""
    assert table.warnings == []


def test_xlsx_date_column_variants(tmp_path):
    rows = [
        ["ALIADO", "ANI", "CUENTA", "Fecha"],
        ["A", "1", "1", "15/01/2024 10:30"],
        ["A", "2", "2", 45306.4375],  # an Excel serial without date format
        ["A", "3", "3", None],
        ["A", "4", "4", "no es fecha"],
    ]
    table = read_export(write_xlsx(tmp_path / "fechas.xlsx", {"Hoja1": rows}))
    dates = table.frame["survey_date"]
    assert dates.iloc[0] == pd.Timestamp("2024-01-15 10:30")
    assert dates.iloc[1] == pd.Timestamp("2024-01-15 10:30")
    assert pd.isna(dates.iloc[2]) and pd.isna(dates.iloc[3])
    assert any("no se reconocieron como fecha" in w for w in table.warnings)


def test_csv_values_and_dates(tmp_path):
    rows = [
        ["ALIADO", "ANI", "CUENTA", "FECHA_ENCUESTA", "MOTIVO", "CALIFICACION", "Otra"],
        ["Alma", "+57 300 123 4567", "000123", "15/01/2024 10:30", "Línea 1\nLínea 2", "3,0", ""],
        ["Alma", "573001234567", "32091775.0", "15/01/2024", FORMULA_LIKE[0], "8,5", "x"],
        ["Alma", "300-123-4567", "1.2.3", "2024-01-15T10:30:00", "@SUM(A1)", "3.0", ""],
        ["Alma", "3001234567", "7", "2024-01-15", "-5 puntos", "4", ""],
        ["Alma", "3001234567", "8", "5/1/2024 2:15:00 p. m.", "a\x00b\x07c", "", ""],
        ["Alma", "3001234567", "9", "31/02/2024", "", "", ""],
    ]
    table = read_export(write_csv(tmp_path / "export.csv", rows))
    assert_frame_contract(table)
    frame = table.frame
    assert table.rows_read == 6 and table.source_rows == [2, 3, 4, 5, 6, 7]
    assert list(frame["ani"][:4]) == ["3001234567"] * 4
    assert list(frame["account"][:3]) == ["000123", "32091775", "1.2.3"]
    assert frame["reason"][0] == "Línea 1\nLínea 2"
    assert list(frame["reason"][1:4]) == [FORMULA_LIKE[0], "@SUM(A1)", "-5 puntos"]
    assert frame["reason"][4] == "abc"  # control characters removed
    assert list(frame["score"][:4]) == ["3", "8.5", "3", "4"]
    dates = list(frame["survey_date"])
    assert dates[0] == pd.Timestamp("2024-01-15 10:30")
    assert dates[1] == pd.Timestamp("2024-01-15")
    assert dates[2] == pd.Timestamp("2024-01-15 10:30")
    assert dates[3] == pd.Timestamp("2024-01-15")
    assert dates[4] == pd.Timestamp("2024-01-05 14:15")  # day first
    assert pd.isna(dates[5])
    assert any("31/02/2024" in w for w in table.warnings)
    assert table.extra_columns == ["Otra"]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ";"), ("utf-8", "\t"), ("utf-16", ";")],
)
def test_csv_encodings_and_delimiters(tmp_path, encoding, delimiter):
    rows = [
        ["ALIADO", "ANI", "SEGMENTO", "CIUDAD"],
        ["Peña", "3001234567", "Hogar", "Bogotá; D.C."],
    ]
    table = read_export(write_csv(tmp_path / "e.csv", rows, delimiter, encoding))
    assert table.frame["city"][0] == "Bogotá; D.C."
    assert table.frame["ally"][0] == "Peña"
    assert table.warnings == []


def test_csv_latin1_warns(tmp_path):
    rows = [["ALIADO", "ANI", "SEGMENTO", "CIUDAD"], ["Peña", "3001234567", "Hogar", "Bogotá"]]
    table = read_export(write_csv(tmp_path / "latin.csv", rows, ";", "cp1252"))
    assert table.frame["city"][0] == "Bogotá" and table.frame["ally"][0] == "Peña"
    assert any("UTF-8" in w for w in table.warnings)


def test_csv_sep_hint_and_txt(tmp_path):
    path = tmp_path / "hint.csv"
    path.write_text("sep=;\nALIADO;ANI;CUENTA\nA;3001234567;1\n", encoding="utf-8")
    table = read_export(path)
    assert table.rows_read == 1 and table.header_row == 1 and table.source_rows == [2]
    txt = write_csv(tmp_path / "tab.txt", [["ALIADO", "ANI", "CUENTA"], ["A", "1", "2"]], "\t")
    assert read_export(txt).frame["account"][0] == "2"


# --- aliases -------------------------------------------------------------------------------------

_BASE_LABELS = {
    "ally": "ALIADO",
    "ani": "ANI",
    "account": "CUENTA",
    "segment_text": "SEGMENTO",
    "survey_id": "ID_ENCUESTA",
}
_ACCENTED = {
    "Telefono": "Teléfono",
    "Numero Cuenta": "Número Cuenta",
    "Calificacion Encuesta": "Calificación Encuesta",
    "Observacion Cliente": "Observación Cliente",
    "Solicitud de Cancelacion": "Solicitud de Cancelación",
    "Linea de Negocio": "Línea de Negocio",
    "Codigo Cliente Movil": "Código Cliente Móvil",
    "Razon Social": "Razón Social",
    "Aliado Gestion": "Aliado Gestión",
    "CALIFICACION": "CALIFICACIÓN",
}


def _variants(alias: str) -> list[str]:
    out = {
        alias,
        alias.upper(),
        alias.lower(),
        alias.replace(" ", "_"),
        alias.replace("_", " ").title(),
        f"  {alias.replace(' ', '  ')} ",
    }
    if alias in _ACCENTED:
        out.add(_ACCENTED[alias])
        out.add(_ACCENTED[alias].upper())
    return sorted(out)


_ALIAS_CASES = [
    (f.name, variant)
    for f in FIELDS
    for alias in (*f.aliases, f.name)
    for variant in _variants(alias)
] + [
    ("account", "cuenta_rr"),
    ("account", "CUENTA RR"),
    ("ani", "Teléfono"),
    ("ani", "TELEFONO"),
    ("segment_text", "unidad de negocio"),
]


def _alias_rows(name: str, label: str) -> list[list[str]]:
    labels = [lab for field_name, lab in _BASE_LABELS.items() if field_name != name]
    header = [*labels, label]
    value = "15/01/2024 10:30" if FIELD_BY_NAME[name].kind == "datetime" else "0042"
    return [header, [f"v{i}" for i in range(len(labels))] + [value]]


@pytest.mark.parametrize(("name", "label"), _ALIAS_CASES)
def test_alias_spellings(tmp_path, name, label):
    table = read_export(write_csv(tmp_path / "alias.csv", _alias_rows(name, label)))
    assert table.columns_found[name] == label.strip()
    value = table.frame[name][0]
    if FIELD_BY_NAME[name].kind == "datetime":
        assert value == pd.Timestamp("2024-01-15 10:30")
    else:
        assert value == "0042"
    assert table.extra_columns == []


def test_alias_spellings_in_xlsx(tmp_path):
    header = ["Socio", "Celular", "Numero Cuenta", "Fecha Hora Encuesta", "Unidad de Negocio"]
    rows = [header, ["Alma", 3001234567.0, 32091775.0, dt.datetime(2024, 1, 15), "Hogar"]]
    table = read_export(write_xlsx(tmp_path / "alias.xlsx", {"Export": rows}))
    assert table.columns_found == {
        "ally": "Socio",
        "ani": "Celular",
        "account": "Numero Cuenta",
        "survey_date": "Fecha Hora Encuesta",
        "segment_text": "Unidad de Negocio",
    }


def test_custom_aliases(tmp_path):
    rows = [["Empresa Aliada", "Movil Contacto", "CUENTA"], ["Alma", "3001234567", "1"]]
    aliases = AliasMap({"ally": ["Empresa Aliada"], "ani": ["Movil Contacto"]})
    table = read_export(write_csv(tmp_path / "custom.csv", rows), aliases)
    assert table.frame["ally"][0] == "Alma" and table.frame["ani"][0] == "3001234567"
    with pytest.raises(ExportError, match="Empresa Aliada"):
        read_export(write_csv(tmp_path / "custom2.csv", [["ALIADO", "ANI", "CUENTA"]]), aliases)


def test_duplicate_and_unlabelled_columns(tmp_path):
    rows = [
        ["ALIADO", "ANI", "CUENTA", "Cuenta RR", "", "Zona", "Zona"],
        ["Alma", "1", "10", "20", "sin título", "n1", "n2"],
        ["Alma", "2", "11", "21", "", "", "", "más allá"],
    ]
    table = read_export(write_csv(tmp_path / "dup.csv", rows))
    assert table.frame["account"].tolist() == ["10", "11"]
    assert table.extra_columns == ["Cuenta RR", "Columna E", "Zona", "Zona (2)", "Columna H"]
    assert table.frame["Columna E"].tolist() == ["sin título", ""]
    assert table.frame["Columna H"].tolist() == ["", "más allá"]
    assert any("Cuenta RR" in w for w in table.warnings)


# --- layout: titles, filters, footers, blank rows ------------------------------------------------

_FOOTERS = {
    "total": [["Total", None, None, 15]],
    "TOTAL": [["TOTAL", None, None, 15]],
    "total_late_cell": [[None, "Total", None, 15]],
    "applied": [["Applied filters:\nALIADO is ALMACONTACT\nFecha is after 1/1/2024"]],
    "filtros": [["Filtros aplicados:\nALIADO es ALMACONTACT"]],
    "exceeded": [["Exported data exceeded the allowed volume. Some data may have been omitted."]],
    "superaron": [
        [
            "Los datos exportados superaron el volumen permitido. Es posible que se hayan "
            "omitido algunos datos."
        ]
    ],
    "all": [
        ["Total", None, None, 15],
        [],
        ["Filtros aplicados:\nALIADO es ALMACONTACT"],
        ["Los datos exportados superaron el volumen permitido."],
    ],
}


def _layout_rows(footer: list[list[Any]]) -> tuple[list[list[Any]], int]:
    rows: list[list[Any]] = [
        ["Reporte de detractores"],
        [],
        ["Filtros aplicados:\nFecha es enero"],
        ["ALIADO", "ANI", "CUENTA", "CALIFICACION"],
        ["Alma", "3001234567", "1", 3],
        [],
        ["Alma", "3001234568", "2", 4],
        [None, None, None, None],
        ["Alma", "3001234569", "3", 5],
        [],
        *footer,
    ]
    return rows, 3


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
@pytest.mark.parametrize("footer", sorted(_FOOTERS))
def test_titles_blank_rows_and_footers(tmp_path, kind, footer):
    rows, header_index = _layout_rows(_FOOTERS[footer])
    if kind == "xlsx":
        path = write_xlsx(tmp_path / "layout.xlsx", {"Export": rows})
    else:
        path = write_csv(tmp_path / "layout.csv", rows, ";")
    table = read_export(path)
    assert table.header_row == header_index + 1
    assert table.rows_read == 3
    assert table.source_rows == [5, 7, 9]
    assert table.frame["account"].tolist() == ["1", "2", "3"]
    assert table.footer_lines
    first_footer = next(c for c in _FOOTERS[footer][0] if c is not None)
    assert str(first_footer).splitlines()[0] in table.footer_lines[0]
    truncated = any("truncada" in w for w in table.warnings)
    assert truncated == (footer in ("exceeded", "superaron", "all"))


def test_filters_block_lines(tmp_path):
    rows, _ = _layout_rows(_FOOTERS["applied"])
    table = read_export(write_csv(tmp_path / "f.csv", rows))
    assert table.footer_lines == [
        "Applied filters:",
        "ALIADO is ALMACONTACT",
        "Fecha is after 1/1/2024",
    ]


def test_header_only_is_not_an_error(tmp_path):
    for path in (
        write_xlsx(tmp_path / "vacio.xlsx", {"Export": [HEADER, [], ["Total", 0]]}),
        write_csv(tmp_path / "vacio.csv", [HEADER]),
    ):
        table = read_export(path)
        assert table.rows_read == 0 and len(table.frame) == 0
        assert_frame_contract(table)
        assert table.frame["survey_date"].dtype.kind == "M"


def test_first_sheet_without_header_and_hidden_sheet(tmp_path):
    data = [["ALIADO", "ANI", "CUENTA"], ["Alma", "1", "2"]]
    path = write_xlsx(
        tmp_path / "hojas.xlsx",
        {"Oculta": data, "Portada": [["Reporte"], ["Generado por Power BI"]], "Datos": data},
        hidden=("Oculta",),
    )
    table = read_export(path)
    assert table.sheet == "Datos" and table.rows_read == 1


def test_header_offset_in_sheet(tmp_path):
    path = tmp_path / "offset.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Export")
    sheet.write_row(4, 2, ["ALIADO", "ANI", "CUENTA"])
    sheet.write_row(5, 2, ["Alma", "1", "2"])
    sheet.write_row(6, 3, ["sin aliado"])
    sheet.write(6, 6, "suelta")
    book.close()
    table = read_export(path)
    assert table.header_row == 5 and table.source_rows == [6, 7]
    assert table.extra_columns == ["Columna G"]


def test_extensions(tmp_path):
    data = {"Export": [["ALIADO", "ANI", "CUENTA"], ["Alma", "1", "2"]]}
    xlsm = write_xlsx(tmp_path / "libro.xlsm", data)
    assert read_export(xlsm).rows_read == 1
    renamed = tmp_path / "libro.csv"
    renamed.write_bytes(xlsm.read_bytes())
    table = read_export(renamed)
    assert table.rows_read == 1 and any("libro de Excel" in w for w in table.warnings)


def test_openpyxl_workbook(tmp_path):
    path = tmp_path / "openpyxl.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Hoja 1"
    sheet.append(["ALIADO", "Teléfono", "CUENTA RR", "Fecha"])
    sheet.append(["Alma", 3001234567, 32091775, dt.datetime(2024, 2, 1, 8, 0)])
    book.save(path)
    table = read_export(path)
    assert table.frame.iloc[0][["ani", "account"]].tolist() == ["3001234567", "32091775"]
    assert table.frame["survey_date"][0] == pd.Timestamp("2024-02-01 08:00")


def test_huge_single_cell_imports(tmp_path):
    big = "x" * 10_000_000
    path = write_xlsx(tmp_path / "grande.xlsx", {"Export": [["ALIADO", "ANI", "CUENTA"]]})
    cells = (
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>ALIADO</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>ANI</t></is></c>'
        b'<c r="C1" t="inlineStr"><is><t>MOTIVO</t></is></c>'
        b'<c r="D1" t="inlineStr"><is><t>CUENTA</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>Alma</t></is></c>'
        b'<c r="C2" t="inlineStr"><is><t>' + big.encode() + b"</t></is></c></row>"
    )
    table = read_export(replace_sheet_data(path, cells))
    assert table.frame["reason"][0] == big
    csv_path = write_csv(
        tmp_path / "grande.csv", [["ALIADO", "ANI", "MOTIVO", "CUENTA"], ["A", "1", big]]
    )
    assert read_export(csv_path).frame["reason"][0] == big


# --- bad input -----------------------------------------------------------------------------------


def _raises(path: Path, *fragments: str) -> ExportError:
    with pytest.raises(ExportError) as info:
        read_export(path)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_missing_and_empty_files(tmp_path):
    _raises(tmp_path / "no_existe.xlsx", "No se encontró")
    for name in ("vacio.xlsx", "vacio.csv"):
        (tmp_path / name).write_bytes(b"")
        _raises(tmp_path / name, "vacío")
    (tmp_path / "blancos.csv").write_text("\n \n;;\n", encoding="utf-8")
    _raises(tmp_path / "blancos.csv", "no tiene datos")
    folder = tmp_path / "carpeta.xlsx"
    folder.mkdir()
    _raises(folder, "carpeta")


def test_empty_sheet(tmp_path):
    path = write_xlsx(tmp_path / "hoja_vacia.xlsx", {"Vacia": []})
    error = _raises(path, "no tiene datos", "Vacia")
    assert error.sheet == "Vacia"


def test_not_a_workbook(tmp_path):
    random_bytes = tmp_path / "basura.xlsx"
    random_bytes.write_bytes(bytes(range(256)) * 40)
    _raises(random_bytes, "no es un libro de Excel")
    text = tmp_path / "texto.xlsx"
    text.write_text("ALIADO,ANI\nA,1\n", encoding="utf-8")
    _raises(text, "no es un libro de Excel", ".csv")
    other_zip = tmp_path / "otro.xlsx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    _raises(other_zip, "no es un libro de Excel")
    html = tmp_path / "pagina.xls"
    html.write_text("<html><table><tr><td>ALIADO</td></tr></table></html>", encoding="utf-8")
    _raises(html, ".xlsx")


def test_corrupt_workbook(tmp_path):
    rows = [["ALIADO", "ANI", "CUENTA"]] + [["Alma", str(i), str(i)] for i in range(2000)]
    path = write_xlsx(tmp_path / "cortado.xlsx", {"Export": rows})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _raises(path, "dañado")
    broken = write_xlsx(tmp_path / "roto.xlsx", {"Export": rows})
    with zipfile.ZipFile(broken) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(broken.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + 10
    data[start : start + 200] = bytes(200)  # garbage inside the deflate stream
    broken.write_bytes(bytes(data))
    _raises(broken, "dañado")


def _ole_file(path: Path) -> Path:
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    return path


def test_ole_files(tmp_path):
    _raises(_ole_file(tmp_path / "clave.xlsx"), "está protegido con contraseña o cifrado")
    _raises(_ole_file(tmp_path / "viejo.xls"), ".xlsx", "CSV")


def test_really_encrypted_workbook(tmp_path):
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    plain = write_xlsx(tmp_path / "plano.xlsx", {"Export": [["ALIADO", "ANI"], ["A", "1"]]})
    target = tmp_path / "cifrado.xlsx"
    with plain.open("rb") as source, target.open("wb") as out:
        ooxml.OOXMLFile(source).encrypt("clave", out)
    _raises(target, "contraseña")


def test_unknown_extension(tmp_path):
    path = tmp_path / "reporte.pdf"
    path.write_bytes(b"%PDF-1.4")
    _raises(path, "no soportado", ".pdf")


def test_no_header(tmp_path):
    rows = [["Reporte"], ["Columna 1", "Columna 2"], ["a", "b"]]
    error = _raises(write_xlsx(tmp_path / "sin.xlsx", {"Datos": rows}), "encabezados", "Datos")
    assert error.sheet == "Datos"
    _raises(write_csv(tmp_path / "sin.csv", rows), "encabezados")


def test_missing_required_columns(tmp_path):
    no_ally = write_csv(tmp_path / "sin_aliado.csv", [["ANI", "CUENTA"], ["1", "2"]])
    _raises(no_ally, "Falta la columna del aliado", "«ALIADO», «Socio»")
    no_ani = write_csv(tmp_path / "sin_ani.csv", [["ALIADO", "CUENTA"], ["A", "2"]])
    _raises(no_ani, "ANI", "«Celular»")
    no_id = write_csv(tmp_path / "sin_cuenta.csv", [["ALIADO", "ANI", "CIUDAD"], ["A", "1", "x"]])
    _raises(no_id, "segmento, cuenta o custcode", "«SEGMENTO»", "«CUSTCODE»")
    xlsx = write_xlsx(tmp_path / "sin_aliado.xlsx", {"Export": [["ANI", "CUENTA"], [1, 2]]})
    _raises(xlsx, "Falta la columna del aliado")


# --- hostile workbooks ---------------------------------------------------------------------------


def _zip_with_sheet(path: Path, sheet_xml: bytes) -> Path:
    base = write_xlsx(path, {"Export": [["ALIADO", "ANI", "CUENTA"], ["A", "1", "2"]]})
    with zipfile.ZipFile(base) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["xl/worksheets/sheet1.xml"] = sheet_xml
    with zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return base


def test_zip_bomb_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "RATIO_CHECK_MIN_BYTES", 1_000_000)
    path = _zip_with_sheet(tmp_path / "bomba.xlsx", b"<worksheet>" + bytes(5_000_000))
    _raises(path, "sospechoso", "bomba zip")


def test_zip_bomb_total_size(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "total.xlsx", {"Export": [["ALIADO", "ANI", "CUENTA"]]})
    monkeypatch.setattr(guards, "MAX_UNCOMPRESSED_BYTES", 2_000)
    _raises(path, "sospechoso o demasiado grande")


def test_lying_zip_directory(tmp_path):
    rows = [["ALIADO", "ANI", "CUENTA"]] + [["Alma", str(i), str(i)] for i in range(500)]
    path = write_xlsx(tmp_path / "miente.xlsx", {"Export": rows})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    small = struct.pack("<I", 1000)
    data[info.header_offset + 22 : info.header_offset + 26] = small  # local header size
    name = info.filename.encode()
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.index(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = small  # central directory size
    path.write_bytes(bytes(data))
    _raises(path, "sospechoso")


def test_far_cell_refused_quickly(tmp_path):
    cells = (
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>ALIADO</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>ANI</t></is></c></row>'
        b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    path = replace_sheet_data(write_xlsx(tmp_path / "lejos.xlsx", {"Export": [["x"]]}), cells)
    start = time.perf_counter()
    _raises(path, "demasiado grande", "16.384 columnas")
    assert time.perf_counter() - start < 5


def test_far_formatted_blank_is_harmless(tmp_path):
    cells = (
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>ALIADO</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>ANI</t></is></c>'
        b'<c r="C1" t="inlineStr"><is><t>CUENTA</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>Alma</t></is></c><c r="B2"><v>1</v></c>'
        b'<c r="XFD2" s="0"/></row><row r="1048576"><c r="XFD1048576" s="0"/></row>'
    )
    path = replace_sheet_data(write_xlsx(tmp_path / "formato.xlsx", {"Export": [["x"]]}), cells)
    assert read_export(path).rows_read == 1


def test_split_chunks_keeps_tags_whole():
    chunks = [b"<a>xx<c r=", b'"A1"><v>1', b"</v></c>", b"yyyy", b'<c r="B1"/>']
    pieces = list(guards._split_chunks(iter(chunks)))
    assert b"".join(pieces) == b"".join(chunks)
    assert all(piece.count(b"<") == piece.count(b">") for piece in pieces)


def test_too_many_rows_and_columns(tmp_path):
    base = {"Export": [["x"]]}
    rows = b'<row r="2000000"><c r="A2000000"><v>1</v></c></row>'
    _raises(replace_sheet_data(write_xlsx(tmp_path / "filas.xlsx", base), rows), "2.000.000")
    cols = b'<row r="1"><c r="ZZZ1"><v>1</v></c></row>'
    _raises(replace_sheet_data(write_xlsx(tmp_path / "cols.xlsx", base), cols), "18.278")


def test_implicit_positions_are_measured(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_COLUMNS", 100)
    cells = b"<row>" + b"<c><v>1</v></c>" * 150 + b"</row>"
    path = replace_sheet_data(write_xlsx(tmp_path / "implicita.xlsx", {"Export": [["x"]]}), cells)
    _raises(path, "columna 150")
    prefixed = (
        b'<x:row xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="9">'
        b'<x:c r="DA9"><x:v>9</x:v></x:c></x:row>'
    )
    path = replace_sheet_data(write_xlsx(tmp_path / "prefijo.xlsx", {"Export": [["x"]]}), prefixed)
    _raises(path, "columna 105")


def test_wide_sheet_cell_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "MAX_CELLS", 1_000)
    wide = [[f"c{i}" for i in range(30)] for _ in range(40)]
    wide[0][:3] = ["ALIADO", "ANI", "CUENTA"]
    _raises(write_xlsx(tmp_path / "ancha.xlsx", {"Export": wide}), "40 filas × 30 columnas")
    narrow = [["ALIADO", "ANI", "CUENTA"], ["A", "1", "2"]]
    assert read_export(write_xlsx(tmp_path / "angosta.xlsx", {"Export": narrow})).rows_read == 1


_IRREGULAR_SHEETS = [
    b'<row><c><v>1</v></c><c><v>2</v></c></row><row r="5"><c><v>3</v></c><c/><c><v>4</v></c>'
    b'</row><row><c r="C7"><v>5</v></c><c><v>6</v></c></row><row/><row><c><v>7</v></c></row>',
    b'<row r="3"><c t="n" r="B3"><v>0</v></c></row><row r="4"><c r="b4"><v>1</v></c>'
    b'<c\tr="C4"><v>2</v></c></row>',
    b'<row r="2"><c s="0" r="AB2"><v>1</v></c></row><row><c><v>1</v></c></row>',
]


@pytest.mark.parametrize("sheet_data", _IRREGULAR_SHEETS)
def test_exact_scan_matches_calamine(tmp_path, sheet_data):
    path = replace_sheet_data(write_xlsx(tmp_path / "irr.xlsx", {"Export": [["x"]]}), sheet_data)
    end = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).end
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    rows, cols = guards._scan_exact(iter([xml]))
    assert rows >= end[0] + 1 and cols >= end[1] + 1
    assert guards._scan_regular(iter([xml])) is None


_XML_PIECES = st.sampled_from(
    [
        b'<c r="A1">',
        b'<c r="q12" s="3" t="inlineStr">',
        b'<c r="B999999"/>',
        b'<c r="B1000000">',
        b'<c r="AB2">',
        b'<c r="XFD7"/>',
        b"<c>",
        b"<c/>",
        b"<c\tr=",
        b'<c s="1" r="A1">',
        b'<c r="1">',
        b'<c r="">',
        b'<col min="1" max="3"/>',
        b"<cols>",
        b"<v>1</v></c>",
        b"<is><t>Ca&lt;c</t></is></c>",
        b'<row r="7">',
        b"</row>",
        b"<c",
        b"x",
        b"1234567",
        b'"',
        b">",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_XML_PIECES, max_size=30))
def test_plain_cells_are_those_the_fast_scan_finds_nothing_in(parts):
    """The vectorised look that skips the fast scan's expression says a piece is plain only
    when the expression finds nothing there, and the scan gives what it gives without it."""
    piece = b"".join(parts)
    if guards._plain_cells(piece):
        assert list(guards._CELL_SCAN.finditer(piece)) == []
    with_look = guards._scan_regular(iter([piece]))
    original = guards._plain_cells
    try:
        guards._plain_cells = lambda piece: False
        assert guards._scan_regular(iter([piece])) == with_look
    finally:
        guards._plain_cells = original


def test_a_sheet_of_plain_cells_is_looked_at_without_the_expression():
    row = b'<row r="5"><c r="A5" t="inlineStr"><is><t>x</t></is></c><c r="Q5"><v>1</v></c></row>'
    assert guards._plain_cells(b"<cols><col/></cols><sheetData>" + row * 200)
    assert not guards._plain_cells(row * 200 + b'<row><c r="AA5"><v>1</v></c></row>' + row)


# --- cleaners agree with swat_xl.core.text -------------------------------------------------------

_values = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["000123", " 32091775.0 ", "3.00", "-7.0", "+57 300 123 4567", "573001234567"]),
    st.sampled_from(["0573001234567", "3,0", "8,50", "1.2.3", "\xa0", "a\x00b", "١٢٣", "12.0\n"]),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 10**12).map(float),
)


@settings(max_examples=300, deadline=None)
@given(value=_values)
def test_cleaners_match_core_text(value):
    assert cleaning._clean_code(value) == clean_code(value)
    assert cleaning._clean_phone(value) == clean_phone(value)
    if not (isinstance(value, float) and math.isfinite(value) and not value.is_integer()):
        assert cleaning._clean_text(value) == clean_text(value)


_column_values = st.one_of(
    _values,
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
    st.dates(),
    st.sampled_from(["3,0", "8,50", "12.0", "1\n2"]),
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(_column_values, max_size=12),
    kind=st.sampled_from(["text", "code", "phone", "number"]),
)
def test_clean_column_matches_per_value(values, kind):
    cleaner = cleaning._CLEANERS[kind]
    assert cleaning._clean_column(values, kind) == [cleaner(v) for v in values]


@settings(max_examples=150, deadline=None)
@given(
    plain=st.lists(
        st.one_of(
            st.sampled_from(["3001234567", "573001234567", "", " 12 ", "0573001234567"]),
            st.integers(0, 10**12).map(float),
        ),
        min_size=1,
        max_size=4,
    ),
    tail=st.lists(st.one_of(_column_values, st.times()), max_size=12),
    kind=st.sampled_from(["text", "code", "phone", "number"]),
)
def test_long_column_matches_per_value(plain, tail, kind):
    """Columns longer than the sample that chooses how a column is cleaned, with odd values
    (dates, hours, booleans, "123.0" text, line breaks) only after it."""
    values = plain * (cleaning._SAMPLE // len(plain) + 1) + tail
    cleaner = cleaning._CLEANERS[kind]
    assert cleaning._clean_column(values, kind) == [cleaner(v) for v in values]


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.text(alphabet=" \n\t\x01\u2028\xa0a1.0,57\u00f1", max_size=8),
            st.sampled_from(["3001234567", "12.0", " 12 ", "", "\n 5"]),
        ),
        max_size=12,
    ),
    kind=st.sampled_from(["text", "code", "phone", "number"]),
)
def test_text_column_matches_per_value(values, kind):
    """Columns of text only, looked at joined by line breaks: texts with spaces to strip,
    line breaks, control characters and other spaces in them or at their ends."""
    cleaner = cleaning._CLEANERS[kind]
    assert cleaning._clean_column(values, kind) == [cleaner(v) for v in values]


def test_number_column():
    values = [3.0, "3,0", "8,50", 8.5, "4", "", 0.1 + 0.2, True]
    assert cleaning._clean_column(values, "number") == [
        "3",
        "3",
        "8.5",
        "8.5",
        "4",
        "",
        "0.3",
        "VERDADERO",
    ]


def test_a_column_of_few_texts_holds_each_text_once(tmp_path):
    """python-calamine makes a new string for every cell; a column whose texts repeat (a
    city, the ally, an extra column) comes out with equal texts as one object, the values
    unchanged, while a column of distinct texts keeps its own."""
    cities = ["Bogotá D.C.", "Cali", "Medellín", "Pasto", ""]
    rows = [
        [
            *row(
                survey_id=f"S{i:05d}",
                ally="Almacontact",
                segment="HOGAR",
                account=str(10_000 + i),
                customer_name=f"Cliente {i}",
                score=str(i % 7),
                city=cities[i % len(cities)],
            ),
            f"Canal {i % 3}",
        ]
        for i in range(3000)
    ]
    path = write_xlsx(tmp_path / "data.xlsx", {"Hoja1": [[*HEADER, "CANAL"], *rows]})

    table = read_export(path, AliasMap())

    frame = table.frame
    assert frame["city"].tolist() == [cities[i % len(cities)] for i in range(3000)]
    assert frame["CANAL"].tolist() == [f"Canal {i % 3}" for i in range(3000)]
    assert frame["customer_name"].tolist() == [f"Cliente {i}" for i in range(3000)]
    assert len({id(v) for v in frame["city"]}) == len(cities)
    assert len({id(v) for v in frame["ally"]}) == 1
    assert len({id(v) for v in frame["CANAL"]}) == 3
    assert len({id(v) for v in frame["customer_name"]}) == 3000
    assert_frame_contract(table)


def test_shared_texts():
    few = [str(i % 4) + "x" for i in range(5000)]
    shared = layout._shared(few)
    assert shared == few and len({id(v) for v in shared}) == 4
    many = [f"{i}x" for i in range(5000)]
    assert layout._shared(many) is many  # nothing to share: the list as it was
    short = [str(i % 2) + "x" for i in range(100)]
    assert layout._shared(short) is short  # too short to be worth a look


# --- fuzz ----------------------------------------------------------------------------------------

_FOOTER_BLOCKS = [
    [],
    [["Total", "", "12"]],
    [["TOTAL"]],
    [["Applied filters:\nALIADO is X"]],
    [["Filtros aplicados:\nALIADO es X"]],
    [["Exported data exceeded the allowed volume. Some data may have been omitted."]],
    [["Los datos exportados superaron el volumen permitido."]],
    [["Total", "3"], [""], ["Filtros aplicados:\nA"]],
]
_TITLES = [["Reporte de detractores"], ["Filtros aplicados:\nFecha es 2024"], [""], ["Power BI"]]

_cell = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.integers(-(10**12), 10**12),
    st.text(max_size=12),
    st.sampled_from(FORMULA_LIKE),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def _looks_like_footer(cells: Sequence[str]) -> bool:
    first = next((c for c in cells if clean_text(c)), "")
    folded = fold(first)
    return folded.rstrip(" :.") == "total" or folded.startswith(
        layout._FILTER_PREFIXES + layout._TRUNCATION_PREFIXES
    )


@st.composite
def _export(draw):
    fields = {"ally", "ani", draw(st.sampled_from(layout._ID_FIELDS))}
    fields |= set(draw(st.lists(st.sampled_from(CANONICAL), max_size=6)))
    if draw(st.booleans()) and draw(st.booleans()):
        fields.discard(draw(st.sampled_from(["ally", "ani"])))  # sometimes invalid
    names = sorted(fields)
    labels = []
    for name in names:
        alias = draw(st.sampled_from((*FIELD_BY_NAME[name].aliases, name)))
        labels.append(draw(st.sampled_from(_variants(alias))))
    width = len(labels) + draw(st.integers(0, 2))
    labels += [f"Extra {i}" for i in range(width - len(labels))]
    titles = draw(st.lists(st.sampled_from(_TITLES), max_size=3))
    body = draw(
        st.lists(
            st.one_of(
                st.just(None),  # a blank row
                st.lists(_cell, min_size=width, max_size=width),
            ),
            max_size=25,
        )
    )
    footer = draw(st.sampled_from(_FOOTER_BLOCKS))
    return names, labels, titles, body, footer


def _expected_rows(body) -> int:
    count = 0
    for values in body:
        if values is None:
            continue
        cells = [_cell_text(v) for v in values]
        if any(clean_text(c) for c in cells):
            count += 1
    return count


def _usable(body) -> bool:
    for values in body:
        if values is not None and _looks_like_footer([_cell_text(v) for v in values]):
            return False
    return True


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=_export().filter(lambda case: _usable(case[3])), delimiter=st.sampled_from(",;"))
def test_fuzz_csv(case, delimiter):
    names, labels, titles, body, footer = case
    rows = [*titles, labels]
    rows += [[] if values is None else [_cell_text(v) for v in values] for values in body]
    rows += footer
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "fuzz.csv", rows, delimiter)
        _check_fuzz(path, names, body)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=_export().filter(lambda case: _usable(case[3])))
def test_fuzz_xlsx(case):
    names, labels, titles, body, footer = case
    rows = [*titles, labels]
    rows += [[] if values is None else list(values) for values in body]
    rows += footer
    with tempfile.TemporaryDirectory() as folder:
        path = write_xlsx(Path(folder) / "fuzz.xlsx", {"Export": rows})
        _check_fuzz(path, names, body, xlsx=True)


def _check_fuzz(path: Path, names, body, xlsx: bool = False) -> None:
    try:
        table = read_export(path)
    except ExportError as error:
        assert path.name in str(error)
        valid = {"ally", "ani"} <= set(names) and set(names) & set(layout._ID_FIELDS)
        assert not valid, str(error)
        return
    assert_frame_contract(table)
    if xlsx:  # xlsx cells: blank means None or blank text
        expected = sum(
            1
            for values in body
            if values is not None
            and any(v is not None and (not isinstance(v, str) or clean_text(v)) for v in values)
        )
    else:
        expected = _expected_rows(body)
    assert table.rows_read == expected


# --- reading in a helper thread (start_reading) -------------------------------------------------


def _export_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "swat-export"]


def _open_files(path: Path) -> int:
    """How many of this process's file descriptors are open on ``path`` (Linux)."""
    folder = Path("/proc/self/fd")
    if not folder.exists():
        pytest.skip("needs /proc to list open files")
    count = 0
    for fd in os.listdir(folder):
        with contextlib.suppress(OSError):  # closed since it was listed
            count += os.readlink(folder / fd) == str(path)
    return count


def _good_exports(tmp_path: Path) -> list[Path]:
    data = [["ALIADO", "ANI", "CUENTA"], ["Alma", "1", "2"]]
    typed = [
        HEADER,
        row(ally="Alma", ani=3001234567.0, account=123.0, survey_date=dt.datetime(2024, 2, 1)),
        row(ally="Alma", ani="300 123 4568", score=0.1 + 0.2, reason="=1+1", city=True),
        ["Total", 2],
    ]
    renamed = tmp_path / "libro.csv"
    renamed.write_bytes(write_xlsx(tmp_path / "libro.xlsm", {"Export": data}).read_bytes())
    return [
        write_xlsx(tmp_path / "tipos.xlsx", {"Export": typed}),
        write_xlsx(  # parsed past an empty sheet and a sheet without a header
            tmp_path / "hojas.xlsx",
            {"Vacia": [], "Portada": [["Reporte"], ["Generado por Power BI"]], "Datos": typed},
        ),
        write_csv(tmp_path / "datos.csv", typed, ";"),
        renamed,
    ]


def test_started_read_gives_what_read_export_gives(tmp_path):
    aliases = AliasMap({"ani": ["Teléfono"]})
    for path in _good_exports(tmp_path):
        expected = read_export(path, aliases)
        with start_reading(path) as reading:
            table = reading.table(aliases)
        assert table.frame.equals(expected.frame), path.name
        for name in ("sheet", "header_row", "rows_read", "sha256", "warnings", "extra_columns"):
            assert getattr(table, name) == getattr(expected, name), (path.name, name)
        assert table.source_rows == expected.source_rows and table.rows_read > 0
        assert not _export_threads() and _open_files(path) == 0


def _bad_exports(tmp_path: Path) -> list[Path]:
    rows = [["ALIADO", "ANI", "CUENTA"]] + [["Alma", str(i), str(i)] for i in range(2000)]
    cut = write_xlsx(tmp_path / "cortado.xlsx", {"Export": rows})
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    far = replace_sheet_data(
        write_xlsx(tmp_path / "lejos.xlsx", {"Export": [["x"]]}),
        b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    )
    (tmp_path / "vacio.xlsx").write_bytes(b"")
    (tmp_path / "carpeta.xlsx").mkdir()
    (tmp_path / "basura.xlsx").write_bytes(bytes(range(256)) * 40)
    return [
        tmp_path / "no_existe.xlsx",
        tmp_path / "vacio.xlsx",
        tmp_path / "carpeta.xlsx",
        tmp_path / "basura.xlsx",
        cut,
        far,
        _ole_file(tmp_path / "clave.xlsx"),
        _ole_file(tmp_path / "viejo.xls"),
        _zip_with_sheet(tmp_path / "bomba.xlsx", b"<worksheet>" + bytes(5_000_000)),
        write_xlsx(tmp_path / "hoja_vacia.xlsx", {"Vacia": []}),
        write_xlsx(tmp_path / "sin.xlsx", {"Datos": [["Reporte"], ["Columna 1", "Columna 2"]]}),
        write_xlsx(tmp_path / "sin_aliado.xlsx", {"Export": [["ANI", "CUENTA"], [1, 2]]}),
        write_csv(tmp_path / "sin_ani.csv", [["ALIADO", "CUENTA"], ["A", "2"]]),
    ]


def test_error_of_a_started_read_is_the_error_of_read_export(tmp_path, monkeypatch):
    """Whether it happens in the helper thread (file checks, guards, calamine) or once the
    aliases are known (header, columns), the error is raised by table() as read_export
    raises it, and the thread and the file are released."""
    monkeypatch.setattr(guards, "RATIO_CHECK_MIN_BYTES", 1_000_000)
    for path in _bad_exports(tmp_path):
        with pytest.raises(ExportError) as direct:
            read_export(path)
        with start_reading(path) as reading, pytest.raises(ExportError) as started:
            reading.table()
        assert str(started.value) == str(direct.value) and path.name in str(started.value)
        assert started.value.sheet == direct.value.sheet
        assert type(started.value.__cause__) is type(direct.value.__cause__), path.name
        assert not _export_threads()
        if path.is_file():
            assert _open_files(path) == 0, path.name


def test_a_started_read_never_outlives_its_block(tmp_path):
    rows = [["ALIADO", "ANI", "CUENTA"]] + [["Alma", str(i), str(i)] for i in range(20_000)]
    path = write_xlsx(tmp_path / "grande.xlsx", {"Export": rows})
    with start_reading(path):
        assert _export_threads()  # reading while the block runs
    # The table was never asked for: leaving the block waited for the thread, closed the file.
    assert not _export_threads() and _open_files(path) == 0
    with pytest.raises(RuntimeError), start_reading(path):
        raise RuntimeError("the command failed before it needed the export")
    assert not _export_threads() and _open_files(path) == 0


def test_files_take_the_started_read_of_the_same_export_only(tmp_path):
    data = [["ALIADO", "ANI", "CUENTA"], ["Alma", "1", "2"], ["Alma", "3", "4"]]
    started = write_xlsx(tmp_path / "empezado.xlsx", {"Export": data})
    other = write_xlsx(tmp_path / "otro.xlsx", {"Export": data[:2]})
    with start_reading(started) as reading:
        files = Files(reading)
        assert files.read_export(other, AliasMap()).rows_read == 1
        assert not _export_threads() and _open_files(started) == 0  # dropped, released
        with pytest.raises(RuntimeError):
            reading.table()
    with start_reading(started) as reading:
        assert Files(reading).read_export(started, AliasMap()).rows_read == 2


def test_starting_a_read_loads_no_pandas(tmp_path):
    """The command line starts the read before it loads pandas: the thread then parses the
    export while pandas and the rest load (python-calamine releases the GIL)."""
    data = [["ALIADO", "ANI", "CUENTA"], ["A", "1", "2"]]
    path = write_xlsx(tmp_path / "datos.xlsx", {"Export": data})
    code = (
        "import sys\n"
        "from swat_xl.adapters.export_reader import start_reading\n"
        f"with start_reading({str(path)!r}):\n"
        "    pass\n"  # leaving the block waits for the thread: its whole half is done
        "assert 'pandas' not in sys.modules, 'the first half loaded pandas'\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False
    )
    assert result.returncode == 0, result.stderr
