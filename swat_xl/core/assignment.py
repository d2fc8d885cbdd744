"""Assignment of records to agents: sticky by customer, balanced by open workload.

Rules (the same for :func:`assign` and the balanced form of :func:`reassign`):

* An agent is *eligible* for a record when ``agent.can_take(segment)`` (active, profile covers).
* An agent *has room* while its open load is below its capacity (``None`` = no limit). The open
  load is the number of open records it holds (``open_work``) plus what this call gave it.
  Capacity is never exceeded.
* **Sticky**: the agents already holding the record's account (in open work or earlier in the
  same batch), then those holding its ANI, are tried in that order (each in order of first
  appearance); the first that is eligible and has room gets the record. Blank accounts and ANIs
  never match.
* **Balanced** otherwise: the eligible agent with room and the least open load; ties go to the
  agent listed first in the roster.
* Nobody eligible with room: :data:`~swat_xl.core.model.UNASSIGNED`.

Everything is deterministic. Agent names are matched ignoring case and accents, so open work
recorded under ``"maria perez"`` counts for the roster's ``"María Pérez"``.
"""

from __future__ import annotations

import heapq
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

from swat_xl.core.model import UNASSIGNED, Agent
from swat_xl.core.roster import PROFILE_LABELS, SEGMENT_LABELS
from swat_xl.core.text import clean_code, fold
from swat_xl.errors import RosterError


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    """A column as stripped strings; missing column, ``None`` or ``NaN`` -> ``""``."""
    if column not in frame.columns:
        return [""] * len(frame)
    return [
        value.strip() if isinstance(value, str) else clean_code(value)
        for value in frame[column].tolist()
    ]


def _customer_codes(
    open_work: pd.DataFrame, new: pd.DataFrame, column: str
) -> tuple[list[int], list[int], int]:
    """Integer codes of an account/ANI column shared by both frames (blank -> -1) and their count.

    Codes turn the per-record customer look-ups into list indexing instead of string hashing.
    """
    values = np.array(_texts(open_work, column) + _texts(new, column), dtype=object)
    codes, uniques = pd.factorize(values)
    for blank in np.flatnonzero(uniques == ""):
        codes[codes == blank] = -1
    n_open = len(open_work)
    return codes[:n_open].tolist(), codes[n_open:].tolist(), len(uniques)


def _segments(frame: pd.DataFrame) -> list[str]:
    raw = _texts(frame, "segment")
    cache = {value: fold(value) for value in set(raw)}
    return [cache[value] for value in raw]


def _roster(agents: Sequence[Agent]) -> tuple[list[Agent], dict[str, int]]:
    """Agents without repeated names (first kept) and folded name -> roster index."""
    kept: list[Agent] = []
    index: dict[str, int] = {}
    for agent in agents:
        key = fold(agent.name)
        if key and key not in index:
            index[key] = len(kept)
            kept.append(agent)
    return kept, index


def _sticky(code: int, first: list[int], more: dict[int, list[int]], avail: list[bool]) -> int:
    """The first holder of ``code`` (account or ANI) that can take one more record, or -1."""
    holder = first[code]
    if holder < 0:
        return -1
    if avail[holder]:
        return holder
    for i in more.get(code, ()):
        if avail[i]:
            return i
    return -1


