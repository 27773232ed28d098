"""The status feed on real stores: items in commit order, written with the rows they announce;
the daily re-evaluation announces exactly the reports a day changed; every item's digest is
reproduced by a read with the item's own ``as_of`` and ``known_at``; two writers on PostgreSQL
never let a poller skip an item.

Time is moved as the views see it: their Danish day (``projections.views.today_in_denmark``) is
set to yesterday while the rows are written, then back to today.
"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.clock import add_months, parse_moment, today_in_denmark
from ledger.stores.views import Announced, FeedItem
from ledger.wire import ndjson_lines
from projections import views as read_side
from projections.views import Reader, ReadService, When
from projections.views import Views as KeptViews
from tests.support.wire import WireCase, ndjson

TODAY = today_in_denmark()
YESTERDAY = TODAY - timedelta(days=1)
_json = msgspec.json.Decoder()


@pytest.fixture
def yesterday(monkeypatch: pytest.MonkeyPatch) -> None:
    """The views' clock on yesterday, until the test sets it back (``monkeypatch.undo``)."""
    monkeypatch.setattr(read_side, "today_in_denmark", lambda: YESTERDAY)


def append(ledger: Ledger, events: list[dict[str, Any]]) -> int:
    position = ledger.append_lines(ndjson_lines(ndjson(events))).position
    assert position is not None
    return position


def contract(case: WireCase, on: date) -> dict[str, Any]:
    return case.event(
        "ContractSigned",
        on.isoformat(),
        contract_id="K1",
        employment_goal="Job",
        weekly_hours=37,
        activities=[],
        sanctions_described=True,
    )


def follow_up_due_yesterday(person: str) -> list[dict[str, Any]]:
    """A contract signed three months before yesterday: its first follow-up (INL § 20) is due
    yesterday, and overdue from today."""
    case = WireCase(person)
    signed = add_months(YESTERDAY, -3)
    return [case.opened((signed - timedelta(days=7)).isoformat()), contract(case, signed)]


def steady(person: str) -> list[dict[str, Any]]:
    """Responsibility assumed long ago, nothing since: no value of its report moves by a day."""
    return [WireCase(person).opened("2020-01-02")]


def closed(person: str) -> list[dict[str, Any]]:
    """A case ended by a permit, whose follow-up would be overdue from today were it open."""
    case = WireCase(person)
    events = follow_up_due_yesterday(person)
    case.count = len(events)
    return [*events, case.event("PermitGranted", (YESTERDAY - timedelta(days=1)).isoformat())]


def reproduced(ledger: Ledger, item: FeedItem) -> str:
    """The digest of the status report read with the item's own as_of and known_at."""
    assert item.known_at is not None
    when = When(date.fromisoformat(item.as_of), parse_moment(item.known_at, "known_at"))
    read = ReadService(ledger, KeptViews(ledger)).projection(
        "status", item.person, Reader("immigration_service"), when
    )
    digest: str = _json.decode(read.body)["digest"]
    return digest


def test_feed_items_follow_appends_in_seq_order_and_their_digests_reproduce(
    store_url: str,
) -> None:
    with Ledger(store_url) as ledger:
        views = KeptViews(ledger)
        first = append(ledger, steady("P-FEED-A"))
        views.catch_up()
        second = append(ledger, steady("P-FEED-B"))
        later = WireCase("P-FEED-A")
        later.count = 1  # after the opening
        third = append(ledger, [later.event("DanishTestPassed", "2024-01-20", test="pd1")])
        views.catch_up()
        feed = views.recorder.select_feed(0, 100)
        digests = [reproduced(ledger, item) for item in feed]

    assert [(i.seq, i.person, i.position) for i in feed] == [
        (1, "P-FEED-A", first),
        (2, "P-FEED-B", second),
        (3, "P-FEED-A", third),
    ]
    assert {i.as_of for i in feed} == {TODAY.isoformat()}
    assert digests == [i.digest for i in feed]


