"""The case states a writer keeps between appends (``ledger.case.KeptStates``) are bounded by
the events they describe, forget the least recently used first, and always keep the one used
last."""

from __future__ import annotations

from uuid import UUID

from ledger.case import CaseState, KeptStates, Record


def state(person: str, events: int) -> CaseState:
    return CaseState(person=person, version=events)


def oid(n: int) -> UUID:
    return UUID(int=n)


def test_the_least_recently_used_states_are_forgotten_once_their_events_pass_the_bound() -> None:
    kept = KeptStates(events=10)
    kept.keep(oid(1), state("P-1", 4))
    kept.keep(oid(2), state("P-2", 4))
    assert kept.get(oid(1)) is not None  # used: now the most recent

    kept.keep(oid(3), state("P-3", 4))

    assert oid(2) not in kept
    assert oid(1) in kept
    assert oid(3) in kept
    assert kept.held == 8


def test_a_state_kept_again_is_counted_at_its_new_length_only() -> None:
    kept = KeptStates(events=10)
    kept.keep(oid(1), state("P-1", 3))
    kept.keep(oid(1), state("P-1", 7))

    assert kept.held == 7
    assert len(kept) == 1
    assert kept[oid(1)].version == 7


def test_the_state_kept_last_stays_however_long_its_case() -> None:
    kept = KeptStates(events=10)
    kept.keep(oid(1), state("P-1", 2))
    kept.keep(oid(2), state("P-LONG", 50))

    assert oid(1) not in kept
    assert kept[oid(2)].version == 50
    assert kept.held == 50


def test_a_forgotten_state_no_longer_counts() -> None:
    kept = KeptStates(events=10)
    kept.keep(oid(1), state("P-1", 6))
    kept.forget(oid(1))
    kept.keep(oid(2), state("P-2", 6))

    assert kept.held == 6
    assert kept.get(oid(1)) is None


def test_a_state_is_kept_without_the_records_of_its_live_events() -> None:
    """They grew with the case, and only a retraction needs them: the writer folds the case
    again for one (``tests/integration/test_case_invariants.py``)."""
    folded = state("P-1", 1)
    folded.live = {1: Record("OfferMade", "101")}
    kept = KeptStates(events=10)

    kept.keep(oid(1), folded)

    assert kept[oid(1)].live is None
    assert kept[oid(1)].copy().live is None
