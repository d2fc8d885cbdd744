"""The doctor on real workbook files (the shipped master, a master without macros, a broken
file) and behind the ribbon's «Ayuda», with a stand-in for the open book and a fake Windows."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from swat_xl import macros
from swat_xl.install import doctor
from swat_xl.install.doctor import Environment, diagnose, workbook_facts

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_BOOK = ROOT / "workbooks" / "SWAT_Detractores.xlsm"


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    path = tmp_path / "SWAT" / "SWAT_Detractores.xlsm"
    path.parent.mkdir()
    shutil.copyfile(SHIPPED_BOOK, path)
    return path


def linux() -> Environment:
    return Environment(
        platform="linux",
        python=(3, 12, 3),
        bits=64,
        executable="/opt/swat/.venv/bin/python",
        variables={},
        versions={"xlwings": "0.37.8", "pywin32": None},
        exists=lambda path: Path(path).exists(),
        zone_identifier=lambda path: None,
        drive_type=lambda path: "local",
    )


def fake_windows(book: Path, interpreter_exists: bool) -> Environment:
    """Windows as the ribbon would see it with ``book`` at C:\\SWAT."""
    python = r"C:\Users\ana\swat_xl\.venv\Scripts\pythonw.exe"
    return dataclasses.replace(
        linux(),
        platform="win32",
        executable=python,
        variables={"USERPROFILE": r"C:\Users\ana"},
        versions={"xlwings": "0.37.8", "pywin32": "311"},
        exists=lambda path: interpreter_exists and path == python,
    )


def test_facts_of_the_shipped_master(shipped_copy: Path) -> None:
    facts = workbook_facts(shipped_copy)
    assert facts.problem is None and facts.path == str(shipped_copy)
    assert {"xlwings", "SWAT"} <= set(facts.vba or {})
    assert facts.conf is not None
    assert facts.conf["INTERPRETER_WIN"] == r"%USERPROFILE%\swat_xl\.venv\Scripts\pythonw.exe"
    assert facts.conf["ADD_WORKBOOK_TO_PYTHONPATH"] is False
    report = diagnose(linux(), facts)
    assert not report.needs_fixing, report.text()


def test_a_master_without_macros_needs_fixing(master: Path) -> None:  # an .xlsx from init
    report = diagnose(linux(), workbook_facts(master))
    assert report.needs_fixing
    assert {f.check for f in report.findings if f.status == "fix"} == {"macros", "interpreter"}


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not really a zip", b"<html></html>"])
def test_an_unreadable_workbook_is_a_finding(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "roto.xlsm"
    path.write_bytes(content)
    facts = workbook_facts(path)
    assert facts.problem and "roto.xlsm" in facts.problem
    finding = next(f for f in diagnose(linux(), facts).findings if f.check == "workbook")
    assert finding.status == "fix"


# -- «Ayuda» on the ribbon -------------------------------------------------------------------
class _Range:
    def __init__(self, rows: list[list[Any]]) -> None:
        self.rows = rows

    def options(self, ndim: int | None = None, **_: Any) -> _Range:
        assert ndim == 2
        return self

    @property
    def value(self) -> list[list[Any]]:
        return [[*row, None, None][:2] for row in self.rows] + [[None, None]] * 3


class _Sheet:
    def __init__(self, name: str, rows: list[list[Any]]) -> None:
        self.name, self.rows = name, rows

    def range(self, address: str) -> _Range:
        assert address == "A1:B40"
        return _Range(self.rows)


class _Book:
    """What «Ayuda» reads of the open workbook: its FullName and its sheets."""

    def __init__(self, fullname: str, conf: list[list[Any]] | None) -> None:
        self.fullname = fullname
        found = [_Sheet(doctor.CONF_SHEET, conf)] if conf is not None else []
        self.sheets_by_name = {s.name: s for s in [_Sheet("Inicio", []), *found]}

    @property
    def sheets(self) -> Any:
        book = self

        class Sheets:
            def __iter__(self):
                return iter(book.sheets_by_name.values())

            def __getitem__(self, name: str) -> _Sheet:
                return book.sheets_by_name[name]

        return Sheets()


def ayuda(book: _Book) -> str:
    context = macros._Context(book, say=lambda text: None)
    return macros._HANDLERS["ayuda"](context)


CONF = [["Interpreter_Win", r"%USERPROFILE%\swat_xl\.venv\Scripts\pythonw.exe"], ["PYTHONPATH"]]


def test_ayuda_shows_the_steps_and_that_nothing_needs_fixing(
    monkeypatch: pytest.MonkeyPatch, shipped_copy: Path
) -> None:
    monkeypatch.setattr(doctor, "current_environment", lambda: fake_windows(shipped_copy, True))
    text = ayuda(_Book(str(shipped_copy), CONF))
    assert "Importar corte" in text and "Diagnóstico de swat_xl" in text
    assert text.endswith("Nada que corregir.")


def test_ayuda_reads_xlwings_conf_from_the_open_book(
    monkeypatch: pytest.MonkeyPatch, shipped_copy: Path
) -> None:
    monkeypatch.setattr(doctor, "current_environment", lambda: fake_windows(shipped_copy, False))
    text = ayuda(_Book(str(shipped_copy), CONF))
    assert "[corregir] No existe «C:\\Users\\ana\\swat_xl\\.venv\\Scripts\\pythonw.exe»" in text
    assert "[bien]" not in text  # only what needs attention
    text = ayuda(_Book(str(shipped_copy), [["Interpreter_Win", ""]]))
    assert "Interpreter_Win vacío" in text
    text = ayuda(_Book(str(shipped_copy), None))
    assert "no tiene la hoja «xlwings.conf»" in text


def test_ayuda_on_a_book_opened_from_onedrive(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://d.docs.live.net/4f1a/Documentos/SWAT_Detractores.xlsm"
    monkeypatch.setattr(doctor, "current_environment", lambda: fake_windows(Path(url), True))
    text = ayuda(_Book(url, CONF))
    assert "[corregir] El libro se abrió desde OneDrive/SharePoint" in text
    assert "C:\\SWAT" in text


def test_ayuda_still_helps_when_the_diagnosis_fails(
    monkeypatch: pytest.MonkeyPatch, shipped_copy: Path
) -> None:
    def broken() -> Environment:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor, "current_environment", broken)
    text = ayuda(_Book(str(shipped_copy), CONF))
    assert "Importar corte" in text and "No se pudo completar el diagnóstico" in text
    assert (shipped_copy.parent / macros.LOG_NAME).exists()