def _assign(
    new: pd.DataFrame,
    open_work: pd.DataFrame,
    agents: Sequence[Agent],
    excluded: int | None = None,
) -> list[str]:
    """Agent name (or ``UNASSIGNED``) of each row of ``new``; ``excluded`` is a roster index."""
    roster, by_key = _roster(agents)
    n_agents = len(roster)
    names = [agent.name for agent in roster]
    limit = [sys.maxsize if agent.capacity is None else agent.capacity for agent in roster]
    segments = _segments(new)
    open_accounts, new_accounts, n_accounts = _customer_codes(open_work, new, "account")
    open_anis, new_anis, n_anis = _customer_codes(open_work, new, "ani")

    # Customer holders: the first agent holding an account/ANI, plus later holders (rare).
    account_first = [-1] * n_accounts
    account_more: dict[int, list[int]] = {}
    ani_first = [-1] * n_anis
    ani_more: dict[int, list[int]] = {}

    def hold(first: list[int], more: dict[int, list[int]], code: int, agent: int) -> None:
        holder = first[code]
        if holder < 0:
            first[code] = agent
        elif holder != agent:
            extra = more.setdefault(code, [])
            if agent not in extra:
                extra.append(agent)

    # Open load and holders from the open work; agents not in the roster count nowhere.
    load = [0] * n_agents
    owner_index: dict[object, int] = {}
    owners = open_work["agent"].tolist() if "agent" in open_work.columns else []
    for raw, account, ani in zip(owners, open_accounts, open_anis, strict=True):
        idx = owner_index.get(raw)
        if idx is None:
            idx = -1 if raw == UNASSIGNED else by_key.get(fold(raw), -1)
            owner_index[raw] = idx
        if idx < 0:
            continue
        load[idx] += 1
        if account >= 0:
            hold(account_first, account_more, account, idx)
        if ani >= 0:
            hold(ani_first, ani_more, ani, idx)

    # Per distinct segment value: ``available[i]`` (eligible and with room) and a lazy min-heap of
    # ``load * n + i`` (least load first, then roster order). An entry is current when it equals
    # ``key[i]``; entries left behind when an agent's load grows are dropped when they surface.
    n = max(n_agents, 1)
    key = [load[i] * n + i for i in range(n_agents)]
    available: dict[str, list[bool]] = {}
    heaps: dict[str, list[int]] = {}
    members: list[list[tuple[list[int], list[bool]]]] = [[] for _ in range(n_agents)]
    for segment in dict.fromkeys(segments):
        flags = [agent.can_take(segment) and i != excluded for i, agent in enumerate(roster)]
        avail = [flags[i] and load[i] < limit[i] for i in range(n_agents)]
        heap = [key[i] for i in range(n_agents) if avail[i]]
        heapq.heapify(heap)
        available[segment] = avail
        heaps[segment] = heap
        for i in range(n_agents):
            if flags[i]:
                members[i].append((heap, avail))

    result: list[str] = []
    append = result.append
    heappush = heapq.heappush
    heappop = heapq.heappop
    for segment, account, ani in zip(segments, new_accounts, new_anis, strict=True):
        avail = available[segment]
        chosen = -1
        # Sticky: account holders first, then ANI holders.
        if account >= 0:
            chosen = _sticky(account, account_first, account_more, avail)
        if chosen < 0 and ani >= 0:
            chosen = _sticky(ani, ani_first, ani_more, avail)
        # Balanced: least open load, then roster order.
        if chosen < 0:
            heap = heaps[segment]
            while heap:
                top = heap[0]
                i = top % n
                if top == key[i]:
                    chosen = i
                    break
                heappop(heap)  # stale: the agent's load grew since this entry was pushed
            if chosen < 0:
                append(UNASSIGNED)
                continue
        # Book the record.
        load[chosen] += 1
        new_key = key[chosen] + n
        key[chosen] = new_key
        if load[chosen] < limit[chosen]:
            for heap, _ in members[chosen]:
                heappush(heap, new_key)
        else:
            for _, avail_of in members[chosen]:
                avail_of[chosen] = False
        append(names[chosen])
        if account >= 0:
            holder = account_first[account]
            if holder < 0:
                account_first[account] = chosen
            elif holder != chosen:
                hold(account_first, account_more, account, chosen)
        if ani >= 0:
            holder = ani_first[ani]
            if holder < 0:
                ani_first[ani] = chosen
            elif holder != chosen:
                hold(ani_first, ani_more, ani, chosen)
    return result


