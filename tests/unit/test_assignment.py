"""Assignment and reassignment: unit tests per rule, then property tests against a naive oracle."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swat_xl.core.assignment import assign, reassign
from swat_xl.core.model import SEGMENTS, UNASSIGNED, Agent, Profile
from swat_xl.errors import RosterError

H, M, A = Profile.HOGAR, Profile.MOVIL, Profile.AMBOS
NEW_COLUMNS = ["record_id", "segment", "account", "ani"]
OPEN_COLUMNS = ["record_id", "agent", "segment", "account", "ani"]


def new_frame(rows: Sequence[tuple[object, ...]], start: int = 1000) -> pd.DataFrame:
    """Rows ``(segment, account, ani)`` or ``(record_id, segment, account, ani)``."""
    full = [row if len(row) == 4 else (start + i, *row) for i, row in enumerate(rows)]
    return pd.DataFrame(full, columns=NEW_COLUMNS)


def open_frame(rows: Sequence[tuple[object, ...]], start: int = 1) -> pd.DataFrame:
    """Rows ``(agent, segment, account, ani)`` or with a leading ``record_id``."""
    full = [row if len(row) == 5 else (start + i, *row) for i, row in enumerate(rows)]
    return pd.DataFrame(full, columns=OPEN_COLUMNS)


NO_OPEN = open_frame([])


def hogar(n: int) -> pd.DataFrame:
    return new_frame([("hogar", "", "")] * n)


# --- shape ----------------------------------------------------------------------------------


def test_result_is_indexed_by_record_id_in_input_order() -> None:
    new = new_frame([(30, "hogar", "", ""), (10, "movil", "", ""), (20, "hogar", "", "")])
    result = assign(new, NO_OPEN, [Agent("Ana", A)])
    assert list(result.index) == [30, 10, 20]
    assert result.index.name == "record_id"
    assert list(result) == ["Ana"] * 3


def test_empty_batch_and_empty_roster() -> None:
    assert assign(new_frame([]), NO_OPEN, [Agent("Ana", A)]).empty
    assert list(assign(hogar(2), NO_OPEN, [])) == [UNASSIGNED] * 2


def test_inputs_are_not_modified() -> None:
    new = new_frame([("hogar", "c1", "p1"), ("movil", "", "p2")])
    open_work = open_frame([("Ana", "hogar", "c1", "p1")])
    new_copy, open_copy = new.copy(), open_work.copy()
    assign(new, open_work, [Agent("Ana", A), Agent("Luis", A)])
    pd.testing.assert_frame_equal(new, new_copy)
    pd.testing.assert_frame_equal(open_work, open_copy)


def test_duplicate_record_ids_are_rejected() -> None:
    with pytest.raises(ValueError):
        assign(new_frame([(1, "hogar", "", ""), (1, "hogar", "", "")]), NO_OPEN, [Agent("a", A)])


# --- eligibility ----------------------------------------------------------------------------


def test_profile_and_active_decide_eligibility() -> None:
    agents = [Agent("Hogar", H), Agent("Movil", M), Agent("Baja", A, active=False)]
    new = new_frame([("hogar", "", ""), ("movil", "", ""), ("hogar", "", ""), ("movil", "", "")])
    assert list(assign(new, NO_OPEN, agents)) == ["Hogar", "Movil", "Hogar", "Movil"]


def test_no_eligible_agent_leaves_records_unassigned() -> None:
    agents = [Agent("Hogar", H), Agent("Baja", M, active=False)]
    new = new_frame([("movil", "", ""), ("hogar", "", "")])
    assert list(assign(new, NO_OPEN, agents)) == [UNASSIGNED, "Hogar"]


def test_segment_text_is_folded() -> None:
    new = new_frame([(" Móvil ", "", ""), ("HOGAR", "", "")])
    assert list(assign(new, NO_OPEN, [Agent("M", M), Agent("H", H)])) == ["M", "H"]


# --- balance --------------------------------------------------------------------------------


def test_round_robin_in_roster_order_when_loads_are_equal() -> None:
    agents = [Agent("c", A), Agent("a", A), Agent("b", A)]
    assert list(assign(hogar(7), NO_OPEN, agents)) == ["c", "a", "b", "c", "a", "b", "c"]


def test_open_load_is_balanced_first() -> None:
    agents = [Agent("a", A), Agent("b", A), Agent("c", A)]
    open_work = open_frame([("a", "hogar", "", ""), ("a", "movil", "", ""), ("c", "hogar", "", "")])
    # loads a=2 b=0 c=1 -> b, then b/c tie -> b (roster order), then c, then a/b/c tie -> a
    assert list(assign(hogar(4), open_work, agents)) == ["b", "b", "c", "a"]


def test_load_counts_every_segment() -> None:
    agents = [Agent("ambos", A), Agent("hogar", H)]
    open_work = open_frame([("ambos", "movil", "", "")] * 3)
    assert list(assign(hogar(4), open_work, agents)) == ["hogar", "hogar", "hogar", "ambos"]


def test_open_work_names_match_ignoring_case_and_accents() -> None:
    agents = [Agent("María Pérez", A), Agent("Luis", A)]
    open_work = open_frame([("maria perez", "hogar", "", "")] * 2)
    assert list(assign(hogar(2), open_work, agents)) == ["Luis", "Luis"]


def test_open_work_of_unknown_agents_and_unassigned_rows_is_ignored() -> None:
    agents = [Agent("a", A), Agent("b", A)]
    open_work = open_frame([("Retirado", "hogar", "c1", ""), (UNASSIGNED, "hogar", "c2", "")])
    new = new_frame([("hogar", "c1", ""), ("hogar", "c2", ""), ("hogar", "", "")])
    assert list(assign(new, open_work, agents)) == ["a", "b", "a"]


# --- capacity -------------------------------------------------------------------------------


def test_capacity_is_never_exceeded() -> None:
    agents = [Agent("a", A, capacity=1), Agent("b", A, capacity=2), Agent("c", A, capacity=0)]
    assert list(assign(hogar(5), NO_OPEN, agents)) == ["a", "b", "b", UNASSIGNED, UNASSIGNED]


def test_open_work_counts_against_capacity() -> None:
    agents = [Agent("a", A, capacity=2), Agent("b", A, capacity=3)]
    open_work = open_frame([("a", "hogar", "", ""), ("b", "movil", "", ""), ("b", "hogar", "", "")])
    assert list(assign(hogar(3), open_work, agents)) == ["a", "b", UNASSIGNED]


def test_agent_already_over_capacity_gets_nothing() -> None:
    agents = [Agent("a", A, capacity=1), Agent("b", A)]
    open_work = open_frame([("a", "hogar", "c1", "")] * 3)
    new = new_frame([("hogar", "c1", ""), ("hogar", "", "")])
    assert list(assign(new, open_work, agents)) == ["b", "b"]


# --- stickiness -----------------------------------------------------------------------------


def test_account_in_open_work_sticks_to_its_agent_even_when_busier() -> None:
    agents = [Agent("a", A), Agent("b", A)]
    open_work = open_frame([("b", "hogar", "c1", "p1"), ("b", "hogar", "c9", "")])
    new = new_frame([("hogar", "c1", "p7"), ("movil", "", ""), ("movil", "c1", "")])
    assert list(assign(new, open_work, agents)) == ["b", "a", "b"]


def test_account_sticks_within_the_batch() -> None:
    agents = [Agent("a", A), Agent("b", A), Agent("c", A)]
    new = new_frame(
        [("hogar", "c1", ""), ("hogar", "c2", ""), ("hogar", "c1", ""), ("hogar", "", "")]
    )
    assert list(assign(new, NO_OPEN, agents)) == ["a", "b", "a", "c"]


def test_ani_sticks_when_the_account_is_blank() -> None:
    agents = [Agent("a", A), Agent("b", A)]
    open_work = open_frame([("b", "hogar", "", "3001234567")])
    new = new_frame([("movil", "", "3001234567"), ("movil", "", "3001234567"), ("movil", "", "")])
    assert list(assign(new, open_work, agents)) == ["b", "b", "a"]


def test_account_wins_over_ani() -> None:
    agents = [Agent("a", A), Agent("b", A), Agent("c", A)]
    open_work = open_frame([("a", "hogar", "c1", ""), ("b", "hogar", "", "p1")])
    new = new_frame([("hogar", "c1", "p1")])
    assert list(assign(new, open_work, agents)) == ["a"]


def test_ani_is_tried_when_the_account_has_no_holder() -> None:
    agents = [Agent("a", A), Agent("b", A)]
    open_work = open_frame([("b", "hogar", "c1", "p1")])
    new = new_frame([("hogar", "c2", "p1")])
    assert list(assign(new, open_work, agents)) == ["b"]


def test_blank_account_and_ani_never_stick() -> None:
    agents = [Agent("a", A), Agent("b", A)]
    open_work = open_frame([("a", "hogar", "", "")])
    assert list(assign(hogar(3), open_work, agents)) == ["b", "a", "b"]


def test_nan_and_float_codes_are_normalised() -> None:
    agents = [Agent("a", A), Agent("b", A)]
    open_work = open_frame([("b", "hogar", "32091775", "")])
    new = new_frame([("hogar", 32091775.0, None), ("hogar", float("nan"), float("nan"))])
    assert list(assign(new, open_work, agents)) == ["b", "a"]


@pytest.mark.parametrize(
    "sticky",
    [Agent("b", A, active=False), Agent("b", H), Agent("b", A, capacity=1)],
    ids=["inactive", "profile", "full"],
)
def test_sticky_agent_that_cannot_take_falls_back_to_balance(sticky: Agent) -> None:
    agents = [Agent("a", A), sticky, Agent("c", A)]
    open_work = open_frame([("b", "hogar", "c1", "p1"), ("c", "hogar", "", "")])
    new = new_frame([("movil", "c1", "p1")])
    assert list(assign(new, open_work, agents)) == ["a"]


def test_second_holder_is_tried_when_the_first_cannot_take() -> None:
    agents = [Agent("a", H), Agent("b", A), Agent("c", A)]
    open_work = open_frame(
        [("a", "hogar", "c1", ""), ("c", "hogar", "c1", ""), ("c", "hogar", "", "")]
    )
    new = new_frame([("movil", "c1", "")])
    assert list(assign(new, open_work, agents)) == ["c"]


def test_assign_is_deterministic() -> None:
    agents = [Agent(f"a{i}", [H, M, A][i % 3], capacity=[None, 40, 25][i % 3]) for i in range(7)]
    new = new_frame(
        [
            (["hogar", "movil"][i % 2], f"c{i % 37}" if i % 5 else "", f"p{i % 53}")
            for i in range(400)
        ]
    )
    open_work = open_frame([(f"a{i % 7}", "hogar", f"c{i}", "") for i in range(30)])
    first = assign(new, open_work, agents)
    pd.testing.assert_series_equal(first, assign(new, open_work, agents))
    assert (first != UNASSIGNED).sum() > 0


def test_medium_batch_matches_the_oracle() -> None:
    agents = [Agent(f"a{i}", [H, M, A][i % 3], capacity=[None, 60, 45, 0][i % 4]) for i in range(9)]
    new = new_frame(
        [(["hogar", "movil"][i % 3 == 0], f"c{i % 97}" if i % 4 else "", f"p{i % 131}")
         for i in range(2000)]
    )  # fmt: skip
    open_work = open_frame([(f"a{i % 11}", "movil", f"c{i * 7 % 300}", "") for i in range(120)])
    assert list(assign(new, open_work, agents)) == oracle(new, open_work, agents)


# --- reassign -------------------------------------------------------------------------------


def test_reassign_to_a_named_agent() -> None:
    agents = [Agent("a", A), Agent("b", A), Agent("c", A)]
    open_work = open_frame([("a", "hogar", "", ""), ("b", "movil", "", ""), ("A", "movil", "", "")])
    result = reassign(open_work, "a", "C", agents)
    assert list(result.index) == [1, 3]
    assert list(result) == ["c", "c"]


def test_reassign_to_unknown_inactive_or_same_agent_is_an_error() -> None:
    agents = [Agent("a", A), Agent("b", A, active=False)]
    open_work = open_frame([("a", "hogar", "", "")])
    with pytest.raises(RosterError, match="«z» no está en la lista de asesores"):
        reassign(open_work, "a", "z", agents)
    with pytest.raises(RosterError, match="«b» no está activo"):
        reassign(open_work, "a", "b", agents)
    with pytest.raises(RosterError, match="mismo asesor"):
        reassign(open_work, "a", "a", agents)


def test_reassign_to_an_agent_whose_profile_does_not_cover_is_an_error() -> None:
    agents = [Agent("a", A), Agent("h", H)]
    open_work = open_frame(
        [
            ("a", "hogar", "", ""),
            ("a", "movil", "", ""),
            ("a", "movil", "", ""),
            ("h", "hogar", "", ""),
        ]
    )
    with pytest.raises(RosterError) as info:
        reassign(open_work, "a", "h", agents)
    message = str(info.value)
    assert "no puede tomar 2 de los 3 registros" in message
    assert "segmento móvil" in message
    assert "perfil Hogar" in message


def test_reassign_to_an_agent_without_room_is_an_error() -> None:
    agents = [Agent("a", A), Agent("b", A, capacity=3)]
    open_work = open_frame([("a", "hogar", "", "")] * 2 + [("b", "hogar", "", "")] * 2)
    with pytest.raises(RosterError, match="le caben 1"):
        reassign(open_work, "a", "b", agents)
    assert list(reassign(open_work.iloc[1:], "a", "b", agents)) == ["b"]


def test_reassign_from_an_unknown_agent_without_records_is_an_error() -> None:
    open_work = open_frame([("a", "hogar", "", "")])
    with pytest.raises(RosterError, match="«Pepe» no tiene registros abiertos"):
        reassign(open_work, "Pepe", None, [Agent("a", A)])
    with pytest.raises(RosterError, match="no tiene registros abiertos"):
        reassign(NO_OPEN, "Pepe", "a", [Agent("a", A)])


def test_reassign_from_a_known_agent_without_records_moves_nothing() -> None:
    assert reassign(
        open_frame([("a", "hogar", "", "")]), "b", None, [Agent("a", A), Agent("b", A)]
    ).empty


def test_reassign_balances_over_the_others_with_capacity_and_stickiness() -> None:
    agents = [Agent("a", A), Agent("b", A, capacity=2), Agent("c", A), Agent("h", H)]
    open_work = open_frame(
        [
            ("a", "movil", "c1", ""),
            ("a", "movil", "c2", ""),
            ("a", "movil", "c1", ""),
            ("a", "hogar", "", ""),
            ("c", "movil", "", ""),
            ("a", "movil", "", ""),
            ("a", "movil", "c3", ""),
            ("a", "movil", "", ""),
        ]
    )
    result = reassign(open_work, "a", None, agents)
    assert list(result.index) == [1, 2, 3, 4, 6, 7, 8]
    # loads b=0 c=1 h=0: c1->b, c2->b (b full), c1 sticks to b but b is full -> c,
    # hogar -> h, then c... : c=2 h=1 (movil: c only, b full) -> c
    assert list(result) == ["b", "b", "c", "h", "c", "c", "c"]


def test_reassign_from_an_agent_removed_from_the_roster() -> None:
    open_work = open_frame([("Retirado", "hogar", "", ""), ("Retirado", "movil", "", "")])
    result = reassign(open_work, "retirado", None, [Agent("h", H)])
    assert list(result) == ["h", UNASSIGNED]


def test_reassign_balanced_is_assign_without_the_agent() -> None:
    agents = [Agent(f"a{i}", [H, M, A][i % 3], capacity=[None, 30, 8][i % 3]) for i in range(6)]
    open_work = open_frame(
        [(f"a{i % 5}", ["hogar", "movil"][i % 2], f"c{i % 23}", f"p{i % 17}") for i in range(150)]
    )
    result = reassign(open_work, "a2", None, agents)
    moved = open_work[open_work.agent == "a2"]
    without = [dataclasses.replace(a, active=a.active and a.name != "a2") for a in agents]
    expected = assign(moved.drop(columns="agent"), open_work[open_work.agent != "a2"], without)
    pd.testing.assert_series_equal(result, expected)


# --- oracle ---------------------------------------------------------------------------------


def oracle(new: pd.DataFrame, open_work: pd.DataFrame, agents: Sequence[Agent]) -> list[str]:
    """The rules written as plainly as possible (exact names, quadratic)."""
    roster = {agent.name: agent for agent in agents}
    load = Counter(name for name in open_work["agent"] if name in roster)
    holders: dict[tuple[str, str], list[str]] = {}

    def hold(kind: str, code: str, name: str) -> None:
        if code and name not in holders.setdefault((kind, code), []):
            holders[(kind, code)].append(name)

    for row in open_work.itertuples():
        if row.agent in roster:
            hold("account", row.account, row.agent)
            hold("ani", row.ani, row.agent)
    out = []
    for row in new.itertuples():

        def ok(name: str, segment: str = row.segment) -> bool:
            agent = roster[name]
            return agent.can_take(segment) and (
                agent.capacity is None or load[name] < agent.capacity
            )

        sticky = list(holders.get(("account", row.account), [])) if row.account else []
        sticky = sticky + (holders.get(("ani", row.ani), []) if row.ani else [])
        chosen = next((name for name in sticky if ok(name)), None)
        if chosen is None:
            ranked = sorted((load[a.name], i, a.name) for i, a in enumerate(agents) if ok(a.name))
            chosen = ranked[0][2] if ranked else None
        if chosen is None:
            out.append(UNASSIGNED)
            continue
        load[chosen] += 1
        hold("account", row.account, chosen)
        hold("ani", row.ani, chosen)
        out.append(chosen)
    return out


# --- properties -----------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def rosters(draw: st.DrawFn, max_agents: int = 8) -> list[Agent]:
    n = draw(st.integers(1, max_agents))
    return [
        Agent(
            f"A{i}",
            draw(st.sampled_from(list(Profile))),
            draw(st.booleans()),
            draw(st.one_of(st.none(), st.integers(0, 6))),
        )
        for i in range(n)
    ]


def batch(draw: st.DrawFn, first_id: int, codes: bool) -> pd.DataFrame:
    code = st.sampled_from(["", "c1", "c2", "c3", "c4", "c5"]) if codes else st.just("")
    phone = st.sampled_from(["", "p1", "p2", "p3", "p4", "p5"]) if codes else st.just("")
    rows = draw(st.lists(st.tuples(st.sampled_from(SEGMENTS), code, phone), max_size=25))
    return new_frame([(first_id + i, *row) for i, row in enumerate(rows)])


def open_load(open_work: pd.DataFrame) -> Counter[str]:
    return Counter(open_work["agent"])


@given(data=st.data(), agents=rosters())
@PROPERTY
def test_batches_keep_every_invariant(data: st.DataObject, agents: list[Agent]) -> None:
    roster = {agent.name: agent for agent in agents}
    open_work = open_frame([])
    next_id = 1
    for _ in range(data.draw(st.integers(1, 4))):
        new = batch(data.draw, next_id, codes=True)
        next_id += len(new) + 1
        before = open_work.copy()
        result = assign(new, open_work, agents)

        # only the new records, in order, each given to an eligible agent or left unassigned
        assert list(result.index) == list(new["record_id"])
        pd.testing.assert_frame_equal(open_work, before)
        for segment, name in zip(new["segment"], result, strict=True):
            assert name == UNASSIGNED or roster[name].can_take(segment)
        # deterministic, and exactly the plain statement of the rules
        pd.testing.assert_series_equal(result, assign(new, open_work, agents))
        assert list(result) == oracle(new, open_work, agents)

        given_to = new.assign(agent=result.to_numpy())
        given_to = given_to[given_to.agent != UNASSIGNED][OPEN_COLUMNS]
        after = pd.concat([open_work, given_to], ignore_index=True)
        # capacity is never exceeded
        for name, count in open_load(after).items():
            capacity = roster[name].capacity
            assert capacity is None or count <= capacity
        # stickiness: when an agent holding the account in open work can take the record and
        # still has room after the batch, the record went to one of the account's holders
        held = open_work[open_work.account != ""].groupby("account").agent.agg(list).to_dict()
        load = open_load(after)
        for account, segment, name in zip(new.account, new.segment, result, strict=True):
            holders = [h for h in held.get(account, []) if roster[h].can_take(segment)]
            if any(roster[h].capacity is None or load[h] < roster[h].capacity for h in holders):
                assert name in holders
        # unassigned records mean nobody eligible had room
        for segment, name in zip(new.segment, result, strict=True):
            if name == UNASSIGNED:
                assert all(
                    not a.can_take(segment) or load[a.name] >= a.capacity  # type: ignore[operator]
                    for a in agents
                )

        # close some records, keep the others open
        keep = data.draw(st.lists(st.booleans(), min_size=len(after), max_size=len(after)))
        open_work = after[pd.Series(keep, index=after.index, dtype=bool)].reset_index(drop=True)


@given(
    data=st.data(),
    n_agents=st.integers(1, 8),
    profile=st.sampled_from(list(Profile)),
)
@PROPERTY
def test_equally_eligible_agents_stay_balanced(
    data: st.DataObject, n_agents: int, profile: Profile
) -> None:
    agents = [Agent(f"A{i}", profile) for i in range(n_agents)]
    segments = [s for s in SEGMENTS if profile.covers(s)]
    open_work = open_frame([])
    next_id = 1
    for _ in range(data.draw(st.integers(1, 5))):
        rows = data.draw(
            st.lists(
                st.tuples(st.sampled_from(segments), st.booleans(), st.booleans()), max_size=30
            )
        )
        # unique accounts and ANIs (or blank): no stickiness in play
        new = new_frame(
            [
                (
                    next_id + i,
                    segment,
                    f"c{next_id + i}" if account else "",
                    f"p{next_id + i}" if ani else "",
                )
                for i, (segment, account, ani) in enumerate(rows)
            ]
        )
        next_id += len(rows)
        load = open_load(open_work)
        spread_before = max(load[a.name] for a in agents) - min(load[a.name] for a in agents)
        result = assign(new, open_work, agents)
        assert UNASSIGNED not in set(result)
        given_to = new.assign(agent=result.to_numpy())[OPEN_COLUMNS]
        after = pd.concat([open_work, given_to], ignore_index=True)
        load = open_load(after)
        spread = max(load[a.name] for a in agents) - min(load[a.name] for a in agents)
        assert spread <= max(1, spread_before)  # balanced stays balanced; unbalanced converges
        keep = data.draw(st.lists(st.booleans(), min_size=len(after), max_size=len(after)))
        open_work = after[pd.Series(keep, index=after.index, dtype=bool)].reset_index(drop=True)


@given(data=st.data(), agents=rosters())
@PROPERTY
def test_reassign_properties(data: st.DataObject, agents: list[Agent]) -> None:
    roster = {agent.name: agent for agent in agents}
    everyone = [dataclasses.replace(a, active=True, capacity=None) for a in agents]
    new = batch(data.draw, 1, codes=True)
    open_work = new.assign(agent=assign(new, open_frame([]), everyone).to_numpy())[OPEN_COLUMNS]
    source = data.draw(st.sampled_from(sorted(roster)))
    moved = open_work[open_work.agent == source]
    kept = open_work[open_work.agent != source]

    result = reassign(open_work, source, None, agents)
    assert list(result.index) == list(moved.record_id)
    pd.testing.assert_series_equal(result, reassign(open_work, source, None, agents))
    for segment, name in zip(moved.segment, result, strict=True):
        assert name == UNASSIGNED or (name != source and roster[name].can_take(segment))
    # kept records plus moved ones: capacity only binds what reassign adds
    load = open_load(kept)
    for name, count in Counter(result[result != UNASSIGNED]).items():
        capacity = roster[name].capacity
        assert capacity is None or load[name] + count <= max(capacity, load[name])

    target = data.draw(st.sampled_from(sorted(roster)))
    agent = roster[target]
    room = None if agent.capacity is None else agent.capacity - load[target]
    if (
        target != source
        and agent.active
        and all(agent.can_take(s) for s in moved.segment)
        and (room is None or len(moved) <= room)
    ):
        if len(moved):
            assert set(reassign(open_work, source, target, agents)) == {target}
    elif len(moved):
        with pytest.raises(RosterError):
            reassign(open_work, source, target, agents)
