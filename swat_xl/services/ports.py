"""What the use cases need from the world, as protocols: the services import no adapter.

The real implementations are built in :mod:`swat_xl.bootstrap` (files, SQLite, Excel); the unit
tests pass fakes that hold everything in memory.

* :class:`WorkbookPort`: the master workbook (a file on disk, or the book open in Excel);
* :class:`LedgerPort` and :class:`LedgerStore`: the durable state beside it;
* :class:`FilesPort`: the other files an operation reads or writes (Power BI exports, roster
  files, agent workbooks, the form file);
* :data:`Lock` and :data:`Clock`: one operation at a time per workbook, and what time it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from swat_xl.core.fields import AliasMap
from swat_xl.workbook.spec import Sheet, WorkbookSpec

#: ``lock(workbook_path, timeout_seconds)``: held for the whole operation; raises
#: :class:`~swat_xl.errors.BusyError` when another operation keeps it longer than the timeout.
Lock = Callable[[Path, float], AbstractContextManager[None]]
#: The time of the operation (local, to the second).
Clock = Callable[[], dt.datetime]


class Publication(Protocol):
    """A new workbook ready to be installed: :meth:`finish` installs it (after the ledger
    committed), :meth:`discard` drops it (when the commit failed); :attr:`fingerprint` is the
    SHA-256 of what it installs, when known; :attr:`drawn`: what the writer notes about the
    sheets it draws, handed back to the next :meth:`WorkbookPort.publish` (empty when it needs
    none)."""

    @property
    def fingerprint(self) -> str | None: ...

    @property
    def drawn(self) -> Mapping[str, Any]: ...

    def finish(self) -> None: ...
    def discard(self) -> None:
        """Forget it (the ledger did not commit): nothing of it is left behind."""


class SheetReader(Protocol):
    """Reading the sheets of a workbook."""

    path: Path

    def sheet_names(self) -> list[str]: ...
    def rows(self, sheet: str, columns: Collection[int] | None = None) -> list[list[Any]]:
        """The rows of a sheet from A1. ``columns`` (0-based): only those are needed below the
        header; a reader for which every cell costs (Excel) may leave the others empty."""

    def header(self, sheet: str) -> list[Any]: ...


class BookReader(SheetReader, Protocol):
    """A workbook opened to be read (an agent workbook, a backup copy): close it when done."""

    def close(self) -> None: ...


class WorkbookPort(SheetReader, Protocol):
    """The master workbook as the services see it."""

    #: Whether each rewrite keeps a backup copy (a file in ``swat_copias``) with the ledger
    #: copy :meth:`publish` is given.
    keeps_backups: bool

    @property
    def problems(self) -> list[str]:
        """Spanish notes about best-effort parts that could not be drawn (e.g. a chart)."""
        ...

    def refresh(self) -> None:
        """Forget what was read: the workbook may have changed while waiting for the lock."""

    def fingerprint(self) -> str | None:
        """SHA-256 of the workbook as it is now (None when it cannot be told)."""

    def reusable_sheets(self) -> set[str]:
        """Sheets the next rewrite may copy from the workbook as they are."""

    def written_copy_sheets(self, written: str) -> set[str]:
        """Sheets the next rewrite may copy from the writer's own copy of the last workbook it
        wrote (``written``: that workbook's fingerprint); none when there is no such copy.
        A spec whose ``copy_from`` is "written" copies its reused sheets from there."""

    def user_sheet(self, name: str) -> Sheet:
        """A sheet the tool does not own, as cells to carry over."""

    def publish(
        self,
        spec: WorkbookSpec,
        *,
        backups_to_keep: int,
        now: dt.datetime,
        ledger_copy: Path | None = None,
        drawn: Mapping[str, Any] | None = None,
    ) -> Publication:
        """Prepare ``spec`` (nothing visible changes yet); see :class:`Publication`.
        ``ledger_copy``: the ledger as the replaced workbook was drawn from it, kept with its
        backup copy (moved there when the publication finishes). ``drawn``: what the last
        publication noted (its :attr:`Publication.drawn`)."""


class NewRecordsPort(Protocol):
    """A cut's records not yet inserted (:meth:`LedgerPort.new_records`): the IDs they take
    (from ``start``) and, of the manageable ones, what the assignment reads."""

    start: int

    @property
    def ids(self) -> list[int]: ...
    def waiting(self) -> pd.DataFrame: ...


class LedgerPort(Protocol):
    """The durable state of one master: cuts, records, assignments, marks, the log."""

    def begin(self, *, copy_to: Path | None = None) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def damaged(self) -> bool: ...
    def close(self) -> None: ...
    def backup_to(self, target: Path) -> None: ...

    # cuts and records
    def cut_by_sha(self, sha256: str) -> dict[str, Any] | None: ...
    def known_keys(self, keys: Iterable[str]) -> set[str]: ...
    def add_cut(self, **values: Any) -> int: ...
    def update_cut(self, cut_id: int, **values: Any) -> None: ...
    def add_records(
        self, cut_id: int, frame: pd.DataFrame, extra_columns: Sequence[str]
    ) -> list[int]: ...
    def new_records(
        self, cut_id: int, frame: pd.DataFrame, extra_columns: Sequence[str]
    ) -> NewRecordsPort | None: ...
    def insert_records(
        self,
        new: Any,
        assignment: Mapping[int, str] | None = None,
        *,
        at: dt.datetime | None = None,
        due_hours: float = 24.0,
        reason: str = "",
        operation_id: int | None = None,
    ) -> list[int]: ...
    def records_revision(self) -> int: ...
    def archived_records(self, columns: Sequence[str]) -> pd.DataFrame: ...
    def kept_archived_kpi(self, key: str) -> dict[str, Any] | None: ...
    def keep_archived_kpi(self, key: str, data: Mapping[str, Any]) -> None: ...
    def records(
        self, *, include_archived: bool = True, columns: Sequence[str] | None = None
    ) -> pd.DataFrame: ...
    def form_records(self, *, include_exported: bool = False) -> pd.DataFrame: ...
    def typified_among(self, keys: Sequence[str]) -> list[int]: ...
    def cuts(self) -> pd.DataFrame: ...
    def archive(self, before: dt.date, at: dt.datetime) -> tuple[int, int, int]: ...
    def purge_cuts_before(self, limit: dt.datetime, *, notice: str) -> dict[str, int]: ...
    def copies_before(self, limit: dt.datetime, form_command: str) -> dict[str, list[Any]]: ...
    def mark_form_exported(
        self, record_ids: Iterable[int], at: dt.datetime, *, corrections: Iterable[int] = ()
    ) -> None: ...

    # assignment
    def open_work(self) -> pd.DataFrame: ...
    def waiting_records(self) -> pd.DataFrame: ...
    def set_assignments(
        self,
        assignment: Mapping[int, str],
        *,
        at: dt.datetime,
        due_hours: float,
        reason: str,
        operation_id: int,
    ) -> None: ...
    def unassign(self, record_ids: Iterable[int]) -> None: ...
    def assigned_open(self) -> list[tuple[int, str]]: ...
    def agents_of_records(self) -> dict[int, str]: ...

    # marks
    def marks(self, record_ids: Iterable[int] | None = None) -> pd.DataFrame: ...
    def typed_marks(self, record_ids: Iterable[int]) -> pd.DataFrame: ...
    def set_closed(self, closed: Mapping[int, dt.datetime | str | None]) -> None: ...
    def update_marks(
        self,
        changes: Sequence[tuple[int, str, str, str]],
        *,
        source: str,
        at: dt.datetime,
        operation_id: int,
    ) -> None: ...

    # agent workbooks
    def add_agent_export(
        self, token: str, agent: str, file_name: str, at: dt.datetime, record_ids: Iterable[int]
    ) -> None: ...
    def agent_export(self, token: str) -> tuple[str, str, list[int]] | None: ...
    def latest_agent_export(self, agent: str) -> str: ...
    def mark_collected(self, file_name: str, at: dt.datetime) -> None: ...

    # practices and holidays
    def practice_log(self) -> pd.DataFrame: ...
    def practice_days(self) -> set[str]: ...
    def replace_practice_log(self, entries: Iterable[tuple[str, str, str, str, str]]) -> None: ...
    def cached_holidays(
        self, country: str, years: Iterable[int], source: str
    ) -> dict[int, list[dt.date]]: ...
    def keep_holidays(
        self, country: str, year: int, source: str, days: Iterable[dt.date]
    ) -> None: ...

    # the operation log and the workbook beside the ledger
    def start_operation(self, command: str, *, user: str, host: str, at: dt.datetime) -> int: ...
    def finish_operation(
        self, operation_id: int, *, summary: str, counts: Mapping[str, Any], at: dt.datetime
    ) -> None: ...
    def add_event(
        self,
        operation_id: int,
        message: str,
        *,
        level: str = "info",
        record_id: int | None = None,
        at: dt.datetime,
    ) -> None: ...
    def operations(self, limit: int = 2000) -> pd.DataFrame: ...
    def events(self, limit: int = 2000) -> pd.DataFrame: ...
    def workbook_state(self) -> set[str]: ...
    def written_sheets(self) -> tuple[str, dict[str, Any]]: ...
    def set_workbook_state(
        self,
        *,
        seen: str | None,
        written: str | None,
        at: dt.datetime,
        sheets: Mapping[str, Any] | None = None,
    ) -> None: ...


class LedgerStore(Protocol):
    """Where ledgers live: open one (creating it when asked), or drop one never committed."""

    def exists(self, path: Path) -> bool: ...
    def open(self, path: Path, *, create: bool = False, check_beside: bool = False) -> LedgerPort:
        """The ledger at ``path``, checked as it opens or (``check_beside``) beside the next
        transaction, whose commit waits for the verdict."""

    def discard(self, path: Path) -> None: ...
    def check(self, path: Path) -> bool:
        """Whether the ledger at ``path`` opens and passes a quick integrity check."""


class ExportTablePort(Protocol):
    """A Power BI export read and cleaned: canonical columns, plus how it was found."""

    frame: pd.DataFrame
    sheet: str | None  # None for a csv file
    header_row: int
    rows_read: int
    sha256: str
    extra_columns: list[str]
    warnings: list[str]


class FilesPort(Protocol):
    """Files other than the master an operation reads or writes."""

    def read_export(self, path: Path, aliases: AliasMap) -> ExportTablePort:
        """A Power BI export (xlsx or csv); raises :class:`~swat_xl.errors.ExportError`."""

    def read_table(self, path: Path) -> list[list[Any]]:
        """The rows of a small csv or xlsx file (a roster)."""

    def open_book(self, path: Path) -> BookReader:
        """A workbook to read (an agent workbook); raises on a file that cannot be read."""

    def save_book(self, spec: WorkbookSpec, path: Path) -> None:
        """Write ``spec`` to ``path`` atomically (an agent workbook)."""

    def render_book(self, spec: WorkbookSpec, path: Path) -> None:
        """Write ``spec`` to ``path`` as it is (may raise :class:`OSError`)."""
