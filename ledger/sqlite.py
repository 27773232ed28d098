"""The SQLite store: eventsourcing's application recorder plus the ledger's own tables.

Beside ``stored_events`` the recorder keeps, in the same database and the same transaction as
the events they describe:
- ``ledger_event_ids``: every event_id with the position of its event (idempotency across the
  whole ledger; kept to 16 + 8 bytes a row, because a random-keyed index is the costliest part
  of a bulk import);
- ``ledger_person_keys``: the per-person data keys (crypto-shredding). A destroyed key is
  overwritten in the file (``secure_delete``) and the write-ahead log is emptied, so no copy of
  it is left in the store's files.
Write transactions begin IMMEDIATE, so a writer holds the lock before it reads the next
notification id and concurrent writers queue instead of failing on a stale snapshot.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteCursor,
    SQLiteTransaction,
)

from ledger.store import (
    IndexEntry,
    IndexRow,
    KeyRow,
    KeyState,
    LedgerRecorder,
    RestoredEvent,
    Shard,
    StoreNotEmpty,
    StreamRow,
    chunks,
    group_streams,
)

CHUNK = 500


CACHE_KIB = 65536  # random-keyed index inserts thrash SQLite's default 2 MiB page cache


LOCK_TIMEOUT_S = 30.0  # as SQLITE_LOCK_TIMEOUT in the store's environment


def use_wal(path: str, timeout: float = LOCK_TIMEOUT_S) -> None:
    """Put a ledger file in WAL mode (creating it if new) before eventsourcing opens it.

    Switching the journal mode needs the file to itself, and SQLite answers "database is
    locked" at once, without waiting, when other processes are opening the same new file; so
    retry until the timeout. Once switched, the mode is kept in the file and this returns at once.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        else:
            return
        finally:
            connection.close()
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


class ImmediateTransaction(SQLiteTransaction):
    """A write transaction that takes the write lock first (and sizes the page cache once)."""

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        if not getattr(self.connection, "ledger_tuned", False):
            cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self.connection.ledger_tuned = True  # type: ignore[attr-defined]
        cursor.execute("BEGIN IMMEDIATE")
        return cursor


