"""Build the empty master workbook shipped with swat_xl (``workbooks/SWAT_Detractores.xlsm``).

The build is byte-for-byte reproducible: the same sources (layout, VBA project, ribbon,
xlwings.conf rows, swat_xl version) always give the same file. Nothing in it depends on the
clock, the user or the machine: the workbook is drawn as of :data:`BUILD_DATE` (the date the
SWAT procedure was approved), XlsxWriter and the ribbon post-processor write fixed zip
timestamps, and the document properties are fixed.

No ledger is created: the first operation on the built master creates it (see
:func:`swat_xl.services.sheets.is_pristine`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from swat_xl.core.config import Settings
from swat_xl.errors import InputError
from swat_xl.services.ports import LedgerStore, WorkbookPort
from swat_xl.services.rendering import master_state
from swat_xl.services.results import BuildResult
from swat_xl.services.session import Session
from swat_xl.services.unit_of_work import ledger_path_for
from swat_xl.workbook.layout import build_master
from swat_xl.workbook.spec import WorkbookSpec
from swat_xl.workbook.xlwings_conf import XLWINGS_CONF

#: Approval date of the SWAT detractores procedure: the "now" of the built workbook.
BUILD_DATE = dt.datetime(2021, 12, 7)
BUILD_USER = "swat_xl"
DEFAULT_OUT = Path("workbooks") / "SWAT_Detractores.xlsm"


def template_spec(workbook: WorkbookPort, ledgers: LedgerStore) -> WorkbookSpec:
    """The empty master: default Config, no agents, no records, the xlwings.conf sheet."""
    settings = Settings()
    ledger = ledgers.open(Path(":memory:"), create=True)  # empty frames with the ledger's columns
    try:
        session = Session(
            workbook=workbook,
            ledger=ledger,
            settings=settings,
            agents=[],
            now=BUILD_DATE,
            operation_id=0,
            command="Crear libro",
        )
        state = master_state(session, [], list(XLWINGS_CONF))
        return build_master(dataclasses.replace(state, last_summary=""))
    finally:
        ledger.close()


def build_workbook(out: str | Path, workbook: WorkbookPort, ledgers: LedgerStore) -> BuildResult:
    """Write the empty macro-enabled master to ``out`` (an ``.xlsm``) through ``workbook``
    (the file at ``out``, carrying the shipped VBA project and ribbon).

    Refuses to overwrite a master in use (one with a ledger beside it) or one open in Excel.
    """
    out = Path(out)
    if out.suffix.lower() != ".xlsm":
        raise InputError("El libro maestro con la cinta SWAT debe terminar en .xlsm", file=out)
    if ledgers.exists(ledger_path_for(out, Settings())):
        raise InputError(
            "Junto a ese libro hay un registro SQLite: es un libro en uso y no se sobrescribe "
            "(elija otra ruta)",
            file=out,
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    spec = template_spec(workbook, ledgers)
    workbook.publish(spec, backups_to_keep=0, now=BUILD_DATE).finish()
    return BuildResult(out)
