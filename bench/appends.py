"""The in-process and whole-process append figures of ``ledger bench``: the bulk import, single
appends, ``ledger append`` as a process of its own, and what a case's length costs an append."""

from __future__ import annotations

import math
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from bench.figures import CaseLength, percentile
from bench.load import ledger_command
from bench.stores import Store, Stores
from bench.workload import long_case
from ledger.application import Ledger
from ledger.events import encode_event
from ledger.wire import Line, ndjson_lines

BATCH_LINES = 20000


def batches(lines: list[Line], size: int = BATCH_LINES) -> Iterator[list[Line]]:
    for start in range(0, len(lines), size):
        yield lines[start : start + size]


def import_all(ledger: Ledger, lines: list[Line]) -> float:
    started = time.perf_counter()
    for batch in batches(lines):
        ledger.append_lines(batch)
    return time.perf_counter() - started


def single_appends_seconds(ledger: Ledger, lines: list[Line]) -> float:
    """Each line appended on its own, one durable transaction each."""
    started = time.perf_counter()
    for line in lines:
        ledger.append_lines([line])
    return time.perf_counter() - started


def whole_process_append_seconds(store: Store, lines: list[Line], folder: Path) -> float:
    """``ledger append`` of every line as one batch, in a process of its own, as a user runs it:
    start-up (its modules' bytecode cached, as installed), reading the file and the views'
    catch-up included."""
    batch = folder / "whole-process.ndjson"
    batch.write_bytes(b"\n".join(line.raw for line in lines))
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter, our own command
        ledger_command(store.db, "append", "--json", str(batch)),
        check=True,
        env=store.installed_env(),
        capture_output=True,
    )
    return time.perf_counter() - started


# `ledger append` as a process of its own is compared with the import in this process on the
# first WHOLE_PROCESS_EVENTS events of the workload, each the least of WHOLE_PROCESS_RUNS runs
# (the least: what the machine's other work added to a run is noise, not the ledger's).
WHOLE_PROCESS_EVENTS = 50_000
WHOLE_PROCESS_RUNS = 3


def whole_process_against_in_process(
    stores: Stores, lines: list[Line], folder: Path
) -> tuple[float, float]:
    """Seconds of ``ledger append`` of ``lines`` in a process of its own, and of their import
    in this process: each the least of ``WHOLE_PROCESS_RUNS`` runs on fresh stores, the two
    taken in turn so that both meet the same moments of the machine's load."""
    whole = in_process = math.inf
    for _ in range(WHOLE_PROCESS_RUNS):
        with stores.fresh() as ledger:
            in_process = min(in_process, import_all(ledger, lines))
        store = stores.new()
        store.make_tables()
        whole = min(whole, whole_process_append_seconds(store, lines, folder))
    return whole, in_process


LONG_CASE = 10_000  # the default per-case limit: the longest case a store holds
SHORT_CASE = 50
LENGTH_SAMPLES = 100


def case_length_latency(ledger: Ledger) -> CaseLength:
    """One-event appends in this process: the last ``LENGTH_SAMPLES`` events of a
    ``LONG_CASE``-event case against the last event of as many ``SHORT_CASE``-event cases, in
    turn, each case stored up to there first."""
    long = [encode_event(e) for e in long_case(3, 0, LONG_CASE)]
    shorts = [
        [encode_event(e) for e in long_case(3, number, SHORT_CASE)]
        for number in range(1, LENGTH_SAMPLES + 1)
    ]
    ledger.append_lines(ndjson_lines(b"\n".join(long[:-LENGTH_SAMPLES])))
    ledger.append_lines(ndjson_lines(b"\n".join(raw for short in shorts for raw in short[:-1])))
    long_ms: list[float] = []
    short_ms: list[float] = []
    for last_of_long, short in zip(long[-LENGTH_SAMPLES:], shorts, strict=True):
        for raw, timings in ((last_of_long, long_ms), (short[-1], short_ms)):
            started = time.perf_counter()
            ledger.append_lines([Line(1, raw)])
            timings.append((time.perf_counter() - started) * 1000)
    ours, base = percentile(long_ms, 0.5), percentile(short_ms, 0.5)
    return CaseLength(LONG_CASE, SHORT_CASE, round(ours, 3), round(base, 3), round(ours / base, 2))
