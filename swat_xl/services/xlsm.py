"""Macro-enabled masters: carry the VBA project and the SWAT ribbon over every rewrite."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from swat_xl.adapters.xlsx_file import FileWorkbook

VBA_PART = "xl/vbaProject.bin"
RIBBON_PART = "customUI/customUI.xml"


def shipped(name: str) -> bytes:
    return resources.files("swat_xl").joinpath("resources", name).read_bytes()


def default_xlwings_conf() -> list[tuple[str, str]]:
    from swat_xl.adapters.xlsm import XLWINGS_CONF

    return list(XLWINGS_CONF)


def macro_parts(
    path: Path, current: FileWorkbook | None
) -> tuple[bytes | None, Callable[[Path], None] | None]:
    """The VBA project and a ribbon post-processor for an ``.xlsm`` target (none for ``.xlsx``).

    The workbook's own VBA project and ribbon are kept when present (a user may have edited
    them); otherwise the ones shipped with swat_xl are used.
    """
    if path.suffix.lower() != ".xlsm":
        return None, None
    from swat_xl.adapters.xlsm import add_ribbon

    vba = current.part(VBA_PART) if current is not None else None
    ribbon = current.part(RIBBON_PART) if current is not None else None
    vba = vba or shipped("vbaProject.bin")
    ribbon = ribbon or shipped("customUI.xml")

    def postprocess(tmp: Path) -> None:
        add_ribbon(tmp, tmp, ribbon)

    return vba, postprocess
