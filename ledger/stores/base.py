"""What the ledger asks of a store beyond eventsourcing's recorder API, and the rows it passes.

Which store a ledger uses is chosen in ``ledger.config``; the domain never sees which one it is.
How a store's faults are told apart from refusals is ``ledger.faults``. A store records whether
it is encrypted when it is first opened, with a check value only its key opens, and refuses to
be opened without that key (or with a key, when it is not encrypted): nothing is ever written in
clear into an encrypted store, nor read from it as if it were clear.
"""

from __future__ import annotations

import base64
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import (
    ApplicationRecorder,
    Cipher,
    Notification,
    PersistenceError,
    StoredEvent,
)

from ledger.config import CIPHER_KEY_ENV
from ledger.errors import StoreError
from ledger.stores.migrations import Cursor, Dialect, Names, check

ENCRYPTION = "encryption"  # the setting that records it
CLEAR = "none"
ENCRYPTION_CHECK = b"case-ledger: encrypted at rest"

T = TypeVar("T")

# A store that failed: eventsourcing's errors, and SQLite's own from the steps the ledger takes
# on a SQLite file before eventsourcing has it (``LedgerRecorder.opening``) and from committing a
# group of appends.
STORE_FAILURES: tuple[type[Exception], ...] = (PersistenceError, sqlite3.Error)


class Opening(NamedTuple):
    """How a store is opened: the environment for eventsourcing, and whether this process may
    only read it."""

    env: dict[str, str]
    read_only: bool


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


class Destroyed(NamedTuple):
    """What destroying a person's key did: was there a key, and are its bytes gone from every
    file of the store (None where the store cannot tell: a database server's files)."""

    key_destroyed: bool
    erased_from_files: bool | None


class RestoredEvent(NamedTuple):
    """A stored event from a backup, to be written back at its original position."""

    position: int
    event_id: UUID
    stored: StoredEvent


class Checkpoint(NamedTuple):
    """A signed ledger head: every event up to ``position``, hashed in position order."""

    position: int
    head: str
    signature: bytes
    key_fingerprint: str
    created_at: str


class CheckedEvent(NamedTuple):
    """One event as a checkpoint recorded it: the person, version and hash at its position."""

    position: int
    person: str
    version: int
    hash: str


class MissingEvent(NamedTuple):
    """An event the idempotency index lists but the store no longer holds: its position (when
    the index keeps it) or its stream and version."""

    position: int | None
    originator_id: UUID | None
    version: int | None


class GroupRefused(Exception):
    """The store refused the rows a deferred group of appends sent as one insert (an event_id
    stored before the group, a case another process wrote meanwhile): nothing of the group is
    stored, and its appends are to be decided again, each in a savepoint of its own. Not a
    ``PersistenceError``, so that no single append takes it for its own refusal."""


class CheckpointRace(StoreError):
    """Another checkpoint was written while this one was being prepared."""

    code = "checkpoint_race"


class EncryptionMismatch(StoreError):
    """The store is encrypted at rest and no key (or another key) was given, or the reverse."""

    code = "store_encryption"


class StoreNotEmpty(StoreError):
    """A restore was pointed at a store that already holds events."""

    code = "store_not_empty"


