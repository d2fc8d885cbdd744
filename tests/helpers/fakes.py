"""In-memory fakes of the services' ports: a workbook, a ledger and the other files.

No file, no SQLite, no Excel: the service tests in ``tests/unit`` run the real use cases (and
the real ``run_operation``) on these. The fake ledger keeps text as the real one stores it and
types it on reading with the real ledger's pure ``typed_records``; it keeps the same rules as
the SQLite one (what a change to a mark closes, what archive and purge take) in plain pandas,
and rolls back what an operation did unless it committed.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from swat_xl.adapters.ledger import stored_times, typed_records
from swat_xl.bootstrap import unit_of_work
from swat_xl.core.fields import CANONICAL, AliasMap
from swat_xl.core.model import MARK_FIELDS
from swat_xl.errors import BusyError, ExportError, LedgerError
from swat_xl.services.unit_of_work import UnitOfWork
from swat_xl.workbook.spec import Sheet, WorkbookSpec

RECORD_COLUMNS: tuple[str, ...] = (
    "id",
    "key",
    "cut_id",
    *CANONICAL,
    "segment",
    "exclusion",
    "extra",
    "agent",
    "assigned_at",
    "due_at",
    *MARK_FIELDS,
    "marked_at",
    "closed_at",
    "archived_at",
    "form_exported_at",
)
CUT_COLUMNS = (
    "id",
    "file_name",
    "sha256",
    "imported_at",
    "sheet",
    "header_row",
    "rows_read",
    "ally_rows",
    "duplicate_rows",
    "new_records",
    "excluded",
    "assigned",
    "unassigned",
)
OPERATION_COLUMNS = (
    "id",
    "started_at",
    "finished_at",
    "user",
    "host",
    "command",
    "summary",
    "counts",
)
EVENT_COLUMNS = ("id", "operation_id", "at", "level", "record_id", "message")
PRACTICE_COLUMNS = ("held_on", "practice", "owner", "minutes", "notes")


def _iso(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat()


# -- the workbook -------------------------------------------------------------------------------
def spec_rows(sheet: Sheet) -> list[list[Any]]:
    """A drawn sheet as the rows a reader gets back (``""`` for empty cells, formulas as their
    cached value)."""
    grid: dict[tuple[int, int], Any] = {}
    for table in sheet.tables:
        for offset, column in enumerate(table.columns):
            grid[(table.first_row, table.first_col + offset)] = column.header
        for r, row in enumerate(table.rows, start=table.first_row + 1):
            for c, value in enumerate(row, start=table.first_col):
                grid[(r, c)] = value
    for cell in sheet.cells:
        grid[(cell.row, cell.col)] = cell.value
    if not grid:
        return []
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    rows = [["" for _ in range(width)] for _ in range(height)]
    for (r, c), value in grid.items():
        rows[r][c] = "" if value is None else value
    return rows


@dataclass
class FakePublication:
    workbook: FakeWorkbook
    sheets: dict[str, list[list[Any]]]
    fingerprint: str | None
    drawn: dict[str, Any] = field(default_factory=dict)

    def finish(self) -> None:
        self.workbook.sheets = self.sheets
        self.workbook.published += 1

    def discard(self) -> None:
        pass


class FakeWorkbook:
    """The master as a dict of sheet name -> rows; ``publish`` installs what the spec draws."""

    def __init__(self, sheets: Mapping[str, list[list[Any]]] | None = None) -> None:
        self.path = Path("/nowhere/maestro.xlsx")
        self.keeps_backups = False
        self.sheets: dict[str, list[list[Any]]] = dict(sheets or {})
        self.problems: list[str] = []
        self.published = 0
        self.refreshed = 0
        self.specs: list[WorkbookSpec] = []

    def refresh(self) -> None:
        self.refreshed += 1

    def fingerprint(self) -> str | None:
        return _digest(self.sheets)

    def reusable_sheets(self) -> set[str]:
        return set()

    def written_copy_sheets(self, written: str) -> set[str]:
        return set()

    def close(self) -> None:
        pass

    def sheet_names(self) -> list[str]:
        return list(self.sheets)

    def rows(self, sheet: str, columns: Collection[int] | None = None) -> list[list[Any]]:
        return [list(row) for row in self.sheets[sheet]]

    def header(self, sheet: str) -> list[Any]:
        rows = self.sheets[sheet]
        return list(rows[0]) if rows else []

    def user_sheet(self, name: str) -> Sheet:
        return Sheet(name, role="user")

    def publish(
        self,
        spec: WorkbookSpec,
        *,
        backups_to_keep: int,
        now: dt.datetime,
        ledger_copy: Path | None = None,
        drawn: Mapping[str, Any] | None = None,
    ) -> FakePublication:
        self.specs.append(spec)
        drawn = {sheet.name: spec_rows(sheet) for sheet in spec.sheets}
        for name, rows in self.sheets.items():  # a user's own sheet stays as it is
            if any(s.name == name and s.role == "user" for s in spec.sheets):
                drawn[name] = rows
        return FakePublication(self, drawn, _digest(drawn))

    def set_cell(self, sheet: str, row: int, header: str, value: Any) -> None:
        """Type ``value`` in the column headed ``header`` of ``row`` (0-based, 0 = header)."""
        rows = self.sheets[sheet]
        rows[row][rows[0].index(header)] = value


def _digest(sheets: Mapping[str, Any]) -> str:
    text = json.dumps(sheets, default=str, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- the ledger ---------------------------------------------------------------------------------
@dataclass
class LedgerState:
    records: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({name: [] for name in RECORD_COLUMNS})
    )
    cuts: list[dict[str, Any]] = field(default_factory=list)
    operations: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[tuple[int, str, str, str, int]] = field(default_factory=list)
    mark_history: list[tuple[Any, ...]] = field(default_factory=list)
    agent_exports: list[dict[str, Any]] = field(default_factory=list)
    practice_log: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    holidays: dict[tuple[str, int, str], list[dt.date]] = field(default_factory=dict)
    workbook_state: dict[str, Any] = field(default_factory=dict)
    revision: int = 0


@dataclass
class FakeNewRecords:
    """A cut's records not yet inserted in a :class:`FakeLedger`."""

    cut_id: int
    start: int
    frame: pd.DataFrame
    extra_columns: list[str]

    @property
    def ids(self) -> list[int]:
        return list(range(self.start, self.start + len(self.frame)))

    def waiting(self) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "record_id": pd.Series(self.ids, dtype="int64"),
                **{
                    name: self.frame[name].astype(str).tolist()
                    for name in ("segment", "account", "ani", "custcode")
                },
            }
        )
        return frame[(self.frame["exclusion"] == "").to_numpy()].reset_index(drop=True)


