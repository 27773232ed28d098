"""Which status reports a day passing changes (``projections.rows.report_changed``): the
daily re-evaluation announces a report in the status feed only when a value other than the
report's stamps moved."""

from __future__ import annotations

import msgspec

from projections.common import to_json
from projections.rows import report_changed
from projections.status import status_report
from tests.support.builders import CaseBuilder, at, day


def body(case: CaseBuilder, as_of: str, generated: str = "2030-01-01T00:00:00") -> bytes:
    return to_json(status_report(case.person, case.events, day(as_of), None, at(generated)))


def test_a_new_date_alone_is_no_change() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")

    assert not report_changed(
        body(case, "2020-03-01"), body(case, "2020-03-02", "2031-01-01T00:00:00")
    )


def test_a_follow_up_becoming_overdue_is_a_change() -> None:
    case = CaseBuilder()
    case.opened("2020-01-02")
    case.contract("2020-01-10")  # the first follow-up is due 2020-04-10 (INL § 20)

    due, overdue = body(case, "2020-04-10"), body(case, "2020-04-11")

    assert not report_changed(body(case, "2020-02-01"), body(case, "2020-02-02"))
    assert report_changed(due, overdue)
    assert msgspec.json.decode(due)["follow_ups"]["overdue"] is False
    assert msgspec.json.decode(overdue)["follow_ups"]["overdue"] is True


def test_help_months_rolling_out_of_the_36_month_window_are_a_change() -> None:
    case = CaseBuilder()
    case.opened("2016-01-04")
    case.benefit("2016-01-04")
    case.benefit_ended("2017-01-04")

    assert report_changed(body(case, "2019-01-31"), body(case, "2019-02-01"))
