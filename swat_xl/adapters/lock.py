"""One operation at a time per workbook: a lock file beside it (the ``filelock`` package)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from swat_xl.errors import BusyError


def lock_path_for(workbook: Path) -> Path:
    return workbook.with_name("." + workbook.name + ".swat-lock")


@contextmanager
def workbook_lock(workbook: Path, timeout: float) -> Iterator[None]:
    """Hold the workbook's lock; :class:`BusyError` after ``timeout`` seconds of waiting."""
    lock = FileLock(str(lock_path_for(workbook)), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        waited = f"{timeout:g}".replace(".", ",")  # the wait as Config states it, Spanish decimals
        raise BusyError(
            f"Otra operación de swat_xl está usando este libro (se esperó {waited} s); espere a "
            "que termine y vuelva a intentarlo",
            file=workbook,
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def passing_lock(workbook: Path, timeout: float) -> Iterator[None]:
    """:func:`workbook_lock`, its lock file removed afterwards (for a file that is not the
    master people work on, e.g. a backup copy being purged)."""
    try:
        with workbook_lock(workbook, timeout):
            yield
    finally:
        lock_path_for(workbook).unlink(missing_ok=True)
