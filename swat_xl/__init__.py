"""swat_xl: the SWAT detractores back-office of Almacontact, run from one Excel master workbook."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
