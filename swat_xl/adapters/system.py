"""The machine the tool runs on: its clock, its user and where an unexpected error is logged."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import traceback
from collections.abc import Iterable
from pathlib import Path

from swat_xl.core.dates import parse_datetime
from swat_xl.core.text import mask_digits


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


def log_current_error(folders: Iterable[Path], name: str, heading: str) -> Path | None:
    """Append the exception being handled (its traceback, phones and other long numbers
    masked) under ``heading`` to the file ``name`` in the first of ``folders`` that takes it;
    where it went, or None."""
    entry = (
        f"--- {dt.datetime.now():%Y-%m-%d %H:%M:%S} · {heading}\n"
        f"{mask_digits(traceback.format_exc())}\n"
    )
    for folder in folders:
        log = folder / name
        try:
            with log.open("a", encoding="utf-8") as handle:
                handle.write(entry)
        except OSError:
            continue
        return log
    return None
