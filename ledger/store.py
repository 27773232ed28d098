"""What the ledger asks of a store beyond eventsourcing's recorder API, and the rows it passes.

Which store a ledger uses is chosen in ``ledger.config``; the domain never sees which one it is.
How a store's faults are told apart from refusals is ``ledger.faults``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple, TypeVar
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent

from ledger.errors import StoreError

T = TypeVar("T")


class IndexRow(NamedTuple):
    """An event_id to record in the idempotency index, and where its event is stored."""

    event_id: UUID
    originator_id: UUID
    originator_version: int


class IndexEntry(NamedTuple):
    """An event_id already stored, with the stored event (to compare a re-sent one with)."""

    originator_id: UUID
    originator_version: int
    position: int
    topic: str
    state: bytes


class KeyRow(NamedTuple):
    originator_id: UUID
    key: bytes


class KeyState(NamedTuple):
    """A person's data key as the store keeps it: None once destroyed, and when."""

    originator_id: UUID
    key: bytes | None
    forgotten_at: str | None


class RestoredEvent(NamedTuple):
    """A stored event from a backup, to be written back at its original position."""

    position: int
    event_id: UUID
    stored: StoredEvent


class StoreNotEmpty(StoreError):
    """A restore was pointed at a store that already holds events."""

    code = "store_not_empty"


class LedgerRecorder(ApplicationRecorder, ABC):
    """The reads and writes the ledger needs beyond eventsourcing's application recorder."""

    @abstractmethod
    def select_index(self, event_ids: Sequence[UUID]) -> dict[UUID, IndexEntry]:
        """The stored events of those of the given event ids that are already stored."""

    @abstractmethod
    def select_keys(self, originator_ids: Sequence[UUID]) -> dict[UUID, bytes | None]:
        """Data keys of persons; None for a person whose key was destroyed."""

    @abstractmethod
    def destroy_key(self, originator_id: UUID, when: str) -> bool:
        """Destroy a person's data key; True if there was one."""

    def select_stream(self, originator_id: UUID) -> list[Notification]:
        """A person's stored events, with positions, in version order."""
        return self.select_streams([originator_id])[originator_id]

    @abstractmethod
    def select_streams(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[Notification]]:
        """Several persons' stored events at once (for the first touch of a batch)."""

    @abstractmethod
    def count_index(self) -> int:
        """How many events the idempotency index lists."""

    @abstractmethod
    def iter_streams(
        self, until: int, shard: Shard | None = None
    ) -> Iterator[tuple[UUID, list[StreamRow]]]:
        """Every stream's events up to a position (of the streams in ``shard``, if given), one
        stream at a time, streaming; rows are plain tuples, since a rebuild reads every row of
        the ledger."""

    @abstractmethod
    def iter_keys(self) -> Iterator[KeyState]:
        """Every person's key row, destroyed ones included (for backups)."""

    @abstractmethod
    def insert_restored(self, events: Iterable[RestoredEvent], keys: Iterable[KeyState]) -> None:
        """Fill an empty store in one transaction: the events at their original positions with
        their idempotency index, then the person keys (``keys`` is iterated after ``events``
        is exhausted). Later appends continue after the last restored position. Raises
        ``StoreNotEmpty`` before reading anything when the store already holds events; any
        error raised while iterating leaves the store as empty as it was."""

    def iter_notifications(self, after: int = 0, page: int = 2000) -> Iterator[Notification]:
        """Every stored event after a position, in position order, read page by page."""
        while True:
            batch = self.select_notifications(after, page, inclusive_of_start=False)
            yield from batch
            if len(batch) < page:
                return
            after = batch[-1].id


class Shard(NamedTuple):
    """A range of stream ids, ``low`` included and ``high`` excluded (None: no bound). Stream ids
    are uuid5 of the person reference, so equal ranges hold about equal numbers of persons."""

    low: UUID | None
    high: UUID | None


def shards(count: int) -> list[Shard]:
    """The stream-id space cut into ``count`` ranges of equal width, in order."""
    bounds = [UUID(int=(index << 128) // count) for index in range(1, count)]
    return [Shard(low, high) for low, high in zip([None, *bounds], [*bounds, None], strict=True)]


class StreamRow(NamedTuple):
    position: int
    version: int
    topic: str
    state: bytes


def group_streams(
    rows: Iterable[tuple[UUID | str, int, int, str, bytes]],
) -> Iterator[tuple[UUID, list[StreamRow]]]:
    """Rows ordered by stream, grouped per stream: (originator_id, position, version, topic,
    state) in, (stream id, rows) out."""
    for originator_id, group in groupby(rows, key=itemgetter(0)):
        oid = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        yield oid, [StreamRow(r[1], r[2], r[3], bytes(r[4])) for r in group]


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of ``size`` items (the last may be shorter), read lazily."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
