"""Rebuilding the materialised views from the events: every row recomputed, streaming.

The views are never the source of truth (``projections.views``); a rebuild forgets every row
and folds every case again, a few hundred persons a transaction, in this process or, for a
large ledger, in worker processes that each fold and write ranges of persons over a connection
of their own. The views' position is written last, once every row is: a rebuild cut short is
not taken for a finished one.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from eventsourcing.persistence import Tracking

from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.i18n import Phrase
from ledger.stores.base import Shard, shards
from ledger.stores.views import VIEWS_NAME, ViewRow
from projections.rows import view_rows
from projections.views import Progress, Views

PERSONS_PER_WRITE = 500
PARALLEL_FROM_EVENTS = 50_000  # below this, starting worker processes costs more than it saves
EVENTS_PER_SHARD = 20_000  # a worker's unit of work: bounds what it holds and sends back


def rebuild(views: Views, progress: Progress | None = None, workers: int = 1) -> int:
    """Recompute every view from the events, streaming; with ``workers`` > 1, that many
    processes fold and write ranges of persons (spawned: a script calling this needs the
    ``if __name__ == "__main__":`` guard). Returns the views' position."""
    ledger = views.ledger
    ledger.require_writable(Phrase("rebuilt"))
    views.recorder.reset_views(VIEWS_NAME)
    head = ledger.head_position()
    today = today_in_denmark()
    if workers > 1:
        written = _rebuilt_apart(ledger, head, today, workers)
    else:
        written = rewrite(views, head, today, shard=None)
    for events in written:
        if progress is not None:
            progress(events)
    # The position last, once every row is written: a rebuild cut short is not taken for
    # a finished one.
    views.recorder.write_views([], Tracking(VIEWS_NAME, head) if head else None)
    return views.catch_up()


def rebuild_workers(head: int) -> int:
    """Processes ``ledger rebuild`` uses by default for a ledger of ``head`` events: one per
    core available to this process when the ledger is large enough to repay starting them."""
    if head < PARALLEL_FROM_EVENTS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def rewrite(views: Views, head: int, today: date, shard: Shard | None) -> Iterator[int]:
    """Fold and write the views of every person (in ``shard``) up to ``head``, a few
    hundred persons a write (on SQLite in short transactions, so appends to a store in use
    are not held up: ``ledger.stores.sqlite_views``); yields how many events each write
    covered."""
    rows: list[ViewRow] = []
    events = 0
    cases = views.ledger.iter_cases(until=head, open_personal=False, shard=shard)
    for persons, case in enumerate(cases, start=1):
        rows += views.sealed(view_rows(case[0].event.person, case, today).rows)
        events += len(case)
        if persons % PERSONS_PER_WRITE == 0:
            views.recorder.write_views(rows, None)
            yield events
            rows, events = [], 0
    views.recorder.write_views(rows, None)
    yield events


def _rebuilt_apart(ledger: Ledger, head: int, today: date, workers: int) -> Iterator[int]:
    """The same rows, folded and written by worker processes, one range of persons each at
    a time; yields how many events each range held, as the ranges are done."""
    tasks = [(shard, head, today) for shard in shards(max(workers * 4, head // EVENTS_PER_SHARD))]
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_open_worker,
        initargs=(ledger.db, ledger.overrides),
    ) as pool:
        yield from pool.map(_rebuild_shard, tasks)


_WORKER: dict[str, Views] = {}  # a rebuild worker's own connection to the store


def _open_worker(db: str, overrides: dict[str, str]) -> None:
    _WORKER["views"] = Views(Ledger(db, overrides))


def _rebuild_shard(task: tuple[Shard, int, date]) -> int:
    """In a worker: fold and write the views of the persons in one shard; returns how many
    events they hold."""
    shard, head, today = task
    return sum(rewrite(_WORKER["views"], head, today, shard))
