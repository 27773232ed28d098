"""Asynchronous access to the ledger's store for the HTTP face.

The event loop never waits on a blocking driver: SQLite is read through aiosqlite (a few
connections, each on its own thread), PostgreSQL through psycopg's ``AsyncConnectionPool``.
Statements are written once with ``?`` placeholders; the PostgreSQL side turns them into
psycopg's ``%s``. Schema statements run in one transaction that excludes other processes doing
the same, so two servers starting on one store cannot trip over each other's
``CREATE ... IF NOT EXISTS``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import aiosqlite

from ledger.config import Settings, is_postgres_url

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

Dialect = Literal["sqlite", "postgres"]
Row = tuple[Any, ...]
Params = Sequence[Any]

SCHEMA_LOCK = 0x1ED6E5  # any constant shared by every process creating the API's tables


class Database(ABC):
    """A few async connections to the store, with the handful of calls the API makes."""

    dialect: Dialect

    @staticmethod
    async def open(settings: Settings) -> Database:
        if is_postgres_url(settings.db):
            return await PostgresDatabase.connect(settings)
        return await SQLiteDatabase.connect(settings)

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""

    @abstractmethod
    async def create(self, statements: Sequence[str]) -> None:
        """Run schema statements in one transaction, one process at a time."""

    @abstractmethod
    async def close(self) -> None: ...


class SQLiteDatabase(Database):
    dialect: Dialect = "sqlite"

    def __init__(self, connections: list[aiosqlite.Connection]) -> None:
        self._all = connections
        self._idle: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for connection in connections:
            self._idle.put_nowait(connection)

    @classmethod
    async def connect(cls, settings: Settings) -> SQLiteDatabase:
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

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._connection() as connection:
            # One hop to the connection's thread (execute, fetch and close in one call).
            return [tuple(row) for row in await connection.execute_fetchall(sql, params)]

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._connection() as connection, connection.execute(sql, params) as cursor:
            return cursor.rowcount

    async def create(self, statements: Sequence[str]) -> None:
        async with self._connection() as connection:
            await connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    await connection.execute(statement)
            except BaseException:
                await connection.execute("ROLLBACK")
                raise
            await connection.execute("COMMIT")

    async def close(self) -> None:
        for connection in self._all:
            await connection.close()


class PostgresDatabase(Database):
    dialect: Dialect = "postgres"

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Row]]) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, settings: Settings) -> PostgresDatabase:
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

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(self._sql(sql), params)
            return await cursor.fetchall()

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._pool.connection() as connection:
            cursor = await connection.execute(self._sql(sql), params)
            return cursor.rowcount

    async def create(self, statements: Sequence[str]) -> None:
        async with self._pool.connection() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for statement in statements:
                await connection.execute(self._sql(statement))

    async def close(self) -> None:
        await self._pool.close()
