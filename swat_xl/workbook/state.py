"""What a master workbook shows: the state :func:`swat_xl.workbook.layout.build_master` draws."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from swat_xl.core.config import Settings
from swat_xl.core.kpi import KpiPart, KpiReport
from swat_xl.core.model import Agent
from swat_xl.workbook.spec import Sheet


@dataclass
class MasterState:
    """Everything a master workbook shows."""

    settings: Settings
    agents: list[Agent]
    # ledger.records(): the records not archived when ``archived`` is given (what the
    # indicator counts of the archived ones), else every record, archived included
    records: pd.DataFrame
    cuts: pd.DataFrame
    operations: pd.DataFrame
    events: pd.DataFrame
    practice_log: pd.DataFrame
    now: dt.datetime
    user_sheets: list[Sheet] = field(default_factory=list)
    xlwings_conf: Sequence[tuple[str, Any]] = ()
    last_summary: str = ""
    kpi: KpiReport | None = None  # the Indicador's refreshed detail (None: live block only)
    archived: KpiPart | None = None
    # Sheets drawn from the records alone (see RECORD_ROLES) that are unchanged in the
    # workbook being rewritten: they become ``reused`` placeholders. ``records`` may hold only
    # the columns the indicator and the roster read, with ``live_records`` giving every column
    # of the records not archived (all a sheet draws), read only when a sheet is drawn.
    reuse: frozenset[str] = frozenset()
    live_records: Callable[[], pd.DataFrame] | None = None
    # Sheets drawn from the records that may be copied one by one: the digest each had when it
    # was written (see ``WorkbookSpec.sheet_keys``). A sheet whose content has the same digest
    # now is copied rather than drawn. ``key_context`` is what every such sheet depends on
    # besides its records and its name (the code, the settings); empty: no digests.
    sheet_keys: Mapping[str, str] = field(default_factory=dict)
    key_context: str = ""


# Sheets whose content is a function of the records, the settings, the roster and the sheet
# names alone (the services key their reuse on exactly that).
RECORD_ROLES = frozenset({"agent", "records"})
