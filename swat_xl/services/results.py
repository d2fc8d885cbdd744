"""What each use case returns: one dataclass per result, read by attribute (the CLI's
``--json`` prints :meth:`Result.as_json`; :mod:`swat_xl.summaries` writes the Spanish text)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swat_xl.core.kpi import KpiReport

EXIT_REFUSED = 7  # the operation was done, but some input was refused (each with its reason)


class Result:
    """Base of the use cases' results."""

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def notices(self) -> list[str]:
        """Warnings to show apart from the summary (none by default)."""
        return []

    def refusals(self) -> list[str]:
        """Input the use case refused, each with its reason (shown apart, as errors)."""
        return []

    def exit_code(self) -> int:
        """The command line's exit code (0: done)."""
        return 0


@dataclass
class InitResult(Result):
    workbook: str
    agents: int
    ledger: str


@dataclass
class RosterResult(Result):
    agents: int


@dataclass
class ImportResult(Result):
    file: str
    rows_read: int
    ally_rows: int
    duplicate_rows: int
    new_records: int
    by_segment: dict[str, int]
    excluded: dict[str, int]
    assigned: int
    unassigned: int
    already_imported: bool = False
    cut_id: int | None = None
    # Records already typified in the online form that came back: their entry is missing at
    # Claro (section 4: typifying "evita que vuelva a salir replicado el registro").
    reappeared_closed: int = 0
    reappeared_ids: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def notices(self) -> list[str]:
        return list(self.warnings)


@dataclass
class AssignResult(Result):
    assigned: int
    unassigned: int
    by_agent: dict[str, int]


@dataclass
class ReassignResult(Result):
    moved: int
    unassigned: int
    by_agent: dict[str, int]
    from_agent: str = ""  # the absent agent, as the roster spells it

    def as_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        return {"from": out.pop("from_agent"), **out}


@dataclass
class ArchiveResult(Result):
    archived: int
    archived_excluded: int
    remaining: int


@dataclass
class PurgeResult(Result):
    retention_days: int
    cuts: int
    records: int
    history_rows: int
    open_records: int
    log_lines_redacted: int
    not_cleaned: list[str]  # files outside the tool's reach that hold purged records
    backups: int = 0  # backup copies deleted
    copies_deleted: list[str] = field(default_factory=list)
    copies_rewritten: list[str] = field(default_factory=list)  # copies purged and drawn again


@dataclass
class RestoreResult(Result):
    workbook: str
    ledger: str
    copy: str  # the workbook copy's file name
    taken_at: str  # ISO
    taken: str  # as listed (dd/mm/aaaa hh:mm:ss)
    set_aside: list[str]  # the files that were in place, moved to «swat_copias»


@dataclass
class AgentBooksResult(Result):
    folder: str
    files: dict[str, int]  # agent -> records in that agent's workbook
    previous_collected: int


@dataclass
class CollectResult(Result):
    collected: list[str]  # file names taken
    refused: list[dict[str, str]]  # each refused file: file, path, reason
    files: dict[str, int]  # file name -> mark rows read
    changed: int
    conflicts: int
    unknown: int
    records: int
    invalid: int = 0

    def refusals(self) -> list[str]:
        return [f"Rechazado «{item['path']}»: {item['reason']}" for item in self.refused]

    def exit_code(self) -> int:
        return EXIT_REFUSED if self.refused else 0


@dataclass
class FormResult(Result):
    file: str | None  # None: nothing to export, no file written
    exported: int
    closed: int
    excluded: int
    newly_marked: int
    corrections: int = 0  # records exported before whose marks changed since
    held: int = 0  # records with incomplete or invalid marks, not exported until fixed


@dataclass
class BuildResult(Result):
    path: Path

    def as_json(self) -> dict[str, Any]:
        return {"workbook": str(self.path)}


@dataclass
class KpiResult(Result):
    report: KpiReport

    def as_json(self) -> dict[str, Any]:
        return self.report.as_json()
