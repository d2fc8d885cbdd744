"""``swat-xl doctor`` as a subprocess: exit code and output for a good and a bad workbook."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_doctor_on_the_shipped_master(cli, tmp_path: Path) -> None:
    book = tmp_path / "SWAT_Detractores.xlsm"
    shutil.copyfile(ROOT / "workbooks" / "SWAT_Detractores.xlsm", book)
    result = cli("doctor", "--workbook", book, "--json")
    assert result.code == 0, result.out + result.err
    payload = result.json()
    assert payload["ok"] is True and payload["workbook"] == str(book)
    checks = {c["check"]: c["status"] for c in payload["checks"]}
    assert checks["vba_xlwings"] == checks["vba_swat"] == "ok"


def test_doctor_says_what_to_fix_and_exits_non_zero(cli, master: Path, tmp_path: Path) -> None:
    result = cli("doctor", "--workbook", master)  # an .xlsx: no macros, no xlwings.conf
    assert result.code == 1
    assert "[corregir] El libro no tiene macros" in result.out
    assert "Qué hacer:" in result.out and result.out.rstrip().endswith("por corregir.")

    result = cli("doctor", "--workbook", tmp_path / "no-existe.xlsm", "--json")
    assert result.code == 1 and result.json()["ok"] is False
    assert "No existe el libro" in result.out


def test_doctor_without_a_workbook_checks_the_installation(cli) -> None:
    result = cli("doctor")
    assert result.code == 0, result.out + result.err
    assert "[bien] xlwings 0.37.8." in result.out
