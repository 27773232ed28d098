"""The schema of every table the ledger keeps, as one ordered list of named migrations.

Each migration is a number, a name and its statements for each store. A store records the
migrations applied to it in ``ledger_schema_versions`` (number, name, when); opening a store for
writing applies the pending ones in order, all in one transaction under one lock (SQLite: one
IMMEDIATE transaction; PostgreSQL: one advisory lock, taken inside the transaction), so
processes opening a new store at once create it once. A read-only open only checks the version.
A store that records a migration this code does not know was written by a newer release, and is
refused (``StoreTooNew``) before anything is read or written.

The first migrations (up to ``BASELINE``) describe the tables as the first release made them,
with ``IF NOT EXISTS`` throughout: a store made before migrations were recorded is brought to
the baseline by running them, which creates nothing it has and records the versions. A change to
a table is a new migration at the end of the list, never an edit of one already released.

Table names are the store's own: eventsourcing names the events and tracking tables after the
application on PostgreSQL (``ledger_events``, ``ledger_tracking``) and fixes them on SQLite
(``stored_events``, ``tracking``). On PostgreSQL every statement runs with the search path set
to the store's schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, NamedTuple, Protocol

from ledger.clock import now_utc
from ledger.errors import StoreTooNew

Dialect = Literal["sqlite", "postgres"]

VERSIONS_TABLE = "ledger_schema_versions"
# eventsourcing's own record, in its tracking table, that the table is the single-row kind: a
# tracking recorder that finds the table without it would rebuild the table.
TRACKING_MIGRATED = ("__migration__", 1)
_REFUSAL = "the access log is append-only"
_BACKFILL = (
    "INSERT INTO ledger_status_feed (person, position, as_of, digest) "
    "SELECT person, position, as_of, digest FROM ledger_views WHERE kind = 'status' "
    "ORDER BY position, person"
)
# How eventsourcing has PostgreSQL vacuum its append-only tables.
_VACUUM = (
    " WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, "
    "autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01)"
)


class AddColumn(NamedTuple):
    """A column added to a table that may have it already (made by code from before the column
    was kept, or by code that adds it itself): ``statement`` runs only where it has not."""

    table: str
    column: str
    statement: str


Step = str | AddColumn


class Migration(NamedTuple):
    number: int
    name: str
    sqlite: tuple[Step, ...]
    postgres: tuple[Step, ...]

    def steps(self, dialect: Dialect) -> tuple[Step, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgres


class Names(NamedTuple):
    """The store's names for eventsourcing's tables."""

    events: str
    tracking: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events",
        sqlite=(
            (
                "CREATE TABLE IF NOT EXISTS {events} (originator_id TEXT, "
                "originator_version INTEGER, topic TEXT, state BLOB, "
                "PRIMARY KEY (originator_id, originator_version))"
            ),
            # Idempotency across the whole ledger, kept to 16 + 8 bytes a row: a random-keyed
            # index is the costliest part of a bulk import.
            (
                "CREATE TABLE IF NOT EXISTS ledger_event_ids ("
                "event_id BLOB PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID"
            ),
        ),
        postgres=(
            (
                "CREATE TABLE IF NOT EXISTS {events} (originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, topic text, state bytea, notification_id "
                f"bigserial, PRIMARY KEY (originator_id, originator_version)){_VACUUM}"
            ),
            "CREATE UNIQUE INDEX IF NOT EXISTS {events_position} ON {events} (notification_id ASC)",
            # The row type eventsourcing sends a batch of events as (no IF NOT EXISTS for types).
            (
                "DO $$ BEGIN CREATE TYPE stored_event_uuid AS (originator_id uuid, "
                "originator_version bigint, topic text, state bytea); "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            ),
            (
                "CREATE TABLE IF NOT EXISTS ledger_event_ids (event_id uuid PRIMARY KEY, "
                "originator_id uuid NOT NULL, originator_version bigint NOT NULL)"
            ),
        ),
    ),
    Migration(
        2,
        "person_keys",
        sqlite=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_person_keys ("
                "originator_id TEXT PRIMARY KEY, key BLOB, forgotten_at TEXT) WITHOUT ROWID"
            ),
        ),
        postgres=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_person_keys (originator_id uuid PRIMARY KEY, "
                "key bytea, forgotten_at text)"
            ),
        ),
    ),
    Migration(
        3,
        "checkpoints",
        sqlite=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_checkpoints (position INTEGER PRIMARY KEY, "
                "head TEXT NOT NULL, signature BLOB NOT NULL, key_fingerprint TEXT NOT NULL, "
                "created_at TEXT NOT NULL)"
            ),
            (
                "CREATE TABLE IF NOT EXISTS ledger_checked_events (position INTEGER PRIMARY KEY, "
                "person TEXT NOT NULL, version INTEGER NOT NULL, hash TEXT NOT NULL)"
            ),
            (
                "CREATE INDEX IF NOT EXISTS ledger_checked_events_person "
                "ON ledger_checked_events (person, version)"
            ),
        ),
        postgres=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_checkpoints (position bigint PRIMARY KEY, "
                "head text NOT NULL, signature bytea NOT NULL, key_fingerprint text NOT NULL, "
                "created_at text NOT NULL)"
            ),
            (
                "CREATE TABLE IF NOT EXISTS ledger_checked_events (position bigint PRIMARY KEY, "
                "person text NOT NULL, version bigint NOT NULL, hash text NOT NULL)"
            ),
            (
                "CREATE INDEX IF NOT EXISTS ledger_checked_events_person "
                "ON ledger_checked_events (person, version)"
            ),
        ),
    ),
    Migration(
        4,
        "settings",
        sqlite=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_settings (name TEXT PRIMARY KEY, "
                "value TEXT NOT NULL) WITHOUT ROWID"
            ),
        ),
        postgres=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_settings (name text PRIMARY KEY, "
                "value text NOT NULL)"
            ),
        ),
    ),
    Migration(
        5,
        "views",
        sqlite=(
            (
                "CREATE TABLE IF NOT EXISTS {tracking} (application_name TEXT, "
                "notification_id INTEGER, PRIMARY KEY (application_name)) WITHOUT ROWID"
            ),
            "INSERT OR IGNORE INTO {tracking} VALUES ('__migration__', 1)",
            (
                "CREATE TABLE IF NOT EXISTS ledger_views (person TEXT NOT NULL, "
                "kind TEXT NOT NULL, municipality TEXT, as_of TEXT NOT NULL, "
                "position INTEGER NOT NULL, digest TEXT, body BLOB NOT NULL, "
                "body_digest TEXT, PRIMARY KEY (person, kind)) WITHOUT ROWID"
            ),
            # Rows written before digests were kept have none: never served, until rebuilt.
            AddColumn(
                "ledger_views",
                "body_digest",
                "ALTER TABLE ledger_views ADD COLUMN body_digest TEXT",
            ),
            "CREATE INDEX IF NOT EXISTS ledger_views_feed ON ledger_views (kind, position)",
            (
                "CREATE INDEX IF NOT EXISTS ledger_views_municipality "
                "ON ledger_views (kind, municipality)"
            ),
        ),
        postgres=(
            (
                "CREATE TABLE IF NOT EXISTS {tracking} (application_name text, "
                f"notification_id bigint, PRIMARY KEY (application_name)){_VACUUM}"
            ),
            (
                "INSERT INTO {tracking} VALUES ('__migration__', 1) "
                "ON CONFLICT (application_name) DO NOTHING"
            ),
            (
                "CREATE TABLE IF NOT EXISTS ledger_views (person text NOT NULL, "
                "kind text NOT NULL, municipality text, as_of text NOT NULL, "
                "position bigint NOT NULL, "
                "digest text, body bytea NOT NULL, body_digest text, PRIMARY KEY (person, kind))"
            ),
            AddColumn(
                "ledger_views",
                "body_digest",
                "ALTER TABLE ledger_views ADD COLUMN body_digest text",
            ),
            "CREATE INDEX IF NOT EXISTS ledger_views_feed ON ledger_views (kind, position)",
            (
                "CREATE INDEX IF NOT EXISTS ledger_views_municipality "
                "ON ledger_views (kind, municipality)"
            ),
        ),
    ),
    Migration(
        6,
        "api_tokens",
        sqlite=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_api_tokens (id TEXT PRIMARY KEY, "
                "secret_sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL, municipality TEXT, "
                "created_at TEXT NOT NULL, revoked_at TEXT)"
            ),
        ),
        postgres=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_api_tokens (id TEXT PRIMARY KEY, "
                "secret_sha256 TEXT NOT NULL UNIQUE, role TEXT NOT NULL, municipality TEXT, "
                "created_at TEXT NOT NULL, revoked_at TEXT)"
            ),
        ),
    ),
    Migration(
        7,
        "access_log",
        # Append-only: the store itself refuses to change or remove a row.
        sqlite=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_access_log ("
                "id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, token_id TEXT NOT NULL, "
                "role TEXT NOT NULL, municipality TEXT, person TEXT NOT NULL, "
                "action TEXT NOT NULL, categories TEXT NOT NULL, legal_basis TEXT NOT NULL)"
            ),
            (
                "CREATE TRIGGER IF NOT EXISTS ledger_access_log_no_update BEFORE UPDATE ON "
                f"ledger_access_log BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            ),
            (
                "CREATE TRIGGER IF NOT EXISTS ledger_access_log_no_delete BEFORE DELETE ON "
                f"ledger_access_log BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            ),
        ),
        postgres=(
            (
                "CREATE TABLE IF NOT EXISTS ledger_access_log ("
                "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at text NOT NULL, "
                "token_id text NOT NULL, role text NOT NULL, municipality text, "
                "person text NOT NULL, action text NOT NULL, categories text NOT NULL, "
                "legal_basis text NOT NULL)"
            ),
            (
                "CREATE OR REPLACE FUNCTION ledger_access_log_refuse() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
            ),
            (
                "CREATE OR REPLACE TRIGGER ledger_access_log_no_change BEFORE UPDATE OR DELETE "
                "ON ledger_access_log FOR EACH ROW EXECUTE FUNCTION ledger_access_log_refuse()"
            ),
            (
                "CREATE OR REPLACE TRIGGER ledger_access_log_no_truncate BEFORE TRUNCATE "
                "ON ledger_access_log FOR EACH STATEMENT "
                "EXECUTE FUNCTION ledger_access_log_refuse()"
            ),
        ),
    ),
    Migration(
        8,
        "status_feed",
        # Items in commit order (``ledger.stores.views``); an upgraded store's feed starts with
        # one item per person, from its status rows (whose reports' known_at the SQL cannot
        # read: the bodies may be encrypted).
        sqlite=(
            (
                "CREATE TABLE ledger_status_feed (seq INTEGER PRIMARY KEY, "
                "person TEXT NOT NULL, position INTEGER NOT NULL, as_of TEXT NOT NULL, "
                "known_at TEXT, digest TEXT)"
            ),
            _BACKFILL,
        ),
        postgres=(
            (
                "CREATE TABLE ledger_status_feed (seq bigint GENERATED ALWAYS AS IDENTITY "
                "PRIMARY KEY, person text NOT NULL, position bigint NOT NULL, "
                "as_of text NOT NULL, known_at text, digest text)"
            ),
            _BACKFILL,
        ),
    ),
)
BASELINE = 7  # the tables as the first release made them
LATEST = MIGRATIONS[-1].number

_VERSIONS: dict[Dialect, tuple[str, str, str]] = {
    "sqlite": (
        (
            f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (number INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        ),
        f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{VERSIONS_TABLE}'",
        f"INSERT INTO {VERSIONS_TABLE} (number, name, applied_at) VALUES (?, ?, ?)",
    ),
    "postgres": (
        (
            f"CREATE TABLE IF NOT EXISTS {VERSIONS_TABLE} (number integer PRIMARY KEY, "
            "name text NOT NULL, applied_at text NOT NULL)"
        ),
        (
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
            f"AND tablename = '{VERSIONS_TABLE}'"
        ),
        f"INSERT INTO {VERSIONS_TABLE} (number, name, applied_at) VALUES (%s, %s, %s)",
    ),
}
_HAS_COLUMN: dict[Dialect, str] = {
    "sqlite": "SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
    "postgres": "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
    "AND table_name = %s AND column_name = %s",
}


class Cursor(Protocol):
    """What a migration needs of a store's cursor (sqlite3's and psycopg's both are one)."""

    def execute(self, query: str, params: Sequence[Any] = ..., /) -> object: ...

    def fetchall(self) -> Sequence[Sequence[Any]]: ...


