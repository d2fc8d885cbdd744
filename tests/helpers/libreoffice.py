"""Recalculate workbooks with LibreOffice headless and read the results back.

One ``soffice`` call converts a whole batch (start-up is most of the cost). The private profile
forces a full recalculation on load: by default LibreOffice trusts the cached values of .xlsx
files, and XlsxWriter caches 0 for every formula.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice")


def recalculate(
    files: Sequence[Path], work: Path, timeout: int = 180, fmt: str = "xlsx"
) -> list[Path]:
    """Recalculated copies of ``files`` (same order), converted in one LibreOffice call (to
    ``fmt``: ``xls`` writes Excel 97-2003 workbooks)."""
    work.mkdir(parents=True, exist_ok=True)
    staging = work / "in"
    out = work / "out"
    staging.mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    profile = work / f"lo_{uuid.uuid4().hex}"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
    staged = []
    for index, path in enumerate(files):
        copy = staging / f"f{index:03d}_{path.name}"
        shutil.copy2(path, copy)
        staged.append(copy)
    command = [
        soffice() or "soffice",
        "--headless",
        "--norestore",
        f"-env:UserInstallation={profile.as_uri()}",
        "--convert-to",
        fmt,
        "--outdir",
        str(out),
        *map(str, staged),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    results = [out / copy.with_suffix(f".{fmt}").name for copy in staged]
    missing = [p.name for p in results if not p.exists()]
    assert proc.returncode == 0, f"LibreOffice failed: {proc.stdout}\n{proc.stderr}"
    assert not missing, f"LibreOffice did not convert {missing}: {proc.stdout}\n{proc.stderr}"
    shutil.rmtree(profile, ignore_errors=True)
    return results


def defined_values(path: Path) -> dict[str, Any]:
    """Value of every workbook-scope defined name (a single cell each)."""
    book = openpyxl.load_workbook(path, data_only=True)
    out: dict[str, Any] = {}
    for name, definition in book.defined_names.items():
        for sheet, ref in definition.destinations:
            out[name] = book[sheet][ref.replace("$", "")].value
    return out
