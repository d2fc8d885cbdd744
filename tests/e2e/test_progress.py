"""The CLI shows an operation's stages on a terminal, and nothing extra in a pipe or with --json.

The terminal is a real pseudo-terminal given to the CLI as its stderr; the pipe is the one
``subprocess`` makes.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from swat_xl.demo.sample import make_export, make_roster
from tests.helpers.cli import FIXED_NOW, run_cli

STAGES = ("Leyendo el archivo de Power BI", "Asignando a los asesores", "Escribiendo el libro")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@pytest.fixture
def master(tmp_path: Path) -> tuple[Path, Path]:
    roster = tmp_path / "asesores.csv"
    make_roster(roster, agents=4, seed=3)
    workbook = tmp_path / "maestro.xlsx"
    assert run_cli("init", workbook, "--roster", roster).code == 0
    export = tmp_path / "data.xlsx"
    make_export(export, rows=200, seed=5)
    return workbook, export


def run_on_terminal(*args: str | Path) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal (100 columns) and stdout on a pipe;
    returns the exit code, stdout and what the terminal showed (without escape codes)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {**os.environ, "SWAT_NOW": FIXED_NOW, "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "swat_xl", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    shown = bytearray()
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            proc.kill()
            raise AssertionError("the CLI did not finish")
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: every process holding it has ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=60)
    return code, out, _ANSI.sub("", shown.decode(errors="replace"))


def test_a_terminal_shows_each_stage_once_done(master: tuple[Path, Path]) -> None:
    workbook, export = master
    code, out, shown = run_on_terminal("import", export, "--workbook", workbook)
    assert code == 0, shown
    for stage in STAGES:
        assert re.search(rf"✓ {re.escape(stage)}…\s+\d+,\d s", shown), (stage, shown)
    assert "Filas leídas: 200" in out  # stdout is untouched
    assert "Leyendo" not in out


def test_a_pipe_gets_no_progress(master: tuple[Path, Path]) -> None:
    workbook, export = master
    result = run_cli("import", export, "--workbook", workbook)
    assert result.code == 0, result.err
    assert not any(stage in result.err for stage in STAGES)
    assert "✓" not in result.err and "\x1b[" not in result.err


def test_json_on_a_terminal_gets_no_progress(master: tuple[Path, Path]) -> None:
    workbook, export = master
    code, out, shown = run_on_terminal("import", export, "--workbook", workbook, "--json")
    assert code == 0, shown
    assert not any(stage in shown for stage in STAGES), shown
    assert "✓" not in shown
    assert '"rows_read": 200' in out


def test_a_failed_operation_on_a_terminal_ends_with_its_error_only(
    master: tuple[Path, Path], tmp_path: Path
) -> None:
    workbook, _export = master
    broken = tmp_path / "roto.xlsx"
    broken.write_bytes(b"PK\x03\x04 not a workbook")
    code, _out, shown = run_on_terminal("import", broken, "--workbook", workbook)
    assert code != 0
    assert "Error:" in shown and "dañado" in shown
    assert "✓ Leyendo" not in shown  # the stage that failed is not shown as done


def test_every_operation_shows_the_stages_of_the_operation(master: tuple[Path, Path]) -> None:
    workbook, export = master
    assert run_cli("import", export, "--workbook", workbook).code == 0
    code, out, shown = run_on_terminal("kpi", "--workbook", workbook)
    assert code == 0, shown
    for stage in ("Escribiendo el libro", "Guardando el libro"):
        assert re.search(rf"✓ {stage}…\s+\d+,\d s", shown), (stage, shown)
    assert "Contacto efectivo:" in out and "✓" not in out
