"""``swat-xl bundle`` as a subprocess, where it must fail: Spanish message, exit code, and no
folder left behind. (The offline logic is in tests/integration/test_bundle.py.)"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.wheels import OWN_WHEEL, write_wheel


def test_a_folder_in_use_is_refused(cli, tmp_path: Path) -> None:
    out = tmp_path / "paquete"
    out.mkdir()
    (out / "notas.txt").write_text("mío", encoding="utf-8")
    result = cli("bundle", "--out", out)
    assert result.code == 2
    assert "Error: La carpeta de salida ya existe y no está vacía" in result.err
    assert [p.name for p in out.iterdir()] == ["notas.txt"]


def test_without_the_network_it_fails_cleanly(cli, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, OWN_WHEEL)
    out = tmp_path / "paquete"
    offline = {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "cache"), "UV_NO_CONFIG": "1"}
    result = cli("bundle", "--out", out, "--fuente", wheel, "--json", env=offline)
    assert result.code == 6, result.err
    assert result.out == ""
    assert "Error: Falló la resolución de dependencias para Python 3.11" in result.err or (
        "Error: Falta uv" in result.err  # uv is in the «bundle» extra, not in «test»
    )
    assert not out.exists()
    assert set(p.name for p in tmp_path.iterdir()) - {"cache"} == {OWN_WHEEL}  # no staging
