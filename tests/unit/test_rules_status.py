"""The status report for Udlændingestyrelsen as a specification (INTERFACE.md, UDL § 11, INL).

Given a case's events, when the report is made as of a day, then every fact it states follows
the definitions of INTERFACE.md, and its digest can be recomputed by anyone from its JSON.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import msgspec
import pytest

from projections.common import to_json
from projections.status import StatusReport, report_digest, status_report
from tests.support.builders import CaseBuilder, at, day

GENERATED = datetime(2020, 1, 1, tzinfo=UTC)


def report(
    case: CaseBuilder, as_of: str, known_at: str | None = None, revision: int | None = None
) -> StatusReport:
    return status_report(
        case.person,
        case.events,
        day(as_of),
        at(known_at) if known_at else None,
        GENERATED,
        revision,
    )


def opened(on: str = "2016-01-04") -> CaseBuilder:
    case = CaseBuilder()
    case.opened(on)
    return case


# --- municipalities -------------------------------------------------------------------------------


def test_the_first_period_has_no_takeover_and_runs_until_the_move() -> None:
    case = opened()
    case.moved("2016-05-01", to="147")

    periods = msgspec.to_builtins(report(case, "2016-06-01").municipalities)

    assert periods == [
        {"municipality": "101", "from": "2016-01-04", "to": "2016-05-01", "takeover": None,
         "decided_on": None},
        {"municipality": "147", "from": "2016-05-01", "to": None, "takeover": "pending",
         "decided_on": None},
    ]  # fmt: skip
    assert report(case, "2016-06-01").responsible_municipality == "147"
    assert report(case, "2016-04-30").responsible_municipality == "101"


@pytest.mark.parametrize(("approved", "state"), [(True, "approved"), (False, "refused")])
def test_the_receiving_municipality_decides_the_takeover(approved: bool, state: str) -> None:
    case = opened()
    case.moved("2016-05-01", to="147")
    case.takeover("2016-05-20", approved=approved, ground="discretionary")

    assert report(case, "2016-05-19").municipalities[-1].takeover == "pending"
    assert report(case, "2016-05-20").municipalities[-1].takeover == state
    assert report(case, "2016-05-20").municipalities[-1].decided_on == day("2016-05-20")


def test_every_move_opens_a_new_period() -> None:
    case = opened()
    case.moved("2016-05-01", to="147")
    case.takeover("2016-05-02")
    case.moved("2017-01-01", to="751")

    periods = report(case, "2017-02-01").municipalities

    assert [(p.municipality, p.takeover) for p in periods] == [
        ("101", None),
        ("147", "approved"),
        ("751", "pending"),
    ]
    assert periods[1].to == periods[2].from_ == day("2017-01-01")


def test_before_t0_there_is_no_responsible_municipality() -> None:
    case = opened("2016-01-04")

    early = report(case, "2016-01-03")

    assert early.responsible_municipality is None
    assert early.category is None
    assert early.responsibility_assumed_on is None
    assert early.municipalities == []


def test_t0_and_category_come_from_responsibility_assumed() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04", category="family_reunified")

    status = report(case, "2016-02-01")

    assert (status.category, status.responsibility_assumed_on) == (
        "family_reunified",
        day("2016-01-04"),
    )


# --- contract, declaration, programme -------------------------------------------------------------


def test_signed_on_is_the_first_contract_and_versions_counts_them_all() -> None:
    case = opened()
    case.contract("2016-01-20", "C-1")
    case.contract("2016-06-01", "C-2")

    contract = report(case, "2016-07-01").contract

    assert (contract.signed_on, contract.versions) == (day("2016-01-20"), 2)
    assert report(case, "2016-05-31").contract.versions == 1


@pytest.mark.parametrize(
    ("signed_on", "as_of", "met"),
    [
        ("2016-02-04", "2016-12-31", True),  # on the deadline: T0 + 1 calendar month
        ("2016-02-05", "2016-12-31", False),  # signed a day late
        (None, "2016-02-05", False),  # none yet, deadline passed
        (None, "2016-02-04", None),  # none yet, not yet due
    ],
)
def test_contract_deadline_is_one_calendar_month_after_t0_under_inl_19(
    signed_on: str | None, as_of: str, met: bool | None
) -> None:
    case = opened("2016-01-04")
    if signed_on:
        case.contract(signed_on)

    contract = report(case, as_of).contract

    assert contract.deadline_met is met
    assert contract.due_on == day("2016-02-04")
    assert contract.paragraph == "INL § 19 stk. 1"


def test_a_refugee_contract_signed_before_t0_meets_the_deadline() -> None:
    case = opened("2016-01-04")
    case.contract("2015-12-20")

    assert report(case, "2016-03-01").contract.deadline_met is True


def test_deadline_from_the_last_day_of_a_month_is_clamped_to_the_shorter_month() -> None:
    case = opened("2016-01-31")
    case.contract("2016-02-29")
    case.program("2016-03-01")

    status = report(case, "2016-04-01")

    assert status.contract.due_on == day("2016-02-29")
    assert status.contract.deadline_met is True
    assert status.program.deadline_met is False


def test_contract_deadline_is_null_before_t0() -> None:
    case = opened("2016-01-04")

    assert report(case, "2016-01-01").contract.deadline_met is None
    assert report(case, "2016-01-01").contract.paragraph is None


@pytest.mark.parametrize(
    ("started_on", "as_of", "met"),
    [("2016-02-04", "2016-12-31", True), ("2016-03-01", "2016-12-31", False),
     (None, "2016-02-05", False), (None, "2016-01-20", None)],
)  # fmt: skip
def test_programme_starts_within_one_month_of_t0_under_inl_16(
    started_on: str | None, as_of: str, met: bool | None
) -> None:
    case = opened("2016-01-04")
    if started_on:
        case.program(started_on)

    program = report(case, as_of).program

    assert program.deadline_met is met
    assert program.started_on == (day(started_on) if started_on else None)
    assert program.paragraph == "INL § 16 stk. 5"


def test_declaration_signed() -> None:
    case = opened()
    case.declaration("2016-01-20")

    declaration = msgspec.to_builtins(report(case, "2016-02-01").declaration)

    assert declaration == {"signed_on": "2016-01-20", "waived_reason": None, "waived_on": None}


def test_declaration_waived_reports_the_reason_until_one_is_signed() -> None:
    case = opened()
    case.declaration("2016-01-20", waived_reason="hospitalised")
    case.declaration("2016-06-01")

    waived = report(case, "2016-05-31").declaration
    signed = report(case, "2016-06-01").declaration

    assert (waived.signed_on, waived.waived_reason, waived.waived_on) == (
        None,
        "hospitalised",
        day("2016-01-20"),
    )
    assert (signed.signed_on, signed.waived_reason) == (day("2016-06-01"), None)


# --- participation and sanctions ------------------------------------------------------------------


def test_participation_counts_offers_absence_days_excused_days_and_refusals() -> None:
    case = opened()
    case.offer("2016-02-01", "O-1")
    case.offer("2016-02-01", "O-2", "job")
    case.absence("2016-03-01", "O-1", days=3)
    case.absence("2016-03-10", "O-1", days=2, reasonable_cause="illness")
    case.refusal("2016-03-15", "O-2")
    case.absence("2016-04-01", "O-1", days=5)

    participation = msgspec.to_builtins(report(case, "2016-03-31").participation)

    assert participation == {
        "offers": 2,
        "absence_days": 5,
        "absence_days_excused": 2,
        "refusals": 1,
    }


def test_sanctions_are_the_sanction_views_totals() -> None:
    case = opened()
    case.sanction("2016-02-01", "S-1")
    case.sanction("2016-02-02", "S-2")
    case.overturned("2016-02-10", "S-2")
    case.moved("2016-03-01", to="147")
    case.sanction("2016-04-01", "S-3", "reduction")

    sanctions = report(case, "2016-05-01").sanctions

    assert (sanctions.effective, sanctions.overturned) == (2, 1)
    assert sanctions.by_municipality == {"101": 1, "147": 1}


# --- follow-ups (INL § 20) ------------------------------------------------------------------------


def test_follow_ups_are_due_every_three_calendar_months_from_the_first_contract() -> None:
    case = opened()
    case.contract("2016-01-31")
    case.follow_up("2016-04-20")

    assert report(case, "2016-04-29").follow_ups.due == 0
    assert report(case, "2016-04-30").follow_ups.due == 1  # Jan 31 + 3 months, clamped
    assert report(case, "2016-07-31").follow_ups.due == 2
    assert report(case, "2017-01-31").follow_ups.due == 4
    assert report(case, "2017-01-31").follow_ups.held == 1


def test_no_follow_ups_are_due_without_a_contract() -> None:
    case = opened()
    case.follow_up("2016-03-01")

    follow_ups = report(case, "2017-01-01").follow_ups

    assert (follow_ups.held, follow_ups.due, follow_ups.overdue) == (1, 0, False)


def test_no_follow_ups_fall_due_after_one_finds_the_goals_met() -> None:
    case = opened()
    case.contract("2016-01-15")
    case.follow_up("2016-04-10")
    case.follow_up("2016-07-15", goals_met=True)

    follow_ups = report(case, "2017-06-01").follow_ups

    assert follow_ups.due == 2  # Apr 15 and Jul 15; none after the goals were met
    assert follow_ups.overdue is False
    assert follow_ups.goals_met_on == day("2016-07-15")
    assert follow_ups.next_due_on is None


def test_follow_up_is_overdue_more_than_three_months_after_the_latest_one() -> None:
    case = opened()
    case.contract("2016-01-15")
    case.follow_up("2016-03-10")

    assert report(case, "2016-06-10").follow_ups.overdue is False
    assert report(case, "2016-06-11").follow_ups.overdue is True
    assert report(case, "2016-06-11").follow_ups.next_due_on == day("2016-06-10")


def test_follow_up_is_overdue_more_than_three_months_after_the_contract_when_none_was_held() -> (
    None
):
    case = opened()
    case.contract("2016-01-15")

    assert report(case, "2016-04-15").follow_ups.overdue is False
    assert report(case, "2016-04-16").follow_ups.overdue is True
    assert report(case, "2016-04-16").follow_ups.paragraph == "INL § 20"


# --- UDL § 11 facts -------------------------------------------------------------------------------


def test_danish_tests_are_listed_with_their_dates() -> None:
    case = opened()
    case.danish_test("2017-05-01", "pd2")
    case.danish_test("2018-06-01", "pd3")

    tests = msgspec.to_builtins(report(case, "2018-01-01").danish_tests)

    assert tests == [{"test": "pd2", "passed_on": "2017-05-01"}]


def test_help_months_count_calendar_months_with_a_day_of_benefit_in_the_last_36() -> None:
    case = opened()
    case.benefit("2016-01-31")
    case.benefit_ended("2016-03-01")
    case.benefit("2018-12-01", benefit="kontanthjaelp")

    help_ = report(case, "2019-01-15").help

    # Jan, Feb, Mar 2016 and Dec 2018, Jan 2019: all within Feb 2016 .. Jan 2019, except Jan 2016.
    assert help_.months_last_36 == 4
    assert help_.paragraph == "UDL § 11"
    assert report(case, "2018-11-30").help.months_last_36 == 3
    assert report(case, "2019-02-10").help.months_last_36 == 4  # Mar 2016 is the window's first


def test_an_open_benefit_runs_to_as_of() -> None:
    case = opened()
    case.benefit("2016-01-04")

    assert report(case, "2016-01-04").help.months_last_36 == 1
    assert report(case, "2019-12-31").help.months_last_36 == 36


def test_ordinary_employment_months_count_only_ordinary_employment() -> None:
    case = opened()
    case.employment("2017-01-15", "E-1", ordinary=True)
    case.employment_ended("2017-03-01", "E-1")
    case.employment("2017-05-01", "E-2", ordinary=False)

    employment = report(case, "2017-08-31").employment

    assert employment.ordinary_months_last_36 == 3
    assert employment.lookback_months == 36


def test_an_employment_ending_only_closes_its_own_employment() -> None:
    case = opened()
    case.employment("2017-01-15", "E-1")
    case.employment("2017-02-15", "E-2")
    case.employment_ended("2017-02-20", "E-2")

    assert report(case, "2017-06-30").employment.ordinary_months_last_36 == 6


def test_permit_granted_on() -> None:
    case = opened()
    case.permit("2019-06-01")

    assert report(case, "2019-05-31").permit.granted_on is None
    assert report(case, "2019-06-01").permit.granted_on == day("2019-06-01")


def test_a_status_request_is_answered_only_by_a_status_reported_for_it() -> None:
    """Bill remark: the municipality has "pligt til at udarbejde en status"; a follow-up is not
    that status (revision 2)."""
    case = opened()
    case.status_requested("2018-03-01", "R-1", due_on="2018-04-01")
    case.follow_up("2018-03-20")
    case.status_reported("2018-03-25", "R-2")
    case.status_reported("2018-03-28", "R-1")

    before = msgspec.to_builtins(report(case, "2018-03-27").status_requests)
    after = report(case, "2018-03-28").status_requests

    assert before == [
        {
            "request_id": "R-1",
            "requested_on": "2018-03-01",
            "due_on": "2018-04-01",
            "answered": False,
            "answered_on": None,
            "late": False,
        }
    ]
    assert (after[0].answered, after[0].answered_on, after[0].late) == (
        True,
        day("2018-03-28"),
        False,
    )


def test_under_revision_1_a_status_request_was_answered_by_the_next_follow_up() -> None:
    """Revision 1, frozen: any follow-up on or after the request answered it."""
    case = opened()
    case.status_requested("2018-03-01", "R-1", due_on="2018-04-01")
    case.follow_up("2018-03-20")

    before = msgspec.to_builtins(report(case, "2018-03-19", revision=1).status_requests)
    after = report(case, "2018-03-20", revision=1).status_requests

    assert before == [
        {
            "request_id": "R-1",
            "requested_on": "2018-03-01",
            "due_on": "2018-04-01",
            "answered": False,
            "answered_on": None,
        }
    ]
    assert (after[0].answered, after[0].answered_on) == (True, day("2018-03-20"))


# --- the report as a whole ------------------------------------------------------------------------

INTERFACE_KEYS = {
    "schema", "person", "as_of", "known_at", "position", "generated_at", "digest",
    "responsible_municipality", "category", "responsibility_assumed_on", "municipalities",
    "contract", "declaration", "program", "participation", "sanctions", "follow_ups",
    "danish_tests", "employment", "help", "permit", "status_requests",
}  # fmt: skip


def full_case() -> CaseBuilder:
    case = opened()
    case.benefit("2016-01-04")
    case.contract("2016-01-20")
    case.declaration("2016-01-20")
    case.program("2016-02-01")
    case.offer("2016-02-01", "O-1")
    case.absence("2016-03-01", "O-1")
    case.sanction("2016-03-05", "S-1")
    case.follow_up("2016-04-15")
    case.moved("2016-06-01", to="147")
    case.takeover("2016-06-10")
    case.danish_test("2017-05-01")
    case.employment("2017-06-01")
    case.status_requested("2018-03-01", due_on="2018-04-01")
    return case


def test_the_report_has_every_key_interface_md_promises() -> None:
    body = msgspec.json.decode(to_json(report(full_case(), "2018-03-01")))

    assert set(body) >= INTERFACE_KEYS
    assert body["schema"] == "status-report/1"
    assert {"municipality", "from", "to", "takeover"} <= set(body["municipalities"][0])
    assert {"signed_on", "versions", "deadline_met"} <= set(body["contract"])
    assert {"signed_on", "waived_reason"} <= set(body["declaration"])
    assert {"started_on", "deadline_met"} <= set(body["program"])
    assert {"offers", "absence_days", "absence_days_excused", "refusals"} <= set(
        body["participation"]
    )
    assert {"effective", "overturned", "by_municipality"} <= set(body["sanctions"])
    assert {"held", "due", "overdue"} <= set(body["follow_ups"])
    assert {"test", "passed_on"} <= set(body["danish_tests"][0])
    assert "ordinary_months_last_36" in body["employment"]
    assert "months_last_36" in body["help"]
    assert "granted_on" in body["permit"]
    assert {"request_id", "requested_on", "due_on"} <= set(body["status_requests"][0])
    assert body["generated_at"] == "2020-01-01T00:00:00+00:00"


def test_the_digest_covers_the_canonical_json_without_generation_time_and_digest() -> None:
    body = msgspec.json.decode(to_json(report(full_case(), "2018-03-01")))
    digest = body.pop("digest")
    body.pop("generated_at")

    canonical = msgspec.json.Encoder(order="sorted").encode(body)

    assert canonical.startswith(b'{"as_of":"2018-03-01","category":"refugee",')
    assert digest == "sha256:" + hashlib.sha256(canonical).hexdigest()


def test_the_digest_is_stable_across_generation_times_and_recomputable() -> None:
    case = full_case()
    first = report(case, "2018-03-01")
    later = status_report(
        case.person, case.events, day("2018-03-01"), None, datetime(2030, 5, 5, tzinfo=UTC)
    )

    assert first.digest == later.digest == report_digest(first) == report_digest(later)
    assert first.generated_at != later.generated_at
    assert first.digest.startswith("sha256:")


def test_the_digest_changes_when_a_fact_changes() -> None:
    case = full_case()

    assert report(case, "2018-03-01").digest != report(case, "2018-03-02").digest


def test_known_at_and_position_name_what_the_report_reflects() -> None:
    case = full_case()
    latest = case.events[-1]

    now = report(case, "2018-03-01")
    then = report(case, "2018-03-01", known_at="2016-03-05T23:00:00+01:00")

    assert (now.position, now.known_at) == (latest.position, "2018-03-01T12:00:00+00:00")
    assert then.known_at == "2016-03-05T22:00:00+00:00"
    assert then.position == 8
    assert then.responsible_municipality == "101"
    assert report(case, "2018-03-01", known_at=now.known_at) == now


def test_retracted_events_are_left_out_of_every_count() -> None:
    case = opened()
    case.offer("2016-02-01", "O-1")
    absence = case.absence("2016-03-01", "O-1", days=4)
    case.retract(absence, "2016-03-02")

    status = report(case, "2016-04-01")

    assert status.participation.absence_days == 0
    assert status.participation.offers == 1
