"""The ledger's recorder suites (``tests/support/recorder_suites.py``) on each store it runs on:
a SQLite file, and a database on the PostgreSQL server the test session starts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

import psycopg
import pytest
from eventsourcing.sqlite import SQLiteDatastore

from ledger.application import Ledger
from ledger.stores.sqlite import CACHE_KIB, LARGE_CACHE_KIB, ImmediateTransaction
from tests.support.recorder_suites import (
    AccessLogSuite,
    EventStoreSuite,
    PersonKeysSuite,
    TokensSuite,
    ViewRecorderSuite,
    logged,
    run,
)
from tests.support.tamper import execute


class SQLiteStore:
    erases_from_files: ClassVar[bool | None] = True  # the key's page and the log are rewritten
    refusal: ClassVar[type[Exception]] = sqlite3.IntegrityError

    @pytest.fixture
    def db(self, tmp_path: Path) -> str:
        return str(tmp_path / "ledger.db")


class PostgresStore:
    erases_from_files: ClassVar[bool | None] = None  # the server's files are its own
    refusal: ClassVar[type[Exception]] = psycopg.errors.RaiseException

    @pytest.fixture
    def db(self, pg_url: str) -> str:
        return pg_url


class TestSQLiteEventStore(SQLiteStore, EventStoreSuite):
    pass


class TestSQLitePersonKeys(SQLiteStore, PersonKeysSuite):
    pass


class TestSQLiteViewRecorder(SQLiteStore, ViewRecorderSuite):
    pass


class TestSQLiteTokens(SQLiteStore, TokensSuite):
    pass


class TestSQLiteAccessLog(SQLiteStore, AccessLogSuite):
    pass


@pytest.mark.postgres
class TestPostgresEventStore(PostgresStore, EventStoreSuite):
    pass


@pytest.mark.postgres
class TestPostgresPersonKeys(PostgresStore, PersonKeysSuite):
    pass


@pytest.mark.postgres
class TestPostgresViewRecorder(PostgresStore, ViewRecorderSuite):
    pass


@pytest.mark.postgres
class TestPostgresTokens(PostgresStore, TokensSuite):
    pass


@pytest.mark.postgres
class TestPostgresAccessLog(PostgresStore, AccessLogSuite):
    def test_the_store_itself_refuses_to_empty_the_access_log(self, ledger_on: Ledger) -> None:
        before = run(ledger_on, logged)

        with pytest.raises(self.refusal, match="append-only"):
            execute(ledger_on.db, "TRUNCATE ledger_access_log")

        assert run(ledger_on, lambda store: store.access_entries(0, 10, None)) == before


def test_a_sqlite_write_sizes_the_page_cache_for_itself_and_a_small_one_shrinks_it(
    tmp_path: Path,
) -> None:
    """A large batch gets a large cache (random-keyed index inserts thrash a small one); the
    connection's next small write shrinks it again, so a server's memory stays flat."""
    with Ledger(str(tmp_path / "ledger.db")) as ledger:
        datastore = ledger.recorder.datastore
        assert isinstance(datastore, SQLiteDatastore)
        sizes = []
        with datastore.get_connection(commit=True) as conn:
            for large in (True, False, False):
                with ImmediateTransaction(conn, commit=True, large=large) as cursor:
                    cursor.execute("PRAGMA cache_size")
                    sizes.append(cursor.fetchone()[0])

    assert sizes == [-LARGE_CACHE_KIB, -CACHE_KIB, -CACHE_KIB]
    assert CACHE_KIB < LARGE_CACHE_KIB
