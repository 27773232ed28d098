"""What every ``ledger`` command shares: the context click hands it (the store it opens, its
language, the JSON switch), the ``--json`` option, progress bars and the exit codes.

Exit codes: 0 done, 1 input refused or domain error, 2 usage error, 3 integrity failure found by
``verify``, 4 unknown person. Command modules import this module and ``cli.output``;
``cli.main`` imports the command modules, so nothing imports back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.output import err_console
from ledger.config import DEFAULT_DB, Settings
from ledger.i18n import Words

if TYPE_CHECKING:
    from ledger.application import Ledger

EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_INTEGRITY = 3
EXIT_UNKNOWN_PERSON = 4
PROGRESS_THRESHOLD = 5000

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """The object click hands every command: the store it opens (once, closed when the
    command ends), the language of its words and whether it prints JSON."""

    def __init__(self, db: str = DEFAULT_DB) -> None:
        self.db = db
        self.json = False
        self.wide = False
        self.words = Words()
        self._settings: Settings | None = None
        self._ledger: Ledger | None = None

    @property
    def settings(self) -> Settings:
        """The configuration, read from the environment once, when a command first needs it
        (so a bad value refuses the command that would use it, never ``--help``)."""
        if self._settings is None:
            self._settings = Settings.from_env().with_db(self.db)
        return self._settings

    def ledger(self) -> Ledger:
        if self._ledger is None:
            from ledger.application import Ledger

            self._ledger = Ledger(self.db, settings=self.settings)
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


def json_option(func: F) -> F:
    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.ensure_object(Context).json = value
        return value

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=remember,
        expose_value=True,
        is_eager=True,
        help="Print machine-readable JSON on stdout.",
    )(func)


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long work in a terminal; nothing otherwise."""
    if total < PROGRESS_THRESHOLD or not err_console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
