"""The unit of work of every operation: lock, read the workbook, one ledger transaction,
render the master to a temporary file, commit, then atomically replace the workbook.

If anything fails before the commit, the ledger rolls back and the workbook is untouched.
If the process dies between the commit and the replace, the next operation re-renders the
workbook from the ledger, so the two always end up in agreement. The ledger remembers the
fingerprints of the workbook the last operation read and wrote: marks are read again only from
a workbook someone has changed since (so a stale workbook never reverts the ledger, and an
unchanged one costs no re-reading).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import socket
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

from filelock import FileLock, Timeout

from swat_xl.adapters.ledger import Ledger
from swat_xl.adapters.xlsx_file import BACKUP_DIR, TMP_PREFIX
from swat_xl.core.config import Settings, settings_from_rows, settings_to_rows
from swat_xl.core.dates import parse_datetime
from swat_xl.core.kpi import USED_COLUMNS, KpiReport
from swat_xl.core.model import Agent
from swat_xl.core.roster import parse_roster
from swat_xl.core.text import is_blank, mask_digits
from swat_xl.errors import BusyError, SwatError, WorkbookError
from swat_xl.workbook import labels as L
from swat_xl.workbook.layout import RECORD_ROLES, MasterState, build_master
from swat_xl.workbook.spec import Sheet, WorkbookSpec

T = TypeVar("T")
DEFAULT_LOCK_TIMEOUT = 5.0


class WorkbookPort(Protocol):
    """What the services need from a workbook (a file on disk, or a live Excel book)."""

    path: Path

    def sheet_names(self) -> list[str]: ...
    def rows(self, sheet: str) -> list[list[Any]]: ...
    def header(self, sheet: str) -> list[Any]: ...
    def user_sheet(self, name: str) -> Sheet: ...
    def publish(self, spec: WorkbookSpec, session: Session) -> Callable[[], None]: ...


def now() -> dt.datetime:
    """Local time, or ``SWAT_NOW`` (ISO) when set — used by tests and demos for reproducibility."""
    fixed = parse_datetime(os.environ.get("SWAT_NOW"))
    if fixed:
        return fixed
    return dt.datetime.now().replace(microsecond=0)


def whoami() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "desconocido"
    return user, socket.gethostname()


LEDGER_SUFFIX = ".swat.sqlite"


def ledger_path_for(workbook: Path, settings: Settings) -> Path:
    if settings.ledger_path:
        candidate = Path(settings.ledger_path)
        return candidate if candidate.is_absolute() else workbook.parent / candidate
    return workbook.with_name(workbook.stem + LEDGER_SUFFIX)


def ledger_copy_of(backup: Path) -> Path:
    """The ledger copy kept with a workbook copy of ``swat_copias`` (always beside it)."""
    return backup.with_name(backup.stem + LEDGER_SUFFIX)


def _snapshot_ledger(workbook: WorkbookPort, ledger: Ledger, settings: Settings) -> Path | None:
    """A consistent copy of the ledger as the workbook on disk was drawn from it, taken before
    the operation changes anything: kept with the workbook's backup copy (see publish)."""
    if settings.backups_to_keep <= 0 or not getattr(workbook, "keeps_backups", False):
        return None
    if not workbook.path.exists():
        return None
    folder = workbook.path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    target = folder / f"{TMP_PREFIX}{workbook.path.stem}.{os.getpid()}-{id(ledger)}{LEDGER_SUFFIX}"
    ledger.backup_to(target)
    return target


def lock_path_for(workbook: Path) -> Path:
    return workbook.with_name("." + workbook.name + ".swat-lock")


