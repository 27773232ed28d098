"""Choosing a store and what the ledger asks of it beyond eventsourcing's recorder API.

The store is picked by configuration only: a SQLite file path (the default, ``./ledger.db``)
or a ``postgresql://user:password@host:port/dbname`` URL becomes an eventsourcing environment
(``PERSISTENCE_MODULE``, ``APPLICATION_RECORDER_TOPIC``, ``MAPPER_TOPIC``, ...). The domain
never sees which one it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification

from ledger.errors import StoreError

DEFAULT_DB = "./ledger.db"


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

    @abstractmethod
    def select_stream(self, originator_id: UUID) -> list[Notification]:
        """A person's stored events, with positions, in version order."""

    @abstractmethod
    def select_streams(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[Notification]]:
        """Several persons' stored events at once (for the first touch of a batch)."""

    @abstractmethod
    def count_index(self) -> int:
        """How many events the idempotency index lists."""

    @abstractmethod
    def iter_streams(self, until: int) -> Iterator[list[Notification]]:
        """Every stream's events up to a position, one stream at a time, streaming."""

    def iter_notifications(self, after: int = 0, page: int = 2000) -> Iterator[Notification]:
        """Every stored event after a position, in position order, read page by page."""
        while True:
            batch = self.select_notifications(after, page, inclusive_of_start=False)
            yield from batch
            if len(batch) < page:
                return
            after = batch[-1].id


def group_streams(rows: Iterable[Notification]) -> Iterator[list[Notification]]:
    """Consecutive rows of the same stream, grouped (rows come ordered by stream)."""
    current: list[Notification] = []
    for row in rows:
        if current and row.originator_id != current[0].originator_id:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def store_env(db: str) -> dict[str, str]:
    """The eventsourcing environment for a ``--db`` value."""
    env = {"MAPPER_TOPIC": "ledger.records:LedgerMapper", "CREATE_TABLE": "y"}
    if is_postgres_url(db):
        parts = urlsplit(db)
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise StoreError(
                "a PostgreSQL URL needs a host and a database name: "
                "postgresql://user:password@host:port/dbname",
                "db",
            )
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "ledger.postgres:LedgerPostgresRecorder",
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "30",
        }
        return env
    path = Path(db)
    if path.is_dir():
        raise StoreError(f"--db {db!r} is a directory, not a ledger file", "db")
    if not path.parent.exists():
        raise StoreError(f"the folder of --db {db!r} does not exist", "db")
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "ledger.sqlite:LedgerSQLiteRecorder",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
