"""The materialised views' table on PostgreSQL (the interface is ``ledger.stores.views``).

Kept apart so that a ledger on SQLite never imports psycopg; ``ledger.config`` names this
recorder by topic for PostgreSQL stores. The table is made by ``ledger.stores.migrations``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger.stores.views import VIEW_COLUMNS, ViewRecorder, ViewRow


class PostgresViewRecorder(PostgresTrackingRecorder, ViewRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._views = SQL("{0}.ledger_views").format(Identifier(self.datastore.schema))
        self._tracking = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
        )

    def write_views(self, rows: Sequence[ViewRow], tracking: Tracking | None) -> None:
        with self.datastore.transaction(commit=True) as curs:
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
            if tracking is not None:
                self._insert_tracking(curs, tracking)

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
