"""The read side's stores, on a real SQLite file and the real PostgreSQL server: the async store
of the HTTP face (``ledger.stores.aio``) reads exactly what the views' recorder wrote; the views
follow an append as the faces ask. Its tokens and access log are specified by the recorder suites
(``tests/support/recorder_suites.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from ledger.application import Ledger
from ledger.config import Settings
from ledger.stores.aio import AsyncStore
from ledger.stores.views import FeedItem, ViewRow
from ledger.wire import ndjson_lines
from projections.rows import KINDS
from projections.views import ServedViews, Views

T = TypeVar("T")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cases.ndjson"
PERSONS = sorted({json.loads(line)["person"] for line in FIXTURES.read_text().splitlines()})


def run(db: str, scenario: Callable[[AsyncStore], Awaitable[T]]) -> T:
    """``scenario`` against the async store on ``db`` (opening a ledger on it first applies the
    migrations, which make the API's tables)."""
    Ledger(db).close()

    async def opened() -> T:
        store = await AsyncStore.open(Settings.from_env().with_db(db))
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(opened())


@pytest.fixture
def kept(store_url: str) -> Iterator[Views]:
    """The sample cases, with their views caught up."""
    with Ledger(store_url) as ledger:
        ledger.append_lines(ndjson_lines(FIXTURES.read_bytes()))
        views = Views(ledger)
        views.catch_up()
        yield views


def test_the_async_store_reads_the_rows_the_views_recorder_wrote(
    store_url: str, kept: Views
) -> None:
    wanted = [*PERSONS, "P-NOBODY"]  # more persons than one read asks for, and one without rows
    assert len(PERSONS) > 8

    async def every_kind(store: AsyncStore) -> dict[str, list[ViewRow]]:
        return {kind: await store.view_rows(kind, wanted) for kind in KINDS}

    found = run(store_url, every_kind)

    for kind in KINDS:
        assert sorted(found[kind]) == [kept.recorder.select_view(p, kind) for p in PERSONS]


def test_the_async_store_reads_the_position_the_views_are_tracked_at(store_url: str) -> None:
    with Ledger(store_url) as ledger:
        ledger.append_lines(ndjson_lines(FIXTURES.read_bytes()))
        views = Views(ledger)
        behind = views.position()
        read_behind = run(store_url, AsyncStore.views_position)
        views.catch_up()
        read_caught_up = run(store_url, AsyncStore.views_position)

        assert read_behind == behind == 0
        assert read_caught_up == views.position() == ledger.head_position()


def test_the_status_feed_pages_through_every_status_row_in_position_order(
    store_url: str, kept: Views
) -> None:
    async def every_page(store: AsyncStore) -> list[FeedItem]:
        served = ServedViews(store)
        items: list[FeedItem] = []
        page = await served.feed(0, 5)
        while page.items:
            assert len(page.items) <= 5
            items += page.items
            page = await served.feed(page.next_after, 5)
        assert page.next_after == items[-1].seq  # the last page says where to go on from
        return items

    feed = run(store_url, every_page)

    statuses = [row for row in kept.recorder.iter_views(None) if row.kind == "status"]
    assert [item.position for item in feed] == sorted(row.position for row in statuses)
    assert {(i.person, i.position, i.digest) for i in feed} == {
        (row.person, row.position, row.digest) for row in statuses
    }


def test_an_append_catches_the_views_up_only_when_at_most_so_many_events_wait(
    store_url: str,
) -> None:
    with Ledger(store_url) as ledger:
        ledger.append_lines(ndjson_lines(FIXTURES.read_bytes()))
        views = Views(ledger)

        assert views.follow(most=10) is None  # more wait: left to the projector, no fault
        assert views.position() == 0
        assert views.follow() is None
        assert views.position() == ledger.head_position()
