"""The read figures of ``ledger bench``: the views' rebuild, status reads in-process and over
HTTP, the pages for people, view rows with and without their digest checks, status reads before
and after the daily re-evaluation, checkpoints, and the peak memory of a rebuild."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import Tracking

from bench.figures import (
    Checkpointing,
    Http,
    Latency,
    Pages,
    Reevaluation,
    ViewChecks,
    percentile,
)
from bench.load import measure, serving, web_session
from bench.stores import Store
from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.stores.views import VIEWS_NAME
from projections.rebuild import rebuild, rewrite
from projections.views import Reader, ReadService, Views, When

HTTP_SECONDS = 5.0
HTTP_CLIENTS = 16
PAGE_CLIENTS = 4  # a PDF takes tens of milliseconds of one core: a few clients fill both
PAGE_SECONDS = 3.0
PAGE_PERSONS = 60


def http_status(store: Store, ledger: Ledger, persons: list[str]) -> tuple[Http, Pages]:
    """``GET /v1/persons/{p}/status`` against ``GET /healthz`` on one ``ledger serve --web``;
    then, on the same server, the pages for people against the JSON status read."""
    secret = store.token("immigration_service")
    paths = [f"/v1/persons/{person}/status" for person in persons[:500]]
    with serving(store.db, web=True, env=store.child_env()) as base:
        healthz = measure(base, ["/healthz"], None, HTTP_CLIENTS, HTTP_SECONDS)
        status = measure(base, paths, secret, HTTP_CLIENTS, HTTP_SECONDS)
        pages = page_reads(store, ledger, base, secret, persons)
    http = Http(
        requests_per_s=status["requests_per_s"],
        baseline_requests_per_s=healthz["requests_per_s"],
        ratio=round(status["requests_per_s"] / healthz["requests_per_s"], 3),
        p99_ms=status["p99_ms"],
        baseline_p99_ms=healthz["p99_ms"],
    )
    return http, pages


def page_reads(store: Store, ledger: Ledger, base: str, secret: str, persons: list[str]) -> Pages:
    """A caseworker's case page and Udlændingestyrelsen's status PDF per second, against the
    JSON status read at the same concurrency, on the same server."""

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
    caseworker = web_session(base, store.token("municipality", "--municipality", municipality))
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


def rebuild_seconds(ledger: Ledger, workers: int) -> tuple[float, float]:
    """(rebuild of every view, baseline: reading and decoding the same rows, nothing else)."""

    head = ledger.head_position()
    started = time.perf_counter()
    for _ in ledger.iter_cases(until=head, open_personal=False):
        pass
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    rebuild(Views(ledger), workers=workers)
    return time.perf_counter() - started, baseline


def status_latency(ledger: Ledger, persons: list[str], samples: int = 1000) -> Latency:

    reads = ReadService(ledger, Views(ledger))
    chosen = [persons[i * 7919 % len(persons)] for i in range(samples)]
    timings = []
    for person in chosen:
        started = time.perf_counter()
        reads.projection("status", person, Reader("operator"), When())
        timings.append((time.perf_counter() - started) * 1000)
    return Latency(round(percentile(timings, 0.5), 3), round(percentile(timings, 0.99), 3))


def reevaluation(ledger: Ledger, persons: list[str], samples: int = 1000) -> Reevaluation:
    """Status reads on rows written for yesterday, the day's re-evaluation, the same reads
    again (every row is today's afterwards, as before)."""
    views = Views(ledger)
    head = ledger.head_position()
    yesterday = today_in_denmark() - timedelta(days=1)
    # The rows as yesterday's catch-ups left them: a row replaces only an older one, so the
    # views are emptied first.
    views.recorder.reset_views(VIEWS_NAME)
    for _ in rewrite(views, head, yesterday, shard=None):
        pass
    views.recorder.write_views([], Tracking(VIEWS_NAME, head))
    stale = status_reads_per_s(ledger, persons, samples)
    started = time.perf_counter()
    done = views.reevaluate(force=True)
    spent = time.perf_counter() - started
    fresh = status_reads_per_s(ledger, persons, samples)
    # Closed cases are not re-evaluated: their rows are still yesterday's. Every row is today's
    # again for the figures after this one, as the rebuild before it left them.
    for _ in rewrite(views, ledger.head_position(), today_in_denmark(), shard=None):
        pass
    return Reevaluation(
        reads_per_s=round(fresh),
        baseline_reads_per_s=round(stale),
        ratio=round(fresh / stale, 3),
        seconds=round(spent, 3),
        rewritten=done.rewritten,
    )


def status_reads_per_s(ledger: Ledger, persons: list[str], samples: int) -> float:
    """Udlændingestyrelsen's status reads of today, one after another, per second."""
    reads = ReadService(ledger, Views(ledger))
    reader = Reader("immigration_service")
    chosen = [persons[i * 7919 % len(persons)] for i in range(samples)]
    started = time.perf_counter()
    for person in chosen:
        reads.projection("status", person, reader, When())
    return samples / (time.perf_counter() - started)


def view_checks(ledger: Ledger, persons: list[str], samples: int = 1000) -> ViewChecks:
    """A stored status row read and served, with its digest checked (as every read does) and
    without, turn about, so both see the same store in the same state."""

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


REBUILD_CHILD = """
import resource, sys
from ledger.application import Ledger
from ledger.clock import today_in_denmark
from ledger.stores.views import VIEWS_NAME
from projections.rebuild import rebuild, rebuild_workers
from projections.views import Views
with Ledger(sys.argv[1]) as ledger:
    workers = rebuild_workers(ledger.head_position())
    rebuild(Views(ledger), workers=workers)
# VmHWM belongs to this process image alone (exec resets it). The rebuild's worker processes
# (spawned, so none shares this one's pages) have ended; their largest peak, counted once per
# worker, bounds what they held at once.
status = open("/proc/self/status").read()
own = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if workers > 1 else 0
print(own + workers * worker if workers > 1 else own)
"""


def peak_rss_of_rebuild(store: Store) -> float:
    """Peak resident memory of a full rebuild, run as a process of its own (with its worker
    processes, added up), in MB."""
    done = subprocess.run(  # noqa: S603 - our own interpreter, our own code
        [sys.executable, "-c", REBUILD_CHILD, store.db],
        check=True,
        env=store.child_env(),
        capture_output=True,
        text=True,
    )
    return round(int(done.stdout.split()[-1]) / 1024, 1)
