"""The ``ledger bench`` command; the measuring and its tables live in the ``bench`` package,
outside the product, loaded when the command runs."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import Context, SpokenCommand, json_option
from cli.output import console, emit_json, err_console
from ledger.config import is_postgres_url


@click.command(cls=SpokenCommand)
@click.option("--events", default=100_000, show_default=True, help="Events in the workload.")
@click.option("--persons", type=int, default=None, help="Persons (default: events / 50).")
@click.option(
    "--store",
    default="sqlite",
    show_default=True,
    metavar="sqlite|URL",
    help="sqlite (temporary files) or a postgresql:// URL (fresh schemas, dropped after).",
)
@click.option(
    "--writes",
    is_flag=True,
    help="Measure HTTP writes instead: 64 clients appending one event each, three rounds "
    "(against raw one-row commits); one-event appends to a 9,000-event case against a "
    "50-event case; small-case appends beside four clients on the large case.",
)
@click.option(
    "--before",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    metavar="TREE",
    help="With --writes: measure the server of this source tree (another revision's "
    "checkout) first, in the same run.",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="With --writes: the length of one round.",
)
@json_option
@click.pass_obj
def bench(
    obj: Context,
    events: int,
    persons: int | None,
    store: str,
    writes: bool,
    before: Path | None,
    seconds: float,
    as_json: bool,
) -> None:
    """The performance benchmark: every figure next to a baseline measured in the same run, on
    a deterministic synthetic workload of valid case histories (about 50 events a person)."""
    if events < 100:
        raise click.BadParameter("at least 100 events", param_hint="--events")
    if store != "sqlite" and not is_postgres_url(store):
        raise click.BadParameter("sqlite or a postgresql:// URL", param_hint="--store")
    if before is not None and not writes:
        raise click.BadParameter("only with --writes", param_hint="--before")
    if before is not None and not (before / "cli" / "main.py").is_file():
        # Without its own ``cli``, the tree's server would be this revision's, measured twice.
        raise click.BadParameter(
            obj.words(
                "{tree} is no source tree of the ledger (it has no cli/main.py)", tree=before
            ),
            param_hint="--before",
        )
    from bench.load import ServerFailed

    try:
        if writes:
            bench_writes(store, before, seconds, as_json=as_json)
        else:
            bench_reads_and_appends(events, persons, store, as_json=as_json)
    except ServerFailed as failed:
        # A server the bench started did not come up or answered what it must not.
        raise click.ClickException(
            obj.words("the measurement stopped: {why}", why=str(failed))
        ) from None


def bench_reads_and_appends(events: int, persons: int | None, store: str, *, as_json: bool) -> None:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from bench.runner import PHASES, run
    from bench.table import bench_table

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console.made,
        transient=True,
        disable=as_json or not err_console.is_terminal,
    ) as bar:
        task = bar.add_task("benchmark", total=PHASES)

        def tick(label: str) -> None:
            bar.update(task, description=label, advance=1)

        result = run(events, persons, store, tick)
    if as_json:
        emit_json(result)
    else:
        console.print(bench_table(result))


def bench_writes(store: str, before: Path | None, seconds: float, *, as_json: bool) -> None:
    from bench.runner import run_writes
    from bench.table import writes_table

    with err_console.status("measuring HTTP writes", spinner="dots"):
        results = run_writes(store, before, seconds)
    if as_json:
        emit_json(results)
        return
    for revision in ("before", "after"):
        if revision in results:
            console.print(writes_table(revision, results[revision], results["store"]))


commands = [bench]
