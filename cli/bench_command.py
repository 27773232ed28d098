"""The ``ledger bench`` command and its table; the measuring lives in ``cli.bench``, loaded when
the command runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.table import Table

from cli.main import json_option
from cli.output import console, emit_json, err_console
from ledger.config import is_postgres_url

if TYPE_CHECKING:
    from cli.bench import Rate

PHASES = 15
TARGETS = {
    "bulk_import": "≥ 0.5 x raw insert",
    "single_append": "≥ 0.8 x raw insert",
    "rebuild": "≥ 150k ev/s and ≥ 0.3 x decode",
    "mapper": "(faster than the default transcoder)",
    "whole_process_append": "≥ 0.8 x in-process bulk import",
}


@click.command()
@click.option("--events", default=100_000, show_default=True, help="Events in the workload.")
@click.option("--persons", type=int, default=None, help="Persons (default: events / 50).")
@click.option(
    "--store",
    default="sqlite",
    show_default=True,
    metavar="sqlite|URL",
    help="sqlite (temporary files) or a postgresql:// URL (fresh schemas, dropped after).",
)
@json_option
def bench(events: int, persons: int | None, store: str, as_json: bool) -> None:
    """The performance benchmark: every figure next to a baseline measured in the same run, on
    a deterministic synthetic workload of valid case histories (about 50 events a person)."""
    if events < 100:
        raise click.BadParameter("at least 100 events", param_hint="--events")
    if store != "sqlite" and not is_postgres_url(store):
        raise click.BadParameter("sqlite or a postgresql:// URL", param_hint="--store")
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cli.bench import PAGE_CLIENTS, run

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json or not err_console.is_terminal,
    ) as bar:
        task = bar.add_task("benchmark", total=PHASES)

        def tick(label: str) -> None:
            bar.update(task, description=label, advance=1)

        result = run(events, persons, store, tick)
    if as_json:
        emit_json(result)
        return
    table = Table(
        title=f"ledger bench — {result.events} events, {result.persons} persons, {result.store}",
        title_justify="left",
    )
    for column in ("figure", "ledger", "baseline (same run)", "ratio", "target"):
        table.add_column(column)
    for name in ("bulk_import", "single_append", "rebuild", "mapper", "whole_process_append"):
        figure: Rate = getattr(result, name)
        table.add_row(
            f"rebuild ({result.rebuild_workers} processes)" if name == "rebuild" else name,
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
    console.print(table)


commands = [bench]