class LedgerRecorder(ApplicationRecorder, ABC):
    """The reads and writes the ledger needs beyond eventsourcing's application recorder.

    Its ``create_table`` applies the schema's pending migrations (``ledger.stores.migrations``);
    the store lends the migrations a cursor through ``schema_reading`` and ``schema_locked``."""

    dialect: Dialect

    @classmethod
    def opening(cls, env: dict[str, str]) -> Opening:
        """Prepare the store for opening with ``env`` (the kind of store decides what that
        takes); a store this process cannot write is opened read-only."""
        return Opening(env, read_only=False)

    @abstractmethod
    def schema_names(self) -> Names:
        """The store's names for eventsourcing's events and tracking tables."""

    @abstractmethod
    def schema_reading(self) -> AbstractContextManager[Cursor]:
        """A cursor in a read transaction."""

    @abstractmethod
    def schema_locked(self) -> AbstractContextManager[Cursor]:
        """A cursor in a write transaction holding the store's schema lock."""

    def check_connections(self) -> None:
        """Replace the pooled connections the store has dropped (a server restart), so that the
        next request does not draw one; a store without a pool has nothing to do."""

    def check_schema(self) -> int:
        """The store's schema version; raises ``StoreTooNew`` for a store a newer release
        migrated (a read-only open checks, where a writable one migrates)."""
        return check(self)

    @abstractmethod
    def together(self, *, deferred: bool = False) -> AbstractContextManager[None]:
        """One write transaction for several appends of this thread: inside it, this thread's
        ``insert_events`` each run in a savepoint of their own (one that fails is undone alone)
        and the ledger's reads see what the group wrote so far; all is committed at the end, or
        nothing is. Holds the store's write lock throughout.

        ``deferred``: a store whose every statement is a round trip to a server may keep the
        rows instead and send them all as one insert (at the end, or before the ledger reads),
        handing out the positions that follow the group's; an event_id the group wrote already
        is refused at once (``IntegrityError``), and a refusal of the rows sent together raises
        ``GroupRefused`` and leaves nothing of the group. A store whose savepoints cost no
        round trip writes each append as it comes either way."""

    @abstractmethod
    def select_index(self, event_ids: Sequence[UUID]) -> dict[UUID, IndexEntry]:
        """The stored events of those of the given event ids that are already stored."""

    @abstractmethod
    def select_keys(self, originator_ids: Sequence[UUID]) -> dict[UUID, bytes | None]:
        """Data keys of persons; None for a person whose key was destroyed."""

    @abstractmethod
    def destroy_key(self, originator_id: UUID, when: str) -> Destroyed:
        """Destroy a person's data key (and, where the store can, every copy of it in its
        files; asked again for a key destroyed before, it tries that again)."""

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

    @abstractmethod
    def missing_indexed(self) -> list[MissingEvent]:
        """Events the idempotency index lists that are not stored (verify asks when the counts
        differ); with the position of each, from the index or the first gap after the
        previous version of its stream."""

    @abstractmethod
    def select_checkpoints(self) -> list[Checkpoint]:
        """Every signed checkpoint, oldest first."""

    @abstractmethod
    def iter_checked(self, until: int, person: str | None = None) -> Iterator[CheckedEvent]:
        """The events the checkpoints recorded, up to a position (of one person, if given), in
        position order."""

    @abstractmethod
    def checked_heads(self, persons: Sequence[str]) -> dict[str, CheckedEvent]:
        """The last event the checkpoints recorded of each of these persons."""

    @abstractmethod
    def insert_checkpoint(
        self, checkpoint: Checkpoint, events: Sequence[CheckedEvent], previous: int
    ) -> None:
        """Store a checkpoint with the events it adds, in one transaction; raises
        ``CheckpointRace`` unless the latest stored checkpoint is still at ``previous``."""

    @abstractmethod
    def settle(self, name: str, value: str | None) -> str | None:
        """A setting of the store: recorded as ``value`` unless one is recorded already (None
        only reads); returns what is recorded."""

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


def settle_encryption(recorder: LedgerRecorder, cipher: Cipher | None, *, writable: bool) -> None:
    """Check the store's recorded encryption against the key given (recording it on first
    open); raises ``EncryptionMismatch`` before anything is read or written otherwise."""
    recorded = recorder.settle(ENCRYPTION, None)
    if recorded is None:
        recorded = _found_encryption(recorder, cipher)
        if writable and recorded is not None:
            recorded = recorder.settle(ENCRYPTION, recorded) or recorded
    if recorded == CLEAR:
        if cipher is not None:
            raise EncryptionMismatch(
                "this store is not encrypted at rest, but {CIPHER_KEY_ENV} is set: unset it (to "
                "encrypt the store, restore an export of it into a new store with the key)",
                CIPHER_KEY_ENV,
                CIPHER_KEY_ENV=CIPHER_KEY_ENV,
            )
        return
    if cipher is None or recorded is None:
        raise EncryptionMismatch(
            "this store is encrypted at rest: set {CIPHER_KEY_ENV} to its key; nothing was read "
            "or written",
            CIPHER_KEY_ENV,
            CIPHER_KEY_ENV=CIPHER_KEY_ENV,
        )
    try:
        opened = cipher.decrypt(base64.b64decode(recorded))
    except ValueError:
        opened = b""
    if opened != ENCRYPTION_CHECK:
        raise EncryptionMismatch(
            "{CIPHER_KEY_ENV} is not the key this store was encrypted with",
            CIPHER_KEY_ENV,
            CIPHER_KEY_ENV=CIPHER_KEY_ENV,
        )


def _found_encryption(recorder: LedgerRecorder, cipher: Cipher | None) -> str | None:
    """What a store not yet recording its encryption is: new ones are what the key says; older
    ones are what their first stored event is: a stored event in clear is a JSON object, and
    ciphertext is not (its random nonce begins with a brace one time in 256, so the whole state
    is decoded, not its first byte). None for an encrypted one opened without a key: recorded
    once it is opened with its key."""
    first = recorder.select_notifications(0, 1, inclusive_of_start=False)
    encrypted = cipher is not None if not first else not _is_json_object(bytes(first[0].state))
    if not encrypted:
        return CLEAR
    if cipher is None:
        return None
    if first:
        try:
            cipher.decrypt(bytes(first[0].state))
        except ValueError:
            raise EncryptionMismatch(
                "{CIPHER_KEY_ENV} is not the key this store was encrypted with",
                CIPHER_KEY_ENV,
                CIPHER_KEY_ENV=CIPHER_KEY_ENV,
            ) from None
    return base64.b64encode(cipher.encrypt(ENCRYPTION_CHECK)).decode()


def _is_json_object(state: bytes) -> bool:
    try:
        return isinstance(msgspec.json.decode(state), dict)
    except msgspec.DecodeError:
        return False
