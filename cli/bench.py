"""``ledger bench``: every speed figure next to a baseline measured in the same run.

Each figure runs on a fresh store of the kind asked for (a temporary SQLite file, or a fresh
schema on the given PostgreSQL server) with the same deterministic workload, so figures are
comparable across runs on one machine and the ratios are comparable across machines. The command
itself (``cli.bench_command``) loads this module when it runs.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    StoredEvent,
    Transcoding,
    UUIDAsHex,
)

from api.load import measure, serving, web_session
from ledger.application import Ledger
from ledger.config import is_postgres_url
from ledger.events import convert_event, encode_event
from ledger.records import TOPIC_PREFIX, CaseRecord
from ledger.stores.mapper import LedgerMapper
from ledger.wire import Line, ndjson_lines
from ledger.workload import long_case, workload

BATCH_LINES = 20000
Tick = Callable[[str], None]


class Rate(msgspec.Struct):
    events_per_s: float
    baseline_events_per_s: float
    ratio: float


def rate(events: int, seconds: float, baseline_seconds: float) -> Rate:
    ours, base = events / seconds, events / baseline_seconds
    return Rate(round(ours), round(base), round(ours / base, 3))


# --- the default-transcoder path, for comparison with the typed msgspec mapper ------------------


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class BytesAsHex(Transcoding):
    type = bytes
    name = "bytes_hex"

    def encode(self, obj: bytes) -> str:
        return obj.hex()

    def decode(self, data: str) -> bytes:
        return bytes.fromhex(data)


def json_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO(), BytesAsHex()):
        transcoder.register(transcoding)
    return transcoder


class JSONTranscoderMapper(LedgerMapper):
    """Maps case records the way an eventsourcing application does by default: the event's
    attributes as Python objects, through the stdlib-json ``JSONTranscoder``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transcoder = json_transcoder()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if not isinstance(domain_event, CaseRecord):
            return super().to_stored_event(domain_event)
        state = {
            "schema": domain_event.schema,
            "recorded_at": domain_event.recorded_at,
            "prev_hash": domain_event.prev_hash,
            "hash": domain_event.hash,
            "sealed": domain_event.sealed,
            "event": msgspec.to_builtins(
                domain_event.decode(), builtin_types=(uuid.UUID, date, datetime, Decimal)
            ),
        }
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=TOPIC_PREFIX + domain_event.type,
            state=self.transcoder.encode(state),
        )

    def record(
        self, originator_id: uuid.UUID, version: int, topic: str, state: bytes
    ) -> CaseRecord:
        data = self.transcoder.decode(state)
        event = convert_event(msgspec.to_builtins(data["event"]))
        return CaseRecord(
            originator_id=originator_id,
            originator_version=version,
            type=topic.removeprefix(TOPIC_PREFIX),
            schema=data["schema"],
            recorded_at=data["recorded_at"],
            prev_hash=data["prev_hash"],
            hash=data["hash"],
            sealed=data["sealed"],
            event_json=encode_event(event),
        )


# --- fresh stores -------------------------------------------------------------------------------


