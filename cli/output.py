"""Printing for the command line: JSON for machines, rich tables and colours for people."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

import msgspec

from ledger.i18n import DASH, Words

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from ledger.errors import ErrorDetail

_json = msgspec.json.Encoder(decimal_format="string")


class LazyConsole:
    """A rich console made when something is first printed or asked of it: rich is a fifth of
    the start-up of ``ledger --help``, which prints through click alone."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr

    @cached_property
    def made(self) -> Console:
        from rich.console import Console

        return Console(stderr=self.stderr, highlight=False)

    @property
    def width(self) -> int:
        return self.made.width

    @width.setter
    def width(self, columns: int) -> None:  # `--wide`, and tests that print narrow or wide
        self.made.width = columns

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made, name)


console = LazyConsole()
err_console = LazyConsole(stderr=True)


WIDE_COLUMNS = 10_000  # `--wide`: wider than any line the ledger prints


def widen() -> Callable[[], None]:
    """Let every line be as long as its content (``--wide``); returns what restores the
    consoles' width."""
    widths = [(printer, printer.width) for printer in (console, err_console)]
    for printer, _width in widths:
        printer.width = WIDE_COLUMNS

    def restore() -> None:
        for printer, width in widths:
            printer.width = width

    return restore


def emit_json(value: Any) -> None:
    sys.stdout.buffer.write(_json.encode(value) + b"\n")
    sys.stdout.flush()


def paint(style: str, text: str) -> str:
    """``text`` in a rich style (kept out of the translated texts)."""
    return f"[{style}]{text}[/{style}]"


def table(title: str, *columns: str) -> Table:
    """A table for people whose cells wrap and are never cut: ids must stay whole to be copied."""
    from rich.table import Table

    made = Table(title=title, title_justify="left")
    for column in columns:
        made.add_column(column, overflow="fold")
    return made


def error_table(errors: list[ErrorDetail], title: str, _: Words) -> Table:
    made = table(title, _("line"), _("code"), _("field"), _("message"))
    made.title_style = "bold red"
    for error in errors:
        made.add_row(
            DASH if error.line is None else str(error.line),
            f"[red]{error.code}[/red]",
            error.field or DASH,
            error.said(_),
        )
    return made


def key_value_table(title: str, rows: list[tuple[str, str]]) -> Table:
    from rich.table import Table

    made = Table(title=title, show_header=False, title_justify="left")
    made.add_column(style="bold", overflow="fold")
    made.add_column(overflow="fold")
    for key, value in rows:
        made.add_row(key, value)
    return made
