"""Rule pack revision 2: the rules the second edition of the brief corrected or added, each
proven by a test whose docstring names its paragraph and the source passage it follows
(``shared/seeds``: the 2015 handbook and the 2005/06 bill remark).

Given a case's events, when a projection is folded under the latest revision, then it says what
the law says; where revision 1 read the law otherwise, the same case under revision 1 shows the
old reading, frozen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from projections.deadlines import worklist
from projections.sanctions import SanctionsView, sanctions_view
from projections.status import StatusReport, status_report
from tests.support.builders import CaseBuilder, day, sanctionable_case

GENERATED = datetime(2026, 11, 23, 12, tzinfo=UTC)


def report(case: CaseBuilder, as_of: str, revision: int | None = None) -> StatusReport:
    return status_report(case.person, case.events, day(as_of), None, GENERATED, revision)


def sanctions(case: CaseBuilder, as_of: str, revision: int | None = None) -> SanctionsView:
    return sanctions_view(case.person, case.events, day(as_of), None, revision)


def incidents(case: CaseBuilder, as_of: str, revision: int | None = None) -> list[dict]:
    return msgspec.to_builtins(sanctions(case, as_of, revision))["incidents"]


def ready(benefit: str = "kontanthjaelp", readiness: str = "activity_ready") -> CaseBuilder:
    return sanctionable_case(readiness, benefit)


# --- immigrants (INL § 2 stk. 5) ------------------------------------------------------------------


def test_an_immigrant_has_no_contract_programme_or_follow_up_deadlines() -> None:
    """INL § 2 stk. 5; handbook: "Indvandrere er i medfør af INL 2 stk. 5 ikke omfattet af
    lovens kap. 3, 4, 5, 6 og 7"."""
    case = CaseBuilder()
    case.opened("2016-01-04", category="immigrant")
    case.program("2016-03-01", kind="introduction_course")

    status = report(case, "2017-01-01")

    assert (status.contract.applies, status.contract.deadline_met) == (False, None)
    assert (status.program.applies, status.program.deadline_met) == (False, None)
    follow_ups = status.follow_ups
    assert (follow_ups.applies, follow_ups.due, follow_ups.overdue) == (False, None, None)
    assert follow_ups.next_due_on is None
    assert worklist("101", [(case.person, case.events)], day("2017-01-01")).items == []


def test_under_revision_1_an_immigrant_was_reported_as_missing_every_deadline() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04", category="immigrant")

    status = report(case, "2017-01-01", revision=1)

    assert status.contract.deadline_met is False
    assert [
        i.kind for i in worklist("101", [(case.person, case.events)], day("2017-01-01"), 1).items
    ] == [
        "contract",
        "program",
    ]


def test_a_refugee_still_has_every_deadline() -> None:
    """INL §§ 16 stk. 5, 19 stk. 1: contract and programme within a month of T0."""
    case = CaseBuilder()
    case.opened("2016-01-04")

    status = report(case, "2016-03-01")

    assert (status.contract.applies, status.contract.deadline_met) == (True, False)
    assert status.follow_ups.applies is True


# --- follow-up (INL § 20) -------------------------------------------------------------------------


def followed_up() -> CaseBuilder:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-01-15")
    return case


def test_a_later_follow_up_with_goals_not_met_brings_the_three_month_duty_back() -> None:
    """INL § 20 stk. 1-2; handbook: follow-up "mindst hver 3. måned" until the goals are met,
    then "alene ... ved behov": what the *latest* follow-up says decides."""
    case = followed_up()
    case.follow_up("2016-04-10", goals_met=True)
    case.follow_up("2016-09-01", goals_met=False)

    met = report(case, "2016-08-31").follow_ups
    again = report(case, "2016-12-02").follow_ups

    assert (met.next_due_on, met.interval_months, met.overdue) == (None, None, False)
    assert met.goals_met_on == day("2016-04-10")
    assert (again.next_due_on, again.interval_months) == (day("2016-12-01"), 3)
    assert again.overdue is True
    assert again.goals_met_on is None


