"""Materialised views: kept exactly once, equal to the live fold, rebuilt equal (both stores)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest
from eventsourcing.persistence import IntegrityError, Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.workload import long_case, person_history
from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.config import CIPHER_KEY_ENV
from ledger.events import encode_event
from ledger.stores import sqlite_views
from ledger.stores.aio import AsyncStore
from ledger.stores.views import VIEWS_NAME, Announced, FeedItem, ViewRow
from ledger.wire import ndjson_lines
from projections.rebuild import rebuild
from projections.rows import KINDS, PACK_FROM, body_digest, render
from projections.views import Reader, ReadService, ServedViews, StatusFeed, Views
from tests.support.paths import SAMPLE_CASES

_decode = msgspec.json.Decoder()


def comparable(body: bytes) -> dict[str, Any]:
    """A view without the one field that is about when it was computed."""
    view: dict[str, Any] = _decode.decode(body)
    view.pop("generated_at", None)
    return view


def fill(ledger: Ledger, views: Views, seed: int, persons: int, cuts: int) -> list[str]:
    """Append ``persons`` generated histories, interleaved, in ``cuts`` batches, catching the
    views up after each batch as the faces do."""
    histories = [person_history(seed, n, size=30) for n in range(persons)]
    interleaved = [e for step in zip(*histories, strict=False) for e in step]
    interleaved += [e for h in histories for e in h[min(map(len, histories)) :]]
    lines = ndjson_lines(b"\n".join(encode_event(e) for e in interleaved))
    size = max(1, len(lines) // cuts)
    for start in range(0, len(lines), size):
        ledger.append_lines(lines[start : start + size])
        views.catch_up()
    return [h[0].person for h in histories]


def live(ledger: Ledger, kind: str, person: str) -> dict[str, Any]:
    events = ledger.case_events(person, open_personal=False)
    return comparable(render(kind, person, events, today_in_denmark())[1])


def stored(views: Views, kind: str, person: str) -> dict[str, Any]:
    row = views.recorder.select_view(person, kind)
    assert row is not None
    return comparable(views.open_body(row.body))


@pytest.fixture
def ledger(store_url: str) -> Iterator[Ledger]:
    app = Ledger(store_url)
    yield app
    app.close()


def test_the_materialised_views_equal_the_live_fold(ledger: Ledger) -> None:
    views = Views(ledger)
    persons = fill(ledger, views, seed=7, persons=4, cuts=5)

    assert views.position() == ledger.head_position()
    for person in persons:
        for kind in KINDS:
            assert stored(views, kind, person) == live(ledger, kind, person)


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "encrypted"])
def test_a_long_body_is_stored_compressed_and_served_as_the_live_fold(
    store_url: str, encrypted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if encrypted:
        monkeypatch.setenv(CIPHER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    with Ledger(store_url) as ledger:
        views = Views(ledger)
        case = long_case(9, 0, 200)
        ledger.append_lines(ndjson_lines(b"\n".join(encode_event(e) for e in case)))
        views.catch_up()
        person = case[0].person

        for kind in KINDS:
            row = views.recorder.select_view(person, kind)
            assert row is not None
            body = views.open_body(row.body)
            assert comparable(body) == live(ledger, kind, person)
            if len(body) >= PACK_FROM:
                assert len(row.body) < len(body) // 4
            elif not encrypted:
                assert row.body == body  # a short body is stored as JSON
        history = views.recorder.select_view(person, "history")
        assert history is not None
        assert len(views.open_body(history.body)) >= PACK_FROM  # the case is long enough


def test_a_row_stored_before_bodies_were_compressed_is_still_served(ledger: Ledger) -> None:
    views = Views(ledger)
    persons = fill(ledger, views, seed=19, persons=1, cuts=1)
    row = views.recorder.select_view(persons[0], "history")
    assert row is not None
    body = views.open_body(row.body)
    # long, stored as JSON, and for a later day (a row replaces only an older one)
    plain = row._replace(body=body + b" " * PACK_FROM, as_of="9999-12-31")
    plain = plain._replace(body_digest=body_digest(plain))
    views.recorder.write_views([plain], None)

    assert views.stored(persons[0], "history") == ("9999-12-31", plain.body)


def test_a_rebuild_equals_the_incrementally_kept_views(ledger: Ledger) -> None:
    views = Views(ledger)
    persons = fill(ledger, views, seed=11, persons=3, cuts=4)
    kept = {(p, k): stored(views, k, p) for p in persons for k in KINDS}

    assert rebuild(views) == ledger.head_position()
    assert {(p, k): stored(views, k, p) for p in persons for k in KINDS} == kept


@pytest.mark.parametrize("encrypted", [False, True], ids=["clear", "encrypted"])
def test_a_rebuild_in_worker_processes_equals_the_incrementally_kept_views(
    store_url: str, encrypted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if encrypted:  # the workers open the store as this process does, cipher and all
        monkeypatch.setenv(CIPHER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    with Ledger(store_url) as ledger:
        views = Views(ledger)
        persons = fill(ledger, views, seed=13, persons=24, cuts=3)
        kept = {(p, k): stored(views, k, p) for p in persons for k in KINDS}

        assert rebuild(views, workers=2) == ledger.head_position()
        assert {(p, k): stored(views, k, p) for p in persons for k in KINDS} == kept
        assert views.position() == ledger.head_position()


def race(ledger: Ledger) -> Views:
    """The views forgotten (their rows and position; the status feed stays), then caught up by
    two projectors at once; one of them."""
    racing = [Views(ledger) for _ in range(2)]
    racing[0].recorder.reset_views(VIEWS_NAME)
    threads = [threading.Thread(target=v.catch_up) for v in racing]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return racing[0]


def test_two_projectors_catching_up_at_once_apply_every_event_once(ledger: Ledger) -> None:
    persons = fill(ledger, Views(ledger), seed=3, persons=3, cuts=1)
    raced = race(ledger)

    assert raced.position() == ledger.head_position()
    for person in persons:
        assert stored(raced, "status", person) == live(ledger, "status", person)


def test_on_sqlite_projectors_writing_a_person_at_a_time_race_and_announce_each_report_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite writes a catch-up's rows a few persons at a time, a transaction each (here one
    person each): two projectors racing over the same page still leave the rows of the live
    fold and one feed item per status row they wrote."""
    monkeypatch.setattr(sqlite_views, "WRITE_BYTES", 1)
    with Ledger(str(tmp_path / "ledger.db")) as ledger:
        persons = fill(ledger, Views(ledger), seed=3, persons=6, cuts=1)
        raced = race(ledger)

        assert raced.position() == ledger.head_position()
        for person in persons:
            for kind in KINDS:
                assert stored(raced, kind, person) == live(ledger, kind, person)
        feed = raced.recorder.select_feed(0, 1000)
        # once from ``fill``'s catch-up, once from the race: never from both projectors
        assert Counter((item.person, item.position) for item in feed) == {
            (person, ledger.case_events(person)[-1].position): 2 for person in persons
        }


