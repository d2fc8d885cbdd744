"""«Nuevo periodo / archivar»: take closed records off the sheets; the ledger keeps them."""

from __future__ import annotations

import datetime as dt

from swat_xl.services.operation import run_operation
from swat_xl.services.results import ArchiveResult
from swat_xl.services.session import Session
from swat_xl.services.unit_of_work import UnitOfWork


def archive(uow: UnitOfWork, before: dt.date | None = None) -> ArchiveResult:
    """Archive records closed before ``before`` (all closed ones when None).

    Closed = a final ``Resultado``. Excluded records already exported to the online form are
    archived too. Open records always stay. Archived records still count in the indicator's
    history and in the live indicator of their period."""

    def body(session: Session) -> ArchiveResult:
        limit = before or (session.now.date() + dt.timedelta(days=1))
        closed, excluded, remaining = session.ledger.archive(limit, session.now)
        session.summary = (
            f"{closed} gestionados y {excluded} no gestionables ya tipificados salieron de las "
            f"hojas; quedan {remaining}"
        )
        session.counts = {"archived": closed, "archived_excluded": excluded, "remaining": remaining}
        return ArchiveResult(closed, excluded, remaining)

    return run_operation(uow, "Archivar", body)
