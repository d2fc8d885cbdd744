"""``swat-xl doctor``'s checks on fakes of what they inspect: the platform, the installed
versions, environment variables, which files exist, the mark of the Web and the drive type.

The workbook's VBA modules are the ones this swat_xl ships (read from the packaged
vbaProject.bin), edited where a test needs another workbook."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pytest

from swat_xl import __version__
from swat_xl.install import doctor
from swat_xl.install.doctor import Environment, WorkbookFacts, diagnose

USER = r"C:\Users\jperez"
VENV_SCRIPTS = USER + r"\swat_xl\.venv\Scripts"
BOOK = r"C:\SWAT\SWAT_Detractores.xlsm"
SHIPPED = doctor.shipped_modules()
XLWINGS = doctor.vba_xlwings_version(SHIPPED)


def windows(
    *,
    files: set[str] | None = None,
    zones: Mapping[str, str] | None = None,
    drives: Mapping[str, str] | None = None,
    variables: Mapping[str, str] | None = None,
    **changes: object,
) -> Environment:
    """A healthy Windows PC: swat_xl in %USERPROFILE%\\swat_xl\\.venv, run from its python.exe."""
    present = {VENV_SCRIPTS + r"\pythonw.exe", VENV_SCRIPTS + r"\python.exe", BOOK}
    present |= files or set()
    env = Environment(
        platform="win32",
        python=(3, 12, 7),
        bits=64,
        executable=VENV_SCRIPTS + r"\python.exe",
        variables={"USERPROFILE": USER, "TEMP": USER + r"\AppData\Local\Temp"}
        | dict(variables or {}),
        versions={"xlwings": XLWINGS, "pywin32": "311"},
        exists=lambda path: path in present,
        zone_identifier=lambda path: (zones or {}).get(path),
        drive_type=lambda path: (drives or {}).get(path[:2].upper(), "local"),
    )
    return dataclasses.replace(env, **changes)  # type: ignore[arg-type]


def book(path: str = BOOK, **changes: object) -> WorkbookFacts:
    """The master as shipped: its VBA project and xlwings.conf sheet."""
    facts = WorkbookFacts(
        path,
        vba=dict(SHIPPED),
        conf={"INTERPRETER_WIN": r"%USERPROFILE%\swat_xl\.venv\Scripts\pythonw.exe"},
    )
    return dataclasses.replace(facts, **changes)  # type: ignore[arg-type]


def by_check(report: doctor.Report) -> dict[str, doctor.Finding]:
    return {f.check: f for f in report.findings}


def test_a_healthy_pc_and_workbook_need_nothing() -> None:
    report = diagnose(windows(), book())
    assert [f for f in report.findings if f.status != "ok"] == []
    assert not report.needs_fixing
    assert set(by_check(report)) == {
        "python",
        "swat_xl",
        "xlwings",
        "pywin32",
        "location",
        "blocked",
        "vba_xlwings",
        "vba_swat",
        "interpreter",
    }
    assert by_check(report)["interpreter"].message.endswith(
        f"«{VENV_SCRIPTS}\\pythonw.exe».",
    )
    payload = report.as_json()
    assert payload["ok"] is True and payload["workbook"] == BOOK
    assert "Nada que corregir." in report.text()


def test_the_shipped_project_is_the_xlwings_pinned_by_swat_xl() -> None:
    """RunPython's protocol must match: the VBA module's version is the pyproject.toml pin."""
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    dependencies = tomllib.loads(pyproject.read_text("utf-8"))["project"]["dependencies"]
    assert f"xlwings=={XLWINGS}" in dependencies


# -- Python and the installed packages ----------------------------------------------------------
@pytest.mark.parametrize(
    ("python", "bits", "status", "words"),
    [
        ((3, 10, 11), 64, "fix", "necesita Python 3.11"),
        ((3, 12, 1), 32, "fix", "64 bits"),
        ((3, 14, 0), 64, "warning", "más nuevo que las versiones probadas"),
        ((3, 11, 0), 64, "ok", "Python 3.11.0 de 64 bits"),
        ((3, 13, 2), 64, "ok", "Python 3.13.2 de 64 bits"),
    ],
)
def test_python_version_and_bits(
    python: tuple[int, int, int], bits: int, status: str, words: str
) -> None:
    finding = by_check(diagnose(windows(python=python, bits=bits)))["python"]
    assert finding.status == status and words in finding.message


def test_missing_xlwings_needs_fixing() -> None:
    report = diagnose(windows(versions={"xlwings": None, "pywin32": "311"}))
    finding = by_check(report)["xlwings"]
    assert finding.status == "fix" and "no está instalado" in finding.message
    assert report.needs_fixing


def test_another_xlwings_than_the_macros_needs_reinstalling() -> None:
    finding = by_check(diagnose(windows(versions={"xlwings": "0.33.1", "pywin32": "311"})))[
        "xlwings"
    ]
    assert finding.status == "fix"
    assert "0.33.1" in finding.message and f"instala xlwings {XLWINGS}" in finding.fix


def test_missing_pywin32_is_found_on_windows_only() -> None:
    versions = {"xlwings": XLWINGS, "pywin32": None}
    finding = by_check(diagnose(windows(versions=versions)))["pywin32"]
    assert finding.status == "fix" and "swat-xl bundle" in finding.fix
    assert "pywin32" not in by_check(diagnose(windows(versions=versions, platform="linux")))


# -- the workbook's macros -----------------------------------------------------------------------
def _with_module(name: str, source: str | None) -> dict[str, str]:
    modules = {k: v for k, v in SHIPPED.items() if k != name}
    if source is not None:
        modules[name] = source
    return modules


def test_workbook_macros_of_another_xlwings_version() -> None:
    old = SHIPPED["xlwings"].replace(f'"{XLWINGS}"', '"0.30.10"')
    assert old != SHIPPED["xlwings"]
    report = diagnose(windows(), book(vba=_with_module("xlwings", old)))
    finding = by_check(report)["vba_xlwings"]
    assert finding.status == "fix" and "0.30.10" in finding.message
    assert "libro maestro" in finding.fix  # this Python is right: the workbook is old
    # … and the other way round: the workbook is right, this Python's xlwings is not
    env = windows(versions={"xlwings": "0.30.10", "pywin32": "311"})
    finding = by_check(diagnose(env, book()))["vba_xlwings"]
    assert finding.status == "fix" and f"instala xlwings {XLWINGS}" in finding.fix


def test_workbook_without_macros() -> None:
    finding = by_check(diagnose(windows(), book(vba=None)))["macros"]
    assert finding.status == "fix" and "no tiene macros" in finding.message


def test_ribbon_asking_for_an_unknown_action() -> None:
    swat = SHIPPED["SWAT"].replace('RunAction "ayuda"', 'RunAction "enviar_correo"')
    finding = by_check(diagnose(windows(), book(vba=_with_module("SWAT", swat))))["vba_swat"]
    assert finding.status == "fix" and "«enviar_correo»" in finding.message


def test_ribbon_module_of_another_version_is_a_warning() -> None:
    swat = SHIPPED["SWAT"] + "\n' editado a mano\n"
    report = diagnose(windows(), book(vba=_with_module("SWAT", swat)))
    assert by_check(report)["vba_swat"].status == "warning"
    assert not report.needs_fixing


def test_ribbon_module_missing() -> None:
    finding = by_check(diagnose(windows(), book(vba=_with_module("SWAT", None))))["vba_swat"]
    assert finding.status == "fix" and "«SWAT»" in finding.message


def test_module_names_compare_like_vba_does() -> None:
    modules = {k.lower(): v for k, v in SHIPPED.items()}
    report = diagnose(windows(), book(vba=modules))
    assert by_check(report)["vba_swat"].status == "ok"
    assert by_check(report)["vba_xlwings"].status == "ok"


# -- the xlwings.conf sheet ----------------------------------------------------------------------
def test_interpreter_variables_expand_case_insensitively() -> None:
    env = dataclasses.replace(windows(), variables={"UserProfile": USER})
    assert by_check(diagnose(env, book()))["interpreter"].status == "ok"


def test_interpreter_that_does_not_exist() -> None:
    conf = {"INTERPRETER_WIN": r"D:\otro\.venv\Scripts\pythonw.exe"}
    finding = by_check(diagnose(windows(), book(conf=conf)))["interpreter"]
    assert finding.status == "fix"
    assert "Could not find Interpreter!" in finding.message
    assert VENV_SCRIPTS + r"\pythonw.exe" in finding.fix  # the one that would work


def test_interpreter_with_an_unknown_variable() -> None:
    conf = {"INTERPRETER_WIN": r"%SWAT_HOME%\pythonw.exe"}
    finding = by_check(diagnose(windows(), book(conf=conf)))["interpreter"]
    assert finding.status == "fix" and "%SWAT_HOME%" in finding.message


@pytest.mark.parametrize(
    ("conf", "status", "words"),
    [
        (None, "fix", "no tiene la hoja «xlwings.conf»"),
        ({"INTERPRETER_WIN": ""}, "fix", "Interpreter_Win vacío"),
        ({"INTERPRETER_WIN": None, "PYTHONPATH": ""}, "fix", "Interpreter_Win vacío"),
        ({"INTERPRETER": r"%USERPROFILE%\swat_xl\.venv\Scripts\pythonw.exe"}, "ok", "pythonw"),
    ],
)
def test_interpreter_setting(conf: dict | None, status: str, words: str) -> None:
    finding = by_check(diagnose(windows(), book(conf=conf)))["interpreter"]
    assert finding.status == status and words in finding.message


def test_interpreter_warnings() -> None:
    console = {"INTERPRETER_WIN": r"%USERPROFILE%\swat_xl\.venv\Scripts\python.exe"}
    finding = by_check(diagnose(windows(), book(conf=console)))["interpreter"]
    assert finding.status == "warning" and "ventana negra" in finding.fix

    accented = r"C:\Users\josé.muñoz\swat_xl\.venv\Scripts\pythonw.exe"
    env = windows(files={accented}, executable=accented.replace("pythonw", "python"))
    finding = by_check(diagnose(env, book(conf={"INTERPRETER_WIN": accented})))["interpreter"]
    assert finding.status == "warning" and "tildes" in finding.fix

    other = r"D:\herramientas\swat\.venv\Scripts\pythonw.exe"
    finding = by_check(diagnose(windows(files={other}), book(conf={"INTERPRETER_WIN": other})))[
        "interpreter"
    ]
    assert finding.status == "warning" and "no es el Python de este swat_xl" in finding.fix
    assert not diagnose(windows(files={other}), book(conf={"INTERPRETER_WIN": other})).needs_fixing


def test_interpreter_is_only_reported_outside_windows() -> None:
    env = dataclasses.replace(windows(), platform="linux", executable="/opt/venv/bin/python")
    finding = by_check(diagnose(env, book("/srv/SWAT_Detractores.xlsm")))["interpreter"]
    assert finding.status == "info" and "solo se puede comprobar en Windows" in finding.message


# -- where the workbook is ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("https://d.docs.live.net/4f1a/Documentos/SWAT_Detractores.xlsm", "OneDrive/SharePoint"),
        (
            "https://claro.sharepoint.com/sites/swat/Documentos/SWAT_Detractores.xlsm",
            "OneDrive/SharePoint",
        ),
        (r"\\servidor\backoffice\SWAT\SWAT_Detractores.xlsm", "carpeta de red"),
        (r"Z:\SWAT\SWAT_Detractores.xlsm", "unidad de red Z:"),
        (USER + r"\OneDrive - Almacontact\SWAT\SWAT_Detractores.xlsm", "sincronizada con OneDrive"),
        (USER.upper() + r"\ONEDRIVE\SWAT_Detractores.xlsm", "sincronizada con OneDrive"),
    ],
)
def test_workbooks_off_a_local_folder_need_moving(path: str, words: str) -> None:
    env = windows(
        files={path},
        drives={"Z:": "remote"},
        variables={
            "OneDriveCommercial": USER + r"\OneDrive - Almacontact",
            "OneDriveConsumer": USER + r"\OneDrive",
        },
    )
    report = diagnose(env, book(path))
    finding = by_check(report)["location"]
    assert finding.status == "fix" and words in finding.message
    assert "carpeta local" in finding.fix
    assert report.needs_fixing


def test_a_onedrive_lookalike_folder_is_local() -> None:
    path = USER + r"\OneDriveBackup\SWAT_Detractores.xlsm"
    env = windows(files={path}, variables={"OneDrive": USER + r"\OneDrive"})
    assert by_check(diagnose(env, book(path)))["location"].status == "ok"


def test_a_book_opened_from_onedrive_still_checks_its_xlwings_conf() -> None:
    url = "https://d.docs.live.net/4f1a/SWAT_Detractores.xlsm"
    found = by_check(diagnose(windows(), book(url, vba=None)))
    assert found["location"].status == "fix"
    assert found["interpreter"].status == "ok"
    assert "blocked" not in found and "macros" not in found  # no local file to read


# -- the mark of the Web -------------------------------------------------------------------------
MARK = "[ZoneTransfer]\r\nZoneId={}\r\nReferrerUrl=https://teams.microsoft.com/\r\n"


@pytest.mark.parametrize(("zone", "status"), [(3, "fix"), (4, "fix"), (2, "ok"), (1, "ok")])
def test_mark_of_the_web(zone: int, status: str) -> None:
    env = windows(zones={BOOK: MARK.format(zone)})
    finding = by_check(diagnose(env, book()))["blocked"]
    assert finding.status == status
    if status == "fix":
        assert "Desbloquear" in finding.fix and f'Unblock-File -Path "{BOOK}"' in finding.fix


def test_zone_id_parsing() -> None:
    assert doctor.zone_id("[ZoneTransfer]\nzoneid = 3\n") == 3
    assert doctor.zone_id("[ZoneTransfer]\r\nLastWriterPackageFamilyName=x\r\n") is None
    assert doctor.zone_id(None) is None


def test_missing_workbook_is_reported() -> None:
    report = diagnose(windows(), WorkbookFacts(r"C:\SWAT\otro.xlsm", problem="missing"))
    finding = by_check(report)["workbook"]
    assert finding.status == "fix" and "No existe el libro" in finding.message


def test_report_text_lists_what_to_fix() -> None:
    env = windows(versions={"xlwings": XLWINGS, "pywin32": None}, zones={BOOK: MARK.format(3)})
    report = diagnose(env, book())
    text = report.text()
    assert text.startswith(f"Diagnóstico de swat_xl {__version__}")
    assert "[corregir] Falta pywin32" in text and "Qué hacer:" in text
    assert text.endswith("Hay 2 cosas por corregir.")
    brief = report.text(problems_only=True)
    assert "[bien]" not in brief and "[corregir] Falta pywin32" in brief
    assert report.as_json()["ok"] is False