def test_on_sqlite_a_write_stopped_between_its_transactions_is_finished_by_writing_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_views, "WRITE_BYTES", 1)
    db = str(tmp_path / "ledger.db")
    with Ledger(db) as ledger:
        recorder = ledger.view_recorder()
        rows = [
            ViewRow(f"P-{n}", kind, "101", "2026-01-01", n, f"d-{n}", b"{}", "b")
            for n in range(1, 5)
            for kind in ("history", "status")
        ]
        items = [Announced(f"P-{n}", n, "2026-01-01", None, f"d-{n}") for n in range(1, 5)]
        with closing(sqlite3.connect(db)) as conn, conn:
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON ledger_views WHEN NEW.person = 'P-3' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        with pytest.raises(IntegrityError):
            recorder.write_views(rows, Tracking(VIEWS_NAME, 4), items)

        # the persons before the refused one are written, with their items; the position not
        assert [row.person for row in recorder.iter_views(None)] == ["P-1", "P-1", "P-2", "P-2"]
        assert [item.person for item in recorder.select_feed(0, 10)] == ["P-1", "P-2"]
        assert recorder.max_tracking_id(VIEWS_NAME) is None
        with closing(sqlite3.connect(db)) as conn, conn:
            conn.execute("DROP TRIGGER refuse")
        recorder.write_views(rows, Tracking(VIEWS_NAME, 4), items)

        assert list(recorder.iter_views(None)) == sorted(rows)
        assert [item.person for item in recorder.select_feed(0, 10)] == [
            "P-1",
            "P-2",
            "P-3",
            "P-4",
        ]
        assert recorder.max_tracking_id(VIEWS_NAME) == 4
        with pytest.raises(IntegrityError):  # and a third time is refused as tracked
            recorder.write_views(rows, Tracking(VIEWS_NAME, 4), items)


