"""The unit suite's guard: a unit test that writes a file, opens a database, starts a process or
touches the network fails, so such a test cannot stay in `tests/unit`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.application import Ledger
from tests.support.paths import ROOT, SAMPLE_CASES
from tests.unit.conftest import UnitTestDidIO

SCRATCH = ROOT / "never-written.txt"


def _connect_a_socket() -> None:
    with socket.socket() as client:
        client.connect(("127.0.0.1", 9))


def _bind_a_socket() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))


ATTEMPTS: dict[str, Callable[[], object]] = {
    "open for writing": lambda: SCRATCH.open("w"),
    "write_text": lambda: SCRATCH.write_text("x"),
    "append": lambda: SCRATCH.open("a"),
    "a temporary file": tempfile.TemporaryFile,
    "a temporary directory": tempfile.mkdtemp,
    "mkdir": (ROOT / "never-made").mkdir,
    "remove": SCRATCH.unlink,
    "sqlite": lambda: sqlite3.connect(":memory:"),
    "a ledger on sqlite": lambda: Ledger(str(SCRATCH)),
    "postgresql": lambda: psycopg.connect("postgresql://ledger@127.0.0.1:1/none"),
    "socket connect": _connect_a_socket,
    "socket bind": _bind_a_socket,
    "subprocess": lambda: subprocess.run([sys.executable, "-c", "pass"], check=False),
    "asyncio subprocess": lambda: asyncio.run(asyncio.create_subprocess_exec("true")),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
def test_every_kind_of_io_fails_a_unit_test(attempt: str, no_io: list[str]) -> None:
    with pytest.raises(UnitTestDidIO):
        ATTEMPTS[attempt]()
    assert no_io, "the guard let it through"
    assert not SCRATCH.exists()
    no_io.clear()  # tried on purpose here; anywhere else the test would fail at teardown


def test_swallowed_io_still_fails_the_test_at_teardown(no_io: list[str]) -> None:
    with contextlib.suppress(UnitTestDidIO):  # as code under test might
        sqlite3.connect(":memory:")
    assert no_io == ["open a SQLite database ':memory:'"]
    no_io.clear()


def test_reading_the_checkout_is_not_io_a_unit_test_must_avoid(no_io: list[str]) -> None:
    assert SAMPLE_CASES.read_bytes()
    assert no_io == []


@given(st.text())
def test_hypothesis_keeps_its_own_database_and_caches(text: str) -> None:
    assert isinstance(text, str)
