"""The contract history as a specification: the bitemporal selection (as_of, known_at,
retractions), the timeline, contract versions and what changed, and the deadlines of INL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
import pytest

from ledger.events import Activity, Personal
from projections.common import add_months, money, to_json
from projections.history import History, contract_history
from tests.support.builders import CaseBuilder, at, day


def history(case: CaseBuilder, as_of: str = "2020-01-01", known_at: str | None = None) -> History:
    return contract_history(
        case.person, case.events, day(as_of), at(known_at) if known_at else None
    )


def types(view: History) -> list[str]:
    return [entry["type"] for entry in view.entries]


# --- the bitemporal selection ---------------------------------------------------------------------


def test_entries_fold_in_order_of_occurrence_then_version() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.offer("2016-03-01", "O-1")
    case.contract("2016-02-01", recorded_at="2016-03-02T09:00:00+00:00")  # backdated
    case.declaration("2016-02-01", recorded_at="2016-03-02T09:00:00+00:00")

    view = history(case)

    assert types(view) == [
        "ResponsibilityAssumed",
        "ContractSigned",
        "DeclarationSigned",
        "OfferMade",
    ]
    assert [entry["position"] for entry in view.entries] == [1, 3, 4, 2]


def test_an_entry_carries_its_wire_fields_and_what_the_ledger_added() -> None:
    case = CaseBuilder()
    stored = case.opened("2016-01-04")

    (entry,) = history(case).entries

    assert entry == {
        "type": "ResponsibilityAssumed",
        "event_id": str(stored.event.event_id),
        "person": "P-1",
        "municipality": "101",
        "occurred_on": "2016-01-04",
        "category": "refugee",
        "residence_basis": "UDL § 7 stk. 1",
        "position": 1,
        "version": 1,
        "recorded_at": "2016-01-04T12:00:00+00:00",
    }


def test_personal_data_appears_only_where_the_event_holds_it() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04", personal=Personal(name="Amal Hassan", birth_date=date(1990, 5, 1)))

    (entry,) = history(case).entries

    assert entry["personal"] == {"name": "Amal Hassan", "birth_date": "1990-05-01"}
    assert "personal_erased" not in entry


def test_erased_personal_data_is_flagged() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.events[0] = msgspec.structs.replace(case.events[0], personal_erased=True)

    (entry,) = history(case).entries

    assert entry["personal_erased"] is True
    assert "personal" not in entry


def test_as_of_leaves_out_what_happened_later() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-02-01")

    assert types(history(case, "2016-01-31")) == ["ResponsibilityAssumed"]


def test_known_at_leaves_out_what_was_recorded_later() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-02-01", recorded_at="2016-02-10T08:00:00+00:00")

    before = history(case, known_at="2016-02-10T07:59:59+00:00")
    after = history(case, known_at="2016-02-10T08:00:00+00:00")

    assert types(before) == ["ResponsibilityAssumed"]
    assert types(after) == ["ResponsibilityAssumed", "ContractSigned"]
    assert (before.position, after.position) == (1, 2)


def test_known_at_is_reported_with_its_offset_in_utc() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")

    view = history(case, known_at="2016-06-01T10:00:00+02:00")

    assert view.known_at == "2016-06-01T08:00:00+00:00"


def test_without_known_at_the_latest_recording_time_is_reported_and_reproduces_the_view() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-02-01", recorded_at="2016-02-03T10:30:00+00:00")

    view = history(case)

    assert view.known_at == "2016-02-03T10:30:00+00:00"
    assert history(case, known_at=view.known_at) == view


def test_an_empty_case_reports_no_known_at_and_position_zero() -> None:
    view = contract_history("P-NONE", [], date(2016, 1, 1), None)

    assert (view.known_at, view.position, view.entries) == (None, 0, [])


def test_a_retraction_hides_its_target_and_is_listed() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    wrong = case.contract("2016-02-01")
    case.retract(wrong, "2016-02-02")

    view = history(case)

    assert types(view) == ["ResponsibilityAssumed"]
    assert view.retracted == [str(wrong.event.event_id)]
    assert view.contracts == []


def test_known_at_before_a_retraction_still_shows_the_retracted_event() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    wrong = case.contract("2016-02-01")
    case.retract(wrong, "2016-02-02", recorded_at="2016-02-02T15:00:00+00:00")

    before = history(case, known_at="2016-02-02T14:59:59+00:00")

    assert types(before) == ["ResponsibilityAssumed", "ContractSigned"]
    assert before.retracted == []


def test_a_retraction_hides_its_target_whatever_the_as_of() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    wrong = case.contract("2016-02-01")
    case.retract(wrong, "2016-09-01")

    view = history(case, as_of="2016-03-01")

    assert types(view) == ["ResponsibilityAssumed"]
    assert view.retracted == [str(wrong.event.event_id)]


# --- contracts ------------------------------------------------------------------------------------


def test_each_contract_version_lists_what_changed_from_the_one_before() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-01-20", "C-1", weekly_hours=30.0)
    case.moved("2016-05-01", to="147")
    case.takeover("2016-05-05")
    case.contract(
        "2016-05-20",
        "C-2",
        weekly_hours=37.0,
        education_goal="social and health care helper",
        activities=[Activity(activity_id="A-1", kind="danish_education", hours_per_week=15.0)],
        set_by_municipality=True,
    )

    first, second = msgspec.json.decode(to_json(history(case)))["contracts"]

    assert first == {
        "contract_id": "C-1",
        "version": 1,
        "event_id": first["event_id"],
        "signed_on": "2016-01-20",
        "municipality": "101",
        "changes": {},
    }
    assert second["municipality"] == "147"
    assert second["changes"] == {
        "contract_id": ["C-1", "C-2"],
        "education_goal": [None, "social and health care helper"],
        "weekly_hours": [30.0, 37.0],
        "activities": [
            [],
            [{"activity_id": "A-1", "kind": "danish_education", "hours_per_week": 15.0}],
        ],
        "set_by_municipality": [False, True],
    }


# --- deadlines ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_on", "as_of", "status"),
    [("2016-02-04", "2016-06-01", "met"), ("2016-02-05", "2016-06-01", "missed"),
     (None, "2016-02-05", "missed"), (None, "2016-02-04", "pending")],
)  # fmt: skip
def test_contract_deadline_is_met_missed_or_pending(
    signed_on: str | None, as_of: str, status: str
) -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    if signed_on:
        case.contract(signed_on)

    deadline = history(case, as_of).deadlines.contract

    assert deadline is not None
    assert (deadline.status, deadline.due_on, deadline.paragraph) == (
        status,
        day("2016-02-04"),
        "INL § 19 stk. 1",
    )


def test_programme_deadline_names_inl_16() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    started = case.program("2016-01-25")

    deadline = history(case).deadlines.program

    assert deadline is not None
    assert (deadline.status, deadline.done_on, deadline.paragraph) == (
        "met",
        day("2016-01-25"),
        "INL § 16 stk. 5",
    )
    assert deadline.done_by == str(started.event.event_id)


def test_a_new_contract_is_due_a_month_after_an_approved_takeover() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-01-20")
    case.moved("2016-05-01", to="147")
    case.takeover("2016-05-10")
    case.contract("2016-06-15", "C-2")

    pending = history(case, "2016-06-10").deadlines.contracts_after_moves
    missed = history(case, "2016-06-15").deadlines.contracts_after_moves

    assert [(d.municipality, d.due_on, d.status) for d in pending] == [
        ("147", day("2016-06-10"), "pending")
    ]
    assert [(d.status, d.paragraph, d.assumption) for d in missed] == [("missed", "INL § 18", True)]


def test_no_new_contract_is_due_after_a_refused_takeover() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.moved("2016-05-01", to="147")
    case.takeover("2016-05-10", approved=False)

    assert history(case).deadlines.contracts_after_moves == []


def test_follow_ups_held_and_next_due() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-01-20")
    case.follow_up("2016-04-01")

    follow_ups = history(case, "2016-05-01").deadlines.follow_ups

    assert (follow_ups.held, follow_ups.due, follow_ups.next_due_on, follow_ups.paragraph) == (
        1,
        1,
        day("2016-07-01"),
        "INL § 20",
    )


def test_the_history_has_every_key_interface_md_promises() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.contract("2016-01-20")

    body = msgspec.json.decode(to_json(history(case)))

    assert body["schema"] == "history/1"
    assert {"person", "as_of", "known_at", "position", "entries", "municipalities"} <= set(body)
    assert {"contracts", "retracted", "deadlines"} <= set(body)
    assert {"contract_id", "signed_on", "municipality", "changes"} <= set(body["contracts"][0])


# --- the shared arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2016-01-31", 1, "2016-02-29"),
        ("2017-01-31", 1, "2017-02-28"),
        ("2016-03-31", -1, "2016-02-29"),
        ("2016-11-15", 3, "2017-02-15"),
        ("2016-01-31", 3, "2016-04-30"),
        ("2016-06-30", -12, "2015-06-30"),
    ],
)
def test_calendar_months_clamp_to_the_end_of_a_shorter_month(
    start: str, months: int, expected: str
) -> None:
    assert add_months(day(start), months) == day(expected)


@pytest.mark.parametrize(
    ("amount", "text"),
    [("507.692307", "507.69"), ("461.538461", "461.54"), ("0.005", "0.01"), ("12", "12.00")],
)
def test_money_is_rounded_half_up_to_ore_with_two_decimals(amount: str, text: str) -> None:
    assert money(Decimal(amount)) == text