def test_a_new_contract_version_after_goals_were_met_brings_the_duty_back() -> None:
    """INL § 20 stk. 1; a new contract version sets new goals (INL § 19 stk. 4)."""
    case = followed_up()
    case.follow_up("2016-04-10", goals_met=True)
    case.contract("2016-06-01", employment_goal="a new goal")

    follow_ups = report(case, "2016-07-01").follow_ups

    assert follow_ups.next_due_on == day("2016-09-01")
    assert follow_ups.interval_months == 3


def test_under_revision_1_the_first_goals_met_ended_the_duty_for_good() -> None:
    case = followed_up()
    case.follow_up("2016-04-10", goals_met=True)
    case.follow_up("2016-09-01", goals_met=False)

    assert report(case, "2016-12-02", revision=1).follow_ups.next_due_on is None


def test_ordinary_work_without_help_needs_a_follow_up_every_12_months() -> None:
    """Handbook on INL § 20: "For udlændinge i ordinær beskæftigelse eller uddannelse, som ikke
    modtager kontanthjælp, skal opfølgning mindst ske hver 12 måned"."""
    case = followed_up()
    case.benefit("2016-01-04")
    case.follow_up("2016-04-10")
    case.employment("2016-05-01")
    case.benefit_ended("2016-04-30")
    case.follow_up("2016-06-01")

    follow_ups = report(case, "2016-10-01").follow_ups

    assert (follow_ups.interval_months, follow_ups.next_due_on) == (12, day("2017-06-01"))
    assert follow_ups.overdue is False


def test_ordinary_education_without_help_needs_a_follow_up_every_12_months() -> None:
    """Handbook on INL § 20: "ordinær beskæftigelse eller uddannelse" (EducationStarted)."""
    case = followed_up()
    case.education("2016-02-01")
    case.follow_up("2016-03-01")

    assert report(case, "2016-07-01").follow_ups.interval_months == 12


def test_work_or_education_with_help_keeps_the_three_month_interval() -> None:
    """Handbook on INL § 20: the 12 months are for those "som ikke modtager kontanthjælp"."""
    case = followed_up()
    case.benefit("2016-01-04")
    case.employment("2016-02-01", hours=15)
    case.education("2016-02-01", ordinary=True)
    case.follow_up("2016-03-01")

    follow_ups = report(case, "2016-07-01").follow_ups

    assert (follow_ups.interval_months, follow_ups.next_due_on) == (3, day("2016-06-01"))
    assert follow_ups.overdue is True


def test_wage_subsidised_work_keeps_the_three_month_interval() -> None:
    """Handbook on INL § 20: "ordinær beskæftigelse"; a wage subsidy is not ordinary work."""
    case = followed_up()
    case.employment("2016-02-01", ordinary=False)

    assert report(case, "2016-03-01").follow_ups.interval_months == 3


# --- sanctions: interviews, personal contact, ressourceforløbsydelse ------------------------------


def test_a_refused_interview_points_to_a_deduction_under_akl_37_not_cessation() -> None:
    """AKL § 37; handbook: "fradrag i hjælpen ved udeblivelse fra samtaler m.v. jf. AKL 37";
    the days run until renewed contact, which the caseworker sets (no amount)."""
    case = ready(readiness="job_ready")
    case.offer("2016-02-01", "O-1", "interview")
    case.refusal("2016-02-03", "O-1")

    (incident,) = incidents(case, "2016-03-01")

    assert incident["reasons"] == []
    assert incident["recommended"] == {
        "kind": "deduction",
        "paragraph": "AKL § 37",
        "amount_dkk": None,
        "rule": "refused_interview_deduction",
    }
    (old,) = incidents(case, "2016-03-01", revision=1)
    assert old["recommended"] is None
    assert old["reasons"] == ["no_open_offer"]


def test_a_deduction_grounded_on_a_refused_interview_is_under_akl_37() -> None:
    """AKL § 37 ("samtaler m.v.")."""
    case = ready(readiness="job_ready")
    case.offer("2016-02-01", "O-1", "interview")
    refused = case.refusal("2016-02-03", "O-1")
    case.sanction("2016-02-10", "S-1", grounds=[refused])

    assert sanctions(case, "2016-03-01").sanctions[0].paragraph == "AKL § 37"


def test_personal_contact_is_not_required_of_an_integrationsydelse_recipient() -> None:
    """AKL § 35 stk. 2; handbook: contact before sanctioning "aktivitetsparate modtagere af
    uddannelses- eller kontanthjælp" (and ressourceforløbsydelse, § 69 l)."""
    case = ready(benefit="integrationsydelse")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")

    assert incidents(case, "2016-04-01")[0]["reasons"] == []


