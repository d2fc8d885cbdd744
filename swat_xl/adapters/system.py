"""The machine the tool runs on: its clock and its user."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket

from swat_xl.core.dates import parse_datetime


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
