"""Unit tests do no I/O: no file written, no database, no process, no network.

Every unit test runs under `no_io`, which makes each of these fail loudly where it is tried
(and fails the test afterwards even if the code under test swallowed the error), so a test
that needs a store or a process cannot land in `tests/unit` by mistake: it belongs in
`tests/integration` or `tests/e2e`.

Reading is allowed: the code reads its own package data (time zones, the message catalogue,
the municipalities), and some specifications read the checkout's committed inputs (the sample
events, the docs, the sources the SQL scan looks at), fixed with the code as its modules are.
Hypothesis's own writes (its example database and caches under `.hypothesis/`) are the test
tool's, not the test's, and are let through.
"""

from __future__ import annotations

import _posixsubprocess  # the fork-and-exec under multiprocessing's spawn
import builtins
import io
import os
import socket
import sqlite3
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import psycopg
import pytest

WRITE_MODES = frozenset("wax+")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
STDLIB = (sysconfig.get_paths()["stdlib"], "<frozen ")  # os, for one, is frozen


class UnitTestDidIO(AssertionError):
    """A unit test reached for a file, a database, a process or the network."""


def _written_by_hypothesis() -> bool:
    """Whether the nearest caller outside the standard library (and this module) is Hypothesis."""
    frame = sys._getframe(2)
    while frame is not None:
        where = frame.f_code.co_filename
        if where != __file__ and not where.startswith(STDLIB):
            return str(frame.f_globals.get("__name__", "")).split(".")[0] == "hypothesis"
        frame = frame.f_back
    return False


@pytest.fixture(autouse=True)
def no_io(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuses every kind of I/O for the test's duration; yields what was tried."""
    tried: list[str] = []

    def refuse(what: str) -> NoReturn:
        tried.append(what)
        message = f"a unit test tried to {what}; I/O belongs in tests/integration or tests/e2e"
        raise UnitTestDidIO(message)

    def refusing(what: str, bound: bool = False) -> Callable[..., NoReturn]:
        """A stand-in that refuses, naming its first argument (after the socket or class)."""

        def refused(*args: Any, **kwargs: Any) -> NoReturn:
            shown = args[1:2] if bound else args[:1]
            refuse(f"{what} {', '.join(map(repr, shown))}".rstrip())

        return refused

    real_open = builtins.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if WRITE_MODES & set(mode) and not _written_by_hypothesis():
            refuse(f"open {file!r} for writing")
        return real_open(file, mode, *args, **kwargs)

    real_os_open = os.open

    def guarded_os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & WRITE_FLAGS and not _written_by_hypothesis():
            refuse(f"open {path!r} for writing")
        return real_os_open(path, flags, *args, **kwargs)

    def guarded_change(name: str) -> Callable[..., Any]:
        real = getattr(os, name)

        def changed(*args: Any, **kwargs: Any) -> Any:
            if not _written_by_hypothesis():
                refuse(f"{name} {args[:1]!r}")
            return real(*args, **kwargs)

        return changed

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)
    for name in ("mkdir", "rename", "replace", "remove", "unlink", "rmdir"):
        monkeypatch.setattr(os, name, guarded_change(name))
    monkeypatch.setattr(sqlite3, "connect", refusing("open a SQLite database"))
    monkeypatch.setattr(sqlite3.dbapi2, "connect", refusing("open a SQLite database"))
    for connection in (psycopg.Connection, psycopg.AsyncConnection):
        monkeypatch.setattr(
            connection, "connect", classmethod(refusing("connect to PostgreSQL", bound=True))
        )
    monkeypatch.setattr(psycopg, "connect", refusing("connect to PostgreSQL"))
    for method in ("connect", "connect_ex", "bind", "sendto"):
        monkeypatch.setattr(socket.socket, method, refusing(f"{method} a socket to", bound=True))
    monkeypatch.setattr(subprocess.Popen, "_execute_child", refusing("start a process", bound=True))
    monkeypatch.setattr(_posixsubprocess, "fork_exec", refusing("start a process"))
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
        monkeypatch.setattr(os, name, refusing(f"start a process ({name})"))

    yield tried

    if tried:
        pytest.fail("a unit test tried I/O: " + "; ".join(tried), pytrace=False)
