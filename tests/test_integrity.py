"""Tamper evidence: any change to a stored event is found by verify, with its position."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.application import Ledger
from ledger.config import is_postgres_url
from tests.wire import WireCase, lines

TAMPERED_POSITION = 4


@pytest.fixture
def filled(store_url: str) -> Iterator[str]:
    first, second = WireCase("P-A"), WireCase("P-B", "751")
    batch = [first.opened(), second.opened(), first.offer("O-1"), first.absence("O-1", days=3)]
    batch += [second.offer("O-7"), first.event("FollowUpHeld", mode="phone", goals_met=False)]
    with Ledger(store_url) as ledger:
        ledger.append_lines(lines(batch))
        assert ledger.verify().ok
    return store_url


def _read_state(store_url: str, position: int) -> bytes:
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


def _write_state(store_url: str, position: int, state: bytes) -> None:
    if is_postgres_url(store_url):
        with psycopg.connect(store_url) as conn:
            conn.execute(
                "UPDATE ledger_events SET state = %s WHERE notification_id = %s", (state, position)
            )
        return
    with sqlite3.connect(store_url) as conn:
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, position))


def _delete(store_url: str, position: int) -> None:
    if is_postgres_url(store_url):
        with psycopg.connect(store_url) as conn:
            conn.execute("DELETE FROM ledger_events WHERE notification_id = %s", (position,))
        return
    with sqlite3.connect(store_url) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = ?", (position,))


def flip(store_url: str, position: int, needle: bytes, replacement: bytes) -> None:
    state = _read_state(store_url, position)
    assert needle in state
    index = state.index(needle)
    _write_state(store_url, position, state[:index] + replacement + state[index + len(needle) :])


@pytest.mark.parametrize(
    ("needle", "replacement"),
    [
        (b'"days":3', b'"days":4'),  # the event's content
        (b'"O-1"', b'"O-2"'),  # a reference
        (b'"recorded_at":"2', b'"recorded_at":"1'),  # the transaction time
        (b'"hash":"', b'"hash":"f'),  # the stored hash itself (one byte longer)
        (b'"prev_hash":"', b'"prev_hash":"0'),
        (b'{"schema"', b'{"schema '),  # no longer JSON
    ],
)
def test_changing_one_byte_of_a_stored_event_is_found_with_its_position(
    filled: str, needle: bytes, replacement: bytes
) -> None:
    flip(filled, TAMPERED_POSITION, needle, replacement)

    with Ledger(filled) as ledger:
        report = ledger.verify()
        per_person = ledger.verify("P-A")

    assert not report.ok
    assert report.first_failure is not None
    assert report.first_failure.position == TAMPERED_POSITION
    assert per_person.first_failure is not None
    assert per_person.first_failure.position == TAMPERED_POSITION
    assert report.checked == 6


def test_an_unrelated_case_stays_verified_when_another_is_tampered_with(filled: str) -> None:
    flip(filled, TAMPERED_POSITION, b'"days":3', b'"days":9')
    with Ledger(filled) as ledger:
        assert ledger.verify("P-B").ok


def test_a_deleted_event_is_found(filled: str) -> None:
    _delete(filled, 3)
    with Ledger(filled) as ledger:
        report = ledger.verify()
    assert report.first_failure is not None
    assert report.first_failure.position == TAMPERED_POSITION
    assert "missing" in report.first_failure.reason


def test_a_deleted_last_event_is_found_by_the_index(filled: str) -> None:
    _delete(filled, 6)
    with Ledger(filled) as ledger:
        report = ledger.verify()
    assert not report.ok
    assert report.first_failure is not None
    assert "missing" in report.first_failure.reason


def test_verify_on_the_command_line_exits_3_and_names_the_position(filled: str) -> None:
    flip(filled, TAMPERED_POSITION, b'"days":3', b'"days":4')
    runner = CliRunner()

    human = runner.invoke(cli, ["--db", filled, "verify"])
    machine = runner.invoke(cli, ["--db", filled, "verify", "--json"])

    assert human.exit_code == 3
    assert f"position {TAMPERED_POSITION}" in human.output
    assert machine.exit_code == 3
    assert f'"first_failure":{{"position":{TAMPERED_POSITION}' in machine.output
