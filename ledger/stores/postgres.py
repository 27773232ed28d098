"""The PostgreSQL store: eventsourcing's application recorder plus the ledger's own tables.

Same tables and guarantees as ``ledger.stores.sqlite`` (every table is made by
``ledger.stores.migrations``). The idempotency index and the person
keys are written after eventsourcing has taken its EXCLUSIVE table lock, inside the same
transaction, so writers are serialised in one order and a conflicting event_id surfaces as an
IntegrityError.

Every statement costs a round trip to the server, so a group of appends (``together``) can defer
its rows: each append is given the positions that follow the group's, which no other writer can
take while the group holds the lock, and the rows are sent as one insert when the group ends or
when the ledger next reads (so that it reads what the group wrote).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    Notification,
    OperationalError,
    PersistenceError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, TupleRow, tuple_row
from psycopg.sql import SQL, Identifier

from ledger.stores.base import (
    CheckedEvent,
    Checkpoint,
    CheckpointRace,
    Destroyed,
    GroupRefused,
    IndexEntry,
    IndexRow,
    KeyRow,
    KeyState,
    LedgerRecorder,
    MissingEvent,
    RestoredEvent,
    Shard,
    StoreNotEmpty,
    StreamRow,
    chunks,
    group_streams,
)
from ledger.stores.migrations import Dialect, Names, migrate

RESTORE_CHUNK = 2000
SCHEMA_LOCK = 0x6C6564676572  # advisory lock key: "ledger"


PIPELINE_MAX_EVENTS = 100


def without_prepared_statements(datastore: PostgresDatastore) -> None:
    """New connections of the store's pool prepare no statements on the server.

    Writers that race for a case meet conflicts inside pipelined transactions; when psycopg sees
    the ROLLBACK that follows, it deallocates every prepared statement of the connection while a
    statement it already sent by name may still be queued behind it, and that statement then
    fails with "prepared statement … does not exist" (seen with two processes appending to one
    person on PostgreSQL). Statements sent unprepared cannot meet that, at the cost of the
    server planning each again, which the ledger's short statements barely notice.
    """
    kwargs = datastore.pool.kwargs
    if isinstance(kwargs, dict):
        kwargs["prepare_threshold"] = None


@dataclass(slots=True)
class _Group:
    """A thread's open group (``together``): its connection and, when its appends are deferred,
    the rows they wrote that are not sent yet."""

    conn: Connection[DictRow]
    deferred: bool
    next_position: int = 1
    events: list[StoredEvent] = field(default_factory=list)
    index: list[IndexRow] = field(default_factory=list)
    keys: list[KeyRow] = field(default_factory=list)
    event_ids: set[UUID] = field(default_factory=set)  # every one the group wrote, sent or not
    failure: Exception | None = None  # a send that failed: the group must not commit


class LedgerPostgresRecorder(PostgresApplicationRecorder, LedgerRecorder):
    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        without_prepared_statements(datastore)  # before the recorder opens the pool
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self._events = SQL("{0}.{1}").format(schema, Identifier(self.events_table_name))
        self._index = SQL("{0}.ledger_event_ids").format(schema)
        self._keys = SQL("{0}.ledger_person_keys").format(schema)
        self._checkpoints = SQL("{0}.ledger_checkpoints").format(schema)
        self._checked = SQL("{0}.ledger_checked_events").format(schema)
        self._settings = SQL("{0}.ledger_settings").format(schema)
        oid_type = Identifier(self.datastore.originator_id_type)
        self._insert_arrays = SQL(
            "INSERT INTO {0} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{1}[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id"
        ).format(self._events, oid_type)
        self._insert_at = SQL(
            "INSERT INTO {0} (notification_id, originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::bigint[], %s::{1}[], %s::bigint[], %s::text[], %s::bytea[])"
        ).format(self._events, oid_type)
        self._insert_index = SQL(
            "INSERT INTO {0} SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::bigint[])"
        ).format(self._index)
        self._head = SQL("SELECT MAX(notification_id) AS head FROM {0}").format(self._events)
        self._together = threading.local()  # this thread's open group

    # --- the schema: every table is made by ``ledger.stores.migrations`` ----------------------

    dialect: Dialect = "postgres"

    def create_table(self) -> None:
        migrate(self)
        # eventsourcing sends batches as arrays of the row type the migrations made.
        self.datastore.register_type_adapters()

    def check_connections(self) -> None:
        # psycopg's pool checks each connection it lends (``POSTGRES_PRE_PING``), but after a
        # restart that dropped them all, a request drawing from it was seen waiting out its
        # whole timeout while the pool replaced them; its own check of the idle connections
        # replaces them at once.
        self.datastore.pool.check()

    def schema_names(self) -> Names:
        # eventsourcing names both tables after the application: ledger_events, ledger_tracking.
        prefix = self.events_table_name.removesuffix("_events")
        return Names(events=self.events_table_name, tracking=f"{prefix}_tracking")

    @contextmanager
    def schema_reading(self) -> Iterator[Cursor[TupleRow]]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            self._in_schema(curs)
            yield curs

    @contextmanager
    def schema_locked(self) -> Iterator[Cursor[TupleRow]]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            self._in_schema(curs)
            curs.execute(SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout))
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            yield curs

    def _in_schema(self, curs: Cursor[TupleRow]) -> None:
        curs.execute(SQL("SET LOCAL search_path TO {0}").format(Identifier(self.datastore.schema)))

    @contextmanager
    def together(self, *, deferred: bool = False) -> Iterator[None]:
        try:
            with self.datastore.get_connection() as conn, conn.transaction():
                with conn.cursor() as curs:
                    # The write lock first, as every insert takes it, and once for the group;
                    # with it, in the same round trip, the head a deferred group continues.
                    with conn.pipeline():
                        self._lock_table(curs)
                        self._notify_channel(curs)
                        if deferred:
                            curs.execute(self._head)
                    row = curs.fetchone() if deferred else None
                head = (row["head"] if row is not None else None) or 0
                group = _Group(conn, deferred, next_position=head + 1)
                self._together.group = group
                try:
                    yield
                    self._send(group)
                finally:
                    self._together.group = None
        except psycopg.OperationalError as exc:  # as eventsourcing reports a failed commit
            raise OperationalError(exc) from exc
        except psycopg.Error as exc:
            raise PersistenceError(exc) from exc

    def _group(self) -> _Group | None:
        group: _Group | None = getattr(self._together, "group", None)
        return group

    @contextmanager
    def _connection(self) -> Iterator[Connection[DictRow]]:
        """A connection for the ledger's reads: the open group's (which sees its own writes,
        those it deferred sent first), else one from the pool."""
        group = self._group()
        if group is not None:
            self._send(group)
            yield group.conn
            return
        with self.datastore.get_connection() as conn:
            yield conn

    def max_notification_id(self) -> int | None:
        group = self._group()
        if group is not None and group.deferred:
            # The group holds the write lock: the head is the last position it handed out.
            return group.next_position - 1 or None
        with self._connection() as conn, conn.cursor() as curs:
            curs.execute(self.max_notification_id_statement)
            row = curs.fetchone()
            return None if row is None else row["max"]

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One transaction. Small batches go through eventsourcing's pipeline (one round trip
        for the lock, insert and index); large ones are sent statement by statement, since a
        pipeline carrying their large arrays can stall with both sides' buffers full, and the
        round trips saved are nothing next to such a batch. Inside a group (``together``), a
        savepoint of the group's transaction: a refused write leaves the others of the group;
        or, in a deferred group, kept to be sent with the group's other rows."""
        if not stored_events:
            return []
        group = self._group()
        if group is not None and group.deferred:
            return self._defer(group, stored_events, **kwargs)
        if group is not None:
            pinned = group.conn
            try:
                # One round trip: the savepoint, the inserts and the release, pipelined; the
                # positions are read once the pipeline has synced at its end (reading them
                # inside it would sync once more, a second round trip).
                with pinned.cursor() as curs:
                    with pinned.pipeline(), pinned.transaction():
                        self._insert_stored_events(curs, stored_events, locked=True, **kwargs)
                    return [row["notification_id"] for row in curs.fetchall()]
            except psycopg.IntegrityError as exc:
                raise IntegrityError(exc) from exc  # as eventsourcing reports it, for retries
            except psycopg.OperationalError as exc:
                raise OperationalError(exc) from exc
            except psycopg.Error as exc:
                raise PersistenceError(exc) from exc
        if len(stored_events) <= PIPELINE_MAX_EVENTS:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            self._insert_stored_events(curs, stored_events, **kwargs)
            return [row["notification_id"] for row in curs.fetchall()]

    def _defer(
        self,
        group: _Group,
        stored_events: Sequence[StoredEvent],
        *,
        index: Iterable[IndexRow] = (),
        keys: Iterable[KeyRow] = (),
        **_: Any,
    ) -> list[int]:
        """An append of a deferred group: its rows kept, at the positions that follow the
        group's. An event_id the group wrote already is refused at once, as the index's unique
        key would refuse it, so the ledger decides that append again with the index read."""
        index_rows = list(index)
        if not group.event_ids.isdisjoint(row.event_id for row in index_rows):
            message = "an event_id of this append was written by an earlier append of its group"
            raise IntegrityError(message)
        group.event_ids.update(row.event_id for row in index_rows)
        first = group.next_position
        group.next_position += len(stored_events)
        group.events += stored_events
        group.index += index_rows
        group.keys += keys
        return list(range(first, group.next_position))

    def _send(self, group: _Group) -> None:
        """Send the rows a deferred group kept: one insert into each table, pipelined (one
        round trip) up to ``PIPELINE_MAX_EVENTS``. Once a send failed, the group never commits:
        every later read, and its end, raise that failure again; a refusal is
        ``GroupRefused``."""
        if group.failure is not None:
            raise group.failure
        if not group.events:
            return
        first = group.next_position - len(group.events)
        pipeline: AbstractContextManager[object] = (
            group.conn.pipeline() if len(group.events) <= PIPELINE_MAX_EVENTS else nullcontext()
        )
        try:
            with group.conn.cursor() as curs, pipeline:
                self._insert_stored_events(
                    curs, group.events, index=group.index, keys=group.keys, locked=True, at=first
                )
        except psycopg.OperationalError as exc:
            group.failure = OperationalError(exc)
        except psycopg.Error as exc:
            group.failure = GroupRefused(exc)
        else:
            group.events, group.index, group.keys = [], [], []
            return
        raise group.failure

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        index: Iterable[IndexRow] = (),
        keys: Iterable[KeyRow] = (),
        locked: bool = False,
        at: int | None = None,
        **_: Any,
    ) -> None:
        # eventsourcing sends one array of a composite type, which psycopg serialises row by
        # row in Python; four arrays of plain types go through its C dumpers instead. The
        # table lock is taken first, as eventsourcing does, so positions follow commit order
        # (``locked``: a group's transaction took it already). Rows placed ``at`` positions of
        # their own (a deferred group's, which holds the lock) return none.
        if not locked:
            self._lock_table(curs)
            self._notify_channel(curs)
        columns = (
            [s.originator_id for s in stored_events],
            [s.originator_version for s in stored_events],
            [s.topic for s in stored_events],
            [s.state for s in stored_events],
        )
        if at is None:
            curs.execute(self._insert_arrays, columns, prepare=True)
        else:
            last = at + len(stored_events) - 1
            curs.execute(self._insert_at, (list(range(at, last + 1)), *columns))
            self._continue_after(curs, last)
        # A second cursor, so the first keeps the RETURNING rows eventsourcing reads next.
        # Arrays through unnest(): one statement however large the batch.
        key_rows = list(keys)
        index_rows = list(index)
        with curs.connection.cursor() as other:
            if key_rows:
                other.execute(
                    SQL(
                        "INSERT INTO {0} (originator_id, key) "
                        "SELECT * FROM unnest(%s::uuid[], %s::bytea[])"
                    ).format(self._keys),
                    ([k.originator_id for k in key_rows], [k.key for k in key_rows]),
                )
            if index_rows:
                other.execute(
                    self._insert_index,
                    (
                        [r.event_id for r in index_rows],
                        [r.originator_id for r in index_rows],
                        [r.originator_version for r in index_rows],
                    ),
                )

    def _continue_after(self, curs: Cursor[Any], last: int) -> None:
        """The table's sequence hands out positions after ``last`` next (rows were placed at
        positions of their own, under the write lock)."""
        curs.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)",
            (self._events.as_string(curs.connection), last),
        )

    # --- the ledger's own reads --------------------------------------------------------------

    def select_index(self, event_ids: Sequence[UUID]) -> dict[UUID, IndexEntry]:
        with self._connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT i.event_id, e.originator_id, e.originator_version, "
                    "e.notification_id, e.topic, e.state FROM {0} i JOIN {1} e "
                    "ON e.originator_id = i.originator_id "
                    "AND e.originator_version = i.originator_version "
                    "WHERE i.event_id = ANY(%s)"
                ).format(self._index, self._events),
                (list(event_ids),),
            )
            return {
                row["event_id"]: IndexEntry(
                    row["originator_id"],
                    row["originator_version"],
                    row["notification_id"],
                    row["topic"],
                    bytes(row["state"]),
                )
                for row in curs.fetchall()
            }

    def select_keys(self, originator_ids: Sequence[UUID]) -> dict[UUID, bytes | None]:
        with self._connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT originator_id, key FROM {0} WHERE originator_id = ANY(%s)").format(
                    self._keys
                ),
                (list(originator_ids),),
            )
            return {
                row["originator_id"]: None if row["key"] is None else bytes(row["key"])
                for row in curs.fetchall()
            }

    def destroy_key(self, originator_id: UUID, when: str) -> Destroyed:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(
                SQL(
                    "UPDATE {0} SET key = NULL, forgotten_at = %s "
                    "WHERE originator_id = %s AND key IS NOT NULL"
                ).format(self._keys),
                (when, originator_id),
            )
            # The server's files are its own: old row versions stay until it vacuums them.
            return Destroyed(bool(curs.rowcount), None)

    def iter_keys(self) -> Iterator[KeyState]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT originator_id, key, forgotten_at FROM {0} ORDER BY originator_id"
                ).format(self._keys)
            )
            for row in curs.fetchall():
                key = None if row["key"] is None else bytes(row["key"])
                yield KeyState(row["originator_id"], key, row["forgotten_at"])

    def insert_restored(self, events: Iterable[RestoredEvent], keys: Iterable[KeyState]) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            curs.execute(self._head)
            found = curs.fetchone()
            if found is not None and found["head"] is not None:
                raise StoreNotEmpty(
                    "the store already holds events (up to position {head}); restore only into "
                    "an empty store",
                    "db",
                    head=found["head"],
                )
            last = 0
            for chunk in chunks(events, RESTORE_CHUNK):
                curs.execute(
                    self._insert_at,
                    (
                        [r.position for r in chunk],
                        [r.stored.originator_id for r in chunk],
                        [r.stored.originator_version for r in chunk],
                        [r.stored.topic for r in chunk],
                        [r.stored.state for r in chunk],
                    ),
                )
                curs.execute(
                    self._insert_index,
                    (
                        [r.event_id for r in chunk],
                        [r.stored.originator_id for r in chunk],
                        [r.stored.originator_version for r in chunk],
                    ),
                )
                last = chunk[-1].position
            key_rows = list(keys)
            if key_rows:
                curs.execute(
                    SQL(
                        "INSERT INTO {0} (originator_id, key, forgotten_at) "
                        "SELECT * FROM unnest(%s::uuid[], %s::bytea[], %s::text[])"
                    ).format(self._keys),
                    (
                        [k.originator_id for k in key_rows],
                        [k.key for k in key_rows],
                        [k.forgotten_at for k in key_rows],
                    ),
                )
            if last:
                self._continue_after(curs, last)  # the next append follows the restored ones
            self._notify_channel(curs)

    def select_streams(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[Notification]]:
        found: dict[UUID, list[Notification]] = {oid: [] for oid in originator_ids}
        with self._connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {0} WHERE originator_id = ANY(%s) "
                    "ORDER BY originator_id, originator_version"
                ).format(self._events),
                (list(originator_ids),),
            )
            for row in curs.fetchall():
                found[row["originator_id"]].append(
                    Notification(
                        id=row["notification_id"],
                        originator_id=row["originator_id"],
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=bytes(row["state"]),
                    )
                )
        return found

    def iter_streams(
        self, until: int, shard: Shard | None = None
    ) -> Iterator[tuple[UUID, list[StreamRow]]]:
        low = shard.low if shard is not None and shard.low is not None else UUID(int=0)
        high = shard.high if shard is not None else None
        where = SQL("notification_id <= %s AND originator_id >= %s")
        params: list[object] = [until, low]
        if high is not None:
            where = SQL("notification_id <= %s AND originator_id >= %s AND originator_id < %s")
            params.append(high)
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="ledger_streams", row_factory=tuple_row) as curs,
        ):
            curs.itersize = 2000
            curs.execute(
                SQL(
                    "SELECT originator_id, notification_id, originator_version, topic, state "
                    "FROM {0} WHERE {1} ORDER BY originator_id, originator_version"
                ).format(self._events, where),
                params,
            )
            yield from group_streams(curs)

    def count_index(self) -> int:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(SQL("SELECT COUNT(*) AS n FROM {0}").format(self._index))
            row = curs.fetchone()
            return int(row["n"]) if row else 0

    def missing_indexed(self) -> list[MissingEvent]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                SQL(
                    "SELECT i.originator_id, i.originator_version FROM {0} i WHERE NOT EXISTS "
                    "(SELECT 1 FROM {1} e WHERE e.originator_id = i.originator_id "
                    "AND e.originator_version = i.originator_version) "
                    "ORDER BY i.originator_id, i.originator_version"
                ).format(self._index, self._events)
            )
            missing = curs.fetchall()
            found = []
            for oid, version in missing:
                # The index keeps no position; the event sat after its predecessor, at the
                # first position nothing holds any more (positions are handed out in order).
                curs.execute(
                    SQL(
                        "SELECT COALESCE((SELECT notification_id FROM {0} "
                        "WHERE originator_id = %s AND originator_version = %s), 0)"
                    ).format(self._events),
                    (oid, version - 1),
                )
                row = curs.fetchone()
                after = row[0] if row else 0
                curs.execute(
                    SQL(
                        "SELECT MIN(p) FROM (SELECT %s + 1 AS p UNION ALL "
                        "SELECT notification_id + 1 FROM {0} WHERE notification_id > %s) gaps "
                        "WHERE NOT EXISTS (SELECT 1 FROM {0} f WHERE f.notification_id = p)"
                    ).format(self._events),
                    (after, after),
                )
                gap = curs.fetchone()
                found.append(MissingEvent(gap[0] if gap else None, oid, version))
            return found

    def select_checkpoints(self) -> list[Checkpoint]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                SQL(
                    "SELECT position, head, signature, key_fingerprint, created_at FROM {0} "
                    "ORDER BY position"
                ).format(self._checkpoints)
            )
            return [Checkpoint(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in curs.fetchall()]

    def iter_checked(self, until: int, person: str | None = None) -> Iterator[CheckedEvent]:
        where = SQL("position <= %s") if person is None else SQL("position <= %s AND person = %s")
        params: list[object] = [until] if person is None else [until, person]
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="ledger_checked", row_factory=tuple_row) as curs,
        ):
            curs.itersize = 5000
            curs.execute(
                SQL(
                    "SELECT position, person, version, hash FROM {0} WHERE {1} ORDER BY position"
                ).format(self._checked, where),
                params,
            )
            for row in curs:
                yield CheckedEvent(*row)

    def checked_heads(self, persons: Sequence[str]) -> dict[str, CheckedEvent]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            curs.execute(
                SQL(
                    "SELECT DISTINCT ON (person) position, person, version, hash FROM {0} "
                    "WHERE person = ANY(%s) ORDER BY person, version DESC"
                ).format(self._checked),
                (list(persons),),
            )
            return {row[1]: CheckedEvent(*row) for row in curs.fetchall()}

    def insert_checkpoint(
        self, checkpoint: Checkpoint, events: Sequence[CheckedEvent], previous: int
    ) -> None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            curs.execute(SQL("LOCK TABLE {0} IN EXCLUSIVE MODE").format(self._checkpoints))
            curs.execute(
                SQL("SELECT COALESCE(MAX(position), 0) AS latest FROM {0}").format(
                    self._checkpoints
                )
            )
            found = curs.fetchone()
            latest = found["latest"] if found else 0
            if latest != previous:
                raise CheckpointRace(
                    "another checkpoint (position {latest}) was written meanwhile; try again",
                    latest=latest,
                )
            if events:
                curs.execute(
                    SQL(
                        "INSERT INTO {0} SELECT * FROM "
                        "unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[])"
                    ).format(self._checked),
                    (
                        [e.position for e in events],
                        [e.person for e in events],
                        [e.version for e in events],
                        [e.hash for e in events],
                    ),
                )
            curs.execute(
                SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s, %s)").format(self._checkpoints),
                checkpoint,
            )

    def settle(self, name: str, value: str | None) -> str | None:
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            if value is not None:
                curs.execute(
                    SQL("INSERT INTO {0} VALUES (%s, %s) ON CONFLICT (name) DO NOTHING").format(
                        self._settings
                    ),
                    (name, value),
                )
            curs.execute(
                SQL("SELECT value FROM {0} WHERE name = %s").format(self._settings), (name,)
            )
            row = curs.fetchone()
            return None if row is None else str(row["value"])
