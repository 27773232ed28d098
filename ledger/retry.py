"""Backing off between tries: the pauses of every loop that waits for a store.

A lock, a commit of another writer or a position the views have to reach is nearly always
there within milliseconds, so pauses start short and double, up to a ceiling that keeps a
waiter answering soon once it is there; a loop ends after a time (``within``) or after as many
tries as its caller allows. With ``jitter`` each pause is drawn between zero and its length, so
writers that collided do not try again in step and collide again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator


def pauses(
    first: float, most: float, *, within: float | None = None, jitter: bool = False
) -> Iterator[float]:
    """The pauses between tries, in seconds: ``first``, then twice the one before, never more
    than ``most``; with ``within``, none that would end more than that many seconds after the
    first was asked for (then the caller gives up)."""
    deadline = None if within is None else time.monotonic() + within
    pause = first
    while deadline is None or time.monotonic() + pause <= deadline:
        yield random.uniform(0, pause) if jitter else pause  # noqa: S311 - spreading, not secrecy
        pause = min(pause * 2, most)
