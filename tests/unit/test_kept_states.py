"""The case states a writer keeps between appends (``ledger.case.KeptStates``) are bounded by
what they hold, forget the least recently used first, and always keep the one used last."""

from __future__ import annotations

from uuid import UUID

from ledger.case import STATE_WEIGHT, CaseState, KeptStates, Record


def state(person: str, entries: int, events: int = 1) -> CaseState:
    """A state of ``events`` events holding ``entries`` entries beyond its own containers."""
    return CaseState(person=person, version=events, offers={f"O-{n}" for n in range(entries)})


def oid(n: int) -> UUID:
    return UUID(int=n)


def bound(entries: int) -> KeptStates:
    """Room for states holding ``entries`` entries beyond their containers, three states' worth
    of containers included."""
    return KeptStates(entries=entries + 3 * STATE_WEIGHT)


def test_a_state_weighs_its_containers_and_each_entry_it_holds() -> None:
    held = CaseState(person="P-1", offers={"O-1"}, sanctions={"S-1": "101"})
    held.retracted = {UUID(int=1)}

    assert CaseState(person="P-0").weight() == STATE_WEIGHT
    assert held.weight() == STATE_WEIGHT + 3


def test_the_least_recently_used_states_are_forgotten_once_what_they_hold_passes_the_bound() -> (
    None
):
    kept = bound(10)
    kept.keep(oid(1), state("P-1", 4))
    kept.keep(oid(2), state("P-2", 4))
    assert kept.get(oid(1)) is not None  # used: now the most recent

    kept.keep(oid(3), state("P-3", 4))

    assert oid(2) not in kept
    assert oid(1) in kept
    assert oid(3) in kept
    assert kept.held == 2 * STATE_WEIGHT + 8


def test_long_cases_appended_to_in_turn_stay_kept_while_what_they_hold_fits() -> None:
    """However many events they describe: a bound by events forgot each case just before its
    next append, so that every append folded its case again."""
    kept = bound(10)
    for _ in range(3):
        for n in range(3):
            kept.keep(oid(n), state(f"P-{n}", 2, events=50_000))

    assert len(kept) == 3
    assert kept.held == 3 * STATE_WEIGHT + 6


def test_a_state_kept_again_is_counted_at_its_new_weight_only() -> None:
    kept = bound(10)
    kept.keep(oid(1), state("P-1", 3))
    kept.keep(oid(1), state("P-1", 7, events=9))

    assert kept.held == STATE_WEIGHT + 7
    assert len(kept) == 1
    assert kept[oid(1)].version == 9


def test_the_state_kept_last_stays_whatever_it_holds() -> None:
    kept = bound(10)
    kept.keep(oid(1), state("P-1", 2))
    kept.keep(oid(2), state("P-LONG", 50))

    assert oid(1) not in kept
    assert kept[oid(2)].person == "P-LONG"
    assert kept.held == STATE_WEIGHT + 50


def test_a_forgotten_state_no_longer_counts() -> None:
    kept = bound(10)
    kept.keep(oid(1), state("P-1", 6))
    kept.forget(oid(1))
    kept.keep(oid(2), state("P-2", 6))

    assert kept.held == STATE_WEIGHT + 6
    assert kept.get(oid(1)) is None


def test_a_state_is_kept_without_the_records_of_its_live_events() -> None:
    """They grew with the case, and only a retraction needs them: the writer folds the case
    again for one (``tests/integration/test_case_invariants.py``)."""
    folded = state("P-1", 1)
    folded.live = {1: Record("OfferMade", "101")}
    kept = bound(10)

    kept.keep(oid(1), folded)

    assert kept[oid(1)].live is None
    assert kept[oid(1)].copy().live is None