class LedgerSQLiteRecorder(SQLiteApplicationRecorder, LedgerRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            (
                "CREATE TABLE IF NOT EXISTS ledger_event_ids ("
                "event_id BLOB PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID"
            ),
            (
                "CREATE TABLE IF NOT EXISTS ledger_person_keys ("
                "originator_id TEXT PRIMARY KEY, key BLOB, forgotten_at TEXT) WITHOUT ROWID"
            ),
        ]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as cursor,
        ):
            return self._insert_events(cursor, stored_events, **kwargs)

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        *,
        index: Iterable[IndexRow] = (),
        keys: Iterable[KeyRow] = (),
        **_: Any,
    ) -> Sequence[int] | None:
        c.executemany(
            "INSERT INTO ledger_person_keys (originator_id, key) VALUES (?, ?)",
            [(oid.hex, key) for oid, key in keys],
        )
        # Inside an IMMEDIATE transaction no other writer can insert, and rows are never
        # deleted, so SQLite hands out max(rowid)+1, +2, ... to this executemany.
        c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
        start = (c.fetchone()[0] or 0) + 1
        rows = [
            (
                _hex(s.originator_id),
                s.originator_version,
                s.topic,
                s.state,
            )
            for s in stored_events
        ]
        c.executemany(self.insert_events_statement, rows)
        if index:
            positions = {(row[0], row[1]): start + i for i, row in enumerate(rows)}
            c.executemany(
                "INSERT INTO ledger_event_ids VALUES (?, ?)",
                [(eid.bytes, positions[oid.hex, version]) for eid, oid, version in index],
            )
        return list(range(start, start + len(rows)))

    # --- the ledger's own reads --------------------------------------------------------------

    def select_index(self, event_ids: Sequence[UUID]) -> dict[UUID, IndexEntry]:
        found: dict[UUID, IndexEntry] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(event_ids), CHUNK):
                chunk = [e.bytes for e in event_ids[start : start + CHUNK]]
                c.execute(
                    "SELECT i.event_id, e.originator_id, e.originator_version, i.position, "
                    f"e.topic, e.state FROM ledger_event_ids i JOIN {self.events_table_name} e "
                    f"ON e.rowid = i.position WHERE i.event_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                for row in c.fetchall():
                    found[UUID(bytes=row[0])] = IndexEntry(
                        UUID(row[1]), row[2], row[3], row[4], bytes(row[5])
                    )
        return found

    def select_keys(self, originator_ids: Sequence[UUID]) -> dict[UUID, bytes | None]:
        found: dict[UUID, bytes | None] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(originator_ids), CHUNK):
                chunk = [o.hex for o in originator_ids[start : start + CHUNK]]
                c.execute(
                    "SELECT originator_id, key FROM ledger_person_keys "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                for row in c.fetchall():
                    found[UUID(row[0])] = None if row[1] is None else bytes(row[1])
        return found

    def destroy_key(self, originator_id: UUID, when: str) -> bool:
        with self.datastore.get_connection(commit=True) as conn:
            # Whatever SQLite's compiled default: zero the key's old bytes in the page, then
            # empty the write-ahead log, whose older frames still hold the page with the key.
            conn.cursor().execute("PRAGMA secure_delete = ON")
            with conn.transaction(commit=True) as c:
                c.execute(
                    "UPDATE ledger_person_keys SET key = NULL, forgotten_at = ? "
                    "WHERE originator_id = ? AND key IS NOT NULL",
                    (when, originator_id.hex),
                )
                c.execute("SELECT changes()")
                destroyed = bool(c.fetchone()[0])
            conn.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return destroyed

    def iter_keys(self) -> Iterator[KeyState]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, key, forgotten_at FROM ledger_person_keys "
                "ORDER BY originator_id"
            )
            for row in c.sqlite_cursor:
                yield KeyState(UUID(row[0]), None if row[1] is None else bytes(row[1]), row[2])

    def insert_restored(self, events: Iterable[RestoredEvent], keys: Iterable[KeyState]) -> None:
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
            head = c.fetchone()[0]
            if head is not None:
                raise StoreNotEmpty(
                    f"the store already holds events (up to position {head}); "
                    "restore only into an empty store",
                    "db",
                )
            for chunk in chunks(events, CHUNK):
                c.executemany(
                    f"INSERT INTO {self.events_table_name} (rowid, originator_id, "
                    "originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            r.position,
                            _hex(r.stored.originator_id),
                            r.stored.originator_version,
                            r.stored.topic,
                            r.stored.state,
                        )
                        for r in chunk
                    ],
                )
                c.executemany(
                    "INSERT INTO ledger_event_ids VALUES (?, ?)",
                    [(r.event_id.bytes, r.position) for r in chunk],
                )
            c.executemany(
                "INSERT INTO ledger_person_keys (originator_id, key, forgotten_at) "
                "VALUES (?, ?, ?)",
                [(k.originator_id.hex, k.key, k.forgotten_at) for k in keys],
            )

    def select_streams(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[Notification]]:
        found: dict[UUID, list[Notification]] = {oid: [] for oid in originator_ids}
        # Rows name their stream in hex; the ids asked for are mapped back, not parsed per row.
        asked = {oid.hex: oid for oid in originator_ids}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(originator_ids), CHUNK):
                chunk = [o.hex for o in originator_ids[start : start + CHUNK]]
                c.execute(
                    "SELECT rowid, originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} "
                    f"WHERE originator_id IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY originator_id, originator_version",
                    chunk,
                )
                for position, stream, version, topic, state in c.sqlite_cursor:
                    oid = asked[stream]
                    found[oid].append(
                        Notification(
                            id=position,
                            originator_id=oid,
                            originator_version=version,
                            topic=topic,
                            state=state,
                        )
                    )
        return found

    def iter_streams(
        self, until: int, shard: Shard | None = None
    ) -> Iterator[tuple[UUID, list[StreamRow]]]:
        low = shard.low if shard is not None and shard.low is not None else UUID(int=0)
        high = shard.high if shard is not None else None
        with self.datastore.transaction(commit=False) as c:
            if high is None:
                c.execute(
                    "SELECT originator_id, rowid, originator_version, topic, state "
                    f"FROM {self.events_table_name} WHERE rowid <= ? AND originator_id >= ? "
                    "ORDER BY originator_id, originator_version",
                    (until, low.hex),
                )
            else:
                c.execute(
                    "SELECT originator_id, rowid, originator_version, topic, state "
                    f"FROM {self.events_table_name} WHERE rowid <= ? AND originator_id >= ? "
                    "AND originator_id < ? ORDER BY originator_id, originator_version",
                    (until, low.hex, high.hex),
                )
            yield from group_streams(c.sqlite_cursor)

    def count_index(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT COUNT(*) FROM ledger_event_ids")
            return int(c.fetchone()[0])

    def raw_connection(self) -> sqlite3.Connection:
        """A plain connection to the same file, for maintenance tools and tests."""
        return sqlite3.connect(self.datastore.pool.db_name)


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id
