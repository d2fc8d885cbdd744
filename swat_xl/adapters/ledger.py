"""The durable state: an SQLite ledger beside the workbook.

Every cut, record, assignment and mark lives here, so a sorted or deleted sheet loses nothing.
One :meth:`Ledger.transaction` per operation: it commits only when the whole block succeeds.
The schema is versioned with ``PRAGMA user_version`` and migrated forward on open.

Times are stored as ISO text (``YYYY-MM-DDTHH:MM:SS``, ``""`` when blank) and read back typed
(:func:`typed_records`, see :mod:`swat_xl.core.records`): no other module reads that text.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swat_xl.core.dates import parse_datetime_column
from swat_xl.core.fields import CANONICAL
from swat_xl.core.model import MARK_FIELDS
from swat_xl.core.records import ATTEMPTS, INT_FIELDS, TIME_FIELDS, UNREAD_FIELDS, unread
from swat_xl.core.text import mask_digits as mask
from swat_xl.errors import LEDGER_DAMAGED, LedgerError

RECORD_FIELDS: tuple[str, ...] = CANONICAL

DAMAGED = LEDGER_DAMAGED
MISSING = (
    "No se encontró el registro SQLite del libro. Si el libro es nuevo, créelo con "
    "«swat-xl init»; si el registro se perdió, recupere el libro y su registro de la última "
    "copia de seguridad con «swat-xl restore -w LIBRO»"
)
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_CORRUPT_WORDS = ("malformed", "not a database", "could not decode", "file is encrypted")

_MIGRATIONS: tuple[str, ...] = (
    # 1: cuts, records (with current assignment and marks), history and the operation log.
    f"""
    CREATE TABLE cuts (
        id INTEGER PRIMARY KEY,
        file_name TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        imported_at TEXT NOT NULL,
        sheet TEXT,
        header_row INTEGER,
        rows_read INTEGER NOT NULL,
        ally_rows INTEGER NOT NULL,
        duplicate_rows INTEGER NOT NULL,
        new_records INTEGER NOT NULL,
        excluded INTEGER NOT NULL,
        assigned INTEGER NOT NULL DEFAULT 0,
        unassigned INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        cut_id INTEGER NOT NULL REFERENCES cuts(id),
        {", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in CANONICAL)},
        segment TEXT NOT NULL DEFAULT '',
        exclusion TEXT NOT NULL DEFAULT '',
        extra TEXT NOT NULL DEFAULT '{{}}',
        agent TEXT NOT NULL DEFAULT '',
        assigned_at TEXT NOT NULL DEFAULT '',
        due_at TEXT NOT NULL DEFAULT '',
        {", ".join(f"{name} TEXT NOT NULL DEFAULT ''" for name in MARK_FIELDS)},
        marked_at TEXT NOT NULL DEFAULT '',
        closed_at TEXT NOT NULL DEFAULT '',
        archived_at TEXT NOT NULL DEFAULT '',
        form_exported_at TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX records_cut ON records(cut_id);
    CREATE INDEX records_agent ON records(agent);
    CREATE TABLE assignments (
        id INTEGER PRIMARY KEY,
        record_id INTEGER NOT NULL REFERENCES records(id),
        agent TEXT NOT NULL,
        assigned_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        operation_id INTEGER
    );
    CREATE TABLE mark_history (
        id INTEGER PRIMARY KEY,
        record_id INTEGER NOT NULL REFERENCES records(id),
        field TEXT NOT NULL,
        old TEXT NOT NULL,
        new TEXT NOT NULL,
        source TEXT NOT NULL,
        at TEXT NOT NULL,
        operation_id INTEGER
    );
    CREATE TABLE operations (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL DEFAULT '',
        user TEXT NOT NULL,
        host TEXT NOT NULL,
        command TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        counts TEXT NOT NULL DEFAULT '{{}}'
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        operation_id INTEGER NOT NULL REFERENCES operations(id),
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        record_id INTEGER,
        message TEXT NOT NULL
    );
    CREATE TRIGGER operations_append_only_update BEFORE UPDATE OF started_at, user, command
        ON operations BEGIN SELECT RAISE(ABORT, 'operations are append-only'); END;
    CREATE TRIGGER operations_append_only_delete BEFORE DELETE ON operations
        BEGIN SELECT RAISE(ABORT, 'operations are append-only'); END;
    CREATE TABLE agent_exports (
        id INTEGER PRIMARY KEY,
        token TEXT NOT NULL UNIQUE,
        agent TEXT NOT NULL,
        file_name TEXT NOT NULL,
        exported_at TEXT NOT NULL,
        record_ids TEXT NOT NULL,
        collected_at TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE practice_log (
        id INTEGER PRIMARY KEY,
        held_on TEXT NOT NULL,
        practice TEXT NOT NULL,
        owner TEXT NOT NULL DEFAULT '',
        minutes TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT ''
    );
    """,
    # 2: fingerprints of the workbook the last operation read and wrote (see workbook_state);
    # a finished operation and the events of the log can no longer change.
    """
    CREATE TABLE workbook_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seen TEXT NOT NULL DEFAULT '',
        written TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL DEFAULT ''
    );
    CREATE TRIGGER operations_finished_are_final BEFORE UPDATE ON operations
        WHEN OLD.finished_at != '' BEGIN SELECT RAISE(ABORT, 'operations are append-only'); END;
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    """,
    # 3: a revision number of the records, moved by every change to them (whoever makes it),
    # and what the last written workbook's sheets were drawn from (see Ledger.written_sheets).
    """
    CREATE TABLE revisions (
        name TEXT PRIMARY KEY,
        n INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO revisions (name, n) VALUES ('records', 0);
    CREATE TRIGGER records_revision_insert AFTER INSERT ON records
        BEGIN UPDATE revisions SET n = n + 1 WHERE name = 'records'; END;
    CREATE TRIGGER records_revision_update AFTER UPDATE ON records
        BEGIN UPDATE revisions SET n = n + 1 WHERE name = 'records'; END;
    CREATE TRIGGER records_revision_delete AFTER DELETE ON records
        BEGIN UPDATE revisions SET n = n + 1 WHERE name = 'records'; END;
    ALTER TABLE workbook_state ADD COLUMN sheets TEXT NOT NULL DEFAULT '{}';
    """,
    # 4: the national holidays of each year as the holidays package (``source``) computed them:
    # that package takes longer to import than the indicator takes to compute.
    """
    CREATE TABLE holidays (
        country TEXT NOT NULL,
        year INTEGER NOT NULL,
        source TEXT NOT NULL,
        days TEXT NOT NULL,
        PRIMARY KEY (country, year)
    );
    """,
    # 5: the indicator's columns of the archived records, typed (see Ledger.records): an
    # archived record no longer changes, and they are most of a month's ledger. Any write that
    # touches an archived record, archives one, or changes a cut's time empties it. The records
    # not archived are found by an index of their own.
    """
    CREATE INDEX records_live ON records(id) WHERE archived_at = '';
    CREATE TABLE archived_columns (
        name TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        kind TEXT NOT NULL,
        data BLOB NOT NULL,
        uniques TEXT NOT NULL DEFAULT '[]'
    );
    CREATE TRIGGER archived_columns_insert AFTER INSERT ON records
        WHEN NEW.archived_at != '' BEGIN DELETE FROM archived_columns; END;
    CREATE TRIGGER archived_columns_update AFTER UPDATE ON records
        WHEN OLD.archived_at != '' OR NEW.archived_at != ''
        BEGIN DELETE FROM archived_columns; END;
    CREATE TRIGGER archived_columns_delete AFTER DELETE ON records
        WHEN OLD.archived_at != '' BEGIN DELETE FROM archived_columns; END;
    CREATE TRIGGER archived_columns_cuts_update AFTER UPDATE OF id, imported_at ON cuts
        BEGIN DELETE FROM archived_columns; END;
    CREATE TRIGGER archived_columns_cuts_delete AFTER DELETE ON cuts
        BEGIN DELETE FROM archived_columns; END;
    """,
    # 6: a record's history found by its ID. The online form asks, of every record already
    # exported, whether its marks changed since, and deleting a record checks that no history
    # refers to it: without these indexes each of them read the whole history, which made
    # both grow with the square of the month (day 10 of a month of 2.000-row cuts: minutes).
    """
    CREATE INDEX mark_history_record ON mark_history(record_id, at);
    CREATE INDEX assignments_record ON assignments(record_id);
    """,
    # 7: what the indicator counts of the archived records (core.kpi.KpiPart, as JSON), under
    # a key of what else it depends on (the settings, the holidays, the code): emptied by the
    # same writes as ``archived_columns``.
    """
    CREATE TABLE archived_kpi (key TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TRIGGER archived_kpi_insert AFTER INSERT ON records
        WHEN NEW.archived_at != '' BEGIN DELETE FROM archived_kpi; END;
    CREATE TRIGGER archived_kpi_update AFTER UPDATE ON records
        WHEN OLD.archived_at != '' OR NEW.archived_at != ''
        BEGIN DELETE FROM archived_kpi; END;
    CREATE TRIGGER archived_kpi_delete AFTER DELETE ON records
        WHEN OLD.archived_at != '' BEGIN DELETE FROM archived_kpi; END;
    CREATE TRIGGER archived_kpi_cuts_update AFTER UPDATE OF id, imported_at ON cuts
        BEGIN DELETE FROM archived_kpi; END;
    CREATE TRIGGER archived_kpi_cuts_delete AFTER DELETE ON cuts
        BEGIN DELETE FROM archived_kpi; END;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)


#: ``x IN {_AMONG}`` with ``_among(values)`` as its parameter: a set of values of any size as one
#: JSON array (SQLite limits the ``?`` of one statement; chunked ``IN (?, …)`` lists were
#: a loop per caller).
_AMONG = "(SELECT value FROM json_each(?))"


def _among(values: Iterable[Any]) -> tuple[str]:
    return (json.dumps(list(dict.fromkeys(values)), ensure_ascii=False),)


def _stored_time_texts(times: pd.Series) -> list[str]:
    """``times.dt.strftime(_STORED_TIME)``, ``""`` where there is none: for times without a
    time zone, numpy's ISO text to the second (a third of pandas' time on 85,000 dates)."""
    if isinstance(times.dtype, np.dtype):  # datetime64 without a time zone
        seconds = times.to_numpy(dtype="datetime64[s]")
        texts = np.datetime_as_string(seconds, unit="s")
        return np.where(np.isnat(seconds), "", texts).tolist()
    return times.dt.strftime(_STORED_TIME).fillna("").tolist()


def iso(value: dt.datetime | None) -> str:
    return value.replace(microsecond=0).isoformat() if value else ""


_STORED_TIME = "%Y-%m-%dT%H:%M:%S"  # what iso() writes
_JSON = json.JSONEncoder(ensure_ascii=False)  # the extra columns of a record, as stored


def stored_times(texts: pd.Series | Sequence[str]) -> pd.Series:
    """The ledger's time text -> ``datetime64[us]`` (``NaT`` when blank or not a time).

    The form :func:`iso` writes is read by pandas in C; any other ISO 8601 text (older ledgers,
    an offset typed by hand: the wall time counts) then once per distinct text."""
    series = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    parsed = pd.to_datetime(series, format=_STORED_TIME, errors="coerce").dt.as_unit("us")
    values = series.to_numpy(dtype=object)
    failed = parsed.isna().to_numpy() & (values != "")
    if failed.any():
        table: dict[str, Any] = {}
        for text in dict.fromkeys(values[failed]):
            try:
                table[text] = dt.datetime.fromisoformat(str(text)).replace(tzinfo=None)
            except ValueError:
                table[text] = pd.NaT
        where = np.flatnonzero(failed)
        parsed.iloc[where] = pd.Series([table[values[i]] for i in where], dtype="datetime64[us]")
    return parsed


def _plain_extras(frame: pd.DataFrame, extra_columns: Sequence[str]) -> list[list[str]] | None:
    """The values of the extra columns, when the names are distinct texts and every value is
    text (``None`` otherwise)."""
    chosen = frame[list(extra_columns)]
    columns = [chosen.iloc[:, j].tolist() for j in range(chosen.shape[1])]
    plain = (
        len(columns) == len(set(extra_columns))
        and all(type(name) is str for name in extra_columns)
        and all(set(map(type, values)) <= {str} for values in columns)
    )
    return columns if plain else None


def _extras_json(frame: pd.DataFrame, extra_columns: Sequence[str]) -> list[str]:
    """Each row's extra columns as the JSON object ``_JSON.encode(dict(zip(extra_columns,
    row)))`` gives. When the columns hold text, each distinct value is encoded once (a cut's
    extra columns hold few) and the objects are put together by one format string."""
    return _encoded_extras(frame, extra_columns, _plain_extras(frame, extra_columns))


def _encoded_extras(
    frame: pd.DataFrame, extra_columns: Sequence[str], columns: list[list[str]] | None
) -> list[str]:
    """:func:`_extras_json`, given the extra columns' :func:`_plain_extras`."""
    if not extra_columns:
        return ["{}"] * len(frame)
    encode = _JSON.encode  # json.dumps(..., ensure_ascii=False) builds an encoder per call
    if columns is None:  # numbers, missing values, repeated names: the encoder decides each row
        return [
            encode(dict(zip(extra_columns, row, strict=True)))
            for row in frame[list(extra_columns)].itertuples(index=False, name=None)
        ]
    encoded = []
    for values in columns:
        table = {value: encode(value) for value in set(values)}
        encoded.append([table[value] for value in values])
    keys = (encode(name).replace("{", "{{").replace("}", "}}") for name in extra_columns)
    template = "{{" + ", ".join(f"{key}: {{}}" for key in keys) + "}}"
    return [template.format(*row) for row in zip(*encoded, strict=True)]


def typed_records(frame: pd.DataFrame) -> pd.DataFrame:
    """The records as the ledger stores them (text) -> typed (see :mod:`swat_xl.core.records`):
    integers, times, each attempt's text that is not a date beside it, ``extra`` as dicts."""
    return _typed(frame.copy())


def _typed(out: pd.DataFrame) -> pd.DataFrame:
    """:func:`typed_records` in place (of a frame just read)."""
    for name in INT_FIELDS:
        if name in out and out[name].dtype != "int64":
            out[name] = pd.to_numeric(out[name], errors="coerce").fillna(0).astype("int64")
    for name in TIME_FIELDS:
        if name not in out:
            continue
        text = out[name]
        times = stored_times(text)
        out[name] = times
        if name in ATTEMPTS:
            out[unread(name)] = _unread_text(text, times)
    if "extra" in out:
        parsed: dict[str, dict[str, Any]] = {}
        out["extra"] = pd.Series(
            [
                parsed[text] if text in parsed else parsed.setdefault(text, _extra(text))
                for text in out["extra"].tolist()
            ],
            index=out.index,
            dtype=object,
        )
    return out


def _unread_text(text: pd.Series, times: pd.Series) -> np.ndarray:
    """The stored text where it is not a time, ``""`` elsewhere."""
    values = text.to_numpy(dtype=object)
    out = np.full(len(values), "", dtype=object)
    typed = times.isna().to_numpy() & (values != "")
    out[typed] = values[typed]
    return out


def _extra_dicts(
    texts: Sequence[str], names: Sequence[str], columns: Sequence[Sequence[str]]
) -> list[dict[str, str]]:
    """What :func:`_typed` reads from ``texts``, the JSON objects :func:`_extras_json` made of
    these text ``columns`` named ``names``, without parsing them: each row's columns as a dict,
    one dict for rows of the same text."""
    made: dict[str, dict[str, str]] = {}
    rows = zip(*columns, strict=True) if columns else itertools.repeat((), len(texts))
    return [
        made[text] if text in made else made.setdefault(text, dict(zip(names, row, strict=True)))
        for text, row in zip(texts, rows, strict=True)
    ]


def _extra(text: Any) -> dict[str, Any]:
    value = json.loads(text) if isinstance(text, str) and text else {}
    return value if isinstance(value, dict) else {}


# How a typed column of the archived records is kept in ``archived_columns``: integers and
# times as their 64-bit values, text as the codes of its distinct values (kept as JSON);
# compressed. No pickle: what is read back is numbers and JSON text.
_INT64 = np.dtype("int64")
_TIME = np.dtype("datetime64[us]")


def _pack_column(column: pd.Series) -> tuple[str, bytes, str] | None:
    """``(kind, data, uniques)`` of a typed column, ``None`` when it is not integers, times or
    text."""
    if column.dtype in (_INT64, _TIME):
        values = column.to_numpy().view("int64")
        return str(column.dtype), zlib.compress(values.tobytes(), 1), "[]"
    if not pd.api.types.is_string_dtype(column.dtype):
        return None
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=False)
    texts = uniques.tolist()
    if not all(type(text) is str for text in texts):
        return None
    kind = f"text:{column.dtype}"
    return kind, zlib.compress(codes.astype("int32").tobytes(), 1), json.dumps(texts)


def _unpack_column(kind: str, data: bytes, uniques: str) -> pd.Series:
    """The column :func:`_pack_column` kept."""
    if kind.startswith("text:"):
        codes = np.frombuffer(zlib.decompress(data), dtype="int32")
        table = np.array(json.loads(uniques), dtype=object)
        return pd.Series(table[codes], dtype=kind.removeprefix("text:"))
    values = np.frombuffer(zlib.decompress(data), dtype="int64").copy()
    return pd.Series(values.view(np.dtype(kind)))


#: What the ledger's caches are keyed on: the records' revision and a note of the connection
#: (see :meth:`Ledger._note`). Notes are numbered across the process: two ``Ledger`` on one
#: connection never write the same.
_Noted = tuple[int, int]
_NOTES = itertools.count(1)


@dataclass
class _Written:
    """The records this connection has just inserted (IDs ``start`` on, all of cut ``cut_id``),
    each column as the ledger stores it, while no other write has touched them: what
    :meth:`Ledger.records` would read back (see :meth:`Ledger.add_records`)."""

    noted: _Noted
    start: int
    cut_id: int
    #: a text alone: that text in every row; a series: the values a read would give it
    columns: dict[str, list[Any] | str | pd.Series]
    #: the extras' names and text columns the ``extra`` column was made of, if plain text
    extras: tuple[Sequence[str], list[list[str]]] | None = None
    typed: pd.DataFrame | None = None
    cut_at: str | None = None  # the cut's time ``typed`` was drawn with

    def column(self, name: str) -> pd.Series:
        """The column ``name`` of these records as a read of the ledger gives it."""
        values = self.columns[name]
        if isinstance(values, pd.Series):
            return values
        if isinstance(values, str):
            values = [values] * len(self.columns["id"])
        return pd.Series(values)


#: The columns the assignment reads of the records waiting for an agent.
_WAITING = ("segment", "account", "ani", "custcode")


@dataclass
class NewRecords:
    """A cut's records ready to be inserted (:meth:`Ledger.new_records`): the IDs they take,
    from ``start``, and each column as the ledger stores it."""

    cut_id: int
    start: int
    values: dict[str, list[Any]]  # the columns of the insert
    kept: dict[str, list[Any] | pd.Series]  # the text columns as they are, for _Written
    extras: tuple[Sequence[str], list[list[str]] | None]

    @property
    def ids(self) -> list[int]:
        return list(self.values["id"])

    def waiting(self) -> pd.DataFrame:
        """The manageable ones, as :meth:`Ledger.waiting_records` reads them once inserted
        without an agent."""
        columns = {**self.values, **self.kept}

        def column(name: str) -> pd.Series:
            value = columns[name]
            if name == "id":
                return pd.Series(np.asarray(value, dtype="int64"))
            if isinstance(value, pd.Series) and value.dtype != _text_dtype():
                value = value.tolist()
            return value if isinstance(value, pd.Series) else pd.Series(value)

        return _waiting_frame(column, (column("exclusion") == "").to_numpy())


def _waiting_frame(column: Callable[[str], pd.Series], waiting: np.ndarray) -> pd.DataFrame:
    """Of records kept rather than read (``column``: each column as a read gives it), those
    ``waiting`` for an agent, as :meth:`Ledger.waiting_records` reads them."""
    frame = pd.DataFrame({"record_id": column("id"), **{name: column(name) for name in _WAITING}})
    return frame[waiting].reset_index(drop=True)


def _due_after(due_hours: float) -> str:
    """SQLite's modifier of a due time: ``due_hours`` after the record's cut was imported (not
    after its assignment)."""
    return f"+{round(due_hours * 3600)} seconds"


def _as_list(columns: dict[str, list[Any] | str | pd.Series], name: str, size: int) -> list[Any]:
    """``columns[name]`` as a list of its ``size`` values (made one if it is a text alone)."""
    values = columns[name]
    if isinstance(values, pd.Series):
        values = columns[name] = values.tolist()
    elif not isinstance(values, list):
        values = columns[name] = [values] * size
    return values


@lru_cache(maxsize=1)
def _text_dtype() -> Any:
    """The dtype a read of the ledger gives a column of text."""
    return pd.DataFrame({"text": ["x"]})["text"].dtype


class Ledger:
    """An open SQLite ledger. Use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.db = connection
        self._records: tuple[tuple[Any, ...], _Noted, pd.DataFrame] | None = None
        self._marks: tuple[_Noted, pd.DataFrame] | None = None
        self._written: _Written | None = None
        self._unchecked = False  # the quick check is still to run (see open's check_beside)
        self._beside: _Beside | None = None

    # -- lifecycle -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, create: bool = False, check_beside: bool = False) -> Ledger:
        """Open (or ``create``) the ledger at ``path``, checked by SQLite's quick check.

        ``check_beside``: a ledger with nothing to migrate is checked beside the next
        transaction (see :meth:`begin`) instead of now, and that transaction's commit waits for
        the verdict: a damaged ledger still fails before anything is written, and the check,
        which reads every page, costs the operation no time of its own."""
        path = Path(path)
        if not create and not path.exists():
            raise LedgerError(MISSING, file=path)
        existed = path.exists() and path.stat().st_size > 0
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(path, isolation_level=None, timeout=10)
            unchecked = False
            if existed:
                db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # header, schema
                current = db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
                if check_beside and current:
                    unchecked = True
                else:  # a migration writes: the file is checked before it
                    check_integrity(db)
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA journal_mode = DELETE")
            db.execute("PRAGMA synchronous = FULL")
            ledger = cls(path, db)
            ledger._unchecked = unchecked
            ledger._migrate()
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            if is_corruption(exc):
                raise LedgerError(DAMAGED, file=path) from exc
            raise
        except LedgerError:
            if db is not None:
                db.close()
            raise
        return ledger

    def close(self) -> None:
        try:
            self._settle(cancel=True)
        finally:
            self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"El registro fue creado por una versión más nueva de swat_xl (esquema {version})",
                file=self.path,
            )
        for number in range(version, SCHEMA_VERSION):
            with self.transaction():
                self._run_script(_MIGRATIONS[number])
                self.db.execute(f"PRAGMA user_version = {number + 1}")

    def _run_script(self, script: str) -> None:
        for statement in _split_sql(script):
            self.db.execute(statement)

    def begin(self, *, copy_to: Path | None = None) -> None:
        """Start the operation's transaction (``BEGIN IMMEDIATE``: one writer at a time).

        ``copy_to``: a copy of the ledger as the transaction finds it is written there. Holding
        the write lock, with nothing written yet (and any transaction a crashed writer left
        rolled back by taking the lock), the file on disk is that ledger and no one else can
        change it. The copy, and the quick check of a ledger opened with ``check_beside``, run
        in a helper thread while the operation goes on (SQLite and the copy work outside
        Python's lock): the helper reads the file inside its own read transaction, which keeps
        this one from writing to the file until it is done, and :meth:`commit` waits for it.
        The copy's file is created here, so a copy that cannot be written fails now."""
        beside = copy_to is not None or self._unchecked
        # With a helper reading the file, what the transaction writes stays in memory until
        # the commit, which comes after the helper's read: it never waits for the helper's
        # lock in the middle (the setting holds from the next transaction on, hence now).
        self.db.execute(f"PRAGMA cache_spill = {'OFF' if beside else 'ON'}")
        self.db.execute("BEGIN IMMEDIATE")
        if not beside:
            return
        try:
            if copy_to is not None:
                try:
                    Path(copy_to).write_bytes(b"")
                except OSError:
                    Path(copy_to).unlink(missing_ok=True)
                    self.backup_to(copy_to)  # what it cannot write either fails as it did
                    copy_to = None
            if copy_to is None and not self._unchecked:
                return
            self._beside = _Beside(self.path, copy_to, check=self._unchecked)
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        try:
            self._settle()
        except BaseException:
            with suppress(sqlite3.Error):  # a damaged file may refuse even the rollback
                self.rollback()
            raise
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        self._forget()
        self._settle(cancel=True)
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")

    def _settle(self, *, cancel: bool = False) -> None:
        """Wait for the helper of :meth:`begin` (``cancel``: stop its check, nothing will be
        written): a damaged ledger raises :data:`DAMAGED`, a copy that failed its error."""
        beside, self._beside = self._beside, None
        if beside is None:
            return
        if cancel:
            beside.cancel()
            return
        self._unchecked = False
        beside.wait(self.path)

    def damaged(self) -> bool:
        """Whether the check running beside the transaction (see :meth:`begin`), waited for,
        finds the ledger damaged: asked when the operation failed, whose true cause it is."""
        beside = self._beside
        return beside is not None and beside.damaged()

    def _forget(self) -> None:
        """Drop what is kept of the records (a rollback undoes what it was read from)."""
        self._records = self._marks = self._written = None

    def _note(self) -> _Noted:
        """The records' revision, and a new note of this connection in its own temporary table:
        a rollback of the transaction that wrote the note (by this class or by SQLite itself)
        removes it, and another connection's write moves the revision, so :meth:`_holds` tells
        whether what was kept under the note still is what the ledger holds."""
        note = next(_NOTES)
        insert = "INSERT INTO temp.swat_notes (n) VALUES (?)"
        try:
            self.db.execute(insert, (note,))
        except sqlite3.OperationalError:  # first note, or its table rolled back with it
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS swat_notes (n INTEGER PRIMARY KEY)")
            self.db.execute(insert, (note,))
        return self.records_revision(), note

    def _holds(self, noted: _Noted) -> bool:
        """Whether the records are as they were when ``noted``."""
        revision, note = noted
        try:
            now, present = self.db.execute(
                "SELECT (SELECT n FROM revisions WHERE name = 'records'), "
                "EXISTS (SELECT 1 FROM temp.swat_notes WHERE n = ?)",
                (note,),
            ).fetchone()
        except sqlite3.OperationalError as exc:
            if "swat_notes" not in str(exc):
                raise
            return False
        return bool(present) and now == revision

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One all-or-nothing unit of work (``BEGIN IMMEDIATE`` … ``COMMIT``)."""
        if self.db.in_transaction:
            yield
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._forget()
                with suppress(sqlite3.Error):  # a damaged file may refuse even the rollback
                    self.db.execute("ROLLBACK")
                raise
            else:
                self.db.execute("COMMIT")
        except LedgerError:
            raise
        except Exception as exc:
            if is_corruption(exc):
                raise LedgerError(DAMAGED, file=self.path) from exc
            raise

    @contextmanager
    def _set_aside(self, kind: str, where: str, params: Sequence[Any] = ()) -> Iterator[bool]:
        """The ``kind`` schema objects (trigger, index) matching ``where`` dropped for a bulk
        write and created again after it, as they were; after a refused write too, the write's
        own error being the one shown. Inside a transaction, so no other connection ever sees
        the ledger without them. Gives whether there were any."""
        with self.transaction():
            found = self.db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL"
                f" AND ({where}) ORDER BY name",
                (kind, *params),
            ).fetchall()
            for name, _sql in found:
                self.db.execute(f'DROP {kind.upper()} "{name}"')
            try:
                yield bool(found)
            except BaseException:
                with suppress(sqlite3.Error):
                    for _name, sql in found:
                        self.db.execute(sql)
                raise
            for _name, sql in found:
                self.db.execute(sql)

    @contextmanager
    def _revision_counted(self, event: str) -> Iterator[None]:
        """Bulk writes to ``records`` with the revision trigger of ``event`` (insert, update)
        set aside: the revision then moves by the number of rows written, as the trigger moves
        it one row at a time (which costs as much as the write itself)."""
        name = f"records_revision_{event}"
        with self.transaction():
            with self._set_aside("trigger", "name = ?", (name,)) as found:
                before = self.db.total_changes
                yield
                written = self.db.total_changes - before if found else 0
            if written:
                self.db.execute("UPDATE revisions SET n = n + ? WHERE name = 'records'", (written,))

    @contextmanager
    def _indexes_set_aside(self, bulk: bool) -> Iterator[None]:
        """With ``bulk`` (more records written than the ledger held: a first big cut), the
        indexes of ``records`` that no constraint needs are dropped for the write and built
        again after it: one sort of every row costs less than a B-tree insert per row in each
        of them (150,000-row cut: 0.2 s of the insert's 0.9 s)."""
        if not bulk:
            yield
            return
        with self._set_aside("index", "tbl_name = 'records'"):
            yield

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the ledger at ``target`` (SQLite's online backup API)."""
        _backup(self.db, target)

    def integrity_ok(self) -> bool:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    # -- cuts and records -----------------------------------------------------------------
    def cut_by_sha(self, sha256: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM cuts WHERE sha256 = ?", (sha256,)).fetchone()
        return _row_dict(self.db, row, "cuts") if row else None

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` the ledger holds. Asked about at least as many keys as it holds
        records (a first big cut), it reads its records' keys and meets them here: looking up
        each of 90,000 keys took 0.14 s even in an empty ledger, reading them 0.01–0.08 s."""
        keys = list(keys)
        if self._next_record_id() - 1 <= len(keys):  # no more records than keys (IDs count them)
            return set(keys).intersection(
                row[0] for row in self.db.execute("SELECT key FROM records")
            )
        rows = self.db.execute(f"SELECT key FROM records WHERE key IN {_AMONG}", _among(keys))
        return {row[0] for row in rows}

    def add_cut(self, **values: Any) -> int:
        """A new cut (``imported_at``: a datetime, stored as ISO text)."""
        values = {k: iso(v) if isinstance(v, dt.datetime) else v for k, v in values.items()}
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        cursor = self.db.execute(
            f"INSERT INTO cuts ({columns}) VALUES ({marks})", tuple(values.values())
        )
        return int(cursor.lastrowid or 0)

    def update_cut(self, cut_id: int, **values: Any) -> None:
        sets = ", ".join(f"{name} = ?" for name in values)
        self.db.execute(f"UPDATE cuts SET {sets} WHERE id = ?", (*values.values(), cut_id))

    def add_records(
        self, cut_id: int, frame: pd.DataFrame, extra_columns: Sequence[str]
    ) -> list[int]:
        """Insert new records (columns: key, canonical fields, segment, exclusion, extras).

        What is stored is kept (see :class:`_Written`): the operation that inserts a cut then
        draws its records, and need not read them back."""
        new = self.new_records(cut_id, frame, extra_columns)
        return [] if new is None else self.insert_records(new)

    def new_records(
        self, cut_id: int, frame: pd.DataFrame, extra_columns: Sequence[str]
    ) -> NewRecords | None:
        """The records :meth:`add_records` would insert, with the IDs they will take, not yet
        written (``None`` for an empty frame): :meth:`insert_records` writes them, assigned
        if the caller assigned them in between (see :meth:`NewRecords.waiting`)."""
        if frame.empty:
            return None
        start = self._next_record_id()
        dates = frame["survey_date"]
        if not pd.api.types.is_datetime64_any_dtype(dates):
            dates = parse_datetime_column(dates.astype(object).fillna("").astype(str).tolist())
            dates.index = frame.index
        date_text = _stored_time_texts(dates)
        ids = list(range(start, start + len(frame)))
        values: dict[str, list[Any]] = {"id": ids, "cut_id": [cut_id] * len(frame)}
        kept: dict[str, list[Any] | pd.Series] = {}  # the text columns read as they are
        for name in ("key", *CANONICAL, "segment", "exclusion"):
            if name == "survey_date":
                values[name] = date_text
                continue
            column = frame[name]
            texts = column.tolist()
            if set(map(type, texts)) <= {str}:
                kept[name] = column.reset_index(drop=True)
            elif name in ("key", "segment", "exclusion"):
                kept[name] = texts  # SQLite makes text of them as it does: nothing is kept
            else:
                texts = column.astype(str).tolist()  # a value still not text is refused
            values[name] = texts
        plain = _plain_extras(frame, extra_columns)
        values["extra"] = _encoded_extras(frame, extra_columns, plain)
        return NewRecords(cut_id, start, values, kept, (extra_columns, plain))

    def _next_record_id(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM records").fetchone()[0]) + 1

    def insert_records(
        self,
        new: NewRecords,
        assignment: Mapping[int, str] | None = None,
        *,
        at: dt.datetime | None = None,
        due_hours: float = 24.0,
        reason: str = "",
        operation_id: int | None = None,
    ) -> list[int]:
        """Insert the records of :meth:`new_records`; with ``assignment`` (record ID -> agent,
        IDs among them), already assigned as :meth:`set_assignments` assigns (same columns,
        same history): one write of each record instead of an insert and then an update."""
        start = self._next_record_id()
        if start != new.start:
            raise RuntimeError(f"records were inserted since their IDs were given ({start})")
        values = dict(new.values)
        ids = values["id"]
        columns = ["id", "key", "cut_id", *CANONICAL, "segment", "exclusion", "extra"]
        rows: list[tuple[int, str]] = []
        with self.transaction():
            due = None
            if assignment:
                if at is None:
                    raise ValueError("an assignment needs its time")
                rows = [(int(rid), agent) for rid, agent in assignment.items()]
                if any(not start <= rid < start + len(ids) for rid, _ in rows):
                    raise ValueError("an assigned record is not among those inserted")
                due = self.db.execute(
                    "SELECT strftime('%Y-%m-%dT%H:%M:%S', imported_at, ?) FROM cuts WHERE id = ?",
                    (_due_after(due_hours), new.cut_id),
                ).fetchone()
            when = iso(at) if at is not None else ""
            if due is not None and type(due[0]) is str:
                agents, assigned, dues = [""] * len(ids), [""] * len(ids), [""] * len(ids)
                for rid, agent in rows:
                    row = rid - start
                    agents[row], assigned[row], dues[row] = agent, when, due[0]
                values.update(agent=agents, assigned_at=assigned, due_at=dues)
                columns += ["agent", "assigned_at", "due_at"]
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO records ({', '.join(columns)}) VALUES ({marks})"
            self._written = None
            with self._revision_counted("insert"), self._indexes_set_aside(len(ids) >= start):
                self.db.executemany(sql, zip(*(values[name] for name in columns), strict=True))
            self._keep_written(start, new.cut_id, {**values, **new.kept}, new.extras)
            if "agent" in values:  # the history from the records just written, in one step
                self.db.execute(
                    "INSERT INTO assignments (record_id, agent, assigned_at, reason, operation_id) "
                    "SELECT id, agent, assigned_at, ?, ? FROM records "
                    "WHERE id >= ? AND id < ? AND assigned_at != '' ORDER BY id",
                    (reason, operation_id, start, start + len(ids)),
                )
            elif rows and at is not None:  # no due time (no such cut): as set_assignments does
                self.set_assignments(
                    dict(rows), at=at, due_hours=due_hours, reason=reason, operation_id=operation_id
                )
        return ids

    def _keep_written(
        self,
        start: int,
        cut_id: int,
        values: Mapping[str, list[Any] | pd.Series],
        extras: tuple[Sequence[str], list[list[str]] | None],
    ) -> None:
        """Keep the records just inserted as stored (``values``: the columns written, a series
        where each value is text), when what SQLite stores is exactly those values (integer
        IDs, text) and every other column holds its default ``''``. The dates and extras are
        written as text and a field's value that is still not text is refused by the ledger
        (``NOT NULL``); the key, segment and exclusion are checked."""
        if type(cut_id) is not int:
            return
        for name in ("key", "segment", "exclusion"):
            if isinstance(values[name], list):
                return
        columns: dict[str, list[Any] | str | pd.Series] = {}
        for _, name, kind, _, default, _ in self.db.execute("PRAGMA table_info(records)"):
            if name in ("id", "cut_id"):
                columns[name] = pd.Series(np.asarray(values[name], dtype="int64"))
            elif name in values:
                value = values[name]
                text = isinstance(value, pd.Series) and value.dtype == _text_dtype()
                columns[name] = value if text or isinstance(value, list) else value.tolist()
            elif str(kind).upper() == "TEXT" and default == "''":
                columns[name] = ""  # in every row
            else:  # pragma: no cover - a column this code does not know
                return
        plain = extras if extras[1] is not None else None
        self._written = _Written(self._note(), start, cut_id, columns, plain)

    def _written_records_raw(self) -> _Written | None:
        """What is kept of the records just inserted, while it still is what the ledger holds
        (else it is forgotten)."""
        written = self._written
        if written is None or not self.db.in_transaction or not self._holds(written.noted):
            self._written = None
            return None
        return written

    def _assign_written(
        self, written: _Written, rows: Sequence[tuple[int, Any]], when: str, after: str
    ) -> None:
        """Apply to the records kept the assignment :meth:`set_assignments` just wrote: the
        agent, ``when`` and the due time SQLite computed (the cut's time ``after``)."""
        self._written = None
        due = self.db.execute(
            "SELECT strftime('%Y-%m-%dT%H:%M:%S', imported_at, ?) FROM cuts WHERE id = ?",
            (after, written.cut_id),
        ).fetchone()
        start, size = written.start, len(written.columns["id"])
        mine = [(rid - start, agent) for rid, agent in rows if start <= rid < start + size]
        if mine and (due is None or type(due[0]) is not str):
            return
        if not all(type(agent) is str for _, agent in mine):
            return
        agents, assigned, dues = (
            _as_list(written.columns, name, size) for name in ("agent", "assigned_at", "due_at")
        )
        for at, agent in mine:
            agents[at], assigned[at], dues[at] = agent, when, due[0]
        written.typed = None
        written.noted = self._note()
        self._written = written

    def _written_records(self) -> _Written | None:
        """What is kept of the records just inserted, typed as :meth:`records` reads them, while
        it still is what the ledger holds."""
        written = self._written_records_raw()
        if written is None:
            return None
        row = self.db.execute(
            "SELECT imported_at FROM cuts WHERE id = ?", (written.cut_id,)
        ).fetchone()
        if row is None or type(row[0]) is not str:
            self._written = None
            return None
        if written.typed is None or written.cut_at != row[0]:
            size = len(written.columns["id"])
            same: dict[str, pd.Series] = {}  # a text in every row: one column, shared
            columns = {**written.columns, "cut_at": row[0]}
            if written.extras is not None:  # read below without parsing it
                texts, columns["extra"] = columns["extra"], "{}"
            raw = pd.DataFrame(
                {
                    name: same.setdefault(values, pd.Series([values] * size))
                    if isinstance(values, str)
                    else values
                    for name, values in columns.items()
                }
            )
            typed = _typed(raw)
            if written.extras is not None:
                assert isinstance(texts, list)
                dicts = _extra_dicts(texts, *written.extras)
                typed["extra"] = pd.Series(dicts, index=typed.index, dtype=object)
            written.typed, written.cut_at = typed, row[0]
        return written

    def records_revision(self) -> int:
        """A number that moves whenever any record changes (kept by triggers)."""
        return int(self.db.execute("SELECT n FROM revisions WHERE name = 'records'").fetchone()[0])

    def records(
        self,
        *,
        include_archived: bool = True,
        where: str = "",
        params: Sequence[Any] = (),
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """All records (with cut time, assignment and marks), typed (see
        :mod:`swat_xl.core.records`); only ``columns`` of them (``cut_at`` included; an attempt
        brings its unread text along) when given: the text of the survey is most of the frame,
        and the indicator does not read it.

        Read once while nothing changes: an operation that computes the indicator and then
        draws the workbook asks twice (each caller gets its own copy)."""
        wanted = tuple(columns) if columns is not None else None
        key = (include_archived, where, tuple(params), wanted)
        cached = self._records
        if cached is not None and cached[0] == key and self._holds(cached[1]):
            return cached[2].copy()
        written = None if where else self._written_records()
        if written is None:
            frame = self._read(include_archived, where, params, wanted)
        else:  # the records just inserted are not read back
            frame = self._read(include_archived, "", (), wanted, below=written.start)
            assert written.typed is not None
            kept = written.typed[list(frame.columns)]
            if frame.empty:
                frame = kept.reset_index(drop=True)
            elif frame.dtypes.equals(kept.dtypes):
                frame = pd.concat([frame, kept], ignore_index=True)
            else:  # pragma: no cover - one reader types both
                frame = self._read(include_archived, where, params, wanted)
        self._records = (key, self._note(), frame)
        return frame.copy()

    def _read(
        self,
        include_archived: bool,
        where: str,
        params: Sequence[Any],
        wanted: tuple[str, ...] | None,
        *,
        below: int | None = None,
    ) -> pd.DataFrame:
        """:meth:`records` as read from the ledger (only IDs ``below`` a number, if given)."""
        clauses = [] if include_archived else ["r.archived_at = ''"]
        if where:
            clauses.append(f"({where})")
        limit = [] if below is None else [f"r.id < {int(below)}"]
        if wanted is None:
            condition = " AND ".join(clauses + limit)
            sql = (
                "SELECT r.*, c.imported_at AS cut_at FROM records r JOIN cuts c ON c.id = r.cut_id"
                f"{' WHERE ' + condition if condition else ''} ORDER BY r.id"
            )
            return _typed(pd.read_sql_query(sql, self.db, params=list(params)))
        if clauses or "id" not in wanted:
            return self._columns(wanted, " AND ".join(clauses + limit), params)
        return self._with_archived(wanted, limit)

    def _columns(self, wanted: tuple[str, ...], where: str, params: Sequence[Any]) -> pd.DataFrame:
        """:meth:`records` with ``columns``: those of the records matching ``where``, typed."""
        known = set(self._record_columns())
        derived = {"cut_at", *UNREAD_FIELDS}
        unknown = [name for name in wanted if name not in known and name not in derived]
        if unknown:
            raise ValueError(f"unknown record columns: {unknown}")
        # The cut's time is looked up here rather than joined: one text per cut, not per row.
        read = [name for name in wanted if name not in derived]
        if "cut_at" in wanted and "cut_id" not in read:
            read.append("cut_id")
        read += [a for a in ATTEMPTS if unread(a) in wanted and a not in read]
        selected = ", ".join(f"r.{name}" for name in read)
        condition = f" WHERE {where}" if where else ""
        sql = f"SELECT {selected} FROM records r{condition} ORDER BY r.id"
        frame = pd.read_sql_query(sql, self.db, params=list(params))
        if "cut_at" in wanted:
            imported = dict(self.db.execute("SELECT id, imported_at FROM cuts"))
            frame["cut_at"] = frame["cut_id"].map(imported).fillna("")
        frame = _typed(frame)
        return frame[[*wanted, *(n for n in UNREAD_FIELDS if n in frame and n not in wanted)]]

    def _with_archived(self, wanted: tuple[str, ...], limit: Sequence[str] = ()) -> pd.DataFrame:
        """:meth:`records` with ``columns``, of every record (matching the clauses ``limit``,
        which no archived record fails): the archived records' columns from the ledger's typed
        copy of them (``archived_columns``, kept while no archived record changes: triggers
        empty it), the others read; in ID order, as one read gives."""
        live = self._columns(wanted, " AND ".join(["r.archived_at = ''", *limit]), ())
        archived = self._kept_archived(list(live.columns))
        if archived is not None and not live.empty and not archived.dtypes.equals(live.dtypes):
            archived = None  # kept by other code (another pandas): read and kept again
        if archived is None:
            archived = self._columns(wanted, "r.archived_at != ''", ())
            self._keep_archived(archived)
        if archived.empty:
            return live
        if live.empty:
            return archived
        if not archived.dtypes.equals(live.dtypes):  # pragma: no cover - one reader types both
            return self._columns(wanted, " AND ".join(limit), ())
        frame = pd.concat([archived, live], ignore_index=True)
        ids = frame["id"].to_numpy()
        if not (ids[1:] > ids[:-1]).all():
            frame = frame.sort_values("id", kind="stable", ignore_index=True)
        return frame

    def _kept_archived(self, names: list[str]) -> pd.DataFrame | None:
        """The archived records' ``names`` columns as last kept, or ``None`` when they are not
        (all) kept."""
        wanted = set(names)
        rows = [
            row
            for row in self.db.execute(
                "SELECT name, kind, data, uniques FROM archived_columns ORDER BY position"
            )
            if row[0] in wanted
        ]
        if {row[0] for row in rows} != wanted:
            return None
        columns = {name: _unpack_column(kind, data, uniques) for name, kind, data, uniques in rows}
        if len({len(column) for column in columns.values()}) > 1:
            return None
        return pd.DataFrame({name: columns[name] for name in names})

    def _keep_archived(self, frame: pd.DataFrame) -> None:
        """Keep ``frame`` (the archived records' columns just read) for the next reads, inside
        the operation's transaction only (so a rollback forgets it with the rest)."""
        if not self.db.in_transaction or frame.empty:
            return
        packed = []
        for position, name in enumerate(frame.columns):
            column = _pack_column(frame[name])
            if column is None:
                return
            packed.append((name, position, *column))
        self.db.execute("DELETE FROM archived_columns")
        self.db.executemany(
            "INSERT INTO archived_columns (name, position, kind, data, uniques) "
            "VALUES (?, ?, ?, ?, ?)",
            packed,
        )

    def archived_records(self, columns: Sequence[str]) -> pd.DataFrame:
        """:meth:`records` archived, only ``columns`` of them. Taken from one read of every
        record's ``columns``, which finds the archived ones in the ledger's typed copy of them
        (reading them from the records table took eight times as long on a month); no record is
        read when none is archived."""
        archived = "r.archived_at != ''"
        if not self.db.execute(
            f"SELECT EXISTS (SELECT 1 FROM records r WHERE {archived})"
        ).fetchone()[0]:
            return self.records(columns=columns, where="0")  # none: the columns, typed
        if "archived_at" not in columns:
            return self.records(columns=columns, where=archived)
        frame = self.records(columns=columns)
        return frame[frame["archived_at"].notna().to_numpy()].reset_index(drop=True)

    def kept_archived_kpi(self, key: str) -> dict[str, Any] | None:
        """What the indicator counts of the archived records, as kept under ``key`` by
        :meth:`keep_archived_kpi` while no archived record or cut time changed since (triggers
        empty it), else ``None``."""
        row = self.db.execute("SELECT data FROM archived_kpi WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return data if isinstance(data, dict) else None

    def keep_archived_kpi(self, key: str, data: Mapping[str, Any]) -> None:
        """Keep ``data`` (JSON values) under ``key`` for the next operations, inside the
        operation's transaction only (a rollback forgets it with the rest)."""
        if not self.db.in_transaction:
            return
        self.db.execute("DELETE FROM archived_kpi")
        self.db.execute(
            "INSERT INTO archived_kpi (key, data) VALUES (?, ?)",
            (key, json.dumps(data, ensure_ascii=False, allow_nan=False)),
        )

    def typified_among(self, keys: Sequence[str]) -> list[int]:
        """IDs of the records with these keys already sent to the online form, closed or no
        gestionable (in ID order)."""
        rows = self.db.execute(
            f"SELECT id FROM records WHERE key IN {_AMONG} AND form_exported_at != '' "
            "AND (closed_at != '' OR exclusion != '') ORDER BY id",
            _among(keys),
        )
        return [int(rid) for (rid,) in rows]

    def form_records(self, *, include_exported: bool = False) -> pd.DataFrame:
        """Records to typify in the online form: closed or excluded, not exported yet (unless
        ``include_exported``) or exported before a later change of their marks; the column
        ``correction`` tells the latter (exported again, as a correction)."""
        changed = (
            "r.form_exported_at != '' AND EXISTS (SELECT 1 FROM mark_history h "
            "WHERE h.record_id = r.id AND h.at > r.form_exported_at)"
        )
        where = "(r.outcome != '' OR r.exclusion != '')"
        if not include_exported:
            where += f" AND (r.form_exported_at = '' OR ({changed}))"
        candidates = self.records(where=where)
        corrected = set(self.records(where=changed, columns=("id",))["id"].astype(int))
        candidates["correction"] = candidates["id"].astype(int).isin(corrected)
        return candidates

    def _record_columns(self) -> list[str]:
        return [row[1] for row in self.db.execute("PRAGMA table_info(records)")]

    def open_work(self) -> pd.DataFrame:
        """Assigned records without a final outcome, with their agent: on the sheets (an
        archived record is closed or excluded), found through the index of those, not a scan
        of the month."""
        return pd.read_sql_query(
            "SELECT id AS record_id, agent, segment, account, ani, custcode FROM records "
            "WHERE archived_at = '' AND agent != '' AND outcome = '' AND exclusion = '' "
            "ORDER BY id",
            self.db,
        )

    def set_assignments(
        self,
        assignment: Mapping[int, str],
        *,
        at: dt.datetime,
        due_hours: float,
        reason: str,
        operation_id: int,
    ) -> None:
        when = iso(at)
        after = _due_after(due_hours)
        if not assignment:
            return
        rows = [(int(record_id), agent) for record_id, agent in assignment.items()]
        written = self._written_records_raw()
        # One UPDATE joined to a temporary table of the assignment, not one UPDATE per record.
        with self.transaction():
            self.db.execute("DROP TABLE IF EXISTS temp.swat_assignment")
            self.db.execute(
                "CREATE TEMP TABLE swat_assignment (id INTEGER PRIMARY KEY, agent TEXT NOT NULL)"
            )
            self.db.executemany("INSERT OR REPLACE INTO temp.swat_assignment VALUES (?, ?)", rows)
            with self._revision_counted("update"):
                self.db.execute(
                    "UPDATE records SET agent = a.agent, assigned_at = ?, due_at = strftime("
                    "'%Y-%m-%dT%H:%M:%S', (SELECT imported_at FROM cuts "
                    "WHERE cuts.id = records.cut_id), ?) "
                    "FROM temp.swat_assignment AS a WHERE a.id = records.id",
                    (when, after),
                )
            self.db.execute("DROP TABLE temp.swat_assignment")
            if written is not None:
                self._assign_written(written, rows, when, after)
        self._note_assignments(rows, when, reason, operation_id)

    def _note_assignments(
        self, rows: Sequence[tuple[int, str]], when: str, reason: str, operation_id: int | None
    ) -> None:
        """The history of an assignment (``(record_id, agent)`` rows)."""
        self.db.executemany(
            "INSERT INTO assignments (record_id, agent, assigned_at, reason, operation_id) "
            "VALUES (?, ?, ?, ?, ?)",
            [(rid, agent, when, reason, operation_id) for rid, agent in rows],
        )

    def marks(self, record_ids: Iterable[int] | None = None) -> pd.DataFrame:
        """Current marks of every record that has an agent (record_id + MARK_FIELDS), or of
        those of ``record_ids`` that have one (the others are left out, as unknown).

        Read once while no record changes, as :meth:`records` (reading the marks back asks
        several times; each caller gets its own copy); the marks of some records are read
        anew each time (the month's archived records are most of the ledger)."""
        columns = f"id AS record_id, agent, {', '.join(MARK_FIELDS)}, marked_at"
        if record_ids is not None:
            return pd.read_sql_query(
                f"SELECT {columns} FROM records WHERE agent != '' AND id IN {_AMONG} ORDER BY id",
                self.db,
                params=_among(int(rid) for rid in record_ids),
            )
        if self._marks is None or not self._holds(self._marks[0]):
            frame = pd.read_sql_query(f"SELECT {columns} FROM records WHERE agent != ''", self.db)
            self._marks = (self._note(), frame)
        return self._marks[1].copy()

    def update_marks(
        self,
        changes: Sequence[tuple[int, str, str, str]],
        *,
        source: str,
        at: dt.datetime,
        operation_id: int,
    ) -> None:
        """Apply ``(record_id, field, old, new)`` changes and record them in the history."""
        if not changes:
            return
        when = iso(at)
        for field in MARK_FIELDS:
            rows = [(new, when, rid) for rid, name, _old, new in changes if name == field]
            if rows:
                self.db.executemany(
                    f"UPDATE records SET {field} = ?, marked_at = ? WHERE id = ?", rows
                )
        self.db.executemany(
            "INSERT INTO mark_history (record_id, field, old, new, source, at, operation_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(rid, name, old, new, source, when, operation_id) for rid, name, old, new in changes],
        )

    def typed_marks(self, record_ids: Iterable[int]) -> pd.DataFrame:
        """:meth:`marks` of these records, typed (see :func:`typed_records`)."""
        return _typed(self.marks(record_ids))

    def set_closed(self, closed: Mapping[int, dt.datetime | str | None]) -> None:
        """Set each record's ``closed_at`` (a time, or ISO text as stored; ``None`` or ``""``
        while its management is open): whether marks close a record is the procedure's rule,
        decided by the caller."""
        rows = [
            (when if isinstance(when, str) else iso(when), int(rid)) for rid, when in closed.items()
        ]
        self.db.executemany(
            "UPDATE records SET closed_at = ? WHERE id = ? AND closed_at != ?",
            [(when, rid, when) for when, rid in rows],
        )

    def _log(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        """A write to the operation log or the workbook state (not to the records)."""
        return self.db.execute(sql, params)

    # -- holidays ------------------------------------------------------------------------------
    def cached_holidays(
        self, country: str, years: Iterable[int], source: str
    ) -> dict[int, list[dt.date]]:
        """The holidays kept for ``years`` (only those computed by ``source``)."""
        wanted = sorted(set(years))
        marks = ", ".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT year, days FROM holidays WHERE country = ? AND source = ? "
            f"AND year IN ({marks})",
            (country, source, *wanted),
        ).fetchall()
        return {
            int(year): [dt.date.fromisoformat(d) for d in json.loads(days)] for year, days in rows
        }

    def keep_holidays(self, country: str, year: int, source: str, days: Iterable[dt.date]) -> None:
        self._log(
            "INSERT OR REPLACE INTO holidays (country, year, source, days) VALUES (?, ?, ?, ?)",
            (country, year, source, json.dumps(sorted(d.isoformat() for d in days))),
        )

    # -- the workbook beside the ledger ------------------------------------------------------
    def workbook_state(self) -> set[str]:
        """SHA-256 of the workbook the last operation read (its marks are in the ledger) and of
        the one it wrote (rendered from the ledger). A workbook on disk that is one of them holds
        no mark the ledger lacks: reading its marks again would add nothing."""
        row = self.db.execute("SELECT seen, written FROM workbook_state WHERE id = 1").fetchone()
        return {digest for digest in row or () if digest}

    def written_sheets(self) -> tuple[str, dict[str, Any]]:
        """SHA-256 of the workbook the last operation wrote, and what it noted about that
        workbook's sheets (written and read by ``swat_xl.services.rendering``)."""
        row = self.db.execute("SELECT written, sheets FROM workbook_state WHERE id = 1").fetchone()
        if not row or not row[0]:
            return "", {}
        try:
            notes = json.loads(row[1] or "{}")
        except ValueError:
            notes = {}
        return row[0], notes if isinstance(notes, dict) else {}

    def set_workbook_state(
        self,
        *,
        seen: str | None,
        written: str | None,
        at: dt.datetime,
        sheets: Mapping[str, Any] | None = None,
    ) -> None:
        self._log(
            "INSERT OR REPLACE INTO workbook_state (id, seen, written, at, sheets) "
            "VALUES (1, ?, ?, ?, ?)",
            (seen or "", written or "", iso(at), json.dumps(dict(sheets or {}), sort_keys=True)),
        )

    # -- operation log ----------------------------------------------------------------------
    def start_operation(self, command: str, *, user: str, host: str, at: dt.datetime) -> int:
        cursor = self._log(
            "INSERT INTO operations (started_at, user, host, command) VALUES (?, ?, ?, ?)",
            (iso(at), user, host, command),
        )
        return int(cursor.lastrowid or 0)

    def finish_operation(
        self, operation_id: int, *, summary: str, counts: Mapping[str, Any], at: dt.datetime
    ) -> None:
        self._log(
            "UPDATE operations SET finished_at = ?, summary = ?, counts = ? WHERE id = ?",
            (iso(at), summary, json.dumps(counts, ensure_ascii=False), operation_id),
        )

    def add_event(
        self,
        operation_id: int,
        message: str,
        *,
        level: str = "info",
        record_id: int | None = None,
        at: dt.datetime,
    ) -> None:
        self._log(
            "INSERT INTO events (operation_id, at, level, record_id, message) "
            "VALUES (?, ?, ?, ?, ?)",
            (operation_id, iso(at), level, record_id, message),
        )

    def redact_events(self, record_ids: Iterable[int], *, notice: str) -> int:
        """Forget what the log says about purged records (their lines become ``notice``) and
        hide digit runs in every other line (what earlier versions may have copied from cells).

        The log is append-only (triggers); a purge is the one exception the law requires, so
        the update trigger is lifted and restored inside the caller's transaction."""
        purged = {int(i) for i in record_ids}
        changes = []
        for event_id, record_id, message in self.db.execute(
            "SELECT id, record_id, message FROM events"
        ):
            new = notice if record_id is not None and int(record_id) in purged else mask(message)
            if new != message:
                changes.append((new, event_id))
        if not changes:
            return 0
        trigger = self.db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' "
            "AND name = 'events_append_only_update'"
        ).fetchone()
        self.db.execute("DROP TRIGGER IF EXISTS events_append_only_update")
        self.db.executemany("UPDATE events SET message = ? WHERE id = ?", changes)
        if trigger is not None:
            self.db.execute(trigger[0])
        return len(changes)

    def operations(self, limit: int = 2000) -> pd.DataFrame:
        """The latest operations, newest first (``started_at`` / ``finished_at`` as times)."""
        frame = pd.read_sql_query(
            "SELECT * FROM operations ORDER BY id DESC LIMIT ?", self.db, params=[limit]
        )
        return _with_times(frame, ("started_at", "finished_at"))

    def events(self, limit: int = 2000) -> pd.DataFrame:
        """The latest events of the log, newest first (``at`` as a time)."""
        frame = pd.read_sql_query(
            "SELECT * FROM events ORDER BY id DESC LIMIT ?", self.db, params=[limit]
        )
        return _with_times(frame, ("at",))

    def cuts(self) -> pd.DataFrame:
        """Every cut (``imported_at`` as a time)."""
        frame = pd.read_sql_query("SELECT * FROM cuts ORDER BY id", self.db)
        return _with_times(frame, ("imported_at",))

    def practice_log(self) -> pd.DataFrame:
        """The supervisors' log of practices: ``held_on`` as a time (the day), with the text
        typed there when it is not a date in ``held_on_unread``; the rest as text."""
        frame = pd.read_sql_query(
            "SELECT held_on, practice, owner, minutes, notes FROM practice_log ORDER BY id",
            self.db,
        )
        text = frame["held_on"]
        held = stored_times(text)
        frame["held_on"] = held
        frame[unread("held_on")] = _unread_text(text, held)
        return frame

    # -- what single use cases ask -----------------------------------------------------------
    def waiting_records(self) -> pd.DataFrame:
        """Manageable open records with no agent yet (to assign); those just inserted are not
        read back (see :meth:`add_records`)."""
        sql = (
            "SELECT id AS record_id, segment, account, ani, custcode FROM records "
            "WHERE agent = '' AND exclusion = '' AND archived_at = '' AND outcome = ''"
        )
        written = self._written_records_raw()
        if written is None:
            return pd.read_sql_query(f"{sql} ORDER BY id", self.db)
        frame = pd.read_sql_query(f"{sql} AND id < ? ORDER BY id", self.db, params=[written.start])
        column = written.column
        waiting = (
            (column("agent") == "")
            & (column("exclusion") == "")
            & (column("archived_at") == "")
            & (column("outcome") == "")
        ).to_numpy()
        kept = _waiting_frame(column, waiting)
        if kept.empty:
            return frame
        if frame.empty:
            return kept
        if not frame.dtypes.equals(kept.dtypes):  # pragma: no cover - one reader types both
            return pd.read_sql_query(f"{sql} ORDER BY id", self.db)
        return pd.concat([frame, kept], ignore_index=True)

    def unassign(self, record_ids: Iterable[int]) -> None:
        self.db.executemany(
            "UPDATE records SET agent = '' WHERE id = ?", [(r,) for r in record_ids]
        )

    def assigned_open(self) -> list[tuple[int, str]]:
        """``(id, agent)`` of the records the agent sheets show (assigned, manageable, not
        archived)."""
        return self.db.execute(
            "SELECT id, agent FROM records WHERE agent != '' AND archived_at = '' "
            "AND exclusion = ''"
        ).fetchall()

    def agents_of_records(self) -> dict[int, str]:
        """The current agent of every assigned record."""
        return dict(self.db.execute("SELECT id, agent FROM records WHERE agent != ''").fetchall())

    def archive(self, before: dt.date, at: dt.datetime) -> tuple[int, int, int]:
        """Archive records closed, and excluded ones exported to the form, before ``before``;
        returns (closed archived, excluded archived, records left on the sheets)."""
        limit = before.isoformat()
        closed = self.db.execute(
            "UPDATE records SET archived_at = ? WHERE archived_at = '' AND outcome != '' "
            "AND closed_at != '' AND substr(closed_at, 1, 10) < ?",
            (at.isoformat(), limit),
        ).rowcount
        excluded = self.db.execute(
            "UPDATE records SET archived_at = ? WHERE archived_at = '' AND exclusion != '' "
            "AND form_exported_at != '' AND substr(form_exported_at, 1, 10) < ?",
            (at.isoformat(), limit),
        ).rowcount
        remaining = self.db.execute(
            "SELECT COUNT(*) FROM records WHERE archived_at = ''"
        ).fetchone()[0]
        return closed, excluded, remaining

    def purge_cuts_before(self, limit: dt.datetime, *, notice: str) -> dict[str, int]:
        """Delete the records (and their history) of cuts imported before ``limit``; the cuts
        stay; the log forgets those records (see :meth:`redact_events`). Returns counts: cuts,
        records, history_rows, open_records, log_lines_redacted."""
        old = (limit.isoformat(),)
        in_old_cuts = "cut_id IN (SELECT id FROM cuts WHERE imported_at < ?)"
        cuts = self.db.execute("SELECT COUNT(*) FROM cuts WHERE imported_at < ?", old).fetchone()[0]
        ids = [r[0] for r in self.db.execute(f"SELECT id FROM records WHERE {in_old_cuts}", old)]
        history = 0
        for table in ("mark_history", "assignments"):
            history += self.db.execute(
                f"DELETE FROM {table} WHERE record_id IN (SELECT id FROM records WHERE "
                f"{in_old_cuts})",
                old,
            ).rowcount
        still_open = self.db.execute(
            f"SELECT COUNT(*) FROM records WHERE {in_old_cuts} AND archived_at = '' "
            "AND exclusion = '' AND outcome = ''",
            old,
        ).fetchone()[0]
        records = self.db.execute(f"DELETE FROM records WHERE {in_old_cuts}", old).rowcount
        events = self.redact_events(ids, notice=notice)
        return {
            "cuts": cuts,
            "records": records,
            "history_rows": history,
            "open_records": still_open,
            "log_lines_redacted": events,
        }

    def copies_before(self, limit: dt.datetime, form_command: str) -> dict[str, list[Any]]:
        """Where records of cuts imported before ``limit`` went outside the tool (read before
        :meth:`purge_cuts_before`): ``agent_workbooks`` as (agent, file name, exported_at
        text), ``form_exports`` as (file name or "", started_at text) of the operations named
        ``form_command`` that exported them, ``exports`` the Power BI file names."""
        old = (limit.isoformat(),)
        in_old_cuts = "cut_id IN (SELECT id FROM cuts WHERE imported_at < ?)"
        ids = {r[0] for r in self.db.execute(f"SELECT id FROM records WHERE {in_old_cuts}", old)}
        out: dict[str, list[Any]] = {"agent_workbooks": [], "form_exports": [], "exports": []}
        if not ids:
            return out
        for agent, file_name, exported_at, record_ids in self.db.execute(
            "SELECT agent, file_name, exported_at, record_ids FROM agent_exports ORDER BY id"
        ):
            if ids & set(json.loads(record_ids)):
                out["agent_workbooks"].append((agent, file_name, exported_at))
        exported = {
            r[0]
            for r in self.db.execute(
                f"SELECT DISTINCT form_exported_at FROM records WHERE id IN {_AMONG} "
                "AND form_exported_at != ''",
                _among(ids),
            )
        }
        for started_at, counts in self.db.execute(
            "SELECT started_at, counts FROM operations WHERE command = ? ORDER BY id",
            (form_command,),
        ):
            if started_at in exported:
                try:
                    file = json.loads(counts or "{}").get("file", "")
                except ValueError:
                    file = ""
                out["form_exports"].append((file, started_at))
        for (name,) in self.db.execute(
            "SELECT file_name FROM cuts WHERE imported_at < ? ORDER BY id", old
        ):
            out["exports"].append(name)
        return out

    def mark_form_exported(
        self, record_ids: Iterable[int], at: dt.datetime, *, corrections: Iterable[int] = ()
    ) -> None:
        """Note that these records went to the online form at ``at`` (a record exported before
        keeps its first time); a correction is sent once: from now on only a later change of
        its marks sends it again."""
        when = iso(at)
        self.db.executemany(
            "UPDATE records SET form_exported_at = ? WHERE id = ? AND form_exported_at = ''",
            [(when, int(rid)) for rid in record_ids],
        )
        self.db.executemany(
            "UPDATE records SET form_exported_at = ? WHERE id = ?",
            [(when, int(rid)) for rid in corrections],
        )

    def practice_days(self) -> set[str]:
        """The days of the practices log as kept (ISO, or the text typed when not a date)."""
        return {row[0] for row in self.db.execute("SELECT held_on FROM practice_log")}

    def replace_practice_log(self, entries: Iterable[tuple[str, str, str, str, str]]) -> None:
        """The ``Prácticas`` sheet's log replaces the ledger's copy."""
        self.db.execute("DELETE FROM practice_log")
        self.db.executemany(
            "INSERT INTO practice_log (held_on, practice, owner, minutes, notes) "
            "VALUES (?, ?, ?, ?, ?)",
            list(entries),
        )

    # -- agent workbooks -----------------------------------------------------------------------
    def add_agent_export(
        self, token: str, agent: str, file_name: str, at: dt.datetime, record_ids: Iterable[int]
    ) -> None:
        self.db.execute(
            "INSERT INTO agent_exports (token, agent, file_name, exported_at, record_ids) "
            "VALUES (?, ?, ?, ?, ?)",
            (token, agent, file_name, at.isoformat(), json.dumps([int(i) for i in record_ids])),
        )

    def agent_export(self, token: str) -> tuple[str, str, list[int]] | None:
        """(agent, exported_at, record ids) of the agent workbook with ``token``."""
        row = self.db.execute(
            "SELECT agent, exported_at, record_ids FROM agent_exports WHERE token = ?", (token,)
        ).fetchone()
        return None if row is None else (row[0], row[1], list(json.loads(row[2])))

    def latest_agent_export(self, agent: str) -> str:
        """When the newest workbook of ``agent`` was written (ISO text)."""
        return str(
            self.db.execute(
                "SELECT MAX(exported_at) FROM agent_exports WHERE agent = ?", (agent,)
            ).fetchone()[0]
        )

    def mark_collected(self, file_name: str, at: dt.datetime) -> None:
        self.db.execute(
            "UPDATE agent_exports SET collected_at = ? WHERE file_name = ? AND collected_at = ''",
            (at.isoformat(), file_name),
        )


def _with_times(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    for name in names:
        frame[name] = stored_times(frame[name])
    return frame


def check_integrity(db: sqlite3.Connection) -> None:
    """Raise :class:`sqlite3.DatabaseError` when the file is not a sound SQLite database:
    the header, the schema and a quick structural check of every page (``quick_check``, which
    skips the costly index cross-checks and stops at the first problem)."""
    db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    verdict = db.execute("PRAGMA quick_check(1)").fetchone()
    if verdict is None or verdict[0] != "ok":
        raise sqlite3.DatabaseError(f"database disk image is malformed: {verdict}")


def _backup(db: sqlite3.Connection, target: Path) -> None:
    """The database of ``db`` copied to ``target`` by SQLite's online backup API."""
    copy = sqlite3.connect(target)
    try:
        db.backup(copy)
    finally:
        copy.close()


class _Beside:
    """The copy and quick check of :meth:`Ledger.begin`, in a thread of their own. A read
    transaction on the thread's own connection holds the file as the operation's transaction
    found it (that transaction cannot write the file before the read ends); the file is copied
    (by SQLite's backup where its bytes cannot be read, as on Windows past 1 GiB) and checked."""

    def __init__(self, path: Path, copy_to: Path | None, *, check: bool) -> None:
        self.path, self.copy_to, self.check = path, copy_to, check
        self.error: BaseException | None = None
        self.db: sqlite3.Connection | None = None
        self.cancelled = False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="swat-ledger", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            with self.lock:
                if self.cancelled:
                    return
                self.db = db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            try:
                db.execute("PRAGMA query_only = ON")
                db.execute("BEGIN")
                db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # the read lock
                if self.copy_to is not None:
                    self._copy(db, self.copy_to)
                if self.check and not self.cancelled:
                    check_integrity(db)
            finally:
                with self.lock:
                    self.db = None
                db.close()
        except BaseException as exc:  # handed to the thread that waits
            self.error = exc

    def _copy(self, db: sqlite3.Connection, copy_to: Path) -> None:
        journal = db.execute("PRAGMA journal_mode").fetchone()[0]
        try:
            if str(journal).lower() != "delete":  # the file alone may not hold it all
                raise OSError(journal)
            shutil.copyfile(self.path, copy_to)
        except OSError:
            Path(copy_to).unlink(missing_ok=True)
            _backup(db, copy_to)

    def damaged(self) -> bool:
        """Whether the check, waited for, found the file damaged."""
        self.thread.join()
        return self.error is not None and is_corruption(self.error)

    def wait(self, path: Path) -> None:
        self.thread.join()
        if self.error is None:
            return
        if is_corruption(self.error):
            raise LedgerError(DAMAGED, file=path) from self.error
        raise self.error

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
            if self.db is not None:
                self.db.interrupt()
        self.thread.join()


def is_corruption(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it, e.g. inside pandas) says the file is damaged."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, sqlite3.DatabaseError):
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _CORRUPT_CODES:
                return True
            if any(word in str(exc).lower() for word in _CORRUPT_WORDS):
                return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def quick_check(path: Path) -> bool:
    """Whether the ledger file at ``path`` opens and passes :func:`check_integrity`."""
    try:
        db = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        check_integrity(db)
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        db.close()


def _row_dict(db: sqlite3.Connection, row: tuple[Any, ...], table: str) -> dict[str, Any]:
    names = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    return dict(zip(names, row, strict=True))


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (triggers keep their inner ``;``)."""
    statements: list[str] = []
    buffer: list[str] = []
    depth = 0
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        buffer.append(line)
        upper = stripped.upper()
        if upper.startswith("CREATE TRIGGER"):
            depth += 1
        if stripped.endswith(";") and (depth == 0 or upper.endswith("END;")):
            statements.append("\n".join(buffer))
            buffer = []
            depth = 0
    if buffer:
        statements.append("\n".join(buffer))
    return statements


class LedgerFiles:
    """Ledgers as SQLite files (``:memory:`` for one that lives only while it is open)."""

    def exists(self, path: Path) -> bool:
        return Path(path).exists()

    def open(self, path: Path, *, create: bool = False, check_beside: bool = False) -> Ledger:
        return Ledger.open(path, create=create, check_beside=check_beside)

    def discard(self, path: Path) -> None:
        Path(path).unlink(missing_ok=True)

    def check(self, path: Path) -> bool:
        """Whether the ledger at ``path`` opens and passes SQLite's quick check."""
        return quick_check(path)
