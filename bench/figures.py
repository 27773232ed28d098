"""The figures ``ledger bench`` reports: each next to its baseline from the same run, with the
ratio between them, as the command prints them and as ``--json`` gives them."""

from __future__ import annotations

import msgspec


class Rate(msgspec.Struct):
    events_per_s: float
    baseline_events_per_s: float
    ratio: float


def rate(events: int, seconds: float, baseline_seconds: float) -> Rate:
    ours, base = events / seconds, events / baseline_seconds
    return Rate(round(ours), round(base), round(ours / base, 3))


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


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


class Reevaluation(msgspec.Struct):
    """Udlændingestyrelsen's status reads per second, in-process, on a store whose rows are
    from yesterday (the baseline: each read folds live) and after the day's re-evaluation
    rewrote them (served from the views again); ratio = after / before. ``seconds``: the
    re-evaluation itself, of ``rewritten`` open cases."""

    reads_per_s: float
    baseline_reads_per_s: float
    ratio: float
    seconds: float
    rewritten: int


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
    # `ledger append` of the first `whole_process_events` events of the workload as its own
    # process (start-up and the views' catch-up included) against their import in this
    # process: each the least of `whole_process_runs` runs on fresh stores, taken in turn.
    whole_process_append: Rate
    whole_process_events: int
    whole_process_runs: int
    startup: Cost  # CPU of `ledger --help` against `python -c pass`
    case_length: CaseLength
    reevaluation: Reevaluation
