"""How one operation runs in Python, whichever entry point starts it (the command line or a
ribbon button): without the cyclic garbage collector.

An operation is one short batch over large tables: the collector would rescan millions of
young objects over and over for next to no garbage (reference counting frees the rest). This
module imports nothing but the standard library: the command line enters it before it has
loaded the services' heavier modules (pandas among them)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the block, as it was after it (a process that serves the ribbon
    lives on between clicks: its collector runs again once the operation is over)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
