"""The HTTP face's asynchronous reads and writes of the store: view rows, the status feed, the
views' position, API tokens and the access log.

The event loop never waits on a blocking driver: SQLite is read through aiosqlite (a few
connections, each on its own thread), PostgreSQL through psycopg's ``AsyncConnectionPool``.
Every statement is written once with ``?`` placeholders; the PostgreSQL store turns them into
psycopg's ``%s``. Every table read or written here is made by ``ledger.stores.migrations`` (the
ledger opened on the store first applies them). The access log is append-only: this module has
no update or delete of it, and the store itself refuses them (a trigger on SQLite and on
PostgreSQL). Which of the two stores is opened is the configuration's choice
(``ledger.config.store_env`` names it by topic).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Self

import aiosqlite
import msgspec
from eventsourcing.utils import resolve_topic

from ledger.config import ASYNC_STORE_TOPIC, Settings, store_env
from ledger.stores.views import FEED_COLUMNS, VIEW_COLUMNS, VIEWS_NAME, FeedItem, ViewRow

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

Dialect = Literal["sqlite", "postgres"]
Row = tuple[Any, ...]
Params = Sequence[Any]

# eventsourcing's tracking table: fixed on SQLite, named after the application on PostgreSQL
# (where the connections' search path is the ledger's schema, as for every table here).
_POSITION: dict[Dialect, str] = {
    "sqlite": "SELECT MAX(notification_id) FROM tracking WHERE application_name = ?",
    "postgres": "SELECT MAX(notification_id) FROM ledger_tracking WHERE application_name = ?",
}

# A read of view rows asks for up to eight persons at a time (unused places repeat the first).
VIEW_ROWS_PER_READ = 8
_VIEW_ROWS = (
    f"SELECT {VIEW_COLUMNS} FROM ledger_views WHERE kind = ? AND person IN (?, ?, ?, ?, ?, ?, ?, ?)"
)
_FEED = f"SELECT {FEED_COLUMNS} FROM ledger_status_feed WHERE seq > ? ORDER BY seq LIMIT ?"
_TOKEN_COLUMNS = "id, role, municipality, created_at, revoked_at"  # noqa: S105 - names, no secret
_ACCESS_COLUMNS = (
    "at, token_id, role, municipality, person, action, categories, legal_basis"  # after id
)

_list = msgspec.json.Decoder(list[str])


class TokenRow(NamedTuple):
    """A token as stored, but for its secret's digest."""

    id: str
    role: str
    municipality: str | None
    created_at: str
    revoked_at: str | None


class AccessEntry(msgspec.Struct, frozen=True):
    """One access-log entry: who (token, role, municipality) was shown what of whose case."""

    id: int
    at: str
    token_id: str
    role: str
    municipality: str | None
    person: str
    action: str
    categories: list[str]
    legal_basis: list[str]


class AsyncStore(ABC):
    """A few async connections to the store, and every read and write the HTTP face makes."""

    dialect: Dialect

    @staticmethod
    async def open(settings: Settings) -> AsyncStore:
        """The async store of the configured store (the topic ``ledger.config`` names)."""
        kind: type[AsyncStore] = resolve_topic(store_env(settings.db, settings)[ASYNC_STORE_TOPIC])
        return await kind.connect(settings)

    @classmethod
    @abstractmethod
    async def connect(cls, settings: Settings) -> AsyncStore: ...

    # --- the driver ---------------------------------------------------------------------------

    @abstractmethod
    async def _fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def _fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._fetch_all(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def _execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement in its own transaction."""

    @abstractmethod
    async def close(self) -> None: ...

    # --- the store's health --------------------------------------------------------------------

    async def ping(self) -> None:
        """Raises what the driver raises when the store does not answer."""
        await self._fetch_one("SELECT 1")

    # --- the materialised views ---------------------------------------------------------------

    async def views_position(self) -> int:
        """The position the views have reached (``VIEWS_NAME`` in the tracking table)."""
        row = await self._fetch_one(_POSITION[self.dialect], (VIEWS_NAME,))
        return 0 if row is None else row[0] or 0

    async def view_rows(self, kind: str, persons: Sequence[str]) -> list[ViewRow]:
        """The stored ``kind`` rows of ``persons`` (those that have one)."""
        found = []
        for start in range(0, len(persons), VIEW_ROWS_PER_READ):
            some = list(persons[start : start + VIEW_ROWS_PER_READ])
            some += [some[0]] * (VIEW_ROWS_PER_READ - len(some))
            for row in await self._fetch_all(_VIEW_ROWS, (kind, *some)):
                stored = ViewRow(*row)
                found.append(stored._replace(body=bytes(stored.body)))
        return found

    async def feed(self, after: int, limit: int) -> list[FeedItem]:
        """The status feed's items with ``seq`` above ``after``, in ``seq`` order."""
        return [FeedItem(*row) for row in await self._fetch_all(_FEED, (after, limit))]

    # --- API tokens ---------------------------------------------------------------------------

    async def insert_token(self, token: TokenRow, secret_sha256: str) -> None:
        await self._execute(
            "INSERT INTO ledger_api_tokens (id, secret_sha256, role, municipality, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (token.id, secret_sha256, token.role, token.municipality, token.created_at),
        )

    async def tokens(self) -> list[TokenRow]:
        rows = await self._fetch_all(
            f"SELECT {_TOKEN_COLUMNS} FROM ledger_api_tokens ORDER BY created_at, id"
        )
        return [TokenRow(*row) for row in rows]

    async def revoke_token(self, token_id: str, at: str) -> TokenRow | None:
        """Revoke a token at ``at`` (a revoked one keeps its first revocation); the token as
        it is now, None when there is no such token."""
        await self._execute(
            "UPDATE ledger_api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (at, token_id),
        )
        row = await self._fetch_one(
            f"SELECT {_TOKEN_COLUMNS} FROM ledger_api_tokens WHERE id = ?", (token_id,)
        )
        return None if row is None else TokenRow(*row)

    async def live_token(self, secret_sha256: str) -> TokenRow | None:
        """The token whose secret has this digest, unless it was revoked."""
        row = await self._fetch_one(
            f"SELECT {_TOKEN_COLUMNS} FROM ledger_api_tokens "
            "WHERE secret_sha256 = ? AND revoked_at IS NULL",
            (secret_sha256,),
        )
        return None if row is None else TokenRow(*row)

    # --- the access log -----------------------------------------------------------------------

    async def append_access(
        self,
        at: str,
        token_id: str,
        role: str,
        municipality: str | None,
        person: str,
        action: str,
        categories: Sequence[str],
        legal_basis: Sequence[str],
    ) -> None:
        """Add an entry: the caller of a token (its id, role, municipality) was shown
        ``action`` of ``person``'s case at ``at``, on ``legal_basis``."""
        await self._execute(
            f"INSERT INTO ledger_access_log ({_ACCESS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at,
                token_id,
                role,
                municipality,
                person,
                action,
                msgspec.json.encode(list(categories)).decode(),
                msgspec.json.encode(list(legal_basis)).decode(),
            ),
        )

    async def access_entries(self, after: int, limit: int, person: str | None) -> list[AccessEntry]:
        """Entries after an id, oldest first; only those about ``person`` when given."""
        rows = await self._fetch_all(
            f"SELECT id, {_ACCESS_COLUMNS} FROM ledger_access_log "
            "WHERE id > ? AND (CAST(? AS TEXT) IS NULL OR person = ?) ORDER BY id LIMIT ?",
            (after, person, person, limit),
        )
        return [_access_entry(row) for row in rows]


