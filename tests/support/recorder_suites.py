"""Abstract test cases for the ledger's own recorder interfaces, one per interface, as
eventsourcing ships ``ApplicationRecorderTestCase`` for its own: every store the ledger runs on is
subclassed once in ``tests/integration/test_recorders.py`` and must pass all of them.

- ``EventStoreSuite``: what ``LedgerRecorder`` adds to eventsourcing's application recorder
  (the idempotency index, streams, checkpoints, settings, grouped appends, restore);
- ``PersonKeysSuite``: the per-person data keys and their destruction;
- ``ViewRecorderSuite``: the materialised views' rows and their tracked position;
- ``TokensSuite`` and ``AccessLogSuite``: what the HTTP face keeps through ``AsyncStore``.

A store's subclass gives the ``db`` fixture (a SQLite file, a PostgreSQL URL) and says how it
differs where the interface lets it (``StoreTraits``). Every case opens the store as the faces
do, through ``Ledger`` (which applies the migrations), and tests the recorders it hands out.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking

from ledger.application import Ledger
from ledger.records import stream_id
from ledger.stores import IntegrityError, StoredEvent
from ledger.stores.aio import AccessEntry, AsyncStore, TokenRow
from ledger.stores.base import (
    CheckedEvent,
    Checkpoint,
    CheckpointRace,
    IndexEntry,
    IndexRow,
    KeyRow,
    KeyState,
    LedgerRecorder,
    RestoredEvent,
    Shard,
    StoreNotEmpty,
    StreamRow,
)
from ledger.stores.views import VIEWS_NAME, Announced, ViewRecorder, ViewRow
from tests.support.tamper import delete_event, execute

T = TypeVar("T")
TOPIC = "ledger.events:CaseOpened"  # the recorders store a topic as given, never resolve it
WHEN = "2026-01-01T00:00:00+00:00"
WAITED = 0.3  # seconds a writer is seen waiting for a lock (never long enough to take it)
LARGE = 600  # events: more than either store sends or reads at once (``CHUNK``, a pipeline)
LATER = "2026-02-01T00:00:00+00:00"


class StoreTraits(ABC):
    """What a store's subclass tells the suites about itself."""

    # Whether destroying a key can say its bytes are gone from the store's files (None: the
    # store cannot tell, a database server's files are its own).
    erases_from_files: ClassVar[bool | None]
    # What the driver raises when the store refuses a statement (a trigger's refusal).
    refusal: ClassVar[type[Exception]]

    @pytest.fixture
    @abstractmethod
    def db(self) -> str:
        """A fresh, empty store of this kind."""

    @pytest.fixture
    def ledger_on(self, db: str) -> Iterator[Ledger]:
        """The store, opened as the faces open it."""
        with Ledger(db) as ledger:
            yield ledger


def event(person: str, version: int, state: bytes = b'{"n": 1}') -> StoredEvent:
    return StoredEvent(stream_id(person), version, TOPIC, state)


def oid(stored: StoredEvent) -> UUID:
    """The stream of an event made by ``event`` (always a UUID there)."""
    return UUID(str(stored.originator_id))


def indexed(*events: StoredEvent) -> tuple[list[UUID], list[IndexRow]]:
    """Fresh event ids for ``events``, and the index rows that record them."""
    ids = [uuid4() for _ in events]
    rows = [IndexRow(eid, oid(e), e.originator_version) for eid, e in zip(ids, events, strict=True)]
    return ids, rows


# --- the event store ----------------------------------------------------------------------------


