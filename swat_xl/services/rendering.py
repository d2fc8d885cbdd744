"""Drawing the master from the ledger, and what decides which sheets may be copied as they are.

The sheets drawn from the records alone are keyed on :func:`records_key`: when the workbook
being rewritten is the one the last operation wrote and the key is unchanged, those sheets are
copied from it instead of drawn again. Otherwise each of them is keyed on a digest of what it
shows (``layout.sheet_key``): one whose digest is unchanged is copied from the tool's own copy
of the last workbook it wrote, whoever saved the workbook since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from swat_xl.core.kpi import USED_COLUMNS
from swat_xl.services.ports import Publication
from swat_xl.services.reporting import archived_share, code_and_settings, current_report
from swat_xl.services.session import Session
from swat_xl.services.sheets import collect_user_sheets, xlwings_conf
from swat_xl.workbook.layout import build_master
from swat_xl.workbook.spec import Sheet
from swat_xl.workbook.state import RECORD_ROLES, MasterState


def master_state(
    session: Session,
    user_sheets: list[Sheet],
    xlwings_conf: Any = (),
    reuse: frozenset[str] = frozenset(),
    *,
    sheet_keys: dict[str, str] | None = None,
    context: str = "",
) -> MasterState:
    """What the master shows now. Sheets in ``reuse`` are copied from the current workbook.
    Of the records, the indicator's columns are read of those not archived; the archived
    ones count in the indicator only, through the part of it the ledger keeps
    (:func:`~swat_xl.services.reporting.archived_share`); every column only of the records
    the sheets draw."""
    ledger = session.ledger
    live_records: Callable[[], pd.DataFrame]
    if reuse:
        records = ledger.records(columns=USED_COLUMNS, include_archived=False)
        live_records = lambda: ledger.records(include_archived=False)  # noqa: E731
    else:  # the sheets of records are drawn: every column is read, once
        every = ledger.records(include_archived=False)
        records = every[list(USED_COLUMNS)]  # what a read of just those gives
        live_records = lambda: every  # noqa: E731
    cuts = ledger.cuts()
    # Every operation leaves an up-to-date Indicador (detail and chart), not only «kpi».
    report = session.kpi_report
    if report is None:
        report, archived = current_report(session, records, cuts)
    else:
        archived = archived_share(session, cuts)
    return MasterState(
        settings=session.settings,
        agents=session.agents,
        records=records,
        archived=archived,
        reuse=reuse,
        live_records=live_records,
        sheet_keys=sheet_keys or {},
        key_context=context,
        cuts=cuts,
        operations=ledger.operations(),
        events=ledger.events(),
        practice_log=ledger.practice_log(),
        now=session.now,
        user_sheets=user_sheets,
        xlwings_conf=xlwings_conf,
        last_summary=f"{session.now:%d/%m/%Y %H:%M} · {session.command}: {session.summary}",
        kpi=report,
    )


def render(
    session: Session, seen: str | None, *, reuse: bool = True
) -> tuple[Publication, dict[str, Any]]:
    """Draw the master and prepare its publication; also the notes the ledger keeps about the
    written sheets, so the next rewrite knows which it may copy as they are.

    Two ways to copy instead of drawing: when the workbook on disk is the one the tool wrote
    and the records have not changed since, every sheet drawn from the records is copied from
    it ("reused"); otherwise each such sheet whose content is what it was when the tool last
    wrote it is copied from the tool's own copy of that workbook ("kept"), so a workbook saved
    by someone, or a new cut, redraws only the sheets whose content changed."""
    workbook = session.workbook
    written, notes = session.ledger.written_sheets()
    ours = seen is not None and seen == written and reuse
    can_copy = workbook.reusable_sheets() if ours else set()
    stored_users = notes.get("user")
    if ours and isinstance(stored_users, list) and set(stored_users) <= can_copy:
        user_sheets = [Sheet(str(name), role="user", reused=True) for name in stored_users]
    else:
        user_sheets = collect_user_sheets(workbook, session.ledger)
    user_names = [sheet.name for sheet in user_sheets]
    key = records_key(session, user_names)
    stored = {str(name) for name in notes.get("records", [])}
    stored_keys = notes.get("sheet_keys")
    stored_keys = stored_keys if isinstance(stored_keys, dict) else {}
    copy_from = "workbook"
    sheet_keys: dict[str, str] = {}
    context = ""
    if ours and notes.get("key") == key and stored <= can_copy:
        copied_records = frozenset(stored)
    else:
        copied_records = frozenset()
        context = sheets_context(session)
        in_copy = (
            workbook.written_copy_sheets(written) if reuse and written and stored_keys else set()
        )
        if in_copy and {s.name for s in user_sheets if s.reused} <= in_copy:
            # the user's sheets are copied from there too: the same bytes, the copy being the
            # workbook on disk when they are copied at all
            copy_from = "written"
            sheet_keys = {str(k): str(v) for k, v in stored_keys.items() if k in in_copy}
    state = master_state(
        session,
        user_sheets,
        xlwings_conf(workbook),
        copied_records,
        sheet_keys=sheet_keys,
        context=context,
    )
    spec = build_master(state)
    spec.copy_from = copy_from
    drawn = notes.get("drawn")
    publication = workbook.publish(
        spec,
        backups_to_keep=session.settings.backups_to_keep,
        now=session.now,
        ledger_copy=session.ledger_copy,
        drawn=drawn if isinstance(drawn, dict) and reuse else None,
    )
    drawn_from_records = [sheet.name for sheet in spec.sheets if sheet.role in RECORD_ROLES]
    copied = sorted(sheet.name for sheet in spec.sheets if sheet.reused)
    kept = [name for name in copied if name in sheet_keys]
    keys = (
        dict(spec.sheet_keys)
        if context
        else {name: stored_keys[name] for name in drawn_from_records if name in stored_keys}
    )
    return publication, {
        "key": key,
        "records": drawn_from_records,
        "user": user_names,
        # for the record (and the tests): what this rewrite copied from the workbook, and
        # what it copied from the tool's copy of the last workbook it wrote
        "reused": [name for name in copied if name not in kept],
        "kept": kept,
        "sheet_keys": keys,
        # what the writer noted about the sheets it draws (Excel: the rows of each sheet of
        # records, so that the next draw writes only the rows that changed)
        "drawn": dict(publication.drawn),
    }


def sheets_context(session: Session) -> str:
    """What each sheet drawn from the records depends on besides its own records and its
    name: this version of the code and the settings."""
    return code_and_settings(session.settings)


def records_key(session: Session, user_sheets: list[str]) -> str:
    """What the sheets drawn from the records depend on: the records (their revision), the
    settings, the roster, the names other sheets take, and this version of the code."""
    roster = [(a.name, str(a.profile), a.active, a.capacity) for a in session.agents]
    inputs = [sheets_context(session), session.ledger.records_revision(), roster, user_sheets]
    return hashlib.sha256(json.dumps(inputs, default=str).encode("utf-8")).hexdigest()
