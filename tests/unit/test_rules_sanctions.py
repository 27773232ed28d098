"""The sanction accumulation view as a specification of AKL §§ 35-41 and § 69 r.

Given a case's events, when the view is computed as of a day, then incidents, sanctions, totals
and escalation say what INTERFACE.md promises. The standard benefit is 11000.00 DKK a month:
daily rate 11000.00 * 12 / 260 = 507.6923... -> 507.69.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import msgspec
import pytest

from projections.common import to_json
from projections.sanctions import SanctionsView, sanctions_view
from tests.support.builders import CaseBuilder, day, sanctionable_case

RATE = (Decimal("11000.00") * 12 / 260).quantize(Decimal("0.01"), ROUND_HALF_UP)


def view(
    case: CaseBuilder, as_of: str = "2016-12-31", revision: int | None = None
) -> SanctionsView:
    return sanctions_view(case.person, case.events, day(as_of), None, revision)


def contact_case() -> CaseBuilder:
    """An activity-ready recipient of kontanthjælp: personal contact binds (AKL § 35 stk. 2)."""
    return sanctionable_case(readiness="activity_ready", benefit="kontanthjaelp")


def only_incident(
    case: CaseBuilder, as_of: str = "2016-12-31", revision: int | None = None
) -> dict:
    (incident,) = msgspec.to_builtins(view(case, as_of, revision))["incidents"]
    return incident


# --- incidents ------------------------------------------------------------------------------------


def test_absence_with_notice_and_benefit_is_sanctionable_as_a_deduction_under_akl_36() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1", "company_internship")
    case.absence("2016-03-01", "O-1", days=2)

    incident = only_incident(case)

    assert incident["sanctionable"] is True
    assert incident["reasons"] == []
    assert incident["recommended"]["kind"] == "deduction"
    assert incident["recommended"]["paragraph"] == "AKL § 36"
    assert incident["recommended"]["amount_dkk"] == str(RATE * 2) == "1015.38"
    assert incident["daily_rate_dkk"] == str(RATE) == "507.69"


def test_absence_without_written_notice_is_not_sanctionable() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")

    incident = only_incident(case)

    assert incident["sanctionable"] is False
    assert incident["reasons"] == ["no_written_notice"]
    assert incident["recommended"] is None


def test_written_notice_after_the_incident_does_not_count() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")
    case.notified("2016-03-02")

    assert only_incident(case)["reasons"] == ["no_written_notice"]


def test_written_notice_on_the_day_of_the_incident_counts() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04")
    case.offer("2016-02-01", "O-1")
    case.notified("2016-03-01")
    case.absence("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == []


def test_written_notice_about_another_offer_does_not_count() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04")
    case.offer("2016-02-01", "O-1")
    case.offer("2016-02-01", "O-2")
    case.notified("2016-02-01", regarding="O-2")
    case.absence("2016-03-01", "O-1")
    case.absence("2016-03-02", "O-2")

    first, second = view(case).incidents

    assert first.reasons == ["no_written_notice"]
    assert second.reasons == []


def test_written_notice_by_the_previous_municipality_does_not_count_after_a_move() -> None:
    case = sanctionable_case()
    case.moved("2016-02-01", to="147")
    case.takeover("2016-02-05")
    case.offer("2016-02-10", "O-1")
    case.absence("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == ["no_written_notice"]


def test_absence_of_an_activity_ready_person_without_contact_attempt_is_not_sanctionable() -> None:
    case = contact_case()
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == ["no_contact_attempt"]


def test_contact_attempt_before_the_incident_does_not_count() -> None:
    case = contact_case()
    case.offer("2016-02-01", "O-1")
    case.contact("2016-02-28")
    case.absence("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == ["no_contact_attempt"]


def test_contact_attempts_through_two_channels_count_even_when_the_person_was_not_reached() -> None:
    """AKL § 35 stk. 2: the municipality must have "udtømt alle rimelige muligheder for at komme
    i personlig kontakt" [assumption, revision 2: reached, or two different channels]."""
    case = contact_case()
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")
    case.contact("2016-03-04", reached=False)
    case.contact("2016-03-07", channel="letter", reached=False)

    assert only_incident(case, as_of="2016-03-06")["reasons"] == ["no_contact_attempt"]
    assert only_incident(case, as_of="2016-03-07")["reasons"] == []


def test_under_revision_1_one_contact_attempt_counted_even_when_the_person_was_not_reached() -> (
    None
):
    """Revision 1, frozen: one attempt of any kind, on or after the incident, sufficed."""
    case = sanctionable_case(readiness="activity_ready")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")
    case.contact("2016-03-04", reached=False)

    assert only_incident(case, as_of="2016-03-03", revision=1)["reasons"] == ["no_contact_attempt"]
    assert only_incident(case, as_of="2016-03-04", revision=1)["reasons"] == []