def _access_entry(row: Row) -> AccessEntry:
    entry = dict(zip(AccessEntry.__struct_fields__, row, strict=True))
    for listed in ("categories", "legal_basis"):  # stored as JSON text
        entry[listed] = _list.decode(entry[listed])
    return AccessEntry(**entry)


class SQLiteAsyncStore(AsyncStore):
    dialect: Dialect = "sqlite"

    def __init__(self, connections: list[aiosqlite.Connection]) -> None:
        self._all = connections
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for connection in connections:
            self._idle.put_nowait(connection)

    @classmethod
    async def connect(cls, settings: Settings) -> Self:
        connections = []
        for _ in range(settings.http_sqlite_connections):
            # Autocommit: every statement is its own transaction, and a reader never holds a
            # snapshot open between requests (the write side's WAL could not be checkpointed).
            connection = await aiosqlite.connect(
                settings.db, timeout=settings.lock_timeout_s, isolation_level=None
            )
            connections.append(connection)
        return cls(connections)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        connection = await self._idle.get()
        try:
            yield connection
        finally:
            self._idle.put_nowait(connection)

    async def _fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection() as connection:
            # One hop to the connection's thread (execute, fetch and close in one call).
            return [tuple(row) for row in await connection.execute_fetchall(sql, params)]

    async def _execute(self, sql: str, params: Params = ()) -> None:
        async with self._connection() as connection, connection.execute(sql, params):
            pass

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()


class PostgresAsyncStore(AsyncStore):
    dialect: Dialect = "postgres"

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Row]]) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, settings: Settings) -> Self:
        # psycopg loads only for a PostgreSQL store, never for a SQLite one.
        from psycopg_pool import AsyncConnectionPool  # noqa: PLC0415

        options: dict[str, Any] = {"autocommit": True}
        if settings.postgres_schema:
            # The same tables the write side keeps in that schema.
            options["options"] = f"-c search_path={settings.postgres_schema}"
        pool: AsyncConnectionPool[AsyncConnection[Row]]

        async def check(connection: AsyncConnection[Row]) -> None:
            """Checked before use, so a request never gets a connection the server dropped.
            One dropped connection means a restart dropped them all: the pool checks the rest
            at once, instead of finding them one by one with a growing pause between each."""
            try:
                await AsyncConnectionPool.check_connection(connection)
            except Exception:
                await pool.check()
                raise

        pool = AsyncConnectionPool(
            settings.db,
            min_size=1,
            max_size=settings.http_pool_size,
            kwargs=options,
            open=False,
            check=check,
            # A server that is down answers 503 soon, not after the lock time-out.
            timeout=settings.http_pool_wait_s,
        )
        await pool.open(wait=True, timeout=settings.lock_timeout_s)
        return cls(pool)

    @staticmethod
    def _sql(sql: str) -> Any:
        return sql.replace("?", "%s")

    async def _fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(self._sql(sql), params)
            return await cursor.fetchall()

    async def _execute(self, sql: str, params: Params = ()) -> None:
        async with self._pool.connection() as connection:
            await connection.execute(self._sql(sql), params)

    async def close(self) -> None:
        await self._pool.close()
