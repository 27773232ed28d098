"""The materialised views' table on PostgreSQL (the interface is ``ledger.stores.views``).

Kept apart so that a ledger on SQLite never imports psycopg; ``ledger.config`` names this
recorder by topic for PostgreSQL stores. The table is made by ``ledger.stores.migrations``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from ledger.stores.postgres import without_prepared_statements
from ledger.stores.views import (
    FEED_COLUMNS,
    REEVALUATED,
    VIEW_COLUMNS,
    Announced,
    FeedItem,
    ViewRecorder,
    ViewRow,
)


class PostgresViewRecorder(PostgresTrackingRecorder, ViewRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        without_prepared_statements(datastore)  # before the recorder opens the pool
        super().__init__(datastore, **kwargs)
        schema = Identifier(self.datastore.schema)
        self._views = SQL("{0}.ledger_views").format(schema)
        self._feed = SQL("{0}.ledger_status_feed").format(schema)
        self._settings = SQL("{0}.ledger_settings").format(schema)
        self._tracking = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
        )

    def write_views(
        self,
        rows: Sequence[ViewRow],
        tracking: Tracking | None,
        announced: Sequence[Announced] = (),
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            if announced:
                self._lock_feed(curs)
            rows, announced = self._newer(curs, rows, announced)
            self._upsert(curs, rows, announced)
            if tracking is not None:
                self._insert_tracking(curs, tracking)

    def _newer(
        self, curs: Cursor[DictRow], rows: Sequence[ViewRow], announced: Sequence[Announced]
    ) -> tuple[list[ViewRow], list[Announced]]:
        """The rows newer than the stored ones (at a later position, or the same position for
        a later day), and the items but those of a status row that is not: the same write
        again changes nothing (``ledger.stores.sqlite_views`` relies on it; here it keeps the
        stores alike)."""
        if not rows:
            return [], list(announced)
        curs.execute(
            SQL("SELECT person, kind, position, as_of FROM {0} WHERE person = ANY(%s)").format(
                self._views
            ),
            (list({row.person for row in rows}),),
        )
        stored = {(r["person"], r["kind"]): (r["position"], r["as_of"]) for r in curs.fetchall()}
        newer = [
            row
            for row in rows
            if (row.person, row.kind) not in stored
            or (row.position, row.as_of) > stored[(row.person, row.kind)]
        ]
        statuses = {row.person for row in rows if row.kind == "status"}
        written = {row.person for row in newer if row.kind == "status"}
        items = [i for i in announced if i.person in written or i.person not in statuses]
        return newer, items

    def write_reevaluated(
        self, rows: Sequence[ViewRow], announced: Sequence[Announced], day: str
    ) -> tuple[int, int]:
        with self.datastore.transaction(commit=True) as curs:
            self._lock_feed(curs)
            curs.execute(
                SQL(
                    "SELECT person, position FROM {0} WHERE kind = 'status' AND as_of < %s "
                    "AND person = ANY(%s)"
                ).format(self._views),
                (day, list({row.person for row in rows})),
            )
            stale = {(row["person"], row["position"]) for row in curs.fetchall()}
            written = [row for row in rows if (row.person, row.position) in stale]
            items = [item for item in announced if (item.person, item.position) in stale]
            self._upsert(curs, written, items)
            return len({row.person for row in written}), len(items)

    def _lock_feed(self, curs: Cursor[DictRow]) -> None:
        """Held until commit: writers of feed items commit one after another, so their
        ``seq`` values become visible in order (a later ``seq`` never commits first)."""
        curs.execute(SQL("LOCK TABLE {0} IN EXCLUSIVE MODE").format(self._feed))

    def _upsert(
        self, curs: Cursor[DictRow], rows: Sequence[ViewRow], announced: Sequence[Announced]
    ) -> None:
        if rows:
            curs.executemany(
                SQL(
                    "INSERT INTO {0} ({1}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) "
                    "ON CONFLICT (person, kind) DO UPDATE SET "
                    "municipality = EXCLUDED.municipality, as_of = EXCLUDED.as_of, "
                    "position = EXCLUDED.position, digest = EXCLUDED.digest, "
                    "body = EXCLUDED.body, body_digest = EXCLUDED.body_digest"
                ).format(self._views, SQL(VIEW_COLUMNS)),
                list(rows),
            )
        if announced:
            curs.executemany(
                SQL(
                    "INSERT INTO {0} (person, position, as_of, known_at, digest) "
                    "VALUES (%s,%s,%s,%s,%s)"
                ).format(self._feed),
                list(announced),
            )

    def stale_statuses(self, day: str, after: str, limit: int) -> list[ViewRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT {0} FROM {1} WHERE kind = 'status' AND as_of < %s AND person > %s "
                    "ORDER BY person LIMIT %s"
                ).format(SQL(VIEW_COLUMNS), self._views),
                (day, after, limit),
            )
            return [ViewRow(**{**row, "body": bytes(row["body"])}) for row in curs.fetchall()]

    def count_stale(self, day: str) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT COUNT(*) AS stale FROM {0} WHERE kind = 'status' AND as_of < %s"
                ).format(self._views),
                (day,),
            )
            row = curs.fetchone()
            return 0 if row is None else int(row["stale"])

    def claim_day(self, day: str) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            self._lock_feed(curs)
            curs.execute(
                SQL(
                    "INSERT INTO {0} VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
                    "SET value = EXCLUDED.value WHERE {0}.value < EXCLUDED.value"
                ).format(self._settings),
                (REEVALUATED, day),
            )
            return bool(curs.rowcount)

    def select_feed(self, after: int, limit: int) -> list[FeedItem]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT {0} FROM {1} WHERE seq > %s ORDER BY seq LIMIT %s").format(
                    SQL(FEED_COLUMNS), self._feed
                ),
                (after, limit),
            )
            return [FeedItem(**row) for row in curs.fetchall()]

    def reset_views(self, name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {0}").format(self._views))
            curs.execute(
                SQL("DELETE FROM {0} WHERE application_name = %s").format(self._tracking), (name,)
            )

    def select_view(self, person: str, kind: str) -> ViewRow | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT {0} FROM {1} WHERE person = %s AND kind = %s").format(
                    SQL(VIEW_COLUMNS), self._views
                ),
                (person, kind),
            )
            row = curs.fetchone()
            if row is None:
                return None
            return ViewRow(**{**row, "body": bytes(row["body"])})

    def iter_views(self, person: str | None) -> Iterator[ViewRow]:
        where = SQL("") if person is None else SQL("WHERE person = %s")
        # A server-side cursor: every row of every view is more than memory should hold.
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="ledger_views", row_factory=tuple_row) as curs,
        ):
            curs.itersize = 1000
            curs.execute(
                SQL("SELECT {0} FROM {1} {2} ORDER BY person, kind").format(
                    SQL(VIEW_COLUMNS), self._views, where
                ),
                () if person is None else (person,),
            )
            for row in curs:
                stored = ViewRow(*row)
                yield stored._replace(body=bytes(stored.body))

    def select_persons(self, municipality: str) -> list[str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT person FROM {0} WHERE kind = 'status' AND municipality = %s "
                    "ORDER BY person"
                ).format(self._views),
                (municipality,),
            )
            return [row["person"] for row in curs.fetchall()]
