"""A server's projector, in a process of its own.

Folding cases is the heaviest work a server does, and Python runs one thread of a process at a
time: folded on a thread of the server, a long case appended to without pause held up every
request. So the views are kept by a child process (``multiprocessing``, started fresh), which
opens the store itself and runs the read service's ``Views.follow``, remembering the cases it
folded last (``projections.recent``), then ``follow_day`` for the day's re-evaluation:

- woken by the server after each group commit (a byte down a pipe), and every
  ``poll_interval_s`` for the writes of other processes; between two catch-ups it rests
  ``poll_interval_s``, or as long as the last catch-up took if that was longer, so commits made
  meanwhile are folded together, each touched case once, and folding takes at most half of
  one core; and it runs at a lower priority than the server (``PROJECTOR_NICENESS``), so
  when the cores are all busy the requests are served first and the views fall behind;
- a store that cannot be opened yet (down when the projector starts) is asked again every poll
  interval;
- a store that does not answer leaves the views behind and is tried again on the next poll
  (the same ``follow`` the command line uses);
- it ends when the server closes the pipe, which the system does for a server that is gone
  (killed, even with ``kill -9``): it never outlives the server;
- the server starts another if it ends otherwise (``Projector.watch``).

Read-your-writes is unchanged: a read with ``min_position`` waits, through the store, for the
views' tracked position, whichever process moved it.

Not eventsourcing's ``ProjectionRunner``: it follows a recorder's ``subscribe()``, which its
SQLite recorder does not implement (9.5.6), and one projector serves both stores.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import time
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from typing import TYPE_CHECKING

from ledger.config import Settings
from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.application import Ledger

logger = logging.getLogger("ledger.api")

PROJECTOR_NICENESS = 10  # added to the server's: the projector yields to the requests
STOP_S = 5.0  # how long a stopping projector may finish its catch-up before it is ended
_spawn = multiprocessing.get_context("spawn")  # never a fork of a process with threads


class Projector:
    """The server's handle on its projector process.

    The two talk through a pipe: a byte from the server wakes the projector (one already
    waiting is enough, so a full pipe is never waited on), and the pipe's end, when the server
    closes it or dies, stops the projector."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: SpawnProcess | None = None
        self._wake: Connection | None = None
        self._stopping = False

    def start(self) -> None:
        listen, wake = _spawn.Pipe(duplex=False)
        self.process = _spawn.Process(
            target=run, args=(self.settings, listen), name="ledger-views", daemon=True
        )
        # Started with SIGINT blocked (a child keeps its parent's signal mask): a Ctrl+C while
        # it is still starting is the server's alone, never the projector's (``run``). The
        # resource tracker that spawning starts first unblocks SIGINT when it is started, so
        # it is started before.
        resource_tracker.ensure_running()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self.process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        listen.close()  # the projector's end: the server keeps only its own
        os.set_blocking(wake.fileno(), False)
        self._wake = wake

    def wake(self) -> None:
        """Tell the projector the log moved."""
        if self._wake is None:
            return
        # A full pipe holds wakes enough; an ended projector is ``watch``'s to start again.
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._wake.fileno(), b"w")

    def watch(self) -> None:
        """Start the projector again if it ended without being stopped."""
        process = self.process
        if process is not None and not process.is_alive() and not self._stopping:
            logger.warning(
                "the views' projector ended (exit code %s); starting another", process.exitcode
            )
            self._close_pipe()
            process.close()
            self.start()

    def close(self) -> None:
        self._stopping = True
        self._close_pipe()  # the projector sees the pipe end and stops
        process = self.process
        if process is None:
            return
        process.join(STOP_S)
        if process.is_alive():
            process.kill()
            process.join()
        process.close()
        self.process = None

    def _close_pipe(self) -> None:
        if self._wake is not None:
            self._wake.close()
            self._wake = None


def run(settings: Settings, listen: Connection) -> None:
    """The projector process: follow the log until the server closes the pipe or is gone."""
    from api.observe import log_to_stderr  # noqa: PLC0415 - the child's own start

    # Ctrl+C in a terminal interrupts the whole process group: the server stops, and with it
    # the pipe, which is how this process ends (never with a KeyboardInterrupt's traceback).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked since its start
    # The requests first: on a machine whose cores they need, the scheduler gives them the
    # time and the views fall behind instead (reads wait boundedly, then fold live).
    os.nice(PROJECTOR_NICENESS)
    log_to_stderr()
    ledger = _opened(settings, listen)
    if ledger is None:
        return
    from projections.views import Views  # noqa: PLC0415

    with ledger:
        views = Views(ledger, remember=settings.view_memory)
        while _woken(listen, settings.poll_interval_s):
            started = time.monotonic()
            try:
                behind = views.follow()
                if behind is None:
                    done = views.follow_day()
                    if done is not None and done.rewritten:
                        logger.info(
                            "views re-evaluated for %s: %d case(s) rewritten, %d feed item(s)",
                            *done,
                        )
                else:  # an outage: the next poll tries again
                    logger.warning("the views could not catch up: %s", behind)
            except Exception:
                logger.exception("the views could not catch up")
            # Rest: commits made meanwhile are folded together, each touched case once (their
            # wakes wait in the pipe). As long as the catch-up took, at least: on a machine
            # whose cores the requests need, folding long cases takes half of one at most.
            time.sleep(max(settings.poll_interval_s, time.monotonic() - started))


def _opened(settings: Settings, listen: Connection) -> Ledger | None:
    """The ledger, once the store answers (asked again every poll interval); None if the
    server stops the projector first."""
    from ledger.application import Ledger  # noqa: PLC0415

    while True:
        try:
            return Ledger(settings.db, None, settings)
        except LedgerError as refused:
            logger.warning("the views' projector cannot open the store yet: %s", refused)
        if not _woken(listen, settings.poll_interval_s):
            return None


def _woken(listen: Connection, within: float) -> bool:
    """Wait for a wake (``within`` seconds at most); False once the server closed the pipe."""
    if wait([listen], within):
        return _drained(listen)
    return True


def _drained(listen: Connection) -> bool:
    """Read every wake waiting; False if the pipe has ended."""
    while wait([listen], 0):
        if not os.read(listen.fileno(), 4096):
            return False
    return True
