"""Requirements judged for CPython on 64-bit Windows (swat_xl.adapters.wheels), on metadata
written here: markers, extras, versions, Requires-Python and wheel tags."""

from __future__ import annotations

import pytest

from swat_xl.adapters.wheels import (
    Distribution,
    unmet_requirements,
    wheel_supports,
    windows_markers,
)


def dist(name: str, version: str, *requires: str, python: str | None = None) -> Distribution:
    return Distribution(name, version, tuple(requires), python, f"{name}-{version}.whl")


def pins(*dists: Distribution) -> dict[str, Distribution]:
    return {d.name: d for d in dists}


XLWINGS = dist(
    "xlwings",
    "0.37.8",
    'pywin32>=224; platform_system == "Windows"',
    'psutil>=2.0.0; platform_system == "Darwin"',
    'Jinja2; extra == "reports"',
)
LINUX = {
    **windows_markers("3.12"),
    "os_name": "posix",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "platform_machine": "x86_64",
}


def test_windows_markers_hold_what_windows_says() -> None:
    env = windows_markers("3.13")
    assert env["platform_system"] == "Windows" and env["sys_platform"] == "win32"
    assert env["os_name"] == "nt" and env["python_version"] == "3.13"
    assert env["python_full_version"] == "3.13.0"


def test_pywin32_is_required_on_windows_and_not_on_linux() -> None:
    """What ``pip download --platform win_amd64`` gets wrong: it evaluates markers for the
    machine it runs on, where xlwings needs no pywin32."""
    without = pins(XLWINGS)
    assert unmet_requirements(["xlwings==0.37.8"], without, "3.12", markers=LINUX) == []
    assert unmet_requirements(["xlwings==0.37.8"], without, "3.12") == [
        "Falta pywin32 (lo pide xlwings 0.37.8)."
    ]
    assert unmet_requirements(["xlwings"], pins(XLWINGS, dist("pywin32", "312")), "3.12") == []


def test_a_pin_below_the_requirement() -> None:
    problems = unmet_requirements(["xlwings"], pins(XLWINGS, dist("pywin32", "223")), "3.12")
    assert problems == ["pywin32 223 no cumple «pywin32>=224» (lo pide xlwings 0.37.8)."]


def test_extras_pull_their_requirements() -> None:
    assert unmet_requirements(["xlwings[reports]"], pins(XLWINGS, dist("pywin32", "312")), "3.12")
    assert (
        unmet_requirements(
            ["xlwings[reports]"],
            pins(XLWINGS, dist("pywin32", "312"), dist("jinja2", "3.1.4")),
            "3.12",
        )
        == []
    )


def test_python_version_markers_and_requires_python() -> None:
    pandas = dist(
        "pandas",
        "3.1.1",
        'numpy>=2.0.2; python_version < "3.14"',
        'numpy>=2.3.3; python_version >= "3.14"',
        'tzdata; sys_platform == "win32"',
        python=">=3.11",
    )
    numpy = dist("numpy", "2.2.0", python=">=3.12")
    problems = unmet_requirements(["pandas"], pins(pandas, numpy, dist("tzdata", "2026.6")), "3.11")
    assert problems == ["numpy 2.2.0 no funciona con Python 3.11 (pide >=3.12)."]
    assert unmet_requirements(["pandas"], pins(pandas, numpy, dist("tzdata", "1")), "3.13") == []
    assert unmet_requirements(["pandas"], pins(pandas, numpy), "3.13") == [
        "Falta tzdata (lo pide pandas 3.1.1)."
    ]


def test_names_compare_canonically() -> None:
    root = dist("swat-xl", "0.1.0", "XlsxWriter<4,>=3.2", "python_calamine>=0.3")
    found = pins(root, dist("xlsxwriter", "3.3.1"), dist("python-calamine", "0.9.1"))
    assert unmet_requirements(["swat-xl==0.1.0"], found, "3.12") == []


@pytest.mark.parametrize(
    ("file", "python", "installs"),
    [
        ("numpy-2.5.5-cp312-cp312-win_amd64.whl", "3.12", True),
        ("numpy-2.5.5-cp312-cp312-win_amd64.whl", "3.13", False),
        ("numpy-2.5.5-cp312-cp312-manylinux_2_28_x86_64.whl", "3.12", False),
        ("numpy-2.5.5-cp312-cp312-win32.whl", "3.12", False),
        ("pywin32-312-cp313-cp313-win_amd64.whl", "3.13", True),
        ("six-1.17.0-py2.py3-none-any.whl", "3.11", True),
        ("foo-1.0-cp311-abi3-win_amd64.whl", "3.13", True),
        ("no-es-una-rueda.zip", "3.12", False),
    ],
)
def test_wheel_tags(file: str, python: str, installs: bool) -> None:
    assert wheel_supports(file, python) is installs
