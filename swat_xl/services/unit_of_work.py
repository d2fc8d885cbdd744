"""The unit of work of an operation: the master workbook, its ledger, the lock, the clock.

Nothing is half-saved: the ledger's transaction rolls back unless :meth:`UnitOfWork.commit` is
called, and a ledger the operation created is removed again when it did not commit. The real
unit of work is built by :mod:`swat_xl.bootstrap`; tests build one from fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from swat_xl.core.config import Settings
from swat_xl.errors import LEDGER_DAMAGED, LedgerError
from swat_xl.services.copies import LEDGER_SUFFIX
from swat_xl.services.ports import Clock, FilesPort, LedgerPort, LedgerStore, Lock, WorkbookPort

DEFAULT_LOCK_TIMEOUT = 5.0


def ledger_path_for(workbook: Path, settings: Settings) -> Path:
    """The ledger beside ``workbook`` (or where ``Config`` says)."""
    if settings.ledger_path:
        candidate = Path(settings.ledger_path)
        return candidate if candidate.is_absolute() else workbook.parent / candidate
    return workbook.with_name(workbook.stem + LEDGER_SUFFIX)


class UnitOfWork:
    """One master workbook and what an operation on it needs.

    Use :meth:`locked` around the whole operation, then ``with uow.start(ledger_path): ...
    uow.commit()``: leaving the block without the commit rolls the ledger back."""

    def __init__(
        self,
        workbook: WorkbookPort,
        *,
        ledgers: LedgerStore,
        lock: Lock,
        clock: Clock,
        files: FilesPort,
        identity: Callable[[], tuple[str, str]] = lambda: ("desconocido", ""),
        lock_timeout: float | None = None,
        reuse_sheets: bool = True,
        copies: Callable[[Path], UnitOfWork] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.workbook = workbook
        self.ledgers = ledgers
        self.lock = lock
        self.clock = clock
        self.files = files
        self.identity = identity
        self.lock_timeout = lock_timeout  # overrides Config's «espera_bloqueo_segundos»
        self.reuse_sheets = reuse_sheets  # False: every rewrite draws every sheet again
        self._copies = copies  # a unit of work on a backup copy of the master (see open_copy)
        #: Told each stage of an operation, in Spanish: Excel's status bar, a terminal's stderr.
        self.progress: Callable[[str], None] = progress or (lambda _text: None)
        self.committed = False
        self._ledger: LedgerPort | None = None
        self._ledger_path: Path | None = None
        self._discard = False

    def open_copy(self, path: Path) -> UnitOfWork:
        """A unit of work on a backup copy of the master (``swat_copias``), with its ledger copy
        beside it."""
        if self._copies is None:
            raise RuntimeError("this unit of work cannot open backup copies")
        return self._copies(path)

    @property
    def ledger(self) -> LedgerPort:
        if self._ledger is None:
            raise RuntimeError("the unit of work has no open ledger (use start())")
        return self._ledger

    def wait_for(self, settings: Settings | None) -> float:
        """Seconds to wait for another operation on the same workbook."""
        if self.lock_timeout is not None:
            return max(0.0, self.lock_timeout)
        return settings.lock_timeout_s if settings is not None else DEFAULT_LOCK_TIMEOUT

    @contextmanager
    def locked(self, settings: Settings | None) -> Iterator[None]:
        """Hold the workbook's lock; what was read before it may have been replaced since."""
        with self.lock(self.workbook.path, self.wait_for(settings)):
            self.workbook.refresh()
            yield

    def start(
        self,
        path: Path,
        *,
        create: bool = False,
        discard: bool = False,
        copy_to: Path | None = None,
    ) -> UnitOfWork:
        """Open the ledger at ``path`` and begin its transaction. ``discard``: the ledger is new
        to this operation and is removed again unless the operation commits. ``copy_to``: a
        consistent copy of the ledger as it is before the operation is written there. The
        ledger is checked beside the operation, and its commit waits for the verdict."""
        ledger = self.ledgers.open(path, create=create, check_beside=True)
        try:
            ledger.begin(copy_to=copy_to)
        except BaseException:
            ledger.close()
            raise
        self._ledger, self._ledger_path, self._discard = ledger, path, discard
        self.committed = False
        return self

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        ledger, path = self._ledger, self._ledger_path
        self._ledger = self._ledger_path = None
        if ledger is None:
            return
        try:
            if not self.committed:
                # What failed on a damaged ledger is named as the damage (the check beside
                # the operation may not have ended when it failed).
                damaged = isinstance(error, Exception) and ledger.damaged()
                ledger.rollback()
                if damaged:
                    raise LedgerError(LEDGER_DAMAGED, file=path) from error
        finally:
            ledger.close()
            if self._discard and not self.committed and path is not None:
                self.ledgers.discard(path)

    def commit(self) -> None:
        self.ledger.commit()
        self.committed = True

    def rollback(self) -> None:
        self.ledger.rollback()