@contextmanager
def workbook_lock(workbook: Path, timeout: float = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    lock = FileLock(str(lock_path_for(workbook)), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise BusyError(
            "Otra operación de swat_xl está usando este libro; espere a que termine y vuelva a "
            "intentarlo",
            file=workbook,
        ) from None
    try:
        yield
    finally:
        lock.release()


_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def ensure_writable(path: Path, *, what: str = "archivo") -> None:
    """Refuse (exit 3, nothing changed) when ``path``'s folder or ``path`` itself cannot be
    written, or its permission bits say read-only (Windows' read-only attribute): a read-only
    workbook is never silently replaced nor its permissions reset."""
    folder = path.parent
    if folder.is_dir() and not _writable(folder, folder=True):
        raise WorkbookError(
            f"La carpeta «{folder}» no tiene permiso de escritura: no se cambió nada. Dé permiso "
            "de escritura a la carpeta (o use otra) y vuelva a intentarlo"
        )
    if path.exists() and not _writable(path):
        raise WorkbookError(
            f"El {what} «{path}» es de solo lectura (no tiene permiso de escritura): no se cambió "
            "nada. Quítele el atributo de solo lectura (Propiedades del archivo) y vuelva a "
            "intentarlo"
        )


def _writable(path: Path, *, folder: bool = False) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    # On Windows a folder's read-only attribute does not stop writing into it (Explorer uses it
    # for other things); a file's does, and for everything else the bits are the permission.
    bits_matter = not (folder and os.name == "nt")
    if bits_matter and not mode & _WRITE_BITS:
        return False
    return os.access(path, os.W_OK)


def lock_timeout(settings: Settings | None) -> float:
    """Seconds to wait for another operation: ``SWAT_LOCK_TIMEOUT`` (tests), else the Config
    value ``espera_bloqueo_segundos``."""
    override = os.environ.get("SWAT_LOCK_TIMEOUT", "").strip()
    if override:
        try:
            return max(0.0, float(override))
        except ValueError:
            pass
    return settings.lock_timeout_s if settings is not None else DEFAULT_LOCK_TIMEOUT


def _settings_before_lock(workbook: WorkbookPort) -> Settings | None:
    """The Config sheet as it is now, only to know how long to wait for the lock."""
    try:
        return read_settings(workbook)
    except SwatError:  # reported properly once the lock is held
        return None


def read_settings(workbook: WorkbookPort) -> Settings:
    if L.SHEET_CONFIG not in workbook.sheet_names():
        raise WorkbookError(
            f"El libro no tiene la hoja «{L.SHEET_CONFIG}»: no parece un libro maestro de swat_xl "
            "(créelo con «swat-xl init»)",
            file=workbook.path,
        )
    rows = workbook.rows(L.SHEET_CONFIG)
    return settings_from_rows((row[0], row[1] if len(row) > 1 else "") for row in rows[1:] if row)


def read_agents(workbook: WorkbookPort) -> list[Agent]:
    if L.SHEET_ROSTER not in workbook.sheet_names():
        return []
    rows = [[c for c in row[:4]] for row in workbook.rows(L.SHEET_ROSTER)]
    if not rows:
        return []
    return parse_roster(rows, source=L.SHEET_ROSTER)


@dataclass
class Session:
    """One operation in progress."""

    workbook: WorkbookPort
    ledger: Ledger
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
    written_fingerprint: str | None = None  # SHA-256 of the workbook publish() will install
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


def master_state(
    session: Session,
    user_sheets: list[Sheet],
    xlwings_conf: Any = (),
    reuse: frozenset[str] = frozenset(),
) -> MasterState:
    """What the master shows now. Sheets in ``reuse`` are copied from the current workbook:
    when they are all the sheets drawn from the records, only the indicator's columns of the
    records are read."""
    from swat_xl.services.indicator import kpi_report

    ledger = session.ledger
    narrow = bool(reuse)
    records = ledger.records(columns=USED_COLUMNS) if narrow else ledger.records()
    cuts = ledger.cuts()
    # Every operation leaves an up-to-date Indicador (detail and chart), not only «kpi».
    report = session.kpi_report
    if report is None:
        report = kpi_report(session, records, cuts)
    return MasterState(
        settings=session.settings,
        agents=session.agents,
        records=records,
        reuse=reuse,
        full_records=ledger.records if narrow else None,
        cuts=cuts,
        operations=ledger.operations(),
        events=ledger.events(),
        practice_log=ledger.practice_log(),
        now=session.now,
        user_sheets=user_sheets,
        xlwings_conf=xlwings_conf,
        last_summary=f"{session.now:%d/%m/%Y %H:%M} · {session.command}: {session.summary}",
        kpi=report,
    )


def run_operation(
    workbook: WorkbookPort,
    command: str,
    body: Callable[[Session], T],
    *,
    settings: Settings | None = None,
    agents: list[Agent] | None = None,
    create_ledger: bool = False,
    sync_marks: bool = True,
) -> T:
    """Run ``body`` as one all-or-nothing operation on ``workbook``."""
    from swat_xl.services.marks import sync_from_workbook
    from swat_xl.services.practices import sync_practice_log

    early = settings if settings is not None else _settings_before_lock(workbook)
    ensure_writable(workbook.path, what="libro")
    if early is not None:
        ensure_writable(ledger_path_for(workbook.path, early), what="registro")
    wait = lock_timeout(early)
    with workbook_lock(workbook.path, wait):
        refresh = getattr(workbook, "refresh", None)
        if refresh is not None:  # what was read before the lock may have been replaced since
            refresh()
        settings = settings if settings is not None else read_settings(workbook)
        agents = agents if agents is not None else read_agents(workbook)
        ledger_file = ledger_path_for(workbook.path, settings)
        ensure_writable(ledger_file, what="registro")
        # The shipped template has no ledger beside it: its first operation creates one.
        fresh = not create_ledger and not ledger_file.exists() and is_pristine(workbook)
        ledger = Ledger.open(ledger_file, create=create_ledger or fresh)
        committed = False
        snapshot: Path | None = None
        try:
            snapshot = _snapshot_ledger(workbook, ledger, settings)
            user, host = whoami()
            when = now()
            publish: Callable[[], None] | None = None
            with ledger.transaction():
                operation_id = ledger.start_operation(command, user=user, host=host, at=when)
                session = Session(workbook, ledger, settings, agents, when, operation_id, command)
                session.ledger_copy = snapshot
                if fresh:
                    session.warn(
                        f"Se creó un registro nuevo («{ledger_file.name}») junto al libro: es la "
                        "primera operación de este libro maestro. Consérvelo siempre junto al libro"
                    )
                fingerprint = getattr(workbook, "fingerprint", None)
                seen = fingerprint() if fingerprint is not None else None
                if sync_marks and (seen is None or seen not in ledger.workbook_state()):
                    sync_from_workbook(session)
                    sync_practice_log(session)
                result = body(session)
                if session.notices:
                    session.summary = "; ".join(filter(None, [session.summary, *session.notices]))
                ledger.finish_operation(
                    operation_id, summary=session.summary, counts=session.counts, at=when
                )
                notes: dict[str, Any] = {}
                if session.render:
                    publish, notes = _render(session, seen)
                ledger.set_workbook_state(
                    seen=seen, written=session.written_fingerprint, at=when, sheets=notes
                )
            committed = True
            if publish is not None:
                publish()
            return result
        except SwatError:
            raise
        finally:
            ledger.close()
            if snapshot is not None:
                snapshot.unlink(missing_ok=True)
            if fresh and not committed:
                ledger_file.unlink(missing_ok=True)


def _render(session: Session, seen: str | None) -> tuple[Callable[[], None], dict[str, Any]]:
    """Draw the master and prepare its publication; also the notes the ledger keeps about the
    written sheets, so the next rewrite knows which it may copy as they are."""
    workbook = session.workbook
    written, notes = session.ledger.written_sheets()
    ours = seen is not None and seen == written and _reuse_enabled()
    available = getattr(workbook, "reusable_sheets", None)
    can_copy = available() if ours and available is not None else set()
    stored_users = notes.get("user")
    if ours and isinstance(stored_users, list) and set(stored_users) <= can_copy:
        user_sheets = [Sheet(str(name), role="user", reused=True) for name in stored_users]
    else:
        user_sheets = collect_user_sheets(workbook, session.ledger)
    user_names = [sheet.name for sheet in user_sheets]
    key = records_key(session, user_names)
    stored = {str(name) for name in notes.get("records", [])}
    reuse = (
        frozenset(stored)
        if ours and notes.get("key") == key and stored <= can_copy
        else frozenset()
    )
    state = master_state(session, user_sheets, _xlwings_conf(workbook), reuse)
    spec = build_master(state)
    publish = workbook.publish(spec, session)
    drawn_from_records = [sheet.name for sheet in spec.sheets if sheet.role in RECORD_ROLES]
    copied = sorted(sheet.name for sheet in spec.sheets if sheet.reused)
    return publish, {
        "key": key,
        "records": drawn_from_records,
        "user": user_names,
        "reused": copied,  # for the record (and the tests): what this rewrite copied
    }


def _reuse_enabled() -> bool:
    """``SWAT_REUSE=0`` draws every sheet again (tests compare both ways)."""
    return os.environ.get("SWAT_REUSE", "1").strip() != "0"


def records_key(session: Session, user_sheets: list[str]) -> str:
    """What the sheets drawn from the records depend on: the records (their revision), the
    settings, the roster, the names other sheets take, and this version of the code."""
    roster = [(a.name, str(a.profile), a.active, a.capacity) for a in session.agents]
    inputs = [
        render_version(),
        session.ledger.records_revision(),
        [list(map(str, row)) for row in settings_to_rows(session.settings)],
        roster,
        user_sheets,
    ]
    return hashlib.sha256(json.dumps(inputs, default=str).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def render_version() -> str:
    """A digest of this package's code and of the writer's version: a sheet written by other
    code is never taken as what this code would write."""
    import xlsxwriter

    digest = hashlib.sha256(f"xlsxwriter {xlsxwriter.__version__}".encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_pristine(workbook: WorkbookPort) -> bool:
    """A master no operation has touched yet (the built template): ``Base`` and ``Bitácora``
    have no data rows and there is no agent sheet."""
    from swat_xl.services.marks import is_agent_header

    names = workbook.sheet_names()
    if L.SHEET_BASE not in names:
        return False
    for sheet in (L.SHEET_LOG, L.SHEET_BASE):  # the log first: any used master has lines there
        rows = workbook.rows(sheet) if sheet in names else []
        if any(not is_blank(cell) for row in rows[1:] for cell in row):
            return False
    return not any(
        is_agent_header(workbook.header(name)) for name in names if name not in L.OWNED_SHEETS
    )


def collect_user_sheets(workbook: WorkbookPort, ledger: Ledger) -> list[Sheet]:
    """Sheets the tool does not own and that are not agent sheets: carried over as they are,
    whatever their headers (a user's copy of an agent sheet stays, as the user's)."""
    from swat_xl.services.marks import sheet_roles

    agent = set(sheet_roles(workbook, ledger).agent)
    return [
        workbook.user_sheet(name)
        for name in workbook.sheet_names()
        if name not in L.OWNED_SHEETS and name not in agent
    ]


def _xlwings_conf(workbook: WorkbookPort) -> list[tuple[str, Any]]:
    if workbook.path.suffix.lower() != ".xlsm":
        return []
    if L.SHEET_XLWINGS in workbook.sheet_names():
        rows = workbook.rows(L.SHEET_XLWINGS)
        return [(str(r[0]), "" if len(r) < 2 else r[1]) for r in rows if r and str(r[0])]
    from swat_xl.services.xlsm import default_xlwings_conf

    return default_xlwings_conf()
