"""Shared fixtures: a roster, a fresh master created through the CLI. Helpers live in
:mod:`tests.helpers`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.helpers.cli import run_cli


@pytest.fixture(autouse=True)
def _excel_object_model_respected():
    """Whatever a test did through the Excel simulation respected Excel's object model
    (code that swallows COM errors cannot hide a call Excel would refuse)."""
    yield
    sim = sys.modules.get("tests.helpers.excel_sim")
    if sim is not None:
        violations = sim.take_violations()
        assert not violations, "llamadas que Excel rechazaría:\n" + "\n".join(violations)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def roster_csv(tmp_path: Path) -> Path:
    path = tmp_path / "asesores.csv"
    path.write_text(
        "Asesor;Perfil;Activo;Capacidad\n"
        "Ana Gómez;Hogar;Sí;\n"
        "Bruno Díaz;Móvil;Sí;\n"
        "Carla Ruiz;Ambos;Sí;\n"
        "Diego Mora;Hogar;No;\n",
        encoding="utf-8",
    )
    return path


def _init(path: Path, roster: Path) -> Path:
    result = run_cli("init", path, "--roster", roster)
    assert result.code == 0, result.err
    return path


@pytest.fixture
def master(tmp_path: Path, roster_csv: Path) -> Path:
    """A fresh master workbook created through the CLI."""
    return _init(tmp_path / "maestro.xlsx", roster_csv)


@pytest.fixture
def new_master(tmp_path: Path, roster_csv: Path) -> Path:
    """A macro-enabled master with its roster and no cut yet (made with the CLI)."""
    return _init(tmp_path / "SWAT_Detractores.xlsm", roster_csv)