class FakeLedger:
    """The ledger's port over a :class:`LedgerState` (what a SQLite file would hold)."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state
        self._saved: LedgerState | None = None
        self.closed = False

    # -- transaction ---------------------------------------------------------------------------
    def begin(self, *, copy_to: Path | None = None) -> None:
        if copy_to is not None:
            raise NotImplementedError("an in-memory ledger has no file to copy")
        self._saved = copy.deepcopy(self.state)

    def commit(self) -> None:
        self._saved = None

    def rollback(self) -> None:
        if self._saved is not None:
            saved = self._saved
            self.state.__dict__.update(saved.__dict__)
            self._saved = None

    def damaged(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    # -- records ----------------------------------------------------------------------------
    @property
    def _r(self) -> pd.DataFrame:
        return self.state.records

    def _changed(self, frame: pd.DataFrame) -> None:
        self.state.records = frame.reset_index(drop=True)
        self.state.revision += 1

    def cut_by_sha(self, sha256: str) -> dict[str, Any] | None:
        return next((dict(c) for c in self.state.cuts if c["sha256"] == sha256), None)

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        return set(keys) & set(self._r["key"])

    def add_cut(self, **values: Any) -> int:
        values = {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in values.items()}
        cut_id = len(self.state.cuts) + 1
        row = {name: 0 for name in CUT_COLUMNS} | values | {"id": cut_id}
        self.state.cuts.append(row)
        return cut_id

    def update_cut(self, cut_id: int, **values: Any) -> None:
        next(c for c in self.state.cuts if c["id"] == cut_id).update(values)

    def add_records(
        self, cut_id: int, frame: pd.DataFrame, extra_columns: Sequence[str]
    ) -> list[int]:
        if frame.empty:
            return []
        start = int(self._r["id"].max()) + 1 if len(self._r) else 1
        ids = list(range(start, start + len(frame)))
        new = pd.DataFrame({name: [""] * len(frame) for name in RECORD_COLUMNS})
        new["id"] = ids
        new["cut_id"] = cut_id
        new["key"] = frame["key"].tolist()
        for name in CANONICAL:
            values = frame[name]
            if name == "survey_date" and pd.api.types.is_datetime64_any_dtype(values):
                new[name] = values.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("").tolist()
            else:
                new[name] = values.astype(str).tolist()
        new["segment"] = frame["segment"].tolist()
        new["exclusion"] = frame["exclusion"].tolist()
        new["extra"] = [
            json.dumps(dict(zip(extra_columns, row, strict=True)), ensure_ascii=False)
            for row in frame[list(extra_columns)].itertuples(index=False, name=None)
        ] or ["{}"] * len(frame)
        if not extra_columns:
            new["extra"] = "{}"
        self._changed(pd.concat([self._r, new], ignore_index=True))
        return ids

    def new_records(
        self, cut_id: int, frame: pd.DataFrame, extra_columns: Sequence[str]
    ) -> FakeNewRecords | None:
        if frame.empty:
            return None
        start = int(self._r["id"].max()) + 1 if len(self._r) else 1
        return FakeNewRecords(cut_id, start, frame, list(extra_columns))

    def insert_records(
        self,
        new: FakeNewRecords,
        assignment: Mapping[int, str] | None = None,
        *,
        at: dt.datetime | None = None,
        due_hours: float = 24.0,
        reason: str = "",
        operation_id: int | None = None,
    ) -> list[int]:
        ids = self.add_records(new.cut_id, new.frame, new.extra_columns)
        assert ids == new.ids, "records were inserted since their IDs were given"
        if assignment:
            assert at is not None and operation_id is not None
            self.set_assignments(
                assignment, at=at, due_hours=due_hours, reason=reason, operation_id=operation_id
            )
        return ids

    def records_revision(self) -> int:
        return self.state.revision

    def archived_records(self, columns: Sequence[str]) -> pd.DataFrame:
        frame = self.records(columns=columns)
        return frame[frame["archived_at"].notna()].reset_index(drop=True)

    # The archived records' part of the indicator is never kept here (the real ledger's
    # triggers are not modelled): every operation counts it again, as after an archive.
    def kept_archived_kpi(self, key: str) -> dict[str, Any] | None:
        return None

    def keep_archived_kpi(self, key: str, data: Mapping[str, Any]) -> None:
        return None

    def records(
        self, *, include_archived: bool = True, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        frame = self._r.copy()
        if not include_archived:
            frame = frame[frame["archived_at"] == ""]
        imported = {c["id"]: c["imported_at"] for c in self.state.cuts}
        frame["cut_at"] = frame["cut_id"].map(imported).fillna("")
        frame = typed_records(frame.reset_index(drop=True))
        return frame[list(columns)] if columns is not None else frame

    def form_records(self, *, include_exported: bool = False) -> pd.DataFrame:
        frame = self.records()
        chosen = (frame["outcome"] != "") | (frame["exclusion"] != "")
        exported = frame["form_exported_at"]
        later = [
            bool(
                pd.notna(at)
                and any(h[0] == rid and h[5] > _iso(at) for h in self.state.mark_history)
            )
            for rid, at in zip(frame["id"].tolist(), exported.tolist(), strict=True)
        ]
        correction = pd.Series(later, index=frame.index, dtype=bool)
        if not include_exported:
            chosen &= exported.isna() | correction
        out = frame[chosen].copy()
        out["correction"] = correction[chosen]
        return out.reset_index(drop=True)

    def typified_among(self, keys: Sequence[str]) -> list[int]:
        r = self._r
        chosen = r["key"].isin(list(keys)) & (r["form_exported_at"] != "")
        chosen &= (r["closed_at"] != "") | (r["exclusion"] != "")
        return sorted(int(i) for i in r.loc[chosen, "id"])

    def cuts(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.state.cuts, columns=list(CUT_COLUMNS))
        frame["imported_at"] = stored_times(frame["imported_at"].astype(object))
        return frame

    def archive(self, before: dt.date, at: dt.datetime) -> tuple[int, int, int]:
        r = self._r.copy()
        limit = before.isoformat()
        live = r["archived_at"] == ""
        closed = live & (r["outcome"] != "") & (r["closed_at"] != "")
        closed &= r["closed_at"].str[:10] < limit
        excluded = live & ~closed & (r["exclusion"] != "") & (r["form_exported_at"] != "")
        excluded &= r["form_exported_at"].str[:10] < limit
        r.loc[closed | excluded, "archived_at"] = at.isoformat()
        self._changed(r)
        return int(closed.sum()), int(excluded.sum()), int((r["archived_at"] == "").sum())

    def copies_before(self, limit: dt.datetime, form_command: str) -> dict[str, list[Any]]:
        old = {c["id"] for c in self.state.cuts if c["imported_at"] < limit.isoformat()}
        ids = set(self._r.loc[self._r["cut_id"].isin(old), "id"])
        out: dict[str, list[Any]] = {"agent_workbooks": [], "form_exports": [], "exports": []}
        if ids:
            out["agent_workbooks"] = [
                (e["agent"], e["file_name"], e["exported_at"])
                for e in self.state.agent_exports
                if ids & set(e["record_ids"])
            ]
            out["exports"] = [c["file_name"] for c in self.state.cuts if c["id"] in old]
        return out

    def purge_cuts_before(self, limit: dt.datetime, *, notice: str) -> dict[str, int]:
        old = {c["id"] for c in self.state.cuts if c["imported_at"] < limit.isoformat()}
        r = self._r
        doomed = r["cut_id"].isin(old)
        ids = set(r.loc[doomed, "id"])
        history = sum(1 for row in self.state.mark_history if row[0] in ids)
        history += sum(1 for row in self.state.assignments if row[0] in ids)
        self.state.mark_history = [row for row in self.state.mark_history if row[0] not in ids]
        self.state.assignments = [row for row in self.state.assignments if row[0] not in ids]
        still_open = doomed & (r["archived_at"] == "") & (r["exclusion"] == "")
        still_open &= r["outcome"] == ""
        self._changed(r[~doomed])
        redacted = 0
        for event in self.state.events:
            if event.get("record_id") in ids:
                event["message"] = notice
                redacted += 1
        return {
            "cuts": len(old),
            "records": int(doomed.sum()),
            "history_rows": history,
            "open_records": int(still_open.sum()),
            "log_lines_redacted": redacted,
        }

    def mark_form_exported(
        self, record_ids: Iterable[int], at: dt.datetime, *, corrections: Iterable[int] = ()
    ) -> None:
        r = self._r.copy()
        chosen = r["id"].isin(list(record_ids)) & (r["form_exported_at"] == "")
        chosen |= r["id"].isin(list(corrections))
        r.loc[chosen, "form_exported_at"] = _iso(at)
        self._changed(r)

    # -- assignment ---------------------------------------------------------------------------
    def open_work(self) -> pd.DataFrame:
        r = self._r
        chosen = (r["agent"] != "") & (r["outcome"] == "") & (r["exclusion"] == "")
        frame = r.loc[chosen, ["id", "agent", "segment", "account", "ani", "custcode"]]
        return frame.rename(columns={"id": "record_id"}).astype({"record_id": "int64"})

    def waiting_records(self) -> pd.DataFrame:
        r = self._r
        chosen = (r["agent"] == "") & (r["exclusion"] == "") & (r["archived_at"] == "")
        chosen &= r["outcome"] == ""
        frame = r.loc[chosen, ["id", "segment", "account", "ani", "custcode"]]
        frame = frame.rename(columns={"id": "record_id"}).astype({"record_id": "int64"})
        return frame.reset_index(drop=True)

    def set_assignments(
        self,
        assignment: Mapping[int, str],
        *,
        at: dt.datetime,
        due_hours: float,
        reason: str,
        operation_id: int,
    ) -> None:
        r = self._r.copy().set_index("id", drop=False)
        for record_id, agent in assignment.items():
            r.loc[int(record_id), ["agent", "assigned_at", "due_at"]] = [
                agent,
                _iso(at),
                _iso(at + dt.timedelta(hours=due_hours)),
            ]
            self.state.assignments.append((int(record_id), agent, _iso(at), reason, operation_id))
        self._changed(r)

    def unassign(self, record_ids: Iterable[int]) -> None:
        r = self._r.copy()
        r.loc[r["id"].isin(list(record_ids)), "agent"] = ""
        self._changed(r)

    def assigned_open(self) -> list[tuple[int, str]]:
        r = self._r
        chosen = (r["agent"] != "") & (r["archived_at"] == "") & (r["exclusion"] == "")
        ids, agents = r.loc[chosen, "id"], r.loc[chosen, "agent"]
        return [(int(i), a) for i, a in zip(ids, agents, strict=True)]

    def agents_of_records(self) -> dict[int, str]:
        r = self._r[self._r["agent"] != ""]
        return {int(i): a for i, a in zip(r["id"], r["agent"], strict=True)}

    # -- marks ------------------------------------------------------------------------------
    def marks(self, record_ids: Iterable[int] | None = None) -> pd.DataFrame:
        r = self._r[self._r["agent"] != ""]
        if record_ids is not None:
            r = r[r["id"].astype(int).isin({int(i) for i in record_ids})]
        frame = r[["id", "agent", *MARK_FIELDS, "marked_at"]].rename(columns={"id": "record_id"})
        return frame.astype({"record_id": "int64"}).reset_index(drop=True)

    def update_marks(
        self,
        changes: Sequence[tuple[int, str, str, str]],
        *,
        source: str,
        at: dt.datetime,
        operation_id: int,
    ) -> None:
        if not changes:
            return
        r = self._r.copy().set_index("id", drop=False)
        for record_id, name, old, new in changes:
            r.loc[record_id, [name, "marked_at"]] = [new, _iso(at)]
            self.state.mark_history.append((record_id, name, old, new, source, _iso(at)))
        self._changed(r)

    def typed_marks(self, record_ids: Iterable[int]) -> pd.DataFrame:
        return typed_records(self.marks(record_ids))

    def set_closed(self, closed: Mapping[int, dt.datetime | str | None]) -> None:
        r = self._r.copy().set_index("id", drop=False)
        for record_id, when in closed.items():
            text = when if isinstance(when, str) else _iso(when) if when else ""
            r.loc[record_id, "closed_at"] = text
        self._changed(r)

    # -- agent workbooks ----------------------------------------------------------------------
    def add_agent_export(
        self, token: str, agent: str, file_name: str, at: dt.datetime, record_ids: Iterable[int]
    ) -> None:
        self.state.agent_exports.append(
            {
                "token": token,
                "agent": agent,
                "file_name": file_name,
                "exported_at": at.isoformat(),
                "record_ids": [int(i) for i in record_ids],
                "collected_at": "",
            }
        )

    def agent_export(self, token: str) -> tuple[str, str, list[int]] | None:
        for row in self.state.agent_exports:
            if row["token"] == token:
                return row["agent"], row["exported_at"], list(row["record_ids"])
        return None

    def latest_agent_export(self, agent: str) -> str:
        return max(r["exported_at"] for r in self.state.agent_exports if r["agent"] == agent)

    def mark_collected(self, file_name: str, at: dt.datetime) -> None:
        for row in self.state.agent_exports:
            if row["file_name"] == file_name and not row["collected_at"]:
                row["collected_at"] = at.isoformat()

    # -- practices and holidays ---------------------------------------------------------------
    def practice_log(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.state.practice_log, columns=list(PRACTICE_COLUMNS))
        text = frame["held_on"].astype(object)
        frame["held_on"] = stored_times(text)
        held = frame["held_on"]
        frame["held_on_unread"] = [t if pd.isna(d) else "" for t, d in zip(text, held, strict=True)]
        return frame

    def practice_days(self) -> set[str]:
        return {row[0] for row in self.state.practice_log}

    def replace_practice_log(self, entries: Iterable[tuple[str, str, str, str, str]]) -> None:
        self.state.practice_log = list(entries)

    def cached_holidays(
        self, country: str, years: Iterable[int], source: str
    ) -> dict[int, list[dt.date]]:
        return {
            year: list(self.state.holidays[(country, year, source)])
            for year in years
            if (country, year, source) in self.state.holidays
        }

    def keep_holidays(self, country: str, year: int, source: str, days: Iterable[dt.date]) -> None:
        self.state.holidays[(country, year, source)] = sorted(days)

    # -- the operation log and the workbook ---------------------------------------------------
    def start_operation(self, command: str, *, user: str, host: str, at: dt.datetime) -> int:
        operation_id = len(self.state.operations) + 1
        self.state.operations.append(
            {
                "id": operation_id,
                "started_at": _iso(at),
                "finished_at": "",
                "user": user,
                "host": host,
                "command": command,
                "summary": "",
                "counts": "{}",
            }
        )
        return operation_id

    def finish_operation(
        self, operation_id: int, *, summary: str, counts: Mapping[str, Any], at: dt.datetime
    ) -> None:
        row = self.state.operations[operation_id - 1]
        row.update(finished_at=_iso(at), summary=summary, counts=json.dumps(dict(counts)))

    def add_event(
        self,
        operation_id: int,
        message: str,
        *,
        level: str = "info",
        record_id: int | None = None,
        at: dt.datetime,
    ) -> None:
        self.state.events.append(
            {
                "id": len(self.state.events) + 1,
                "operation_id": operation_id,
                "at": _iso(at),
                "level": level,
                "record_id": record_id,
                "message": message,
            }
        )

    def operations(self, limit: int = 2000) -> pd.DataFrame:
        rows = list(reversed(self.state.operations))[:limit]
        frame = pd.DataFrame(rows, columns=list(OPERATION_COLUMNS))
        for name in ("started_at", "finished_at"):
            frame[name] = stored_times(frame[name].astype(object))
        return frame

    def events(self, limit: int = 2000) -> pd.DataFrame:
        rows = list(reversed(self.state.events))[:limit]
        frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
        frame["at"] = stored_times(frame["at"].astype(object))
        return frame

    def workbook_state(self) -> set[str]:
        state = self.state.workbook_state
        return {d for d in (state.get("seen"), state.get("written")) if d}

    def written_sheets(self) -> tuple[str, dict[str, Any]]:
        state = self.state.workbook_state
        return state.get("written") or "", dict(state.get("sheets") or {})

    def set_workbook_state(
        self,
        *,
        seen: str | None,
        written: str | None,
        at: dt.datetime,
        sheets: Mapping[str, Any] | None = None,
    ) -> None:
        self.state.workbook_state = {
            "seen": seen or "",
            "written": written or "",
            "at": _iso(at),
            "sheets": dict(sheets or {}),
        }


class FakeLedgers:
    """Ledgers by path, in memory."""

    def __init__(self) -> None:
        self.states: dict[Path, LedgerState] = {}
        self.opened: list[FakeLedger] = []

    def exists(self, path: Path) -> bool:
        return path in self.states

    def open(self, path: Path, *, create: bool = False, check_beside: bool = False) -> FakeLedger:
        if path not in self.states:
            if not create:
                raise LedgerError("No se encontró el registro", file=path)
            self.states[path] = LedgerState()
        ledger = FakeLedger(self.states[path])
        self.opened.append(ledger)
        return ledger

    def discard(self, path: Path) -> None:
        self.states.pop(path, None)

    def check(self, path: Path) -> bool:
        return path in self.states


# -- the other files, the lock, the clock -------------------------------------------------------
@dataclass
class FakeExport:
    frame: pd.DataFrame
    sheet: str | None = "Hoja1"
    header_row: int = 1
    rows_read: int = 0
    sha256: str = ""
    extra_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class FakeFiles:
    """Exports, rosters and books held in dicts by path; what is written is kept there too."""

    def __init__(self) -> None:
        self.exports: dict[Path, FakeExport] = {}
        self.tables: dict[Path, list[list[Any]]] = {}
        self.books: dict[Path, FakeWorkbook] = {}

    def read_export(self, path: Path, aliases: AliasMap) -> FakeExport:
        if path not in self.exports:
            raise ExportError("No se encontró el archivo", file=path)
        return self.exports[path]

    def read_table(self, path: Path) -> list[list[Any]]:
        return self.tables[path]

    def open_book(self, path: Path) -> FakeWorkbook:
        return self.books[path]

    def save_book(self, spec: WorkbookSpec, path: Path) -> None:
        self.books[path] = FakeWorkbook({s.name: spec_rows(s) for s in spec.sheets})

    def render_book(self, spec: WorkbookSpec, path: Path) -> None:
        self.save_book(spec, path)


class FakeLock:
    """Records every acquisition; ``busy`` makes the next one refuse as a held lock would."""

    def __init__(self) -> None:
        self.taken: list[tuple[Path, float]] = []
        self.busy = False

    @contextmanager
    def __call__(self, path: Path, timeout: float) -> Iterator[None]:
        if self.busy:
            raise BusyError("Otra operación de swat_xl está usando este libro", file=path)
        self.taken.append((path, timeout))
        yield


class FakeClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def fake_unit(
    workbook: FakeWorkbook | None = None,
    *,
    now: dt.datetime = dt.datetime(2026, 12, 1, 9, 0),
    ledgers: FakeLedgers | None = None,
    files: FakeFiles | None = None,
) -> UnitOfWork:
    """A unit of work on fakes only, built by the composition root the CLI uses."""
    return unit_of_work(
        workbook or FakeWorkbook(),
        ledgers=ledgers or FakeLedgers(),
        lock=FakeLock(),
        clock=FakeClock(now),
        files=files or FakeFiles(),
    )
