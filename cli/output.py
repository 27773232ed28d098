"""Printing for the command line: JSON for machines, rich tables and colours for people."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from ledger.errors import ErrorDetail
from ledger.i18n import DASH, Words

_json = msgspec.json.Encoder(decimal_format="string")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


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
    made = Table(title=title, show_header=False, title_justify="left")
    made.add_column(style="bold", overflow="fold")
    made.add_column(overflow="fold")
    for key, value in rows:
        made.add_row(key, value)
    return made
