"""``ledger bench``: every speed figure next to a baseline measured in the same run.

Each figure runs on a fresh store of the kind asked for (a temporary SQLite file, or a fresh
schema on the given PostgreSQL server) with the same deterministic workload, so figures are
comparable across runs on one machine and the ratios are comparable across machines. The command
itself (``cli.bench_command``) loads this package when it runs; ``run_writes`` (``--writes``)
measures HTTP writes instead.
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import writes
from bench.appends import (
    LONG_CASE,
    SHORT_CASE,
    WHOLE_PROCESS_EVENTS,
    WHOLE_PROCESS_RUNS,
    case_length_latency,
    import_all,
    single_appends_seconds,
    whole_process_against_in_process,
)
from bench.baselines import (
    JSON_TRANSCODER_MAPPER,
    raw_bulk_seconds,
    raw_single_seconds,
    stored_rows,
)
from bench.figures import BenchResult, Cost, rate
from bench.load import CLI
from bench.reads import (
    checkpointing,
    http_status,
    peak_rss_of_rebuild,
    rebuild_seconds,
    reevaluation,
    status_latency,
    view_checks,
)
from bench.stores import Stores, as_installed
from bench.workload import workload
from ledger.events import encode_event
from ledger.wire import ndjson_lines
from projections.rebuild import rebuild_workers

Tick = Callable[[str], None]
PHASES = 15  # the ticks of one ``run``
SINGLE_APPENDS = 2000
STARTUP_RUNS = 5


def least_cpu_seconds(args: list[str]) -> float:
    """The least CPU time (user + system) a child interpreter with ``args`` takes in a few
    runs (the least: what the machine's other work added is noise, not start-up), its
    bytecode cached as installed."""
    least = math.inf
    for _ in range(STARTUP_RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, *args], check=True, capture_output=True, env=as_installed(os.environ)
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        least = min(least, spent)
    return least


def startup_cost() -> Cost:
    """CPU of ``ledger --help`` against an interpreter that does nothing."""
    ours = least_cpu_seconds(["-c", CLI, "--help"])
    bare = least_cpu_seconds(["-c", "pass"])
    return Cost(round(ours, 3), round(bare, 3), round(ours / bare, 2))


def run(events: int, persons: int | None, target: str, tick: Tick) -> BenchResult:
    """Every figure on a workload of ``events`` events over ``persons`` persons, on stores of
    the kind ``target`` names (``sqlite`` or a PostgreSQL URL)."""
    tick("generating the workload")
    wire = [encode_event(e) for e in workload(events, persons)]
    lines = ndjson_lines(b"\n".join(wire))
    names = sorted({e.split(b'"person":"', 1)[1].split(b'"', 1)[0].decode() for e in wire})
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        stores = Stores(target, Path(folder))
        try:
            tick("bulk import through the ledger")
            store = stores.new()
            with store.ledger() as ledger:
                ours = import_all(ledger, lines)
                rows = stored_rows(ledger)
                tick("rebuilding every view")
                workers = rebuild_workers(ledger.head_position())
                rebuilt, decoded = rebuild_seconds(ledger, workers)
                tick("status queries")
                latency = status_latency(ledger, names)
                tick("status reads on yesterday's rows, re-evaluation, the same reads again")
                daily = reevaluation(ledger, names)
                tick("view rows read with and without their digest checks")
                checks = view_checks(ledger, names)
                tick("verify, a first checkpoint, verify against it")
                signing = checkpointing(ledger)
                tick("HTTP status reads against /healthz; case pages and PDFs")
                http, pages = http_status(store, ledger, names)
                tick("peak memory of a rebuild in its own process")
                rss = peak_rss_of_rebuild(store)
            tick("bulk import baseline (raw insert of the same rows)")
            raw = raw_bulk_seconds(stores.new(), rows)
            tick("bulk import through eventsourcing's default JSON transcoder")
            with stores.fresh(mapper=JSON_TRANSCODER_MAPPER) as ledger:
                transcoded = import_all(ledger, lines)
            single_count = min(len(lines), SINGLE_APPENDS)
            tick(f"{single_count} single-event appends")
            with stores.fresh() as ledger:
                single = single_appends_seconds(ledger, lines[:single_count])
            tick("single-append baseline (raw one-row-per-commit insert)")
            raw_single = raw_single_seconds(stores.new(), rows[:single_count])
            repeated = lines[:WHOLE_PROCESS_EVENTS]
            tick(
                f"`ledger append` of {len(repeated)} events in a process of its own and in "
                f"this one, the least of {WHOLE_PROCESS_RUNS} runs each"
            )
            whole, in_process = whole_process_against_in_process(stores, repeated, Path(folder))
            tick(f"one-event appends to a {LONG_CASE}-event case and to {SHORT_CASE}-event ones")
            with stores.fresh() as ledger:
                length = case_length_latency(ledger)
            tick("`ledger --help` start-up against `python -c pass`")
            startup = startup_cost()
        finally:
            stores.drop()
    return BenchResult(
        events=len(lines),
        persons=len(names),
        store=stores.kind,
        bulk_import=rate(len(lines), ours, raw),
        single_append=rate(single_count, single, raw_single),
        rebuild=rate(len(lines), rebuilt, decoded),
        status_query=latency,
        http_status=http,
        pages=pages,
        peak_rss_mb=rss,
        mapper=rate(len(lines), ours, transcoded),
        rebuild_workers=workers,
        checkpoint=signing,
        view_checks=checks,
        whole_process_append=rate(len(repeated), whole, in_process),
        whole_process_events=len(repeated),
        whole_process_runs=WHOLE_PROCESS_RUNS,
        startup=startup,
        case_length=length,
        reevaluation=daily,
    )


def run_writes(target: str, before: Path | None, seconds: float) -> dict[str, Any]:
    """The HTTP write figures (``bench.writes``) on stores of the kind ``target`` names."""
    with tempfile.TemporaryDirectory(prefix="ledger-bench-writes-") as folder:
        stores = Stores(target, Path(folder))
        try:
            return writes.run_writes(stores, before, seconds)
        finally:
            stores.drop()
