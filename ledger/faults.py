"""Faults of a store or of the disk under it, told apart from refusals of the input.

A store that does not answer, or a disk that refuses a write, is neither the caller's mistake
nor a finding about the ledger: each face turns it into ``StoreUnavailable`` or ``CannotWrite``
(``store_fault``). Which exception classes mean "the store did not answer" depends on what the
process has loaded: eventsourcing's recorders wrap the drivers' errors in their own; the HTTP
face's async connections raise the drivers' (psycopg, its pool's timeouts among them, and
sqlite3 through aiosqlite) directly. A driver never imported raised nothing, so ``unreachable``
names the classes of the modules loaded when it is asked, and a SQLite command never imports
psycopg to name its errors (nor does ``ledger --help`` import a store at all).
"""

from __future__ import annotations

import errno
import sys

from ledger.errors import CannotWrite, StoreError, StoreUnavailable

NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})
# How SQLite says the same, through sqlite3 or wrapped by eventsourcing.
_NO_ROOM_SAID = ("database or disk is full", "disk I/O error")
# The exception classes, by module, that mean the store did not answer.
_UNREACHABLE = {
    "eventsourcing.persistence": ("OperationalError", "InterfaceError"),
    "psycopg": ("OperationalError", "InterfaceError"),
    "sqlite3": ("OperationalError",),
}


def unreachable() -> tuple[type[Exception], ...]:
    """What a store raises when it does not answer, of the modules loaded now (an ``except``
    clause evaluates it when an exception reaches it)."""
    found: list[type[Exception]] = []
    for name, classes in _UNREACHABLE.items():
        module = sys.modules.get(name)
        if module is not None:
            found += [getattr(module, cls) for cls in classes]
    return tuple(found)


def store_fault(exc: Exception) -> StoreError:
    """The typed error for a fault of the store or the disk under it."""
    said = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if (isinstance(exc, OSError) and exc.errno in NO_ROOM) or any(
        words in said for words in _NO_ROOM_SAID
    ):
        return CannotWrite("the disk refused a write ({said}): it is full or failing", said=said)
    return StoreUnavailable("the store did not answer ({said})", said=said)