def _result(record_ids: list[object], agents: list[str]) -> pd.Series:
    return pd.Series(
        agents, index=pd.Index(record_ids, name="record_id"), name="agent", dtype=object
    )


def assign(new: pd.DataFrame, open_work: pd.DataFrame, agents: Sequence[Agent]) -> pd.Series:
    """Agent (or ``UNASSIGNED``) of each new record, indexed by ``new.record_id`` in its order.

    ``new`` has ``record_id``, ``segment``, ``account``, ``ani``; ``open_work`` has ``record_id``,
    ``agent``, ``segment``, ``account``, ``ani`` (the records still open, with their agent).
    Neither frame is modified; only the new records get an agent.
    """
    record_ids = new["record_id"].tolist()
    if len(set(record_ids)) != len(record_ids):
        raise ValueError("assign: new.record_id must be unique")
    return _result(record_ids, _assign(new, open_work, agents))


def _owner_keys(open_work: pd.DataFrame) -> pd.Series:
    """Folded agent name of each open record (computed once per distinct name)."""
    owners = open_work["agent"]
    cache = {value: fold(value) for value in owners.unique()}
    return owners.map(cache).astype(object)


def reassign(
    open_work: pd.DataFrame,
    from_agent: str,
    to_agent: str | None,
    agents: Sequence[Agent],
) -> pd.Series:
    """New agent of each open record of ``from_agent``, indexed by ``record_id`` (open-work order).

    With ``to_agent`` every record goes to that agent, which must be in the roster, active, able
    to take every record's segment and have room for them all (else :class:`RosterError`).
    Without it the records are spread over the other agents exactly like :func:`assign`
    (``from_agent`` is not eligible; capacity, balance and stickiness apply), possibly leaving
    some ``UNASSIGNED``. A roster agent with no open records gives an empty Series.
    """
    roster, by_key = _roster(agents)
    from_key = fold(from_agent)
    owner_keys = _owner_keys(open_work)
    mask = (owner_keys == from_key).to_numpy(dtype=bool)
    moved = open_work[mask]
    kept = open_work[~mask]
    record_ids = moved["record_id"].tolist()
    if not record_ids:
        if from_key in by_key:
            return _result([], [])
        raise RosterError(f"El asesor «{from_agent}» no tiene registros abiertos")

    if to_agent is None:
        return _result(record_ids, _assign(moved, kept, roster, excluded=by_key.get(from_key)))

    to_key = fold(to_agent)
    if to_key not in by_key:
        raise RosterError(f"El asesor «{to_agent}» no está en la lista de asesores")
    target = roster[by_key[to_key]]
    if to_key == from_key:
        raise RosterError(f"No se puede reasignar al mismo asesor «{target.name}»")
    if not target.active:
        raise RosterError(f"El asesor «{target.name}» no está activo")
    refused = [segment for segment in _segments(moved) if not target.can_take(segment)]
    if refused:
        by_segment = {segment: refused.count(segment) for segment in dict.fromkeys(refused)}
        detail = ", ".join(
            f"{count} del segmento {SEGMENT_LABELS.get(segment, segment or 'sin segmento')}"
            for segment, count in by_segment.items()
        )
        raise RosterError(
            f"El asesor «{target.name}» (perfil {PROFILE_LABELS[target.profile]}) no puede tomar "
            f"{len(refused)} de los {len(record_ids)} registros abiertos de «{from_agent}» "
            f"({detail})"
        )
    if target.capacity is not None:
        held = int((owner_keys[~mask] == to_key).sum())
        room = max(target.capacity - held, 0)
        if len(record_ids) > room:
            raise RosterError(
                f"El asesor «{target.name}» tiene capacidad {target.capacity} y ya tiene {held} "
                f"registros abiertos: no puede recibir los {len(record_ids)} de «{from_agent}» "
                f"(le caben {room})"
            )
    return _result(record_ids, [target.name] * len(record_ids))
