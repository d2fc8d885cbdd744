"""Shared fixtures: a roster, a fresh master created through the CLI. Helpers live in
:mod:`tests.helpers`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import run_cli


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


@pytest.fixture
def master(tmp_path: Path, roster_csv: Path) -> Path:
    """A fresh master workbook created through the CLI."""
    workbook = tmp_path / "maestro.xlsx"
    result = run_cli("init", workbook, "--roster", roster_csv)
    assert result.code == 0, result.err
    return workbook
