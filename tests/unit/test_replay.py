"""Replay as a specification: event by event in recording order, the state after each and the
rules that fired, each with its paragraph."""

from __future__ import annotations

from datetime import date

import msgspec

from projections.common import to_json
from projections.replay import ReplayStep, replay
from tests.support.builders import CaseBuilder, day


def steps(
    case: CaseBuilder,
    until_position: int | None = None,
    until_date: str | None = None,
    revision: int | None = None,
) -> list[ReplayStep]:
    return replay(
        case.person,
        case.events,
        until_position,
        day(until_date) if until_date else None,
        revision,
    )


def paragraphs(step: ReplayStep) -> list[str]:
    return [rule.paragraph for rule in step.rules]


def explained(step: ReplayStep) -> str:
    return " | ".join(rule.explanation for rule in step.rules)


def ready_case() -> CaseBuilder:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04")
    case.notified("2016-01-10")
    return case


def test_one_step_per_event_in_recording_order() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.offer("2016-03-01", "O-1")
    case.contract("2016-02-01", recorded_at="2016-03-02T09:00:00+00:00")

    replayed = steps(case)

    assert [(s.position, s.type) for s in replayed] == [
        (1, "ResponsibilityAssumed"),
        (2, "OfferMade"),
        (3, "ContractSigned"),
    ]
    assert replayed[2].as_of == date(2016, 3, 2)  # the Danish day it was recorded


def test_t0_starts_the_contract_and_programme_deadlines() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")

    (step,) = steps(case)

    assert paragraphs(step) == ["INL § 19 stk. 1", "INL § 16 stk. 5"]
    assert "due by 2016-02-04" in explained(step)
    assert step.state.responsible_municipality == "101"
    assert step.state.case_open is True


def test_a_late_contract_is_explained_as_a_missed_deadline() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-02-10", weekly_hours=25.0)

    step = steps(case)[-1]

    assert paragraphs(step) == ["INL § 19 stk. 1", "INL § 17"]
    assert "due by 2016-02-04: deadline missed" in step.rules[0].explanation
    assert "25 hours a week" in step.rules[1].explanation
    assert step.state.contract_versions == 1


def test_programme_start_names_its_deadline_and_duration() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.program("2016-02-01")

    step = steps(case)[-1]

    assert paragraphs(step) == ["INL § 16 stk. 5", "INL § 16 stk. 6"]
    assert "until 2019-02-01" in step.rules[1].explanation


def test_an_absence_without_notice_is_explained_with_akl_35() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")

    step = steps(case)[-1]

    assert paragraphs(step) == ["AKL § 35 stk. 1"]
    assert step.rules[0].rule == "written_notice"
    assert explained(step).startswith("not sanctionable: no written notice")


def test_a_sanctionable_absence_names_the_deduction_and_the_daily_rate_assumption() -> None:
    case = ready_case()
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1", days=2)

    step = steps(case)[-1]

    assert paragraphs(step) == ["AKL § 36", "AKL § 35 stk. 4"]
    assert "deduction of 1015.38 DKK" in step.rules[0].explanation
    assert step.rules[1].assumption is True
    assert "507.69" in step.rules[1].explanation


def test_a_move_passes_responsibility_with_the_takeover_pending_and_sanctions_follow() -> None:
    case = ready_case()
    case.sanction("2016-02-01", "S-1")
    case.moved("2016-03-01", to="147")

    step = steps(case)[-1]

    assert paragraphs(step) == ["INL § 18", "AKL § 69 r"]
    assert "takeover pending" in step.rules[0].explanation
    assert step.state.responsible_municipality == "147"


def test_an_approved_takeover_starts_the_new_contract_deadline() -> None:
    case = ready_case()
    case.moved("2016-03-01", to="147")
    case.takeover("2016-03-10")

    step = steps(case)[-1]

    assert paragraphs(step) == ["INL § 18"]
    assert step.rules[0].assumption is True
    assert "due by 2016-04-10 (147)" in step.rules[0].explanation


def test_a_refused_takeover_names_inl_32() -> None:
    case = ready_case()
    case.moved("2016-03-01", to="147")
    case.takeover("2016-03-10", approved=False)

    assert paragraphs(steps(case)[-1]) == ["INL § 32 stk. 1"]


