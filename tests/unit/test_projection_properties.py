"""Properties of the pure projections over generated, plausible case histories.

- Valid time: a view as of a day equals the view of only the events that occurred by then
  (retractions kept: they are corrections in transaction time, not case facts).
- Transaction time: a view at ``known_at`` equals the view of only the events recorded by then,
  and the ``known_at`` a view reports reproduces it.
- The status report's digest does not depend on when it was generated and can be recomputed
  from its JSON by anyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.events import EventRetracted, ResponsibilityAssumed
from ledger.records import StoredCaseEvent
from projections.common import to_json
from projections.deadlines import worklist
from projections.history import contract_history
from projections.replay import replay
from projections.sanctions import sanctions_view
from projections.status import report_digest, status_report
from tests.support.builders import CaseBuilder

MUNICIPALITIES = ("101", "147", "751", "461", "851")
OFFER_KINDS = ("company_internship", "interview", "job", "mentor", "danish_education", "other")
CAUSES = (None, None, None, "illness", "child_illness", "other_documented")
GENERATED = datetime(2024, 1, 1, tzinfo=UTC)
# What legitimately depends on the set of events handed over rather than on the case facts.
EVENT_SET_FIELDS = {"position", "known_at", "digest", "generated_at", "head_hash"}


@st.composite
def histories(draw: st.DrawFn) -> list[StoredCaseEvent]:
    """One person's case: T0 first, then case actions by the responsible municipality, some
    backdated, some retracted, possibly ending with a permit."""
    case = CaseBuilder("P-H", municipality=draw(st.sampled_from(MUNICIPALITIES)))
    today = draw(st.dates(min_value=date(2015, 6, 1), max_value=date(2018, 12, 31)))
    case.opened(today, category=draw(st.sampled_from(["refugee", "family_reunified"])))
    offers: list[str] = []
    incidents: list[StoredCaseEvent] = []
    sanctions: list[str] = []
    employments: list[str] = []
    benefits: set[str] = set()
    retractable: list[StoredCaseEvent] = []
    takeover_pending = False

    for index in range(draw(st.integers(0, 24))):
        today += timedelta(days=draw(st.integers(0, 75)))
        on = today - timedelta(days=draw(st.sampled_from([0, 0, 0, 3, 20])))
        actions = [
            "contract", "declaration", "program", "readiness", "benefit", "notified", "offer",
            "contact", "sanction", "follow_up", "danish_test", "employment", "status", "move",
        ]  # fmt: skip
        actions += ["incident"] * 3 if offers else []
        actions += ["benefit_ended"] if benefits else []
        actions += ["overturn"] if sanctions else []
        actions += ["employment_ended"] if employments else []
        actions += ["retract"] if retractable else []
        actions += ["takeover"] * 4 if takeover_pending else []
        # A permit ends the case: only once it has had time to unfold.
        actions += ["permit"] if index >= 12 else []
        action = draw(st.sampled_from(actions))
        stored: StoredCaseEvent | None = None
        match action:
            case "contract":
                stored = case.contract(
                    on, f"C-{index}", weekly_hours=float(draw(st.sampled_from([25, 30, 37])))
                )
            case "declaration":
                reason = draw(st.sampled_from([None, None, "hospitalised"]))
                stored = case.declaration(on, waived_reason=reason)
            case "program":
                stored = case.program(on)
            case "readiness":
                stored = case.readiness(on, draw(st.sampled_from(["job_ready", "activity_ready"])))
            case "benefit":
                kind = draw(st.sampled_from(["integrationsydelse", "kontanthjaelp"]))
                monthly = draw(st.sampled_from(["6000.00", "11000.00", "12345.67"]))
                benefits.add(kind)
                stored = case.benefit(on, monthly=monthly, benefit=kind)
            case "benefit_ended":
                stored = case.benefit_ended(on, draw(st.sampled_from(sorted(benefits))))
            case "notified":
                regarding = draw(st.sampled_from([None, *offers]))
                stored = case.notified(on, regarding=regarding)
            case "offer":
                offer_id = f"O-{index}"
                offers.append(offer_id)
                starts = on + timedelta(days=draw(st.integers(0, 40)))
                stored = case.offer(
                    on,
                    offer_id,
                    draw(st.sampled_from(OFFER_KINDS)),
                    starts_on=starts.isoformat(),
                    open_offer=draw(st.booleans()),
                )
            case "incident":
                offer_id = draw(st.sampled_from(offers))
                cause = draw(st.sampled_from(CAUSES))
                if draw(st.booleans()):
                    days = draw(st.integers(1, 5))
                    stored = case.absence(on, offer_id, days=days, reasonable_cause=cause)
                else:
                    stored = case.refusal(on, offer_id, reasonable_cause=cause)
                incidents.append(stored)
            case "contact":
                stored = case.contact(on, reached=draw(st.booleans()))
            case "sanction":
                sanction_id = f"S-{index}"
                sanctions.append(sanction_id)
                grounds = (
                    draw(st.lists(st.sampled_from(incidents), max_size=2)) if incidents else []
                )
                kind = draw(st.sampled_from(["deduction", "deduction", "reduction", "cessation"]))
                stored = case.sanction(on, sanction_id, kind, grounds=grounds)
            case "overturn":
                stored = case.overturned(on, draw(st.sampled_from(sanctions)))
            case "follow_up":
                stored = case.follow_up(on, goals_met=draw(st.sampled_from([False, False, True])))
            case "danish_test":
                stored = case.danish_test(on, draw(st.sampled_from(["pd1", "pd2", "pd3"])))
            case "employment":
                employment_id = f"E-{index}"
                employments.append(employment_id)
                stored = case.employment(on, employment_id, ordinary=draw(st.booleans()))
            case "employment_ended":
                stored = case.employment_ended(on, draw(st.sampled_from(employments)))
            case "status":
                due = on + timedelta(days=draw(st.integers(7, 60)))
                stored = case.status_requested(on, f"R-{index}", due_on=due.isoformat())
            case "move":
                receiving = draw(
                    st.sampled_from([m for m in MUNICIPALITIES if m != case.municipality])
                )
                case.moved(on, receiving)
                takeover_pending = True
            case "takeover":
                case.takeover(on, approved=draw(st.booleans()))
                takeover_pending = False
            case "retract":
                target = draw(st.sampled_from(retractable))
                retractable.remove(target)
                case.retract(target, on)
            case "permit":
                case.permit(on)
                break
        if stored is not None:
            retractable.append(stored)
    return case.events


def days_around(events: list[StoredCaseEvent]) -> st.SearchStrategy[date]:
    dates = [e.event.occurred_on for e in events]
    return st.dates(
        min_value=min(dates) - timedelta(days=10), max_value=max(dates) + timedelta(days=400)
    )


def without(fields: set[str], body: Any) -> Any:
    """The JSON of a view without the fields that depend on the set of events handed over."""
    if isinstance(body, dict):
        return {k: without(fields, v) for k, v in body.items() if k not in fields}
    return body


def as_json(view: object) -> Any:
    return msgspec.json.decode(to_json(view))


View = Callable[[list[StoredCaseEvent], date, datetime | None], object]

VIEWS: dict[str, View] = {
    "sanctions": lambda events, as_of, known_at: sanctions_view("P-H", events, as_of, known_at),
    "status": lambda events, as_of, known_at: status_report(
        "P-H", events, as_of, known_at, GENERATED
    ),
    "history": lambda events, as_of, known_at: contract_history("P-H", events, as_of, known_at),
}


@settings(max_examples=60)
@given(st.data())
def test_a_view_as_of_a_day_is_the_view_of_only_what_happened_by_then(data: st.DataObject) -> None:
    events = data.draw(histories())
    as_of = data.draw(days_around(events))
    happened = [
        e for e in events if e.event.occurred_on <= as_of or isinstance(e.event, EventRetracted)
    ]

    for name, view in VIEWS.items():
        whole = without(EVENT_SET_FIELDS, as_json(view(events, as_of, None)))
        cut = without(EVENT_SET_FIELDS, as_json(view(happened, as_of, None)))
        assert whole == cut, name

    municipality = events[0].event.municipality
    assert worklist(municipality, [("P-H", events)], as_of) == worklist(
        municipality, [("P-H", happened)], as_of
    )


@settings(max_examples=60)
@given(st.data())
def test_a_view_known_at_a_time_is_the_view_of_only_what_was_recorded_by_then(
    data: st.DataObject,
) -> None:
    events = data.draw(histories())
    as_of = data.draw(days_around(events))
    cut = data.draw(st.integers(1, len(events)))
    known_at = events[cut - 1].recorded_at

    for name, view in VIEWS.items():
        at_that_time = view(events, as_of, known_at)
        recorded_by_then = view(events[:cut], as_of, None)
        assert at_that_time == recorded_by_then, name
        assert view(events, as_of, None) == view(
            events, as_of, datetime.fromisoformat(as_json(view(events, as_of, None))["known_at"])
        ), name


@settings(max_examples=60)
@given(st.data())
def test_the_digest_is_stable_and_recomputable_from_the_reports_json(
    data: st.DataObject,
) -> None:
    events = data.draw(histories())
    as_of = data.draw(days_around(events))
    report = status_report("P-H", events, as_of, None, GENERATED)
    again = status_report("P-H", events, as_of, None, GENERATED + timedelta(days=365))

    body = as_json(report)
    digest = body.pop("digest")
    body.pop("generated_at")
    canonical = msgspec.json.Encoder(order="sorted").encode(body)

    assert digest == report.digest == again.digest == report_digest(again)
    assert digest == "sha256:" + hashlib.sha256(canonical).hexdigest()


@settings(max_examples=40)
@given(st.data())
def test_totals_and_replay_agree_with_the_sanction_view(data: st.DataObject) -> None:
    events = data.draw(histories())
    steps = replay("P-H", events, None, None)
    last = steps[-1]
    view = sanctions_view("P-H", events, last.as_of, None)
    totals = view.totals

    assert [s.position for s in steps] == sorted(e.position for e in events)
    assert totals.effective + totals.overturned == len(view.sanctions)
    assert sum(totals.by_kind.values()) == sum(totals.by_municipality.values()) == totals.effective
    assert last.state.effective_sanctions == totals.effective
    assert last.state.escalation_eligible == view.escalation.eligible
    assert isinstance(events[0].event, ResponsibilityAssumed)
