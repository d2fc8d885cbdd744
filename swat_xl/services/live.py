"""The master workbook open in Excel, as the services see it (the ribbon's workbook).

Excel owns the file: nothing is replaced on disk. :meth:`LiveMaster.publish` checks the book
can take the new content before the ledger commits; the ``finish()`` it returns draws into the
open book and saves it, so the file on disk and the ledger agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from swat_xl.adapters.xlwings_live import LiveWorkbook
from swat_xl.workbook import labels as L
from swat_xl.workbook.spec import Sheet, WorkbookSpec

if TYPE_CHECKING:
    from swat_xl.services.session import Session


class LiveMaster:
    """Implements :class:`~swat_xl.services.session.WorkbookPort` over an ``xlwings.Book``."""

    def __init__(self, book: Any, *, progress: Callable[[str], None] | None = None) -> None:
        self.live = LiveWorkbook(book)
        self.path = self.live.path
        self.say = progress or (lambda _text: None)

    @property
    def problems(self) -> list[str]:
        """Spanish notes about best-effort parts that could not be drawn (e.g. the chart)."""
        return self.live.problems

    def refresh(self) -> None:
        """Forget what was read (called once the operation holds the lock)."""
        self.live.refresh()

    def sheet_names(self) -> list[str]:
        return self.live.sheet_names()

    def rows(self, sheet: str) -> list[list[Any]]:
        return self.live.rows(sheet)

    def header(self, sheet: str) -> list[Any]:
        return self.live.header(sheet)

    def user_sheet(self, name: str) -> Sheet:
        return self.live.user_sheet(name)

    def stale_agent_sheets(self, spec: WorkbookSpec) -> list[str]:
        """Agent sheets the spec no longer has (their marks were synced by this operation)."""
        from swat_xl.services.marks import is_agent_header

        keep = {sheet.name.casefold() for sheet in spec.sheets}
        return [
            name
            for name in self.sheet_names()
            if name.casefold() not in keep
            and name not in L.OWNED_SHEETS
            and is_agent_header(self.header(name))
        ]

    def publish(self, spec: WorkbookSpec, session: Session) -> Callable[[], None]:
        plan = self.live.prepare(spec, delete=self.stale_agent_sheets(spec))

        def finish() -> None:
            self.say("Dibujando las hojas en Excel…")
            self.live.draw(plan)
            self.say("Guardando el libro…")
            self.live.save()

        return finish
