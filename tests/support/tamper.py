"""Changes to a store made behind the ledger's back, as someone who can write to its database
could make them: the raw event rows of either store, read, rewritten or deleted by position."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import psycopg

from ledger.config import is_postgres_url


def read_state(store_url: str, position: int) -> bytes:
    if is_postgres_url(store_url):
        with psycopg.connect(store_url) as conn:
            row = conn.execute(
                "SELECT state FROM ledger_events WHERE notification_id = %s", (position,)
            ).fetchone()
            assert row is not None
            return bytes(row[0])
    with sqlite3.connect(store_url) as conn:
        return bytes(
            conn.execute("SELECT state FROM stored_events WHERE rowid = ?", (position,)).fetchone()[
                0
            ]
        )


def write_state(store_url: str, position: int, state: bytes) -> None:
    if is_postgres_url(store_url):
        with psycopg.connect(store_url) as conn:
            conn.execute(
                "UPDATE ledger_events SET state = %s WHERE notification_id = %s", (state, position)
            )
        return
    with sqlite3.connect(store_url) as conn:
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, position))


def delete_event(store_url: str, position: int) -> None:
    if is_postgres_url(store_url):
        with psycopg.connect(store_url) as conn:
            conn.execute("DELETE FROM ledger_events WHERE notification_id = %s", (position,))
        return
    with sqlite3.connect(store_url) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = ?", (position,))


def execute(store_url: str, statement: str) -> None:
    """One statement, committed, as an operator with a database client would run it."""
    if is_postgres_url(store_url):
        with psycopg.connect(store_url) as conn:
            conn.execute(statement)
        return
    with closing(sqlite3.connect(store_url)) as connection, connection:
        connection.execute(statement)


def flip(store_url: str, position: int, needle: bytes, replacement: bytes) -> None:
    state = read_state(store_url, position)
    assert needle in state
    index = state.index(needle)
    write_state(store_url, position, state[:index] + replacement + state[index + len(needle) :])
