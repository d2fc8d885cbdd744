"""``swat-xl bundle`` without the network.

``tests/data/windows_bundle.json`` is the ``paquete.json`` of a real bundle (uv's resolution
for Windows and each downloaded wheel's own metadata). Re-record it after a dependency
changes::

    python -m swat_xl bundle --out /tmp/paquete
    cp /tmp/paquete/paquete.json tests/data/windows_bundle.json

The recorded resolution is checked against the requirements of this checkout's
``pyproject.toml``; :func:`make_bundle` runs with a fake ``uv``/``pip`` that answers from the
recording and writes real (metadata-only) wheel files. The download itself is in
``test_real_bundle`` (marker ``network``, run with ``SWAT_TEST_NETWORK=1``).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tomllib
from collections.abc import Sequence
from pathlib import Path

import pytest

from swat_xl.adapters.wheels import canonical, unmet_requirements, windows_markers
from swat_xl.errors import BundleError, InputError
from swat_xl.install import bundle
from swat_xl.install.bundle import check_manifest, make_bundle
from tests.helpers.wheels import OWN_WHEEL, RECORDED, ROOT, write_wheel


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement

    return canonical(Requirement(requirement).name)


def _pins(manifest: dict, python: str) -> dict[str, str]:
    wheels = manifest["wheels"]
    return {wheels[f]["name"]: wheels[f]["version"] for f in manifest["pythons"][python]["wheels"]}


# -- the recorded resolution --------------------------------------------------------------------
def test_recorded_resolution_holds_every_requirement_on_windows() -> None:
    assert set(RECORDED["pythons"]) == set(bundle.PYTHONS) == {"3.11", "3.12", "3.13"}
    assert check_manifest(RECORDED) == []
    for python in bundle.PYTHONS:
        pins = _pins(RECORDED, python)
        assert pins["xlwings"] == "0.37.8"
        assert "pywin32" in pins, f"Python {python}: xlwings needs pywin32 on Windows"


def test_recorded_resolution_is_of_this_pyproject() -> None:
    """Every dependency of this checkout is pinned, for Windows, at an allowed version (a
    changed dependency means re-recording: see the module's docstring)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    recorded = RECORDED["wheels"][OWN_WHEEL]["requires_dist"]
    assert {_name(r) for r in recorded if "extra ==" not in r} == {
        _name(r) for r in project["dependencies"]
    }, "tests/data/windows_bundle.json is stale: re-record it (see this module's docstring)"
    from swat_xl.adapters.wheels import Distribution

    for python in bundle.PYTHONS:
        dists = {
            d.name: d
            for f in RECORDED["pythons"][python]["wheels"]
            for d in [Distribution.from_json(f, RECORDED["wheels"][f])]
        }
        assert unmet_requirements(project["dependencies"], dists, python) == []


def test_a_resolution_without_pywin32_is_refused() -> None:
    """What pip's own resolution, run on Linux, ships: no pywin32."""
    linux_like = copy.deepcopy(RECORDED)
    entry = linux_like["pythons"]["3.12"]
    entry["wheels"] = [f for f in entry["wheels"] if not f.startswith("pywin32-")]
    assert check_manifest(linux_like) == ["Python 3.12: Falta pywin32 (lo pide xlwings 0.37.8)."]


def test_the_recorded_pins_pass_for_linux_markers_too_which_is_the_trap() -> None:
    from swat_xl.adapters.wheels import Distribution

    dists = {
        d.name: d
        for f in RECORDED["pythons"]["3.12"]["wheels"]
        for d in [Distribution.from_json(f, RECORDED["wheels"][f])]
        if d.name != "pywin32"
    }
    linux = {**windows_markers("3.12"), "platform_system": "Linux", "sys_platform": "linux"}
    root = [f"swat-xl=={RECORDED['swat_xl']}"]
    assert unmet_requirements(root, dists, "3.12", markers=linux) == []
    assert unmet_requirements(root, dists, "3.12") == ["Falta pywin32 (lo pide xlwings 0.37.8)."]


def test_a_wheel_for_another_python_is_refused() -> None:
    wrong = copy.deepcopy(RECORDED)
    files = wrong["pythons"]["3.13"]["wheels"]
    index = next(i for i, f in enumerate(files) if f.startswith("numpy-"))
    files[index] = next(f for f in wrong["pythons"]["3.11"]["wheels"] if f.startswith("numpy-"))
    problems = check_manifest(wrong)
    assert problems and all(p.startswith("Python 3.13:") for p in problems)
    assert "no se instala en Windows de 64 bits con Python 3.13" in problems[0]


# -- make_bundle with a fake uv and pip ---------------------------------------------------------
class FakeTools:
    """``uv pip compile`` answers with the recorded pins; ``pip download`` writes the recorded
    wheels (metadata only). ``drop`` leaves a package out, as pip on Linux would."""

    def __init__(self, drop: str = "", fail: str = "") -> None:
        self.commands: list[list[str]] = []
        self.drop, self.fail = drop, fail

    def __call__(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        command = list(command)
        self.commands.append(command)
        args = command[command.index("pip") + 1 :] if "pip" in command else command
        verb = args[0]
        python = command[command.index("--python-version") + 1]
        if verb == self.fail:
            return subprocess.CompletedProcess(command, 2, "", "error: no network\nDNS falló")
        if verb == "compile":
            out = Path(command[command.index("--output-file") + 1])
            pins = _pins(RECORDED, python)
            text = "".join(f"{n}=={v}\n" for n, v in sorted(pins.items()) if n != self.drop)
            out.write_text(text, encoding="utf-8")
        elif verb == "download":
            dest = Path(command[command.index("--dest") + 1])
            listing = Path(command[command.index("--requirement") + 1]).read_text("utf-8")
            wanted = {line.split("==")[0] for line in listing.split()}
            for file in RECORDED["pythons"][python]["wheels"]:
                if RECORDED["wheels"][file]["name"] in wanted:
                    write_wheel(dest, file)
        return subprocess.CompletedProcess(command, 0, "", "")


@pytest.fixture
def own_wheel(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    folder.mkdir()
    write_wheel(folder, OWN_WHEEL)
    return folder / OWN_WHEEL


def test_bundle_folder(tmp_path: Path, own_wheel: Path) -> None:
    tools = FakeTools()
    out = tmp_path / "paquete"
    result = make_bundle(out, source=own_wheel, run=tools, uv="uv")

    assert sorted(p.name for p in out.iterdir()) == [
        "LEEME.txt",
        "SWAT_Detractores.xlsm",
        "instalar.bat",
        "paquete.json",
        "paquetes",
        "requisitos-py311.txt",
        "requisitos-py312.txt",
        "requisitos-py313.txt",
    ]
    assert not list(tmp_path.glob(".paquete*"))  # the staging folder is gone
    manifest = json.loads((out / "paquete.json").read_text("utf-8"))
    assert check_manifest(manifest) == []
    for python in bundle.PYTHONS:
        pins = (out / bundle.requirements_file(python)).read_text("utf-8").split()
        assert "pywin32==312" in pins and f"swat-xl=={RECORDED['swat_xl']}" in pins
        compile_ = next(c for c in tools.commands if "compile" in c and python in c)
        assert compile_[compile_.index("--python-platform") + 1] == "x86_64-pc-windows-msvc"
        download = next(c for c in tools.commands if "download" in c and python in c)
        assert {"--no-deps", "--only-binary", "--platform", "win_amd64"} <= set(download)
        assert f"cp{python.replace('.', '')}" in download
    assert result["pythons"]["3.12"]["packages"].count("pywin32") == 1
    recorded = {f for entry in RECORDED["pythons"].values() for f in entry["wheels"]}
    assert result["wheels"] == len(list((out / "paquetes").glob("*.whl"))) == len(recorded)

    from openpyxl import load_workbook

    book = load_workbook(out / "SWAT_Detractores.xlsm", keep_vba=True)
    assert "xlwings.conf" in book.sheetnames and "Inicio" in book.sheetnames


def test_installer_installs_from_the_folder_only(tmp_path: Path, own_wheel: Path) -> None:
    out = tmp_path / "paquete"
    make_bundle(out, source=own_wheel, run=FakeTools(), uv="uv")
    raw = (out / "instalar.bat").read_bytes()
    assert raw.isascii(), "cmd.exe reads a .bat in the console's code page"
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    text = raw.decode("ascii")
    install = next(line for line in text.splitlines() if " -m pip install " in line)
    assert "--no-index" in install and '--find-links "%CARPETA%paquetes"' in install
    assert '--requirement "%REQUISITOS%"' in install
    assert 'set "REQUISITOS=%CARPETA%requisitos-py3%MENOR%.txt"' in text
    assert r'set "SWAT_VENV=%USERPROFILE%\swat_xl\.venv"' in text  # what xlwings.conf expects
    for python in bundle.PYTHONS:
        assert f'set "PYTHON=py -{python}"' in text
    labels = {line[1:] for line in text.splitlines() if line.startswith(":")}
    targets = {line.rsplit("goto ", 1)[1] for line in text.splitlines() if "goto " in line}
    assert targets <= labels, targets - labels
    readme = (out / "LEEME.txt").read_text("utf-8-sig")
    assert "Use admin privileges" in readme and "instalar.bat" in readme


def test_a_resolution_that_loses_pywin32_makes_no_bundle(tmp_path: Path, own_wheel: Path) -> None:
    out = tmp_path / "paquete"
    with pytest.raises(BundleError) as caught:
        make_bundle(out, source=own_wheel, run=FakeTools(drop="pywin32"), uv="uv")
    assert "Falta pywin32 (lo pide xlwings 0.37.8)" in str(caught.value)
    assert caught.value.exit_code == 6
    assert not out.exists() and not list(tmp_path.glob(".paquete*"))


@pytest.mark.parametrize("step", ["compile", "download"])
def test_a_failing_tool_makes_no_bundle(tmp_path: Path, own_wheel: Path, step: str) -> None:
    out = tmp_path / "paquete"
    out.mkdir()  # an empty folder may be the target
    with pytest.raises(BundleError, match="DNS falló") as caught:
        make_bundle(out, source=own_wheel, run=FakeTools(fail=step), uv="uv")
    assert "Falló la" in str(caught.value)
    assert list(out.iterdir()) == [] and not list(tmp_path.glob(".paquete*"))


def test_a_folder_in_use_is_refused(tmp_path: Path, own_wheel: Path) -> None:
    out = tmp_path / "paquete"
    out.mkdir()
    (out / "algo.txt").write_text("x")
    tools = FakeTools()
    with pytest.raises(InputError, match="no está vacía"):
        make_bundle(out, source=own_wheel, run=tools, uv="uv")
    assert tools.commands == [] and [p.name for p in out.iterdir()] == ["algo.txt"]


def test_parse_pins() -> None:
    text = (
        "# comentario\n--index-url https://x\nPyWin32==312 ; sys_platform == 'win32'\n\n"
        "six==1.17.0  # via x\n"
    )
    assert bundle.parse_pins(text) == [("pywin32", "312"), ("six", "1.17.0")]


# -- the real thing (network) ------------------------------------------------------------------
@pytest.mark.network
@pytest.mark.skipif(
    os.environ.get("SWAT_TEST_NETWORK") != "1", reason="downloads from PyPI: SWAT_TEST_NETWORK=1"
)
def test_real_bundle(tmp_path: Path) -> None:
    from tests.helpers.cli import run_cli

    result = run_cli("bundle", "--out", tmp_path / "paquete", "--json", timeout=1800)
    assert result.code == 0, result.err
    manifest = json.loads((tmp_path / "paquete" / "paquete.json").read_text("utf-8"))
    assert check_manifest(manifest) == []
    for python in bundle.PYTHONS:
        assert "pywin32" in _pins(manifest, python)
