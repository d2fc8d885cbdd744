"""Regenerate the macro artifacts shipped in swat_xl/resources from workbooks/src.

    /work/venv/bin/python workbooks/build_vba.py          # write the artifacts
    /work/venv/bin/python workbooks/build_vba.py --check  # exit 1 if they are stale

* ``swat_xl/resources/vbaProject.bin``: xlwings' standalone VBA project (module
  ``xlwings``, class ``Dictionary``) plus the modules ``workbooks/src/<name>.bas``;
* ``swat_xl/resources/customUI.xml``: a copy of ``workbooks/src/customUI.xml``.

The project is made by ``workbooks/vba_project.py``. Needs pyOpenVBA (``pip install -e
'.[build]'``) and the pinned xlwings: the template's ``xlwings`` module must be the
``xlwings.bas`` of that version, or the build stops.
Module sources are UTF-8 text; they are stored in the project's code page (1252).
"""

from __future__ import annotations

import argparse
import importlib.resources
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "workbooks" / "src"
RESOURCES = ROOT / "swat_xl" / "resources"
#: Standard modules of workbooks/src built into the project, in this order.
MODULES = ("SWAT",)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from swat_xl.adapters import xlsm  # noqa: E402
from workbooks.vba_project import build_vba_project  # noqa: E402


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_xlwings_module(project: bytes) -> str:
    """The version of the ``xlwings`` module in ``project``; it must be the installed one."""
    import xlwings
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import parse_vba_project

    modules = {m.name: m for m in parse_vba_project(CFB.from_bytes(project)).modules}
    body = _lines(modules["xlwings"].source)
    shipped = _lines((importlib.resources.files("xlwings") / "xlwings.bas").read_text("cp1252"))
    if body != shipped:
        raise SystemExit("The template's xlwings module differs from xlwings.bas of this xlwings")
    found = re.search(r'^Public Const XLWINGS_VERSION As String = "([^"]+)"', body, re.M)
    version = found[1] if found else ""
    if version != xlwings.__version__:
        raise SystemExit(f"xlwings VBA {version!r} != installed xlwings {xlwings.__version__!r}")
    return version


def build_artifacts() -> dict[Path, bytes]:
    """The artifacts as built from workbooks/src now, by destination path."""
    modules = {name: (SRC / f"{name}.bas").read_text(encoding="utf-8") for name in MODULES}
    project = build_vba_project(modules)
    check_xlwings_module(project)
    ribbon = (SRC / "customUI.xml").read_bytes()
    xlsm.check_ribbon(ribbon)
    return {RESOURCES / "vbaProject.bin": project, RESOURCES / "customUI.xml": ribbon}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, data in build_artifacts().items():
        current = path.read_bytes() if path.exists() else None
        if current == data:
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'}: {path}")
    if not stale:
        print("up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