class EventStoreSuite(StoreTraits):
    @pytest.fixture
    def recorder(self, ledger_on: Ledger) -> LedgerRecorder:
        return ledger_on.store

    def test_an_indexed_event_id_is_found_with_its_stored_event_and_position(
        self, recorder: LedgerRecorder
    ) -> None:
        first, second = event("P-A", 1, b'{"a": 1}'), event("P-B", 1, b'{"b": 2}')
        ids, index = indexed(first, second)
        positions = recorder.insert_events([first, second], index=index)
        unknown = uuid4()

        found = recorder.select_index([*ids, unknown])

        assert positions is not None
        assert found == {
            ids[0]: IndexEntry(oid(first), 1, positions[0], TOPIC, b'{"a": 1}'),
            ids[1]: IndexEntry(oid(second), 1, positions[1], TOPIC, b'{"b": 2}'),
        }
        assert recorder.count_index() == 2

    def test_events_appended_without_index_rows_are_not_in_the_index(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_events([event("P-A", 1)])

        assert recorder.count_index() == 0
        assert recorder.select_index([uuid4()]) == {}
        assert recorder.missing_indexed() == []

    def test_an_indexed_event_no_longer_stored_is_reported_missing_at_its_position(
        self, db: str, recorder: LedgerRecorder
    ) -> None:
        events = [event("P-A", 1), event("P-B", 1), event("P-A", 2)]
        recorder.insert_events(events, index=indexed(*events)[1])

        delete_event(db, 2)

        missing = recorder.missing_indexed()
        assert [m.position for m in missing] == [2]
        # The stream and version where the store's index keeps them, not the position.
        assert (missing[0].originator_id, missing[0].version) in {
            (None, None),
            (stream_id("P-B"), 1),
        }
        assert recorder.count_index() == len(events)

    def test_an_event_id_indexed_already_refuses_its_whole_batch(
        self, recorder: LedgerRecorder
    ) -> None:
        first = event("P-A", 1)
        ids, index = indexed(first)
        recorder.insert_events([first], index=index)
        again = [event("P-B", 1), event("P-C", 1)]
        reused = [
            IndexRow(uuid4(), oid(again[0]), 1),
            index[0]._replace(originator_id=oid(again[1])),
        ]

        with pytest.raises(IntegrityError):
            recorder.insert_events(again, index=reused)

        assert recorder.count_index() == 1
        assert recorder.max_notification_id() == 1
        assert recorder.select_streams([stream_id("P-B"), stream_id("P-C")]) == {
            stream_id("P-B"): [],
            stream_id("P-C"): [],
        }
        assert recorder.select_index(ids)[ids[0]].originator_id == first.originator_id

    def test_a_large_batch_is_stored_with_its_index_and_keys_or_refused_whole(
        self, recorder: LedgerRecorder
    ) -> None:
        # Larger than a store sends in one round trip or reads in one statement.
        persons = [f"P-{n}" for n in range(LARGE)]
        batch = [event(p, 1) for p in persons]
        ids, index = indexed(*batch)
        keys = [KeyRow(stream_id(p), p.encode()) for p in persons]

        positions = recorder.insert_events(batch, index=index, keys=keys)
        later = [event(p, 2) for p in persons]
        _, reusing = indexed(*later)
        reusing[-1] = reusing[-1]._replace(event_id=ids[0])
        with pytest.raises(IntegrityError):
            recorder.insert_events(later, index=reusing)

        assert positions == list(range(1, LARGE + 1))
        found = recorder.select_index(ids)
        assert [found[eid].position for eid in ids] == positions
        assert recorder.select_keys([k.originator_id for k in keys]) == dict(keys)
        assert recorder.max_notification_id() == LARGE
        assert recorder.count_index() == LARGE

    def test_streams_come_back_per_person_in_version_order_with_their_positions(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_events([event("P-A", 1), event("P-B", 1)])
        recorder.insert_events([event("P-A", 2, b'{"n": 2}')])

        found = recorder.select_streams([stream_id("P-A"), stream_id("P-NOBODY")])

        assert [(n.id, n.originator_version, bytes(n.state)) for n in found[stream_id("P-A")]] == [
            (1, 1, b'{"n": 1}'),
            (3, 2, b'{"n": 2}'),
        ]
        assert found[stream_id("P-NOBODY")] == []
        assert recorder.select_stream(stream_id("P-B"))[0].id == 2

    def test_iterating_streams_stops_at_a_position_and_shards_split_the_persons(
        self, recorder: LedgerRecorder
    ) -> None:
        persons = [f"P-{n}" for n in range(6)]
        recorder.insert_events([event(p, 1) for p in persons])
        recorder.insert_events([event(p, 2) for p in persons])
        until = len(persons)  # the first events only
        halves = [Shard(None, UUID(int=1 << 127)), Shard(UUID(int=1 << 127), None)]

        every = dict(recorder.iter_streams(until))
        split = [dict(recorder.iter_streams(until, shard)) for shard in halves]

        assert sorted(every) == sorted(stream_id(p) for p in persons)
        assert list(every) == sorted(every)  # one stream after another, in id order
        assert all(
            rows == [StreamRow(rows[0].position, 1, TOPIC, b'{"n": 1}')] for rows in every.values()
        )
        assert split[0] | split[1] == every
        assert not set(split[0]) & set(split[1])
        assert all(oid.int < 1 << 127 for oid in split[0])

    def test_a_setting_is_recorded_once_and_a_later_value_does_not_replace_it(
        self, recorder: LedgerRecorder
    ) -> None:
        assert recorder.settle("suite-setting", None) is None
        assert recorder.settle("suite-setting", "first") == "first"
        assert recorder.settle("suite-setting", "second") == "first"
        assert recorder.settle("suite-setting", None) == "first"
        assert recorder.settle("other-setting", None) is None

    # --- checkpoints ----------------------------------------------------------------------------

    CHECKED: ClassVar[list[CheckedEvent]] = [
        CheckedEvent(1, "P-A", 1, "h1"),
        CheckedEvent(2, "P-B", 1, "h2"),
        CheckedEvent(3, "P-A", 2, "h3"),
        CheckedEvent(4, "P-A", 3, "h4"),
        CheckedEvent(5, "P-B", 2, "h5"),
    ]
    FIRST = Checkpoint(3, "head-3", b"\x01signature", "fp", WHEN)
    SECOND = Checkpoint(5, "head-5", b"\x02signature", "fp", LATER)

    def test_checkpoints_come_back_oldest_first_with_the_events_they_checked(
        self, recorder: LedgerRecorder
    ) -> None:
        assert recorder.select_checkpoints() == []
        recorder.insert_checkpoint(self.FIRST, self.CHECKED[:3], previous=0)
        recorder.insert_checkpoint(self.SECOND, self.CHECKED[3:], previous=3)

        assert recorder.select_checkpoints() == [self.FIRST, self.SECOND]
        assert list(recorder.iter_checked(4)) == self.CHECKED[:4]
        assert list(recorder.iter_checked(5, "P-B")) == [self.CHECKED[1], self.CHECKED[4]]
        assert recorder.checked_heads(["P-A", "P-B", "P-NOBODY"]) == {
            "P-A": self.CHECKED[3],
            "P-B": self.CHECKED[4],
        }

    def test_a_checkpoint_prepared_against_an_older_checkpoint_is_refused_as_a_race(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_checkpoint(self.FIRST, self.CHECKED[:3], previous=0)

        with pytest.raises(CheckpointRace) as refused:
            recorder.insert_checkpoint(self.SECOND, self.CHECKED[3:], previous=0)

        assert refused.value.code == "checkpoint_race"
        assert recorder.select_checkpoints() == [self.FIRST]
        assert list(recorder.iter_checked(5)) == self.CHECKED[:3]

    # --- appends grouped in one transaction -----------------------------------------------------

    def test_appends_grouped_together_see_each_other_and_are_committed_at_the_end(
        self, recorder: LedgerRecorder
    ) -> None:
        first, second = event("P-A", 1), event("P-A", 2)
        ids, index = indexed(first, second)
        seen_elsewhere: list[int | None] = []
        with recorder.together():
            recorder.insert_events([first], index=index[:1], keys=[KeyRow(stream_id("P-A"), b"k")])
            recorder.insert_events([second], index=index[1:])
            in_group = (
                recorder.max_notification_id(),
                sorted(recorder.select_index(ids).values())[1].position,
                recorder.select_keys([stream_id("P-A")]),
                [n.id for n in recorder.select_stream(stream_id("P-A"))],
            )
            other = threading.Thread(
                target=lambda: seen_elsewhere.append(recorder.max_notification_id())
            )
            other.start()
            other.join()

        assert in_group == (2, 2, {stream_id("P-A"): b"k"}, [1, 2])
        assert seen_elsewhere in ([None], [0])  # not before the group commits
        assert recorder.max_notification_id() == 2
        assert recorder.count_index() == 2

    def test_another_writer_waits_for_a_group_to_commit_and_comes_after_it(
        self, recorder: LedgerRecorder
    ) -> None:
        other: list[Sequence[int] | None] = []
        writer = threading.Thread(
            target=lambda: other.append(recorder.insert_events([event("P-B", 1)]))
        )
        with recorder.together():
            recorder.insert_events([event("P-A", 1)])
            writer.start()
            writer.join(timeout=WAITED)
            waiting = writer.is_alive()
            recorder.insert_events([event("P-A", 2)])
        writer.join()

        assert waiting  # the group holds the store's write lock until it commits
        assert other == [[3]]
        assert [n.originator_id for n in recorder.select_notifications(0, 10)] == [
            stream_id("P-A"),
            stream_id("P-A"),
            stream_id("P-B"),
        ]

    def test_a_refused_append_in_a_group_is_undone_alone(self, recorder: LedgerRecorder) -> None:
        first = event("P-A", 1)
        ids, index = indexed(first)
        with recorder.together():
            recorder.insert_events([first], index=index)
            with pytest.raises(IntegrityError):
                recorder.insert_events([event("P-A", 1, b'{"other": 1}')])  # version taken
            taken = IndexRow(ids[0], stream_id("P-B"), 1)
            with pytest.raises(IntegrityError):
                recorder.insert_events([event("P-B", 1)], index=[taken])
            recorder.insert_events([event("P-C", 1)])

        assert [n.originator_id for n in recorder.select_notifications(0, 10)] == [
            stream_id("P-A"),
            stream_id("P-C"),
        ]
        assert recorder.select_stream(stream_id("P-A"))[0].state == b'{"n": 1}'
        assert recorder.count_index() == 1

    def test_a_group_that_fails_leaves_nothing_of_any_of_its_appends(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_events([event("P-0", 1)])
        _, index = indexed(event("P-A", 1))

        def given_up() -> None:
            with recorder.together():
                recorder.insert_events(
                    [event("P-A", 1)], index=index, keys=[KeyRow(stream_id("P-A"), b"k")]
                )
                recorder.insert_events([event("P-B", 1)])
                raise RuntimeError("given up")

        with pytest.raises(RuntimeError, match="given up"):
            given_up()

        assert recorder.max_notification_id() == 1
        assert recorder.count_index() == 0
        assert recorder.select_keys([stream_id("P-A")]) == {}
        assert list(recorder.iter_keys()) == []

    # --- restore --------------------------------------------------------------------------------

    def restored(self) -> tuple[list[RestoredEvent], list[KeyState]]:
        """Events at positions with gaps (as a store with purged rows leaves them), a live key
        and a destroyed one."""
        events = [
            RestoredEvent(3, uuid4(), event("P-A", 1)),
            RestoredEvent(5, uuid4(), event("P-B", 1)),
            RestoredEvent(9, uuid4(), event("P-A", 2, b'{"n": 2}')),
        ]
        keys = sorted(
            [KeyState(stream_id("P-A"), b"key-a", None), KeyState(stream_id("P-B"), None, WHEN)]
        )
        return events, keys

    def test_a_restore_fills_an_empty_store_at_the_original_positions(
        self, recorder: LedgerRecorder
    ) -> None:
        events, keys = self.restored()

        recorder.insert_restored(events, keys)
        appended = recorder.insert_events([event("P-C", 1)])

        assert [
            (n.id, n.originator_id, n.originator_version) for n in recorder.iter_notifications()
        ] == [
            (3, stream_id("P-A"), 1),
            (5, stream_id("P-B"), 1),
            (9, stream_id("P-A"), 2),
            (10, stream_id("P-C"), 1),
        ]
        assert appended == [10]  # appends continue after the last restored position
        found = recorder.select_index([r.event_id for r in events])
        assert {eid: entry.position for eid, entry in found.items()} == {
            r.event_id: r.position for r in events
        }
        assert list(recorder.iter_keys()) == keys
        assert recorder.missing_indexed() == []

    def test_a_restore_into_a_store_holding_events_is_refused_and_changes_nothing(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_events([event("P-0", 1)])
        events, keys = self.restored()

        with pytest.raises(StoreNotEmpty) as refused:
            recorder.insert_restored(events, keys)

        assert refused.value.code == "store_not_empty"
        assert recorder.max_notification_id() == 1
        assert recorder.count_index() == 0
        assert list(recorder.iter_keys()) == []

    def test_a_restore_that_fails_midway_leaves_the_store_empty(
        self, recorder: LedgerRecorder
    ) -> None:
        events, keys = self.restored()

        def broken() -> Iterator[RestoredEvent]:
            yield from events
            raise ValueError("the backup ends early")

        with pytest.raises(ValueError, match="ends early"):
            recorder.insert_restored(broken(), keys)

        assert not recorder.max_notification_id()
        assert recorder.count_index() == 0
        assert list(recorder.iter_keys()) == []
        assert recorder.insert_events([event("P-A", 1)]) == [1]


# --- the person keys ----------------------------------------------------------------------------


class PersonKeysSuite(StoreTraits):
    @pytest.fixture
    def recorder(self, ledger_on: Ledger) -> LedgerRecorder:
        return ledger_on.store

    def test_a_persons_key_is_stored_with_their_first_event(self, recorder: LedgerRecorder) -> None:
        recorder.insert_events([event("P-A", 1)], keys=[KeyRow(stream_id("P-A"), b"key-a")])
        recorder.insert_events([event("P-B", 1)], keys=[KeyRow(stream_id("P-B"), b"key-b")])

        assert recorder.select_keys([stream_id("P-A"), stream_id("P-NOBODY")]) == {
            stream_id("P-A"): b"key-a"
        }
        assert list(recorder.iter_keys()) == sorted(
            [KeyState(stream_id("P-A"), b"key-a", None), KeyState(stream_id("P-B"), b"key-b", None)]
        )

    def test_a_person_has_one_key_and_a_second_refuses_its_batch(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_events([event("P-A", 1)], keys=[KeyRow(stream_id("P-A"), b"key-a")])

        with pytest.raises(IntegrityError):
            recorder.insert_events([event("P-A", 2)], keys=[KeyRow(stream_id("P-A"), b"other")])

        assert recorder.select_keys([stream_id("P-A")]) == {stream_id("P-A"): b"key-a"}
        assert len(recorder.select_stream(stream_id("P-A"))) == 1

    def test_a_destroyed_key_reads_as_none_and_is_kept_as_forgotten_when(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_events([event("P-A", 1)], keys=[KeyRow(stream_id("P-A"), b"key-a")])
        recorder.insert_events([event("P-B", 1)], keys=[KeyRow(stream_id("P-B"), b"key-b")])

        destroyed = recorder.destroy_key(stream_id("P-A"), WHEN)

        assert destroyed.key_destroyed
        assert destroyed.erased_from_files is self.erases_from_files
        assert recorder.select_keys([stream_id("P-A"), stream_id("P-B")]) == {
            stream_id("P-A"): None,
            stream_id("P-B"): b"key-b",
        }
        assert KeyState(stream_id("P-A"), None, WHEN) in list(recorder.iter_keys())
        assert len(recorder.select_stream(stream_id("P-A"))) == 1  # the events stay

    def test_destroying_a_key_again_reports_no_key_and_keeps_the_first_time(
        self, recorder: LedgerRecorder
    ) -> None:
        recorder.insert_events([event("P-A", 1)], keys=[KeyRow(stream_id("P-A"), b"key-a")])
        recorder.destroy_key(stream_id("P-A"), WHEN)

        again = recorder.destroy_key(stream_id("P-A"), LATER)
        unknown = recorder.destroy_key(stream_id("P-NOBODY"), LATER)

        assert not again.key_destroyed
        assert not unknown.key_destroyed
        assert list(recorder.iter_keys()) == [KeyState(stream_id("P-A"), None, WHEN)]


# --- the materialised views ---------------------------------------------------------------------

# The status feed's order under concurrent writers, and its items' digests, are tested with the
# feed (tests/integration/test_status_feed.py); here, what each store keeps of it.


def row(person: str, kind: str = "status", position: int = 1, **changed: Any) -> ViewRow:
    made = ViewRow(
        person, kind, "101", "2026-01-01", position, f"d-{person}-{position}", b'{"v": 1}', "b"
    )
    return made._replace(**changed)


class ViewRecorderSuite(StoreTraits):
    @pytest.fixture
    def views(self, ledger_on: Ledger) -> ViewRecorder:
        return ledger_on.view_recorder()

    def test_rows_and_their_position_are_written_together(self, views: ViewRecorder) -> None:
        rows = [row("P-A"), row("P-A", "history"), row("P-B", municipality=None, digest=None)]

        views.write_views(rows, Tracking(VIEWS_NAME, 7))

        assert views.select_view("P-A", "status") == rows[0]
        assert views.select_view("P-A", "history") == rows[1]
        assert views.select_view("P-B", "status") == rows[2]
        assert views.select_view("P-A", "sanctions") is None
        assert views.max_tracking_id(VIEWS_NAME) == 7
        assert views.max_tracking_id("another-reader") is None

    def test_a_row_written_again_replaces_the_persons_row_of_that_kind(
        self, views: ViewRecorder
    ) -> None:
        views.write_views([row("P-A"), row("P-A", "history")], Tracking(VIEWS_NAME, 1))
        newer = row("P-A", position=2, municipality="147", body=b'{"v": 2}', body_digest="c")

        views.write_views([newer], None)

        assert views.select_view("P-A", "status") == newer
        assert views.select_view("P-A", "history") == row("P-A", "history")
        assert views.max_tracking_id(VIEWS_NAME) == 1  # a write without tracking moves nothing

    def test_a_write_at_a_position_tracked_already_is_refused_with_its_rows(
        self, views: ViewRecorder
    ) -> None:
        views.write_views([row("P-A")], Tracking(VIEWS_NAME, 5))

        for position in (5, 4):
            with pytest.raises(IntegrityError):
                views.write_views([row("P-B", position=position)], Tracking(VIEWS_NAME, position))

        assert views.select_view("P-B", "status") is None
        assert views.max_tracking_id(VIEWS_NAME) == 5
        views.write_views([row("P-B", position=6)], Tracking(VIEWS_NAME, 6))
        assert views.max_tracking_id(VIEWS_NAME) == 6

    def test_a_row_replaces_only_an_older_one(self, views: ViewRecorder) -> None:
        """A later position, or the same position for a later day: the same write again (after
        a crash, or by a second projector) changes nothing."""
        stored = row("P-A", position=5, body=b'{"v": 5}')
        views.write_views([stored, row("P-A", "history", position=5)], None)

        views.write_views([row("P-A", position=4), row("P-A", "history", position=4)], None)
        views.write_views([row("P-A", position=5, body=b'{"v": "again"}')], None)
        assert views.select_view("P-A", "status") == stored
        assert views.select_view("P-A", "history") == row("P-A", "history", position=5)

        next_day = row("P-A", position=5, as_of="2026-01-02", body=b'{"v": "day 2"}')
        views.write_views([next_day], None)
        assert views.select_view("P-A", "status") == next_day
        later = row("P-A", position=6, as_of="2026-01-01")
        views.write_views([later], None)
        assert views.select_view("P-A", "status") == later

    def test_a_feed_item_is_written_only_with_its_status_row(self, views: ViewRecorder) -> None:
        item = Announced("P-A", 2, "2026-01-01", None, "d-P-A-2")
        alone = Announced("P-B", 3, "2026-01-01", None, None)  # no status row in its write

        views.write_views([row("P-A", position=2)], None, [item])
        views.write_views([row("P-A", position=2)], None, [item])  # the same write again
        views.write_views([row("P-A", position=1)], None, [item._replace(position=1)])
        views.write_views([row("P-A", "history", position=3)], None, [alone])

        assert [(i.person, i.position) for i in views.select_feed(0, 10)] == [
            ("P-A", 2),
            ("P-B", 3),
        ]

    def test_rows_iterate_by_person_and_kind_of_everyone_or_of_one_person(
        self, views: ViewRecorder
    ) -> None:
        rows = [row("P-B"), row("P-A", "status"), row("P-A", "history"), row("P-C", "events")]
        views.write_views(rows, None)

        every = list(views.iter_views(None))

        assert every == sorted(rows, key=lambda r: (r.person, r.kind))
        assert all(type(r.body) is bytes for r in every)
        one = views.select_view("P-A", "status")
        assert one is not None
        assert type(one.body) is bytes
        assert list(views.iter_views("P-A")) == [rows[2], rows[1]]
        assert list(views.iter_views("P-NOBODY")) == []

    def test_the_persons_of_a_municipality_are_those_its_status_rows_name(
        self, views: ViewRecorder
    ) -> None:
        views.write_views(
            [
                row("P-C"),
                row("P-A"),
                row("P-B", municipality="147"),
                row("P-D", "history"),  # only a status row names who is responsible
                row("P-E", municipality=None),
            ],
            None,
        )

        assert views.select_persons("101") == ["P-A", "P-C"]
        assert views.select_persons("147") == ["P-B"]
        assert views.select_persons("999") == []

    def test_a_reset_forgets_every_row_and_the_named_position_only(
        self, views: ViewRecorder
    ) -> None:
        views.write_views([row("P-A"), row("P-B", "history")], Tracking(VIEWS_NAME, 3))
        views.write_views([], Tracking("another-reader", 9))

        views.reset_views(VIEWS_NAME)

        assert list(views.iter_views(None)) == []
        assert views.max_tracking_id(VIEWS_NAME) is None
        assert views.max_tracking_id("another-reader") == 9
        views.write_views([row("P-A")], Tracking(VIEWS_NAME, 1))  # written again from the start
        assert views.max_tracking_id(VIEWS_NAME) == 1

    def test_feed_items_are_written_with_their_rows_and_numbered_in_order(
        self, views: ViewRecorder
    ) -> None:
        first = Announced("P-A", 1, "2026-01-01", "2026-01-01T12:00:00+00:00", "d-P-A-1")
        second = Announced("P-B", 2, "2026-01-01", None, None)
        views.write_views([row("P-A")], Tracking(VIEWS_NAME, 1), [first])
        views.write_views([row("P-B", position=2)], Tracking(VIEWS_NAME, 2), [second])
        with pytest.raises(IntegrityError):  # refused with its rows: no item without them
            views.write_views([row("P-C")], Tracking(VIEWS_NAME, 2), [first._replace(person="P-C")])

        every = views.select_feed(0, 10)

        assert [(i.person, i.position, i.as_of, i.known_at, i.digest) for i in every] == [
            tuple(first),
            tuple(second),
        ]
        assert [i.seq for i in every] == sorted({i.seq for i in every})
        assert views.select_feed(every[0].seq, 10) == every[1:]
        assert views.select_feed(every[0].seq - 1, 1) == every[:1]

    def test_a_re_evaluation_rewrites_only_rows_still_stale_at_their_position(
        self, views: ViewRecorder
    ) -> None:
        views.write_views(
            [row("P-A"), row("P-B", position=3), row("P-C", as_of="2026-01-02")], None
        )
        moved_on = row("P-B", position=4)  # a newer event, written meanwhile
        views.write_views([moved_on], None)
        today = {"as_of": "2026-01-02", "body": b'{"v": 2}'}
        refolded = [row("P-A", **today), row("P-B", position=3, **today)]
        items = [Announced(r.person, r.position, r.as_of, None, None) for r in refolded]

        stale = views.stale_statuses("2026-01-02", "", 10)
        counted = views.count_stale("2026-01-02")
        written = views.write_reevaluated(refolded, items, "2026-01-02")
        again = views.write_reevaluated(refolded, items, "2026-01-02")

        assert [r.person for r in stale] == ["P-A", "P-B"]
        assert [r.person for r in views.stale_statuses("2026-01-02", "P-A", 10)] == ["P-B"]
        assert counted == 2
        assert (written, again) == ((1, 1), (0, 0))
        assert views.select_view("P-A", "status") == refolded[0]
        assert views.select_view("P-B", "status") == moved_on
        assert [i.person for i in views.select_feed(0, 10)] == ["P-A"]
        assert views.count_stale("2026-01-02") == 1

    def test_a_day_is_claimed_once_and_only_forward(self, views: ViewRecorder) -> None:
        claims = [views.claim_day(day) for day in ("2026-01-02", "2026-01-02", "2026-01-01")]

        assert claims == [True, False, False]
        assert views.claim_day("2026-01-03") is True


# --- what the HTTP face keeps ---------------------------------------------------------------------


def run(ledger: Ledger, scenario: Callable[[AsyncStore], Awaitable[T]]) -> T:
    """``scenario`` against the async store of a store the ledger opened (and so migrated), as
    the server opens it."""

    async def opened() -> T:
        store = await AsyncStore.open(ledger.settings)
        try:
            return await scenario(store)
        finally:
            await store.close()

    return asyncio.run(opened())


class TokensSuite(StoreTraits):
    TOKEN = TokenRow("tok_reader", "investigator", None, WHEN, None)

    def test_a_revoked_token_is_no_longer_live_and_keeps_its_first_revocation(
        self, ledger_on: Ledger
    ) -> None:
        token = self.TOKEN

        async def scenario(store: AsyncStore) -> list[object]:
            await store.insert_token(token, "sha-of-the-secret")
            live = await store.live_token("sha-of-the-secret")
            first = await store.revoke_token(token.id, "2026-01-02T00:00:00+00:00")
            again = await store.revoke_token(token.id, "2026-01-03T00:00:00+00:00")
            return [
                live,
                first,
                again,
                await store.live_token("sha-of-the-secret"),
                await store.revoke_token("tok_nobody", "2026-01-02T00:00:00+00:00"),
                await store.tokens(),
            ]

        live, first, again, after, unknown, listed = run(ledger_on, scenario)

        revoked = token._replace(revoked_at="2026-01-02T00:00:00+00:00")
        assert live == token
        assert first == again == revoked
        assert after is None
        assert unknown is None
        assert listed == [revoked]

    def test_tokens_are_listed_oldest_first_and_found_live_by_their_secret_only(
        self, ledger_on: Ledger
    ) -> None:
        newer = TokenRow("tok_a", "municipality", "101", LATER, None)
        older = TokenRow("tok_b", "admin", None, WHEN, None)

        async def scenario(store: AsyncStore) -> list[object]:
            await store.insert_token(newer, "sha-a")
            await store.insert_token(older, "sha-b")
            return [
                await store.tokens(),
                await store.live_token("sha-a"),
                await store.live_token("tok_a"),
            ]

        listed, by_secret, by_id = run(ledger_on, scenario)

        assert listed == [older, newer]
        assert by_secret == newer
        assert by_id is None


CALLER = ("tok_x", "municipality", "101")  # token id, role, municipality
SHOWN = [
    ("P-A", "status", ["employment"], ["consent"]),
    ("P-B", "events", [], ["investigation"]),
    ("P-A", "history", ["health", "employment"], ["consent", "law"]),
]


async def logged(store: AsyncStore) -> list[AccessEntry]:
    """Appends the entries of ``SHOWN``; every entry, as stored."""
    for person, action, categories, basis in SHOWN:
        await store.append_access(WHEN, *CALLER, person, action, categories, basis)
    return await store.access_entries(0, 10, None)


class AccessLogSuite(StoreTraits):
    def test_access_entries_come_back_as_appended_oldest_first_and_by_person(
        self, ledger_on: Ledger
    ) -> None:
        async def scenario(store: AsyncStore) -> list[list[AccessEntry]]:
            every = await logged(store)
            return [
                every,
                await store.access_entries(0, 10, "P-A"),
                await store.access_entries(every[0].id, 1, None),
            ]

        every, of_a, next_one = run(ledger_on, scenario)

        assert [(e.person, e.action, e.categories, e.legal_basis) for e in every] == [
            (person, action, categories, basis) for person, action, categories, basis in SHOWN
        ]
        assert [e.id for e in every] == sorted(e.id for e in every)
        assert {(e.at, e.token_id, e.role, e.municipality) for e in every} == {(WHEN, *CALLER)}
        assert of_a == [every[0], every[2]]
        assert next_one == [every[1]]

    @pytest.mark.parametrize(
        "statement",
        ["UPDATE ledger_access_log SET person = 'P-X'", "DELETE FROM ledger_access_log"],
    )
    def test_the_store_itself_refuses_to_change_or_remove_an_access_entry(
        self, ledger_on: Ledger, statement: str
    ) -> None:
        before = run(ledger_on, logged)

        with pytest.raises(self.refusal, match="append-only"):
            execute(ledger_on.db, statement)

        assert run(ledger_on, lambda store: store.access_entries(0, 10, None)) == before
