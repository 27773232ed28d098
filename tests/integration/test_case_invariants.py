"""The case invariants of DOMAIN.md, each a typed refusal with nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.errors import BatchRefused
from tests.support.wire import WireCase, lines


@pytest.fixture
def ledger(db_path: str) -> Iterator[Ledger]:
    app = Ledger(db_path)
    yield app
    app.close()


@pytest.fixture
def case(ledger: Ledger) -> WireCase:
    case = WireCase("P-1", "101")
    ledger.append_lines(lines([case.opened(), case.offer("O-1", kind="job")]))
    return case


def contact(case: WireCase, on: str, **fields: Any) -> dict[str, Any]:
    return case.event("ContactAttempted", on, channel="phone", reached=True, **fields)


def refusal(ledger: Ledger, event: dict[str, Any]) -> tuple[str, str | None, str]:
    head = ledger.head_position()
    with pytest.raises(BatchRefused) as caught:
        ledger.append_lines(lines([event]))
    assert ledger.head_position() == head, "a refused batch stored something"
    (error,) = caught.value.errors
    return error.code, error.field, error.message


def test_the_first_event_of_a_person_must_be_responsibility_assumed(ledger: Ledger) -> None:
    new = WireCase("P-NEW")
    code, field, message = refusal(ledger, new.offer("O-1"))
    assert (code, field) == ("case_not_open", None)
    assert "P-NEW" in message


def test_a_case_is_opened_only_once(ledger: Ledger, case: WireCase) -> None:
    assert refusal(ledger, case.opened())[:2] == ("case_already_open", None)


def test_only_the_responsible_municipality_records_case_actions(
    ledger: Ledger, case: WireCase
) -> None:
    event = case.event("ContactAttempted", channel="phone", reached=True, municipality="751")
    assert refusal(ledger, event)[:2] == ("not_responsible", "municipality")


def test_after_a_move_the_receiving_municipality_is_responsible(
    ledger: Ledger, case: WireCase
) -> None:
    """Responsibility in valid time (INL § 4, § 18; handbook: "I henhold til INL 4 stk. 1 har
    kommunerne bl.a. ansvaret for integrationsplaner og integrationsprogrammer"; DOMAIN.md:
    "the leaving municipality up to and including the move date, the receiving one from
    it")."""
    ledger.append_lines(lines([case.moved("751", on="2024-03-01")]))
    old = contact(case, "2024-03-02", municipality="101")
    assert refusal(ledger, old)[:2] == ("not_responsible", "municipality")
    new = contact(case, "2024-03-02")
    assert ledger.append_lines(lines([new])).appended == 1


def test_a_move_must_go_to_another_municipality(ledger: Ledger, case: WireCase) -> None:
    event = case.event("MunicipalityMoved", to_municipality="101")
    assert refusal(ledger, event)[:2] == ("invalid_field", "to_municipality")


def test_the_receiving_municipality_decides_the_takeover_once_per_move(
    ledger: Ledger, case: WireCase
) -> None:
    ledger.append_lines(lines([case.moved("751")]))
    decided = case.event("TakeoverDecided", approved=True, ground="mandatory")
    ledger.append_lines(lines([decided]))
    again = case.event("TakeoverDecided", approved=False)
    assert refusal(ledger, again)[:2] == ("not_responsible", "municipality")


def test_no_takeover_decision_without_a_move(ledger: Ledger, case: WireCase) -> None:
    event = case.event("TakeoverDecided", approved=True)
    assert refusal(ledger, event)[:2] == ("not_responsible", "municipality")


def test_a_status_request_names_the_responsible_municipality(
    ledger: Ledger, case: WireCase
) -> None:
    event = case.event("StatusRequested", request_id="R-1", due_on="2024-03-01", municipality="147")
    assert refusal(ledger, event)[:2] == ("not_responsible", "municipality")


def test_a_refusal_references_an_offer_made_in_this_case(ledger: Ledger, case: WireCase) -> None:
    event = case.event("OfferRefused", offer_id="O-404")
    code, field, message = refusal(ledger, event)
    assert (code, field) == ("unknown_offer", "offer_id")
    assert message == "offer 'O-404' was never made in case 'P-1'"


def test_an_offer_of_another_case_is_unknown(ledger: Ledger, case: WireCase) -> None:
    other = WireCase("P-2")
    ledger.append_lines(lines([other.opened(), other.offer("O-2")]))
    assert refusal(ledger, case.absence("O-2"))[:2] == ("unknown_offer", "offer_id")


def test_an_overturn_references_a_sanction_imposed_in_this_case(
    ledger: Ledger, case: WireCase
) -> None:
    event = case.event("SanctionOverturned", sanction_id="S-404", by="ankestyrelsen")
    assert refusal(ledger, event)[:2] == ("unknown_sanction", "sanction_id")


def test_sanction_grounds_reference_incidents_in_this_case(ledger: Ledger, case: WireCase) -> None:
    absence = case.absence("O-1")
    contact = case.event("ContactAttempted", channel="letter", reached=False)
    ledger.append_lines(lines([absence, contact]))
    event = case.event(
        "SanctionImposed",
        sanction_id="S-1",
        kind="deduction",
        grounds=[absence["event_id"], contact["event_id"]],
    )
    assert refusal(ledger, event)[:2] == ("unknown_event", "grounds[1]")


def test_nothing_but_a_retraction_after_the_permit(ledger: Ledger, case: WireCase) -> None:
    permit = case.event("PermitGranted")
    ledger.append_lines(lines([permit]))
    event = case.event("FollowUpHeld", mode="phone", goals_met=True)
    assert refusal(ledger, event)[:2] == ("case_closed", None)


def test_retracting_the_permit_reopens_the_case(ledger: Ledger, case: WireCase) -> None:
    permit = case.event("PermitGranted")
    ledger.append_lines(lines([permit]))
    retraction = case.event("EventRetracted", retracts=permit["event_id"], reason="wrong person")
    follow_up = case.event("FollowUpHeld", mode="phone", goals_met=True)
    assert ledger.append_lines(lines([retraction, follow_up])).appended == 2


def test_a_retracted_offer_can_no_longer_be_referenced(ledger: Ledger, case: WireCase) -> None:
    offer = case.offer("O-2")
    ledger.append_lines(lines([offer]))
    retraction = case.event("EventRetracted", retracts=offer["event_id"], reason="entered twice")
    ledger.append_lines(lines([retraction]))
    assert refusal(ledger, case.absence("O-2"))[:2] == ("unknown_offer", "offer_id")


def test_a_retraction_references_an_event_of_this_case(ledger: Ledger, case: WireCase) -> None:
    event = case.event(
        "EventRetracted", retracts="7d0d4a55-0000-4000-8000-000000000000", reason="typo"
    )
    assert refusal(ledger, event)[:2] == ("unknown_event", "retracts")


def test_a_retraction_is_checked_on_the_whole_case_though_its_state_is_kept_without_it(
    ledger: Ledger, case: WireCase
) -> None:
    """The writer keeps a case's state between appends without the records of its live
    events: a retraction, in a batch or after one, is still decided on the whole case."""
    offer = case.offer("O-2")
    ledger.append_lines(lines([offer]))
    retraction = case.event("EventRetracted", retracts=offer["event_id"], reason="entered twice")
    again = case.event("EventRetracted", retracts=offer["event_id"], reason="and again")

    with pytest.raises(BatchRefused) as caught:
        ledger.append_lines(lines([case.offer("O-3"), retraction, again]))
    assert [(e.line, e.code, e.field) for e in caught.value.errors] == [
        (3, "unknown_event", "retracts")
    ]
    assert "already retracted" in caught.value.errors[0].message
    assert ledger.append_lines(lines([retraction])).appended == 1
    code, field, message = refusal(ledger, again)
    assert (code, field) == ("unknown_event", "retracts")
    assert "already retracted" in message
    assert refusal(ledger, case.absence("O-2"))[:2] == ("unknown_offer", "offer_id")


def test_the_opening_event_cannot_be_retracted(ledger: Ledger) -> None:
    case = WireCase("P-9")
    opened = case.opened()
    ledger.append_lines(lines([opened]))
    event = case.event("EventRetracted", retracts=opened["event_id"], reason="typo")
    assert refusal(ledger, event)[:2] == ("invalid_field", "retracts")


def test_an_event_cannot_happen_after_the_day_it_is_recorded(
    ledger: Ledger, case: WireCase
) -> None:
    event = case.event("ContactAttempted", on="2099-01-01", channel="phone", reached=True)
    assert refusal(ledger, event)[:2] == ("future_date", "occurred_on")


def test_an_offer_id_is_made_once_per_case(ledger: Ledger, case: WireCase) -> None:
    assert refusal(ledger, case.offer("O-1"))[:2] == ("invalid_field", "offer_id")


def test_a_refused_batch_reports_its_errors_in_line_order(ledger: Ledger, case: WireCase) -> None:
    batch = [case.absence("O-9"), case.event("PermitGranted", municipality="999")]
    with pytest.raises(BatchRefused) as caught:
        ledger.append_lines(lines(batch))
    assert [(e.line, e.code) for e in caught.value.errors] == [
        (1, "unknown_offer"),
        (2, "unknown_municipality"),
    ]


# --- second edition: responsibility in valid time ----------------------------------------------
#
# INL § 4 stk. 1 (handbook): "har kommunerne bl.a. ansvaret for integrationsplaner og
# integrationsprogrammer"; INL § 18 stk. 1: the programme continues after a move "hvis
# tilflytningskommunen godkender at overtage integrationsprogrammet".


@pytest.fixture
def moved(ledger: Ledger, case: WireCase) -> WireCase:
    """The case of ``case``: København (101) moves the person to Aarhus (751) on 2024-03-01."""
    ledger.append_lines(lines([case.moved("751", on="2024-03-01")]))
    return case


def test_the_receiving_municipality_records_nothing_dated_before_the_move(
    ledger: Ledger, moved: WireCase
) -> None:
    """Responsibility in valid time (INL § 4, § 18; handbook: "I henhold til INL 4 stk. 1 har
    kommunerne bl.a. ansvaret for integrationsplaner og integrationsprogrammer"; DOMAIN.md: "an
    event's `occurred_on` must fall in a period in which its municipality was responsible (...
    the receiving one from it)"): Aarhus cannot backdate a record to before it became
    responsible."""
    code, field, message = refusal(ledger, contact(moved, "2024-02-29"))
    assert (code, field) == ("not_responsible", "municipality")
    assert "on 2024-02-29" in message
    assert "101 from 2024-01-02 to 2024-03-01, 751 from 2024-03-01 on" in message
    assert "(INL § 4, § 18)" in message
    assert ledger.append_lines(lines([contact(moved, "2024-03-01")])).appended == 1


def test_the_leaving_municipality_is_responsible_up_to_and_including_the_move_date(
    ledger: Ledger, moved: WireCase
) -> None:
    """Responsibility in valid time (INL § 4, § 18; handbook: "I henhold til INL 4 stk. 1 har
    kommunerne bl.a. ansvaret for integrationsplaner og integrationsprogrammer"; DOMAIN.md: "the
    leaving municipality up to and including the move date"): København may still record what
    happened before and on the day of the move, after the move was recorded, and nothing
    later."""
    late = [contact(moved, "2024-02-20", municipality="101")]
    on_the_day = [contact(moved, "2024-03-01", municipality="101")]
    assert ledger.append_lines(lines([*late, *on_the_day])).appended == 2
    after = contact(moved, "2024-03-02", municipality="101")
    assert refusal(ledger, after)[:2] == ("not_responsible", "municipality")


def test_a_move_is_recorded_by_the_municipality_the_person_leaves(
    ledger: Ledger, moved: WireCase
) -> None:
    """Responsibility in valid time (INL § 18 stk. 1; handbook: "En udlænding kan fortsætte sit
    integrationsprogram ved flytning til en anden kommune, hvis tilflytningskommunen godkender";
    DOMAIN.md: "`MunicipalityMoved` is recorded by the municipality the person leaves"): after
    the move to Aarhus, only Aarhus records the next move, and not dated before the person
    arrived."""
    again = moved.event(
        "MunicipalityMoved", "2024-04-01", to_municipality="147", municipality="101"
    )
    assert refusal(ledger, again)[:2] == ("not_responsible", "municipality")
    backdated = moved.event("MunicipalityMoved", "2024-02-01", to_municipality="147")
    assert refusal(ledger, backdated)[:2] == ("not_responsible", "municipality")
    onwards = moved.event("MunicipalityMoved", "2024-04-01", to_municipality="147")
    assert ledger.append_lines(lines([onwards])).appended == 1


def test_only_the_receiving_municipality_decides_the_takeover_on_or_after_the_move(
    ledger: Ledger, moved: WireCase
) -> None:
    """INL § 18 stk. 1 (handbook: "hvis tilflytningskommunen godkender at overtage
    integrationsprogrammet"): the municipality the person moved to decides, not the one left,
    and not before the move."""
    by_the_leaving = moved.event("TakeoverDecided", "2024-03-05", approved=True, municipality="101")
    assert refusal(ledger, by_the_leaving)[:2] == ("not_responsible", "municipality")
    before = moved.event("TakeoverDecided", "2024-02-28", approved=True)
    assert refusal(ledger, before)[:2] == ("not_responsible", "municipality")
    decided = moved.event("TakeoverDecided", "2024-03-05", approved=True)
    assert ledger.append_lines(lines([decided])).appended == 1


def test_a_takeover_on_the_mandatory_ground_cannot_be_refused(
    ledger: Ledger, moved: WireCase
) -> None:
    """Mandatory takeover (INL § 18 stk. 2; handbook: "Tilflytningskommunen skal overtage
    integrationsprogrammet, hvis flytningen er af væsentlig betydning for den pågældendes
    integrationsforløb, eller hvis særlige personlige forhold taler herfor")."""
    refused = moved.event("TakeoverDecided", "2024-03-05", approved=False, ground="mandatory")
    code, field, message = refusal(ledger, refused)
    assert (code, field) == ("rule_violation", "approved")
    assert "(INL § 18 stk. 2)" in message
    discretionary = moved.event(
        "TakeoverDecided", "2024-03-05", approved=False, ground="discretionary"
    )
    assert ledger.append_lines(lines([discretionary])).appended == 1


def test_a_status_request_names_the_municipality_responsible_on_its_date(
    ledger: Ledger, moved: WireCase
) -> None:
    """Responsibility in valid time (bill remark: "Kommunen henholdsvis staten får pligt til at
    udarbejde en status ... når Udlændingestyrelsen anmoder herom"; DOMAIN.md: "`StatusRequested`
    names the responsible municipality as its `municipality`"), on the request's date:
    København for a request dated before the move, Aarhus after it."""

    def request(on: str, municipality: str) -> dict[str, Any]:
        return moved.event(
            "StatusRequested",
            on,
            request_id=f"R-{on}",
            due_on="2024-06-01",
            municipality=municipality,
            recorded_by="udlaendingestyrelsen",
        )

    assert refusal(ledger, request("2024-03-10", "101"))[:2] == ("not_responsible", "municipality")
    assert refusal(ledger, request("2024-02-10", "751"))[:2] == ("not_responsible", "municipality")
    accepted = [request("2024-02-10", "101"), request("2024-03-10", "751")]
    assert ledger.append_lines(lines(accepted)).appended == 2


# --- second edition: corrections belong to whoever made the record ----------------------------
#
# Bill remark: "Der er tale om én kontrakt, som følger den enkelte, indtil pågældende opnår
# tidsubegrænset opholdstilladelse. Integrationskontrakten vil på den måde give en komplet
# historik over udlændingens ophold og deltagelse i aktiviteter og tilbud i Danmark."


def sanctioned_then_moved(ledger: Ledger, case: WireCase) -> tuple[dict[str, Any], ...]:
    """København records an absence and sanctions it, the person moves to Aarhus, and Aarhus
    approves the takeover. Returns the absence and the sanction."""
    absence = case.absence("O-1", on="2024-02-05")
    sanction = case.event(
        "SanctionImposed",
        "2024-02-12",
        sanction_id="S-1",
        kind="deduction",
        grounds=[absence["event_id"]],
        amount_dkk="500.00",
    )
    move = case.moved("751", on="2024-03-01")
    takeover = case.event("TakeoverDecided", "2024-03-05", approved=True, ground="discretionary")
    ledger.append_lines(lines([absence, sanction, move, takeover]))
    return absence, sanction


def test_only_the_recording_municipality_retracts_its_record(
    ledger: Ledger, case: WireCase
) -> None:
    """Corrections by the recorder (INL § 19 stk. 8, bill remark: "en komplet historik";
    DOMAIN.md: "only the municipality that recorded an event may retract it"): Aarhus, now
    responsible, cannot retract the sanction København imposed."""
    _, sanction = sanctioned_then_moved(ledger, case)
    retraction = case.event(
        "EventRetracted", "2024-03-10", retracts=sanction["event_id"], reason="not ours to keep"
    )
    code, field, message = refusal(ledger, retraction)
    assert (code, field) == ("not_responsible", "municipality")
    assert "recorded by municipality 101" in message
    assert "(INL § 19 stk. 8)" in message


def test_the_recording_municipality_retracts_its_record_after_the_person_moved(
    ledger: Ledger, case: WireCase
) -> None:
    """Corrections by the recorder (INL § 19 stk. 8; bill remark: "Integrationskontrakten vil
    på den måde give en komplet historik"; DOMAIN.md: "only the municipality that recorded an
    event may retract it (even after the person moved away)")."""
    absence, _ = sanctioned_then_moved(ledger, case)
    retraction = case.event(
        "EventRetracted",
        "2024-04-02",
        retracts=absence["event_id"],
        reason="entered in error",
        municipality="101",
    )
    assert ledger.append_lines(lines([retraction])).appended == 1


def test_only_the_imposing_municipality_overturns_its_sanction_on_reconsideration(
    ledger: Ledger, case: WireCase
) -> None:
    """Corrections by the recorder (INL § 19 stk. 8; bill remark: "en komplet historik";
    DOMAIN.md: "only the imposing municipality records `SanctionOverturned` with `by:
    municipality`"), also after a move."""
    sanctioned_then_moved(ledger, case)
    by_aarhus = case.event("SanctionOverturned", "2024-03-10", sanction_id="S-1", by="municipality")
    code, field, message = refusal(ledger, by_aarhus)
    assert (code, field) == ("not_responsible", "municipality")
    assert "municipality 101 imposed it" in message
    by_kobenhavn = case.event(
        "SanctionOverturned", "2024-03-10", sanction_id="S-1", by="municipality", municipality="101"
    )
    assert ledger.append_lines(lines([by_kobenhavn])).appended == 1


def test_ankestyrelsens_overturn_is_recorded_by_the_imposing_or_the_responsible_municipality(
    ledger: Ledger, case: WireCase
) -> None:
    """Corrections by the recorder (INL § 19 stk. 8; bill remark: "en komplet historik";
    DOMAIN.md: "`by: ankestyrelsen` may also be recorded by the municipality responsible when
    the decision arrives"): Aarhus may record it, a municipality that never had the case may
    not."""
    sanctioned_then_moved(ledger, case)
    by_stranger = case.event(
        "SanctionOverturned",
        "2024-03-10",
        sanction_id="S-1",
        by="ankestyrelsen",
        municipality="147",
    )
    assert refusal(ledger, by_stranger)[:2] == ("not_responsible", "municipality")
    by_aarhus = case.event(
        "SanctionOverturned", "2024-03-10", sanction_id="S-1", by="ankestyrelsen"
    )
    assert ledger.append_lines(lines([by_aarhus])).appended == 1


def status_request(case: WireCase, request_id: str = "R-1") -> dict[str, Any]:
    return case.event(
        "StatusRequested",
        "2024-01-15",
        request_id=request_id,
        due_on="2024-02-15",
        recorded_by="udlaendingestyrelsen",
    )


def test_a_municipality_may_not_retract_a_status_request(ledger: Ledger, case: WireCase) -> None:
    """Corrections by the recorder (bill remark: the municipality has the duty to report "når
    Udlændingestyrelsen anmoder herom"; DOMAIN.md: "The immigration service retracts only its
    own `StatusRequested`"): the request is Udlændingestyrelsen's record, not the municipality's
    it names."""
    request = status_request(case)
    ledger.append_lines(lines([request]))
    by_kobenhavn = case.event(
        "EventRetracted", "2024-01-16", retracts=request["event_id"], reason="not asked"
    )
    code, field, message = refusal(ledger, by_kobenhavn)
    assert (code, field) == ("not_responsible", "municipality")
    assert "recorded by Udlændingestyrelsen" in message
    by_the_service = case.event(
        "EventRetracted",
        "2024-01-16",
        retracts=request["event_id"],
        reason="sent for the wrong person",
        recorded_by="udlaendingestyrelsen:token-7",
    )
    assert ledger.append_lines(lines([by_the_service])).appended == 1


def test_the_immigration_service_retracts_only_its_own_status_requests(
    ledger: Ledger, case: WireCase
) -> None:
    """Corrections by the recorder (INL § 19 stk. 8; bill remark: "en komplet historik";
    DOMAIN.md: "The immigration service retracts only its own `StatusRequested`"): a
    municipality's record is not the service's to correct."""
    offer = case.offer("O-2")
    ledger.append_lines(lines([offer]))
    retraction = case.event(
        "EventRetracted",
        "2024-01-16",
        retracts=offer["event_id"],
        reason="looks wrong",
        recorded_by="udlaendingestyrelsen",
    )
    assert refusal(ledger, retraction)[:2] == ("not_responsible", "recorded_by")


# --- second edition: legal limits enforced at append ------------------------------------------


def test_nothing_is_dated_before_t0(ledger: Ledger, case: WireCase) -> None:
    """Before T0 (INL § 19 stk. 2; handbook: "For flygtninge kan integrationskontrakten indgås
    før kommunen overtager integrationsansvaret"; DOMAIN.md: "No event is dated before T0,
    except a refugee's `ContractSigned` / `DeclarationSigned`")."""
    code, field, message = refusal(ledger, contact(case, "2024-01-01"))
    assert (code, field) == ("rule_violation", "occurred_on")
    assert "before T0 (2024-01-02)" in message
    assert "(INL § 19 stk. 2)" in message


def contract(case: WireCase, on: str) -> dict[str, Any]:
    return case.event(
        "ContractSigned",
        on,
        contract_id="K-1",
        employment_goal="work",
        weekly_hours=37,
        activities=[],
        sanctions_described=True,
    )


def test_a_refugees_contract_and_declaration_may_be_signed_before_t0(ledger: Ledger) -> None:
    """Before T0 (INL § 19 stk. 2; handbook: "For flygtninge kan integrationskontrakten indgås
    før kommunen overtager integrationsansvaret jf. INL 19 stk. 2"): for a refugee only."""
    refugee, reunified = WireCase("P-R"), WireCase("P-F")
    ledger.append_lines(
        lines(
            [
                refugee.opened("2024-02-01"),
                reunified.opened("2024-02-01", category="family_reunified"),
            ]
        )
    )
    early = [contract(refugee, "2024-01-20"), refugee.event("DeclarationSigned", "2024-01-20")]
    assert ledger.append_lines(lines(early)).appended == 2
    assert refusal(ledger, contract(reunified, "2024-01-20"))[:2] == (
        "rule_violation",
        "occurred_on",
    )


def suspension(case: WireCase, **period: str) -> dict[str, Any]:
    return case.event(
        "SanctionImposed",
        "2024-01-10",
        sanction_id=f"S-{case.count}",
        kind="suspension",
        grounds=[],
        **period,
    )


def test_a_suspension_lasts_at_most_three_months(ledger: Ledger, case: WireCase) -> None:
    """Suspension (AKL § 40 a stk. 1; handbook: "mister ... hjælpen i en periode på op til 3
    måneder"): at most 3 calendar months, the end of a shorter month clamped."""
    lawful = [
        suspension(case, starts_on="2024-01-10", ends_on="2024-04-10"),
        suspension(case, starts_on="2024-01-31", ends_on="2024-04-30"),
    ]
    assert ledger.append_lines(lines(lawful)).appended == 2
    too_long = suspension(case, starts_on="2024-01-10", ends_on="2024-04-11")
    code, field, message = refusal(ledger, too_long)
    assert (code, field) == ("rule_violation", "ends_on")
    assert "may end on 2024-04-10 at the latest, AKL § 40 a" in message


def test_a_suspension_without_dates_starts_when_imposed_and_must_name_its_end(
    ledger: Ledger, case: WireCase
) -> None:
    """Suspension (AKL § 40 a stk. 1: "i en periode på op til 3 måneder"): without `starts_on`
    it runs from the day it is imposed; without `ends_on` it is open-ended, which the limit
    does not allow."""
    assert ledger.append_lines(lines([suspension(case, ends_on="2024-04-10")])).appended == 1
    assert refusal(ledger, suspension(case, ends_on="2024-04-11"))[:2] == (
        "rule_violation",
        "ends_on",
    )
    code, field, message = refusal(ledger, suspension(case, starts_on="2024-01-10"))
    assert (code, field) == ("rule_violation", "ends_on")
    assert "must name its ends_on" in message


def test_a_status_request_is_not_due_before_it_is_made(ledger: Ledger, case: WireCase) -> None:
    """Status request due (bill remark: the municipality reports "når Udlændingestyrelsen
    anmoder herom"; DOMAIN.md: "`due_on`: date, not before `occurred_on`")."""
    early = case.event("StatusRequested", "2024-01-15", request_id="R-1", due_on="2024-01-14")
    code, field, message = refusal(ledger, early)
    assert (code, field) == ("rule_violation", "due_on")
    assert "(UDL § 11)" in message
    same_day = case.event("StatusRequested", "2024-01-15", request_id="R-2", due_on="2024-01-15")
    assert ledger.append_lines(lines([same_day])).appended == 1
