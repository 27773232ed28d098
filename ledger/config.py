"""Choosing a store: the one place where a ``--db`` value becomes a kind of store.

The store is picked by configuration only: a SQLite file path (the default, ``./ledger.db``)
or a ``postgresql://user:password@host:port/dbname`` URL becomes an eventsourcing environment
(``PERSISTENCE_MODULE``, ``APPLICATION_RECORDER_TOPIC``, ``MAPPER_TOPIC``, ..., and the
ledger's own ``VIEW_RECORDER_TOPIC`` for the views' tables) that names its modules by topic, so
a command imports those of the one store it opens and nothing of the other. The domain never
sees which one it is. ``LEDGER_CIPHER_KEY`` in the environment turns on eventsourcing's cipher:
every stored event is then encrypted at rest under that application key, on top of the
per-person sealing of personal data. This module imports nothing heavy: ``ledger --help``
reads its default.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ledger.errors import StoreError

DEFAULT_DB = "./ledger.db"
CIPHER_KEY_ENV = "LEDGER_CIPHER_KEY"
CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"  # AES-GCM from `cryptography`
VIEW_RECORDER_TOPIC = "VIEW_RECORDER_TOPIC"
# The most events one case may hold: bounds what one person's stream costs every reader and
# writer of it.
MAX_CASE_EVENTS_ENV = "LEDGER_MAX_CASE_EVENTS"
DEFAULT_MAX_CASE_EVENTS = 10_000


def postgres_schema() -> str | None:
    """The PostgreSQL schema the ledger's tables live in, when one is configured (the same
    environment keys eventsourcing reads for the application named Ledger)."""
    return os.environ.get("LEDGER_POSTGRES_SCHEMA") or os.environ.get("POSTGRES_SCHEMA") or None


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def cipher_env(key: str | None) -> dict[str, str]:
    """Encryption at rest of every stored event (eventsourcing's cipher), when
    ``LEDGER_CIPHER_KEY`` holds a base64 AES key of 16, 24 or 32 bytes."""
    if not key:
        return {}
    try:
        size = len(base64.b64decode(key, validate=True))
    except ValueError:  # not base64, or not ASCII
        size = 0
    if size not in {16, 24, 32}:
        raise StoreError(
            f"{CIPHER_KEY_ENV} must be the base64 form of a 16, 24 or 32 byte AES key",
            CIPHER_KEY_ENV,
        )
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": key}


def store_env(db: str) -> dict[str, str]:
    """The eventsourcing environment for a ``--db`` value (and ``LEDGER_CIPHER_KEY``)."""
    env = {"MAPPER_TOPIC": "ledger.stores.mapper:LedgerMapper", "CREATE_TABLE": "y"}
    env |= cipher_env(os.environ.get(CIPHER_KEY_ENV))
    if is_postgres_url(db):
        parts = urlsplit(db)
        dbname = parts.path.lstrip("/")
        if not parts.hostname or not dbname:
            raise StoreError(
                "a PostgreSQL URL needs a host and a database name: "
                "postgresql://user:password@host:port/dbname",
                "db",
            )
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "ledger.stores.postgres:LedgerPostgresRecorder",
            VIEW_RECORDER_TOPIC: "projections.postgres:PostgresViewRecorder",
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8",
            "POSTGRES_LOCK_TIMEOUT": "30",
            # A pooled connection is checked before use, so one the server dropped (a restart)
            # is replaced instead of failing the request that drew it.
            "POSTGRES_PRE_PING": "y",
        }
        return env
    path = Path(db)
    if path.is_dir():
        raise StoreError(f"--db {db!r} is a directory, not a ledger file", "db")
    if not path.parent.exists():
        raise StoreError(f"the folder of --db {db!r} does not exist", "db")
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "ledger.stores.sqlite:LedgerSQLiteRecorder",
        VIEW_RECORDER_TOPIC: "projections.materialised:SQLiteViewRecorder",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def max_case_events(overrides: dict[str, str]) -> int:
    """The per-case limit: ``LEDGER_MAX_CASE_EVENTS`` from the overrides a ledger was opened
    with, else from the environment, else the default."""
    value = overrides.get(MAX_CASE_EVENTS_ENV, os.environ.get(MAX_CASE_EVENTS_ENV))
    if value is None or not value.strip():
        return DEFAULT_MAX_CASE_EVENTS
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise StoreError(
            f"{MAX_CASE_EVENTS_ENV} must be a whole number of events, at least 1; got {value!r}",
            MAX_CASE_EVENTS_ENV,
        )
    return limit


def describe(db: str) -> str:
    """A store named for people, without the password of a URL."""
    if "@" in db and "://" in db:
        scheme, rest = db.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return repr(db)
