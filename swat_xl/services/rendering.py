"""Drawing the master from the ledger, and what decides which sheets may be copied as they are.

The sheets drawn from the records alone are keyed on :func:`records_key`: when the workbook
being rewritten is the one the last operation wrote and the key is unchanged, those sheets are
copied from it instead of drawn again.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from swat_xl.core.config import settings_to_rows
from swat_xl.core.kpi import USED_COLUMNS
from swat_xl.services.ports import Publication
from swat_xl.services.reporting import kpi_report
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
) -> MasterState:
    """What the master shows now. Sheets in ``reuse`` are copied from the current workbook:
    when they are all the sheets drawn from the records, only the indicator's columns of the
    records are read."""
    ledger = session.ledger
    narrow = bool(reuse)
    records = ledger.records(columns=USED_COLUMNS) if narrow else ledger.records()
    cuts = ledger.cuts()
    # Every operation leaves an up-to-date Indicador (detail and chart), not only «kpi».
    report = session.kpi_report
    if report is None:
        report = kpi_report(session, records, cuts)
    return MasterState(
        settings=session.settings,
        agents=session.agents,
        records=records,
        reuse=reuse,
        full_records=ledger.records if narrow else None,
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
    written sheets, so the next rewrite knows which it may copy as they are."""
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
    copied_records = (
        frozenset(stored)
        if ours and notes.get("key") == key and stored <= can_copy
        else frozenset()
    )
    state = master_state(session, user_sheets, xlwings_conf(workbook), copied_records)
    spec = build_master(state)
    publication = workbook.publish(
        spec,
        backups_to_keep=session.settings.backups_to_keep,
        now=session.now,
        ledger_copy=session.ledger_copy,
    )
    drawn_from_records = [sheet.name for sheet in spec.sheets if sheet.role in RECORD_ROLES]
    copied = sorted(sheet.name for sheet in spec.sheets if sheet.reused)
    return publication, {
        "key": key,
        "records": drawn_from_records,
        "user": user_names,
        "reused": copied,  # for the record (and the tests): what this rewrite copied
    }


def records_key(session: Session, user_sheets: list[str]) -> str:
    """What the sheets drawn from the records depend on: the records (their revision), the
    settings, the roster, the names other sheets take, and this version of the code."""
    roster = [(a.name, str(a.profile), a.active, a.capacity) for a in session.agents]
    inputs = [
        render_version(),
        session.ledger.records_revision(),
        [list(map(str, row)) for row in settings_to_rows(session.settings)],
        roster,
        user_sheets,
    ]
    return hashlib.sha256(json.dumps(inputs, default=str).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def render_version() -> str:
    """A digest of this package's code and of the writer's version: a sheet written by other
    code is never taken as what this code would write."""
    digest = hashlib.sha256(f"xlsxwriter {metadata.version('xlsxwriter')}".encode())
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
