"""The case invariants of DOMAIN.md, each a typed refusal with nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger.application import Ledger
from ledger.errors import BatchRefused
from tests.wire import WireCase, lines


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
    ledger.append_lines(lines([case.moved("751")]))
    old = case.event("ContactAttempted", channel="phone", reached=True, municipality="101")
    assert refusal(ledger, old)[:2] == ("not_responsible", "municipality")
    new = case.event("ContactAttempted", channel="phone", reached=True)
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


def test_the_opening_event_cannot_be_retracted(ledger: Ledger) -> None:
    case = WireCase("P-9")
    opened = case.opened()
    ledger.append_lines(lines([opened]))
    event = case.event("EventRetracted", retracts=opened["event_id"], reason="typo")
    assert refusal(ledger, event)[:2] == ("invalid_field", "retracts")


def test_an_event_cannot_happen_after_the_day_it_is_recorded(
    ledger: Ledger, case: WireCase
) -> None:
    event = case.event("ContactAttempted", on="2999-01-01", channel="phone", reached=True)
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
