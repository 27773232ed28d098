"""The PostgreSQL test harness: a real server, and a fresh database for every test."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.postgres

MARKER_TABLE = "left_by_an_earlier_test"


def test_the_test_server_accepts_a_connection_on_the_url_it_hands_out(pg_url: str) -> None:
    with psycopg.connect(pg_url) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("run", ["first", "second"])
def test_every_test_gets_a_fresh_empty_database(pg_url: str, run: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        assert tables == (0,), f"{run} run found tables left in its database"
        connection.execute(f"CREATE TABLE {MARKER_TABLE} (run text)")
        connection.execute(f"INSERT INTO {MARKER_TABLE} VALUES (%s)", (run,))
        database = connection.execute("SELECT current_database()").fetchone()
    assert database is not None
    assert database[0] in pg_url
