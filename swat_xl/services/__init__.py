"""Use cases of swat_xl. The CLI and the ribbon macros call these and nothing else.

The use cases are imported on first use (PEP 562): a command loads only the modules it needs
(the indicator's refresh, say, never reads an export)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "import_cut": "swat_xl.services.importing",
    "assign_pending": "swat_xl.services.master",
    "init_workbook": "swat_xl.services.master",
    "reassign_agent": "swat_xl.services.master",
    "set_roster": "swat_xl.services.master",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
