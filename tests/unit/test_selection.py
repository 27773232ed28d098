"""The selection as the folds read it, checked against the case read event by event: its facts,
the events of several types taken together in fold order, and the spans of activities
(``spans``), over long generated cases with backdated and retracted events."""

from __future__ import annotations

import typing
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from bench.workload import long_case, person_history
from ledger.events import (
    INCIDENT_TYPES,
    AnyEvent,
    BenefitEnded,
    BenefitGranted,
    ContractSigned,
    EducationEnded,
    EducationStarted,
    EmploymentEnded,
    EmploymentStarted,
    Event,
    EventRetracted,
    FollowUpHeld,
    MunicipalityMoved,
    ResponsibilityAssumed,
    TakeoverDecided,
)
from ledger.records import StoredCaseEvent
from projections.common import select, spans
from tests.support.builders import CaseBuilder

# Each kind of activity with what ends it and what tells its instances apart.
ACTIVITIES: tuple[tuple[type[Event], type[Event], str], ...] = (
    (BenefitGranted, BenefitEnded, "benefit"),
    (EmploymentStarted, EmploymentEnded, "employment_id"),
    (EducationStarted, EducationEnded, "education_id"),
)
# What else a start needs.
STARTED_WITH: dict[type[Event], dict[str, Any]] = {
    BenefitGranted: {"monthly_amount_dkk": Decimal("11000.00")},
    EmploymentStarted: {"ordinary": True, "hours_per_week": 37.0},
    EducationStarted: {"ordinary": True},
}
TOGETHER: tuple[tuple[type[Event], ...], ...] = (
    INCIDENT_TYPES,
    (FollowUpHeld, ContractSigned),
    (ResponsibilityAssumed, MunicipalityMoved, TakeoverDecided),
    *((start, end) for start, end, _ in ACTIVITIES),
)


def recorded(events: list[Event], late: set[int], retracted: set[int]) -> list[StoredCaseEvent]:
    """``events`` as the ledger would store them: those at ``late`` recorded after the rest
    (backdated), then a retraction of each of those at ``retracted``."""
    order = [e for i, e in enumerate(events) if i not in late]
    order += [events[i] for i in sorted(late)]
    order += [
        EventRetracted(
            event_id=UUID(int=i + 1),
            person=events[i].person,
            municipality=events[i].municipality,
            occurred_on=events[-1].occurred_on,
            retracts=events[i].event_id,
            reason="entered in error",
        )
        for i in sorted(retracted)
    ]
    start = datetime.combine(events[0].occurred_on, time(9), tzinfo=UTC)
    return [
        StoredCaseEvent(
            position=version,
            version=version,
            recorded_at=start + timedelta(minutes=version),
            hash=f"{version:064x}",
            prev_hash=f"{version - 1:064x}",
            event=event,
        )
        for version, event in enumerate(order, start=1)
    ]


@st.composite
def generated_cases(draw: st.DrawFn) -> list[StoredCaseEvent]:
    """A long generated case (``bench.workload``), some of it recorded late, some retracted."""
    make = draw(st.sampled_from([person_history, long_case]))
    events: list[Event] = make(draw(st.integers(0, 10_000)), 0, draw(st.sampled_from([50, 1000])))
    places = st.integers(1, len(events) - 1)
    return recorded(events, draw(st.sets(places, max_size=20)), draw(st.sets(places, max_size=20)))


@st.composite
def activity_cases(draw: st.DrawFn) -> list[StoredCaseEvent]:
    """A case of activities starting and ending, several at once, some on one day, some
    backdated, some retracted."""
    case = CaseBuilder("P-S")
    today = date(2020, 1, 6)
    case.opened(today.isoformat())
    for _ in range(draw(st.integers(0, 40))):
        today += timedelta(days=draw(st.sampled_from([0, 0, 1, 30])))
        on = today - timedelta(days=draw(st.sampled_from([0, 0, 0, 2, 40])))
        start, end, key = draw(st.sampled_from(ACTIVITIES))
        name = draw(st.sampled_from(["integrationsydelse", "kontanthjaelp"]))
        if draw(st.booleans()):
            case.add(start, on, **{key: name}, **STARTED_WITH[start])
        else:
            case.add(end, on, **{key: name})
        if draw(st.integers(0, 9)) == 0:
            case.retract(draw(st.sampled_from(case.events[1:])), on.isoformat())
    return case.events


def case_facts(events: list[StoredCaseEvent], as_of: date) -> list[AnyEvent]:
    """The case facts as DOMAIN.md reads them: no retraction and nothing one retracts, only
    what occurred by ``as_of``, in order of occurrence, then version."""
    hidden = {s.event.retracts for s in events if isinstance(s.event, EventRetracted)}
    live = [
        s
        for s in events
        if not isinstance(s.event, EventRetracted)
        and s.event.event_id not in hidden
        and s.event.occurred_on <= as_of
    ]
    return [s.event for s in sorted(live, key=lambda s: (s.event.occurred_on, s.version))]


def read_spans(
    facts: list[AnyEvent], start: type[Event], end: type[Event], key: str, as_of: date
) -> list[tuple[Event, date]]:
    """Each start with the day of the first later end with its key, or ``as_of``."""
    return [
        (
            began,
            next(
                (
                    later.occurred_on
                    for later in facts[place + 1 :]
                    if isinstance(later, end) and getattr(later, key) == getattr(began, key)
                ),
                as_of,
            ),
        )
        for place, began in enumerate(facts)
        if isinstance(began, start)
    ]


def days_around(events: list[StoredCaseEvent]) -> st.SearchStrategy[date]:
    days = [s.event.occurred_on for s in events]
    return st.dates(min(days) - timedelta(days=1), max(days) + timedelta(days=1))


cases = st.one_of(generated_cases(), activity_cases())


def test_no_event_type_derives_from_another() -> None:
    # The selection files each event under its own type, and knows a retraction by its type.
    kinds = typing.get_args(AnyEvent)
    assert {kind: kind.__bases__ for kind in kinds} == dict.fromkeys(kinds, (Event,))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_facts_are_the_live_events_that_occurred_by_as_of_by_occurrence_then_version(
    data: st.DataObject,
) -> None:
    events = data.draw(cases)
    as_of = data.draw(days_around(events))
    handed = data.draw(st.permutations(events))  # in whatever order a reader hands them over

    selection = select("P-S", handed, as_of, None)

    assert [s.event for s in selection.facts] == case_facts(events, as_of)
    assert list(selection.retracted) == [
        str(s.event.retracts) for s in events if isinstance(s.event, EventRetracted)
    ]
    assert (selection.position, selection.head_hash) == (events[-1].position, events[-1].hash)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_the_events_of_several_types_come_together_in_fold_order(data: st.DataObject) -> None:
    events = data.draw(cases)
    as_of = data.draw(days_around(events))
    selection = select("P-S", events, as_of, None)
    facts = case_facts(events, as_of)

    for kinds in TOGETHER:
        assert selection.of_type(*kinds) == [e for e in facts if isinstance(e, kinds)]
        for kind in kinds:
            assert selection.of_type(kind) == [e for e in facts if isinstance(e, kind)]
            assert selection.first(kind) == next((e for e in facts if isinstance(e, kind)), None)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_an_activity_lasts_through_the_first_later_end_of_it_or_else_through_as_of(
    data: st.DataObject,
) -> None:
    events = data.draw(cases)
    as_of = data.draw(days_around(events))
    selection = select("P-S", events, as_of, None)
    facts = case_facts(events, as_of)

    for start, end, key in ACTIVITIES:
        assert spans(selection, start, end, key) == read_spans(facts, start, end, key, as_of)