def test_personal_contact_is_met_by_reaching_the_person_or_trying_two_channels() -> None:
    """AKL § 35 stk. 2: "udtømt alle rimelige muligheder for at komme i personlig kontakt"
    [assumption: reached, or two different channels]."""
    one = ready()
    one.offer("2016-02-01", "O-1")
    one.absence("2016-03-01", "O-1")
    one.contact("2016-03-02", channel="phone", reached=False)
    one.contact("2016-03-03", channel="phone", reached=False)
    reached = ready()
    reached.offer("2016-02-01", "O-1")
    reached.absence("2016-03-01", "O-1")
    reached.contact("2016-03-02", channel="phone", reached=True)

    assert incidents(one, "2016-04-01")[0]["reasons"] == ["no_contact_attempt"]
    assert incidents(reached, "2016-04-01")[0]["reasons"] == []


def test_contact_attempts_after_the_decision_do_not_count() -> None:
    """AKL § 35 stk. 2: the contact comes *before* the sanction ("Forud for fradrag")."""
    case = ready()
    case.offer("2016-02-01", "O-1")
    absence = case.absence("2016-03-01", "O-1")
    case.sanction("2016-03-05", "S-1", grounds=[absence])
    case.contact("2016-03-07", reached=True)

    view = sanctions(case, "2016-04-01")

    assert view.incidents[0].reasons == ["no_contact_attempt"]
    assert view.sanctions[0].unsupported == ["no_contact_attempt"]


def test_ressourceforloebsydelse_incidents_cite_akl_69_l_to_69_r() -> None:
    """AKL §§ 69 l-69 r; handbook: sanctions on ressourceforløbsydelse "svarer stort set til
    sanktionerne for kontanthjælpsmodtagere" — same kind and amount, their own paragraphs."""
    case = ready(benefit="ressourceforloebsydelse", readiness="job_ready")
    case.offer("2016-02-01", "O-1")
    absence = case.absence("2016-03-01", "O-1", days=2)
    case.sanction("2016-03-10", "S-1", grounds=[absence], amount_dkk=Decimal("1015.38"))

    view = sanctions(case, "2016-04-01")

    recommended = view.incidents[0].recommended
    assert recommended is not None
    assert (recommended.kind, recommended.paragraph, recommended.amount_dkk) == (
        "deduction",
        "AKL §§ 69 l–69 r",  # noqa: RUF001 -- the paragraph as INTERFACE.md spells it
        "1015.38",
    )
    assert view.sanctions[0].paragraph == "AKL §§ 69 l–69 r"  # noqa: RUF001


# --- § 40 a ---------------------------------------------------------------------------------------


def twice_sanctioned(benefit: str = "kontanthjaelp") -> tuple[CaseBuilder, list]:
    case = ready(benefit=benefit, readiness="job_ready")
    case.offer("2016-02-01", "O-1")
    first = case.absence("2016-03-01", "O-1")
    second = case.absence("2016-05-02", "O-1")
    case.sanction("2016-03-05", "S-1", grounds=[first])
    case.sanction("2016-05-05", "S-2", "reduction", grounds=[second])
    return case, [first, second]


def test_suspension_eligibility_needs_a_new_sanctionable_incident() -> None:
    """AKL § 40 a stk. 1: suspension when the person "gentagne gange uden rimelig grund har
    undladt at opfylde sin rådighedsforpligtigelse" — the repetition is a new breach."""
    case, _ = twice_sanctioned()

    before = sanctions(case, "2016-06-01")
    case.absence("2016-06-06", "O-1")
    after = sanctions(case, "2016-06-07")

    # The latest incident so far relies on one prior: not yet "gentagne gange".
    assert (before.escalation.eligible, before.escalation.prior) == (False, ["S-1"])
    assert (after.escalation.eligible, after.escalation.prior) == (True, ["S-1", "S-2"])
    assert msgspec.to_builtins(after.incidents[-1])["escalation"] == {
        "eligible": True,
        "prior": ["S-1", "S-2"],
    }
    assert sanctions(case, "2016-06-01", revision=1).escalation.eligible is True


