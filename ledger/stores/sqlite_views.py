"""The materialised views' table on SQLite (the interface is ``ledger.stores.views``; the table
is made by ``ledger.stores.migrations``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from eventsourcing.persistence import Tracking
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


class SQLiteViewRecorder(SQLiteTrackingRecorder, ViewRecorder):
    def write_views(
        self,
        rows: Sequence[ViewRow],
        tracking: Tracking | None,
        announced: Sequence[Announced] = (),
    ) -> None:
        with self._writing() as c:
            self._upsert(c, rows, announced)
            if tracking is not None:
                self._insert_tracking(c, tracking)

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
        c.executemany(
            "INSERT INTO ledger_status_feed (person, position, as_of, known_at, digest) "
            "VALUES (?,?,?,?,?)",
            announced,
        )

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
