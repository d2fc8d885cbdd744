"""Assignment inside an operation: place every open, unplaced, manageable record."""

from __future__ import annotations

import pandas as pd

from swat_xl.core.assignment import assign
from swat_xl.core.model import UNASSIGNED
from swat_xl.core.roster import check_coverage
from swat_xl.services.ports import NewRecordsPort
from swat_xl.services.session import Session


def assign_waiting(
    session: Session, reason: str = "asignación", incoming: NewRecordsPort | None = None
) -> pd.Series:
    """Assign manageable records that have no agent yet (new ones and earlier «Sin asignar»).

    ``incoming``: a cut's records not inserted yet; they are assigned with the others, after
    them, and inserted already assigned (each record written once, not inserted and then
    updated). Returns the decision per record id (agent name or ``UNASSIGNED``)."""
    ledger = session.ledger
    waiting = ledger.waiting_records()
    if incoming is not None:
        arriving = incoming.waiting()
        waiting = arriving if waiting.empty else pd.concat([waiting, arriving], ignore_index=True)
    if waiting.empty:
        if incoming is not None:
            ledger.insert_records(incoming)
        return pd.Series(dtype="object")
    waiting["account"] = waiting["account"].where(waiting["account"] != "", waiting["custcode"])
    open_work = ledger.open_work()
    open_work["account"] = open_work["account"].where(
        open_work["account"] != "", open_work["custcode"]
    )
    for warning in check_coverage(session.agents, set(waiting["segment"].unique())):
        session.warn(warning)
    decision = assign(waiting, open_work, session.agents)
    placed = {int(rid): agent for rid, agent in decision.items() if agent != UNASSIGNED}
    how = {
        "at": session.now,
        "due_hours": session.settings.due_hours,
        "reason": reason,
        "operation_id": session.operation_id,
    }
    if incoming is None:
        ledger.set_assignments(placed, **how)
        return decision
    ledger.set_assignments({r: a for r, a in placed.items() if r < incoming.start}, **how)
    ledger.insert_records(incoming, {r: a for r, a in placed.items() if r >= incoming.start}, **how)
    return decision
