"""End to end: the CLI imports generated Power BI cuts; counts match the generator's truth."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import openpyxl
import pytest

from swat_xl.adapters.export_reader import read_export
from swat_xl.demo.sample import make_export
from swat_xl.errors import ExportError
from tests.helpers.cli import ledger_of, run_cli, sha

VARIANTS = [
    ("standard", ".xlsx", {}),
    ("friendly", ".csv", {"encoding": "utf-8-sig", "delimiter": ";"}),
    ("english_mixed", ".xlsx", {"title_rows": True}),
    ("no_id", ".csv", {"encoding": "cp1252", "delimiter": ","}),
]


def _expected(truth) -> dict:
    return {
        "rows_read": truth.rows_read,
        "ally_rows": truth.ally_rows,
        "duplicate_rows": truth.duplicate_rows,
        "new_records": truth.new_records,
        "by_segment": truth.by_segment,
        "excluded": truth.excluded,
    }


@pytest.mark.parametrize(("variant", "suffix", "options"), VARIANTS)
def test_import_counts_match_ground_truth(master: Path, tmp_path: Path, variant, suffix, options):
    export = tmp_path / f"data{suffix}"
    truth = make_export(export, rows=300, seed=5, header_variant=variant, **options)
    result = run_cli("import", export, "--workbook", master, "--json")
    assert result.code == 0, result.err
    payload = result.json()
    for key, value in _expected(truth).items():
        assert payload[key] == value, key
    manageable = truth.new_records - sum(truth.excluded.values())
    assert payload["assigned"] + payload["unassigned"] == manageable
    with sqlite3.connect(ledger_of(master)) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM records ORDER BY id")]
    assert keys == truth.keys


def test_second_cut_counts_duplicates_against_the_first(master: Path, tmp_path: Path):
    first = make_export(tmp_path / "data.xlsx", rows=250, seed=21)
    second = make_export(
        tmp_path / "data (1).xlsx", rows=200, seed=22, previous=[first], repeat_from_previous=30
    )
    assert run_cli("import", tmp_path / "data.xlsx", "--workbook", master).code == 0
    result = run_cli("import", tmp_path / "data (1).xlsx", "--workbook", master, "--json")
    assert result.code == 0, result.err
    payload = result.json()
    assert payload["duplicate_rows"] == second.duplicate_rows
    assert payload["new_records"] == second.new_records
    with sqlite3.connect(ledger_of(master)) as db:
        total = db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        cuts = db.execute("SELECT COUNT(*) FROM cuts").fetchone()[0]
    assert total == first.new_records + second.new_records
    assert cuts == 2


def test_reimporting_the_same_file_adds_nothing(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    truth = make_export(export, rows=200, seed=3)
    assert run_cli("import", export, "--workbook", master).code == 0
    with sqlite3.connect(ledger_of(master)) as db:
        before = db.execute("SELECT COUNT(*), MAX(id) FROM records").fetchone()
    again = run_cli("import", export, "--workbook", master, "--json")
    assert again.code == 0, again.err
    payload = again.json()
    assert payload["new_records"] == 0
    assert payload["duplicate_rows"] == truth.ally_rows
    assert payload["already_imported"] is True
    with sqlite3.connect(ledger_of(master)) as db:
        assert db.execute("SELECT COUNT(*), MAX(id) FROM records").fetchone() == before
        assert db.execute("SELECT COUNT(*) FROM cuts").fetchone()[0] == 1


def test_master_sheets_show_records_exclusions_and_log(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    truth = make_export(export, rows=300, seed=9)
    assert run_cli("import", export, "--workbook", master).code == 0
    book = openpyxl.load_workbook(master)
    for name in (
        "Inicio",
        "Config",
        "Asesores",
        "Base",
        "No gestionables",
        "Bitácora",
        "Indicador",
    ):
        assert name in book.sheetnames
    base = list(book["Base"].iter_rows(values_only=True))
    assert len(base) - 1 == truth.new_records
    excluded = list(book["No gestionables"].iter_rows(values_only=True))
    assert len(excluded) - 1 == sum(truth.excluded.values())
    reasons = {row[2] for row in excluded[1:]}
    assert {
        "Cortesía",
        "Pymes",
        "Cuenta CANCELADO",
        "Cuenta CANCELADO DEBE",
        "Solicitud de cancelación vigente",
    } <= reasons
    log = [row for row in book["Bitácora"].iter_rows(values_only=True)][1:]
    operations = [row for row in log if row[2] == "Operación"]
    assert len(operations) == 2  # init + import
    assert any("Importar corte" in row[5] for row in operations)


def test_formula_looking_text_is_stored_as_text(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    make_export(export, rows=400, seed=4)
    assert run_cli("import", export, "--workbook", master).code == 0
    book = openpyxl.load_workbook(master)
    ws = book["Base"]
    header = [c.value for c in ws[1]]
    col = header.index("Motivo") + 1
    risky = [
        ws.cell(r, col)
        for r in range(2, ws.max_row + 1)
        if str(ws.cell(r, col).value or "")[:1] in "=+-@"
    ]
    assert risky, "the generator must produce formula-looking reasons"
    assert all(cell.data_type == "s" for cell in risky)
    assert any(str(cell.value).startswith("=HYPERLINK") for cell in risky)


def test_numbers_become_clean_codes(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    make_export(export, rows=300, seed=6)
    assert run_cli("import", export, "--workbook", master).code == 0
    with sqlite3.connect(ledger_of(master)) as db:
        accounts = [a for (a,) in db.execute("SELECT account FROM records WHERE account != ''")]
        anis = [a for (a,) in db.execute("SELECT ani FROM records WHERE ani != ''")]
    assert accounts and not any(a.endswith(".0") for a in accounts)
    assert anis and all(not a.endswith(".0") and not a.startswith("+") for a in anis)


# -- bad input: a Spanish message naming the file, exit != 0, nothing changed ------------------
def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    empty = tmp_path / "vacio.xlsx"
    empty.write_bytes(b"")
    files["empty"] = empty
    text = tmp_path / "texto.xlsx"
    text.write_text("esto no es un libro", encoding="utf-8")
    files["not_a_workbook"] = text
    good = tmp_path / "bueno.xlsx"
    make_export(good, rows=50, seed=1)
    corrupt = tmp_path / "corrupto.xlsx"
    corrupt.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    files["corrupt"] = corrupt
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    encrypted = tmp_path / "protegido.xlsx"
    encrypted.write_bytes(ole)
    files["password"] = encrypted
    xls = tmp_path / "viejo.xls"
    xls.write_bytes(ole)
    files["xls"] = xls
    no_header = tmp_path / "sin_encabezado.csv"
    no_header.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    files["no_header"] = no_header
    missing = tmp_path / "sin_aliado.csv"
    missing.write_text(
        "ID_ENCUESTA;SEGMENTO;CUENTA;ANI\n1;HOGAR;123;3001234567\n", encoding="utf-8"
    )
    files["missing_ally"] = missing
    return files


@pytest.mark.parametrize(
    "case", ["empty", "not_a_workbook", "corrupt", "password", "xls", "no_header", "missing_ally"]
)
def test_bad_export_changes_nothing(master: Path, tmp_path: Path, case: str):
    bad = _bad_files(tmp_path)[case]
    before = (sha(master), sha(ledger_of(master)))
    result = run_cli("import", bad, "--workbook", master, "--json")
    assert result.code != 0
    assert bad.name in result.err
    assert "Traceback" not in result.err and result.out == ""
    assert (sha(master), sha(ledger_of(master))) == before


@pytest.mark.parametrize("case", ["empty", "not_a_workbook", "corrupt", "password", "xls"])
def test_bad_export_message_is_the_readers_own(master: Path, tmp_path: Path, case: str):
    """The CLI reads the export in a helper thread from its start: what goes wrong there is
    reported as reading it in place reports it, with the same exit code."""
    bad = _bad_files(tmp_path)[case]
    with pytest.raises(ExportError) as expected:
        read_export(bad)
    result = run_cli("import", bad, "--workbook", master)
    assert result.err.strip() == f"Error: {expected.value}"
    assert result.code == expected.value.exit_code


def test_missing_master_is_reported_before_the_export(tmp_path: Path):
    """As before the export was read in a helper thread: a missing master is what is
    reported, whatever the export holds."""
    bad = _bad_files(tmp_path)["corrupt"]
    result = run_cli("import", bad, "--workbook", tmp_path / "no_hay.xlsx")
    assert result.code != 0 and "no_hay.xlsx" in result.err
    assert bad.name not in result.err and "Traceback" not in result.err


def test_missing_column_message_lists_aliases(master: Path, tmp_path: Path):
    bad = _bad_files(tmp_path)["missing_ally"]
    result = run_cli("import", bad, "--workbook", master)
    assert "ALIADO" in result.err and "Socio" in result.err


def test_zero_ally_rows_is_a_warning_not_an_error(master: Path, tmp_path: Path):
    export = tmp_path / "otros.csv"
    export.write_text(
        "ID_ENCUESTA;ALIADO;SEGMENTO;CUENTA;ANI\n1;KONECTA;HOGAR;123;3001234567\n", encoding="utf-8"
    )
    result = run_cli("import", export, "--workbook", master, "--json")
    assert result.code == 0, result.err
    assert result.json()["ally_rows"] == 0
    assert "Almacontact" in result.err


def test_workbook_open_in_excel_is_refused(master: Path, tmp_path: Path):
    export = tmp_path / "data.xlsx"
    make_export(export, rows=50, seed=1)
    (master.parent / ("~$" + master.name)).write_bytes(b"owner")
    before = (sha(master), sha(ledger_of(master)))
    result = run_cli("import", export, "--workbook", master)
    assert result.code != 0
    assert "abierto en Excel" in result.err
    assert (sha(master), sha(ledger_of(master))) == before


def test_unreadable_workbook_is_refused(tmp_path: Path):
    export = tmp_path / "data.xlsx"
    make_export(export, rows=50, seed=1)
    broken = tmp_path / "maestro.xlsx"
    broken.write_bytes(b"PK\x03\x04 roto")
    result = run_cli("import", export, "--workbook", broken)
    assert result.code != 0
    assert "maestro.xlsx" in result.err and "Traceback" not in result.err
    assert broken.read_bytes() == b"PK\x03\x04 roto"


def test_init_refuses_to_overwrite(master: Path):
    before = sha(master)
    result = run_cli("init", master)
    assert result.code != 0 and "ya existe" in result.err
    assert sha(master) == before