def test_a_new_incident_after_two_sanctions_is_eligible_relying_on_the_previous_municipality() -> (
    None
):
    """AKL § 40 a stk. 1 ("gentagne gange") per new incident; § 69 r: the earlier municipality's
    sanction counts (revision 2)."""
    case = ready_case()
    case.offer("2016-01-20", "O-1")
    case.sanction("2016-02-01", "S-1")
    case.moved("2016-03-01", to="147")
    case.takeover("2016-03-05")
    case.notified("2016-03-06", municipality="147")
    case.sanction("2016-04-01", "S-2", "reduction", municipality="147")
    case.absence("2016-05-02", "O-1", municipality="147")

    step = steps(case)[-1]

    assert paragraphs(step)[-2:] == ["AKL § 40 a", "AKL § 69 r"]
    assert "now eligible" in step.rules[-2].explanation
    assert "101" in step.rules[-1].explanation
    assert step.state.escalation_eligible is True


def test_under_revision_1_a_second_sanction_made_suspension_eligible() -> None:
    case = ready_case()
    case.sanction("2016-02-01", "S-1")
    case.moved("2016-03-01", to="147")
    case.takeover("2016-03-05")
    case.sanction("2016-04-01", "S-2", "reduction")

    first, *_, second = steps(case, revision=1)[3:]

    assert paragraphs(first) == ["AKL § 36", "AKL § 40 a"]
    assert "not eligible" in first.rules[1].explanation
    assert paragraphs(second) == ["AKL § 39", "AKL § 40 a", "AKL § 69 r"]
    assert "now eligible" in second.rules[1].explanation
    assert "101" in second.rules[2].explanation
    assert second.state.escalation_eligible is True
    assert second.state.effective_sanctions == 2


def test_an_overturn_no_longer_counts_and_ends_eligibility() -> None:
    case = ready_case()
    case.sanction("2016-02-01", "S-1")
    case.sanction("2016-02-02", "S-2")
    case.overturned("2016-02-10", "S-2")

    step = steps(case)[-1]

    assert paragraphs(step) == ["AKL § 36", "AKL § 40 a"]
    assert "no longer counts" in step.rules[0].explanation
    assert step.state.escalation_eligible is False
    assert step.state.effective_sanctions == 1


def test_a_follow_up_names_inl_20_and_the_next_due_date() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-01-20")
    case.follow_up("2016-04-01")
    case.follow_up("2016-06-01", goals_met=True)

    held, met = steps(case)[-2:]

    assert paragraphs(held) == ["INL § 20"]
    assert "next follow-up due by 2016-07-01" in held.rules[0].explanation
    assert "only as needed" in met.rules[0].explanation


def test_a_retraction_changes_the_state_from_its_step_on() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    wrong = case.contract("2016-01-20")
    case.retract(wrong, "2016-01-21")

    signed, retracted = steps(case)[1:]

    assert signed.state.contract_versions == 1
    assert retracted.state.contract_versions == 0
    assert retracted.rules == []


def test_a_permit_closes_the_case_under_inl_19_stk_8() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.status_requested("2019-05-01", due_on="2019-05-20")
    case.permit("2019-06-01")

    requested, granted = steps(case)[1:]

    assert paragraphs(requested) == ["UDL § 11"]
    assert paragraphs(granted) == ["INL § 19 stk. 8"]
    assert granted.state.case_open is False


def test_until_position_stops_after_that_position() -> None:
    case = ready_case()
    case.contract("2016-01-20")

    assert [s.position for s in steps(case, until_position=2)] == [1, 2]


def test_until_date_leaves_out_later_events_and_judges_as_of_that_date() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-03-01")
    case.offer("2016-01-20", "O-1", recorded_at="2016-03-05T10:00:00+00:00")

    replayed = steps(case, until_date="2016-02-01")

    assert [s.type for s in replayed] == ["ResponsibilityAssumed", "OfferMade"]
    assert replayed[-1].as_of == date(2016, 2, 1)


def test_open_offers_count_open_offers_still_to_start() -> None:
    case = ready_case()
    case.offer("2016-02-01", "O-1", starts_on="2016-02-15", open_offer=True)
    case.offer("2016-02-02", "O-2", starts_on="2016-02-15")

    assert steps(case)[-1].state.open_offers == 1


def test_steps_encode_as_json() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")

    (step,) = msgspec.json.decode(to_json(steps(case)))

    assert {"position", "type", "occurred_on", "municipality", "state", "rules"} <= set(step)
    assert {"paragraph", "explanation"} <= set(step["rules"][0])