def test_a_day_passing_announces_only_the_reports_that_changed(
    store_url: str, yesterday: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger(store_url) as ledger:
        views = KeptViews(ledger)
        append(ledger, follow_up_due_yesterday("P-DUE"))
        append(ledger, steady("P-STEADY"))
        append(ledger, closed("P-CLOSED"))
        views.catch_up()
        before = views.recorder.select_feed(0, 100)
        monkeypatch.undo()  # a day passes

        done = views.reevaluate()
        again = views.reevaluate()
        after = views.recorder.select_feed(before[-1].seq, 100)
        rows = {row.person: row.as_of for row in views.recorder.iter_views(None)}
        digests = [reproduced(ledger, item) for item in after]
        served = views.stored("P-DUE", "status")

    assert {i.as_of for i in before} == {YESTERDAY.isoformat()}
    assert [i.person for i in after] == ["P-DUE"]
    assert after[0].as_of == TODAY.isoformat()
    assert digests == [i.digest for i in after]
    assert (done.day, done.rewritten, done.announced) == (TODAY.isoformat(), 2, 1)
    assert again.rewritten == again.announced == 0  # the day is claimed: done once
    # Open cases' rows are for today again, and served from the views; the closed case is left.
    assert rows == {
        "P-DUE": TODAY.isoformat(),
        "P-STEADY": TODAY.isoformat(),
        "P-CLOSED": YESTERDAY.isoformat(),
    }
    assert served is not None
    assert _json.decode(served[1])["follow_ups"]["overdue"] is True


def test_the_overdue_follow_up_is_what_changed(store_url: str, yesterday: None) -> None:
    """The premise of the test above, read live: P-DUE's follow-up is due yesterday and overdue
    today; nothing of P-STEADY's report moves."""
    with Ledger(store_url) as ledger:
        append(ledger, follow_up_due_yesterday("P-DUE"))
        append(ledger, steady("P-STEADY"))
        reads = ReadService(ledger, KeptViews(ledger))

        def report(person: str, on: date) -> dict[str, Any]:
            body = reads.projection("status", person, Reader("operator"), When(on)).body
            found: dict[str, Any] = _json.decode(body)
            for stamp in ("as_of", "generated_at", "digest"):
                found.pop(stamp)
            return found

        due = (report("P-DUE", YESTERDAY), report("P-DUE", TODAY))
        steady_reports = (report("P-STEADY", YESTERDAY), report("P-STEADY", TODAY))

    assert due[0]["follow_ups"]["next_due_on"] == YESTERDAY.isoformat()
    assert (due[0]["follow_ups"]["overdue"], due[1]["follow_ups"]["overdue"]) == (False, True)
    assert steady_reports[0] == steady_reports[1]


def test_a_day_is_claimed_by_one_process_of_those_sharing_a_store(store_url: str) -> None:
    with Ledger(store_url) as one, Ledger(store_url) as other:
        first = KeptViews(one).recorder.claim_day(TODAY.isoformat())
        second = KeptViews(other).recorder.claim_day(TODAY.isoformat())
        earlier = KeptViews(other).recorder.claim_day(YESTERDAY.isoformat())
        later = KeptViews(other).recorder.claim_day((TODAY + timedelta(days=1)).isoformat())

    assert (first, second, earlier, later) == (True, False, False, True)


@pytest.mark.postgres
def test_two_writers_on_postgresql_never_let_a_poller_skip_an_item(pg_url: str) -> None:
    """Two writers append feed items (as two servers' projectors do) while a poller follows
    the feed with ``after`` = the last seq it read: it sees every item the store ends up
    holding, none skipped because a later seq committed before an earlier one."""
    writes = 300
    seen: list[FeedItem] = []
    writing = threading.Event()
    writing.set()

    def write(name: str) -> None:
        with Ledger(pg_url) as ledger:
            recorder = KeptViews(ledger).recorder
            for n in range(writes):
                item = Announced(f"P-{name}-{n:04}", n + 1, TODAY.isoformat(), None, None)
                recorder.write_views([], None, [item])

    def poll() -> None:
        with Ledger(pg_url) as ledger:
            recorder = KeptViews(ledger).recorder
            after = 0
            while True:
                last_look = not writing.is_set()
                page = recorder.select_feed(after, 1000)
                seen.extend(page)
                after = page[-1].seq if page else after
                if last_look and not page:
                    return

    Ledger(pg_url).close()  # the tables, before the threads race to open the store
    writers = [threading.Thread(target=write, args=(name,)) for name in ("ONE", "TWO")]
    poller = threading.Thread(target=poll)
    for worker in [*writers, poller]:
        worker.start()
    for worker in writers:
        worker.join()
    writing.clear()
    poller.join()
    with Ledger(pg_url) as ledger:
        every = KeptViews(ledger).recorder.select_feed(0, 10_000)

    assert len(every) == 2 * writes
    assert [i.seq for i in seen] == [i.seq for i in every]


def test_ledger_reevaluate_brings_yesterdays_rows_to_today(
    store_url: str, yesterday: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger(store_url) as ledger:
        append(ledger, follow_up_due_yesterday("P-DUE"))
        append(ledger, steady("P-STEADY"))
        KeptViews(ledger).catch_up()
    monkeypatch.undo()  # a day passes; no server runs

    done = CliRunner().invoke(cli, ["--db", store_url, "reevaluate", "--json"])
    again = CliRunner().invoke(cli, ["--db", store_url, "reevaluate", "--json"])
    with Ledger(store_url) as ledger:
        days = {row.as_of for row in KeptViews(ledger).recorder.iter_views(None)}

    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"day": TODAY.isoformat(), "rewritten": 2, "announced": 1}
    assert json.loads(again.output) == {"day": TODAY.isoformat(), "rewritten": 0, "announced": 0}
    assert days == {TODAY.isoformat()}


def test_a_projector_re_evaluates_on_its_first_poll_of_each_day(
    store_url: str, yesterday: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger(store_url) as ledger:
        append(ledger, follow_up_due_yesterday("P-DUE"))
        views = KeptViews(ledger)
        views.catch_up()
        first = views.follow_day()
        same_day = views.follow_day()
        monkeypatch.undo()  # midnight passes between two polls
        next_day = views.follow_day()
        after = views.follow_day()
        announced = [i.person for i in views.recorder.select_feed(1, 100)]

    assert first is not None
    assert (first.day, first.rewritten) == (YESTERDAY.isoformat(), 0)
    assert same_day is None
    assert next_day is not None
    assert (next_day.day, next_day.rewritten, next_day.announced) == (TODAY.isoformat(), 1, 1)
    assert after is None
    assert announced == ["P-DUE"]
