"""The ledger's configuration and the choice of its store: one composition root for CLI and API.

``Settings`` is every value an operator may set: read once from the environment (each field's
variable, with its default; a bad value is refused naming the variable), and passed down to
what uses it. The store is picked by configuration only: a SQLite file path (the default,
``./ledger.db``) or a ``postgresql://user:password@host:port/dbname`` URL becomes an
eventsourcing environment (``PERSISTENCE_MODULE``, ``APPLICATION_RECORDER_TOPIC``,
``MAPPER_TOPIC``, ..., and the ledger's own ``VIEW_RECORDER_TOPIC`` for the views' tables and
``ASYNC_STORE_TOPIC`` for the HTTP face's asynchronous reads) that
names its modules by topic, so a command imports those of the one store it opens and nothing of
the other, and where the stores differ, the recorder a topic names decides. The domain never
sees which one it is. ``LEDGER_CIPHER_KEY`` turns on eventsourcing's cipher: every stored event
is then encrypted at rest under that application key, on top of the per-person sealing of
personal data. This module imports nothing heavy: ``ledger --help`` reads its defaults.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlsplit

from ledger.errors import StoreError
from ledger.i18n import Phrase

DEFAULT_DB = "./ledger.db"
CIPHER_KEY_ENV = "LEDGER_CIPHER_KEY"
CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"  # AES-GCM from `cryptography`
VIEW_RECORDER_TOPIC = "VIEW_RECORDER_TOPIC"
ASYNC_STORE_TOPIC = "ASYNC_STORE_TOPIC"
MAX_CASE_EVENTS_ENV = "LEDGER_MAX_CASE_EVENTS"
DEFAULT_MAX_CASE_EVENTS = 10_000


def _setting(default: Any, variable: str, means: str, *also: str) -> Any:
    """A field of ``Settings``: its default, the environment variable(s) it is read from (the
    first set wins) and what it means (the README's table says the same)."""
    return field(default=default, metadata={"variables": (variable, *also), "means": means})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an operator may set, with its environment variable and default."""

    db: str = _setting(DEFAULT_DB, "LEDGER_DB", "the store: a SQLite file or a PostgreSQL URL")
    cipher_key: str | None = _setting(
        None, CIPHER_KEY_ENV, "base64 AES key (16, 24 or 32 bytes): encryption at rest"
    )
    postgres_schema: str | None = _setting(
        None,
        "LEDGER_POSTGRES_SCHEMA",
        "the PostgreSQL schema the ledger's tables live in",
        "POSTGRES_SCHEMA",
    )
    max_case_events: int = _setting(
        DEFAULT_MAX_CASE_EVENTS,
        MAX_CASE_EVENTS_ENV,
        "the most events one case may hold: bounds what one person's stream costs every "
        "reader and writer of it",
    )
    lock_timeout_s: int = _setting(
        30,
        "LEDGER_LOCK_TIMEOUT",
        "seconds a writer waits for the store's write lock (and for the schema lock)",
    )
    postgres_connect_timeout_s: int = _setting(
        10, "LEDGER_POSTGRES_CONNECT_TIMEOUT", "seconds to wait for a PostgreSQL connection"
    )
    postgres_pool_size: int = _setting(
        4, "LEDGER_POSTGRES_POOL_SIZE", "PostgreSQL connections a process keeps open"
    )
    postgres_max_overflow: int = _setting(
        8, "LEDGER_POSTGRES_MAX_OVERFLOW", "PostgreSQL connections a process opens beyond those"
    )
    http_sqlite_connections: int = _setting(
        4,
        "LEDGER_HTTP_SQLITE_CONNECTIONS",
        "connections (each on a thread of its own) a server on SQLite reads view rows, tokens "
        "and the access log through",
    )
    http_pool_size: int = _setting(
        8,
        "LEDGER_HTTP_POOL_SIZE",
        "the most connections a server on PostgreSQL reads view rows, tokens and the access "
        "log through",
    )
    http_pool_wait_s: float = _setting(
        5.0,
        "LEDGER_HTTP_POOL_WAIT",
        "seconds a request waits for a PostgreSQL connection before answering 503",
    )
    poll_interval_s: float = _setting(
        0.5,
        "LEDGER_POLL_INTERVAL",
        "seconds between a server's looks at the log for other processes' writes (and the "
        "least time between two catch-ups of its views)",
    )
    view_memory: int = _setting(
        50_000,
        "LEDGER_VIEW_MEMORY",
        "decoded events of the cases it folded last a server's projector keeps, so a long case "
        "appended to is not read and decoded again for every catch-up",
    )
    wait_for_views_s: float = _setting(
        1.0,
        "LEDGER_WAIT_FOR_VIEWS",
        "seconds a read waits for the views to reach its min_position before the live fold answers",
    )
    write_queue: int = _setting(
        1024,
        "LEDGER_WRITE_QUEUE",
        "appends a server holds for the next group commit; more are answered 503 busy",
    )
    write_group: int = _setting(
        256, "LEDGER_WRITE_GROUP", "appends a server commits in one transaction"
    )
    session_key: str | None = _setting(
        None,
        "LEDGER_SESSION_KEY",
        "64 hex digits: the key of the pages' session cookies, so that several server processes "
        "accept each other's sessions (unset: each process makes its own)",
    )
    rebuild_workers: int | None = _setting(
        None,
        "LEDGER_REBUILD_WORKERS",
        "processes `ledger rebuild` folds with, when --workers is not given (unset: one per "
        "core for a ledger large enough to repay starting them)",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings of the environment (``os.environ`` unless given); unset variables
        keep their defaults."""
        return cls().updated(os.environ if environ is None else environ)

    def updated(self, environ: Mapping[str, str]) -> Self:
        """These settings with those the mapping sets (by their variables) replaced."""
        changes: dict[str, Any] = {}
        for setting in dataclasses.fields(self):
            variables: tuple[str, ...] = setting.metadata["variables"]
            for variable in variables:
                text = environ.get(variable)
                if text is not None and text.strip():
                    changes[setting.name] = _parse(setting.type, variable, text.strip())
                    break
        # Refused here, before anything is opened.
        cipher_env(changes.get("cipher_key"))
        _check_session_key(changes.get("session_key"))
        return dataclasses.replace(self, **changes)

    def with_db(self, db: str) -> Self:
        return dataclasses.replace(self, db=db)


def variables() -> dict[str, tuple[str, ...]]:
    """Each setting's environment variables, by field (for the README's table and its test)."""
    return {f.name: f.metadata["variables"] for f in dataclasses.fields(Settings)}


def _check_session_key(key: str | None) -> None:
    if key is not None and (len(key) != 64 or not all(c in string.hexdigits for c in key)):
        raise StoreError(
            "LEDGER_SESSION_KEY must be 64 hex digits (32 bytes)", "LEDGER_SESSION_KEY"
        )


def _parse(kind: object, variable: str, text: str) -> object:
    if kind in {"str", "str | None"}:
        return text
    number: float
    try:
        number = int(text) if kind in {"int", "int | None"} else float(text)
    except ValueError:
        number = 0
    if number <= 0:
        whole = Phrase("a whole number") if "int" in str(kind) else Phrase("a number")
        raise StoreError(
            "{variable} must be {whole}, more than 0; got {given!r}",
            variable,
            variable=variable,
            whole=whole,
            given=text,
        )
    return number


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
            "{CIPHER_KEY_ENV} must be the base64 form of a 16, 24 or 32 byte AES key",
            CIPHER_KEY_ENV,
            CIPHER_KEY_ENV=CIPHER_KEY_ENV,
        )
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": key}