class Schema(Protocol):
    """A store as migrations see it."""

    dialect: Dialect

    def schema_names(self) -> Names: ...

    def schema_reading(self) -> AbstractContextManager[Cursor]:
        """A cursor in a read transaction."""

    def schema_locked(self) -> AbstractContextManager[Cursor]:
        """A cursor in a write transaction that holds the store's schema lock, committed when
        the block ends without an error."""


class Applied(NamedTuple):
    number: int
    name: str
    applied_at: str


def applied(cursor: Cursor, dialect: Dialect) -> list[Applied]:
    """The migrations a store records, in order (none for a store made before they were)."""
    _, exists, _ = _VERSIONS[dialect]
    cursor.execute(exists)
    if not cursor.fetchall():
        return []
    cursor.execute(f"SELECT number, name, applied_at FROM {VERSIONS_TABLE} ORDER BY number")
    return [Applied(*row) for row in cursor.fetchall()]


def check(store: Schema) -> int:
    """The store's version (0 before migrations were recorded); raises ``StoreTooNew`` for a
    store a newer release has migrated."""
    with store.schema_reading() as cursor:
        return _known(applied(cursor, store.dialect))


def migrate(store: Schema) -> list[Migration]:
    """Apply the migrations the store has not recorded, in order, in one transaction under the
    store's schema lock; returns those applied (none when the store is up to date: then no lock
    is taken)."""
    if check(store) == LATEST:
        return []
    with store.schema_locked() as cursor:
        create, _, record = _VERSIONS[store.dialect]
        cursor.execute(create)
        found = applied(cursor, store.dialect)
        _known(found)
        done = {row.number for row in found}
        pending = [m for m in MIGRATIONS if m.number not in done]
        names = store.schema_names()
        for migration in pending:
            for statement in _statements(cursor, store.dialect, migration, names):
                cursor.execute(statement)
            cursor.execute(record, (migration.number, migration.name, now_utc().isoformat()))
        return pending


def _statements(
    cursor: Cursor, dialect: Dialect, migration: Migration, names: Names
) -> Iterator[str]:
    quoted = {
        "events": _quote(names.events),
        "events_position": _quote(f"{names.events}_notification_id_idx"),
        "tracking": _quote(names.tracking),
    }
    for step in migration.steps(dialect):
        if isinstance(step, AddColumn):
            cursor.execute(_HAS_COLUMN[dialect], (step.table, step.column))
            if not cursor.fetchall():
                yield step.statement
        else:
            yield step.format(**quoted)


def _known(found: Sequence[Applied]) -> int:
    newest = max((row.number for row in found), default=0)
    if newest > LATEST:
        name = next((row.name for row in found if row.number == newest), "")
        raise StoreTooNew(
            "the store is at schema version {newest} ({name}), newer than this ledger's latest, "
            "version {latest} ({latest_name}): it was migrated by a newer release of the ledger; "
            "open it with that release",
            "db",
            newest=newest,
            name=name,
            latest=LATEST,
            latest_name=MIGRATIONS[-1].name,
        )
    return newest


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
