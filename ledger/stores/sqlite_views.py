"""The materialised views' table on SQLite (the interface is ``ledger.stores.views``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder

from ledger.stores.sqlite import ImmediateTransaction
from ledger.stores.views import VIEW_COLUMNS, ViewRecorder, ViewRow


class SQLiteViewRecorder(SQLiteTrackingRecorder, ViewRecorder):
    def create_table(self) -> None:
        # eventsourcing looks for the tracking table before its create transaction and, finding
        # none, records its table version; a process that created the table in between makes
        # that record a duplicate. Looking again then finds the table and its version.
        try:
            super().create_table()
        except IntegrityError:
            super().create_table()
        with (
            self.datastore.get_connection(commit=True) as conn,
            ImmediateTransaction(conn, commit=True) as c,
        ):
            c.execute("SELECT name FROM pragma_table_info('ledger_views')")
            if "body_digest" not in {row[0] for row in c.fetchall()}:
                # Rows written before digests were kept have none: never served, until rebuilt.
                c.execute("ALTER TABLE ledger_views ADD COLUMN body_digest TEXT")

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            (
                "CREATE TABLE IF NOT EXISTS ledger_views (person TEXT NOT NULL, "
                "kind TEXT NOT NULL, municipality TEXT, as_of TEXT NOT NULL, "
                "position INTEGER NOT NULL, digest TEXT, body BLOB NOT NULL, "
                "body_digest TEXT, PRIMARY KEY (person, kind)) WITHOUT ROWID"
            ),
            "CREATE INDEX IF NOT EXISTS ledger_views_feed ON ledger_views (kind, position)",
            (
                "CREATE INDEX IF NOT EXISTS ledger_views_municipality "
                "ON ledger_views (kind, municipality)"
            ),
        ]

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
