"""Create a master workbook, set its roster, assign and reassign."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from swat_xl.core.assignment import reassign
from swat_xl.core.config import Settings
from swat_xl.core.model import UNASSIGNED
from swat_xl.core.roster import parse_roster
from swat_xl.core.text import fold
from swat_xl.errors import InputError, RosterError
from swat_xl.services.assigning import assign_waiting
from swat_xl.services.operation import run_operation
from swat_xl.services.results import AssignResult, InitResult, ReassignResult, RosterResult
from swat_xl.services.session import Session
from swat_xl.services.unit_of_work import UnitOfWork, ledger_path_for


def init_workbook(
    uow: UnitOfWork, path: str | Path, *, roster_file: str | Path | None = None
) -> InitResult:
    """Create a new master workbook (and its ledger) at ``path``, the unit of work's workbook
    as the user named it."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError("El libro maestro debe terminar en .xlsx o .xlsm", file=path)
    if path.exists():
        raise InputError(
            "El libro ya existe; no se sobrescribe (elija otro nombre). Si lo que se perdió o "
            "dañó es su registro, recupere el libro y el registro de la última copia con "
            "«swat-xl restore -w LIBRO»",
            file=path,
        )
    if not path.parent.exists():
        raise InputError("La carpeta del libro no existe", file=path)
    agents = []
    if roster_file is not None:
        agents = parse_roster(uow.files.read_table(Path(roster_file)), source=str(roster_file))
    settings = Settings()
    ledger_existed = uow.ledgers.exists(ledger_path_for(path, settings))

    def body(session: Session) -> InitResult:
        session.summary = f"libro creado con {len(agents)} asesores"
        if ledger_existed:
            session.summary += "; se reconstruyó desde el registro existente"
        return InitResult(str(path), len(agents), str(ledger_path_for(path, settings)))

    return run_operation(
        uow,
        "Crear libro",
        body,
        settings=settings,
        agents=agents,
        create_ledger=True,
        sync_marks=False,
    )


def set_roster(uow: UnitOfWork, roster_file: str | Path) -> RosterResult:
    """Replace the Asesores sheet with a roster file (csv/xlsx); open work keeps its agents."""
    agents = parse_roster(uow.files.read_table(Path(roster_file)), source=str(roster_file))

    def body(session: Session) -> RosterResult:
        session.summary = (
            f"lista de asesores cargada desde «{Path(roster_file).name}» ({len(agents)})"
        )
        return RosterResult(len(agents))

    return run_operation(uow, "Cargar asesores", body, agents=agents)


def assign_pending(uow: UnitOfWork) -> AssignResult:
    """«Asignar y repartir»: place records still «Sin asignar» with the current roster."""

    def body(session: Session) -> AssignResult:
        decision = assign_waiting(session)
        placed = decision[decision != UNASSIGNED]
        result = AssignResult(
            assigned=len(placed),
            unassigned=int((decision == UNASSIGNED).sum()),
            by_agent={str(k): int(v) for k, v in placed.value_counts().sort_index().items()},
        )
        session.summary = f"{result.assigned} asignados, {result.unassigned} sin asignar"
        session.counts = {"assigned": result.assigned, "unassigned": result.unassigned}
        return result

    return run_operation(uow, "Asignar y repartir", body)


def reassign_agent(uow: UnitOfWork, from_agent: str, to_agent: str | None = None) -> ReassignResult:
    """Move an absent agent's open records to one agent, or balance them over the others.

    Names are recognised whatever their accents and case (``ana gomez`` is «Ana Gómez»)."""
    typed_from, typed_to = from_agent, to_agent

    def body(session: Session) -> ReassignResult:
        open_work = session.ledger.open_work()
        open_work["account"] = open_work["account"].where(
            open_work["account"] != "", open_work["custcode"]
        )
        known = {fold(a.name): a.name for a in session.agents}
        known.update({fold(name): str(name) for name in open_work["agent"].unique()})
        absent = known.get(fold(typed_from))
        if absent is None:
            names = ", ".join(f"«{a.name}»" for a in session.agents)
            raise RosterError(
                f"Asesor desconocido: «{typed_from}» no está en la lista de asesores ni tiene "
                f"registros (los asesores son: {names})"
            )
        mine = open_work[open_work["agent"].map(fold) == fold(absent)]
        if mine.empty:
            raise RosterError(
                f"El asesor «{absent}» está sin registros abiertos: no hay nada que reasignar"
            )
        from_agent = absent
        to_agent = None if typed_to is None else known.get(fold(typed_to), typed_to)
        others = [a for a in session.agents if fold(a.name) != fold(from_agent)]
        decision = reassign(open_work, from_agent, to_agent, session.agents)
        moved = {int(rid): agent for rid, agent in decision.items() if agent != UNASSIGNED}
        left = [int(rid) for rid, agent in decision.items() if agent == UNASSIGNED]
        session.ledger.set_assignments(
            moved,
            at=session.now,
            due_hours=session.settings.due_hours,
            reason=f"reasignación desde {from_agent}",
            operation_id=session.operation_id,
        )
        if left:
            session.ledger.unassign(left)
        by_agent = pd.Series(moved, dtype="object").value_counts().sort_index().to_dict()
        target = f"a «{to_agent}»" if to_agent else f"entre {len(others)} asesores"
        session.summary = f"{len(moved)} registros de «{from_agent}» reasignados {target}" + (
            f"; {len(left)} quedaron sin asignar" if left else ""
        )
        session.counts = {"moved": len(moved), "unassigned": len(left)}
        for agent, count in by_agent.items():
            session.event(f"{count} registros de «{from_agent}» pasaron a «{agent}»")
        return ReassignResult(
            len(moved), len(left), {str(k): int(v) for k, v in by_agent.items()}, from_agent
        )

    return run_operation(uow, "Reasignar asesor", body)
