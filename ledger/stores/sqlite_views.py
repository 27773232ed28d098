"""The materialised views' table on SQLite (the interface is ``ledger.stores.views``; the table
is made by ``ledger.stores.migrations``).

SQLite has one writer at a time, and the appends wait for it. A catch-up rewrites the three rows
of every case it touched, and a history row holds every event of its case: written in one
transaction, a catch-up over 64 long cases held the write lock for tens of milliseconds and every
append waited behind it. So ``write_views`` writes a few persons at a time, each few in a
transaction of its own of about ``WRITE_BYTES`` of rows (one person's rows always together),
and the tracked position with the last. That is still exactly once, because each write is
idempotent:

- a row replaces a stored one only when it is newer: at a later position, or at the same
  position for a later day (``_NEWER``); written again after a crash, or by a second projector
  applying the same page, it changes nothing;
- a feed item is written with its person's status row, and only when that row was written (an
  item without a status row in the same write, as a test or an import writes, is written as
  given);
- every transaction first looks at the tracked position, and a write whose position is tracked
  already is refused there (``IntegrityError``) with whatever it has not written yet.

A process stopped between two of a write's transactions leaves some persons' rows newer than
the tracked position: they are what the next catch-up would write, and it writes nothing over
them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder

from ledger.stores.base import chunks
from ledger.stores.sqlite import ImmediateTransaction
from ledger.stores.views import (
    FEED_COLUMNS,
    REEVALUATED,
    VIEW_COLUMNS,
    Announced,
    FeedItem,
    ViewRecorder,
    ViewRow,
)

WRITE_BYTES = 512 * 1024  # about how much of a catch-up's rows one transaction writes

# Replaces a stored row only with a newer one: at a later position, or a later day's.
_NEWER = (
    f"INSERT INTO ledger_views ({VIEW_COLUMNS}) VALUES (?,?,?,?,?,?,?,?) "
    "ON CONFLICT (person, kind) DO UPDATE SET municipality = excluded.municipality, "
    "as_of = excluded.as_of, position = excluded.position, digest = excluded.digest, "
    "body = excluded.body, body_digest = excluded.body_digest "
    "WHERE excluded.position > ledger_views.position OR "
    "(excluded.position = ledger_views.position AND excluded.as_of > ledger_views.as_of)"
)
_FEED = (
    "INSERT INTO ledger_status_feed (person, position, as_of, known_at, digest) VALUES (?,?,?,?,?)"
)


class SQLiteViewRecorder(SQLiteTrackingRecorder, ViewRecorder):
    def write_views(
        self,
        rows: Sequence[ViewRow],
        tracking: Tracking | None,
        announced: Sequence[Announced] = (),
    ) -> None:
        parts = list(_parts(rows, announced, WRITE_BYTES))
        for number, (some, items) in enumerate(parts, start=1):
            with self._writing() as c:
                if tracking is not None:
                    self._refuse_tracked(c, tracking)
                self._write_newer(c, some, items)
                if tracking is not None and number == len(parts):
                    self._insert_tracking(c, tracking)

    def _refuse_tracked(self, c: SQLiteCursor, tracking: Tracking) -> None:
        tracked = self._max_tracking_id(tracking.application_name, c)
        if tracked is not None and tracked >= tracking.notification_id:
            msg = (
                f"{tracking.application_name} is at position {tracked} already, "
                f"not before {tracking.notification_id}"
            )
            raise IntegrityError(msg)

    @staticmethod
    def _write_newer(c: SQLiteCursor, rows: Sequence[ViewRow], items: Sequence[Announced]) -> None:
        """Rows over older ones only, and the feed items of the status rows written."""
        statuses: set[str] = set()
        written: set[str] = set()
        for row in rows:
            c.execute(_NEWER, row)
            if row.kind == "status":
                statuses.add(row.person)
                if c.sqlite_cursor.rowcount > 0:
                    written.add(row.person)
        c.executemany(
            _FEED, [item for item in items if item.person in written or item.person not in statuses]
        )

    def write_reevaluated(
        self, rows: Sequence[ViewRow], announced: Sequence[Announced], day: str
    ) -> tuple[int, int]:
        with self._writing() as c:
            stale = set()
            for some in chunks({row.person: row.position for row in rows}.items(), 400):
                c.execute(
                    "SELECT person, position FROM ledger_views WHERE kind = 'status' AND as_of < ? "
                    f"AND person IN ({', '.join('?' * len(some))})",
                    (day, *(person for person, _ in some)),
                )
                stale |= {(person, position) for person, position in c.fetchall()}
            written = [row for row in rows if (row.person, row.position) in stale]
            items = [item for item in announced if (item.person, item.position) in stale]
            self._upsert(c, written, items)
            return len({row.person for row in written}), len(items)

    @contextmanager
    def _writing(self) -> Iterator[SQLiteCursor]:
        """A write transaction holding the store's write lock from its start: SQLite's one
        writer at a time is what keeps the feed's ``seq`` in commit order."""
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            yield c

    @staticmethod
    def _upsert(c: SQLiteCursor, rows: Sequence[ViewRow], announced: Sequence[Announced]) -> None:
        c.executemany(
            f"INSERT OR REPLACE INTO ledger_views ({VIEW_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )
        c.executemany(_FEED, announced)

    def stale_statuses(self, day: str, after: str, limit: int) -> list[ViewRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {VIEW_COLUMNS} FROM ledger_views WHERE kind = 'status' AND as_of < ? "
                "AND person > ? ORDER BY person LIMIT ?",
                (day, after, limit),
            )
            return [ViewRow(*row) for row in c.fetchall()]

    def count_stale(self, day: str) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT COUNT(*) FROM ledger_views WHERE kind = 'status' AND as_of < ?", (day,)
            )
            return int(c.fetchone()[0])

    def claim_day(self, day: str) -> bool:
        with self._writing() as c:
            c.execute(
                "INSERT INTO ledger_settings VALUES (?, ?) ON CONFLICT (name) DO UPDATE "
                "SET value = excluded.value WHERE value < excluded.value",
                (REEVALUATED, day),
            )
            return bool(c.sqlite_cursor.rowcount > 0)

    def select_feed(self, after: int, limit: int) -> list[FeedItem]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {FEED_COLUMNS} FROM ledger_status_feed WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            )
            return [FeedItem(*row) for row in c.fetchall()]

    def reset_views(self, name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute("DELETE FROM ledger_views")
            c.execute("DELETE FROM tracking WHERE application_name = ?", (name,))

    def select_view(self, person: str, kind: str) -> ViewRow | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {VIEW_COLUMNS} FROM ledger_views WHERE person = ? AND kind = ?",
                (person, kind),
            )
            row = c.fetchone()
            return None if row is None else ViewRow(*row)

    def iter_views(self, person: str | None) -> Iterator[ViewRow]:
        with self.datastore.transaction(commit=False) as c:
            if person is None:
                c.execute(f"SELECT {VIEW_COLUMNS} FROM ledger_views ORDER BY person, kind")
            else:
                c.execute(
                    f"SELECT {VIEW_COLUMNS} FROM ledger_views WHERE person = ? ORDER BY kind",
                    (person,),
                )
            for row in c.sqlite_cursor:
                yield ViewRow(*row)

    def select_persons(self, municipality: str) -> list[str]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT person FROM ledger_views WHERE kind = 'status' AND municipality = ? "
                "ORDER BY person",
                (municipality,),
            )
            return [row[0] for row in c.fetchall()]


def _parts(
    rows: Sequence[ViewRow], announced: Sequence[Announced], most: int
) -> Iterator[tuple[list[ViewRow], list[Announced]]]:
    """A write's rows and items a few persons at a time, in the order of the items (the feed
    follows the log), then of the persons with rows and no item; each part holds about ``most``
    bytes of rows (at least one person's); one empty part for a write of nothing but its
    position."""
    rows_of: dict[str, list[ViewRow]] = {}
    for row in rows:
        rows_of.setdefault(row.person, []).append(row)
    items_of: dict[str, list[Announced]] = {}
    for item in announced:
        items_of.setdefault(item.person, []).append(item)
    part: tuple[list[ViewRow], list[Announced]] = ([], [])
    size = 0
    for person in dict.fromkeys([*items_of, *rows_of]):
        if size >= most:
            yield part
            part, size = ([], []), 0
        theirs = rows_of.get(person, [])
        part[0].extend(theirs)
        part[1].extend(items_of.get(person, []))
        size += sum(len(row.body) for row in theirs)
    yield part
