"""The SQLite store: eventsourcing's application recorder plus the ledger's own tables.

Beside ``stored_events`` the recorder keeps, in the same database and the same transaction as
the events they describe (every table is made by ``ledger.stores.migrations``):
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

import mmap
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, PersistenceError, StoredEvent
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteCursor,
    SQLiteTransaction,
)

from ledger.errors import StoreError
from ledger.retry import pauses
from ledger.stores.base import (
    CheckedEvent,
    Checkpoint,
    CheckpointRace,
    Destroyed,
    IndexEntry,
    IndexRow,
    KeyRow,
    KeyState,
    LedgerRecorder,
    MissingEvent,
    Opening,
    RestoredEvent,
    Shard,
    StoreNotEmpty,
    StreamRow,
    chunks,
    group_streams,
)
from ledger.stores.migrations import Dialect, Names, migrate

CHUNK = 500


# A write connection's page cache. An append touches a few pages of the event-id index: a small
# cache holds them, and a server's memory stays flat (a cache fills up to its size and keeps it).
CACHE_KIB = 4096
# For a large batch: random-keyed index inserts thrash a small cache. Set for the batch's
# transaction only; the connection's next small write shrinks it again, freeing the pages.
LARGE_CACHE_KIB = 65536
LARGE_BATCH = 1000  # events


def writable(path: str) -> bool:
    """Can this process write a ledger file and the files SQLite keeps beside it (its
    write-ahead log and shared memory)? A file not there yet is created on first use.

    Asked of SQLite itself, never by opening the file: closing any descriptor of a database
    file drops the locks every other connection of this process holds on it.
    """
    if not Path(path).exists():
        return True
    try:
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        finally:
            probe.close()
    except sqlite3.OperationalError as exc:
        return "readonly" not in str(exc) and "unable to open" not in str(exc)  # busy: writable
    return True


def read_only_env(path: str) -> dict[str, str]:
    """The environment that opens a ledger file read-only (evidence copies, read-only media):
    ``mode=ro`` where SQLite can still keep its shared memory beside the file, otherwise
    ``immutable=1``, which reads the file alone and so is refused while the write-ahead log
    holds changes not yet copied into it."""
    target = Path(path).resolve()
    if _folder_writable(target.parent):
        mode = "mode=ro"
    else:
        wal = Path(f"{target}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise StoreError(
                "--db {path!r} cannot be written and its write-ahead log holds changes a "
                "read-only open cannot apply: copy the store after every process closed it",
                "db",
                path=path,
            )
        mode = "immutable=1"
    return {"SQLITE_DBNAME": f"file:{quote(str(target))}?{mode}", "CREATE_TABLE": "n"}


def _folder_writable(folder: Path) -> bool:
    import tempfile  # noqa: PLC0415 - loaded by the few opens that ask, not by every command

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def use_wal(path: str, timeout: float) -> None:
    """Put a ledger file in WAL mode (creating it if new) before eventsourcing opens it.

    Switching the journal mode needs the file to itself, and SQLite answers "database is
    locked" at once, without waiting, when other processes are opening the same new file; so
    retry until the timeout. Once switched, the mode is kept in the file and this returns at once.
    """
    waits = pauses(0.001, 0.1, within=timeout)
    while True:
        connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.OperationalError as exc:
            pause = next(waits, None) if "locked" in str(exc) else None
            if pause is None:
                raise
        else:
            return
        finally:
            connection.close()
        time.sleep(pause)


class ImmediateTransaction(SQLiteTransaction):
    """A write transaction that takes the write lock first, with the connection's page cache
    sized for it (``large``: ``LARGE_CACHE_KIB``, else ``CACHE_KIB``)."""

    def __init__(
        self, connection: SQLiteConnection, *, commit: bool = False, large: bool = False
    ) -> None:
        super().__init__(connection, commit=commit)
        self.large = large

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        if _SIZED.get(self.connection) != self.large:
            # A PRAGMA takes no parameters: one of two statements made from the constants.
            cursor.execute(_LARGE_CACHE if self.large else _SMALL_CACHE)
            _SIZED[self.connection] = self.large
        cursor.execute("BEGIN IMMEDIATE")
        return cursor


_SMALL_CACHE = f"PRAGMA cache_size = -{CACHE_KIB}"
_LARGE_CACHE = f"PRAGMA cache_size = -{LARGE_CACHE_KIB}"


# Whether each pooled connection's page cache is the large one (forgotten as the pool drops
# them).
_SIZED: weakref.WeakKeyDictionary[SQLiteConnection, bool] = weakref.WeakKeyDictionary()


class LedgerSQLiteRecorder(SQLiteApplicationRecorder, LedgerRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._together = threading.local()  # the cursor of this thread's open group, if any

    @contextmanager
    def together(self, *, deferred: bool = False) -> Iterator[None]:  # noqa: ARG002 - see base
        # A savepoint here is a call into the library, no round trip: nothing to save by
        # deferring the appends' rows, so each is written as it comes.
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as cursor,
        ):
            self._together.cursor = cursor
            try:
                yield
            finally:
                self._together.cursor = None

    @contextmanager
    def _reading(self) -> Iterator[SQLiteCursor]:
        """A cursor for the ledger's reads: the open group's (which sees its own writes), else
        a read transaction of its own."""
        pinned: SQLiteCursor | None = getattr(self._together, "cursor", None)
        if pinned is not None:
            yield pinned
            return
        with self.datastore.transaction(commit=False) as c:
            yield c

    def max_notification_id(self) -> int:
        with self._reading() as c:
            return self._max_notification_id(c)

    # --- the schema: every table is made by ``ledger.stores.migrations`` ----------------------

    dialect: Dialect = "sqlite"

    @classmethod
    def opening(cls, env: dict[str, str]) -> Opening:
        """A file this process cannot write (an evidence copy, read-only media) is opened
        read-only; any other is put in WAL mode first."""
        path = env["SQLITE_DBNAME"]
        if not writable(path):
            return Opening(env | read_only_env(path), read_only=True)
        use_wal(path, float(env["SQLITE_LOCK_TIMEOUT"]))
        return Opening(env, read_only=False)

    def create_table(self) -> None:
        migrate(self)

    def schema_names(self) -> Names:
        return Names(events=self.events_table_name, tracking="tracking")

    @contextmanager
    def schema_reading(self) -> Iterator[SQLiteCursor]:
        with self.datastore.transaction(commit=False) as c:
            yield c

    @contextmanager
    def schema_locked(self) -> Iterator[SQLiteCursor]:
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            yield c

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        pinned: SQLiteCursor | None = getattr(self._together, "cursor", None)
        if pinned is not None:
            # Inside a group, in a savepoint: a refused write leaves the others of the group.
            pinned.execute("SAVEPOINT ledger_append")
            try:
                ids = self._insert_events(pinned, stored_events, **kwargs)
            except sqlite3.Error as exc:
                pinned.execute("ROLLBACK TO ledger_append")
                pinned.execute("RELEASE ledger_append")
                # As eventsourcing's own transactions report them, for the ledger's retries.
                kind = (
                    IntegrityError if isinstance(exc, sqlite3.IntegrityError) else PersistenceError
                )
                raise kind(exc) from exc
            pinned.execute("RELEASE ledger_append")
            return ids
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(
                conn, commit=True, large=len(stored_events) >= LARGE_BATCH
            ) as cursor,
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
        with self._reading() as c:
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
        with self._reading() as c:
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

    def destroy_key(self, originator_id: UUID, when: str) -> Destroyed:
        with self.datastore.get_connection(commit=True) as conn:
            # Whatever SQLite's compiled default: zero the key's old bytes in the page, then
            # empty the write-ahead log, whose older frames still hold the page with the key.
            conn.cursor().execute("PRAGMA secure_delete = ON")
            with conn.transaction(commit=True) as c:
                c.execute(
                    "SELECT key FROM ledger_person_keys WHERE originator_id = ?",
                    (originator_id.hex,),
                )
                row = c.fetchone()
                key = None if row is None or row[0] is None else bytes(row[0])
                c.execute(
                    "UPDATE ledger_person_keys SET key = NULL, forgotten_at = ? "
                    "WHERE originator_id = ? AND key IS NOT NULL",
                    (when, originator_id.hex),
                )
            checkpoint = conn.cursor()
            checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, frames, _ = checkpoint.fetchone()
        # Until the log is copied back and emptied, the file's page with the key is the old
        # one: a reader holding an older snapshot keeps it there.
        erased = busy == 0 and frames == 0
        if erased and key is not None:
            erased = not self._in_files(key)
        return Destroyed(key is not None, erased)

    def _in_files(self, secret: bytes) -> bool:
        """Are these bytes anywhere in the store's file or its write-ahead log? Read by a
        process of its own: closing a descriptor of the database file here would drop the
        locks this process's connections hold on it."""
        import subprocess  # noqa: PLC0415 - loaded by `forget`, not by every command

        found = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "ledger.stores.sqlite", self.datastore.pool.db_name],
            input=secret,
            capture_output=True,
            check=True,
        )
        return found.stdout.strip() == b"found"

    @staticmethod
    def scan_files(path: str, secret: bytes) -> bool:
        for suffix in ("", "-wal"):
            target = Path(path + suffix)
            if not target.exists() or target.stat().st_size == 0:
                continue
            with (
                target.open("rb") as file,
                mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as m,
            ):
                if m.find(secret) != -1:
                    return True
        return False

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
            ImmediateTransaction(conn, commit=True, large=True) as c,
        ):
            c.execute(f"SELECT MAX(rowid) FROM {self.events_table_name}")
            head = c.fetchone()[0]
            if head is not None:
                raise StoreNotEmpty(
                    "the store already holds events (up to position {head}); restore only into an "
                    "empty store",
                    "db",
                    head=head,
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
        with self._reading() as c:
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

    def missing_indexed(self) -> list[MissingEvent]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT i.position FROM ledger_event_ids i LEFT JOIN {self.events_table_name} e "
                "ON e.rowid = i.position WHERE e.rowid IS NULL ORDER BY i.position"
            )
            return [MissingEvent(row[0], None, None) for row in c.fetchall()]

    def select_checkpoints(self) -> list[Checkpoint]:
        with self.datastore.transaction(commit=False) as c:
            if _missing(c, "ledger_checkpoints"):
                return []
            c.execute(
                "SELECT position, head, signature, key_fingerprint, created_at "
                "FROM ledger_checkpoints ORDER BY position"
            )
            return [Checkpoint(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in c.fetchall()]

    def iter_checked(self, until: int, person: str | None = None) -> Iterator[CheckedEvent]:
        with self.datastore.transaction(commit=False) as c:
            if person is None:
                c.execute(
                    "SELECT position, person, version, hash FROM ledger_checked_events "
                    "WHERE position <= ? ORDER BY position",
                    (until,),
                )
            else:
                c.execute(
                    "SELECT position, person, version, hash FROM ledger_checked_events "
                    "WHERE position <= ? AND person = ? ORDER BY position",
                    (until, person),
                )
            for row in c.sqlite_cursor:
                yield CheckedEvent(*row)

    def checked_heads(self, persons: Sequence[str]) -> dict[str, CheckedEvent]:
        found: dict[str, CheckedEvent] = {}
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunks(persons, CHUNK):
                # SQLite takes the other columns from the row that holds the MAX.
                c.execute(
                    "SELECT position, person, MAX(version), hash FROM ledger_checked_events "
                    f"WHERE person IN ({','.join('?' * len(chunk))}) GROUP BY person",
                    chunk,
                )
                for row in c.fetchall():
                    found[row[1]] = CheckedEvent(*row)
        return found

    def insert_checkpoint(
        self, checkpoint: Checkpoint, events: Sequence[CheckedEvent], previous: int
    ) -> None:
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True, large=len(events) >= LARGE_BATCH) as c,
        ):
            c.execute("SELECT COALESCE(MAX(position), 0) FROM ledger_checkpoints")
            latest = c.fetchone()[0]
            if latest != previous:
                raise CheckpointRace(
                    "another checkpoint (position {latest}) was written meanwhile; try again",
                    latest=latest,
                )
            c.executemany("INSERT INTO ledger_checked_events VALUES (?, ?, ?, ?)", events)
            c.execute("INSERT INTO ledger_checkpoints VALUES (?, ?, ?, ?, ?)", checkpoint)

    def settle(self, name: str, value: str | None) -> str | None:
        if value is None:
            with self.datastore.transaction(commit=False) as c:
                return _setting(c, name)
        # The write lock first, as every writer here: processes opening a new store at once
        # would otherwise fail to upgrade their read snapshots to a write.
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            c.execute("INSERT OR IGNORE INTO ledger_settings VALUES (?, ?)", (name, value))
            return _setting(c, name)


def _setting(c: SQLiteCursor, name: str) -> str | None:
    if _missing(c, "ledger_settings"):
        return None
    c.execute("SELECT value FROM ledger_settings WHERE name = ?", (name,))
    row = c.fetchone()
    return None if row is None else str(row[0])


def _missing(c: SQLiteCursor, table: str) -> bool:
    """Is a table not there? Only so in a read-only copy of a store made before the table was,
    which is opened without creating tables."""
    c.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    return c.fetchone() is None


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


if __name__ == "__main__":  # the scan of ``_in_files``: the file in argv, the bytes on stdin
    FOUND = LedgerSQLiteRecorder.scan_files(sys.argv[1], sys.stdin.buffer.read())
    sys.stdout.write("found\n" if FOUND else "absent\n")