def test_contact_attempt_by_another_municipality_does_not_count() -> None:
    case = contact_case()
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")
    case.contact("2016-03-02", municipality="147")

    assert only_incident(case)["reasons"] == ["no_contact_attempt"]


def test_a_job_ready_person_needs_no_contact_attempt_and_the_latest_assessment_decides() -> None:
    case = sanctionable_case(readiness="activity_ready")
    case.readiness("2016-02-15", "job_ready")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == []


def test_absence_with_reasonable_cause_is_never_sanctionable() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1", reasonable_cause="illness")

    incident = only_incident(case)

    assert incident["reasons"] == ["reasonable_cause"]
    assert incident["recommended"] is None


def test_absence_on_a_day_without_benefit_is_not_sanctionable() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.notified("2016-01-10")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")

    incident = only_incident(case)

    assert incident["reasons"] == ["no_benefit"]
    assert incident["daily_rate_dkk"] is None


@pytest.mark.parametrize(
    ("ended_on", "reasons"),
    [("2016-02-29", ["no_benefit"]), ("2016-03-01", []), ("2016-03-02", [])],
)
def test_a_benefit_is_active_through_the_day_it_ends(ended_on: str, reasons: list[str]) -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1")
    case.benefit_ended(ended_on)
    case.absence("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == reasons


def test_every_reason_is_listed() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04", benefit="kontanthjaelp")
    case.readiness("2016-01-05", "activity_ready")
    case.offer("2016-02-01", "O-1")
    case.refusal("2016-03-01", "O-1", reasonable_cause="child_illness")

    assert only_incident(case)["reasons"] == [
        "no_written_notice",
        "no_contact_attempt",
        "reasonable_cause",
        "no_open_offer",
    ]


def test_under_revision_1_every_reason_including_no_benefit_was_listed_together() -> None:
    """Revision 1, frozen: personal contact was asked of every activity-ready person, with or
    without a benefit, so all five reasons could meet in one incident."""
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.readiness("2016-01-05", "activity_ready")
    case.offer("2016-02-01", "O-1")
    case.refusal("2016-03-01", "O-1", reasonable_cause="child_illness")

    assert only_incident(case, revision=1)["reasons"] == [
        "no_written_notice",
        "no_contact_attempt",
        "reasonable_cause",
        "no_open_offer",
        "no_benefit",
    ]


def test_absence_from_an_interview_is_a_deduction_under_akl_37() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1", "interview")
    case.absence("2016-03-01", "O-1", days=1)

    recommended = only_incident(case)["recommended"]

    assert recommended == {
        "kind": "deduction",
        "paragraph": "AKL § 37",
        "amount_dkk": "507.69",
        "rule": "interview_absence_deduction",
    }


def test_refusing_a_job_is_a_reduction_under_akl_39_of_three_daily_rates() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1", "job")
    case.refusal("2016-03-01", "O-1")

    recommended = only_incident(case)["recommended"]

    assert recommended["kind"] == "reduction"
    assert recommended["paragraph"] == "AKL § 39"
    assert recommended["amount_dkk"] == str(RATE * 3) == "1523.07"


def test_refusing_a_job_needs_no_open_offer() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1", "job")
    case.refusal("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == []


def test_refusing_another_offer_while_an_open_offer_stands_is_cessation_under_akl_41() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1", "company_internship")
    case.offer("2016-02-20", "O-OPEN", "guidance_upskilling", "2016-03-01", open_offer=True)
    case.refusal("2016-03-01", "O-1")

    incident = only_incident(case)

    assert incident["reasons"] == []
    assert incident["recommended"] == {
        "kind": "cessation",
        "paragraph": "AKL § 41",
        "amount_dkk": None,
        "rule": "refusal_cessation",
    }


@pytest.mark.parametrize(
    ("starts_on", "municipality"),
    [("2016-02-29", "101"), ("2016-03-10", "147")],
    ids=["open-offer-started-before-the-refusal", "open-offer-of-another-municipality"],
)
def test_refusing_another_offer_without_an_open_offer_is_not_sanctionable(
    starts_on: str, municipality: str
) -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1", "mentor")
    case.offer(
        "2016-02-20", "O-OPEN", "other", starts_on, open_offer=True, municipality=municipality
    )
    case.refusal("2016-03-01", "O-1")

    assert only_incident(case)["reasons"] == ["no_open_offer"]


@pytest.mark.parametrize(
    ("monthly", "rate"),
    [("11000.00", "507.69"), ("10000.00", "461.54"), ("6500.00", "300.00"), ("0.01", "0.00")],
)
def test_daily_rate_is_the_monthly_benefit_times_12_over_260_rounded_half_up_to_ore(
    monthly: str, rate: str
) -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04", monthly=monthly)
    case.notified("2016-01-10")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1", days=3)

    incident = only_incident(case)
    expected = (Decimal(monthly) * 12 / 260).quantize(Decimal("0.01"), ROUND_HALF_UP)

    assert incident["daily_rate_dkk"] == rate == str(expected)
    assert incident["recommended"]["amount_dkk"] == str(expected * 3)


def test_daily_rate_comes_from_the_latest_benefit_active_on_the_incident_day() -> None:
    case = sanctionable_case()
    case.benefit("2016-02-01", monthly="13000.00", benefit="kontanthjaelp")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-01-20", "O-1", days=1)
    case.absence("2016-03-01", "O-1", days=1)

    before, after = view(case).incidents

    assert before.daily_rate_dkk == "507.69"
    assert after.daily_rate_dkk == "600.00"


# --- imposed sanctions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "offer_kind", "paragraph"),
    [
        ("deduction", "company_internship", "AKL § 36"),
        ("deduction", "interview", "AKL § 37"),
        ("reduction", "job", "AKL § 39"),
        ("suspension", "other", "AKL § 40 a"),
        ("cessation", "other", "AKL § 41"),
    ],
)
def test_an_imposed_sanction_names_its_paragraph(
    kind: str, offer_kind: str, paragraph: str
) -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1", offer_kind)
    absence = case.absence("2016-03-01", "O-1")
    case.sanction("2016-03-05", "S-1", kind, grounds=[absence])

    (sanction,) = view(case).sanctions

    assert sanction.paragraph == paragraph


def test_a_deduction_without_grounds_is_under_akl_36_and_dates_from_itself() -> None:
    case = sanctionable_case()
    case.sanction("2016-03-05", "S-1", "deduction", amount_dkk=Decimal("1015.4"))

    (sanction,) = msgspec.to_builtins(view(case))["sanctions"]

    assert sanction["paragraph"] == "AKL § 36"
    assert sanction["incident_on"] == "2016-03-05"
    assert sanction["amount_dkk"] == "1015.40"


def test_a_sanction_reports_municipality_date_amount_and_status() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1")
    absence = case.absence("2016-03-01", "O-1")
    case.sanction("2016-03-05", "S-1", grounds=[absence], amount_dkk=Decimal("1015.38"))

    (sanction,) = msgspec.to_builtins(view(case))["sanctions"]

    assert {k: sanction[k] for k in INTERFACE_SANCTION_KEYS} == {
        "sanction_id": "S-1",
        "kind": "deduction",
        "paragraph": "AKL § 36",
        "municipality": "101",
        "occurred_on": "2016-03-05",
        "amount_dkk": "1015.38",
        "status": "effective",
    }
    assert sanction["amount_dkk"] == str(RATE * 2)


def test_overturned_sanction_no_longer_counts_but_counts_as_of_a_date_before_the_overturn() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1")
    absence = case.absence("2016-03-01", "O-1")
    case.sanction("2016-03-05", "S-1", grounds=[absence])
    case.overturned("2016-06-01", "S-1", by="ankestyrelsen")

    before, after = view(case, "2016-05-31"), view(case, "2016-06-01")

    assert before.sanctions[0].status == "effective"
    assert before.totals.effective == 1
    assert after.sanctions[0].status == "overturned"
    assert after.sanctions[0].overturned_by == "ankestyrelsen"
    assert (after.totals.effective, after.totals.overturned) == (0, 1)


def test_a_sanction_imposed_after_as_of_is_absent() -> None:
    case = sanctionable_case()
    case.sanction("2016-03-05", "S-1")

    assert view(case, "2016-03-04").sanctions == []


def test_totals_by_municipality_and_kind_count_effective_sanctions_only() -> None:
    case = sanctionable_case()
    case.sanction("2016-02-01", "S-1", "deduction")
    case.sanction("2016-02-02", "S-2", "reduction")
    case.sanction("2016-02-03", "S-3", "deduction")
    case.overturned("2016-02-10", "S-3", by="municipality")
    case.moved("2016-03-01", to="147")
    case.sanction("2016-04-01", "S-4", "cessation")

    totals = msgspec.to_builtins(view(case).totals)

    assert totals == {
        "effective": 3,
        "overturned": 1,
        "by_municipality": {"101": 2, "147": 1},
        "by_kind": {"cessation": 1, "deduction": 1, "reduction": 1},
    }


# --- escalation under revision 1, frozen (AKL § 40 a, § 69 r) -------------------------------------
# Revision 1 counted prior sanctions at ``as_of`` without a new incident; revision 2 assesses
# each new sanctionable incident (tests/test_rules_second_edition.py). These pin revision 1, so
# a report made under it is reproduced as it was sent.


def test_two_effective_deductions_within_12_months_make_a_suspension_eligible() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1")
    first = case.absence("2016-03-01", "O-1")
    second = case.absence("2016-05-01", "O-1")
    case.sanction("2016-03-05", "S-1", grounds=[first])
    case.sanction("2016-05-05", "S-2", "reduction", grounds=[second])

    escalation = msgspec.to_builtins(view(case, "2016-06-01", revision=1).escalation)

    assert escalation == {
        "eligible": True,
        "paragraph": "AKL § 40 a",
        "prior": ["S-1", "S-2"],
        "lookback_months": 12,
        "threshold": 2,
        "max_suspension_months": 3,
    }


def test_one_sanction_does_not_make_a_suspension_eligible() -> None:
    case = sanctionable_case()
    case.sanction("2016-03-05", "S-1")

    escalation = view(case, revision=1).escalation

    assert escalation.eligible is False
    assert escalation.prior == ["S-1"]


def test_escalation_looks_back_12_calendar_months_from_as_of_by_incident_date() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1")
    old = case.absence("2016-03-01", "O-1")
    recent = case.absence("2016-09-01", "O-1")
    # Imposed late: the incident's date counts, not the sanction's.
    case.sanction("2016-10-01", "S-OLD", grounds=[old])
    case.sanction("2016-10-02", "S-NEW", grounds=[recent])

    assert view(case, "2017-02-28", revision=1).escalation.prior == ["S-OLD", "S-NEW"]
    assert view(case, "2017-03-01", revision=1).escalation.prior == ["S-NEW"]
    assert view(case, "2017-03-01", revision=1).escalation.eligible is False


def test_escalation_relies_on_sanctions_from_previous_municipality() -> None:
    case = sanctionable_case()
    case.sanction("2016-02-01", "S-KBH")
    case.moved("2016-03-01", to="147")
    case.takeover("2016-03-05")
    case.sanction("2016-04-01", "S-FRB", "reduction")

    escalation = view(case, revision=1).escalation

    assert escalation.eligible is True
    assert escalation.prior == ["S-KBH", "S-FRB"]


def test_overturned_sanctions_do_not_count_towards_escalation() -> None:
    case = sanctionable_case()
    case.sanction("2016-02-01", "S-1")
    case.sanction("2016-02-02", "S-2")
    case.overturned("2016-03-01", "S-2")

    assert view(case, "2016-02-29", revision=1).escalation.eligible is True
    assert view(case, "2016-03-01", revision=1).escalation.prior == ["S-1"]


def test_cessations_and_suspensions_do_not_count_towards_escalation() -> None:
    case = sanctionable_case()
    case.sanction("2016-02-01", "S-1", "cessation")
    case.sanction("2016-02-02", "S-2", "suspension")
    case.sanction("2016-02-03", "S-3", "deduction")

    assert view(case, revision=1).escalation.prior == ["S-3"]


# --- the view as a whole --------------------------------------------------------------------------

INTERFACE_SANCTION_KEYS = (
    "sanction_id",
    "kind",
    "paragraph",
    "municipality",
    "occurred_on",
    "amount_dkk",
    "status",
)


def test_the_view_has_every_key_interface_md_promises() -> None:
    case = sanctionable_case()
    case.offer("2016-02-01", "O-1")
    absence = case.absence("2016-03-01", "O-1")
    case.sanction("2016-03-05", "S-1", grounds=[absence])

    body = msgspec.json.decode(to_json(view(case)))

    assert body["schema"] == "sanctions/1"
    assert {"schema", "person", "as_of", "known_at", "position", "sanctions", "totals"} <= set(body)
    assert {"incidents", "escalation"} <= set(body)
    assert set(INTERFACE_SANCTION_KEYS) <= set(body["sanctions"][0])
    assert {"effective", "overturned", "by_municipality", "by_kind"} <= set(body["totals"])
    incident_keys = {"event_id", "type", "occurred_on", "municipality", "sanctionable"}
    assert incident_keys | {"reasons", "recommended"} <= set(body["incidents"][0])
    assert {"kind", "paragraph", "amount_dkk"} <= set(body["incidents"][0]["recommended"])
    assert {"eligible", "paragraph", "prior", "lookback_months"} <= set(body["escalation"])
    assert (body["person"], body["as_of"], body["position"]) == ("P-1", "2016-12-31", 7)
    assert body["known_at"] == "2016-03-05T12:00:00+00:00"


def test_an_empty_case_has_an_empty_view() -> None:
    result = sanctions_view("P-NONE", [], date(2016, 1, 1), None)

    assert (result.position, result.known_at, result.sanctions, result.incidents) == (
        0,
        None,
        [],
        [],
    )
