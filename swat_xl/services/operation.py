"""Every operation, all or nothing: lock, sync the marks, run the use case, render, commit,
then install the new workbook.

If anything fails before the commit, the ledger rolls back and the workbook is untouched. If
the process dies between the commit and the install, the next operation draws the workbook
again from the ledger, so the two always end up in agreement. The ledger remembers the
fingerprints of the workbook the last operation read and wrote: marks are read again only from
a workbook someone has changed since (so a stale workbook never reverts the ledger, and an
unchanged one costs no re-reading).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from swat_xl.core.config import Settings
from swat_xl.core.model import Agent
from swat_xl.errors import SwatError
from swat_xl.services.copies import ensure_writable, ledger_snapshot_path
from swat_xl.services.marks import sync_from_workbook
from swat_xl.services.ports import Publication, WorkbookPort
from swat_xl.services.practices import sync_practice_log
from swat_xl.services.rendering import render
from swat_xl.services.session import Session
from swat_xl.services.sheets import is_pristine, read_agents, read_settings
from swat_xl.services.unit_of_work import UnitOfWork, ledger_path_for

T = TypeVar("T")


def run_operation(
    uow: UnitOfWork,
    command: str,
    body: Callable[[Session], T],
    *,
    settings: Settings | None = None,
    agents: list[Agent] | None = None,
    create_ledger: bool = False,
    sync_marks: bool = True,
    then: Callable[[T], T] | None = None,
) -> T:
    """Run ``body`` as one all-or-nothing operation on the unit of work's workbook. ``then``
    runs on its result once the new workbook is in place, still under the workbook's lock
    (what must follow the commit with no other operation in between); its result is returned."""
    workbook = uow.workbook
    early = settings if settings is not None else _settings_before_lock(workbook)
    # A read-only workbook, ledger or folder is refused before anything is read or changed.
    ensure_writable(workbook.path, what="libro")
    if early is not None:
        ensure_writable(ledger_path_for(workbook.path, early), what="registro")
    snapshot: Path | None = None
    try:
        with uow.locked(early):
            settings = settings if settings is not None else read_settings(workbook)
            agents = agents if agents is not None else read_agents(workbook)
            ledger_file = ledger_path_for(workbook.path, settings)
            ensure_writable(ledger_file, what="registro")
            # The shipped template has no ledger beside it: its first operation creates one.
            fresh = (
                not create_ledger and not uow.ledgers.exists(ledger_file) and is_pristine(workbook)
            )
            publication: Publication | None = None
            if settings.backups_to_keep > 0 and workbook.keeps_backups and workbook.path.exists():
                # The ledger as the workbook on disk was drawn from it, kept with the
                # workbook's backup copy (see WorkbookPort.publish).
                snapshot = ledger_snapshot_path(workbook.path, uuid.uuid4().hex)
            with uow.start(
                ledger_file, create=create_ledger or fresh, discard=fresh, copy_to=snapshot
            ):
                ledger = uow.ledger
                user, host = uow.identity()
                when = uow.clock()
                operation_id = ledger.start_operation(command, user=user, host=host, at=when)
                session = Session(workbook, ledger, settings, agents, when, operation_id, command)
                session.ledger_copy = snapshot
                if fresh:
                    session.warn(
                        f"Se creó un registro nuevo («{ledger_file.name}») junto al libro: es "
                        "la primera operación de este libro maestro. Consérvelo siempre junto "
                        "al libro"
                    )
                seen = workbook.fingerprint()
                if sync_marks and (seen is None or seen not in ledger.workbook_state()):
                    uow.progress("Leyendo las marcas del libro…")
                    sync_from_workbook(session)
                    sync_practice_log(session)
                result = body(session)
                if session.notices:
                    session.summary = "; ".join(filter(None, [session.summary, *session.notices]))
                ledger.finish_operation(
                    operation_id, summary=session.summary, counts=session.counts, at=when
                )
                notes: dict[str, Any] = {}
                if session.render:
                    uow.progress("Escribiendo el libro…")
                    publication, notes = render(session, seen, reuse=uow.reuse_sheets)
                ledger.set_workbook_state(
                    seen=seen,
                    written=publication.fingerprint if publication is not None else None,
                    at=when,
                    sheets=notes,
                )
                try:
                    uow.commit()
                except BaseException:
                    if publication is not None:
                        publication.discard()
                    raise
            if publication is not None:
                uow.progress("Guardando el libro…")
                publication.finish()
            return then(result) if then is not None else result
    finally:
        if snapshot is not None:
            snapshot.unlink(missing_ok=True)


def _settings_before_lock(workbook: WorkbookPort) -> Settings | None:
    """The Config sheet as it is now, only to know how long to wait for the lock."""
    try:
        return read_settings(workbook)
    except SwatError:  # reported properly once the lock is held
        return None
