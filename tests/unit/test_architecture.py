"""The shape of the code: layers point inward, the public surface is deliberate."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import swat_xl

ROOT = Path(__file__).resolve().parents[2]


def test_import_layers_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed")
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


def test_public_surface():
    assert swat_xl.__all__ == ["__version__"]
    assert swat_xl.__version__


def test_core_needs_no_excel_library():
    code = (
        "import sys, swat_xl.core.rules, swat_xl.core.assignment, swat_xl.core.roster, "
        "swat_xl.core.kpi\n"
        "bad = [m for m in ('openpyxl', 'xlsxwriter', 'xlwings', 'python_calamine', 'sqlite3') "
        "if m in sys.modules]\n"
        "print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_no_xlwings_pro():
    for path in (ROOT / "swat_xl").rglob("*.py"):
        assert "xlwings.pro" not in path.read_text(encoding="utf-8"), path


def test_dates_are_read_in_one_place():
    """What people type is read by ``swat_xl.core.dates``; the ledger's own ISO text by the
    ledger alone (into typed records). No other module parses dates."""
    readers = {"swat_xl/core/dates.py", "swat_xl/adapters/ledger.py"}
    parsing = re.compile(r"\bstrptime\(|\bfromisoformat\(|\bto_datetime\(")
    backup_stamp = '"%Y%m%d-%H%M%S"'  # the time in a backup's file name, written by the tool
    found = []
    for path in sorted((ROOT / "swat_xl").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in readers:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if parsing.search(line) and backup_stamp not in line:
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def _import_cycles(graph) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle_even_inside_functions():
    """grimp reads every import statement, those inside functions and under TYPE_CHECKING too:
    no two swat_xl modules may depend on each other through any of them."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("swat_xl")
    assert _import_cycles(graph) == []


def test_the_cycle_check_sees_imports_inside_functions(tmp_path, monkeypatch):
    grimp = pytest.importorskip("grimp")
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("import loopy.b\n")
    (package / "b.py").write_text("def later():\n    from loopy import a\n    return a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _import_cycles(grimp.build_graph("loopy", cache_dir=None)) == [["loopy.a", "loopy.b"]]
