"""One operation in progress, as the use cases see it: what they read and what they report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swat_xl.core.config import Settings
from swat_xl.core.kpi import KpiReport
from swat_xl.core.model import Agent
from swat_xl.core.text import mask_digits
from swat_xl.services.ports import LedgerPort, WorkbookPort


@dataclass
class Session:
    """One operation in progress (see :func:`swat_xl.services.operation.run_operation`)."""

    workbook: WorkbookPort
    ledger: LedgerPort
    settings: Settings
    agents: list[Agent]
    now: dt.datetime
    operation_id: int
    command: str
    warnings: list[str] = field(default_factory=list)
    summary: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    render: bool = True
    kpi_report: KpiReport | None = None  # set by «Actualizar indicador» (may cover a date range)
    notices: list[str] = field(default_factory=list)  # appended to the summary (Spanish)
    ledger_copy: Path | None = None  # the ledger as it was before this operation (see publish)

    def event(self, message: str, *, level: str = "info", record_id: int | None = None) -> None:
        """One line of the log. What a cell held may be quoted in ``message``: its digit runs
        (phones, documents) are hidden, since the log outlives the records."""
        self.ledger.add_event(
            self.operation_id, mask_digits(message), level=level, record_id=record_id, at=self.now
        )

    def warn(self, message: str) -> None:
        self.warnings.append(mask_digits(message))
        self.event(message, level="warning")
