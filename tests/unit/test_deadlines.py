"""The deadlines worklist as a specification: what a municipality has due or overdue on a day
(INL §§ 16, 18, 19, 20 and Udlændingestyrelsen's status requests)."""

from __future__ import annotations

import msgspec

from projections.common import to_json
from projections.deadlines import Worklist, worklist
from tests.support.builders import CaseBuilder, day


def work(municipality: str, on: str, *cases: CaseBuilder, revision: int | None = None) -> Worklist:
    return worklist(municipality, [(c.person, c.events) for c in cases], day(on), revision)


def items(
    municipality: str, on: str, *cases: CaseBuilder, revision: int | None = None
) -> list[tuple[str, str, bool]]:
    return [
        (i.kind, i.due_on.isoformat(), i.overdue)
        for i in work(municipality, on, *cases, revision=revision).items
    ]


def opened(person: str = "P-1", on: str = "2016-01-04") -> CaseBuilder:
    case = CaseBuilder(person)
    case.opened(on)
    return case


def test_a_new_case_has_its_contract_and_programme_due_within_a_month_of_t0() -> None:
    case = opened()

    assert items("101", "2016-01-04", case) == [
        ("contract", "2016-02-04", False),
        ("program", "2016-02-04", False),
    ]


def test_on_the_due_date_it_is_due_and_the_day_after_overdue() -> None:
    case = opened()

    assert items("101", "2016-02-04", case)[0] == ("contract", "2016-02-04", False)
    assert items("101", "2016-02-05", case)[0] == ("contract", "2016-02-04", True)


def test_a_signed_contract_and_a_started_programme_leave_the_worklist() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")

    assert items("101", "2016-01-25", case) == []


def test_each_item_names_its_person_and_paragraph() -> None:
    case = opened()

    body = msgspec.json.decode(to_json(work("101", "2016-01-10", case)))

    assert body["schema"] == "deadlines/1"
    assert body["items"][0] == {
        "person": "P-1",
        "kind": "contract",
        "due_on": "2016-02-04",
        "overdue": False,
        "paragraph": "INL § 19 stk. 1",
        "reference": None,
    }
    assert body["items"][1]["paragraph"] == "INL § 16 stk. 5"


def test_only_cases_the_municipality_is_responsible_for_on_the_day_are_listed() -> None:
    moving = opened("P-MOVES")
    moving.moved("2016-01-20", to="147")
    staying = opened("P-STAYS")

    before = work("101", "2016-01-19", moving, staying)
    after = work("101", "2016-01-20", moving, staying)

    assert {i.person for i in before.items} == {"P-MOVES", "P-STAYS"}
    assert {i.person for i in after.items} == {"P-STAYS"}
    assert {i.person for i in work("147", "2016-01-20", moving, staying).items} == {"P-MOVES"}


def test_after_an_approved_takeover_a_new_contract_is_due_a_month_after_the_approval() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")
    case.moved("2016-05-01", to="147")
    case.takeover("2016-05-10")

    (item,) = [i for i in work("147", "2016-05-10", case).items if i.kind != "follow_up"]

    assert (item.kind, item.due_on, item.overdue, item.paragraph) == (
        "contract_after_move",
        day("2016-06-10"),
        False,
        "INL § 18",
    )


def test_a_contract_by_the_receiving_municipality_after_the_move_meets_it() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")
    case.moved("2016-05-01", to="147")
    case.takeover("2016-05-10")
    case.contract("2016-05-20", "C-2")

    # Only the follow-up the first contract started (due 2016-04-20) is left.
    assert items("147", "2016-05-20", case) == [("follow_up", "2016-04-20", True)]


def test_a_refusing_municipality_has_no_programme_obligations_for_the_case() -> None:
    case = opened()
    case.moved("2016-01-10", to="147")
    case.takeover("2016-01-15", approved=False)
    case.status_requested("2016-02-01", due_on="2016-02-20")

    assert items("147", "2016-03-01", case) == [("status_request", "2016-02-20", True)]


def test_a_follow_up_enters_the_worklist_a_month_before_it_falls_due() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")

    assert items("101", "2016-03-19", case) == []
    assert items("101", "2016-03-20", case) == [("follow_up", "2016-04-20", False)]
    assert items("101", "2016-04-21", case) == [("follow_up", "2016-04-20", True)]


def test_the_next_follow_up_is_due_three_months_after_the_latest() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")
    case.follow_up("2016-04-01")

    assert items("101", "2016-06-01", case) == [("follow_up", "2016-07-01", False)]
    assert work("101", "2016-06-01", case).items[0].paragraph == "INL § 20"


def test_no_follow_up_is_due_once_the_goals_are_met() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")
    case.follow_up("2016-04-01", goals_met=True)

    assert items("101", "2017-01-01", case) == []


def test_an_unanswered_status_request_is_due_then_overdue() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")
    case.follow_up("2016-04-01", goals_met=True)
    case.status_requested("2018-03-01", "R-7", due_on="2018-04-01")

    (due,) = work("101", "2018-03-01", case).items
    (overdue,) = work("101", "2018-04-02", case).items

    assert (due.kind, due.reference, due.overdue, due.paragraph) == (
        "status_request",
        "R-7",
        False,
        "UDL § 11",
    )
    assert overdue.overdue is True


def test_a_status_reported_answers_the_request_and_a_follow_up_does_not() -> None:
    """Bill remark: "pligt til at udarbejde en status"; only StatusReported answers (rev. 2)."""
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")
    case.follow_up("2016-04-01", goals_met=True)
    case.status_requested("2018-03-01", due_on="2018-04-01")
    case.follow_up("2018-03-15", goals_met=True)
    case.status_reported("2018-03-20")

    assert items("101", "2018-03-15", case) == [("status_request", "2018-04-01", False)]
    assert items("101", "2018-03-20", case) == []


def test_under_revision_1_a_follow_up_after_the_request_answered_it() -> None:
    case = opened()
    case.contract("2016-01-20")
    case.program("2016-01-25")
    case.follow_up("2016-04-01", goals_met=True)
    case.status_requested("2018-03-01", due_on="2018-04-01")
    case.follow_up("2018-03-15", goals_met=True)

    assert items("101", "2018-03-14", case, revision=1) == [("status_request", "2018-04-01", False)]
    assert items("101", "2018-03-15", case, revision=1) == []


def test_a_closed_case_has_nothing_due() -> None:
    case = opened()
    case.status_requested("2016-03-01", due_on="2016-04-01")
    case.permit("2016-03-10")

    assert items("101", "2016-03-09", case) != []
    assert items("101", "2016-03-10", case) == []


def test_items_are_ordered_by_due_date_then_person() -> None:
    late = opened("P-B", on="2016-01-04")
    early = opened("P-A", on="2016-01-10")
    same_day = opened("P-0", on="2016-01-04")

    listed = work("101", "2016-01-10", late, early, same_day).items

    assert [(i.person, i.kind) for i in listed] == [
        ("P-0", "contract"),
        ("P-0", "program"),
        ("P-B", "contract"),
        ("P-B", "program"),
        ("P-A", "contract"),
        ("P-A", "program"),
    ]
