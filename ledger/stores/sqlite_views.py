"""The materialised views' table on SQLite (the interface is ``ledger.stores.views``; the table
is made by ``ledger.stores.migrations``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder

from ledger.stores.sqlite import ImmediateTransaction
from ledger.stores.views import VIEW_COLUMNS, ViewRecorder, ViewRow


class SQLiteViewRecorder(SQLiteTrackingRecorder, ViewRecorder):
    def write_views(self, rows: Sequence[ViewRow], tracking: Tracking | None) -> None:
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            self._upsert(c, rows)
            if tracking is not None:
                self._insert_tracking(c, tracking)

    @staticmethod
    def _upsert(c: SQLiteCursor, rows: Sequence[ViewRow]) -> None:
        c.executemany(
            f"INSERT OR REPLACE INTO ledger_views ({VIEW_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
            rows,
        )

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
