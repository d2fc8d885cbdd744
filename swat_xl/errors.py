"""The one exception hierarchy of swat_xl.

``str(error)`` is the Spanish message a user reads; context lives in attributes.
Only the entry points (``swat_xl.cli`` and ``swat_xl.macros``) catch these.

    SwatError
    ├── InputError            bad input from the user: nothing was changed
    │   ├── ExportError       the Power BI export cannot be used
    │   ├── RosterError       the agents' roster is invalid
    │   ├── ConfigError       a value of the Config sheet is invalid
    │   └── CollectError      an agent workbook cannot be collected
    ├── WorkbookError         the master workbook cannot be read or written
    │   └── WorkbookOpenError the workbook is open in Excel (lock file beside it)
    ├── LedgerError           the SQLite ledger is unusable
    ├── BusyError             another operation holds the workbook
    └── BundleError           the offline installation bundle could not be made
"""

from __future__ import annotations

from pathlib import Path


class SwatError(Exception):
    """Error de swat_xl."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(f"archivo «{self.file}»")
        if self.sheet:
            where.append(f"hoja «{self.sheet}»")
        if self.row is not None:
            where.append(f"fila {self.row}")
        if self.column:
            where.append(f"columna «{self.column}»")
        if not where:
            return self.message
        return f"{self.message} ({', '.join(where)})"


class InputError(SwatError):
    """La entrada no es válida; no se modificó nada."""


class ExportError(InputError):
    """El archivo exportado de Power BI no se puede usar."""


class RosterError(InputError):
    """La lista de asesores no es válida."""


class ConfigError(InputError):
    """Un valor de la hoja Config no es válido."""


class CollectError(InputError):
    """Un libro de asesor no se puede recoger."""


class WorkbookError(SwatError):
    """El libro maestro no se puede leer o escribir."""

    exit_code = 3


class WorkbookOpenError(WorkbookError):
    """El libro está abierto en Excel."""


class LedgerError(SwatError):
    """El registro SQLite no se puede usar."""

    exit_code = 4


#: What a damaged ledger is reported as, wherever the damage is found.
LEDGER_DAMAGED = (
    "El registro SQLite del libro está dañado (no es una base de datos válida); no se cambió "
    "nada. Recupere el libro y su registro de la última copia de seguridad con "
    "«swat-xl restore -w LIBRO»"
)


class BusyError(SwatError):
    """Otra operación está usando el libro."""

    exit_code = 5


class BundleError(SwatError):
    """No se pudo preparar el paquete de instalación sin Internet."""

    exit_code = 6
