"""«Nuevo periodo / archivar»: take closed records off the sheets; the ledger keeps them."""

from __future__ import annotations

import datetime as dt

from swat_xl.services.session import Session, WorkbookPort, run_operation


def archive(workbook: WorkbookPort, before: dt.date | None = None) -> dict[str, int]:
    """Archive records closed before ``before`` (all closed ones when None).

    Closed = a final ``Resultado``. Excluded records already exported to the online form are
    archived too. Open records always stay. Archived records still count in the indicator's
    history and in the live indicator of their period."""

    def body(session: Session) -> dict[str, int]:
        limit = (before or (session.now.date() + dt.timedelta(days=1))).isoformat()
        db = session.ledger.db
        closed = db.execute(
            "UPDATE records SET archived_at = ? WHERE archived_at = '' AND outcome != '' "
            "AND closed_at != '' AND substr(closed_at, 1, 10) < ?",
            (session.now.isoformat(), limit),
        ).rowcount
        excluded = db.execute(
            "UPDATE records SET archived_at = ? WHERE archived_at = '' AND exclusion != '' "
            "AND form_exported_at != '' AND substr(form_exported_at, 1, 10) < ?",
            (session.now.isoformat(), limit),
        ).rowcount
        remaining = db.execute("SELECT COUNT(*) FROM records WHERE archived_at = ''").fetchone()[0]
        session.summary = (
            f"{closed} gestionados y {excluded} no gestionables ya tipificados salieron de las "
            f"hojas; quedan {remaining}"
        )
        session.counts = {"archived": closed, "archived_excluded": excluded, "remaining": remaining}
        return dict(session.counts)

    return run_operation(workbook, "Archivar", body)