@pytest.mark.parametrize("remember", [100_000, 40], ids=["all", "a-few"])
def test_views_that_remember_the_cases_they_folded_keep_the_rows_of_the_live_fold(
    ledger: Ledger, remember: int
) -> None:
    views = Views(ledger, remember=remember)
    persons = fill(ledger, views, seed=17, persons=5, cuts=7)

    assert 0 < len(views.recent) <= remember
    for person in persons:
        for kind in KINDS:
            assert stored(views, kind, person) == live(ledger, kind, person)


def test_views_forget_the_cases_they_remember_once_another_projector_applied_pages(
    ledger: Ledger,
) -> None:
    histories = [person_history(5, n, size=24) for n in range(2)]
    interleaved = [e for step in zip(*histories, strict=True) for e in step]
    lines = ndjson_lines(b"\n".join(encode_event(e) for e in interleaved))
    thirds = [lines[:16], lines[16:32], lines[32:]]  # each holds events of both cases
    server, other = Views(ledger, remember=100_000), Views(ledger)
    ledger.append_lines(thirds[0])
    server.catch_up()
    ledger.append_lines(thirds[1])
    other.catch_up()  # another process's projector applies the middle of the cases
    ledger.append_lines(thirds[2])
    server.catch_up()

    for person in (h[0].person for h in histories):
        for kind in KINDS:
            assert stored(server, kind, person) == live(ledger, kind, person)


def test_a_reader_can_wait_for_its_own_write(ledger: Ledger) -> None:
    views = Views(ledger)
    fill(ledger, views, seed=5, persons=1, cuts=1)
    more = person_history(5, 99, size=5)
    result = ledger.append_lines(ndjson_lines(b"\n".join(encode_event(e) for e in more)))
    assert result.position is not None

    position = result.position

    async def waits() -> tuple[bool, bool]:
        store = await AsyncStore.open(ledger.settings)
        try:
            served = ServedViews(store)
            before = await served.wait_for(position, within=0.05)
            await asyncio.to_thread(views.catch_up)
            return before, await served.wait_for(position, within=0.05)
        finally:
            await store.close()

    before, after = asyncio.run(waits())
    assert before is False
    assert after is True


def served_feed(ledger: Ledger, after: int, limit: int) -> StatusFeed:
    """The status feed as the server reads it (its async connections to the store)."""

    async def read() -> StatusFeed:
        store = await AsyncStore.open(ledger.settings)
        try:
            return await ServedViews(store).feed(after, limit)
        finally:
            await store.close()

    return asyncio.run(read())


def test_the_status_feed_lists_changed_reports_in_seq_and_position_order(ledger: Ledger) -> None:
    views = Views(ledger)
    persons = fill(ledger, views, seed=9, persons=3, cuts=2)
    feed: list[FeedItem] = served_feed(ledger, after=0, limit=100).items

    # Every catch-up announces each person it wrote: one item per person and batch.
    assert sorted({item.person for item in feed}) == sorted(persons)
    assert [item.seq for item in feed] == sorted(item.seq for item in feed)
    assert [item.position for item in feed] == sorted(item.position for item in feed)
    assert all(item.digest and item.digest.startswith("sha256:") for item in feed)
    last = feed[-1].seq
    assert served_feed(ledger, after=last, limit=10).items == []


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10_000), persons=st.integers(1, 3), cuts=st.integers(1, 4))
def test_over_generated_histories_views_equal_live_and_rebuilt(
    tmp_path_factory: pytest.TempPathFactory, seed: int, persons: int, cuts: int
) -> None:
    db = str(tmp_path_factory.mktemp("views") / "ledger.db")
    with Ledger(db) as ledger:
        views = Views(ledger)
        names = fill(ledger, views, seed, persons, cuts)
        kept = {(p, k): stored(views, k, p) for p in names for k in KINDS}
        assert kept == {(p, k): live(ledger, k, p) for p in names for k in KINDS}
        rebuild(views)
        assert kept == {(p, k): stored(views, k, p) for p in names for k in KINDS}


def test_a_worklist_lists_cases_the_views_have_not_reached_yet(store_url: str) -> None:
    """The views follow the log: a worklist read before they catch up still lists every case
    the municipality is responsible for, the same as after."""
    fixtures = SAMPLE_CASES
    with Ledger(store_url) as ledger:
        ledger.append_lines(ndjson_lines(fixtures.read_bytes()))
        views = Views(ledger)
        reads = ReadService(ledger, views)
        on = date(2025, 6, 1)

        behind, _ = reads.worklist(Reader("operator"), "101", on)
        views.catch_up()
        caught_up, _ = reads.worklist(Reader("operator"), "101", on)
        assert views.position() == ledger.head_position()

    assert json.loads(behind) == json.loads(caught_up)
    assert json.loads(behind)["items"]