def test_an_incident_already_in_a_suspensions_grounds_is_answered() -> None:
    """AKL § 40 a: once suspended for it, the incident no longer points to escalation; the next
    one must come before the ledger flags again."""
    case, _ = twice_sanctioned()
    case.offer("2016-06-01", "O-2", open_offer=True, starts_on="2016-06-20")
    third = case.absence("2016-06-06", "O-1")
    case.sanction(
        "2016-06-10",
        "S-3",
        "suspension",
        grounds=[third],
        starts_on=day("2016-06-10"),
        ends_on=day("2016-09-09"),
    )

    view = sanctions(case, "2016-07-01")

    assert view.incidents[-1].escalation.eligible is True  # type: ignore[union-attr]
    # The escalation now is that of the latest incident the suspension did not answer.
    assert (view.escalation.eligible, view.escalation.prior) == (False, ["S-1"])
    assert view.sanctions[-1].unsupported == []


def test_section_40_a_does_not_apply_to_ressourceforloebsydelse() -> None:
    """AKL § 40 a stk. 1: only help "efter AKL 22, 23 og 25" (handbook)."""
    case, _ = twice_sanctioned("ressourceforloebsydelse")
    case.absence("2016-06-06", "O-1")

    view = sanctions(case, "2016-06-07")

    assert view.escalation.eligible is False
    assert msgspec.to_builtins(view.incidents[-1])["escalation"] == {
        "eligible": False,
        "prior": [],
    }


def test_a_suspension_is_checked_against_the_law_and_never_refused() -> None:
    """AKL § 40 a stk. 1: "i en periode på op til 3 måneder", only help under §§ 22, 23 and 25,
    with an open offer at the same time; the ledger makes a shortfall visible, a caseworker
    decides."""
    case = ready(benefit="ressourceforloebsydelse", readiness="job_ready")
    case.offer("2016-02-01", "O-1")
    absence = case.absence("2016-03-01", "O-1")
    case.sanction(
        "2016-03-10",
        "S-1",
        "suspension",
        grounds=[absence],
        starts_on=day("2016-03-10"),
        ends_on=day("2017-03-09"),
    )

    (imposed,) = sanctions(case, "2016-04-01").sanctions

    assert imposed.paragraph == "AKL § 40 a"
    assert imposed.unsupported == ["no_open_offer", "suspension_too_long", "benefit_not_covered"]
    assert "unsupported" not in msgspec.to_builtins(sanctions(case, "2016-04-01", 1).sanctions[0])


def test_an_overturned_sanction_names_the_day_it_was_overturned() -> None:
    """A sanction overturned on appeal no longer counts from the overturn on; reports still show
    it, marked overturned."""
    case, _ = twice_sanctioned()
    case.overturned("2016-07-01", "S-1")

    (first, _second) = sanctions(case, "2016-08-01").sanctions

    assert (first.status, first.overturned_on) == ("overturned", day("2016-07-01"))


# --- status report --------------------------------------------------------------------------------


def test_a_status_request_answered_after_its_due_date_is_late() -> None:
    """Bill remark: the municipality gets "pligt til at udarbejde en status over udlændingens
    deltagelse ... når Udlændingestyrelsen anmoder herom"; only StatusReported answers."""
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.status_requested("2016-03-01", "R-1", due_on="2016-03-31")
    case.status_reported("2016-04-05", "R-1")

    unanswered = msgspec.to_builtins(report(case, "2016-04-01").status_requests)
    answered = msgspec.to_builtins(report(case, "2016-04-05").status_requests)

    assert (unanswered[0]["answered_on"], unanswered[0]["late"]) == (None, True)
    assert (answered[0]["answered_on"], answered[0]["late"]) == ("2016-04-05", True)


def test_part_time_work_does_not_count_as_full_time_employment() -> None:
    """UDL § 11 (as of 2016): ordinary *full-time* employment [assumption: at least 30 hours a
    week]; wage subsidy does not count."""
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.employment("2016-02-01", "E-1", hours=20)
    case.employment("2016-05-01", "E-2", hours=37)
    case.employment("2016-02-01", "E-3", ordinary=False, hours=37)

    employment = report(case, "2016-06-30").employment

    assert employment.ordinary_months_last_36 == 5
    assert employment.full_time_months_last_36 == 2
    assert employment.full_time_hours == 30