@dataclass
class Stores:
    """Hands out fresh, empty stores of one kind and removes them afterwards."""

    target: str
    folder: Path
    counter: int = 0
    schemas: tuple[str, ...] = ()

    @contextlib.contextmanager
    def fresh(self, mapper: str | None = None) -> Iterator[Ledger]:
        self.counter += 1
        env = {"MAPPER_TOPIC": mapper} if mapper else {}
        if is_postgres_url(self.target):
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(self.target, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            self.schemas += (schema,)
            env["POSTGRES_SCHEMA"] = schema
            db = self.target
        else:
            db = str(self.folder / f"bench-{self.counter}.db")
        ledger = Ledger(db, env)
        try:
            yield ledger
        finally:
            ledger.close()

    def drop(self) -> None:
        if self.schemas and is_postgres_url(self.target):
            with psycopg.connect(self.target, autocommit=True) as conn:
                for schema in self.schemas:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def batches(lines: list[Line], size: int = BATCH_LINES) -> Iterator[list[Line]]:
    for start in range(0, len(lines), size):
        yield lines[start : start + size]


def import_all(ledger: Ledger, lines: list[Line]) -> float:
    started = time.perf_counter()
    for batch in batches(lines):
        ledger.append_lines(batch)
    return time.perf_counter() - started


def stored_rows(ledger: Ledger) -> list[tuple[Any, int, str, bytes]]:
    return [
        (n.originator_id, n.originator_version, n.topic, n.state)
        for n in ledger.store.iter_notifications()
    ]


def raw_bulk_seconds(stores: Stores, rows: list[tuple[Any, int, str, bytes]]) -> float:
    """The same rows into an empty events table: one executemany (SQLite) or COPY (PostgreSQL)
    in one transaction, and nothing else."""
    if is_postgres_url(stores.target):
        with stores.fresh() as ledger, psycopg.connect(stores.target) as conn:
            schema = ledger.env.get("POSTGRES_SCHEMA")
            started = time.perf_counter()
            with (
                conn.cursor() as cursor,
                cursor.copy(
                    f'COPY "{schema}".ledger_events '
                    "(originator_id, originator_version, topic, state) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            return time.perf_counter() - started
    path = stores.folder / f"raw-{stores.counter}.db"
    with stores.fresh() as ledger:
        path = Path(ledger.env.get("SQLITE_DBNAME") or path)
    lite = sqlite3.connect(path, isolation_level=None)
    try:
        started = time.perf_counter()
        lite.execute("BEGIN IMMEDIATE")
        lite.executemany(
            "INSERT INTO stored_events VALUES (?, ?, ?, ?)",
            [(oid.hex, version, topic, state) for oid, version, topic, state in rows],
        )
        lite.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        lite.close()


def raw_single_seconds(stores: Stores, rows: list[tuple[Any, int, str, bytes]]) -> float:
    """The same rows, one durable transaction each, and nothing else."""
    with stores.fresh() as ledger:
        if is_postgres_url(stores.target):
            schema = ledger.env.get("POSTGRES_SCHEMA")
            with psycopg.connect(stores.target, autocommit=True) as conn:
                started = time.perf_counter()
                for row in rows:
                    conn.execute(
                        f'INSERT INTO "{schema}".ledger_events '
                        "(originator_id, originator_version, topic, state) VALUES (%s,%s,%s,%s)",
                        row,
                    )
                return time.perf_counter() - started
        path = ledger.env.get("SQLITE_DBNAME")
    lite = sqlite3.connect(str(path), isolation_level=None)
    try:
        started = time.perf_counter()
        for oid, version, topic, state in rows:
            lite.execute("BEGIN IMMEDIATE")
            lite.execute(
                "INSERT INTO stored_events VALUES (?, ?, ?, ?)", (oid.hex, version, topic, state)
            )
            lite.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        lite.close()


class Latency(msgspec.Struct):
    p50_ms: float
    p99_ms: float


class Http(msgspec.Struct):
    requests_per_s: float
    baseline_requests_per_s: float
    ratio: float
    p99_ms: float
    baseline_p99_ms: float


class Checkpointing(msgspec.Struct):
    sign_s: float  # the first checkpoint: every event checked, recorded and the head signed
    verify_s: float  # `ledger verify` against it, its signature checked
    baseline_verify_s: float  # `ledger verify` of the same store before any checkpoint
    ratio: float  # verify_s / baseline_verify_s


class ViewChecks(msgspec.Struct):
    """Reads of materialised status rows, with their digest checks and without, same rows."""

    checked: Latency
    unchecked: Latency


class Pages(msgspec.Struct):
    """Page reads per second at ``PAGE_CLIENTS`` clients, against the JSON status read at the
    same concurrency on the same server (the ratios)."""

    json_status_per_s: float
    case_page_per_s: float
    case_page_ratio: float
    status_pdf_per_s: float
    status_pdf_ratio: float
    case_page_p99_ms: float
    status_pdf_p99_ms: float


class Cost(msgspec.Struct):
    """A cost in seconds next to its baseline's; ratio = cost / baseline."""

    seconds: float
    baseline_seconds: float
    ratio: float


class CaseLength(msgspec.Struct):
    """Median one-event append to a long case against one to a short case; ratio = long /
    short."""

    long_case_events: int
    short_case_events: int
    p50_ms: float
    baseline_p50_ms: float
    ratio: float


class BenchResult(msgspec.Struct):
    events: int
    persons: int
    store: str
    bulk_import: Rate
    single_append: Rate
    rebuild: Rate
    status_query: Latency
    http_status: Http
    pages: Pages
    peak_rss_mb: float
    mapper: Rate
    rebuild_workers: int  # processes the rebuild used, as ``ledger rebuild`` would choose
    checkpoint: Checkpointing
    view_checks: ViewChecks
    # `ledger append` of the whole workload as its own process (start-up and the views'
    # catch-up included) against the in-process bulk import above.
    whole_process_append: Rate
    startup: Cost  # CPU of `ledger --help` against `python -c pass`
    case_length: CaseLength


HTTP_SECONDS = 5.0
HTTP_CLIENTS = 16
PAGE_CLIENTS = 4  # a PDF takes tens of milliseconds of one core: a few clients fill both
PAGE_SECONDS = 3.0
PAGE_PERSONS = 60


def _token(ledger: Ledger, env: dict[str, str], role: str, *where: str) -> str:
    """A new token's secret, made with ``ledger token create`` as an operator would."""
    made = subprocess.run(  # noqa: S603 - our own interpreter, our own command
        [
            *(sys.executable, "-c", CLI, "--db", ledger.db, "token", "create"),
            *("--role", role, *where, "--json"),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    secret: str = msgspec.json.decode(made.stdout)["secret"]
    return secret


def http_status(ledger: Ledger, persons: list[str]) -> tuple[Http, Pages]:
    """``GET /v1/persons/{p}/status`` against ``GET /healthz`` on one ``ledger serve --web``;
    then, on the same server, the pages for people against the JSON status read."""
    env = child_env(ledger)
    secret = _token(ledger, env, "immigration_service")
    paths = [f"/v1/persons/{person}/status" for person in persons[:500]]
    with _environment(env), serving(ledger.db, web=True) as base:
        healthz = measure(base, ["/healthz"], None, HTTP_CLIENTS, HTTP_SECONDS)
        status = measure(base, paths, secret, HTTP_CLIENTS, HTTP_SECONDS)
        pages = page_reads(ledger, env, base, secret, persons)
    http = Http(
        requests_per_s=status["requests_per_s"],
        baseline_requests_per_s=healthz["requests_per_s"],
        ratio=round(status["requests_per_s"] / healthz["requests_per_s"], 3),
        p99_ms=status["p99_ms"],
        baseline_p99_ms=healthz["p99_ms"],
    )
    return http, pages


def page_reads(
    ledger: Ledger, env: dict[str, str], base: str, secret: str, persons: list[str]
) -> Pages:
    """A caseworker's case page and Udlændingestyrelsen's status PDF per second, against the
    JSON status read at the same concurrency, on the same server."""
    from projections.materialised import Views
    from projections.views import Reader, ReadService, When

    reads = ReadService(ledger, Views(ledger))
    sample = persons[:PAGE_PERSONS]
    responsible = {
        person: msgspec.json.decode(
            reads.projection("status", person, Reader("operator"), When()).body
        )["responsible_municipality"]
        for person in sample
    }
    municipality = max(set(responsible.values()), key=list(responsible.values()).count)
    own = [person for person in sample if responsible[person] == municipality]
    caseworker = web_session(
        base, _token(ledger, env, "municipality", "--municipality", municipality)
    )
    immigration = web_session(base, secret)
    json_status = measure(
        base, [f"/v1/persons/{p}/status" for p in own], secret, PAGE_CLIENTS, PAGE_SECONDS
    )
    case_page = measure(
        base, [f"/web/persons/{p}" for p in own], None, PAGE_CLIENTS, PAGE_SECONDS, caseworker
    )
    pdf = measure(
        base, [f"/web/status/{p}/pdf" for p in own], None, PAGE_CLIENTS, PAGE_SECONDS, immigration
    )
    return Pages(
        json_status_per_s=json_status["requests_per_s"],
        case_page_per_s=case_page["requests_per_s"],
        case_page_ratio=round(case_page["requests_per_s"] / json_status["requests_per_s"], 3),
        status_pdf_per_s=pdf["requests_per_s"],
        status_pdf_ratio=round(pdf["requests_per_s"] / json_status["requests_per_s"], 3),
        case_page_p99_ms=case_page["p99_ms"],
        status_pdf_p99_ms=pdf["p99_ms"],
    )


def child_env(ledger: Ledger) -> dict[str, str]:
    """This process's environment for a child process on the same store (its PostgreSQL
    schema, when it has one)."""
    schema = ledger.env.get("POSTGRES_SCHEMA")
    return {**os.environ, **({"POSTGRES_SCHEMA": schema} if schema else {})}


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    """The server child inherits this process's environment (a PostgreSQL schema)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def default_rebuild_workers(head: int) -> int:
    from projections.materialised import rebuild_workers

    return rebuild_workers(head)


def rebuild_seconds(ledger: Ledger, workers: int) -> tuple[float, float]:
    """(rebuild of every view, baseline: reading and decoding the same rows, nothing else)."""
    from projections.materialised import Views

    head = ledger.head_position()
    started = time.perf_counter()
    for _ in ledger.iter_cases(until=head, open_personal=False):
        pass
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    Views(ledger).rebuild(workers=workers)
    return time.perf_counter() - started, baseline


def status_latency(ledger: Ledger, persons: list[str], samples: int = 1000) -> Latency:
    from projections.materialised import Views
    from projections.views import Reader, ReadService, When

    reads = ReadService(ledger, Views(ledger))
    chosen = [persons[i * 7919 % len(persons)] for i in range(samples)]
    timings = []
    for person in chosen:
        started = time.perf_counter()
        reads.projection("status", person, Reader("operator"), When())
        timings.append((time.perf_counter() - started) * 1000)
    return Latency(round(percentile(timings, 0.5), 3), round(percentile(timings, 0.99), 3))


def view_checks(ledger: Ledger, persons: list[str], samples: int = 1000) -> ViewChecks:
    """A stored status row read and served, with its digest checked (as every read does) and
    without, turn about, so both see the same store in the same state."""
    from projections.materialised import Views

    views = Views(ledger)
    checked: list[float] = []
    unchecked: list[float] = []
    for i in range(samples):
        person = persons[i * 7919 % len(persons)]
        started = time.perf_counter()
        row = views.recorder.select_view(person, "status")
        if row is not None:
            views.served(row)
        checked.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        row = views.recorder.select_view(person, "status")
        if row is not None:
            views.open_body(row.body)
        unchecked.append((time.perf_counter() - started) * 1000)
    return ViewChecks(
        checked=Latency(round(percentile(checked, 0.5), 4), round(percentile(checked, 0.99), 4)),
        unchecked=Latency(
            round(percentile(unchecked, 0.5), 4), round(percentile(unchecked, 0.99), 4)
        ),
    )


def checkpointing(ledger: Ledger) -> Checkpointing:
    """Verify the store, sign its first checkpoint, verify it again against the checkpoint."""
    started = time.perf_counter()
    assert ledger.verify().ok  # noqa: S101 - a bench store always verifies
    baseline = time.perf_counter() - started
    key = Ed25519PrivateKey.generate()
    started = time.perf_counter()
    ledger.checkpoint(key)
    signed = time.perf_counter() - started
    started = time.perf_counter()
    assert ledger.verify(public_key=key.public_key()).ok  # noqa: S101
    checked = time.perf_counter() - started
    return Checkpointing(
        sign_s=round(signed, 3),
        verify_s=round(checked, 3),
        baseline_verify_s=round(baseline, 3),
        ratio=round(checked / baseline, 3),
    )


CLI = "import sys; from cli.main import main; sys.argv[0] = 'ledger'; main()"
REBUILD_CHILD = """
import resource, sys
from ledger.application import Ledger
from projections.materialised import Views, rebuild_workers
with Ledger(sys.argv[1]) as ledger:
    workers = rebuild_workers(ledger.head_position())
    Views(ledger).rebuild(workers=workers)
# VmHWM belongs to this process image alone (exec resets it). The rebuild's worker processes
# (spawned, so none shares this one's pages) have ended; their largest peak, counted once per
# worker, bounds what they held at once.
status = open("/proc/self/status").read()
own = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if workers > 1 else 0
print(own + workers * worker if workers > 1 else own)
"""


def peak_rss_of_rebuild(ledger: Ledger) -> float:
    """Peak resident memory of a full rebuild, run as a process of its own (with its worker
    processes, added up), in MB."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", REBUILD_CHILD, ledger.db],
        check=True,
        env=child_env(ledger),
        capture_output=True,
        text=True,
    )
    return round(int(done.stdout.split()[-1]) / 1024, 1)


def whole_process_append_seconds(ledger: Ledger, lines: list[Line], folder: Path) -> float:
    """``ledger append`` of every line as one batch, in a process of its own, as a user runs it:
    start-up, reading the file and the views' catch-up included."""
    batch = folder / "whole-process.ndjson"
    batch.write_bytes(b"\n".join(line.raw for line in lines))
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter, our own command
        [sys.executable, "-c", CLI, "--db", ledger.db, "append", "--json", str(batch)],
        check=True,
        env=child_env(ledger),
        capture_output=True,
    )
    return time.perf_counter() - started


STARTUP_RUNS = 5


def least_cpu_seconds(args: list[str]) -> float:
    """The least CPU time (user + system) a child interpreter with ``args`` takes in a few
    runs (the least: what the machine's other work added is noise, not start-up)."""
    least = math.inf
    for _ in range(STARTUP_RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, *args], check=True, capture_output=True)  # noqa: S603
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        least = min(least, spent)
    return least


def startup_cost() -> Cost:
    """CPU of ``ledger --help`` against an interpreter that does nothing."""
    ours = least_cpu_seconds(["-c", CLI, "--help"])
    bare = least_cpu_seconds(["-c", "pass"])
    return Cost(round(ours, 3), round(bare, 3), round(ours / bare, 2))


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


def run(events: int, persons: int | None, store: str, tick: Tick) -> BenchResult:
    tick("generating the workload")
    wire = [encode_event(e) for e in workload(events, persons)]
    lines = ndjson_lines(b"\n".join(wire))
    names = sorted({e.split(b'"person":"', 1)[1].split(b'"', 1)[0].decode() for e in wire})
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        stores = Stores(store, Path(folder))
        try:
            tick("bulk import through the ledger")
            with stores.fresh() as ledger:
                ours = import_all(ledger, lines)
                rows = stored_rows(ledger)
                tick("rebuilding every view")
                workers = default_rebuild_workers(ledger.head_position())
                rebuilt, decoded = rebuild_seconds(ledger, workers)
                tick("status queries")
                latency = status_latency(ledger, names)
                tick("view rows read with and without their digest checks")
                checks = view_checks(ledger, names)
                tick("verify, a first checkpoint, verify against it")
                signing = checkpointing(ledger)
                tick("HTTP status reads against /healthz; case pages and PDFs")
                http, pages = http_status(ledger, names)
                tick("peak memory of a rebuild in its own process")
                rss = peak_rss_of_rebuild(ledger)
            tick("bulk import baseline (raw insert of the same rows)")
            raw = raw_bulk_seconds(stores, rows)
            tick("bulk import through eventsourcing's default JSON transcoder")
            with stores.fresh(mapper=f"{__name__}:JSONTranscoderMapper") as ledger:
                transcoded = import_all(ledger, lines)
            single_count = min(len(lines), 2000)
            tick(f"{single_count} single-event appends")
            with stores.fresh() as ledger:
                started = time.perf_counter()
                for line in lines[:single_count]:
                    ledger.append_lines([line])
                single = time.perf_counter() - started
            tick("single-append baseline (raw one-row-per-commit insert)")
            raw_single = raw_single_seconds(stores, rows[:single_count])
            tick("`ledger append` of the whole workload in a process of its own")
            with stores.fresh() as ledger:
                whole = whole_process_append_seconds(ledger, lines, Path(folder))
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
        store="postgresql" if is_postgres_url(store) else "sqlite",
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
        whole_process_append=rate(len(lines), whole, ours),
        startup=startup,
        case_length=length,
    )
