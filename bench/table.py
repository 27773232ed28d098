"""The figures of ``ledger bench`` as tables for people (``--json`` prints them as they are)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bench.figures import BenchResult, Rate
from bench.reads import PAGE_CLIENTS

TARGETS = {
    "bulk_import": "≥ 0.5 x raw insert",
    "single_append": "≥ 0.8 x raw insert",
    "rebuild": "≥ 150k ev/s and ≥ 0.3 x decode",
    "mapper": "(faster than the default transcoder)",
    "whole_process_append": "≥ 0.8 x the same import in-process",
}
COLUMNS = ("figure", "ledger", "baseline (same run)", "ratio", "target")


def bench_table(result: BenchResult) -> Table:
    table = Table(
        title=f"ledger bench — {result.events} events, {result.persons} persons, {result.store}",
        title_justify="left",
    )
    for column in COLUMNS:
        table.add_column(column)
    labels = {
        "rebuild": f"rebuild ({result.rebuild_workers} processes)",
        "whole_process_append": f"whole_process_append ({result.whole_process_events:,} events, "
        f"least of {result.whole_process_runs} runs each)",
    }
    for name in ("bulk_import", "single_append", "rebuild", "mapper", "whole_process_append"):
        figure: Rate = getattr(result, name)
        table.add_row(
            labels.get(name, name),
            f"{figure.events_per_s:,.0f} ev/s",
            f"{figure.baseline_events_per_s:,.0f} ev/s",
            f"{figure.ratio:.2f}",
            TARGETS[name],
        )
    table.add_row(
        "status_query",
        f"p50 {result.status_query.p50_ms} ms",
        "",
        "",
        f"p99 {result.status_query.p99_ms} ms (≤ 5 ms)",
    )
    http = result.http_status
    table.add_row(
        "http_status (16 clients)",
        f"{http.requests_per_s:,.0f} req/s, p99 {http.p99_ms} ms",
        f"{http.baseline_requests_per_s:,.0f} req/s /healthz",
        f"{http.ratio:.2f}",
        "≥ 0.6 x /healthz",
    )
    daily = result.reevaluation
    table.add_row(
        "status reads after the day's re-evaluation",
        f"{daily.reads_per_s:,.0f} reads/s ({daily.rewritten} cases in {daily.seconds} s)",
        f"{daily.baseline_reads_per_s:,.0f} reads/s on yesterday's rows",
        f"{daily.ratio:.2f}",
        "",
    )
    pages = result.pages
    for name, per_s, ratio, p99 in (
        ("case page", pages.case_page_per_s, pages.case_page_ratio, pages.case_page_p99_ms),
        ("status PDF", pages.status_pdf_per_s, pages.status_pdf_ratio, pages.status_pdf_p99_ms),
    ):
        table.add_row(
            f"{name} ({PAGE_CLIENTS} clients)",
            f"{per_s:,.1f} req/s, p99 {p99} ms",
            f"{pages.json_status_per_s:,.0f} req/s JSON status",
            f"{ratio:.3f}",
            "",
        )
    table.add_row("peak RSS (rebuild)", f"{result.peak_rss_mb} MB", "", "", "≤ 400 MB at 1M")
    checks = result.view_checks
    table.add_row(
        "view row read, digest checked",
        f"p50 {checks.checked.p50_ms} ms, p99 {checks.checked.p99_ms} ms",
        f"p50 {checks.unchecked.p50_ms} ms, p99 {checks.unchecked.p99_ms} ms unchecked",
        f"{checks.checked.p50_ms / max(checks.unchecked.p50_ms, 1e-9):.2f}",
        "",
    )
    signing = result.checkpoint
    table.add_row(
        "checkpoint (first, every event)",
        f"signed in {signing.sign_s} s; verify {signing.verify_s} s",
        f"verify {signing.baseline_verify_s} s without",
        f"{signing.ratio:.2f}",
        "",
    )
    length = result.case_length
    table.add_row(
        f"one-event append, {length.long_case_events}-event case",
        f"p50 {length.p50_ms} ms",
        f"p50 {length.baseline_p50_ms} ms ({length.short_case_events}-event cases)",
        f"{length.ratio:.2f}",
        "≤ 2 x",
    )
    startup = result.startup
    table.add_row(
        "start-up (`ledger --help`, CPU)",
        f"{startup.seconds} s",
        f"{startup.baseline_seconds} s (`python -c pass`)",
        f"{startup.ratio:.2f}",
        "≤ 0.12 s",
    )
    return table


def writes_table(revision: str, figures: dict[str, Any], store: str) -> Table:
    """The HTTP write figures of one revision (``bench.writes.measure``)."""
    table = Table(title=f"ledger bench --writes — {revision}, {store}", title_justify="left")
    for column in COLUMNS:
        table.add_column(column)
    raw = figures["raw_one_row_commits_per_s"]
    for number, round_ in enumerate(figures["http_appends_64_clients"], 1):
        table.add_row(
            f"HTTP appends, 64 clients, round {number}",
            f"{round_['per_s']:,.0f} ev/s, p50 {round_['p50_ms']} ms, p99 {round_['p99_ms']} ms",
            f"{raw:,.0f} raw one-row commits/s",
            f"{round_['per_s'] / raw:.2f}",
            f"server {round_['server_rss_mb']} MB"
            + (f" + {kids} MB projector" if (kids := round_.get("children_rss_mb")) else "")
            + f"; CPU an event: server {round_['server_cpu_us_per_event']} µs, projector "
            f"{round_['projector_cpu_us_per_event']} µs, load {round_['load_cpu_us_per_event']} µs",
        )
    one = figures["one_event_append"]
    table.add_row(
        "one-event append, large case",
        f"p50 {one['large_case']['p50_ms']} ms",
        f"p50 {one['fifty_event_case']['p50_ms']} ms (50-event case)",
        f"{one['ratio_p50']:.2f}",
        "≤ 2 x",
    )
    small = figures["small_cases_16_clients"]
    table.add_row(
        "small-case appends beside 4 clients on the large case",
        f"{small['beside_4_on_large_case']['per_s']:,.0f} ev/s",
        f"{small['alone']['per_s']:,.0f} ev/s alone",
        f"{small['ratio']:.2f}",
        "≥ 0.7 x",
    )
    return table