def store_env(db: str, settings: Settings | None = None) -> dict[str, str]:
    """The eventsourcing environment for a ``--db`` value and the settings (read from the
    environment when not given)."""
    settings = settings or Settings.from_env()
    env = {"MAPPER_TOPIC": "ledger.stores.mapper:LedgerMapper", "CREATE_TABLE": "y"}
    env |= cipher_env(settings.cipher_key)
    lock_timeout = str(settings.lock_timeout_s)
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
            VIEW_RECORDER_TOPIC: "ledger.stores.postgres_views:PostgresViewRecorder",
            ASYNC_STORE_TOPIC: "ledger.stores.aio:PostgresAsyncStore",
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parts.hostname,
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_CONNECT_TIMEOUT": str(settings.postgres_connect_timeout_s),
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(settings.postgres_max_overflow),
            "POSTGRES_LOCK_TIMEOUT": lock_timeout,
            # A pooled connection is checked before use, so one the server dropped (a restart)
            # is replaced instead of failing the request that drew it.
            "POSTGRES_PRE_PING": "y",
        }
        if settings.postgres_schema:
            env["POSTGRES_SCHEMA"] = settings.postgres_schema
        return env
    path = Path(db)
    if path.is_dir():
        raise StoreError("--db {db!r} is a directory, not a ledger file", "db", db=db)
    if not path.parent.exists():
        raise StoreError("the folder of --db {db!r} does not exist", "db", db=db)
    return env | {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": "ledger.stores.sqlite:LedgerSQLiteRecorder",
        VIEW_RECORDER_TOPIC: "ledger.stores.sqlite_views:SQLiteViewRecorder",
        ASYNC_STORE_TOPIC: "ledger.stores.aio:SQLiteAsyncStore",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": lock_timeout,
    }


def describe(db: str) -> str:
    """A store named for people, without the password of a URL."""
    if "@" in db and "://" in db:
        scheme, rest = db.split("://", 1)
        return f"{scheme}://…@{rest.rsplit('@', 1)[1]}"
    return repr(db)
